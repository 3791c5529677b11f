"""Train every output layer on the same corpus with the same settings, and compare them.

Used by ``examples/compare_modes.py`` and ``python -m blackout_ext compare``. This module runs the
comparison (the models, the modes, the quality sets, time to quality); :mod:`blackout_ext.report`
writes its table, files and plots.
"""
import logging
import os
from dataclasses import asdict, dataclass, field
from timeit import default_timer

from gensim.test.utils import datapath

from blackout_ext import corpora
from blackout_ext.callbacks import EpochLoss, Evaluation, ProgressBar
from blackout_ext.evaluation import analogy_accuracy
from blackout_ext.losses import LOSSES, SHARED_SAMPLE_LOSSES
from blackout_ext.word2vec import Word2Vec

#: The models :func:`compare_modes` trains, by the CLI's ``--model`` name.
MODELS = ("word2vec", "fasttext", "doc2vec")
REFIND_DOCUMENTS = 500
"""Doc2Vec: how many training documents the re-find rate infers again."""

#: What :func:`compare_modes` accepts: every loss, and ``<loss>+shared`` for the sampled losses,
#: which trains that loss with ``shared_samples=True`` (skip-gram only).
SHARED_SUFFIX = "+shared"
MODES = LOSSES + tuple(loss + SHARED_SUFFIX for loss in SHARED_SAMPLE_LOSSES)
GENSIM_MODES = {"ns": dict(loss=None), "hs": dict(loss="hs")}
"""The modes trained by gensim's own kernels, the baselines, and their arguments: ``'ns'`` is
gensim's negative sampling (``loss=None``; ``loss='ns'`` trains it on this package's kernel,
which ``'ns+shared'`` does with shared samples), ``'hs'`` its hierarchical softmax."""


def mode_options(mode):
    """The :class:`~blackout_ext.Word2Vec` arguments that a mode name stands for.

    ``'blackout'`` -> ``{'loss': 'blackout'}``; ``'blackout+shared'`` -> ``{'loss': 'blackout',
    'shared_samples': True}``; ``'ns'`` -> ``{'loss': None}`` (gensim's, :data:`GENSIM_MODES`).
    """
    if mode in GENSIM_MODES:
        return dict(GENSIM_MODES[mode])
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
    ``dm=1`` (PV-DM). `mode` is one of :data:`MODES` (:func:`mode_options`), or None for a
    ``loss`` given in `params` as ``Word2Vec(loss=...)`` takes it (the CLI's ``train``).
    """
    from blackout_ext import Doc2Vec, FastText

    params = dict(params, **(mode_options(mode) if mode is not None else {}))
    if params.get("loss") == "hs":
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
        gensim_baseline = model.reports_gensim_loss and mode in GENSIM_MODES
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


#: A quality figure and the count it was computed on, with the least count that makes it a figure.
COVERAGE = {"simlex999": ("simlex999_pairs", MIN_PAIRS), "wordsim353": ("wordsim353_pairs", MIN_PAIRS),
            "analogy_accuracy": ("analogy_questions", MIN_QUESTIONS)}


def meaningful(result, metric):
    """The figure `metric` of `result` (a :class:`ModeResult`, or a dict of :func:`quality_scores`'
    fields), or None if it is NaN or was computed on too few pairs or questions."""
    figures = result if isinstance(result, dict) else vars(result)
    count, least = COVERAGE[metric]
    value = figures[metric]
    return value if figures[count] >= least and value == value else None


