"""Train every output layer on the same corpus with the same settings, and compare them.

Used by ``examples/compare_modes.py`` and ``python -m blackout_ext compare``.
"""
import csv
import json
import logging
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from timeit import default_timer

from gensim.test.utils import datapath

from blackout_ext import corpora
from blackout_ext.callbacks import EpochLoss, Evaluation, ProgressBar
from blackout_ext.evaluation import analogy_accuracy
from blackout_ext.losses import GENSIM_LOSSES, LOSSES, SHARED_SAMPLE_LOSSES
from blackout_ext.word2vec import Word2Vec

#: The models :func:`compare_modes` trains, by the CLI's ``--model`` name.
MODELS = ("word2vec", "fasttext", "doc2vec")
REFIND_DOCUMENTS = 500
"""Doc2Vec: how many training documents the re-find rate infers again."""

#: What :func:`compare_modes` accepts: every loss, and ``<loss>+shared`` for the sampled losses,
#: which trains that loss with ``shared_samples=True`` (skip-gram only).
SHARED_SUFFIX = "+shared"
MODES = LOSSES + tuple(loss + SHARED_SUFFIX for loss in SHARED_SAMPLE_LOSSES)


def mode_options(mode):
    """The :class:`~blackout_ext.Word2Vec` arguments that a mode name stands for.

    ``'blackout'`` -> ``{'loss': 'blackout'}``; ``'blackout+shared'`` -> ``{'loss': 'blackout',
    'shared_samples': True}``.
    """
    if mode.endswith(SHARED_SUFFIX):
        return dict(loss=mode[:-len(SHARED_SUFFIX)], shared_samples=True)
    return dict(loss=mode)


logger = logging.getLogger(__name__)

DEFAULT_CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "wordnet-glosses.txt.gz")
"""The embedded default corpus: WordNet 3.0's glosses, 1.77M tokens (``data/WORDNET-LICENSE``)."""

SIMILARITY_SETS = {"simlex999": "simlex999.txt", "wordsim353": "wordsim353.tsv"}
ANALOGY_SET = "questions-words.txt"
MIN_PAIRS = 100
"""A similarity figure computed on fewer in-vocabulary pairs than this prints as n/a."""
MIN_QUESTIONS = 300
"""An analogy figure computed on fewer in-vocabulary questions than this prints as n/a."""


@dataclass
class ModeResult:
    """One row of the comparison."""

    mode: str
    train_seconds: float
    words_per_second: float
    speed_vs_ns: float
    final_epoch_loss: float
    heldout_perplexity: float
    simlex999: float
    wordsim353: float
    analogy_accuracy: float
    simlex999_pairs: int = 0
    wordsim353_pairs: int = 0
    analogy_questions: int = 0
    corpus_fraction: float = 1.0
    refind_rate: float = float("nan")
    seconds_to_ns_quality: float = float("nan")
    quality_at_ns_time: float = float("nan")
    epoch_losses: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)
    curve: list = field(default_factory=list)
    """The :class:`~blackout_ext.callbacks.Evaluation` records of each epoch's end."""

    @property
    def label(self):
        """The mode, marked when it trained on a slice of the corpus."""
        if self.corpus_fraction < 1.0:
            return f"{self.mode} [{self.corpus_fraction:.1%} slice]"
        return self.mode


def split_corpus(sentences, heldout_fraction=0.1):
    """Split a list of sentences into (train, held-out): every 1/fraction-th sentence is held out."""
    step = max(2, int(round(1.0 / heldout_fraction))) if heldout_fraction > 0 else 0
    if not step:
        return list(sentences), []
    train = [s for i, s in enumerate(sentences) if i % step != step - 1]
    heldout = [s for i, s in enumerate(sentences) if i % step == step - 1]
    return train, heldout


def load_sentences(path=None, limit=None):
    """Read a corpus (plain, .gz, .bz2, or a URL), one sentence per line; the default corpus if None."""
    return corpora.load_sentences(path or DEFAULT_CORPUS, limit=limit)


def _count_pairs(path):
    # the pairs of a similarity file as gensim reads them: word, word, score, '#' for comments
    with open(path, encoding="utf8") as fin:
        return sum(1 for line in fin if not line.startswith("#") and len(line.split("\t")) >= 3)


def quality_scores(wv):
    """simlex999 and wordsim353 Spearman correlations, and analogy accuracy (gensim's test sets).

    Returns
    -------
    dict
        ``simlex999``, ``wordsim353``, ``analogy_accuracy``, and how many pairs or questions
        each was computed on: ``simlex999_pairs``, ``wordsim353_pairs``, ``analogy_questions``
        (only those whose words are all in the vocabulary count).
    """
    scores = {}
    for name, filename in SIMILARITY_SETS.items():
        _, spearman, oov_percent = wv.evaluate_word_pairs(datapath(filename))
        scores[name] = float(spearman[0]) if spearman[0] == spearman[0] else float("nan")
        scores[f"{name}_pairs"] = int(round(_count_pairs(datapath(filename)) * (1.0 - oov_percent / 100.0)))
    accuracy, questions = analogy_accuracy(wv, datapath(ANALOGY_SET), restrict_vocab=30000)
    scores["analogy_accuracy"] = float(accuracy)
    scores["analogy_questions"] = questions
    return scores


def make_model(model, mode, params):
    """An untrained model of kind `model` (one of :data:`MODELS`) for `mode`, with `params`.

    `params` are Word2Vec's; for Doc2Vec, ``sg=1`` becomes ``dm=0`` (PV-DBOW), and ``sg=0``
    ``dm=1`` (PV-DM).
    """
    from blackout_ext import Doc2Vec, FastText

    params = dict(params, **mode_options(mode))
    if mode == "hs":
        params.pop("negative", None)
    if model == "word2vec":
        return Word2Vec(**params)
    if model == "fasttext":
        return FastText(**params)
    if model == "doc2vec":
        params["dm"] = 0 if params.pop("sg", 0) else 1
        return Doc2Vec(**params)
    raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")


def as_documents(sentences):
    """Sentences as Doc2Vec's documents, each tagged by its position."""
    from gensim.models.doc2vec import TaggedDocument

    return [TaggedDocument(words, [i]) for i, words in enumerate(sentences)]


def refind_rate(model, documents, n=REFIND_DOCUMENTS):
    """Doc2Vec: the share of `n` training documents (evenly spread) whose inferred vector's nearest
    document vector is their own."""
    step = max(1, len(documents) // n)
    sample = documents[::step][:n]
    hits = sum(model.dv.most_similar([model.infer_vector(doc.words)], topn=1)[0][0] == doc.tags[0]
               for doc in sample)
    return hits / max(len(sample), 1)


def compare_modes(sentences, modes=LOSSES, heldout=None, progress=False, dense_fraction=None, model="word2vec",
                  **params):
    """Train each mode on `sentences` with the same `params`; score each one.

    Parameters
    ----------
    sentences : list of list of str
        Training corpus.
    modes : sequence of str, optional
        Losses to compare (``ns`` is always trained first: it is the speed reference), from
        :data:`MODES`: ``'blackout+shared'`` is ``loss='blackout', shared_samples=True``.
    heldout : list of list of str, optional
        Held-out sentences for the perplexity.
    progress : bool, optional
        Show a tqdm progress bar per mode.
    dense_fraction : float, optional
        Train the full softmax (O(|V| d) per prediction) on only the first this share of the
        sentences, over the same vocabulary, and mark its row as a slice. None: all of them.
    model : {'word2vec', 'fasttext', 'doc2vec'}, optional
        The model to train. Doc2Vec tags each sentence as a document by its position, is
        scored on held-out documents with inferred vectors, and reports the re-find rate.
    **params
        Word2Vec parameters shared by all modes (``vector_size``, ``negative``, ``epochs``...).

    Returns
    -------
    list of :class:`ModeResult`
    """
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise ValueError(f"unknown mode(s) {', '.join(map(repr, unknown))}; choose from {', '.join(MODES)}")
    if dense_fraction is not None and not 0.0 < dense_fraction <= 1.0:
        raise ValueError(f"dense_fraction must be in (0, 1], got {dense_fraction!r}")
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    kind = model
    if kind == "doc2vec":
        sentences = as_documents(sentences)
        heldout = [doc._replace(tags=[f"heldout{i}"]) for i, doc in enumerate(as_documents(heldout or []))]
    modes = ["ns"] + [m for m in modes if m != "ns"]
    results, ns_speed = [], None
    for mode in modes:
        model = make_model(kind, mode, params)
        model.build_vocab(sentences)
        fraction = dense_fraction if (dense_fraction and model.dense_output) else 1.0
        corpus = sentences[:max(1, int(round(len(sentences) * fraction)))] if fraction < 1.0 else sentences
        corpus_words = model._raw_word_count(corpus) if fraction < 1.0 else model.corpus_total_words
        recorder = EpochLoss()
        evaluation = Evaluation(heldout=heldout or None, quality=True)
        callbacks = [recorder, evaluation] + ([ProgressBar(model.epochs, desc=f"{mode:>16}")] if progress else [])
        model.corpus_total_words = corpus_words  # what the progress bar counts
        start = default_timer()  # training only: the vocabulary scan is the same for every mode
        # gensim's FastText and Doc2Vec kernels compute no loss; with compute_loss this package's
        # kernels would train their ns and hs, and the baseline would no longer be gensim's
        gensim_baseline = model.reports_gensim_loss and mode in GENSIM_LOSSES
        model.train(corpus, total_examples=len(corpus), epochs=model.epochs, compute_loss=not gensim_baseline,
                    callbacks=callbacks)
        seconds = default_timer() - start - evaluation.eval_seconds   # the evaluations' own time left out
        speed = corpus_words * model.epochs / seconds
        ns_speed = ns_speed or speed
        final = evaluation.records[-1]
        perplexity = final.get("perplexity", float("nan"))
        extra = dict(refind_rate=refind_rate(model, corpus)) if kind == "doc2vec" else {}
        results.append(ModeResult(
            mode=mode, train_seconds=seconds, words_per_second=speed, speed_vs_ns=speed / ns_speed,
            final_epoch_loss=float(recorder.per_epoch[-1]) if recorder.cumulative and not gensim_baseline
            else float("nan"),
            heldout_perplexity=perplexity,
            epoch_losses=[] if gensim_baseline else [float(x) for x in recorder.per_epoch],
            epoch_seconds=recorder.seconds, corpus_fraction=fraction, curve=evaluation.records,
            **{name: final[name] for name in QUALITY_FIELDS}, **extra))
        logger.info("%s: %.1fs, %.0f words/s, perplexity %.1f", mode, seconds, speed, perplexity)
    add_time_to_quality(results)
    return results


QUALITY_FIELDS = ("simlex999", "wordsim353", "analogy_accuracy", "simlex999_pairs", "wordsim353_pairs",
                  "analogy_questions")


def relative_quality(record, reference):
    """The mean over the quality sets of (`record`'s score / `reference`'s), on the sets where the
    reference's figure is meaningful (:func:`meaningful`); None if there is none.

    Both are dicts (or :class:`ModeResult`\\ s as dicts) with the fields of :func:`quality_scores`.
    """
    ratios = []
    for metric in COVERAGE:
        base, value = meaningful(reference, metric), record[metric]
        if base is not None and base > 0 and value == value:
            ratios.append(value / base)
    return sum(ratios) / len(ratios) if ratios else None


def add_time_to_quality(results):
    """Set each result's ``seconds_to_ns_quality`` (the training time of its first evaluation whose
    :func:`relative_quality` to ns's final figures is >= 1) and ``quality_at_ns_time`` (its relative
    quality at the last evaluation within ns's training time); nan where the quality sets are n/a."""
    reference = asdict(results[0])
    budget = results[0].train_seconds
    for result in results:
        if result.corpus_fraction < 1.0:
            continue   # a slice of the corpus: its quality does not compare (nan, printed n/a)
        qualities = [(record["train_seconds"], relative_quality(record, reference)) for record in result.curve]
        reached = [seconds for seconds, q in qualities if q is not None and q >= 1.0]
        result.seconds_to_ns_quality = reached[0] if reached else float("nan")
        within = [q for seconds, q in qualities if q is not None and seconds <= budget]
        result.quality_at_ns_time = within[-1] if within else float("nan")


TABLE_COLUMNS = [
    ("mode", "label", "{}"), ("train s", "train_seconds", "{:.2f}"), ("words/s", "words_per_second", "{:.0f}"),
    ("vs ns", "speed_vs_ns", "{:.3g}x"), ("own loss", "final_epoch_loss", "{:.4g}"),
    ("perplexity", "heldout_perplexity", "{:.1f}"), ("simlex999", "simlex999", "{:.3f}"),
    ("wordsim353", "wordsim353", "{:.3f}"), ("analogy", "analogy_accuracy", "{:.3f}"),
    ("to ns quality s", "seconds_to_ns_quality", "{:.2f}"), ("Q at ns time", "quality_at_ns_time", "{:.3f}"),
]
#: A quality figure and the count it was computed on, with the least count that makes it a figure.
COVERAGE = {"simlex999": ("simlex999_pairs", MIN_PAIRS), "wordsim353": ("wordsim353_pairs", MIN_PAIRS),
            "analogy_accuracy": ("analogy_questions", MIN_QUESTIONS)}


def table_columns(results):
    """The table's columns: :data:`TABLE_COLUMNS`, and Doc2Vec's re-find rate when there is one."""
    if any(r.refind_rate == r.refind_rate for r in results):
        return TABLE_COLUMNS + [("re-find", "refind_rate", "{:.3f}")]
    return TABLE_COLUMNS


def meaningful(result, metric):
    """The figure `metric` of `result` (a :class:`ModeResult`, or a dict of :func:`quality_scores`'
    fields), or None if it is NaN or was computed on too few pairs or questions."""
    figures = result if isinstance(result, dict) else vars(result)
    count, least = COVERAGE[metric]
    value = figures[metric]
    return value if figures[count] >= least and value == value else None


def _cell(result, attr, fmt):
    if attr in COVERAGE and meaningful(result, attr) is None:
        return "n/a"
    if attr == "final_epoch_loss" and result.final_epoch_loss != result.final_epoch_loss:
        return "n/a"   # gensim's FastText and Doc2Vec kernels compute none
    value = getattr(result, attr)
    if isinstance(value, float) and value != value:
        return "n/a"
    return fmt.format(getattr(result, attr))


def format_table(results):
    """The results as a plain-text table, one row per mode, and a line on what the quality figures cover.

    A quality figure computed on fewer than :data:`MIN_PAIRS` pairs (:data:`MIN_QUESTIONS`
    questions) in the vocabulary prints as n/a.
    """
    columns = table_columns(results)
    header = [title for title, _, _ in columns]
    rows = [[_cell(r, attr, fmt) for _, attr, fmt in columns] for r in results]
    widths = [max(len(x) for x in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    table = [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
    return "\n".join(table + ["", coverage_note(results[0])])


def coverage_note(result):
    """One line: how many pairs and questions of each evaluation set were in the vocabulary."""
    return (f"in the vocabulary: simlex999 {result.simlex999_pairs}/999 pairs, wordsim353 "
            f"{result.wordsim353_pairs}/353 pairs, questions-words {result.analogy_questions}/19544 questions "
            f"(a figure on fewer than {MIN_PAIRS} pairs or {MIN_QUESTIONS} questions prints as n/a)")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path, write):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp makes it 0600; the file follows the umask, as the plots do
        with os.fdopen(fd, "w", newline="") as fout:
            write(fout)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_results(results, out_dir, plots=True, settings=None):
    """Write ``comparison.csv``, ``comparison.json``, two PNG plots and ``report.md``.

    Parameters
    ----------
    results : list of :class:`ModeResult`
    out_dir : str
        The folder (made if missing).
    plots : bool, optional
        Draw the plots (matplotlib).
    settings : dict, optional
        What the run was (corpus, parameters): printed in the report.

    Returns
    -------
    list of str
        The paths written.
    """
    os.makedirs(out_dir, exist_ok=True)
    written = []
    csv_path = os.path.join(out_dir, "comparison.csv")
    scalar = [name for name in asdict(results[0]) if name not in ("epoch_losses", "epoch_seconds", "curve")]

    def write_csv(fout):
        writer = csv.DictWriter(fout, fieldnames=scalar)
        writer.writeheader()
        for r in results:
            writer.writerow({k: v for k, v in asdict(r).items() if k in scalar})

    _atomic_write(csv_path, write_csv)
    written.append(csv_path)
    json_path = os.path.join(out_dir, "comparison.json")
    _atomic_write(json_path, lambda fout: json.dump([json_safe(asdict(r)) for r in results], fout, indent=2,
                                                    allow_nan=False))
    written.append(json_path)
    figures = _plot(results, out_dir) if plots else []
    written.extend(figures)
    report_path = os.path.join(out_dir, "report.md")
    _atomic_write(report_path, lambda fout: fout.write(report(results, settings or {}, figures)))
    written.append(report_path)
    return written


def json_safe(value):
    """`value` with every NaN or infinite float replaced by None (``null``): strict JSON has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _machine():
    import platform

    import gensim
    import numpy

    from blackout_ext import __version__

    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": f"blackout_ext {__version__}, gensim {gensim.__version__}, numpy {numpy.__version__}",
    }


def report(results, settings, figures=()):
    """The comparison as Markdown: what was run, on what, the table, and the plots."""
    lines = ["# Output layers compared", ""]
    for key, value in list(settings.items()) + list(_machine().items()):
        lines.append(f"- **{key}**: {value}")
    lines += ["", "Speed is words per second of training (the vocabulary scan excluded), and its ratio to",
              "gensim's negative sampling in the same run. Perplexity is exact, on held-out sentences.",
              "simlex999 and wordsim353 are Spearman correlations with human judgements; analogy is the",
              "accuracy on gensim's questions-words (3CosAdd).", ""]
    if any(r.refind_rate == r.refind_rate for r in results):
        lines += ["Doc2Vec: each sentence is a document, tagged by its position. Perplexity is on held-out",
                  "documents, each with a vector from `infer_vector`; re-find is the share of (up to "
                  f"{REFIND_DOCUMENTS}) training",
                  "documents whose inferred vector finds their own document's vector first.", ""]
    sliced = [r for r in results if r.corpus_fraction < 1.0]
    for r in sliced:
        lines += [f"The full softmax costs O(|V| d) per prediction, so `{r.mode}` trained on the first "
                  f"{r.corpus_fraction:.1%} of the sentences only, over the same vocabulary: its speed compares "
                  "with the others, its quality does not.", ""]
    lines += [TIME_TO_QUALITY_NOTE, "", OWN_LOSS_NOTE, ""]
    if any(r.mode == "ns" for r in results) and not any(r.refind_rate == r.refind_rate for r in results):
        lines += [NS_PERPLEXITY_NOTE, ""]
    columns = table_columns(results)
    header = [title for title, _, _ in columns]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for r in results:
        lines.append("| " + " | ".join(_cell(r, attr, fmt) for _, attr, fmt in columns) + " |")
    lines += ["", coverage_note(results[0]) + ".", ""]
    for path in figures:
        name = os.path.basename(path)
        lines += [f"![{name}]({name})", ""]
    if any(os.path.basename(p) == "loss_per_epoch.png" for p in figures):
        lines += [LOSS_PLOT_NOTE, ""]
    return "\n".join(lines)


TIME_TO_QUALITY_NOTE = (
    "Every mode is evaluated at each epoch's end (the evaluations' own time is left out of the training "
    "time). \"to ns quality s\" is the training time at the first evaluation whose quality Q, the mean over "
    "simlex999, wordsim353 and analogies of (score / ns's final score, where ns's figure is not n/a), is at "
    "least ns's final quality (Q = 1); \"Q at ns time\" is each mode's Q at its last evaluation within the "
    "time ns trained. An evaluation within a run is taken while the learning rate is still high, so a run of "
    "fewer epochs would score better at the same time: `benchmarks/bench_time_to_quality.py` measures that.")
OWN_LOSS_NOTE = (
    "\"own loss\" is the last epoch's training loss of each mode's own objective (negative sampling, NCE, "
    "sampled softmax, BlackOut, the exact softmax, hierarchical softmax): the objectives differ, so the column "
    "compares a mode with itself across runs, never with another mode. Perplexity is the one figure of fit "
    "that all modes share.")
NS_PERPLEXITY_NOTE = (
    "Negative sampling (`ns`) does not train a normalised model: its scores are not log-probabilities, so its "
    "perplexity (of the softmax over its scores, as for every mode) is far higher than the others' although its "
    "vectors can be as good.")

LOSS_PLOT_NOTE = (
    "Each mode's loss is its own objective (negative sampling, NCE, sampled softmax, BlackOut, the exact "
    "softmax, hierarchical softmax), summed over an epoch and divided by its first epoch's: the curves show "
    "how each converges, not which is better. It is an online loss: each prediction is scored just before "
    "its own update, at that moment's learning rate. While the rate is high, a prediction profits from the "
    "updates of the windows just before it, which share its sentence; as the rate decays to zero in the last "
    "epoch that help fades, so the last epoch's loss can rise although the model improves (with a constant "
    "rate, `min_alpha=alpha`, it falls every epoch). The new losses start from the unigram model (the output "
    "bias), so their first epoch is already low.")

_MARKERS = "osD^vP*Xhp<>"
def curve_points(result, metric):
    """``(training seconds, value)`` of `result`'s evaluations for `metric`, where it is a figure:
    the quality sets where they cover enough pairs or questions, the perplexity of every mode but ns."""
    points = []
    for record in result.curve:
        value = meaningful(record, metric) if metric in COVERAGE else record.get(metric)
        if value is None or value != value:
            continue
        if metric == "perplexity" and result.mode == "ns":
            continue
        points.append((record["train_seconds"], value))
    return points


EMPTY_PANEL_NOTE = {
    "perplexity": "n/a: no held-out text",
    "simlex999": f"n/a: fewer than {MIN_PAIRS} of simlex999's pairs\nare in the vocabulary",
    "wordsim353": f"n/a: fewer than {MIN_PAIRS} of wordsim353's pairs\nare in the vocabulary",
    "analogy_accuracy": f"n/a: fewer than {MIN_QUESTIONS} analogy questions\nare in the vocabulary",
}
"""What an empty quality panel says instead of its points."""


def _plot(results, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    style = {r.label: dict(color=colors[i % len(colors)], marker=_MARKERS[i % len(_MARKERS)])
             for i, r in enumerate(results)}

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for r in results:
        if not r.epoch_losses:
            continue   # gensim's FastText and Doc2Vec kernels report no loss
        first = r.epoch_losses[0] if r.epoch_losses[0] else 1.0
        ax.plot(range(1, len(r.epoch_losses) + 1), [x / first for x in r.epoch_losses], label=r.label,
                **style[r.label])
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss / first epoch's loss")
    ax.set_title("Training loss per epoch, each mode's own objective")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(out_dir, "loss_per_epoch.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)

    panels = [("perplexity", "held-out perplexity (lower is better)"),
              ("simlex999", "simlex999 Spearman (higher is better)"),
              ("wordsim353", "wordsim353 Spearman (higher is better)"),
              ("analogy_accuracy", "analogy accuracy (higher is better)")]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    for ax, (metric, title) in zip(axes.flat, panels):
        drawn = 0
        for r in results:
            points = curve_points(r, metric)
            if not points:
                continue
            ax.plot([x for x, _ in points], [y for _, y in points], label=r.label, **style[r.label])
            drawn += 1
        if not drawn:
            ax.text(0.5, 0.5, EMPTY_PANEL_NOTE.get(metric, "n/a"), ha="center", va="center", transform=ax.transAxes,
                    fontsize=9, wrap=True)
        if metric == "perplexity" and any(r.mode == "ns" for r in results):
            title += "\nns left out: not a normalised model"
        ax.set_xlabel("training time (s)")
        ax.set_title(title, fontsize=10)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    handles = [plt.Line2D([], [], markersize=7, label=r.label, **style[r.label]) for r in results]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(results), 4), fontsize=9, frameon=False)
    fig.suptitle("Quality against training time, evaluated at each epoch's end")
    fig.tight_layout(rect=(0, 0.08, 1, 0.97))
    path = os.path.join(out_dir, "quality_vs_time.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)
    return paths
