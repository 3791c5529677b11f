#!/usr/bin/env python
"""Time per prediction of each output layer as the vocabulary grows, on synthetic Zipfian text.

The textbook picture, measured: the full softmax grows linearly with |V|, hierarchical softmax
logarithmically, and the sampled layers (ns, nce, blackout, sampled_softmax) stay flat.

Each corpus has Zipf-distributed word frequencies over exactly |V| words. CBOW with no
subsampling makes one prediction per word, so time per prediction = training time / words.
Writes ``vocab_scaling.csv``, ``vocab_scaling.json`` and ``vocab_scaling.png`` into --out.

    python examples/vocab_scaling.py
    python examples/vocab_scaling.py --vocab 1000,10000,50000 --out results/
"""
import argparse
import csv
import json
import os
import time

import numpy as np

from blackout_ext import LOSSES, Word2Vec


def zipf_corpus(vocab_size, n_words, seed=0, sentence_length=20):
    """Sentences of word ids 'w0'..'w{V-1}' with frequency ~ 1/rank; every word occurs."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab_size + 1)
    p /= p.sum()
    ids = np.concatenate([np.arange(vocab_size), rng.choice(vocab_size, size=max(n_words - vocab_size, 0), p=p)])
    rng.shuffle(ids)
    words = np.array([f"w{i}" for i in range(vocab_size)], dtype=object)[ids]
    return [list(words[i:i + sentence_length]) for i in range(0, len(words), sentence_length)]


def time_per_prediction(mode, sentences, args):
    params = dict(vector_size=args.size, window=args.window, min_count=1, sample=0, sg=0, workers=args.workers,
                  seed=1, epochs=1)
    if mode != "hs":
        params["negative"] = args.negative
    model = Word2Vec(loss=mode, **params)
    model.build_vocab(sentences)
    start = time.perf_counter()
    trained, _ = model.train(sentences, total_examples=len(sentences), epochs=1)
    return (time.perf_counter() - start) / trained


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", default="1000,3000,10000,30000,50000")
    parser.add_argument("--modes", default=",".join(LOSSES))
    parser.add_argument("--words", type=int, default=200_000, help="corpus size for the O(k d) modes")
    parser.add_argument("--softmax-budget", type=float, default=2e10,
                        help="multiply-adds spent on the full softmax per vocabulary size")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=".")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(v) for v in args.vocab.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    rows = []
    for vocab_size in sizes:
        for mode in modes:
            n_words = args.words
            if mode == "softmax":  # keep the O(|V| d) mode to a fixed budget of work
                n_words = int(min(args.words, max(2 * vocab_size, args.softmax_budget / (3 * vocab_size * args.size))))
            sentences = zipf_corpus(vocab_size, n_words)
            seconds = time_per_prediction(mode, sentences, args)
            # one prediction per word: microseconds per prediction = seconds per epoch of 1M words
            rows.append(dict(mode=mode, vocab_size=vocab_size, us_per_prediction=seconds * 1e6))
            print(f"|V|={vocab_size:>6} {mode:>16} {seconds * 1e6:10.2f} us/prediction", flush=True)
    os.makedirs(args.out, exist_ok=True)
    csv_path = os.path.join(args.out, "vocab_scaling.csv")
    with open(csv_path, "w", newline="") as fout:
        writer = csv.DictWriter(fout, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    json_path = os.path.join(args.out, "vocab_scaling.json")
    with open(json_path, "w") as fout:
        json.dump(rows, fout, indent=2)
    written = [csv_path, json_path]
    if not args.no_plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.8))
        for mode in modes:
            xs = [r["vocab_size"] for r in rows if r["mode"] == mode]
            ys = [r["us_per_prediction"] for r in rows if r["mode"] == mode]
            ax.loglog(xs, ys, marker="o", label=mode)
        ax.set_xlabel("vocabulary size |V|")
        ax.set_ylabel("time per prediction (microseconds)")
        ax.set_title(f"Cost per prediction (CBOW, d={args.size}, k={args.negative}, {args.workers} workers)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        png_path = os.path.join(args.out, "vocab_scaling.png")
        fig.savefig(png_path, dpi=110)
        plt.close(fig)
        written.append(png_path)
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
