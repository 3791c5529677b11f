"""The checks of the output layer's parameters, and of the values gensim would take silently.

Each raises a :class:`ValueError` (a :class:`TypeError` for a value of the wrong kind) that names
the parameter. The models call them at construction and again before training; the command line
calls them before it reads a corpus.
"""
import logging
import math
import numbers
import os

import numpy as np

from blackout_ext.losses import BIAS_LOSSES, LOSSES, SHARED_SAMPLE_LOSSES, loss_spec
from blackout_ext._inner import WEIGHT_LIMIT

logger = logging.getLogger(__name__)

NCE_NORMALIZERS = ("fixed", "learned")


_DEFAULT_NEGATIVE = 5


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
                       "(the kernels clamp weights at +-%g)", float(alpha), WEIGHT_LIMIT)


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
    """Refuse `shared_samples` where it has no meaning, and return it as the model keeps it.

    True or False, or an int n >= 2: one draw of the samples serves n consecutive windows
    (skip-gram or CBOW). Only the sampled losses draw samples; True alone has no meaning in
    CBOW, which already makes one prediction, with one draw, per window.
    """
    if isinstance(shared_samples, (bool, np.bool_)):
        shared_samples = bool(shared_samples)
    elif isinstance(shared_samples, (int, np.integer)) and shared_samples >= 2:
        shared_samples = int(shared_samples)
    else:
        raise ValueError(f"shared_samples must be True, False or an int >= 2 (windows per draw), "
                         f"got {shared_samples!r}")
    if not shared_samples:
        return shared_samples
    if loss not in SHARED_SAMPLE_LOSSES:
        raise ValueError(f"shared_samples={shared_samples!r} applies to loss in {SHARED_SAMPLE_LOSSES}, "
                         f"not loss={loss!r}")
    if not sg and shared_samples is True:
        raise ValueError("shared_samples=True applies to skip-gram (sg=1) only: CBOW already makes one "
                         "prediction, with one draw of samples, per window (shared_samples=n >= 2 shares "
                         "one draw among n windows)")
    return shared_samples


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
                         "ns and hs have no output bias")
    return bool(output_bias)


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
