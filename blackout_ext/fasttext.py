"""FastText with more output layers: BlackOut, NCE, sampled softmax and the full softmax.

:class:`FastText` is a drop-in replacement for :class:`gensim.models.FastText`. Without the
``loss`` argument it is gensim's model, trained by gensim's own kernels. With one of this
package's losses, the input of a word is, as in gensim and fastText, its own row of
``wv.vectors_vocab`` and the rows of its character n-gram buckets in ``wv.vectors_ngrams``
(their mean, in skip-gram; every row of every context word, in CBOW), and the gradient goes
back to each of those rows. Words never seen in training get vectors from their n-grams.

Examples
--------
.. sourcecode:: pycon

    >>> from gensim.test.utils import common_texts
    >>> from blackout_ext import FastText
    >>> model = FastText(common_texts, loss="blackout", negative=5, min_count=1, workers=1)
    >>> vector = model.wv["computation"]   # not in the vocabulary: built from its n-grams

"""
import logging

import numpy as np
from gensim.models import fasttext as gensim_fasttext
from gensim.models.word2vec import MAX_WORDS_IN_BATCH

from blackout_ext._tables import flatten_ragged
from blackout_ext.output_arrays import named_arrays
from blackout_ext.losses import fill_docs
from blackout_ext.inputs import InputKind
from blackout_ext.output_layer import OutputLayerMixin

logger = logging.getLogger(__name__)

__doc__ = fill_docs(__doc__)


class FastText(OutputLayerMixin, gensim_fasttext.FastText):
    input_kind = InputKind.SUBWORDS
    """What the kernels build an input vector from: a word's row and its n-gram buckets' rows."""
    reports_gensim_loss = True
    gensim_class = gensim_fasttext.FastText

    @fill_docs
    def __init__(self, sentences=None, corpus_file=None, sg=0, hs=None, vector_size=100, alpha=0.025,
                 window=5, min_count=5, max_vocab_size=None, word_ngrams=1, sample=1e-3, seed=1, workers=3,
                 min_alpha=0.0001, negative=None, ns_exponent=0.75, cbow_mean=1, hashfxn=hash, epochs=5,
                 null_word=0, min_n=3, max_n=6, sorted_vocab=1, bucket=2000000, trim_rule=None,
                 batch_words=MAX_WORDS_IN_BATCH, callbacks=(), max_final_vocab=None, shrink_windows=True,
                 compute_loss=False, loss=None, nce_normalizer="fixed", output_bias=None):
        """FastText with a choice of output layer.

        Every parameter of :class:`gensim.models.FastText` keeps its meaning and default; only
        those that differ or are new are listed here.

        Parameters
        ----------
        loss : $loss_choices, optional
            The output layer, as in :class:`blackout_ext.Word2Vec` (None: gensim's choice by `hs`
            and `negative`).
        hs : {0, 1}, optional
            As in gensim (default 0). Must agree with `loss` when both are given.
        negative : int, optional
            As in gensim (default 5); with the sampled losses, the noise samples k per prediction.
        nce_normalizer : {'fixed', 'learned'}, optional
            For ``loss='nce'``, as in :class:`blackout_ext.Word2Vec`: the learned ``c`` is one per
            vocabulary word (the input word's; in CBOW the mean over the context words).
        output_bias : {None, True, False}, optional
            As in :class:`blackout_ext.Word2Vec`: on by default for this package's losses.
        compute_loss : bool, optional
            Accumulate the training loss, read by :meth:`get_latest_training_loss`. gensim's
            FastText has no such parameter and always reports 0; here every loss reports its
            own. gensim's FastText kernels compute none, so with ``compute_loss=True`` gensim's
            ns and hs (``loss=None`` or ``'hs'``) train on this package's kernels for them,
            the same losses (``model.kernel_loss`` says which).

        Raises
        ------
        ValueError
            As :class:`blackout_ext.Word2Vec` raises.

        Notes
        -----
        In skip-gram the input of a word is the mean of its own row and its n-gram rows, the
        vector that ``wv[word]`` returns after training (gensim's kernel divides the sum by the
        number of n-grams only, one fewer). In CBOW it is the sum, or mean, of every row of every
        context word, as in gensim and fastText. The gradient is added undivided to every row.
        ``shared_samples`` is a Word2Vec option only.
        """
        hs, negative = self._init_output_layer(loss, hs, negative, nce_normalizer, False, output_bias,
                                               ns_exponent, sg, window, vector_size, alpha=alpha,
                                               min_alpha=min_alpha, workers=workers, cbow_mean=cbow_mean)
        super().__init__(
            sentences=None, corpus_file=None, sg=sg, hs=hs, vector_size=vector_size, alpha=alpha, window=window,
            min_count=min_count, max_vocab_size=max_vocab_size, word_ngrams=word_ngrams, sample=sample, seed=seed,
            workers=workers, min_alpha=min_alpha, negative=negative, ns_exponent=ns_exponent, cbow_mean=cbow_mean,
            hashfxn=hashfxn, epochs=epochs, null_word=null_word, min_n=min_n, max_n=max_n,
            sorted_vocab=sorted_vocab, bucket=bucket, trim_rule=None, batch_words=batch_words, callbacks=(),
            max_final_vocab=max_final_vocab, shrink_windows=shrink_windows)
        self.compute_loss = bool(compute_loss)
        self._train_at_init(sentences, corpus_file, trim_rule, callbacks)

    # ------------------------------------------------------------------------------------------
    # the n-gram buckets, as the kernels read them

    def subword_table(self):
        """Every word's n-gram buckets as two flat arrays: ``(start, buckets)``.

        Word ``i``'s buckets are ``buckets[start[i]:start[i + 1]]``, the same as
        ``wv.buckets_word[i]``. Built from ``wv.buckets_word`` and cached until it changes.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            ``start`` (int64, one more than the vocabulary) and ``buckets`` (uint32).
        """
        words = self.wv.buckets_word
        cached = getattr(self, '_subword_cache', None)
        if cached is not None and cached[0] is words and cached[1] == len(words):
            return cached[2]
        if words is None or len(words) < len(self.wv):
            raise RuntimeError("the n-gram buckets are not computed; call build_vocab() first")
        start, buckets = flatten_ragged(words, len(words), np.uint32)
        if start[-1] and int(buckets[:start[-1]].max()) >= self.wv.bucket:
            raise RuntimeError("an n-gram bucket is beyond wv.bucket; call build_vocab() again")
        self._subword_cache = (words, len(words), (start, buckets))
        return start, buckets

    def _build_kernel_tables(self):
        super()._build_kernel_tables()
        if self.wv.bucket:
            self.subword_table()   # built before the workers start; they only read it

    def input_row_counts(self):
        """The number of input rows of each word: 1 + its n-gram buckets (used to score CBOW exactly)."""
        start, _ = self.subword_table()
        return 1 + np.diff(start)[:len(self.wv)]

    def estimate_memory(self, vocab_size=None, report=None):
        """Estimate the memory the model needs: gensim's estimate, the new output layers' arrays,
        and the flat n-gram table the kernels read.

        Returns
        -------
        dict of (str, int)
            Sizes in bytes, with ``'total'``.
        """
        report = super().estimate_memory(vocab_size=vocab_size, report=report)
        if self.uses_own_kernels and self.wv.bucket and 'buckets_word' in report:
            n_words = vocab_size or len(self.wv)
            # the flat copy of buckets_word: one int64 start per word, the uint32 buckets
            extra = 8 * (n_words + 1) + max(report['buckets_word'] - 64 - 100 * n_words, 0)
            report['subword_table'] = extra
            report['total'] += extra
        return report

    def _trainable_arrays(self):
        return super()._trainable_arrays() + named_arrays(self.wv, "wv.", ("vectors_vocab", "vectors_ngrams"))
