#!/usr/bin/env python
"""The whole job against the peers: word2vec.c, Intel's pWord2Vec (HogBatch), fastText, gensim.

Each system trains skip-gram on the same plain-text corpus with the same settings (d=100, window
5, k=5, sample 1e-3, min_count 5, 2 threads, 3 epochs), each at its own defaults otherwise, and
writes its vectors. The time is the wall time of the whole job as a user runs it, one process
each: start, read, vocabulary, train, write. The Python systems run as ``python -c`` processes,
so their time includes the interpreter and the imports, as the peers' includes their start.
The vectors are then scored on simlex999, wordsim353 and the analogies (not timed).

Runs are interleaved (every system once per repeat, in turn) and averaged over ``--repeats``;
the Python systems take the repeat's number as their seed. Run it alone on the machine.

    bash ../shared/peers/build.sh /tmp/peers          # once: pWord2Vec and word2vec.c
    python benchmarks/bench_peers.py --peers /tmp/peers --repeats 2 --json peers.json

fastText is measured when ``import fasttext`` works (``pip install fasttext-wheel``), with
``minn=0, maxn=0`` (no subwords). pWord2Vec runs with ``OPENBLAS_NUM_THREADS=1``.
"""
import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.join(HERE, "..", "..", "shared", "corpora", "wordnet-glosses.txt.gz")

PYTHON_JOB = r"""
import json, sys
spec = json.loads(sys.argv[1])
if spec["package"] == "gensim":
    from gensim.models import Word2Vec
else:
    from blackout_ext import Word2Vec
model = Word2Vec(corpus_file=spec["corpus"], **spec["params"])
model.wv.save_word2vec_format(spec["out"])
"""

FASTTEXT_JOB = r"""
import json, sys
import fasttext
spec = json.loads(sys.argv[1])
model = fasttext.train_unsupervised(spec["corpus"], model="skipgram", dim=100, ws=5, neg=5, t=1e-3, minCount=5,
                                    thread=spec["threads"], epoch=spec["epochs"], minn=0, maxn=0, verbose=0)
with open(spec["out"], "w", encoding="utf8") as fout:
    words = model.get_words()
    fout.write(f"{len(words)} {model.get_dimension()}\n")
    for word in words:
        fout.write(word + " " + " ".join(f"{x:.6f}" for x in model.get_word_vector(word)) + "\n")
"""


def systems(args):
    """(name, command builder) of every system measured: the builder takes (corpus, out, seed)."""
    common = ["-size", "100", "-window", "5", "-negative", "5", "-sample", "1e-3", "-threads", str(args.threads),
              "-binary", "0", "-iter", str(args.epochs), "-min-count", "5"]
    found = []
    w2v, pw2v = os.path.join(args.peers, "word2vec"), os.path.join(args.peers, "pWord2Vec")
    if os.path.exists(w2v):
        found.append(("word2vec.c", lambda c, o, s: [w2v, "-train", c, "-output", o, "-cbow", "0", "-hs", "0"] + common))
    if os.path.exists(pw2v):
        found.append(("pWord2Vec (HogBatch)", lambda c, o, s: [pw2v, "-train", c, "-output", o, "-batch-size", "11"]
                      + common))
    try:
        import fasttext  # noqa: F401
        found.append(("fastText (no subwords)", lambda c, o, s: [sys.executable, "-c", FASTTEXT_JOB, json.dumps(
            dict(corpus=c, out=o, threads=args.threads, epochs=args.epochs))]))
    except ImportError:
        print("fastText not installed (pip install fasttext-wheel): left out", file=sys.stderr)
    base = dict(sg=1, vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, workers=args.threads,
                epochs=args.epochs)

    def python(package, **params):
        return lambda c, o, s: [sys.executable, "-c", PYTHON_JOB, json.dumps(
            dict(package=package, corpus=c, out=o, params=dict(base, seed=s, **params)))]

    found += [
        ("gensim ns", python("gensim")),
        ("gensim hs", python("gensim", hs=1, negative=0)),
        ("blackout, per-pair samples", python("blackout_ext", loss="blackout", shared_samples=False)),
        ("blackout (defaults: shared samples)", python("blackout_ext", loss="blackout")),
        ("blackout, shared_samples=4 (one draw per 4 windows)", python("blackout_ext", loss="blackout",
                                                                        shared_samples=4)),
    ]
    return [(name, build) for name, build in found if not args.systems or name in args.systems]


def score(path):
    from gensim.models import KeyedVectors

    from blackout_ext.compare import quality_scores

    return quality_scores(KeyedVectors.load_word2vec_format(path, binary=False))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="plain text or .gz (decompressed first)")
    parser.add_argument("--peers", default=os.path.join(HERE, "..", "..", "shared", "peers", "bin"),
                        help="the folder build.sh wrote pWord2Vec and word2vec into")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--systems", type=lambda s: s.split(";"), default=None,
                        help="names separated by ';' (a name may hold commas), as the table prints them")
    parser.add_argument("--json", default=None, help="write every run here")
    args = parser.parse_args(argv)

    work = tempfile.mkdtemp(prefix="bench-peers-")
    try:
        corpus = args.corpus
        if corpus.endswith(".gz"):
            corpus = os.path.join(work, "corpus.txt")
            with gzip.open(args.corpus, "rb") as fin, open(corpus, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        with open(corpus, "rb") as fin:
            tokens = sum(len(line.split()) for line in fin)
        measured = systems(args)
        print(f"corpus: {args.corpus}, {tokens} tokens; sg d=100 window 5 k=5 sample 1e-3 min_count 5, "
              f"{args.threads} threads, {args.epochs} epochs; {args.repeats} interleaved repeats", flush=True)
        runs = []
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        for repeat in range(1, args.repeats + 1):
            for name, build in measured:
                out = os.path.join(work, "vectors.txt")
                start = time.perf_counter()
                done = subprocess.run(build(corpus, out, repeat), env=env, capture_output=True, text=True)
                seconds = time.perf_counter() - start
                if done.returncode != 0:
                    raise RuntimeError(f"{name} failed ({done.returncode}): {done.stderr[-2000:]}")
                runs.append(dict(system=name, repeat=repeat, seconds=seconds, **score(out)))
                os.unlink(out)
                print(f"  {name:<38} repeat {repeat}: {seconds:6.1f} s  simlex999 {runs[-1]['simlex999']:.3f}",
                      flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    names = [name for name, _ in measured]
    mean = {name: {key: statistics.mean(r[key] for r in runs if r["system"] == name)
                   for key in ("seconds", "simlex999", "wordsim353", "analogy_accuracy")} for name in names}
    ns = mean.get("gensim ns", {}).get("seconds")
    pw = mean.get("pWord2Vec (HogBatch)", {}).get("seconds")
    print("\n| system | seconds | vs gensim ns | vs pWord2Vec | simlex999 | wordsim353 | analogies |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        m = mean[name]
        ratio_ns = f"{m['seconds'] / ns:.2f}x" if ns else "n/a"
        ratio_pw = f"{m['seconds'] / pw:.2f}x" if pw else "n/a"
        print(f"| {name} | {m['seconds']:.1f} | {ratio_ns} | {ratio_pw} | {m['simlex999']:.3f} | "
              f"{m['wordsim353']:.3f} | {m['analogy_accuracy']:.3f} |")
    if args.json:
        with open(args.json, "w") as fout:
            json.dump(dict(tokens=tokens, runs=runs, mean=mean), fout, indent=2)


if __name__ == "__main__":
    sys.exit(main())
