"""The comparison's report: the table, ``comparison.csv`` and ``.json`` (strict JSON), the plots and
``report.md``, each written atomically. :mod:`blackout_ext.compare` runs the comparison; this
module only presents its :class:`~blackout_ext.compare.ModeResult`\\ s.
"""
import csv
import json
import math
import os
import tempfile
from dataclasses import asdict

from blackout_ext.compare import COVERAGE, MIN_PAIRS, MIN_QUESTIONS, REFIND_DOCUMENTS, meaningful


TABLE_COLUMNS = [
    ("mode", "label", "{}"), ("train s", "train_seconds", "{:.2f}"), ("words/s", "words_per_second", "{:.0f}"),
    ("vs ns", "speed_vs_ns", "{:.3g}x"), ("own loss", "final_epoch_loss", "{:.4g}"),
    ("perplexity", "heldout_perplexity", "{:.1f}"), ("simlex999", "simlex999", "{:.3f}"),
    ("wordsim353", "wordsim353", "{:.3f}"), ("analogy", "analogy_accuracy", "{:.3f}"),
    ("to ns quality s", "seconds_to_ns_quality", "{:.2f}"), ("Q at ns time", "quality_at_ns_time", "{:.3f}"),
]


def table_columns(results):
    """The table's columns: :data:`TABLE_COLUMNS`, and Doc2Vec's re-find rate when there is one."""
    if any(r.refind_rate == r.refind_rate for r in results):
        return TABLE_COLUMNS + [("re-find", "refind_rate", "{:.3f}")]
    return TABLE_COLUMNS


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
