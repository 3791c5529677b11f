"""The per-word arrays that this package adds to gensim's output layer, in one registry.

Each :class:`OutputArray` of :data:`OUTPUT_ARRAYS` says when a model has the array, how it starts
for a word, and whether it is pickled, shipped between Dask workers and watched for divergence.
Everything that handles these arrays reads the registry: the weights' initialisation and growth
(:class:`ArraysMixin`), the checks before training, the trainable arrays, ``estimate_memory``,
the defaults of models saved by older code (``persistence``), the rows ``distributed`` ships,
and the scorer of ``evaluation`` (:func:`array_of`). Adding such an array is one entry here; the
kernel code that uses it binds it by name (``init_config`` in ``_binding.pxi``).
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from blackout_ext._inner import WEIGHT_LIMIT
from blackout_ext._tables import noise_log_probabilities


def at_weight_limit(*arrays):
    """bool: whether any of `arrays` reached the kernels' clamp, :data:`WEIGHT_LIMIT`."""
    # max and min, not abs(): no temporary copy of a matrix that may be gigabytes
    return any(a.size and max(float(a.max()), -float(a.min())) >= WEIGHT_LIMIT for a in arrays)


def written_zeros(array):
    """An array of zeros like `array`, with every page written (mapped) before it is returned."""
    out = np.empty_like(array)
    out.fill(0)
    return out


def unigram_log_probabilities(counts):
    """``log(count_w / total)`` in float32: where the output bias of each word starts.

    The noise distribution with exponent 1; a count below 1 is taken as 1, so that every word
    has a finite start.
    """
    if not len(counts):
        return np.zeros(0, dtype=np.float32)
    return noise_log_probabilities(counts, 1.0).astype(np.float32)


def vocab_counts(model):
    """The counts of `model`'s vocabulary, in index order."""
    return model.wv.expandos['count'][:len(model.wv)] if len(model.wv) else np.zeros(0)


@dataclass(frozen=True)
class OutputArray:
    """One per-word array of the output layer, attribute `name` of the model.

    Attributes
    ----------
    name : str
        The model's attribute; None when the model has no such array.
    dtype : numpy.dtype
        Its type, one value per word.
    present : callable
        ``present(model) -> bool``: whether the model has the array.
    start : callable
        ``start(model) -> numpy.ndarray``: the array's values for the whole vocabulary, as a
        new model starts them; a word added by ``build_vocab(update=True)`` starts the same way,
        and the other words keep their values.
    saved : bool
        Pickled with the model (False: derived, rebuilt on load).
    shipped : bool
        ``distributed.train`` sends the rows a round changed, as it does ``syn1neg``'s.
    watched : bool
        Checked after training for weights at the kernels' clamp (a diverged run).
    summary : str
        One line for docs.
    """

    name: str
    dtype: type
    present: Callable
    start: Callable
    saved: bool = True
    shipped: bool = True
    watched: bool = True
    summary: str = ""

    def of(self, model):
        """The array of `model`, or None when it has none."""
        return getattr(model, self.name, None) if self.present(model) else None

    def started(self, model):
        """The array's start for `model`'s whole vocabulary, as :attr:`dtype`."""
        return np.asarray(self.start(model), dtype=self.dtype)

    def grown(self, model):
        """The array for `model`'s whole vocabulary: the old values kept, new words started."""
        old = getattr(model, self.name, None)
        grown = self.started(model)
        if old is not None:
            keep = min(len(old), len(grown))
            grown[:keep] = old[:keep]
        return grown


OUTPUT_ARRAYS = (
    OutputArray("nce_log_z", np.float32, present=lambda model: bool(getattr(model, "nce_learned", False)),
                start=lambda model: np.zeros(len(model.wv), dtype=np.float32), watched=False,
                summary="NCE's learned normaliser c = log Z of each input word (float32, starts at 0)"),
    OutputArray("syn1neg_bias", np.float32, present=lambda model: bool(getattr(model, "output_bias", False)),
                start=lambda model: unigram_log_probabilities(vocab_counts(model)),
                summary="the output bias b_w of each word (float32, starts at log(count_w / total))"),
)
"""The registry: every per-word array of the output layer besides gensim's own."""

OUTPUT_ARRAY = {array.name: array for array in OUTPUT_ARRAYS}
"""dict of str to :class:`OutputArray`: the registry by name."""

GENSIM_OUTPUT = ("syn1neg", "syn1")
"""gensim's own output matrices, which this package's kernels train too."""


def array_of(model, name):
    """The array `name` of the registry that `model` has, or None."""
    return OUTPUT_ARRAY[name].of(model)


def named_arrays(owner, prefix, names):
    """``(prefix + name, array)`` for each of `names` that `owner` holds as a numpy array."""
    arrays = [(prefix + name, getattr(owner, name, None)) for name in names]
    return [(name, a) for name, a in arrays if isinstance(a, np.ndarray)]


class ArraysMixin:
    """The output layer's weights: initialised, grown, listed and counted from :data:`OUTPUT_ARRAYS`."""

    def _reset_output_arrays(self):
        for array in OUTPUT_ARRAYS:
            setattr(self, array.name, None)

    def init_weights(self):
        """Reset all weights; the registry's arrays (NCE's learned normalisers, the output biases)
        start as its entries say."""
        super().init_weights()
        # gensim's output layers start as np.zeros: memory the kernel maps page by page, on the
        # first write to each, during training. At a million words that cost 0.7 s per 400 MB
        # here, as much again as the first epoch's training. The same zeros, written now, cost
        # 0.04 s, and the values are identical.
        for name in GENSIM_OUTPUT:
            if hasattr(self, name):
                setattr(self, name, written_zeros(getattr(self, name)))
        for array in OUTPUT_ARRAYS:
            if array.present(self):
                setattr(self, array.name, array.started(self))

    def update_weights(self):
        """Grow the weights for new words; the registry's arrays start their new words as its
        entries say."""
        super().update_weights()
        self._grow_output_arrays()

    def _grow_output_arrays(self, only_mismatched=False):
        for array in OUTPUT_ARRAYS:
            if not array.present(self):
                continue
            current = getattr(self, array.name, None)
            if only_mismatched and current is not None and len(current) == len(self.wv):
                continue
            setattr(self, array.name, array.grown(self))

    def _vocab_counts(self):
        return vocab_counts(self)

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
        for array in OUTPUT_ARRAYS:
            if array.present(self):
                extra[array.name] = vocab_size * np.dtype(array.dtype).itemsize
        if self.dense_output:
            extra['softmax_scores'] = vocab_size * 4 * self.workers
        report.update(extra)
        report['total'] += sum(extra.values())
        return report

    def _trainable_arrays(self):
        return named_arrays(self.wv, "wv.", ("vectors", "vectors_lockf")) + named_arrays(
            self, "", GENSIM_OUTPUT + tuple(array.name for array in OUTPUT_ARRAYS))

    def _watched_arrays(self):
        # the output layer and wv.vectors (FastText's recomposed from every row it trained)
        arrays = [getattr(self, name, None) for name in GENSIM_OUTPUT]
        arrays += [array.of(self) for array in OUTPUT_ARRAYS if array.watched]
        return [a for a in arrays + [self.wv.vectors] if isinstance(a, np.ndarray)]
