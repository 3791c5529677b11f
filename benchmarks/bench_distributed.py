#!/usr/bin/env python
"""Training on a Dask cluster against one machine: words/s and quality at equal epochs.

The corpus (by default the WordNet glosses beside the repository) is written as ``--shards``
plain-text shards. For each seed:

* **one machine**: one process, ``Word2Vec(workers=2)``, reading the shards in order;
* **Dask**: a ``LocalCluster`` of ``--dask-workers`` worker processes of one thread each, on
  127.0.0.1, running :func:`blackout_ext.distributed.train` over the shards with its defaults
  (mean of each row's changes, learning rate scaled by the tasks per round) at each
  synchronisation interval of ``--sync-words``; and, at ``--contrast-sync-words``, the two
  rules without the scaling: Spark's mean, and the sum.

Both train the same epochs with the same parameters; their wall time includes the vocabulary
(counted on the workers for Dask). Quality is simlex999, wordsim353 and analogies, averaged
over the seeds, and its ratio to one machine's: the mean over the three sets of (Dask / one
machine). Also reported: the bytes moved per synchronisation (rows returned by the tasks,
rows broadcast to the workers, whole models sent).

    python benchmarks/bench_distributed.py
    python benchmarks/bench_distributed.py --loss nce --sync-words 100000,1000000 --seeds 1
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_speed import DEFAULT_CORPUS, load  # noqa: E402

METRICS = ("simlex999", "wordsim353", "analogy_accuracy")


def write_shards(sentences, n, folder):
    paths = []
    for i in range(n):
        path = os.path.join(folder, f"part-{i}.txt")
        with open(path, "w", encoding="utf8") as fout:
            for sentence in sentences[i * len(sentences) // n:(i + 1) * len(sentences) // n]:
                fout.write(" ".join(sentence) + "\n")
        paths.append(path)
    return paths


def one_machine(paths, params):
    from blackout_ext import Word2Vec
    from blackout_ext.corpora import LineSentence
    from blackout_ext.compare import quality_scores

    corpus = [s for path in paths for s in LineSentence(path)]
    start = time.perf_counter()
    model = Word2Vec(corpus, workers=2, **params)
    seconds = time.perf_counter() - start
    return dict(quality_scores(model.wv), words_per_s=model.epochs * model.corpus_total_words / seconds)


def on_dask(paths, client, params, sync_words, combine, scale_alpha):
    from blackout_ext import distributed
    from blackout_ext.compare import quality_scores

    start = time.perf_counter()
    model = distributed.train(paths, client, sync_words=sync_words, combine=combine, scale_alpha=scale_alpha,
                              **params)
    seconds = time.perf_counter() - start
    rounds = model.distributed_report.rounds
    return dict(quality_scores(model.wv), words_per_s=model.distributed_report.raw_words / seconds,
                syncs=len(rounds),
                mb_returned_per_sync=statistics.mean(r["bytes_returned"] for r in rounds) / 2**20,
                mb_broadcast_per_sync=statistics.mean(r["bytes_broadcast"] for r in rounds) / 2**20,
                whole_models=sum(r["whole_models"] for r in rounds),
                mb_whole_models=sum(r["bytes_whole_models"] for r in rounds) / 2**20)


def mean_rows(rows):
    return {key: statistics.mean(r[key] for r in rows) for key in rows[0]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument("--loss", default="blackout")
    parser.add_argument("--sync-words", default="100000,250000,1000000,0",
                        help="comma-separated; 0 is one synchronisation per epoch")
    parser.add_argument("--contrast-sync-words", type=int, default=250_000,
                        help="the interval at which the unscaled rules run (0: none)")
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--sg", type=int, default=1)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)

    import distributed as dask_distributed

    sentences, words = load(args.corpus)
    seeds = [int(s) for s in args.seeds.split(",")]
    intervals = [int(v) or words for v in args.sync_words.split(",")]
    configs = [(v, "mean", True) for v in intervals]
    if args.contrast_sync_words:
        configs += [(args.contrast_sync_words, "mean", False), (args.contrast_sync_words, "sum", False)]
    print(f"corpus: {args.corpus}: {len(sentences)} sentences, {words} words in {args.shards} shards; "
          f"loss={args.loss}, sg={args.sg}, k={args.negative}, d={args.size}, epochs={args.epochs}, "
          f"seeds={seeds}; Dask: {args.dask_workers} processes x 1 thread; one machine: 1 process x 2 threads",
          flush=True)
    with tempfile.TemporaryDirectory() as folder:
        paths = write_shards(sentences, args.shards, folder)
        del sentences
        cluster = dask_distributed.LocalCluster(n_workers=args.dask_workers, threads_per_worker=1, processes=True,
                                                host="127.0.0.1", dashboard_address=None)
        client = dask_distributed.Client(cluster)
        try:
            single, dask = [], {config: [] for config in configs}
            for seed in seeds:
                params = dict(loss=args.loss, sg=args.sg, negative=args.negative, vector_size=args.size,
                              epochs=args.epochs, seed=seed)
                single.append(one_machine(paths, params))
                print(f"  seed {seed} one machine: {single[-1]['words_per_s']:,.0f} words/s", flush=True)
                for config in configs:
                    dask[config].append(on_dask(paths, client, params, *config))
                    print(f"  seed {seed} dask {config}: {dask[config][-1]['words_per_s']:,.0f} words/s", flush=True)
        finally:
            client.close()
            cluster.close()
    base = mean_rows(single)
    rows = [dict(setup="one machine (2 threads)", **base, quality_ratio=1.0, speed_ratio=1.0)]
    for (interval, combine, scaled), results in dask.items():
        row = mean_rows(results)
        ratio = statistics.mean(row[m] / base[m] for m in METRICS)
        rule = f"{combine}, scaled alpha" if scaled else f"{combine}, unscaled alpha"
        rows.append(dict(setup=f"dask, sync every {interval:,} words, {rule}", **row, quality_ratio=ratio,
                         speed_ratio=row["words_per_s"] / base["words_per_s"]))
    print()
    print("| setup | quality vs one machine | simlex999 | wordsim353 | analogies | words/s | speed vs one "
          "machine | syncs | MB returned / sync | MB broadcast / sync | whole models sent |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        extra = (f"{r['syncs']:.0f} | {r['mb_returned_per_sync']:.1f} | {r['mb_broadcast_per_sync']:.1f} | "
                 f"{r['whole_models']:.0f} ({r['mb_whole_models']:.0f} MB)") if "syncs" in r else " | | | "
        print(f"| {r['setup']} | {r['quality_ratio']:.2f}x | {r['simlex999']:.3f} | {r['wordsim353']:.3f} | "
              f"{r['analogy_accuracy']:.3f} | {r['words_per_s']:,.0f} | {r['speed_ratio']:.2f}x | {extra} |")
    if args.json:
        with open(args.json, "w") as fout:
            json.dump(rows, fout, indent=2)


if __name__ == "__main__":
    main()
