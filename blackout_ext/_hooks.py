"""gensim's training hooks, as this package overrides them: which kernels train a job, the epochs
in worker threads (``_epochs``), the checks before training, the vocabulary scan, and the loss
accounting (per job, in double, added under a lock).
"""
import collections
import contextlib
import inspect
import logging
import os
import threading

from gensim.models.word2vec import MAX_WORDS_IN_BATCH

from blackout_ext import _epochs, _inner, _scan
from blackout_ext._blas import single_threaded_blas
from blackout_ext.checks import (
    check_ns_exponent, check_output_bias, check_shared_samples, check_training_values, corpus_file_path,
    resolve_output_layer,
)
from blackout_ext.corpora import LineSentence, warn_invalid_tokens
from blackout_ext.output_arrays import WEIGHT_LIMIT, at_weight_limit

logger = logging.getLogger(__name__)

SOFTMAX_WARN_VOCAB = 20000
"""``loss="softmax"`` logs a warning on vocabularies larger than this."""


_LOSS_LOCK = threading.Lock()


_SOFTMAX_LOCK = threading.Lock()


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


COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".lzma", ".zip")
"""A ``corpus_file`` with one of these endings is read through smart_open, by the Python scan."""


def scans_in_c(path, max_vocab_size):
    """bool: whether :mod:`blackout_ext._scan` counts `path`: a local plain file, and no
    ``max_vocab_size`` (whose pruning depends on gensim's order of sentences)."""
    return (not max_vocab_size and "://" not in path and os.path.isfile(path)
            and not path.lower().endswith(COMPRESSED))


class TrainingHooksMixin:
    """gensim's training hooks for the new output layers; see the module's text."""

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
        if self.uses_own_kernels and at_weight_limit(*self._watched_arrays()):
            logger.warning(
                "training diverged: weights reached the clamp limit of +-%g (alpha=%g is too high for this "
                "corpus and loss); the vectors are finite but not meaningful", WEIGHT_LIMIT, self.alpha)
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
        self._grow_output_arrays(only_mismatched=True)
        if self.dense_output and len(self.wv) > SOFTMAX_WARN_VOCAB:
            logger.warning(
                "loss='softmax' costs O(|V| d) per prediction: %i x %i = %.1e multiply-adds, about %ix the "
                "work of negative=%i. Consider loss='sampled_softmax' or 'blackout'.",
                len(self.wv), self.layer1_size, 3.0 * len(self.wv) * self.layer1_size,
                len(self.wv) // (self.negative + 1), self.negative)

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
        ``corpus_file`` training path skips it, instead of failing the whole run. A plain file
        (not compressed, no ``max_vocab_size``) is counted in C (:mod:`blackout_ext._scan`), with
        the same counts in the same order.
        """
        path = corpus_file_path(corpus_file)
        if path is not None and scans_in_c(path, self.max_vocab_size):
            logger.info("collecting all words and their counts")
            counts, total_words, corpus_count, invalid = _scan.scan_file(path, MAX_WORDS_IN_BATCH)
            self.raw_vocab = collections.defaultdict(int, counts)
            warn_invalid_tokens(invalid, path)
            logger.info("collected %i word types from a corpus of %i raw words and %i sentences",
                        len(self.raw_vocab), total_words, corpus_count)
            return total_words, corpus_count
        reader = None
        if path is not None:
            corpus_iterable = reader = LineSentence(path)
        result = super().scan_vocab(corpus_iterable=corpus_iterable, progress_per=progress_per, workers=workers,
                                    trim_rule=trim_rule)
        if reader is not None:
            reader.warn_invalid()
        return result

    def _check_corpus_sanity(self, corpus_iterable=None, corpus_file=None, passes=1):
        super()._check_corpus_sanity(corpus_iterable=corpus_iterable, corpus_file=corpus_file_path(corpus_file),
                                     passes=passes)

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
