"""The output layers shared by :class:`~blackout_ext.Word2Vec`, :class:`~blackout_ext.FastText`
and :class:`~blackout_ext.Doc2Vec`: the checks of their parameters, the noise tables, the output
bias and NCE's normalisers, the training job and epoch hooks, prediction, and persistence.

:class:`OutputLayerMixin` goes before gensim's class in each model's bases, so that its methods
wrap gensim's through ``super()``. A model class says what its input rows are (``input_kind``,
read by the kernels) and how a job reaches the kernels (:meth:`OutputLayerMixin._kernel_job`).
"""
import contextlib
import inspect
import logging
import math
import numbers
import os
import threading

import numpy as np
from gensim import utils

from blackout_ext import _epochs, _inner, _vocab, persistence
from blackout_ext._blas import single_threaded_blas
from blackout_ext.losses import (  # noqa: F401  (LOSSES and the lists are this module's API too)
    BIAS_LOSSES, GENSIM_LOSSES, KERNEL_LOSSES, LOSSES, NEW_LOSSES, SHARED_SAMPLE_LOSSES, loss_spec,
)

logger = logging.getLogger(__name__)

NCE_NORMALIZERS = ("fixed", "learned")
SOFTMAX_WARN_VOCAB = 20000
"""``loss="softmax"`` logs a warning on vocabularies larger than this."""

_DEFAULT_NEGATIVE = 5
_LOSS_LOCK = threading.Lock()
_SOFTMAX_LOCK = threading.Lock()
_TABLES_LOCK = threading.Lock()   # two infer_vector calls at once build a table once, not twice
_WEIGHT_LIMIT = 1e12  # BO_WEIGHT_LIMIT in bo_vec.h: the kernels clamp every weight to +-this


def _at_weight_limit(*arrays):
    # max and min, not abs(): no temporary copy of a matrix that may be gigabytes
    return any(a.size and max(float(a.max()), -float(a.min())) >= _WEIGHT_LIMIT for a in arrays)


def resolve_output_layer(loss, hs, negative, nce_normalizer="fixed"):
    """Check that `loss`, `hs`, `negative` and `nce_normalizer` agree, and fill in defaults.

    Parameters
    ----------
    loss : str or None
        One of :data:`LOSSES`, or None for gensim's own behaviour.
    hs : {0, 1} or None
        None means "not given".
    negative : int or None
        None means "not given".
    nce_normalizer : {'fixed', 'learned'}
        How NCE's normaliser ``c = log Z`` is handled.

    Returns
    -------
    (str or None, int, int)
        ``(loss, hs, negative)`` as the model stores them.

    Raises
    ------
    ValueError
        If a value is unknown or the combination contradicts itself.
    """
    if nce_normalizer not in NCE_NORMALIZERS:
        raise ValueError(
            f"unknown nce_normalizer {nce_normalizer!r}; choose one of {', '.join(map(repr, NCE_NORMALIZERS))}")
    spec = loss_spec(loss)
    if nce_normalizer != "fixed" and not (spec and spec.learned_normalizer):
        learned = [name for name in LOSSES if loss_spec(name).learned_normalizer]
        raise ValueError(f"nce_normalizer={nce_normalizer!r} applies to loss={learned[0]!r} only, not loss={loss!r}"
                         if len(learned) == 1 else
                         f"nce_normalizer={nce_normalizer!r} applies to loss in {learned}, not loss={loss!r}")
    if hs is not None and hs not in (0, 1):
        raise ValueError(f"hs must be 0 or 1, got {hs!r}")
    if negative is not None and (not isinstance(negative, numbers.Integral) or isinstance(negative, bool)):
        raise ValueError(f"negative must be an integer, got {negative!r}")
    if loss is None:
        return None, int(hs or 0), _DEFAULT_NEGATIVE if negative is None else int(negative)
    if loss == "hs":
        if hs == 0:
            raise ValueError("loss='hs' contradicts hs=0; leave hs unset")
        if negative:
            raise ValueError(f"loss='hs' contradicts negative={negative}: hierarchical softmax draws no samples; "
                             "leave negative unset")
        return "hs", 1, 0
    if hs:
        raise ValueError(f"loss={loss!r} contradicts hs=1; leave hs unset (or use loss='hs')")
    negative = _DEFAULT_NEGATIVE if negative is None else int(negative)
    if negative < 1:
        what = "the size of syn1neg's sampling buffer" if spec.dense else "the number of noise samples k"
        raise ValueError(f"loss={loss!r} needs negative >= 1 ({what}), got negative={negative}")
    return loss, 0, negative


def check_ns_exponent(ns_exponent):
    """Refuse an `ns_exponent` that is not a finite number."""
    try:
        value = float(ns_exponent)
    except (TypeError, ValueError):
        raise ValueError(f"ns_exponent must be a finite number, got {ns_exponent!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"ns_exponent must be a finite number, got {ns_exponent!r}")
    return value


_LARGE_ALPHA = 1.0
"""A learning rate above this logs a warning: word2vec's rates are 0.01-0.1, and 1e6 gives vectors of 1e12."""


def check_training_values(alpha, min_alpha, workers, sg, cbow_mean):
    """Refuse values that gensim accepts silently and then trains nothing, or garbage, with.

    Raises
    ------
    ValueError
        If `alpha` or `min_alpha` is not a finite number >= 0, `workers` is not an integer >= 1,
        or `sg` or `cbow_mean` is not 0 or 1. Each message names the parameter.
    """
    for name, value in (("alpha", alpha), ("min_alpha", min_alpha)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}") from None
        if not (math.isfinite(number) and number >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if not isinstance(workers, numbers.Integral) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    for name, value in (("sg", sg), ("cbow_mean", cbow_mean)):
        if value not in (0, 1):
            raise ValueError(f"{name} must be 0 or 1, got {value!r}")
    if float(alpha) > _LARGE_ALPHA:
        logger.warning("alpha=%g is far above word2vec's usual 0.01-0.1: training will probably diverge "
                       "(the kernels clamp weights at +-%g)", float(alpha), _WEIGHT_LIMIT)


def check_noise_overflow(counts, ns_exponent):
    """Refuse an `ns_exponent` for which ``count ** ns_exponent`` summed over the vocabulary overflows
    float64, as gensim's ``cum_table`` computes it (it fails deep inside with a NaN otherwise)."""
    if not len(counts):
        return
    log_largest = float(ns_exponent) * math.log(max(float(np.max(counts)), 1.0)) + math.log(len(counts))
    if log_largest >= math.log(np.finfo(np.float64).max):
        raise ValueError(f"ns_exponent={ns_exponent!r} is too large for this vocabulary: count ** ns_exponent "
                         f"overflows (the largest count is {int(np.max(counts))}); use a value such as 0.75")


def check_shared_samples(shared_samples, loss, sg):
    """Refuse `shared_samples` where it has no meaning: only sampled losses in skip-gram draw per pair."""
    if not isinstance(shared_samples, (bool, np.bool_)):
        raise ValueError(f"shared_samples must be True or False, got {shared_samples!r}")
    if not shared_samples:
        return
    if loss not in SHARED_SAMPLE_LOSSES:
        raise ValueError(f"shared_samples=True applies to loss in {SHARED_SAMPLE_LOSSES}, not loss={loss!r}")
    if not sg:
        raise ValueError("shared_samples=True applies to skip-gram (sg=1) only: CBOW already makes one "
                         "prediction, with one draw of samples, per window")


def check_output_bias(output_bias, loss):
    """Resolve `output_bias`: None means on for this package's losses and off for gensim's.

    Returns
    -------
    bool
        Whether the model keeps an output bias ``syn1neg_bias``.

    Raises
    ------
    ValueError
        If `output_bias` is not None or a bool, or is True for a loss without a bias.
    """
    if output_bias is None:
        return loss in BIAS_LOSSES
    if not isinstance(output_bias, (bool, np.bool_)):
        raise ValueError(f"output_bias must be True, False or None, got {output_bias!r}")
    if output_bias and loss not in BIAS_LOSSES:
        raise ValueError(f"output_bias=True applies to loss in {BIAS_LOSSES}, not loss={loss!r}: "
                         "gensim's ns and hs have no output bias")
    return bool(output_bias)


def unigram_log_probabilities(counts):
    """``log(count_w / total)`` in float32: where the output bias of each word starts.

    The noise distribution with exponent 1; a count below 1 is taken as 1, so that every word
    has a finite start.
    """
    if not len(counts):
        return np.zeros(0, dtype=np.float32)
    return noise_log_probabilities(counts, 1.0).astype(np.float32)


def noise_log_probabilities(counts, ns_exponent):
    """Exact ``log q_w`` for ``q_w = count_w ** ns_exponent / sum(count ** ns_exponent)``.

    Computed in float64 from the counts (never from gensim's integer ``cum_table``, which
    rounds rare words to ``q = 0``). A count below 1 is taken as 1.
    """
    log_weights = float(ns_exponent) * np.log(np.maximum(np.asarray(counts, dtype=np.float64), 1.0))
    top = log_weights.max()
    return log_weights - (top + np.log(np.exp(log_weights - top).sum()))


def corpus_file_path(corpus_file):
    """`corpus_file` as the ``str`` gensim's readers take (a :class:`pathlib.Path` too; None stays None).

    Raises
    ------
    TypeError
        If it is neither None, a str nor a path-like object.
    ValueError
        If it names a folder.
    """
    if corpus_file is None:
        return None
    if not isinstance(corpus_file, (str, os.PathLike)):
        raise TypeError(f"corpus_file must be a path (str or os.PathLike), got {type(corpus_file).__name__}")
    path = os.fspath(corpus_file)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if os.path.isdir(path):
        raise ValueError(f"corpus_file {path!r} is a folder, not a file")
    return path


def written_zeros(array):
    """An array of zeros like `array`, with every page written (mapped) before it is returned."""
    out = np.empty_like(array)
    out.fill(0)
    return out


def flatten_ragged(rows, n, dtype):
    """The first `n` of `rows` (arrays of varying length) as two flat arrays, as the kernels read them.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``start`` (int64, n + 1 entries) and ``flat`` (`dtype`): row ``i`` is
        ``flat[start[i]:start[i + 1]]``. ``flat`` has one spare element, so it is never empty.
    """
    lengths = np.fromiter((len(rows[i]) for i in range(n)), dtype=np.int64, count=n)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=start[1:])
    flat = np.zeros(int(start[-1]) + 1, dtype=dtype)
    if start[-1]:
        flat[:start[-1]] = np.concatenate([np.asarray(rows[i], dtype=dtype) for i in range(n)])
    return start, flat


def named_arrays(owner, prefix, names):
    """``(prefix + name, array)`` for each of `names` that `owner` holds as a numpy array."""
    arrays = [(prefix + name, getattr(owner, name, None)) for name in names]
    return [(name, a) for name, a in arrays if isinstance(a, np.ndarray)]


class _UntilStopped:
    """A training callback as gensim's loop calls it, until the model's ``stop_training`` is set:
    from then on the epochs that train nothing reach it no more (its ``on_train_end`` still does)."""

    def __init__(self, callback, model):
        self.callback, self.model, self.skipping = callback, model, False

    def __getattr__(self, name):
        return getattr(self.callback, name)

    def on_epoch_begin(self, model):
        self.skipping = bool(getattr(model, 'stop_training', False))
        if not self.skipping:
            self.callback.on_epoch_begin(model)

    def on_epoch_end(self, model):
        if not self.skipping:
            self.callback.on_epoch_end(model)

    def on_progress(self, model, raw_words):
        if not self.skipping and hasattr(self.callback, 'on_progress'):
            self.callback.on_progress(model, raw_words)


def model_kind(model):
    """The gensim model class that `model` is, of those this package extends (gensim's ``Word2Vec``,
    ``FastText`` and ``Doc2Vec``): the most derived one it is an instance of, or None."""
    kinds = [sub.gensim_class for sub in OutputLayerMixin.__subclasses__()
             if sub.gensim_class is not None and isinstance(model, sub.gensim_class)]
    return max(kinds, key=lambda kind: len(kind.__mro__), default=None)


class OutputLayerMixin:
    """What every model of this package adds to its gensim class: the new output layers.

    Subclasses set ``input_kind`` (``"words"``, ``"subwords"`` or ``"documents"``: what the
    kernels build an input vector from) and ``gensim_class`` (the gensim model they extend).
    """
    input_kind = "words"
    gensim_class = None
    reports_gensim_loss = False
    """True where gensim's kernels compute no loss (FastText, Doc2Vec): with ``compute_loss=True``
    this package's kernels then train ``ns``/``hs`` too, the same way, and report their loss."""

    def _init_output_layer(self, loss, hs, negative, nce_normalizer, shared_samples, output_bias, ns_exponent,
                           sg, window, vector_size, alpha=0.025, min_alpha=0.0001, workers=3, cbow_mean=1):
        """Check the output layer's parameters (and those gensim would take silently) and set the
        output layer's attributes, before gensim's ``__init__``.

        Returns
        -------
        (int, int)
            `hs` and `negative` as gensim should get them.
        """
        self.loss, hs, negative = resolve_output_layer(loss, hs, negative, nce_normalizer)
        check_ns_exponent(ns_exponent)
        check_training_values(alpha, min_alpha, workers, sg, cbow_mean)
        check_shared_samples(shared_samples, self.loss, sg)
        self.output_bias = check_output_bias(output_bias, self.loss)
        self.nce_normalizer = nce_normalizer
        self.shared_samples = bool(shared_samples)
        self.nce_log_z = None
        self.syn1neg_bias = None
        for name in persistence.DERIVED_ATTRS:
            setattr(self, name, None)
        if self.uses_own_kernels and int(window) < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        if int(vector_size) < 1:
            raise ValueError(f"vector_size must be >= 1, got {vector_size}")
        return hs, negative

    def _train_at_init(self, corpus_iterable, corpus_file, trim_rule, callbacks):
        """What gensim's ``Word2Vec.__init__`` does last: build the vocabulary and train, if given a corpus.

        For a subclass whose gensim ``__init__`` was called without the corpus, so that it could
        set what gensim's does not take (FastText's `compute_loss`) before training.
        """
        self.callbacks = callbacks
        if corpus_iterable is None and corpus_file is None:
            if trim_rule is not None:
                logger.warning("The rule, if given, is only used to prune vocabulary during build_vocab() and is "
                               "not stored as part of the model; trim_rule is ignored without a corpus.")
            return
        self._check_corpus_sanity(corpus_iterable=corpus_iterable, corpus_file=corpus_file, passes=(self.epochs + 1))
        self.build_vocab(corpus_iterable=corpus_iterable, corpus_file=corpus_file, trim_rule=trim_rule)
        self.train(corpus_iterable=corpus_iterable, corpus_file=corpus_file, total_examples=self.corpus_count,
                   total_words=self.corpus_total_words, epochs=self.epochs, start_alpha=self.alpha,
                   end_alpha=self.min_alpha, compute_loss=self.compute_loss, callbacks=callbacks)

    def input_row_counts(self):
        """The number of input rows of each word (one, but for FastText), or None when all are one."""
        return None

    # ------------------------------------------------------------------------------------------
    # state of the new output layers

    @property
    def loss_spec(self):
        """:class:`~blackout_ext.losses.Loss` or None: the table's row for `loss` (None: gensim's choice)."""
        return loss_spec(self.loss)

    @property
    def kernel_loss(self):
        """str or None: the loss this package's kernels train, or None where gensim's kernels do.

        `loss` if it is one of this package's; ``'ns'`` or ``'hs'`` for a model whose gensim
        kernels compute no loss (``reports_gensim_loss``) when ``compute_loss`` is on (a model
        with both ``hs=1`` and ``negative > 0`` stays with gensim's); else None.
        """
        if self.loss in KERNEL_LOSSES:
            return self.loss
        if not (self.reports_gensim_loss and getattr(self, 'compute_loss', False)):
            return None
        gensim_loss = self.loss or ("hs" if self.hs and not self.negative else
                                    "ns" if self.negative and not self.hs else None)
        return gensim_loss if gensim_loss in GENSIM_LOSSES else None

    @property
    def uses_own_kernels(self):
        """bool: True when this package's kernels train the model (not gensim's); see :attr:`kernel_loss`."""
        return self.kernel_loss is not None

    @property
    def dense_output(self):
        """bool: True when every prediction scores the whole vocabulary (the full softmax)."""
        spec = self.loss_spec
        return bool(spec and spec.dense)

    @property
    def nce_learned(self):
        """bool: True for NCE with a learned normaliser."""
        spec = self.loss_spec
        return bool(spec and spec.learned_normalizer) and self.nce_normalizer == "learned"

    def make_cum_table(self, domain=2**31 - 1):
        """Build gensim's ``cum_table``, then this package's noise tables (``log q``, alias table).

        Raises
        ------
        ValueError
            If ``count ** ns_exponent`` overflows for this vocabulary.
        """
        check_noise_overflow(self._vocab_counts(), self.ns_exponent)
        super().make_cum_table(domain=domain)
        if self.uses_own_kernels:
            self.build_noise_tables()

    def build_noise_tables(self):
        """Compute ``noise_logq`` (exact, float64) and the alias table from the vocabulary counts."""
        counts = self._vocab_counts()
        if len(counts) == 0:
            self.noise_logq = np.zeros(0, dtype=np.float64)
            self.noise_alias = np.zeros(0, dtype=np.uint64)
            return
        self.noise_logq = noise_log_probabilities(counts, self.ns_exponent)
        self.noise_alias = _inner.build_alias_table(np.exp(self.noise_logq))
        self._noise_state = (len(self.wv), float(self.ns_exponent))

    def _prepare_kernel_tables(self):
        """Build what the kernels read besides the weights, once, before the worker threads start:
        the kernels keep no reference to these tables, so they must not be rebuilt during training."""
        with _TABLES_LOCK:
            self._build_kernel_tables()

    def _build_kernel_tables(self):
        # under _TABLES_LOCK; a model whose kernels read more tables extends this
        self._ensure_noise_tables()
        if self.kernel_loss == "hs":
            self.hs_table()

    def hs_table(self):
        """Every word's Huffman path as flat arrays ``(start, points, codes)``, as the kernels read it.

        Word ``i``'s inner nodes are ``points[start[i]:start[i + 1]]`` and its turns ``codes[...]``:
        ``wv.expandos['point']`` and ``['code']`` concatenated. Cached until they change.
        """
        points, codes = self.wv.expandos.get('point'), self.wv.expandos.get('code')
        cached = getattr(self, '_hs_cache', None)
        if cached is not None and cached[0] is points and cached[1] == len(self.wv):
            return cached[2]
        if points is None or codes is None or len(points) < len(self.wv):
            raise RuntimeError("the model has no Huffman tree: build_vocab() with hs=1 first")
        n = len(self.wv)
        start, flat_points = flatten_ragged(points, n, np.uint32)
        _, flat_codes = flatten_ragged(codes, n, np.uint8)
        if start[-1] and int(flat_points[:start[-1]].max()) >= len(self.syn1):
            raise RuntimeError("a Huffman path leaves syn1; call build_vocab() again")
        self._hs_cache = (points, n, (start, flat_points, flat_codes))
        return self._hs_cache[2]

    def _ensure_noise_tables(self):
        if getattr(self, '_noise_state', None) != (len(self.wv), float(self.ns_exponent)) \
                or self.noise_logq is None or getattr(self, 'noise_alias', None) is None:
            self.build_noise_tables()

    def init_weights(self):
        """Reset all weights: the learned NCE normalisers start at zero, the output biases at
        each word's unigram log-probability."""
        super().init_weights()
        # gensim's output layers start as np.zeros: memory the kernel maps page by page, on the
        # first write to each, during training. At a million words that cost 0.7 s per 400 MB
        # here, as much again as the first epoch's training. The same zeros, written now, cost
        # 0.04 s, and the values are identical.
        for name in ('syn1neg', 'syn1'):
            if hasattr(self, name):
                setattr(self, name, written_zeros(getattr(self, name)))
        if self.nce_learned:
            self.nce_log_z = np.zeros(len(self.wv), dtype=np.float32)
        if self.output_bias:
            self.syn1neg_bias = unigram_log_probabilities(self._vocab_counts())

    def update_weights(self):
        """Grow the weights for new words; their NCE normalisers start at zero, their output
        biases at their unigram log-probability."""
        super().update_weights()
        if self.nce_learned:
            self.update_weights_nce_log_z()
        if self.output_bias:
            self.update_weights_output_bias()

    def _vocab_counts(self):
        return self.wv.expandos['count'][:len(self.wv)] if len(self.wv) else np.zeros(0)

    def update_weights_output_bias(self):
        """Make ``syn1neg_bias`` match the vocabulary: words it lacks start at log(count / total)."""
        old = self.syn1neg_bias if self.syn1neg_bias is not None else np.zeros(0, dtype=np.float32)
        grown = unigram_log_probabilities(self._vocab_counts())
        keep = min(len(old), len(grown))
        grown[:keep] = old[:keep]
        self.syn1neg_bias = grown

    def estimate_memory(self, vocab_size=None, report=None):
        """Estimate the memory the model needs, the new output layers' arrays included.

        Parameters
        ----------
        vocab_size : int, optional
            Number of unique tokens in the vocabulary.
        report : dict of (str, int), optional
            A dictionary from string representations of the model's memory consuming members to
            their size in bytes.

        Returns
        -------
        dict of (str, int)
            Sizes in bytes, with ``'total'``.
        """
        vocab_size = vocab_size or len(self.wv)
        report = super().estimate_memory(vocab_size=vocab_size, report=report)
        extra = {}
        if self.uses_own_kernels:
            extra['noise_tables'] = vocab_size * (8 + 8)  # log q, alias record
        if self.nce_learned:
            extra['nce_log_z'] = vocab_size * 4
        if self.output_bias:
            extra['syn1neg_bias'] = vocab_size * 4
        if self.dense_output:
            extra['softmax_scores'] = vocab_size * 4 * self.workers
        report.update(extra)
        report['total'] += sum(extra.values())
        return report

    # ------------------------------------------------------------------------------------------
    # training

    def train(self, *args, **kwargs):
        """Train the model; the parameters are those of :meth:`gensim.models.Word2Vec.train`.

        Returns
        -------
        (int, int)
            Tuple of (effective word count after ignoring unknown words and sentence length
            trimming, total word count). gensim's Doc2Vec returns None.
        """
        # gensim sets compute_loss from this call only after its sanity checks; which kernels
        # train (kernel_loss) depends on it, so it is set first, as gensim will set it
        bound = inspect.signature(super().train).bind_partial(*args, **kwargs)
        arguments = bound.arguments
        self.compute_loss = bool(arguments.get('compute_loss', arguments.get('kwargs', {}).get('compute_loss', False)))
        if arguments.get('corpus_file') is not None:
            arguments['corpus_file'] = corpus_file_path(arguments['corpus_file'])
        # a callback may set stop_training (EarlyStopping): the remaining epochs of gensim's loop
        # then train nothing, and the callbacks hear no more of them
        self.stop_training = False
        callbacks = list(arguments.get('callbacks') or ())
        if callbacks:
            arguments['callbacks'] = [_UntilStopped(callback, self) for callback in callbacks]
        blas = single_threaded_blas() if self.dense_output else contextlib.nullcontext()
        try:
            with blas:
                result = super().train(*bound.args, **bound.kwargs)
        finally:
            if self.stop_training:
                logger.info("training stopped early at a callback's request")
            self.stop_training = False
        # the output layer and wv.vectors (FastText's recomposed from every row it trained)
        watched = [getattr(self, name, None) for name in ('syn1neg', 'syn1', 'syn1neg_bias')] + [self.wv.vectors]
        if self.uses_own_kernels and _at_weight_limit(*[a for a in watched if isinstance(a, np.ndarray)]):
            logger.warning(
                "training diverged: weights reached the clamp limit of +-%g (alpha=%g is too high for this "
                "corpus and loss); the vectors are finite but not meaningful", _WEIGHT_LIMIT, self.alpha)
        return result

    def _check_training_sanity(self, epochs=0, total_examples=None, total_words=None, **kwargs):
        if not len(self.wv):
            raise RuntimeError(f"{self._empty_vocabulary_message()}: call build_vocab() on a corpus first")
        resolve_output_layer(self.loss, self.hs, self.negative, self.nce_normalizer)
        check_ns_exponent(self.ns_exponent)
        check_training_values(self.alpha, self.min_alpha, self.workers, self.sg, self.cbow_mean)
        check_shared_samples(self.shared_samples, self.loss, self.sg)
        check_output_bias(self.output_bias, self.loss)
        super()._check_training_sanity(epochs=epochs, total_examples=total_examples, total_words=total_words, **kwargs)
        for name, array in self._trainable_arrays():
            if not array.flags.writeable:
                raise RuntimeError(
                    f"cannot train: {name} is read-only (was the model loaded with mmap='r'?). "
                    "Load it with mmap=None to train it further.")
        if self.uses_own_kernels:
            self._prepare_kernel_tables()
        elif self.reports_gensim_loss and self.compute_loss:
            logger.warning("compute_loss: gensim's kernels train hs=1 and negative=%i together here, and compute "
                           "no loss; the loss stays 0", self.negative)
        if self.uses_own_kernels and self.kernel_loss != "hs":
            if self.syn1neg.shape != (len(self.wv), self.layer1_size):
                raise RuntimeError(f"syn1neg has shape {self.syn1neg.shape}, expected "
                                   f"{(len(self.wv), self.layer1_size)}; call build_vocab() before train()")
        if self.nce_learned and (self.nce_log_z is None or len(self.nce_log_z) != len(self.wv)):
            self.update_weights_nce_log_z()
        if self.output_bias and (self.syn1neg_bias is None or len(self.syn1neg_bias) != len(self.wv)):
            self.update_weights_output_bias()
        if self.dense_output and len(self.wv) > SOFTMAX_WARN_VOCAB:
            logger.warning(
                "loss='softmax' costs O(|V| d) per prediction: %i x %i = %.1e multiply-adds, about %ix the "
                "work of negative=%i. Consider loss='sampled_softmax' or 'blackout'.",
                len(self.wv), self.layer1_size, 3.0 * len(self.wv) * self.layer1_size,
                len(self.wv) // (self.negative + 1), self.negative)

    def update_weights_nce_log_z(self):
        """Make ``nce_log_z`` match the vocabulary (zeros for words it lacks)."""
        old = self.nce_log_z if self.nce_log_z is not None else np.zeros(0, dtype=np.float32)
        grown = np.zeros(len(self.wv), dtype=np.float32)
        grown[:min(len(old), len(grown))] = old[:len(grown)]
        self.nce_log_z = grown

    def _trainable_arrays(self):
        return named_arrays(self.wv, "wv.", ("vectors", "vectors_lockf")) + named_arrays(
            self, "", ("syn1neg", "syn1", "nce_log_z", "syn1neg_bias"))

    def _get_thread_working_mem(self):
        if not self.uses_own_kernels:
            return super()._get_thread_working_mem()
        return _inner.ThreadMemory(self.layer1_size, self.negative, len(self.wv), self.dense_output,
                                   window=self.window if self.shared_samples else 0)

    def _next_job_seed(self):
        high, low = self.random.randint(0, 2**31, size=2)
        return (int(high) << 31) | int(low)

    def _dense_update_lock(self):
        # The full softmax writes every row of syn1neg at every prediction. Two workers doing that
        # at once only bounce cache lines between cores (measured: 2 workers took 2x the time of 1),
        # so its jobs run one at a time; the sampled losses touch k + 1 rows and run Hogwild.
        return _SOFTMAX_LOCK if self.dense_output else contextlib.nullcontext()

    def _add_training_loss(self, job_loss):
        with _LOSS_LOCK:
            self.running_training_loss += float(job_loss)

    def _do_train_job(self, job, alpha, inits):
        """Train on one job of sentences (Doc2Vec: of documents).

        Parameters
        ----------
        job : list of list of str, or list of :class:`~gensim.models.doc2vec.TaggedDocument`
            Corpus chunk to be used in this training batch.
        alpha : float
            The learning rate used in this batch.
        inits : object
            The worker thread's private work memory.

        Returns
        -------
        (int, int)
            Effective word count (in vocabulary, kept by subsampling), total word count.
        """
        if not self.uses_own_kernels:
            tally, raw, job_loss = self._gensim_train_job(job, alpha, inits)
        else:
            sentences, doc_tags = self._kernel_job(job)
            with self._dense_update_lock():
                tally, raw, job_loss = _inner.train_batch(
                    self, sentences, alpha, inits, int(self.compute_loss), self._next_job_seed(),
                    self._vocab_hash(), doc_tags=doc_tags)
        if self.compute_loss:
            self._add_training_loss(job_loss)
        return tally, raw

    def _kernel_job(self, job):
        """A job as the kernels take it: ``(sentences, doc_tags)``; ``doc_tags`` is None but for documents."""
        return job, None

    def _gensim_train_job(self, job, alpha, inits):
        """Train a job of gensim's ns or hs with gensim's kernel; returns ``(tally, raw, loss)``."""
        tally, raw = super()._do_train_job(job, alpha, inits)
        return tally, raw, 0.0

    def build_vocab(self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000,
                    keep_raw_vocab=False, trim_rule=None, **kwargs):
        """Build the vocabulary, as gensim does.

        An empty result (no word reaches `min_count`) is logged here, as gensim does; it is a
        clear :class:`RuntimeError` from :meth:`train`.
        """
        super().build_vocab(corpus_iterable=corpus_iterable, corpus_file=corpus_file_path(corpus_file), update=update,
                            progress_per=progress_per, keep_raw_vocab=keep_raw_vocab, trim_rule=trim_rule, **kwargs)
        if not len(self.wv):
            logger.warning("%s; train() will fail", self._empty_vocabulary_message())

    def _empty_vocabulary_message(self):
        return (f"the vocabulary is empty: no word of the corpus ({self.corpus_total_words} words in "
                f"{self.corpus_count} sentences) occurs at least min_count={self.min_count} times")

    def scan_vocab(self, corpus_iterable=None, corpus_file=None, progress_per=10000, workers=None, trim_rule=None):
        """Count the words of a corpus, as gensim does.

        A ``corpus_file`` is read by :class:`blackout_ext.corpora.LineSentence`: a token that is
        not valid UTF-8 is skipped and counted (a warning reports how many), as the
        ``corpus_file`` training path skips it, instead of failing the whole run.
        """
        reader = None
        if corpus_file is not None:
            from blackout_ext.corpora import LineSentence

            corpus_iterable = reader = LineSentence(corpus_file_path(corpus_file))
        result = super().scan_vocab(corpus_iterable=corpus_iterable, progress_per=progress_per, workers=workers,
                                    trim_rule=trim_rule)
        if reader is not None:
            reader.warn_invalid()
        return result

    def _check_corpus_sanity(self, corpus_iterable=None, corpus_file=None, passes=1):
        super()._check_corpus_sanity(corpus_iterable=corpus_iterable, corpus_file=corpus_file_path(corpus_file),
                                     passes=passes)

    def _vocab_hash(self):
        # keyed on the list and dict objects themselves (held here, so their ids cannot be
        # reused) and their lengths: build_vocab() makes new ones, build_vocab(update=True) and
        # KeyedVectors.add_vectors() append to them
        words, index = self.wv.index_to_key, self.wv.key_to_index
        cached = getattr(self, '_vocab_hash_cache', None)
        if cached is None or cached[0] is not words or cached[1] is not index or cached[2] != (len(words), len(index)):
            cached = (words, index, (len(words), len(index)), _vocab.VocabHash(words, index))
            self._vocab_hash_cache = cached
        return cached[3]

    def _train_epoch_corpusfile(self, corpus_file, cur_epoch=0, total_examples=None, total_words=None,
                                callbacks=(), **kwargs):
        """One epoch over `corpus_file`; this package's losses run :class:`~blackout_ext._epochs.FileEpoch`."""
        if getattr(self, 'stop_training', False):
            return 0, 0, 0
        if not self.uses_own_kernels:
            return super()._train_epoch_corpusfile(
                corpus_file, cur_epoch=cur_epoch, total_examples=total_examples, total_words=total_words,
                callbacks=callbacks, **kwargs)
        if not total_words:
            raise ValueError("total_words must be provided alongside corpus_file argument.")
        return _epochs.FileEpoch(self, corpus_file, cur_epoch=cur_epoch, total_examples=total_examples,
                                 total_words=total_words, callbacks=callbacks).train()

    def _train_epoch(self, data_iterable, cur_epoch=0, total_examples=None, total_words=None,
                     queue_factor=2, report_delay=1.0, callbacks=()):
        """One epoch over an iterable, as gensim's, made safe; see :class:`~blackout_ext._epochs.IterableEpoch`."""
        if getattr(self, 'stop_training', False):
            return 0, 0, 0
        if self.uses_own_kernels:
            self._vocab_hash()  # built here once, not by two workers at once
        epoch = _epochs.IterableEpoch(self, data_iterable, cur_epoch=cur_epoch, total_examples=total_examples,
                                      total_words=total_words, queue_factor=queue_factor, callbacks=callbacks)
        return epoch.train(report_delay=report_delay)

    def _job_producer(self, data_iterator, job_queue, cur_epoch=0, total_examples=None, total_words=None):
        _epochs.produce_jobs(self, data_iterator, job_queue, cur_epoch=cur_epoch, total_examples=total_examples,
                             total_words=total_words)

    # ------------------------------------------------------------------------------------------
    # prediction

    def predict_output_word(self, context_words_list, topn=10):
        """Get the probability distribution of the centre word given context words.

        Works for every loss: a softmax over ``syn1neg`` that subtracts its maximum (so it never
        overflows), or for ``hs`` the exact product along each word's Huffman path.

        Parameters
        ----------
        context_words_list : list of str
            List of context words.
        topn : int, optional
            Return `topn` words and their probabilities.

        Returns
        -------
        list of (str, float)
            `topn` length list of tuples of (word, probability), or None if every context word
            is out of vocabulary.
        """
        from blackout_ext.evaluation import _Scorer

        if not hasattr(self.wv, 'vectors') or not len(self.wv):
            raise RuntimeError("Parameters required for predicting the output words not found.")
        word2_indices = [self.wv.get_index(w) for w in context_words_list if w in self.wv]
        if not word2_indices:
            logger.warning("All the input context words are out-of-vocabulary for the current model.")
            return None
        counts = self.input_row_counts()
        if counts is None:
            l1 = np.sum(self.wv.vectors[word2_indices], axis=0, dtype=np.float64)
            if self.cbow_mean:
                l1 /= len(word2_indices)
        else:  # FastText: each word weighs its number of rows, as in the CBOW input
            weights = counts[word2_indices].astype(np.float64)
            l1 = weights @ self.wv.vectors[word2_indices].astype(np.float64)
            if self.cbow_mean:
                l1 /= weights.sum()
        prob_values = np.exp(_Scorer(self).all_log_probs(l1))
        top_indices = np.argsort(-prob_values, kind='stable')[:topn]
        return [(self.wv.index_to_key[index1], float(prob_values[index1])) for index1 in top_indices]

    def evaluate_log_likelihood(self, corpus_iterable, batch_contexts=None):
        """Exact log-likelihood of held-out text; see :func:`blackout_ext.evaluation.evaluate_log_likelihood`.

        Parameters
        ----------
        corpus_iterable : iterable of list of str
            Held-out sentences.
        batch_contexts : int, optional
            Contexts scored per batch.

        Returns
        -------
        :class:`~blackout_ext.evaluation.LogLikelihoodResult`
            ``mean_log_prob``, ``perplexity``, ``n_predictions`` and, for NCE, the
            self-normalisation diagnostics.
        """
        from blackout_ext.evaluation import evaluate_log_likelihood

        return evaluate_log_likelihood(self, corpus_iterable, batch_contexts=batch_contexts)

    # ------------------------------------------------------------------------------------------
    # persistence

    def save(self, fname_or_handle, separately=None, sep_limit=10 * 1024**2, ignore=frozenset(),
             pickle_protocol=utils.PICKLE_PROTOCOL):
        """Save the model atomically: a save that dies midway leaves the previous model intact.

        See :mod:`blackout_ext.persistence` for how.

        Parameters
        ----------
        fname_or_handle : str or file-like
            Path to the file (atomic), or an open file handle (pickled in one piece, as gensim).
        separately : list of str or None, optional
            As in gensim: attributes stored in separate files (None: large arrays automatically).
        sep_limit : int, optional
            Don't store arrays smaller than this separately. In bytes.
        ignore : frozenset of str, optional
            Attributes that shouldn't be stored at all.
        pickle_protocol : int, optional
            Protocol number for pickle.
        """
        if not isinstance(fname_or_handle, (str, os.PathLike)):
            return super().save(fname_or_handle, separately=separately, sep_limit=sep_limit, ignore=ignore,
                                pickle_protocol=pickle_protocol)
        persistence.save_atomically(self, os.fspath(fname_or_handle), separately=separately, sep_limit=sep_limit,
                                    ignore=ignore, pickle_protocol=pickle_protocol)

    def _save_specials(self, fname, separately, sep_limit, ignore, pickle_protocol, compress, subname):
        # derived tables are rebuilt on load, never pickled
        ignore = frozenset(ignore) | frozenset(persistence.DERIVED_ATTRS) | frozenset(persistence.CACHE_ATTRS)
        return super()._save_specials(fname, separately, sep_limit, ignore, pickle_protocol, compress, subname)

    def _load_specials(self, fname, mmap, compress, subname):
        generation = getattr(self, '_save_generation', None)
        if generation:
            subname = persistence.generation_subname(fname, generation, subname)
        persistence.set_missing_defaults(self)
        super()._load_specials(fname, mmap, compress, subname)

    @classmethod
    def load(cls, fname, mmap=None):
        """Load a model saved with :meth:`save`; a plain gensim ``Word2Vec`` model is upgraded.

        Parameters
        ----------
        fname : str or os.PathLike
            Path to the saved file.
        mmap : str, optional
            Memory-map the large arrays (``'r'``: read-only, for querying; Doc2Vec's
            ``infer_vector`` works on such a model too).

        Returns
        -------
        :class:`~blackout_ext.Word2Vec`
            The model. One saved by gensim comes back with ``loss=None`` and trains as it did.

        Raises
        ------
        FileNotFoundError
            If the file, or one of its ``.npy`` arrays, is missing.
        AttributeError
            If the file holds another kind of object (a saved ``KeyedVectors``, or another of the
            three models: ``FastText.load`` of a Word2Vec file, say), as gensim's ``Word2Vec.load``
            raises for an object that is no Word2Vec.
        OSError
            If the file, or one of its ``.npy`` arrays, is truncated or not a saved object.
            Every message names the file.

        Notes
        -----
        A saved model is a pickle, as in gensim: loading one can run code. Load only files you trust.
        """
        fname = os.fspath(fname)
        model = persistence.load_checked(super().load, cls, fname, mmap=mmap)
        if isinstance(model, cls):
            return model
        if model_kind(model) is not cls.gensim_class:
            raise AttributeError(f"cannot load {fname} as {cls.__name__}: it holds a {type(model).__name__} model")
        return cls.from_gensim(model)

    @classmethod
    def from_gensim(cls, model):
        """Adopt a model of gensim's class (``gensim_class``) as this class, with ``loss=None``.

        The arrays are shared, not copied: `model` should not be used afterwards.
        """
        if not isinstance(model, cls.gensim_class):
            raise TypeError(f"expected a gensim {cls.gensim_class.__name__} model, got {type(model).__name__}")
        model.__class__ = cls
        persistence.set_missing_defaults(model)
        return model

    def __str__(self):
        text = super().__str__()
        if self.loss is not None:
            text = text[:-1] + f", loss={self.loss}>"
        return text
