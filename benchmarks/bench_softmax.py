#!/usr/bin/env python
"""The full softmax's time per prediction against the BLAS calls it cannot avoid.

One prediction of ``loss="softmax"`` needs the |V| scores (an ``sgemv``) and a rank-1 update of
the whole output matrix (an ``sger``, plus the input gradient). This times training one CBOW
prediction per word with one worker, and one ``sgemv`` + ``sger`` of the same shape through
SciPy's BLAS, in the same run, both single-threaded, and prints the ratio (floor
1.5x, goal 1.1x).

    python benchmarks/bench_softmax.py [--vocab 1000,10000,50000] [--size 100]
"""
import argparse
import time

import numpy as np
from scipy.linalg import blas

from blackout_ext import Word2Vec
from blackout_ext._blas import single_threaded_blas


def zipf_sentences(vocab_size, n_words, seed=0):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab_size + 1)
    ids = np.concatenate([np.arange(vocab_size), rng.choice(vocab_size, size=n_words, p=p / p.sum())])
    words = np.array([f"w{i}" for i in range(vocab_size)], dtype=object)[ids]
    return [list(words[i:i + 20]) for i in range(0, len(words), 20)]


def blas_pair_seconds(vocab_size, size, repeats):
    rng = np.random.default_rng(1)
    u = np.asfortranarray(rng.normal(size=(size, vocab_size)).astype(np.float32) * 0.01)  # d x |V|, as syn1neg
    h = rng.normal(size=size).astype(np.float32)
    g = np.zeros(vocab_size, dtype=np.float32)
    start = time.perf_counter()
    for _ in range(repeats):
        scores = blas.sgemv(1.0, u, h, trans=1)
        g[:] = scores * 1e-6
        u = blas.sger(1.0, h, g, a=u, overwrite_a=1)
    return (time.perf_counter() - start) / repeats


def softmax_pair_seconds(vocab_size, size, n_words):
    sentences = zipf_sentences(vocab_size, n_words)
    model = Word2Vec(loss="softmax", sg=0, vector_size=size, window=5, min_count=1, sample=0, workers=1, epochs=1)
    model.build_vocab(sentences)
    start = time.perf_counter()
    trained, _ = model.train(sentences, total_examples=len(sentences), epochs=1)
    return (time.perf_counter() - start) / trained


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", default="1000,10000,50000")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--budget", type=float, default=3e10, help="multiply-adds per vocabulary size")
    args = parser.parse_args()
    for vocab_size in (int(v) for v in args.vocab.split(",")):
        n = int(max(200, args.budget / (3 * vocab_size * args.size)))
        with single_threaded_blas():
            reference = blas_pair_seconds(vocab_size, args.size, max(20, n // 4))
        ours = softmax_pair_seconds(vocab_size, args.size, n)
        print(f"|V|={vocab_size:>6} d={args.size}: softmax {ours * 1e6:9.1f} us/prediction, sgemv+sger "
              f"{reference * 1e6:9.1f} us, ratio {ours / reference:.2f}x (floor 1.50x, goal 1.10x)", flush=True)


if __name__ == "__main__":
    main()
