#!/usr/bin/env python
"""Time to quality: how much training wall time each mode needs to reach gensim ns's 10-epoch quality.

Every configuration (a mode and its parameters) trains once per epoch count of ``--epochs``
(each run a whole training, its learning rate decaying over its own epochs, as a user would run
it) and per seed. The runs are interleaved: for each seed, each epoch count, every
configuration in turn, so that the machine's drift spreads over all of them.

Quality ``Q`` is the mean over simlex999, wordsim353 (Spearman) and questions-words (accuracy)
of (score / the reference's score), the reference being the first configuration (gensim's
``ns`` at its defaults) at the largest epoch count, averaged over the seeds. A configuration
reaches the target at the fewest epochs whose mean ``Q`` is at least ``--target`` (0.98); its
time to quality is that run's mean training time. Each time is also given as a ratio to the
fastest of gensim's ``ns`` configurations (gensim ns at its best learning rate), and each
configuration's ``Q`` within that same wall time (the largest epoch count that fits).

    python benchmarks/bench_time_to_quality.py                    # sg and CBOW, seeds 1-2, about 40 min
    python benchmarks/bench_time_to_quality.py --archs sg --seeds 1 --epochs 1,2,3 \\
        --configs "ns;ns:alpha=0.05;blackout;blackout+shared:alpha=0.05"

A configuration is a mode as ``bench_quality.py`` takes it: a loss, ``<loss>+shared``, and
``:name=value,...`` overrides (``blackout:alpha=0.05``); separate configurations with ``;``.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_quality import METRICS, parse_mode  # noqa: E402
from bench_speed import DEFAULT_CORPUS, load  # noqa: E402

DEFAULT_CONFIGS = ("ns;ns:alpha=0.05;hs;hs:alpha=0.05;blackout;blackout:alpha=0.05;"
                   "blackout+shared:alpha=0.05;nce:alpha=0.05")


def train_once(sentences, spec, arch, epochs, seed, args):
    """One whole training of `spec`: its training seconds and its quality scores."""
    from blackout_ext import Word2Vec
    from blackout_ext.compare import quality_scores

    params = dict(vector_size=args.size, window=args.window, min_count=args.min_count, sample=args.sample,
                  sg=1 if arch == "sg" else 0, workers=args.workers, seed=seed, epochs=epochs)
    mode = parse_mode(spec)
    if mode["loss"] != "hs":
        params["negative"] = args.negative
    if arch != "sg":
        mode.pop("shared_samples", None)   # a skip-gram option: the CBOW run is the plain loss
    params.update(mode)
    model = Word2Vec(**params)
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    seconds = time.perf_counter() - start
    scores = quality_scores(model.wv)
    return dict(seconds=seconds, **{m: scores[m] for m in METRICS})


def summarise(runs, configs, epoch_counts, target):
    """Per configuration: mean seconds and Q at each epoch count, and its time to quality."""
    reference = configs[0]
    ref_scores = {m: statistics.mean(r[m] for r in runs[(reference, epoch_counts[-1])]) for m in METRICS}
    table = {}
    for spec in configs:
        points = []
        for epochs in epoch_counts:
            group = runs.get((spec, epochs))
            if not group:
                continue
            q = statistics.mean(statistics.mean(r[m] / ref_scores[m] for m in METRICS) for r in group)
            points.append(dict(epochs=epochs, seconds=statistics.mean(r["seconds"] for r in group), quality=q,
                               **{m: statistics.mean(r[m] for r in group) for m in METRICS}))
        reached = [p for p in points if p["quality"] >= target]
        table[spec] = dict(points=points, reached=reached[0] if reached else None)
    ns_times = [row["reached"]["seconds"] for spec, row in table.items()
                if spec.partition(":")[0] == "ns" and row["reached"]]   # gensim's ns (loss=None)
    budget = min(ns_times) if ns_times else None
    for row in table.values():
        row["vs_ns_best"] = row["reached"]["seconds"] / budget if row["reached"] and budget else None
        within = [p for p in row["points"] if budget and p["seconds"] <= budget]
        row["quality_at_ns_time"] = max((p["quality"] for p in within), default=None)
    return table, ref_scores, budget


def print_table(arch, table, ref_scores, budget, target):
    print(f"\n{arch}: reference = {next(iter(table))} at its largest epoch count "
          f"(simlex999 {ref_scores['simlex999']:.3f}, wordsim353 {ref_scores['wordsim353']:.3f}, "
          f"analogy {ref_scores['analogy_accuracy']:.3f}); target Q >= {target}; gensim ns at its best rate "
          f"needs {budget:.1f} s" if budget else f"\n{arch}: no ns configuration reached the target")
    print(f"{'config':>34} {'epochs':>6} {'seconds':>8} {'vs ns best':>10} {'Q at ns time':>12}  Q per epoch count")
    for spec, row in table.items():
        reached = row["reached"]
        curve = "  ".join(f"{p['epochs']}:{p['quality']:.3f}" for p in row["points"])
        print(f"{spec:>34} {reached['epochs'] if reached else '-':>6} "
              f"{reached['seconds'] if reached else float('nan'):>8.1f} "
              f"{row['vs_ns_best'] if row['vs_ns_best'] else float('nan'):>9.2f}x "
              f"{row['quality_at_ns_time'] if row['quality_at_ns_time'] else float('nan'):>12.3f}  {curve}",
              flush=True)


def run(args):
    sentences, n_words = load(args.corpus, args.limit_words)
    print(f"corpus: {args.corpus}: {len(sentences)} sentences, {n_words} words; d={args.size}, window={args.window}, "
          f"k={args.negative}, workers={args.workers}, seeds={args.seeds}, epochs={args.epochs}", flush=True)
    results = {}
    for arch in args.archs:
        runs = {}
        for seed in args.seeds:
            for epochs in args.epochs:
                for spec in args.configs:
                    if arch != "sg" and "+shared" in spec and spec.replace("+shared", "") in args.configs:
                        continue   # in CBOW it is the plain loss, trained already
                    result = train_once(sentences, spec, arch, epochs, seed, args)
                    runs.setdefault((spec, epochs), []).append(result)
                    print(f"  {arch} seed {seed} {spec} x{epochs}: {result['seconds']:.1f} s, "
                          + ", ".join(f"{m} {result[m]:.3f}" for m in METRICS), flush=True)
        configs = [c for c in args.configs if any(k[0] == c for k in runs)]
        table, ref_scores, budget = summarise(runs, configs, args.epochs, args.target)
        print_table(arch, table, ref_scores, budget, args.target)
        results[arch] = dict(table=table, reference=ref_scores, ns_best_seconds=budget)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--limit-words", type=int, default=None)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="';'-separated; the first is the reference")
    parser.add_argument("--archs", default="sg,cbow")
    parser.add_argument("--epochs", default="1,2,3,5,10", help="epoch counts, each a whole training")
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--target", type=float, default=0.98)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)
    args.configs = [c.strip() for c in args.configs.split(";") if c.strip()]
    args.archs = args.archs.split(",")
    args.epochs = sorted(int(x) for x in args.epochs.split(","))
    args.seeds = [int(x) for x in args.seeds.split(",")]
    if not os.path.exists(args.corpus):
        sys.exit(f"corpus not found: {args.corpus} (give --corpus)")
    results = run(args)
    if args.json:
        with open(args.json, "w") as fout:
            json.dump(results, fout, indent=2)


if __name__ == "__main__":
    main()
