#!/usr/bin/env python
"""Quality of every mode's vectors, as a ratio to gensim's negative sampling in the same run.

For each architecture, k and seed, gensim's ``ns`` trains first and then every other mode with
the same settings and seed. Each mode gets simlex999, wordsim353 (Spearman) and
questions-words (accuracy), averaged over the seeds; its quality ratio is the mean over the
three sets of (mode's score / ns's score). Speed (words/s, and its ratio to ns) comes from the
same runs.

    python benchmarks/bench_quality.py                          # sg and cbow, k=5,15, seeds 1-3
    python benchmarks/bench_quality.py --archs sg --negative 5 --modes ns,nce,nce:ns_exponent=0.5
    python benchmarks/bench_quality.py --model fasttext --archs sg --negative 5 --modes ns,nce,blackout

A mode is a loss (``hs`` too), ``<loss>+shared`` for ``shared_samples=True``, and optionally
``:name=value,...`` of Word2Vec parameters that override the common ones for that mode alone,
e.g. ``blackout:ns_exponent=0.5``. ``--model fasttext`` compares FastText's modes instead
(``ns`` is then gensim's FastText), with gensim's default n-grams (3-6, 2M buckets).
The default corpus is ``../shared/corpora/wordnet-glosses.txt.gz`` beside the repository.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_speed import DEFAULT_CORPUS, load, parse_mode, split_modes  # noqa: E402

METRICS = ("simlex999", "wordsim353", "analogy_accuracy")


def train_and_score(sentences, spec, arch, k, seed, args):
    from blackout_ext import FastText, Word2Vec
    from blackout_ext.compare import quality_scores

    params = dict(vector_size=args.size, window=args.window, min_count=args.min_count, sample=args.sample,
                  sg=1 if arch == "sg" else 0, workers=args.workers, seed=seed, epochs=args.epochs)
    mode = parse_mode(spec)
    if mode["loss"] != "hs":
        params["negative"] = k
    params.update(mode)
    if args.model == "fasttext":
        params.update(bucket=args.bucket, compute_loss=mode["loss"] in ("nce", "sampled_softmax", "blackout"))
    model = (FastText if args.model == "fasttext" else Word2Vec)(**params)
    model.build_vocab(sentences)
    start = time.perf_counter()
    _, raw = model.train(sentences, total_examples=model.corpus_count, epochs=args.epochs)
    wps = raw / (time.perf_counter() - start)
    return dict(quality_scores(model.wv), words_per_s=wps)


def run(args):
    sentences, n_words = load(args.corpus, args.limit_words)
    print(f"model: {args.model}; corpus: {args.corpus}: {len(sentences)} sentences, {n_words} words; d={args.size}, "
          f"window={args.window}, epochs={args.epochs}, workers={args.workers}, seeds={args.seeds}", flush=True)
    rows = []
    for arch in args.archs:
        for k in args.negative:
            per_mode = {m: [] for m in args.modes}
            for seed in args.seeds:
                for spec in args.modes:
                    if parse_mode(spec)["loss"] == "hs" and k != args.negative[0]:
                        continue  # hs draws no samples: trained at the first k only
                    per_mode[spec].append(train_and_score(sentences, spec, arch, k, seed, args))
            ns = per_mode["ns"]
            for spec, runs in per_mode.items():
                if not runs:
                    continue
                row = dict(model=args.model, arch=arch, k=k, mode=spec, seeds=len(runs))
                for metric in METRICS + ("words_per_s",):
                    row[metric] = statistics.mean(r[metric] for r in runs)
                for metric in METRICS:
                    base = statistics.mean(r[metric] for r in ns)
                    row[f"{metric}_vs_ns"] = row[metric] / base if base else float("nan")
                row["quality_vs_ns"] = statistics.mean(row[f"{m}_vs_ns"] for m in METRICS)
                row["speed_vs_ns"] = row["words_per_s"] / statistics.mean(r["words_per_s"] for r in ns)
                rows.append(row)
                print(f"{arch:>4} k={k:<3} {spec:>34}  quality {row['quality_vs_ns']:.2f}x ns  "
                      f"(simlex {row['simlex999']:.3f}, ws353 {row['wordsim353']:.3f}, "
                      f"analogy {row['analogy_accuracy']:.3f})  speed {row['speed_vs_ns']:.2f}x ns "
                      f"({row['words_per_s']:.0f} words/s)", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--model", choices=("word2vec", "fasttext"), default="word2vec")
    parser.add_argument("--bucket", type=int, default=2000000, help="FastText's n-gram buckets (gensim's default)")
    parser.add_argument("--limit-words", type=int, default=None)
    parser.add_argument("--modes", default="ns,hs,nce,sampled_softmax,blackout")
    parser.add_argument("--archs", default="sg,cbow")
    parser.add_argument("--negative", default="5,15")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--json", default=None, help="write the rows here")
    args = parser.parse_args(argv)
    args.modes = split_modes(args.modes)
    if "ns" not in args.modes:
        args.modes.insert(0, "ns")
    args.archs = args.archs.split(",")
    args.negative = [int(x) for x in args.negative.split(",")]
    args.seeds = [int(x) for x in args.seeds.split(",")]
    if not os.path.exists(args.corpus):
        sys.exit(f"corpus not found: {args.corpus} (give --corpus)")
    rows = run(args)
    if args.json:
        with open(args.json, "w") as fout:
            json.dump(rows, fout, indent=2)


if __name__ == "__main__":
    main()
