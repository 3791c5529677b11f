#!/usr/bin/env python
"""Held-out evaluation's time against the bare NumPy cost of its normalisers.

``evaluate_log_likelihood`` must score every held-out prediction exactly: the input vectors of
its contexts, all |V| scores of each (one ``sgemm``), and each context's log-normaliser. This
times it on held-out WordNet glosses for a trained model of each loss, and, in the same run, the
bare NumPy computation it cannot avoid for the same contexts: ``H @ U.T + b``, then max, exp and
sum per row (float32 scores, as the evaluation computes them), in batches of the same size. The
ratio is evaluation / bare, the median of ``--repeat`` interleaved runs (issue 26's aim: <= 2x).

    python benchmarks/bench_evaluation.py [--heldout 2000] [--modes ns,nce,blackout,softmax] [--sg 1]
"""
import argparse
import gzip
import os
import statistics
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.join(HERE, "..", "..", "shared", "corpora", "wordnet-glosses.txt.gz")


def bare_normalisers(model, inputs, batch):
    """The scores and log-normalisers of each input row, in float32 batches, NumPy only."""
    u = model.syn1neg
    b = getattr(model, "syn1neg_bias", None)
    total = 0.0
    for start in range(0, len(inputs), batch):
        h = model.wv.vectors[inputs[start:start + batch]]
        scores = h @ u.T
        if b is not None:
            scores += b
        top = scores.max(axis=1, keepdims=True)
        np.subtract(scores, top, out=scores)
        np.exp(scores, out=scores)
        total += float(np.log(scores.sum(axis=1)).sum())
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--train-sentences", type=int, default=40000)
    parser.add_argument("--heldout", type=int, default=2000, help="held-out sentences")
    parser.add_argument("--modes", default="ns,nce,blackout,softmax")
    parser.add_argument("--sg", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from blackout_ext import Word2Vec
    from blackout_ext.evaluation import _BATCH_CELLS, _as_indexes

    sentences = []
    with gzip.open(args.corpus, "rt", encoding="utf8") as fin:
        for line in fin:
            if line.split():
                sentences.append(line.split())
            if len(sentences) >= args.train_sentences + args.heldout:
                break
    train, heldout = sentences[:args.train_sentences], sentences[args.train_sentences:]
    print(f"{len(train)} training and {len(heldout)} held-out sentences; sg={args.sg}")
    print(f"{'mode':>10}  {'eval s':>8}  {'bare s':>8}  {'ratio':>6}  (median of {args.repeat})")
    for mode in args.modes.split(","):
        model = Word2Vec(train, loss=mode, sg=args.sg, vector_size=100, min_count=3, epochs=1, workers=2, seed=1)
        batch = max(16, min(8192, _BATCH_CELLS // max(len(model.wv), 1)))
        # the contexts the evaluation scores: one per position of each held-out sentence of two or
        # more known words (skip-gram: the centre word's row; CBOW: its context's)
        inputs = []
        for idx in _as_indexes(model, heldout):
            inputs.extend(idx)
        inputs = np.array(inputs, dtype=np.int64)
        evals, bares = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            model.evaluate_log_likelihood(heldout)
            evals.append(time.perf_counter() - start)
            start = time.perf_counter()
            bare_normalisers(model, inputs, batch)
            bares.append(time.perf_counter() - start)
        e, b = statistics.median(evals), statistics.median(bares)
        print(f"{mode:>10}  {e:8.3f}  {b:8.3f}  {e / b:5.2f}x")


if __name__ == "__main__":
    main()
