"""The output layers shared by :class:`~blackout_ext.Word2Vec`, :class:`~blackout_ext.FastText`
and :class:`~blackout_ext.Doc2Vec`.

:class:`OutputLayerMixin` goes before gensim's class in each model's bases, so that its methods
wrap gensim's through ``super()``. It is made of one mixin per concern, each in its own module:

* :class:`~blackout_ext._hooks.TrainingHooksMixin`: gensim's job and epoch hooks, the checks
  before training, the vocabulary scan;
* :class:`~blackout_ext._tables.TablesMixin`: the noise, Huffman and vocabulary tables;
* :class:`~blackout_ext.output_arrays.ArraysMixin`: the weights, from the registry of output arrays;
* :class:`~blackout_ext._prediction.PredictionMixin`: ``predict_output_word``, ``evaluate_log_likelihood``;
* :class:`~blackout_ext.persistence.PersistenceMixin`: ``save`` and ``load``.

What is left here is the output layer's state: its parameters, checked (:mod:`blackout_ext.checks`),
and what they mean for the kernels. A model class says what its input rows are (``input_kind``,
read by the kernels) and how a job reaches the kernels (``_kernel_job``).
"""
import logging

from blackout_ext import keyedvectors, persistence
from blackout_ext._hooks import TrainingHooksMixin
from blackout_ext._prediction import PredictionMixin
from blackout_ext._tables import TablesMixin
from blackout_ext.checks import (
    check_ns_exponent, check_output_bias, check_shared_samples, check_training_values, resolve_output_layer,
)
from blackout_ext.inputs import InputKind
from blackout_ext.losses import KERNEL_LOSSES, loss_spec, trained_loss
from blackout_ext.output_arrays import ArraysMixin
from blackout_ext.persistence import VECTOR_ATTRS, PersistenceMixin

logger = logging.getLogger(__name__)


class OutputLayerMixin(TrainingHooksMixin, TablesMixin, ArraysMixin, PredictionMixin, PersistenceMixin):
    """What every model of this package adds to its gensim class: the new output layers.

    Subclasses set ``input_kind`` (``"words"``, ``"subwords"`` or ``"documents"``: what the
    kernels build an input vector from) and ``gensim_class`` (the gensim model they extend).
    """
    input_kind = InputKind.WORDS
    gensim_class = None
    reports_gensim_loss = False
    """True where gensim's kernels compute no loss (FastText, Doc2Vec): with ``compute_loss=True``
    this package's kernels then train ``ns``/``hs`` too, the same way, and report their loss."""

    def __setattr__(self, name, value):
        # the vectors gensim's __init__ (or a user) sets get the C text writer (keyedvectors)
        if name in VECTOR_ATTRS:
            value = keyedvectors.adopted(value)
        super().__setattr__(name, value)

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
        shared_samples = check_shared_samples(shared_samples, self.loss, sg)
        self.output_bias = check_output_bias(output_bias, self.loss)
        self.nce_normalizer = nce_normalizer
        self.shared_samples = shared_samples
        self._reset_output_arrays()
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
        gensim_loss = trained_loss(self.loss, self.hs, self.negative)
        return gensim_loss if gensim_loss is not None and loss_spec(gensim_loss).kernel_code else None

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

    def __str__(self):
        text = super().__str__()
        if self.loss is not None:
            text = text[:-1] + f", loss={self.loss}>"
        return text
