"""Command line: ``python -m blackout_ext {compare,train,evaluate}`` (also ``blackout-ext``).

Errors come out as one line on stderr and exit status 2, never as a traceback.
"""
import argparse
import logging
import os
import sys

from blackout_ext.compare import MODELS
from blackout_ext.inputs import InputKind
from blackout_ext.losses import LOSS_TABLE, LOSSES, SHARED_SAMPLE_LOSSES, TUNED_DEFAULTS

TUNED = ", ".join(loss.name for loss in LOSS_TABLE if loss.tuned_defaults)
"""The losses that take the tuned defaults, for the help texts."""
UNTUNED = ", ".join(loss.name for loss in LOSS_TABLE if not loss.tuned_defaults)
DOC2VEC_EPOCHS = 10   # a document vector learns from its own words only: 3 epochs leave it untrained

PROG = "blackout-ext"


class _CliError(Exception):
    pass


def _add_training_options(parser, epochs=5):
    group = parser.add_argument_group("word2vec options")
    group.add_argument("--sg", type=int, choices=(0, 1), default=1, help="1: skip-gram (default), 0: CBOW")
    group.add_argument("--size", type=int, default=100, help="vector size (default 100)")
    group.add_argument("--window", type=int, default=5)
    group.add_argument("--negative", type=int, default=5, help="noise samples k (default 5)")
    group.add_argument("--ns-exponent", type=float, default=0.75)
    group.add_argument("--min-count", type=int, default=5)
    group.add_argument("--sample", type=float, default=1e-3)
    group.add_argument("--alpha", type=float, default=None,
                       help=f"learning rate (default: the model's: for word2vec with {TUNED} "
                            f"{TUNED_DEFAULTS['sg']['alpha']} in skip-gram and {TUNED_DEFAULTS['cbow']['alpha']} in "
                            "CBOW, measured for time to quality; gensim's 0.025 otherwise)")
    group.add_argument("--epochs", type=int, default=None,
                       help=f"(default {epochs}; {DOC2VEC_EPOCHS} for doc2vec, gensim's Doc2Vec default)")
    parser.set_defaults(default_epochs=epochs)
    group.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    group.add_argument("--cbow-mean", type=int, choices=(0, 1), default=1)
    group.add_argument("--seed", type=int, default=1)


    group = parser.add_argument_group("model options")
    group.add_argument("--model", choices=MODELS, default="word2vec",
                       help="word2vec (default), fasttext, or doc2vec (each line a document; --sg 1 is PV-DBOW, "
                            "--sg 0 PV-DM)")
    group.add_argument("--min-n", type=int, default=3, help="fasttext: shortest character n-gram (default 3)")
    group.add_argument("--max-n", type=int, default=6, help="fasttext: longest character n-gram (default 6)")
    group.add_argument("--bucket", type=int, default=2000000, help="fasttext: n-gram buckets (default 2000000)")
    group.add_argument("--dbow-words", type=int, choices=(0, 1), default=0,
                       help="doc2vec PV-DBOW: also train skip-gram word vectors (default 0)")


def _epochs(args):
    if args.epochs is not None:
        return args.epochs
    return DOC2VEC_EPOCHS if args.model == "doc2vec" else args.default_epochs


def _training_params(args):
    params = dict(sg=args.sg, vector_size=args.size, window=args.window, negative=args.negative,
                  ns_exponent=args.ns_exponent, min_count=args.min_count, sample=args.sample,
                  epochs=_epochs(args), workers=args.workers, cbow_mean=args.cbow_mean, seed=args.seed)
    if args.alpha is not None:   # else each model and loss takes its own default
        params["alpha"] = args.alpha
    if args.model == "fasttext":
        params.update(min_n=args.min_n, max_n=args.max_n, bucket=args.bucket)
    elif args.model == "doc2vec":
        params.update(dbow_words=args.dbow_words)
    return params


def _load_model(path):
    """A model saved by this package or by gensim (Word2Vec, FastText or Doc2Vec), as this package's class."""
    from gensim import utils

    from blackout_ext import Doc2Vec, FastText, Word2Vec, persistence

    model = persistence.load_checked(utils.SaveLoad.load, utils.SaveLoad, path)
    for cls in (Doc2Vec, FastText, Word2Vec):   # the first two are gensim Word2Vecs too
        if isinstance(model, cls.gensim_class):
            return model if isinstance(model, cls) else cls.from_gensim(model)
    raise _CliError(f"{path} holds a {type(model).__name__}, not a Word2Vec, FastText or Doc2Vec model")


def build_parser():
    parser = argparse.ArgumentParser(
        prog=PROG, description="Word2Vec, FastText and Doc2Vec with BlackOut, NCE, sampled and full softmax.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")
    sub = parser.add_subparsers(dest="command", required=True)

    compare = sub.add_parser("compare", parents=[common], help="train every mode on one corpus and compare them")
    compare.add_argument("corpus", nargs="?", default=None,
                         help="a text file, one sentence per line, plain, .gz or .bz2, or a URL "
                              "(default: the embedded WordNet glosses, 1.77M tokens)")
    compare.add_argument("--modes", default=",".join(LOSSES),
                         help="comma-separated (default: every loss); blackout+shared etc. add shared_samples=True")
    compare.add_argument("--heldout", type=float, default=0.1, help="fraction held out (default 0.1)")
    compare.add_argument("--heldout-sentences", type=int, default=1000,
                         help="score the perplexity on at most this many held-out sentences (default 1000)")
    compare.add_argument("--softmax-fraction", type=float, default=0.001,
                         help="the full softmax, O(|V| d) per prediction, trains on this share of the sentences "
                              "(default 0.001: about 20 s of the 3-minute run on the embedded corpus; 1 for all), "
                              "marked as a slice")
    compare.add_argument("--limit", type=int, default=None, help="read at most this many lines")
    compare.add_argument("--out", default=".", help="directory for the table, plots and report.md (default: here)")
    compare.add_argument("--no-plots", action="store_true")
    _add_training_options(compare, epochs=3)

    train = sub.add_parser("train", parents=[common], help="train one model")
    train.add_argument("corpus", nargs="?", default=None,
                       help="a text file, one sentence per line, plain, .gz or .bz2, or a URL (default, with no "
                            "--corpus-file either: the embedded WordNet glosses, 1.77M tokens)")
    train.add_argument("--corpus-file", default=None, help="an uncompressed file, read by the workers directly")
    train.add_argument("--loss", default="blackout",
                       help="; ".join(f"{loss.name}: {loss.summary}" for loss in LOSS_TABLE) + " (default blackout)")
    train.add_argument("--nce-normalizer", default="fixed", choices=("fixed", "learned"))
    train.add_argument("--shared-samples", action=argparse.BooleanOptionalAction, default=None,
                       help=f"skip-gram with {', '.join(SHARED_SAMPLE_LOSSES)}: one draw of samples per window "
                            "(default: on in word2vec skip-gram with those losses)")
    train.add_argument("--windows-per-draw", type=int, default=None, metavar="N",
                       help="with those losses, skip-gram or CBOW: one draw of samples serves N >= 2 consecutive "
                            "windows (shared_samples=N): the fastest setting, with worse vectors at equal epochs")
    train.add_argument("--save", default=None, help="save the full model here")
    train.add_argument("--vectors", default=None, help="write word2vec-format vectors here")
    train.add_argument("--binary", action="store_true", help="binary word2vec format")
    _add_training_options(train)

    evaluate = sub.add_parser("evaluate", parents=[common], help="score a saved model")
    evaluate.add_argument("model", help="a model saved by `train --save`")
    evaluate.add_argument("--heldout", default=None, help="held-out text for the perplexity")
    return parser


def _progress_callback(epochs, quiet):
    from blackout_ext.callbacks import ProgressBar

    return [] if quiet else [ProgressBar(epochs)]


def _cmd_compare(args):
    from blackout_ext.compare import MODES, compare_modes, load_sentences, split_corpus
    from blackout_ext.report import format_table, write_results

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise _CliError(f"unknown mode {unknown[0]!r}; choose from {', '.join(MODES)}")
    if not 0.0 < args.softmax_fraction <= 1.0:
        raise _CliError(f"--softmax-fraction must be in (0, 1], got {args.softmax_fraction}")
    sentences = load_sentences(args.corpus, limit=args.limit)
    if not sentences:
        raise _CliError("the corpus is empty")
    train, heldout = split_corpus(sentences, args.heldout)
    heldout = heldout[:args.heldout_sentences]
    params = _training_params(args)
    results = compare_modes(train, modes=modes, heldout=heldout, progress=not args.quiet,
                            dense_fraction=args.softmax_fraction, model=args.model, **params)
    print(format_table(results))
    settings = {
        "corpus": f"{args.corpus or 'the embedded WordNet glosses'}: {len(train)} training sentences, "
                  f"{sum(len(s) for s in train)} words; perplexity on {len(heldout)} held-out sentences",
        "model": args.model,
        "parameters": ", ".join(f"{k}={v}" for k, v in params.items()),
        "defaults": "each mode at its own defaults for alpha and shared_samples (not given): gensim's alpha=0.025 "
                    f"for {UNTUNED}; for {TUNED} in word2vec, alpha={TUNED_DEFAULTS['sg']['alpha']} with "
                    f"shared samples in skip-gram and alpha={TUNED_DEFAULTS['cbow']['alpha']} in CBOW "
                    "(chosen for time to quality)"
        if "alpha" not in params else "alpha as given, for every mode",
    }
    for path in write_results(results, args.out, plots=not args.no_plots, settings=settings):
        print(f"wrote {path}")


def _cmd_train(args):
    from blackout_ext.compare import as_documents, load_sentences, make_model

    if args.loss not in LOSSES:
        raise _CliError(f"unknown loss {args.loss!r}; choose from {', '.join(LOSSES)}")
    if args.corpus and args.corpus_file:
        raise _CliError("give either a corpus or --corpus-file, not both")
    if args.corpus_file and os.path.isdir(args.corpus_file):
        raise _CliError(f"--corpus-file {args.corpus_file} is a folder, not a file")
    if args.corpus_file and not os.path.isfile(args.corpus_file):
        raise _CliError(f"corpus file not found: {args.corpus_file}")
    params = dict(_training_params(args), nce_normalizer=args.nce_normalizer, compute_loss=True)
    if args.shared_samples is not None:
        params["shared_samples"] = args.shared_samples
    if args.windows_per_draw is not None:
        if args.shared_samples is False:
            raise _CliError(f"--windows-per-draw {args.windows_per_draw} contradicts --no-shared-samples")
        params["shared_samples"] = args.windows_per_draw
    model = make_model(args.model, None, dict(params, loss=args.loss))   # a loss, as Word2Vec(loss=) takes it
    if args.corpus_file:
        source = dict(corpus_file=args.corpus_file)
        model.build_vocab(corpus_file=args.corpus_file)
    else:
        sentences = load_sentences(args.corpus)
        source = dict(corpus_iterable=as_documents(sentences) if args.model == "doc2vec" else sentences)
        model.build_vocab(**source)
    model.train(**source, total_examples=model.corpus_count, total_words=model.corpus_total_words,
                epochs=model.epochs, compute_loss=True, callbacks=_progress_callback(model.epochs, args.quiet))
    print(model)
    if args.save:
        model.save(args.save)
        print(f"wrote {args.save}")
    if args.vectors:
        model.wv.save_word2vec_format(args.vectors, binary=args.binary)
        print(f"wrote {args.vectors}")


def _cmd_evaluate(args):
    from blackout_ext.compare import COVERAGE, as_documents, load_sentences, meaningful, quality_scores

    if not os.path.isfile(args.model):
        raise _CliError(f"model not found: {args.model}")
    model = _load_model(args.model)
    print(model)
    scores = quality_scores(model.wv)
    for name, (count, least) in COVERAGE.items():
        unit = "questions" if name == "analogy_accuracy" else "pairs"
        value = meaningful(scores, name)
        figure = "n/a" if value is None else f"{value:.4f}"
        print(f"{name}: {figure} (on {scores[count]} {unit} in the vocabulary; fewer than {least} print as n/a)")
    if args.heldout:
        heldout = load_sentences(args.heldout)
        if model.input_kind == InputKind.DOCUMENTS:
            heldout = [doc._replace(tags=[]) for doc in as_documents(heldout)]   # vectors inferred
        result = model.evaluate_log_likelihood(heldout)
        print(f"held-out perplexity: {result.perplexity:.2f} over {result.n_predictions} predictions")


def _check_values(args):
    """Refuse impossible training values before any corpus is read, as the models would."""
    from blackout_ext.checks import check_ns_exponent, check_training_values

    check_training_values(0.025 if args.alpha is None else args.alpha, 0.0, args.workers, args.sg, args.cbow_mean)
    check_ns_exponent(args.ns_exponent)
    for name, least in (("size", 1), ("window", 1), ("epochs", 1), ("min_count", 0)):
        value = getattr(args, name)
        if value is not None and value < least:
            raise ValueError(f"--{name.replace('_', '-')} must be >= {least}, got {value}")
    if not 0.0 <= args.sample < 1.0:   # NaN fails too
        raise ValueError(f"--sample must be in [0, 1), got {args.sample}")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.quiet:
        logging.getLogger("gensim").setLevel(logging.WARNING)
    command = {"compare": _cmd_compare, "train": _cmd_train, "evaluate": _cmd_evaluate}[args.command]
    try:
        if args.command != "evaluate":
            _check_values(args)
        command(args)
    except (_CliError, FileNotFoundError, ValueError, RuntimeError, OSError, TypeError) as err:
        message = str(err) or type(err).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
