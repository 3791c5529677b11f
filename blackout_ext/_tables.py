"""The tables the kernels read besides the weights: the noise distribution (exact log q and a
Walker alias table), the Huffman paths as flat arrays, and the vocabulary as a C hash table.

:class:`TablesMixin` builds them from the vocabulary, once, before the worker threads start, and
rebuilds them when the vocabulary changes.
"""
import threading

import numpy as np

from blackout_ext import _inner, _vocab
from blackout_ext.checks import check_noise_overflow
from blackout_ext.losses import KERNEL_LOSSES

_TABLES_LOCK = threading.Lock()   # two infer_vector calls at once build a table once, not twice


def noise_log_probabilities(counts, ns_exponent):
    """Exact ``log q_w`` for ``q_w = count_w ** ns_exponent / sum(count ** ns_exponent)``.

    Computed in float64 from the counts (never from gensim's integer ``cum_table``, which
    rounds rare words to ``q = 0``). A count below 1 is taken as 1.
    """
    log_weights = float(ns_exponent) * np.log(np.maximum(np.asarray(counts, dtype=np.float64), 1.0))
    top = log_weights.max()
    return log_weights - (top + np.log(np.exp(log_weights - top).sum()))


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


class TablesMixin:
    """The noise, Huffman and vocabulary tables of a model; see the module's text."""

    def make_cum_table(self, domain=2**31 - 1):
        """Build gensim's ``cum_table`` where gensim's kernels may draw from it, and this package's
        noise tables (``log q``, alias table) where its kernels do.

        A model whose `loss` is one of this package's (``losses.KERNEL_LOSSES``) is never trained
        by gensim's kernels, so it has no ``cum_table`` (None): gensim builds it in a Python loop
        over the vocabulary, half a second at 27k words.

        Raises
        ------
        ValueError
            If ``count ** ns_exponent`` overflows for this vocabulary.
        """
        check_noise_overflow(self._vocab_counts(), self.ns_exponent)
        if self.loss in KERNEL_LOSSES:
            self.cum_table = None
        else:
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
