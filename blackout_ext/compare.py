"""Train every output layer on the same corpus with the same settings, and compare them.

Used by ``examples/compare_modes.py`` and ``python -m blackout_ext compare``.
"""
import csv
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from timeit import default_timer

from gensim.test.utils import datapath

from blackout_ext import corpora
from blackout_ext.callbacks import EpochLoss, ProgressBar
from blackout_ext.losses import LOSSES, SHARED_SAMPLE_LOSSES
from blackout_ext.word2vec import Word2Vec

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

DEFAULT_CORPUS = datapath("lee_background.cor")
"""The embedded default corpus: gensim's bundled Lee background corpus."""

SIMILARITY_SETS = {"simlex999": "simlex999.txt", "wordsim353": "wordsim353.tsv"}
ANALOGY_SET = "questions-words.txt"


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
    epoch_losses: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)


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


def quality_scores(wv):
    """simlex999 and wordsim353 Spearman correlations, and analogy accuracy (gensim's test sets)."""
    scores = {}
    for name, filename in SIMILARITY_SETS.items():
        _, spearman, _ = wv.evaluate_word_pairs(datapath(filename))
        scores[name] = float(spearman[0]) if spearman[0] == spearman[0] else float("nan")
    accuracy, _ = wv.evaluate_word_analogies(datapath(ANALOGY_SET), restrict_vocab=30000)
    scores["analogy_accuracy"] = float(accuracy)
    return scores


def compare_modes(sentences, modes=LOSSES, heldout=None, progress=False, **params):
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
    **params
        Word2Vec parameters shared by all modes (``vector_size``, ``negative``, ``epochs``...).

    Returns
    -------
    list of :class:`ModeResult`
    """
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise ValueError(f"unknown mode(s) {', '.join(map(repr, unknown))}; choose from {', '.join(MODES)}")
    modes = ["ns"] + [m for m in modes if m != "ns"]
    n_words = sum(len(s) for s in sentences)
    results, ns_speed = [], None
    for mode in modes:
        recorder = EpochLoss()
        callbacks = [recorder] + ([ProgressBar(params.get("epochs", 5), desc=f"{mode:>16}")] if progress else [])
        mode_params = {k: v for k, v in params.items() if not (mode == "hs" and k == "negative")}
        model = Word2Vec(**mode_options(mode), **mode_params)
        model.build_vocab(sentences)
        start = default_timer()  # training only: the vocabulary scan is the same for every mode
        model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs, compute_loss=True,
                    callbacks=callbacks)
        seconds = default_timer() - start
        speed = n_words * model.epochs / seconds
        ns_speed = ns_speed or speed
        perplexity = model.evaluate_log_likelihood(heldout).perplexity if heldout else float("nan")
        results.append(ModeResult(
            mode=mode, train_seconds=seconds, words_per_second=speed, speed_vs_ns=speed / ns_speed,
            final_epoch_loss=float(recorder.per_epoch[-1]) if recorder.cumulative else float("nan"),
            heldout_perplexity=perplexity, epoch_losses=[float(x) for x in recorder.per_epoch],
            epoch_seconds=recorder.seconds,
            **quality_scores(model.wv)))
        logger.info("%s: %.1fs, %.0f words/s, perplexity %.1f", mode, seconds, speed, perplexity)
    return results


TABLE_COLUMNS = [
    ("mode", "mode", "{}"), ("train s", "train_seconds", "{:.2f}"), ("words/s", "words_per_second", "{:.0f}"),
    ("vs ns", "speed_vs_ns", "{:.2f}x"), ("final loss", "final_epoch_loss", "{:.4g}"),
    ("perplexity", "heldout_perplexity", "{:.1f}"), ("simlex999", "simlex999", "{:.3f}"),
    ("wordsim353", "wordsim353", "{:.3f}"), ("analogy", "analogy_accuracy", "{:.3f}"),
]


def format_table(results):
    """The results as a plain-text table, one row per mode."""
    header = [title for title, _, _ in TABLE_COLUMNS]
    rows = [[fmt.format(getattr(r, attr)) for _, attr, fmt in TABLE_COLUMNS] for r in results]
    widths = [max(len(x) for x in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _atomic_write(path, write):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "w", newline="") as fout:
            write(fout)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_results(results, out_dir, plots=True):
    """Write ``comparison.csv``, ``comparison.json`` and (with matplotlib) two PNG plots.

    Returns
    -------
    list of str
        The paths written.
    """
    os.makedirs(out_dir, exist_ok=True)
    written = []
    csv_path = os.path.join(out_dir, "comparison.csv")
    scalar = [name for name in asdict(results[0]) if name not in ("epoch_losses", "epoch_seconds")]

    def write_csv(fout):
        writer = csv.DictWriter(fout, fieldnames=scalar)
        writer.writeheader()
        for r in results:
            writer.writerow({k: v for k, v in asdict(r).items() if k in scalar})

    _atomic_write(csv_path, write_csv)
    written.append(csv_path)
    json_path = os.path.join(out_dir, "comparison.json")
    _atomic_write(json_path, lambda fout: json.dump([asdict(r) for r in results], fout, indent=2))
    written.append(json_path)
    if plots:
        written.extend(_plot(results, out_dir))
    return written


def _plot(results, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in results:
        first = r.epoch_losses[0] if r.epoch_losses and r.epoch_losses[0] else 1.0
        ax.plot(range(1, len(r.epoch_losses) + 1), [x / first for x in r.epoch_losses], marker="o", label=r.mode)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss / first epoch's")
    ax.set_title("Training loss per epoch (each mode's own objective)")
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out_dir, "loss_per_epoch.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for r in results:
        axes[0].scatter(r.train_seconds, r.heldout_perplexity, s=40)
        axes[0].annotate(r.mode, (r.train_seconds, r.heldout_perplexity), fontsize=8)
        axes[1].scatter(r.train_seconds, r.simlex999, s=40)
        axes[1].annotate(r.mode, (r.train_seconds, r.simlex999), fontsize=8)
    axes[0].set_xscale("log")
    axes[1].set_xscale("log")
    axes[0].set_xlabel("training time (s)")
    axes[1].set_xlabel("training time (s)")
    axes[0].set_ylabel("held-out perplexity (lower is better)")
    axes[1].set_ylabel("simlex999 Spearman (higher is better)")
    fig.suptitle("Quality against time")
    fig.tight_layout()
    path = os.path.join(out_dir, "quality_vs_time.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)
    return paths
