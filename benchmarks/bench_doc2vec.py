#!/usr/bin/env python
"""Doc2Vec's modes against gensim's negative sampling in the same run, on gensim's Lee corpus.

For each architecture (PV-DBOW, PV-DM) and seed, gensim's ``ns`` trains first and then every
other mode with the same settings and seed, as in gensim's Doc2Vec tutorial (300 Lee background
documents, d=50, min_count=2, 40 epochs). Each model is scored on:

* **re-find**: the share of the training documents whose vector from ``infer_vector`` has its
  own document's vector as its nearest neighbour (top-1), the tutorial's sanity check. Seven
  of the 300 documents have a word-for-word twin, which no model can tell apart; **re-find
  (twins)** also counts finding the twin as a hit;
* **perplexity** of the 50 held-out Lee documents (``lee.cor``), each with an inferred vector;
* **words/s** of training, and its ratio to ns.

    python benchmarks/bench_doc2vec.py                      # dbow and dm, seeds 1-3
    python benchmarks/bench_doc2vec.py --archs dbow --modes ns,nce,blackout --seeds 1
"""
import argparse
import json
import statistics
import time

import numpy as np
from gensim.models.doc2vec import TaggedDocument
from gensim.test.utils import datapath
from gensim.utils import simple_preprocess

ARCHS = {"dbow": dict(dm=0), "dbow+words": dict(dm=0, dbow_words=1), "dm": dict(dm=1)}


def documents(name, tag_prefix=""):
    with open(datapath(name), encoding="iso-8859-1") as fin:   # as gensim's Doc2Vec tutorial reads them
        return [TaggedDocument(simple_preprocess(line), [f"{tag_prefix}{i}" if tag_prefix else i])
                for i, line in enumerate(fin)]


def refind_rates(model, docs):
    """(strict, twins): the share of `docs` whose inferred vector's nearest document is itself
    (strict), or itself or a document with the very same words (twins)."""
    words = {doc.tags[0]: tuple(doc.words) for doc in docs}
    strict = twins = 0
    for doc in docs:
        found = model.dv.most_similar([model.infer_vector(doc.words)], topn=1)[0][0]
        strict += found == doc.tags[0]
        twins += words[found] == tuple(doc.words)
    return strict / len(docs), twins / len(docs)


def train_and_score(train, heldout, mode, arch, seed, args):
    from blackout_ext import Doc2Vec
    from blackout_ext.compare import mode_options

    model = Doc2Vec(vector_size=args.size, min_count=2, epochs=args.epochs, workers=args.workers, seed=seed,
                    negative=None if mode == "hs" else args.negative, **ARCHS[arch], **mode_options(mode))
    model.build_vocab(train)
    start = time.perf_counter()
    model.train(train, total_examples=model.corpus_count, epochs=model.epochs)   # gensim's returns None
    seconds = time.perf_counter() - start
    raw = model.corpus_total_words * model.epochs
    refind, refind_twins = refind_rates(model, train)
    return dict(words_per_s=raw / seconds, refind=refind, refind_twins=refind_twins,
                perplexity=model.evaluate_log_likelihood(heldout).perplexity)


def run(args):
    train, heldout = documents("lee_background.cor"), documents("lee.cor", tag_prefix="heldout")
    print(f"Lee corpus: {len(train)} training documents, {len(heldout)} held out; d={args.size}, "
          f"epochs={args.epochs}, k={args.negative}, workers={args.workers}, seeds={args.seeds}", flush=True)
    rows = []
    for arch in args.archs:
        per_mode = {mode: [train_and_score(train, heldout, mode, arch, seed, args) for seed in args.seeds]
                    for mode in args.modes}
        ns = per_mode["ns"]
        for mode, runs in per_mode.items():
            row = dict(arch=arch, mode=mode, seeds=len(runs))
            for metric in ("refind", "refind_twins", "perplexity", "words_per_s"):
                row[metric] = statistics.mean(r[metric] for r in runs)
            row["refind_min"] = min(r["refind"] for r in runs)
            row["speed_vs_ns"] = row["words_per_s"] / statistics.mean(r["words_per_s"] for r in ns)
            row["refind_vs_ns"] = row["refind"] / statistics.mean(r["refind"] for r in ns)
            rows.append(row)
            print(f"{arch:>10} {mode:>16}  re-find {row['refind']:.3f} (min {row['refind_min']:.3f}, "
                  f"{row['refind_vs_ns']:.2f}x ns; twins {row['refind_twins']:.3f})  perplexity {row['perplexity']:.0f}  "
                  f"speed {row['speed_vs_ns']:.2f}x ns ({row['words_per_s']:.0f} words/s)", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="ns,hs,nce,sampled_softmax,blackout")
    parser.add_argument("--archs", default="dbow,dm", help=f"comma-separated, of {', '.join(ARCHS)}")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None, help="write the rows here")
    args = parser.parse_args(argv)
    args.modes = ["ns"] + [m for m in args.modes.split(",") if m != "ns"]
    args.archs = args.archs.split(",")
    args.seeds = [int(x) for x in args.seeds.split(",")]
    np.seterr(all="ignore")
    rows = run(args)
    if args.json:
        with open(args.json, "w") as fout:
            json.dump(rows, fout, indent=2)


if __name__ == "__main__":
    main()
