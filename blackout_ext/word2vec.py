"""Word2Vec with more output layers: BlackOut, NCE, sampled softmax and the full softmax.

:class:`Word2Vec` is a drop-in replacement for :class:`gensim.models.Word2Vec`. Without the
``loss`` argument it is gensim's model, trained by gensim's own kernels. With one of this
package's losses ($own_losses) it trains the output matrix ``syn1neg`` with this package's
Cython kernels instead.

Examples
--------
.. sourcecode:: pycon

    >>> from gensim.test.utils import common_texts
    >>> from blackout_ext import Word2Vec
    >>> model = Word2Vec(common_texts, loss="blackout", negative=5, min_count=1, workers=1)
    >>> vector = model.wv["computer"]

"""
from gensim.models import word2vec as gensim_word2vec
from gensim.models.word2vec import MAX_WORDS_IN_BATCH

from blackout_ext.losses import default_parameters, fill_docs

from blackout_ext._hooks import SOFTMAX_WARN_VOCAB  # noqa: F401  (this module's API before the mixin existed)
from blackout_ext._tables import noise_log_probabilities  # noqa: F401
from blackout_ext.checks import (  # noqa: F401
    NCE_NORMALIZERS, check_ns_exponent, check_output_bias, check_shared_samples, resolve_output_layer,
)
from blackout_ext.losses import (  # noqa: F401
    BIAS_LOSSES, GENSIM_LOSSES, KERNEL_LOSSES, LOSSES, NEW_LOSSES, SHARED_SAMPLE_LOSSES, loss_spec,
)
from blackout_ext.output_arrays import unigram_log_probabilities, written_zeros  # noqa: F401
from blackout_ext.inputs import InputKind
from blackout_ext.output_layer import OutputLayerMixin

__doc__ = fill_docs(__doc__)


class Word2Vec(OutputLayerMixin, gensim_word2vec.Word2Vec):
    input_kind = InputKind.WORDS
    """What the kernels build an input vector from: a word's row of ``wv.vectors``."""
    gensim_class = gensim_word2vec.Word2Vec

    @fill_docs
    def __init__(
            self, sentences=None, corpus_file=None, vector_size=100, alpha=None, window=5, min_count=5,
            max_vocab_size=None, sample=1e-3, seed=1, workers=3, min_alpha=0.0001,
            sg=0, hs=None, negative=None, ns_exponent=0.75, cbow_mean=1, hashfxn=hash, epochs=5, null_word=0,
            trim_rule=None, sorted_vocab=1, batch_words=MAX_WORDS_IN_BATCH, compute_loss=False, callbacks=(),
            comment=None, max_final_vocab=None, shrink_windows=True, loss=None, nce_normalizer="fixed",
            shared_samples=None, output_bias=None,
    ):
        """Word2Vec with a choice of output layer.

        Every parameter of :class:`gensim.models.Word2Vec` keeps its meaning and default; only
        those that differ or are new are listed here.

        Parameters
        ----------
        loss : $loss_choices, optional
            The output layer and its training objective (``losses.LOSS_TABLE``; the math of each
            is in the repository's ``docs/losses.md``).

            $loss_items

            $keeps_hits_losses keep a draw equal to the target as a candidate
            of its own (so sampled softmax is consistent as `negative` grows); $redraws_losses
            samples without the target, as its paper does (a hit is redrawn, at most 32 times,
            then dropped), which weighs an example by about ``1 / (1 - P(target))``: small where
            no word is very likely. The new losses train ``syn1neg`` (and ``syn1neg_bias``).
        alpha : float, optional
            The initial learning rate. Default None: gensim's 0.025, but with $tuned_losses
            $tuned_sg_alpha in skip-gram and $tuned_cbow_alpha in CBOW, the rates that reach a
            converged quality soonest (see Notes).
        hs : {0, 1}, optional
            As in gensim (default 0). Must agree with `loss` when both are given.
        negative : int, optional
            As in gensim (default 5): with the sampled losses, the number of noise samples k
            per prediction. Must be >= 1 with any loss but ``'hs'``.
        ns_exponent : float, optional
            Exponent of the noise distribution ``q ∝ count ** ns_exponent``. Must be finite.
        nce_normalizer : {'fixed', 'learned'}, optional
            For ``loss='nce'``: ``'fixed'`` uses ``c = log Z = 0`` (self-normalised);
            ``'learned'`` learns one ``c`` per input word, stored in ``nce_log_z``. For CBOW the
            context's ``c`` is the mean of its words' values.
        shared_samples : {bool, int}, optional
            With $shared_losses only. If True (skip-gram),
            draw the `negative` samples once per centre word and share them across its context
            window, as BlackOut's paper shares them across a mini-batch (and as pWord2Vec does).
            Every pair of a window predicts the centre word, so each pair still sees `negative`
            independent draws from q and the optimum is unchanged; the window's pairs become
            one mini-batch, scored and updated as blocks, and each sampled row of ``syn1neg`` is
            written once per window instead of once per pair. Faster, and it scales better over
            `workers`. An int n >= 2 does that and also lets one draw serve n consecutive windows
            (skip-gram or CBOW), each window redrawing only a sample equal to its own target:
            each still sees `negative` draws from q, and the rows of the samples stay in the
            cache from one window to the next. Default None: True in skip-gram with
            $tuned_losses (see Notes), else False.
        output_bias : {None, True, False}, optional
            The new losses score a word as ``s_w = u_w . h + b_w``, with one bias per output word
            stored in ``syn1neg_bias`` (float32), started at the word's unigram log-probability
            ``log(count_w / total)`` and trained as the weights are. None (default): on for
            $bias_losses, off otherwise
            (ns and hs have no bias). False turns it off.

        Raises
        ------
        ValueError
            On an unknown `loss`, a contradictory `hs`/`negative`, a non-finite `ns_exponent`,
            `shared_samples` with a loss or architecture it does not apply to,
            ``output_bias=True`` with ns or hs; and, where gensim accepts them silently,
            on an `alpha` or `min_alpha` that is NaN, infinite or negative, ``workers < 1``, or
            `sg` or `cbow_mean` outside {0, 1} (each message names the parameter). An
            `ns_exponent` whose noise distribution overflows for the vocabulary is refused by
            :meth:`build_vocab`. ``alpha > 1`` logs a warning.
        TypeError
            If `corpus_file` is not a path (``str`` or :class:`os.PathLike`).

        Notes
        -----
        CBOW adds the input gradient undivided to every context row, for both `cbow_mean`
        values, as gensim's and word2vec.c's kernels do: gensim's default learning rates are
        tuned for that convention.

        Defaults for time to quality: with $tuned_losses, an `alpha` not given is
        $tuned_sg_alpha in skip-gram and $tuned_cbow_alpha in CBOW, and a `shared_samples` not
        given is True in skip-gram (``losses.TUNED_DEFAULTS``). Measured on English glosses
        (1.77M tokens, d=100, k=5, 2 workers, 2 seeds), the training time to reach 98% of
        gensim ``ns``'s 10-epoch quality (simlex999, wordsim353, analogies), against gensim
        ``ns`` at its best learning rate:

        ====  ===============================  =======  =======
        arch  configuration                    seconds  vs ns
        ====  ===============================  =======  =======
        sg    gensim ns (10 epochs)            31.0     1.00x
        sg    gensim hs, alpha=0.05 (3)        10.5     0.34x
        sg    blackout, defaults (5)           6.7      0.22x
        cbow  gensim ns (10 epochs)            9.3      1.00x
        cbow  gensim hs, alpha=0.05 (5)        5.2      0.56x
        cbow  blackout, defaults (5)           3.0      0.32x
        ====  ===============================  =======  =======

        The README's "Defaults" has the whole grid.

        """
        defaults = default_parameters(loss, sg)
        alpha = defaults["alpha"] if alpha is None else alpha
        shared_samples = defaults["shared_samples"] if shared_samples is None else shared_samples
        hs, negative = self._init_output_layer(loss, hs, negative, nce_normalizer, shared_samples, output_bias,
                                               ns_exponent, sg, window, vector_size, alpha=alpha,
                                               min_alpha=min_alpha, workers=workers, cbow_mean=cbow_mean)
        super().__init__(
            sentences=sentences, corpus_file=corpus_file, vector_size=vector_size, alpha=alpha, window=window,
            min_count=min_count, max_vocab_size=max_vocab_size, sample=sample, seed=seed, workers=workers,
            min_alpha=min_alpha, sg=sg, hs=hs, negative=negative, ns_exponent=ns_exponent, cbow_mean=cbow_mean,
            hashfxn=hashfxn, epochs=epochs, null_word=null_word, trim_rule=trim_rule, sorted_vocab=sorted_vocab,
            batch_words=batch_words, compute_loss=compute_loss, callbacks=callbacks, comment=comment,
            max_final_vocab=max_final_vocab, shrink_windows=shrink_windows,
        )

    def _gensim_train_job(self, sentences, alpha, inits):
        if not self.compute_loss:
            return super()._gensim_train_job(sentences, alpha, inits)
        # gensim's kernels copy model.running_training_loss in, add the job's loss in float32
        # and copy it out, so concurrent jobs overwrite each other's. Give each job a shallow
        # copy of the model (same arrays, same RNG) whose loss starts at 0, and add it under a lock.
        proxy = object.__new__(type(self))
        proxy.__dict__ = dict(self.__dict__)
        proxy.running_training_loss = 0.0
        work, neu1 = inits
        if self.sg:
            tally = gensim_word2vec.train_batch_sg(proxy, sentences, alpha, work, True)
        else:
            tally = gensim_word2vec.train_batch_cbow(proxy, sentences, alpha, work, neu1, True)
        return tally, self._raw_word_count(sentences), proxy.running_training_loss
