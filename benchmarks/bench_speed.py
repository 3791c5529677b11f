#!/usr/bin/env python
"""Words per second of every mode, as a ratio to gensim's negative sampling in the same run.

The machine is shared and noisy, so absolute times mean little: each configuration trains
gensim's ``ns`` and then each mode at the same k, path, architecture and worker count, back to
back, ``--repeat`` times, and reports the median ratio. Only ``train()`` is timed (the
vocabulary is built beforehand).

    python benchmarks/bench_speed.py                      # WordNet glosses, sg and cbow, k=5
    python benchmarks/bench_speed.py --negative 5,15 --paths iterable,corpus_file --quality
    python benchmarks/bench_speed.py --scaling --gil --ceiling --paths iterable,corpus_file
                                                          # 2 workers / 1 worker, new modes
    python benchmarks/bench_speed.py --archs sg --modes ns,blackout,blackout+shared
                                                          # +shared: shared_samples=True
    python benchmarks/bench_speed.py --archs cbow --paths iterable,corpus_file \
        --modes "ns;blackout;blackout:shared_samples=8"   # a mode's own arguments after ':'

The default corpus is ``../shared/corpora/wordnet-glosses.txt.gz`` beside the repository.
"""
import argparse
import ast
import gzip
import json
import os
import resource
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.join(HERE, "..", "..", "shared", "corpora", "wordnet-glosses.txt.gz")
TARGETS = {  # the floor and the goal set for the ratio to gensim's ns
    ("nce", "sg"): (1.0, 1.3), ("blackout", "sg"): (0.95, 1.25),
    ("nce", "cbow"): (1.0, 1.3), ("blackout", "cbow"): (1.0, 1.3),
}


def load(path, limit_words=None):
    opener = gzip.open if path.endswith(".gz") else open
    sentences, n = [], 0
    with opener(path, "rt", encoding="utf8", errors="replace") as fin:
        for line in fin:
            tokens = line.split()
            if tokens:
                sentences.append(tokens)
                n += len(tokens)
            if limit_words and n >= limit_words:
                break
    return sentences, n


def parse_mode(spec):
    """``'nce+shared:ns_exponent=0.5'`` -> Word2Vec keyword arguments for that mode."""
    from blackout_ext.compare import mode_options

    name, _, extra = spec.partition(":")
    params = mode_options(name)
    for item in filter(None, extra.split(",")):
        key, _, value = item.partition("=")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    return params


def split_modes(text):
    """``--modes``: the modes, separated by ';', or by commas outside a mode's overrides."""
    if ";" in text:
        return [m for m in text.split(";") if m]
    # commas separate modes, except inside a mode's ':name=value,name=value' part: a piece with
    # '=' but no ':' continues the previous mode's overrides
    modes = []
    for piece in text.split(","):
        if "=" in piece and ":" not in piece and modes:
            modes[-1] += "," + piece
        else:
            modes.append(piece)
    return modes


def modes_for(arch, modes):
    """The modes that apply to `arch`: ``shared_samples=True`` (``+shared``) is skip-gram's only
    (an int n, windows per draw, trains CBOW too)."""
    return [m for m in modes if arch == "sg" or parse_mode(m).get("shared_samples") is not True]


def make_model(mode, arch, k, workers, args, seed=None):
    from blackout_ext import Word2Vec

    params = dict(vector_size=args.size, window=args.window, min_count=args.min_count, sample=args.sample,
                  sg=1 if arch == "sg" else 0, workers=workers, seed=args.seed if seed is None else seed,
                  epochs=args.epochs)
    params.update(parse_mode(mode))
    if params["loss"] != "hs":
        params.update(negative=k, ns_exponent=args.ns_exponent)
    return Word2Vec(**params)


def train_once(sentences, corpus_file, mode, arch, k, workers, args, seed=None, with_cpu=False):
    model = make_model(mode, arch, k, workers, args, seed)
    if corpus_file:
        model.build_vocab(corpus_file=corpus_file)
    else:
        model.build_vocab(sentences)
    cpu, start = time.process_time(), time.perf_counter()
    if corpus_file:
        _, raw = model.train(corpus_file=corpus_file, total_words=model.corpus_total_words, epochs=args.epochs)
    else:
        _, raw = model.train(sentences, total_examples=model.corpus_count, epochs=args.epochs)
    seconds = time.perf_counter() - start
    if with_cpu:
        return model, raw / seconds, (time.process_time() - cpu) / seconds
    return model, raw / seconds


def quality(model):
    from blackout_ext.compare import quality_scores
    return quality_scores(model.wv)


def run(args):
    sentences, n_words = load(args.corpus, args.limit_words)
    print(f"corpus: {args.corpus}: {len(sentences)} sentences, {n_words} words; "
          f"d={args.size}, window={args.window}, epochs={args.epochs}, repeats={args.repeat}")
    corpus_file = write_corpus_file(sentences) if "corpus_file" in args.paths else None
    rows = []
    for path in args.paths:
        for arch in args.archs:
            for k in args.negative:
                for workers in args.workers:
                    modes = modes_for(arch, args.modes)
                    ratios = {m: [] for m in modes if m != "ns"}
                    speeds = {m: [] for m in modes}
                    scores = {m: [] for m in modes}
                    transfer = []
                    for rep in range(args.repeat):
                        transfer.append(line_transfer_ns())
                        for mode in ["ns"] + [m for m in modes if m != "ns"]:
                            # with --quality, each repeat uses its own seed and the scores are averaged
                            model, wps = train_once(sentences, corpus_file if path == "corpus_file" else None,
                                                    mode, arch, k, workers, args,
                                                    seed=args.seed + rep if args.quality else None)
                            speeds[mode].append(wps)
                            if mode != "ns":
                                ratios[mode].append(wps / speeds["ns"][-1])
                            if args.quality:
                                scores[mode].append(quality(model))
                    for mode in ["ns"] + list(ratios):
                        ratio = statistics.median(ratios[mode]) if mode in ratios else 1.0
                        row = dict(path=path, arch=arch, k=k, workers=workers, mode=mode,
                                   words_per_s=statistics.median(speeds[mode]), ratio_to_ns=ratio,
                                   line_transfer_ns=statistics.median(transfer))
                        if scores[mode]:
                            row.update({name: statistics.mean(s[name] for s in scores[mode]) for name in scores[mode][0]})
                        floor, goal = TARGETS.get((parse_mode(mode)["loss"], arch), (None, None))
                        row.update(floor=floor, goal=goal)
                        rows.append(row)
                        print_row(row)
    if corpus_file:
        os.unlink(corpus_file)
    return rows


def print_row(row):
    target = f"  floor {row['floor']:.2f}x goal {row['goal']:.2f}x" if row.get("floor") else ""
    qual = ""
    if "simlex999" in row:
        qual = (f"  simlex {row['simlex999']:.3f} ws353 {row['wordsim353']:.3f} "
                f"analogy {row['analogy_accuracy']:.3f}")
    transfer = f"  line {row['line_transfer_ns']:.0f} ns" if row["mode"] == "ns" else ""
    print(f"{row['path']:>11} {row['arch']:>4} k={row['k']:<3} w={row['workers']} {row['mode']:>16} "
          f"{row['words_per_s']:>10.0f} words/s  {row['ratio_to_ns']:.2f}x ns{target}{qual}{transfer}", flush=True)


def write_corpus_file(sentences):
    tmp = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf8")
    with tmp:
        for s in sentences:
            tmp.write(" ".join(s) + "\n")
    return tmp.name


def seconds_in_threads(*targets):
    """Run each of `targets` in a thread of its own, all at once; the wall seconds until all end."""
    import threading

    threads = [threading.Thread(target=target) for target in targets]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def machine_ceiling(corpus_file, mode, arch, k, args, solo_wps):
    """words/s of two separate models trained at once, 1 worker each, over one model alone.

    The two share no weights and, on the ``corpus_file`` path, never take the GIL: this is
    what the machine's cores give perfectly independent work at that moment (caches, memory
    bandwidth and the neighbours on a shared host included). Measured beside each 2-worker
    run, so that both see the same machine.
    """
    models = [make_model(mode, arch, k, 1, args) for _ in range(2)]
    for model in models:
        model.build_vocab(corpus_file=corpus_file)
    raw = []

    def train(model):
        raw.append(model.train(corpus_file=corpus_file, total_words=model.corpus_total_words, epochs=args.epochs)[1])

    seconds = seconds_in_threads(*(lambda m=m: train(m) for m in models))
    return sum(raw) / seconds / solo_wps


def line_transfer_ns(rounds=200_000):
    """Nanoseconds to move one cache line from one core to the other, now (a ping-pong).

    Two threads take turns writing one counter. Hogwild workers pay this on every row of the
    weights that both write, so when it jumps, a 2-worker run slows down with it.
    """
    import numpy as np

    from blackout_ext import _inner, _probe

    flag = _inner.cache_line_alone(1, np.int64)
    answered = []
    seconds = seconds_in_threads(*(lambda p=p: answered.append(_probe.py_ping_pong(flag, rounds, p)) for p in (0, 1)))
    return seconds / (2 * rounds) * 1e9 if all(answered) else float("nan")


def gil_share(sentences, mode, arch, k, args):
    """Share of a 1-worker epoch spent holding the GIL (iterable path).

    The held part of a job is the job producer, and in ``train_batch`` the walk over the
    tokens; the lookup of ASCII tokens and the subsampling run without the GIL. The same jobs
    are run with every word subsampled away (``sample_int`` zeroed), so that the kernel has
    nothing to do: once in one thread (``lookup``), then in two threads at once, each all the
    jobs. What two threads cannot overlap is what holds the GIL: held = T2 - T1.
    With 2 workers, one worker's held part runs while the other is in its kernel (which
    releases the GIL), so it costs scaling only when both want the GIL at once; were the held
    parts never to overlap anything, the speed-up would be 1 / (share + (1 - share) / 2).
    """
    import queue as queue_mod

    from blackout_ext import _inner

    model = make_model(mode, arch, k, 1, args)
    model.build_vocab(sentences)
    jobs, q = [], queue_mod.Queue()
    start = time.perf_counter()
    model._job_producer(iter(sentences), q, 0, total_examples=model.corpus_count)
    producer = time.perf_counter() - start
    while True:
        job = q.get()
        if job is None:
            break
        jobs.append(job)
    table = model._vocab_hash()

    def run():  # all the jobs, with this thread's own work memory
        mem = model._get_thread_working_mem()
        start = time.perf_counter()
        for sentences_, alpha in jobs:
            _inner.train_batch(model, sentences_, alpha, mem, 0, 1, table)
        return time.perf_counter() - start

    full = min(run() for _ in range(2))
    sample_int = model.wv.expandos["sample_int"]
    kept = sample_int.copy()
    sample_int[:] = 0
    lookup = min(run() for _ in range(3))
    held = max(min(seconds_in_threads(run, run) for _ in range(3)) - lookup, 0.0)
    sample_int[:] = kept
    share = (producer + held) / (producer + full)
    return share, producer, held, lookup, full


def scaling(args):
    """words/s with 2 workers over 1 worker, per mode (floor 1.8x, goal 1.95x).

    The ratio swings with the load of the shared machine, so beside it: the CPU utilisation of
    the 2-worker run (process CPU seconds / wall seconds; 2.0 means neither worker ever
    waited); with ``--ceiling``, what two independent models get from the machine in the same
    repeat, and the ratio as a share of that; with ``--gil``, the share of an epoch spent
    holding the GIL.
    """
    sentences, _ = load(args.corpus, args.limit_words)
    corpus_file = write_corpus_file(sentences) if ("corpus_file" in args.paths or args.ceiling) else None
    k = args.negative[0]
    print(f"2 workers / 1 worker, median of {args.repeat} alternating repeats "
          f"(floor 1.80x, goal 1.95x); util = CPU s / wall s of the 2-worker run", flush=True)
    try:
        for path in args.paths:
            for arch in args.archs:
                for mode in modes_for(arch, args.modes):
                    # 1 and 2 workers alternate, and each repeat gives its own ratio, so that drift in
                    # the machine's load hits both sides of a ratio alike
                    one, two, util, ceilings, transfer = [], [], [], [], []
                    source = corpus_file if path == "corpus_file" else None
                    for _ in range(args.repeat):
                        one.append(train_once(sentences, source, mode, arch, k, 1, args)[1])
                        before = line_transfer_ns()
                        _, wps, busy = train_once(sentences, source, mode, arch, k, 2, args, with_cpu=True)
                        transfer.append((before + line_transfer_ns()) / 2)
                        two.append(wps)
                        util.append(busy)
                        if args.ceiling:
                            solo = one[-1] if source else train_once(None, corpus_file, mode, arch, k, 1, args)[1]
                            ceilings.append(machine_ceiling(corpus_file, mode, arch, k, args, solo))
                    ratios = [b / a for a, b in zip(one, two)]
                    line = (f"{path:>11} {arch:>4} {mode:>16}  1 worker {statistics.median(one):>9.0f}  "
                            f"2 workers {statistics.median(two):>9.0f}  ratio {statistics.median(ratios):.2f}x "
                            f"(range {min(ratios):.2f}-{max(ratios):.2f})  util {statistics.median(util):.2f}")
                    if ceilings:
                        share = [r / c for r, c in zip(ratios, ceilings)]
                        line += (f"  machine ceiling {statistics.median(ceilings):.2f}x "
                                 f"(range {min(ceilings):.2f}-{max(ceilings):.2f}), ratio / ceiling "
                                 f"{statistics.median(share):.2f}")
                    if args.gil and path == "iterable" and mode != "ns":
                        share, producer, held, lookup, full = gil_share(sentences, mode, arch, k, args)
                        line += (f"  GIL held {share:.1%} of a 1-worker epoch (producer {producer * 1e3:.0f} ms, "
                                 f"token walk {held * 1e3:.0f} ms of lookup {lookup * 1e3:.0f} ms, "
                                 f"of jobs {full * 1e3:.0f} ms)")
                    line += "\n" + " " * 12 + "each repeat, ratio @ line transfer ns: " + ", ".join(
                        f"{r:.2f}x @ {ns:.0f}" for r, ns in zip(ratios, transfer))
                    print(line, flush=True)
    finally:
        if corpus_file:
            os.unlink(corpus_file)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--limit-words", type=int, default=None)
    parser.add_argument("--modes", default="ns,nce,blackout,sampled_softmax")
    parser.add_argument("--paths", default="iterable")
    parser.add_argument("--archs", default="sg,cbow")
    parser.add_argument("--negative", default="5")
    parser.add_argument("--workers", default="2")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--ns-exponent", type=float, default=0.75)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quality", action="store_true",
                        help="also score simlex999, wordsim353, analogies: seed + repeat per repeat, averaged")
    parser.add_argument("--scaling", action="store_true", help="measure 2 workers / 1 worker instead")
    parser.add_argument("--gil", action="store_true", help="with --scaling: the GIL-held share of an epoch")
    parser.add_argument("--ceiling", action="store_true",
                        help="with --scaling: what 2 independent models, one thread each, get from the machine")
    parser.add_argument("--json", default=None, help="write the rows here")
    args = parser.parse_args(argv)
    args.modes = split_modes(args.modes)
    args.paths = args.paths.split(",")
    args.archs = args.archs.split(",")
    args.negative = [int(x) for x in args.negative.split(",")]
    args.workers = [int(x) for x in args.workers.split(",")]
    if not os.path.exists(args.corpus):
        sys.exit(f"corpus not found: {args.corpus} (give --corpus)")
    if args.scaling:
        scaling(args)
        return
    rows = run(args)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.json:
        with open(args.json, "w") as fout:
            json.dump(rows, fout, indent=2)


if __name__ == "__main__":
    main()
