#!/usr/bin/env python
"""Training on a Dask cluster against one machine: words/s and quality at equal epochs.

The corpus (by default the WordNet glosses beside the repository) is written as ``--shards``
plain-text shards (``--model doc2vec``: each line a document, tagged by its line number over
the shards; the last ``--heldout`` lines are held out of the shards). For each seed:

* **one machine**: one process, the model with ``workers=2``, on the shards' sentences in memory
  (read before the clock starts), and on gensim's ``corpus_file`` path over the shards
  concatenated (read while timed, as the Dask workers read theirs);
* **Dask**: a ``LocalCluster`` of ``--dask-workers`` worker processes of one thread each, on
  127.0.0.1, running :func:`blackout_ext.distributed.train` over the shards with its defaults
  (mean of each row's changes, learning rate scaled by the tasks per round) at each
  synchronisation interval of ``--sync-words``; and, at ``--contrast-sync-words``, the two
  rules without the scaling: Spark's mean, and the sum.

Both train the same epochs with the same parameters; their wall time includes the vocabulary
(counted on the workers for Dask). Quality, averaged over the seeds, and its ratio to one
machine's (the mean over the measures of Dask / one machine):

* Word2Vec and FastText (``--model fasttext``, ``--bucket`` n-gram rows): simlex999,
  wordsim353 and analogies;
* Doc2Vec (``--model doc2vec``): the re-find rate of 200 training documents (the share whose
  inferred vector's nearest document vector is their own), and the held-out perplexity of the
  held-out lines, each with an inferred vector (its ratio is one machine's over Dask's, so that
  higher is better for every ratio).

Also reported: where a Dask run's wall time goes (vocabulary; the slowest task's reading,
training and row copies; waiting beyond the slowest task; the driver's combination and
broadcast), the bytes moved per synchronisation (rows returned by the tasks, rows broadcast
to the workers, whole models sent), and the share of the returned bytes that are n-gram rows
(FastText) or document vectors (Doc2Vec).

    python benchmarks/bench_distributed.py
    python benchmarks/bench_distributed.py --loss nce --sync-words 100000,1000000 --seeds 1
    python benchmarks/bench_distributed.py --model fasttext --sync-words 250000,1000000,0 --contrast-sync-words 0
    python benchmarks/bench_distributed.py --model doc2vec --sync-words 250000,1000000,0 --contrast-sync-words 0
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

METRICS = {"word2vec": ("simlex999", "wordsim353", "analogy_accuracy"),
           "fasttext": ("simlex999", "wordsim353", "analogy_accuracy"),
           "doc2vec": ("refind_rate", "perplexity")}
LOWER_IS_BETTER = ("perplexity",)
REFIND = 200
SHARE = {"fasttext": "wv.vectors_ngrams", "doc2vec": "dv.vectors"}
"""The array whose share of the returned bytes is reported, per model."""


def model_class(name):
    import blackout_ext

    return {"word2vec": blackout_ext.Word2Vec, "fasttext": blackout_ext.FastText, "doc2vec": blackout_ext.Doc2Vec}[name]


def documents_of(paths):
    """The shards' lines as one machine's Doc2Vec corpus_file reads them: tagged by line number."""
    from blackout_ext.compare import as_documents
    from blackout_ext.distributed import shard_reader

    return as_documents([words for path in paths for words in shard_reader(path, documents=True)])


def scores(model, name, heldout):
    from blackout_ext.compare import quality_scores, refind_rate

    if name != "doc2vec":
        return quality_scores(model.wv)
    training = [doc for doc in heldout["training"]]
    return dict(refind_rate=refind_rate(model, training, n=REFIND),
                perplexity=model.evaluate_log_likelihood(heldout["heldout"]).perplexity)


def write_shards(sentences, n, folder):
    paths = []
    for i in range(n):
        path = os.path.join(folder, f"part-{i}.txt")
        with open(path, "w", encoding="utf8") as fout:
            for sentence in sentences[i * len(sentences) // n:(i + 1) * len(sentences) // n]:
                fout.write(" ".join(sentence) + "\n")
        paths.append(path)
    return paths


def one_machine(paths, name, params, heldout, corpus_file=None):
    """One process, 2 threads: on the sentences in memory (read before the clock starts), or,
    with `corpus_file` (the shards concatenated), on gensim's corpus_file path (read while timed,
    as the Dask workers read their shards)."""
    from blackout_ext.corpora import LineSentence

    if corpus_file is not None:
        corpus = dict(corpus_file=corpus_file)
    elif name == "doc2vec":
        corpus = dict(documents=heldout["training"])
    else:
        corpus = dict(sentences=[s for path in paths for s in LineSentence(path)])
    start = time.perf_counter()
    model = model_class(name)(workers=2, **corpus, **params)
    seconds = time.perf_counter() - start
    return dict(scores(model, name, heldout), words_per_s=model.epochs * model.corpus_total_words / seconds)


def on_dask(paths, client, name, params, heldout, sync_words, combine, scale_alpha):
    from blackout_ext import distributed

    start = time.perf_counter()
    model = distributed.train(paths, client, model=model_class(name), sync_words=sync_words, combine=combine,
                              scale_alpha=scale_alpha, **params)
    seconds = time.perf_counter() - start
    rounds = model.distributed_report.rounds
    share = SHARE.get(name)
    returned = sum(r["bytes_returned"] for r in rounds)
    return dict(scores(model, name, heldout), words_per_s=model.distributed_report.raw_words / seconds,
                share=(sum(r["bytes_returned_by_array"].get(share, 0) for r in rounds) / returned
                       if share and returned else float("nan")),
                syncs=len(rounds),
                mb_returned_per_sync=statistics.mean(r["bytes_returned"] for r in rounds) / 2**20,
                mb_broadcast_per_sync=statistics.mean(r["bytes_broadcast"] for r in rounds) / 2**20,
                whole_models=sum(r["whole_models"] for r in rounds),
                mb_whole_models=sum(r["bytes_whole_models"] for r in rounds) / 2**20,
                **time_split(model.distributed_report, seconds))


def time_split(report, seconds):
    """Where a run's wall time went, in seconds: the phases of :class:`DistributedReport`."""
    rounds = report.rounds
    split = dict(
        t_vocabulary=getattr(report, "seconds_vocabulary", float("nan")),   # nan: a version without it
        t_task_read=sum(r["seconds_task_read"] for r in rounds),
        t_task_train=sum(r["seconds_task_train"] for r in rounds),
        # the slowest task's copy and comparison of its rows (and unpickling an update)
        t_task_rows=sum(r["seconds_task"] - r["seconds_task_read"] - r["seconds_task_train"] for r in rounds),
        # waiting for the tasks beyond the slowest one's own work: scheduling, moving arguments and
        # results, a whole model's first send, the other tasks' imbalance
        t_task_wait=sum(r["seconds_tasks"] - r["seconds_task"] for r in rounds),
        t_combine=sum(r["seconds_combine"] for r in rounds),
        t_broadcast=sum(r["seconds_broadcast"] for r in rounds))
    split["t_other"] = seconds - sum(split.values())
    split["t_total"] = seconds
    return split


def mean_rows(rows):
    return {key: statistics.mean(r[key] for r in rows) for key in rows[0]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(METRICS), default="word2vec")
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
    parser.add_argument("--sg", type=int, default=1, help="Word2Vec and FastText")
    parser.add_argument("--dm", type=int, default=0, help="Doc2Vec: 0 is PV-DBOW (training word vectors too)")
    parser.add_argument("--bucket", type=int, default=200_000, help="FastText's n-gram rows")
    parser.add_argument("--heldout", type=int, default=500, help="Doc2Vec: lines held out for the perplexity")
    parser.add_argument("--alpha", type=float, default=None, help="the learning rate (default: the model's)")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)

    import distributed as dask_distributed

    sentences, words = load(args.corpus)
    heldout = None
    if args.model == "doc2vec":
        from gensim.models.doc2vec import TaggedDocument

        sentences, held = sentences[:-args.heldout], sentences[-args.heldout:]
        words = sum(len(s) for s in sentences)
        heldout = dict(heldout=[TaggedDocument(s, [f"heldout_{i}"]) for i, s in enumerate(held)])
    metrics = METRICS[args.model]
    seeds = [int(s) for s in args.seeds.split(",")]
    intervals = [int(v) or words for v in args.sync_words.split(",")]
    configs = [(v, "mean", True) for v in intervals]
    if args.contrast_sync_words:
        configs += [(args.contrast_sync_words, "mean", False), (args.contrast_sync_words, "sum", False)]
    shape = (dict(sg=args.sg) if args.model == "word2vec" else dict(sg=args.sg, bucket=args.bucket)
             if args.model == "fasttext" else dict(dm=args.dm, dbow_words=int(not args.dm)))
    print(f"{args.model} on {args.corpus}: {len(sentences)} lines, {words} words in {args.shards} shards; "
          f"loss={args.loss}, {shape}, k={args.negative}, d={args.size}, epochs={args.epochs}, "
          f"alpha={args.alpha or 'default'}, seeds={seeds}; Dask: {args.dask_workers} processes x 1 thread; one machine: 1 process x 2 threads",
          flush=True)
    with tempfile.TemporaryDirectory() as folder:
        paths = write_shards(sentences, args.shards, folder)
        del sentences
        if heldout is not None:
            heldout["training"] = documents_of(paths)
        concatenated = os.path.join(folder, "all.txt")
        with open(concatenated, "w", encoding="utf8") as fout:
            for path in paths:
                with open(path, encoding="utf8") as fin:
                    fout.write(fin.read())
        cluster = dask_distributed.LocalCluster(n_workers=args.dask_workers, threads_per_worker=1, processes=True,
                                                host="127.0.0.1", dashboard_address=None)
        client = dask_distributed.Client(cluster)
        try:
            single, single_file, dask = [], [], {config: [] for config in configs}
            for seed in seeds:
                params = dict(loss=args.loss, negative=args.negative, vector_size=args.size, epochs=args.epochs,
                              seed=seed, **shape, **({} if args.alpha is None else dict(alpha=args.alpha)))
                single.append(one_machine(paths, args.model, params, heldout))
                print(f"  seed {seed} one machine: {single[-1]['words_per_s']:,.0f} words/s", flush=True)
                single_file.append(one_machine(paths, args.model, params, heldout, corpus_file=concatenated))
                print(f"  seed {seed} one machine, corpus_file: {single_file[-1]['words_per_s']:,.0f} words/s",
                      flush=True)
                for config in configs:
                    dask[config].append(on_dask(paths, client, args.model, params, heldout, *config))
                    print(f"  seed {seed} dask {config}: {dask[config][-1]['words_per_s']:,.0f} words/s", flush=True)
        finally:
            client.close()
            cluster.close()
    base = mean_rows(single)
    rows = [dict(setup="one machine (2 threads), sentences in memory", **base, quality_ratio=1.0, speed_ratio=1.0)]

    def compared(setup, row):
        ratio = statistics.mean(base[m] / row[m] if m in LOWER_IS_BETTER else row[m] / base[m] for m in metrics)
        return dict(setup=setup, **row, quality_ratio=ratio, speed_ratio=row["words_per_s"] / base["words_per_s"])

    rows.append(compared("one machine (2 threads), corpus_file", mean_rows(single_file)))
    for (interval, combine, scaled), results in dask.items():
        rule = f"{combine}, scaled alpha" if scaled else f"{combine}, unscaled alpha"
        rows.append(compared(f"dask, sync every {interval:,} words, {rule}", mean_rows(results)))
    share = SHARE.get(args.model)
    print()
    print(f"| setup | quality vs one machine | {' | '.join(metrics)} | words/s | speed vs one machine | syncs | "
          f"MB returned / sync | MB broadcast / sync | whole models sent |" + (f" {share} share |" if share else ""))
    print("|---" * (7 + len(metrics) + bool(share)) + "|")
    for r in rows:
        extra = (f"{r['syncs']:.0f} | {r['mb_returned_per_sync']:.1f} | {r['mb_broadcast_per_sync']:.1f} | "
                 f"{r['whole_models']:.0f} ({r['mb_whole_models']:.0f} MB)") if "syncs" in r else " | | | "
        if share:
            extra += f" | {r['share']:.0%}" if "share" in r else " | "
        print(f"| {r['setup']} | {r['quality_ratio']:.2f}x | {' | '.join(f'{r[m]:.3f}' for m in metrics)} | "
              f"{r['words_per_s']:,.0f} | {r['speed_ratio']:.2f}x | {extra} |")
    phases = [key for key in rows[-1] if key.startswith("t_")]
    print()
    print("Where a Dask run's seconds go (the mean over seeds; task phases are the slowest task's, summed "
          "over the synchronisations):")
    print()
    print(f"| setup | {' | '.join(key[2:].replace('_', ' ') for key in phases)} |")
    print("|---" * (1 + len(phases)) + "|")
    for r in rows[2:]:
        print(f"| {r['setup']} | {' | '.join(f'{r[key]:.2f}' for key in phases)} |")
    if args.json:
        with open(args.json, "w") as fout:
            json.dump(rows, fout, indent=2)


if __name__ == "__main__":
    main()
