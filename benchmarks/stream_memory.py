#!/usr/bin/env python
"""Peak memory of training from a stream does not grow with the corpus length.

Trains one epoch on the WordNet corpus streamed from its .gz file, then on the same text
repeated 10 times (streamed again, never loaded whole), each in a fresh process, and prints the
peak RSS of both. ``min_count`` is scaled with the repetitions (5 and 50), so that both runs
keep the same vocabulary and only the corpus length differs. With ``--corpus-file`` the repeated text is unpacked to a temporary file and
trained through the ``corpus_file`` path instead.

    python benchmarks/stream_memory.py [--loss blackout] [--corpus-file]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.join(HERE, "..", "..", "shared", "corpora", "wordnet-glosses.txt.gz")

CHILD = r"""
import json, resource, sys, time
from blackout_ext import Word2Vec
from blackout_ext.corpora import LineSentence

path, repeat, loss, corpus_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
min_count = int(sys.argv[5])

class Repeated:
    def __init__(self, source, times):
        self.source, self.times = source, times
    def __iter__(self):
        for _ in range(self.times):
            yield from self.source

start = time.perf_counter()
model = Word2Vec(loss=loss, vector_size=100, workers=2, epochs=1, min_count=min_count)
if corpus_file:
    model.build_vocab(corpus_file=path)
    model.train(corpus_file=path, total_words=model.corpus_total_words, epochs=1)
else:
    corpus = Repeated(LineSentence(path), repeat)
    model.build_vocab(corpus)
    model.train(corpus, total_examples=model.corpus_count, epochs=1)
print(json.dumps(dict(words=model.corpus_total_words, vocab=len(model.wv), seconds=time.perf_counter() - start,
                      peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def measure(path, repeat, loss, corpus_file, min_count):
    out = subprocess.run([sys.executable, "-c", CHILD, path, str(repeat), loss, "1" if corpus_file else "0",
                          str(min_count)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--loss", default="blackout")
    parser.add_argument("--times", type=int, default=10)
    parser.add_argument("--corpus-file", action="store_true")
    args = parser.parse_args()
    results = []
    if args.corpus_file:
        with tempfile.TemporaryDirectory() as tmp:
            text = gzip.open(args.corpus, "rb").read()
            for times in (1, args.times):
                path = os.path.join(tmp, f"x{times}.txt")
                with open(path, "wb") as fout:
                    for _ in range(times):
                        fout.write(text)
                results.append((times, measure(path, 1, args.loss, True, 5 * times)))
                os.unlink(path)
    else:
        for times in (1, args.times):
            results.append((times, measure(args.corpus, times, args.loss, False, 5 * times)))
    for times, r in results:
        print(f"{'corpus_file' if args.corpus_file else 'iterable':>11} x{times:<3} {r['words']:>10} words  "
              f"vocab {r['vocab']:>6}  {r['seconds']:6.1f} s  peak RSS {r['peak_rss_mb']:7.1f} MB")
    ratio = results[1][1]["peak_rss_mb"] / results[0][1]["peak_rss_mb"]
    print(f"peak RSS x{args.times} / x1: {ratio:.3f}")


if __name__ == "__main__":
    main()
