"""Doc2Vec with more output layers: BlackOut, NCE, sampled softmax and the full softmax.

:class:`Doc2Vec` is a drop-in replacement for :class:`gensim.models.Doc2Vec`. Without the
``loss`` argument it is gensim's model, trained by gensim's own kernels. With one of this
package's losses:

* PV-DBOW (``dm=0``): each tag's vector predicts each word of its document; with
  ``dbow_words=1`` the words' skip-gram pairs are trained too, interleaved, as gensim does.
* PV-DM (``dm=1``): the sum, or mean (``dm_mean=1``), of the context words' vectors and the
  document's tag vectors predicts the centre word.
* :meth:`Doc2Vec.infer_vector` trains a new document's vector with the model's own loss,
  the words and the output layer held fixed.

Examples
--------
.. sourcecode:: pycon

    >>> from gensim.test.utils import common_texts
    >>> from gensim.models.doc2vec import TaggedDocument
    >>> from blackout_ext import Doc2Vec
    >>> documents = [TaggedDocument(doc, [i]) for i, doc in enumerate(common_texts)]
    >>> model = Doc2Vec(documents, dm=0, loss="blackout", vector_size=8, min_count=1, workers=1)
    >>> vector = model.infer_vector(["system", "response"])

"""
import logging

import numpy as np
from gensim.models import doc2vec as gensim_doc2vec
from gensim.models.keyedvectors import pseudorandom_weak_vector

from blackout_ext import _inner
from blackout_ext.losses import fill_docs
from blackout_ext.output_arrays import named_arrays
from blackout_ext.inputs import InputKind
from blackout_ext.output_layer import OutputLayerMixin

logger = logging.getLogger(__name__)


def document_tags(dv):
    """The tags of `dv` as ``(keys, counts)``: its keys in row order (integer tags are their own row)
    and each string tag's ``(word_count, doc_count)``."""
    keys = list(dv.index_to_key)
    word_counts, doc_counts = dv.expandos.get('word_count'), dv.expandos.get('doc_count')
    counts = {key: (int(word_counts[i]), int(doc_counts[i])) for i, key in enumerate(keys)
              if word_counts is not None and not isinstance(key, (int, np.integer))}
    return keys, counts


def merge_document_tags(dv, before, scanned):
    """Set `dv`'s tags to those of `before` followed by the new ones of `scanned` (both from
    :func:`document_tags`): a known tag keeps its row and adds its counts."""
    keys, counts = before
    new_keys, new_counts = scanned
    merged, rows = list(keys), {key: i for i, key in enumerate(keys) if not isinstance(key, (int, np.integer))}
    top_int = max((key for key in new_keys if isinstance(key, (int, np.integer))), default=-1)
    if top_int >= len(merged):
        if rows:
            raise ValueError(f"integer document tag {top_int} has no row: the model has {len(merged)} document "
                             "vectors and string tags, so an integer tag would take another document's row")
        merged.extend(range(len(merged), top_int + 1))
    for key in new_keys:
        if not isinstance(key, (int, np.integer)) and key not in rows:
            rows[key] = len(merged)
            merged.append(key)
    dv.index_to_key = merged
    dv.key_to_index = rows
    for key, (word_count, doc_count) in new_counts.items():
        old_words, old_docs = counts.get(key, (0, 0))
        dv.set_vecattr(key, 'word_count', old_words + word_count)
        dv.set_vecattr(key, 'doc_count', old_docs + doc_count)
    dv.allocate_vecattrs()

__doc__ = fill_docs(__doc__)


class Doc2Vec(OutputLayerMixin, gensim_doc2vec.Doc2Vec):
    input_kind = InputKind.DOCUMENTS
    """What the kernels build an input vector from: words' rows and the documents' tag rows."""
    reports_gensim_loss = True
    gensim_class = gensim_doc2vec.Doc2Vec

    @fill_docs
    def __init__(self, documents=None, corpus_file=None, vector_size=100, dm_mean=None, dm=1, dbow_words=0,
                 dm_concat=0, dm_tag_count=1, dv=None, dv_mapfile=None, comment=None, trim_rule=None, callbacks=(),
                 window=5, epochs=10, shrink_windows=True, hs=None, negative=None, ns_exponent=0.75, loss=None,
                 nce_normalizer="fixed", output_bias=None, **kwargs):
        """Doc2Vec with a choice of output layer.

        Every parameter of :class:`gensim.models.Doc2Vec` keeps its meaning and default (the
        parameters it passes on to Word2Vec, `hs`, `negative` and `ns_exponent` among them);
        only those that differ or are new are listed here.

        Parameters
        ----------
        loss : $loss_choices, optional
            The output layer, as in :class:`blackout_ext.Word2Vec` (None: gensim's choice by `hs`
            and `negative`).
        hs : {0, 1}, optional
            As in gensim (default 0). Must agree with `loss` when both are given.
        negative : int, optional
            As in gensim (default 5); with the sampled losses, the noise samples k per prediction.
        nce_normalizer : {'fixed'}, optional
            For ``loss='nce'``: only the self-normalised ``c = 0``. A learned normaliser is one
            per input word in Word2Vec; a document vector has none.
        output_bias : {None, True, False}, optional
            As in :class:`blackout_ext.Word2Vec`: on by default for this package's losses.

        Raises
        ------
        ValueError
            As :class:`blackout_ext.Word2Vec` raises; and for ``dm_concat=1`` or
            ``nce_normalizer='learned'`` with this package's losses.

        Notes
        -----
        PV-DM adds the input gradient undivided to every context row and tag row, for both
        `dm_mean` values, as this package's CBOW does (gensim divides it by the context size
        when the context is summed).
        """
        sg = (1 + dm) % 2
        hs, negative = self._init_output_layer(
            loss, hs, negative, nce_normalizer, False, output_bias, ns_exponent, sg, window, vector_size,
            alpha=kwargs.get('alpha', 0.025), min_alpha=kwargs.get('min_alpha', 0.0001),
            workers=kwargs.get('workers', 3), cbow_mean=kwargs.get('cbow_mean', 1 if dm_mean is None else dm_mean))
        if self.uses_own_kernels and dm and dm_concat:
            raise ValueError(f"dm_concat=1 is not supported with loss={self.loss!r}: use dm_concat=0 (PV-DM by "
                             "sum or mean), dm=0 (PV-DBOW), or gensim's loss='ns' or 'hs'")
        if self.nce_learned:
            raise ValueError("nce_normalizer='learned' is not supported by Doc2Vec: a document vector has no "
                             "learned normaliser; use nce_normalizer='fixed'")
        super().__init__(
            documents=documents, corpus_file=corpus_file, vector_size=vector_size, dm_mean=dm_mean, dm=dm,
            dbow_words=dbow_words, dm_concat=dm_concat, dm_tag_count=dm_tag_count, dv=dv, dv_mapfile=dv_mapfile,
            comment=comment, trim_rule=trim_rule, callbacks=callbacks, window=window, epochs=epochs,
            shrink_windows=shrink_windows, hs=hs, negative=negative, ns_exponent=ns_exponent, **kwargs)

    # gensim's own: documents are TaggedDocuments, and a corpus_file's lines are tagged by number
    scan_vocab = gensim_doc2vec.Doc2Vec.scan_vocab

    def build_vocab(self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000,
                    keep_raw_vocab=False, trim_rule=None, **kwargs):
        """Build the vocabulary and the document tags, as gensim does.

        With ``update=True`` the tags of the new documents are added to the model's: a tag it
        knows keeps its vector (and its counts grow), a new string tag gets a new vector, and an
        integer tag is the row of that number, as gensim reads it. gensim's own replaces the
        string tags, so that a new tag and the first old one share row 0.

        Raises
        ------
        ValueError
            If an update brings integer tags past the model's rows while it also has string tags
            (they would take the rows of other documents).
        """
        self._tags_before_update = document_tags(self.dv) if update else None
        try:
            return super().build_vocab(corpus_iterable=corpus_iterable, corpus_file=corpus_file, update=update,
                                       progress_per=progress_per, keep_raw_vocab=keep_raw_vocab,
                                       trim_rule=trim_rule, **kwargs)
        finally:
            del self._tags_before_update

    def _scan_vocab(self, corpus_iterable, progress_per, trim_rule):
        # gensim's, with a clear error for documents that are not TaggedDocuments (gensim's is an
        # AttributeError: 'list' object has no attribute 'words'), and an update that adds tags
        def checked(documents):
            for document in documents:
                if not (hasattr(document, 'words') and hasattr(document, 'tags')):
                    raise TypeError(f"Doc2Vec documents must be TaggedDocument(words, tags), got a "
                                    f"{type(document).__name__}: {str(document)[:60]!r}")
                yield document
        before = getattr(self, '_tags_before_update', None)
        result = super()._scan_vocab(checked(corpus_iterable), progress_per, trim_rule)
        if before is not None:
            merge_document_tags(self.dv, before, document_tags(self.dv))
        return result

    def _kernel_job(self, job):
        dv = self.dv
        return ([doc.words for doc in job],
                [[dv.get_index(tag) for tag in doc.tags if tag in dv] for doc in job])

    def update_weights(self):
        """Grow the weights for new words, and (unlike gensim's, whose kernels then write past
        the end of ``dv.vectors``) for new document tags, at random as gensim starts them."""
        super().update_weights()
        if len(self.dv) > len(self.dv.vectors):
            logger.info("adding %i document vectors", len(self.dv) - len(self.dv.vectors))
            self.dv.resize_vectors(seed=self.seed + 7919)

    def _check_training_sanity(self, epochs=0, total_examples=None, total_words=None, **kwargs):
        super()._check_training_sanity(epochs=epochs, total_examples=total_examples, total_words=total_words,
                                       **kwargs)
        if len(self.dv.vectors) < len(self.dv):
            raise RuntimeError(f"dv has {len(self.dv)} tags but {len(self.dv.vectors)} vectors; call "
                               "build_vocab() (with update=True for new documents) before train()")

    def _trainable_arrays(self):
        return super()._trainable_arrays() + named_arrays(self.dv, "dv.", ("vectors", "vectors_lockf"))

    def evaluate_log_likelihood(self, documents, batch_contexts=None):
        """Exact log-likelihood of documents; see :func:`blackout_ext.evaluation.evaluate_documents_log_likelihood`.

        Parameters
        ----------
        documents : iterable of :class:`~gensim.models.doc2vec.TaggedDocument`
            The documents. A document whose first tag the model knows is scored with that tag's
            vector; any other with a vector from :meth:`infer_vector`.
        batch_contexts : int, optional
            Contexts scored per batch.

        Returns
        -------
        :class:`~blackout_ext.evaluation.LogLikelihoodResult`
        """
        from blackout_ext.evaluation import evaluate_documents_log_likelihood

        return evaluate_documents_log_likelihood(self, documents, batch_contexts=batch_contexts)

    def infer_vector(self, doc_words, alpha=None, min_alpha=None, epochs=None):
        """Infer a vector for a document, by training it with the model's own loss.

        As gensim's: the document's vector starts from a pseudo-random vector seeded by its
        words, and is trained for `epochs` passes with the learning rate falling linearly from
        `alpha` to `min_alpha`; the word vectors and the output layer are not changed.

        Parameters
        ----------
        doc_words : list of str
            The document.
        alpha : float, optional
            The initial learning rate (default: the model's).
        min_alpha : float, optional
            The final learning rate (default: the model's).
        epochs : int, optional
            Passes over the document (default: the model's).

        Returns
        -------
        numpy.ndarray
            The inferred vector.
        """
        if not self.uses_own_kernels:
            return super().infer_vector(doc_words, alpha=alpha, min_alpha=min_alpha, epochs=epochs)
        if isinstance(doc_words, str):
            raise TypeError("Parameter doc_words of infer_vector() must be a list of strings (not a single string).")
        if not len(self.wv):
            raise RuntimeError("the model has no vocabulary: build_vocab() and train() it before infer_vector()")
        alpha = alpha or self.alpha
        min_alpha = min_alpha or self.min_alpha
        epochs = epochs or self.epochs
        vector = pseudorandom_weak_vector(self.dv.vector_size, seed_string=' '.join(doc_words))
        vector = vector.reshape(1, self.dv.vector_size)
        self._prepare_kernel_tables()
        mem = self._get_thread_working_mem()
        vocab_hash = self._vocab_hash()
        alpha_delta = (alpha - min_alpha) / max(epochs - 1, 1)
        for _ in range(epochs):
            with self._dense_update_lock():
                _inner.train_batch(self, [doc_words], alpha, mem, 0, self._next_job_seed(), vocab_hash,
                                   doc_tags=[[0]], infer_into=vector)
            alpha -= alpha_delta
        return vector[0]
