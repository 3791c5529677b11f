#!/usr/bin/env python
"""Cost per trained word of every output layer as the vocabulary grows to a million words.

The picture the sampled layers exist for, measured: the full softmax grows linearly with |V|,
hierarchical softmax logarithmically, and the sampled layers (ns, nce, sampled_softmax,
blackout) should stay flat, O(k), even when their matrices no longer fit any cache.

Setting (the one of issue 16): a Zipf vocabulary of exactly |V| words (counts ~ 1/rank, given
to ``build_vocab_from_freq``), a corpus of ``--words`` tokens drawn from it, skip-gram, d=100,
window 5, ``sample=0``, ``--workers 1``. gensim's own ``Word2Vec`` class trains ns and hs in
the same run as this package's modes.

Each mode trains two epochs over the same corpus and the second is timed: the first pays
one-off costs that are not training (this package builds its vocabulary hash; gensim's output
matrix, allocated with ``np.zeros``, is mapped page by page on first write, about 0.7 s per
400 MB here). The first epoch's time is kept in the CSV too.

* k = ``--negative`` (5) for every sampled mode, and the large k of BlackOut's paper
  (``--large-k``, hundreds of samples, with ``--large-k-exponent`` as the noise exponent) on a
  smaller corpus (``--large-k-words``).
* The full softmax runs while |V| <= ``--softmax-max-vocab``, on a corpus sized to a budget of
  multiply-adds; beyond that its cost is extrapolated linearly in |V| from the largest measured
  size, and drawn as a dashed line marked "extrapolated".
* The plot has two panels: microseconds per trained word, and each mode's speed-up over the
  full softmax at every |V|.
* The memory of each mode at the largest |V| is its ``estimate_memory()`` (the arrays it
  allocates, this package's noise tables and output bias included).

Writes ``vocab_scaling.csv``, ``vocab_scaling.json``, ``vocab_scaling.md`` and
``vocab_scaling.png`` into ``--out``. The full run (10k to 1M) takes about 15 minutes on 2 cores.

    python examples/vocab_scaling.py --out results/
    python examples/vocab_scaling.py --vocab 1000,10000 --words 50000 --large-k 0 --out results/
"""
import argparse
import csv
import json
import os
import time

import numpy as np
from gensim.models import Word2Vec as GensimWord2Vec

from blackout_ext import KERNEL_LOSSES, Word2Vec

DEFAULT_MODES = "ns,hs,nce,sampled_softmax,blackout,nce+shared,blackout+shared,softmax"


def zipf_vocabulary(vocab_size):
    """Words 'w0'..'w{V-1}' and their Zipf counts (~ 1/rank, every count >= 1)."""
    p = 1.0 / np.arange(1, vocab_size + 1)
    p /= p.sum()
    counts = np.maximum(np.round(p * 1e9).astype(np.int64), 1)
    words = [f"w{i}" for i in range(vocab_size)]
    return words, counts


def zipf_corpus(words, counts, n_words, seed=0, sentence_length=20):
    """`n_words` tokens drawn from the counts' distribution, as sentences of `sentence_length`."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(len(words), size=n_words, p=counts / counts.sum())
    tokens = np.array(words, dtype=object)[ids]
    return [list(tokens[i:i + sentence_length]) for i in range(0, n_words, sentence_length)]


def make_model(mode, negative, ns_exponent, args):
    """An untrained model of `mode`: 'ns' and 'hs' are gensim's own class, the rest this package's."""
    params = dict(vector_size=args.size, window=args.window, min_count=1, sample=0, sg=1, workers=args.workers,
                  seed=1, epochs=1, ns_exponent=ns_exponent)
    if mode == "ns":
        return GensimWord2Vec(negative=negative, **params)
    if mode == "hs":
        return GensimWord2Vec(hs=1, negative=0, **params)
    loss, _, shared = mode.partition("+")
    return Word2Vec(loss=loss, negative=negative, shared_samples=bool(shared), **params)


def time_per_word(model, freq, sentences):
    """Seconds per trained word of the first and of the second epoch over `sentences`."""
    model.build_vocab_from_freq(freq)
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        trained, _ = model.train(sentences, total_examples=len(sentences), epochs=1)
        seconds.append((time.perf_counter() - start) / max(trained, 1))
    return seconds


def measure(args, sizes, modes):
    rows = []
    for vocab_size in sizes:
        words, counts = zipf_vocabulary(vocab_size)
        freq = dict(zip(words, counts.tolist()))
        corpora = {}   # one corpus per size, shared by the modes that train on it
        settings = [(mode, args.negative, args.ns_exponent) for mode in modes]
        if args.large_k:
            settings += [(mode, args.large_k, args.large_k_exponent) for mode in modes
                         if mode not in ("hs", "softmax")]
        for mode, negative, exponent in settings:
            n_words = args.words if negative == args.negative else args.large_k_words
            if mode == "softmax":
                if vocab_size > args.softmax_max_vocab:
                    continue
                # a fixed budget of multiply-adds: about 6 pairs per word, 3 passes over |V| x d
                n_words = int(min(args.words, max(2000, args.softmax_budget / (18 * vocab_size * args.size))))
            if n_words not in corpora:
                corpora[n_words] = zipf_corpus(words, counts, n_words)
            sentences = corpora[n_words]
            model = make_model(mode, negative, exponent, args)
            first, second = time_per_word(model, freq, sentences)
            rows.append(dict(mode=mode, k=negative if mode not in ("hs", "softmax") else "", ns_exponent=exponent,
                             vocab_size=vocab_size, words=n_words, us_per_word=second * 1e6,
                             us_per_word_first_epoch=first * 1e6, extrapolated=False,
                             memory_mb=model.estimate_memory()["total"] / 2 ** 20))
            print(f"|V|={vocab_size:>8} {mode:>16} k={rows[-1]['k']!s:>4} {second * 1e6:10.2f} us/word "
                  f"(first epoch {first * 1e6:.2f})", flush=True)
            del model
    return rows


def extrapolate_softmax(rows, sizes, args):
    """Rows for the full softmax at the sizes it did not run, linear in |V| from its largest run
    (its memory is still its ``estimate_memory`` at that size)."""
    measured = [r for r in rows if r["mode"] == "softmax"]
    if not measured:
        return []
    last = max(measured, key=lambda r: r["vocab_size"])
    done = {r["vocab_size"] for r in measured}
    model = make_model("softmax", args.negative, args.ns_exponent, args)
    return [dict(last, vocab_size=v, words=0, us_per_word=last["us_per_word"] * v / last["vocab_size"],
                 us_per_word_first_epoch="", extrapolated=True,
                 memory_mb=model.estimate_memory(vocab_size=v)["total"] / 2 ** 20)
            for v in sizes if v not in done and v > last["vocab_size"]]


def softmax_cost(rows, vocab_size):
    for r in rows:
        if r["mode"] == "softmax" and r["vocab_size"] == vocab_size:
            return r["us_per_word"]
    return None


def label(row):
    return row["mode"] if row["k"] in ("", None) else f"{row['mode']} k={row['k']}"


def write_report(rows, sizes, args, path):
    """A markdown table: us/word at each |V|, the ratio of the largest |V| to the smallest, the
    speed-up over the full softmax at the largest |V|, and the memory there."""
    lo, hi = min(sizes), max(sizes)
    labels = list(dict.fromkeys(label(r) for r in rows))
    by = {(label(r), r["vocab_size"]): r for r in rows}
    head = ["mode"] + [f"V = {v:,}" for v in sizes] + [f"{hi:,} / {lo:,}", f"speed-up over softmax at {hi:,}",
                                                       f"memory at {hi:,} (MB)"]
    lines = [f"Microseconds per trained word (second epoch), skip-gram, d={args.size}, window {args.window}, "
             f"{args.workers} worker(s), sample=0; ns and hs are gensim's own class. "
             f"An asterisk marks an extrapolated figure.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in labels:
        cells = [name]
        for v in sizes:
            r = by.get((name, v))
            cells.append("" if r is None else f"{r['us_per_word']:.2f}{'*' if r['extrapolated'] else ''}")
        a, b = by.get((name, lo)), by.get((name, hi))
        cells.append(f"{b['us_per_word'] / a['us_per_word']:.1f}x" if a and b else "")
        top = softmax_cost(rows, hi)
        cells.append(f"{top / b['us_per_word']:,.0f}x" if b and top else "")
        cells.append(f"{b['memory_mb']:,.0f}" if b else "")
        lines.append("| " + " | ".join(cells) + " |")
    with open(path, "w") as fout:
        fout.write("\n".join(lines) + "\n")


def plot(rows, args, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # one colour per mode; k = --negative solid with circles, the large k dash-dotted with squares
    colours = {mode: plt.cm.tab10(i % 10) for i, mode in enumerate(dict.fromkeys(r["mode"] for r in rows))}
    fig, (ax_cost, ax_speedup) = plt.subplots(1, 2, figsize=(14, 5.5))
    for name in dict.fromkeys(label(r) for r in rows):
        mine = sorted((r for r in rows if label(r) == name), key=lambda r: r["vocab_size"])
        style = dict(color=colours[mine[0]["mode"]], marker="o", linestyle="-")
        if mine[0]["k"] not in ("", args.negative):
            style.update(marker="s", linestyle="-.")
        measured = [r for r in mine if not r["extrapolated"]]
        ax_cost.loglog([r["vocab_size"] for r in measured], [r["us_per_word"] for r in measured], label=name,
                       **style)
        guessed = [r for r in mine if r["extrapolated"]]
        if guessed:
            tail = measured[-1:] + guessed
            ax_cost.loglog([r["vocab_size"] for r in tail], [r["us_per_word"] for r in tail], linestyle="--",
                           color=style["color"], label=f"{name} (extrapolated)")
        if name == "softmax":
            continue
        points = [(r["vocab_size"], softmax_cost(rows, r["vocab_size"]) / r["us_per_word"]) for r in mine
                  if softmax_cost(rows, r["vocab_size"])]
        if points:
            ax_speedup.loglog(*zip(*points), **style)
    ax_cost.set_xlabel("vocabulary size |V|")
    ax_cost.set_ylabel("microseconds per trained word")
    ax_cost.set_title(f"Cost per word (skip-gram, d={args.size}, {args.workers} worker(s))")
    ax_speedup.set_xlabel("vocabulary size |V|")
    ax_speedup.set_ylabel("speed-up over the full softmax")
    ax_speedup.set_title("Speed-up over the full softmax\n(beyond its measured sizes: over its extrapolation)")
    for ax in (ax_cost, ax_speedup):
        ax.grid(True, which="both", alpha=0.3)
    fig.legend(*ax_cost.get_legend_handles_labels(), loc="center right", fontsize=8)
    fig.tight_layout(rect=(0, 0, 0.84, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", default="10000,30000,100000,300000,1000000",
                        help="vocabulary sizes, comma-separated")
    parser.add_argument("--modes", default=DEFAULT_MODES,
                        help="ns and hs (gensim's class), this package's losses, <loss>+shared for shared_samples")
    parser.add_argument("--words", type=int, default=300_000, help="corpus tokens for k = --negative")
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--ns-exponent", type=float, default=0.75)
    parser.add_argument("--large-k", type=int, default=500, help="the large k of BlackOut's paper; 0 for none")
    parser.add_argument("--large-k-exponent", type=float, default=0.3, help="noise exponent at the large k")
    parser.add_argument("--large-k-words", type=int, default=10_000, help="corpus tokens at the large k")
    parser.add_argument("--softmax-max-vocab", type=int, default=30_000,
                        help="the full softmax runs up to this |V| and is extrapolated beyond")
    parser.add_argument("--softmax-budget", type=float, default=3e11,
                        help="multiply-adds spent on the full softmax per vocabulary size")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default=".")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    sizes = sorted(int(v) for v in args.vocab.split(","))
    modes = [m for m in args.modes.split(",") if m]
    for mode in modes:
        if mode not in ("ns", "hs") and mode.partition("+")[0] not in KERNEL_LOSSES:
            parser.error(f"unknown mode {mode!r}; choose from ns, hs, {', '.join(KERNEL_LOSSES)} (+shared)")
    rows = measure(args, sizes, modes)
    rows += extrapolate_softmax(rows, sizes, args)
    os.makedirs(args.out, exist_ok=True)
    written = [os.path.join(args.out, "vocab_scaling." + ext) for ext in ("csv", "json", "md")]
    with open(written[0], "w", newline="") as fout:
        writer = csv.DictWriter(fout, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(written[1], "w") as fout:
        json.dump(rows, fout, indent=2)
    write_report(rows, sizes, args, written[2])
    if not args.no_plot:
        written.append(os.path.join(args.out, "vocab_scaling.png"))
        plot(rows, args, written[-1])
    print(open(written[2]).read())
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
