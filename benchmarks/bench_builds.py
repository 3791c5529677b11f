#!/usr/bin/env python
"""Two builds of the training kernels, timed against each other in one process.

A kernel change of a few percent is lost in the noise of whole training runs on a shared
machine. This script loads a second build of ``blackout_ext._inner`` (the ``.so`` of another
checkout, built with ``python setup.py build_ext --inplace``) beside the installed one, and
calls both builds' ``train_batch`` on the same 1,000-sentence jobs, one after the other, with
one model and one worker: the ratio of each pair's times is free of the machine's drift.

The call that runs second finds the job's rows in the cache, and ran about 4% faster in a test
of one build against itself. So the order alternates, and each reported ratio is the geometric
mean of two consecutive pairs, one in each order: the bias cancels. ``--against-itself``
measures the installed build against itself, which should give 1.00.

    python setup.py build_ext --inplace            # in both checkouts
    python benchmarks/bench_builds.py ../old/blackout_ext/_inner.cpython-311-x86_64-linux-gnu.so
    python benchmarks/bench_builds.py OLD.so --sg --shared-samples True --pairs 400
    python benchmarks/bench_builds.py --against-itself
    python benchmarks/bench_builds.py --whole ../old --workers 2 --runs 6

Paired calls run one worker, so they cannot see what two workers cost each other (the rows
they share). ``--whole DIR`` trains whole models instead: ``train(corpus_file=...)``, 3
epochs (``WHOLE_EPOCHS``), in a fresh process for each run, the two checkouts (this one, and DIR with its
extensions built in place) taking turns, and reports each one's median wall time and CPU
time, and their ratio.

The default corpus is ``../shared/corpora/wordnet-glosses.txt.gz`` beside the repository, read
as ``bench_speed.py`` reads it; the model is built with the installed build.
"""
import argparse
import ast
import importlib.util
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_speed import DEFAULT_CORPUS, load  # noqa: E402

WHOLE_EPOCHS = 3


def load_build(path):
    """The module ``_inner`` of the build at `path`, under a name of its own."""
    spec = importlib.util.spec_from_file_location("other_build._inner", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def thread_memory(module, model):
    # only the arguments every build's ThreadMemory takes (an older build may lack newer ones)
    return module.ThreadMemory(model.layer1_size, model.negative, len(model.wv), model.dense_output,
                               window=model.window)


WHOLE_RUN = r"""
import ast, resource, sys, time
import blackout_ext
from blackout_ext import Word2Vec
path, sg, loss, shared, size, workers, epochs = sys.argv[1:8]
model = Word2Vec(vector_size=int(size), sg=int(sg), loss=loss, shared_samples=ast.literal_eval(shared), min_count=5,
                 workers=int(workers), seed=1)
model.build_vocab(corpus_file=path)
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
model.train(corpus_file=path, total_words=model.corpus_total_words, epochs=int(epochs))
t, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
print(blackout_ext.__file__, t, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
"""


def whole_runs(args, sentences, this_dir):
    """--whole: whole trainings of both checkouts in fresh processes, taking turns."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "corpus.txt")
        with open(path, "w", encoding="utf8") as fout:
            fout.writelines(" ".join(sentence) + "\n" for sentence in sentences)
        times = {this_dir: [], args.whole: []}
        for run in range(args.runs):
            for checkout in ((this_dir, args.whole) if run % 2 == 0 else (args.whole, this_dir)):
                env = dict(os.environ, PYTHONPATH=checkout)
                out = subprocess.run(
                    [sys.executable, "-c", WHOLE_RUN, path, str(int(args.sg)), args.loss, args.shared_samples,
                     str(args.size), str(args.workers), str(WHOLE_EPOCHS)],
                    env=env, cwd=tmp, check=True, capture_output=True, text=True).stdout.split()
                if not os.path.realpath(out[0]).startswith(os.path.realpath(checkout)):
                    raise RuntimeError(f"the run for {checkout} imported {out[0]}: build it in place first")
                times[checkout].append((float(out[1]), float(out[2])))
    print(f"{'sg' if args.sg else 'cbow'} loss={args.loss} shared_samples={args.shared_samples} d={args.size}, "
          f"{args.workers} workers, {WHOLE_EPOCHS} epochs on {len(sentences)} lines, {args.runs} runs each")
    medians = {}
    for checkout, runs in times.items():
        medians[checkout] = (statistics.median(t for t, _ in runs), statistics.median(c for _, c in runs))
        print(f"{checkout}: wall {medians[checkout][0]:.3f} s, CPU {medians[checkout][1]:.3f} s")
    print(f"this / other checkout: wall {medians[this_dir][0] / medians[args.whole][0]:.3f}, "
          f"CPU {medians[this_dir][1] / medians[args.whole][1]:.3f}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("other", nargs="?", help="the other build's _inner .so")
    parser.add_argument("--against-itself", action="store_true", help="time the installed build against itself")
    parser.add_argument("--whole", metavar="DIR", help="whole trainings against the checkout DIR (built in place)")
    parser.add_argument("--workers", type=int, default=2, help="with --whole")
    parser.add_argument("--runs", type=int, default=6, help="with --whole: runs of each checkout")
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--limit-words", type=int, default=None)
    parser.add_argument("--loss", default="blackout")
    parser.add_argument("--sg", action="store_true", help="skip-gram (default CBOW)")
    parser.add_argument("--shared-samples", default="8",
                        help="True, False or windows per draw (default 8; skip-gram takes True)")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=300, help="pairs of calls (even: both orders alike)")
    args = parser.parse_args(argv)
    if not (args.against_itself or args.other or args.whole):
        parser.error("give the other build's .so, --whole DIR or --against-itself")

    import blackout_ext
    sentences, _ = load(args.corpus, args.limit_words)
    if args.whole:
        return whole_runs(args, sentences, os.path.dirname(os.path.dirname(os.path.abspath(blackout_ext.__file__))))
    from blackout_ext import Word2Vec, _inner as this

    other = this if args.against_itself else load_build(args.other)
    model = Word2Vec(sentences, vector_size=args.size, sg=int(args.sg), loss=args.loss,
                     shared_samples=ast.literal_eval(args.shared_samples), min_count=5, epochs=1,
                     workers=1, seed=1)
    jobs = [sentences[i:i + 1000] for i in range(0, len(sentences) - 999, 1000)]
    vocab_hash = model._vocab_hash()
    builds = [(this, thread_memory(this, model)), (other, thread_memory(other, model))]

    ratios = []   # this build's time / the other's, per pair of calls
    for i in range(args.pairs):
        job = jobs[i % len(jobs)]
        order = builds if i % 2 else builds[::-1]
        times = []
        for module, memory in order:
            start = time.perf_counter()
            module.train_batch(model, job, 0.02, memory, 0, i + 1, vocab_hash)
            times.append(time.perf_counter() - start)
        this_time, other_time = (times[0], times[1]) if i % 2 else (times[1], times[0])
        ratios.append(this_time / other_time)
    balanced = [(a * b) ** 0.5 for a, b in zip(ratios[0::2], ratios[1::2])]
    quartiles = statistics.quantiles(balanced, n=4)
    print(f"{blackout_ext.__file__}: {'sg' if args.sg else 'cbow'} loss={args.loss} "
          f"shared_samples={args.shared_samples} d={args.size}, {len(balanced)} balanced pairs")
    print(f"installed / other build time: median {statistics.median(balanced):.3f} "
          f"(quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
