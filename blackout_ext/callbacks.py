"""Training callbacks: the loss of each epoch, a progress bar that moves within an epoch, anytime
evaluation (:class:`Evaluation`) and early stopping (:class:`EarlyStopping`).

Both are gensim :class:`~gensim.models.callbacks.CallbackAny2Vec` objects, passed as
``callbacks=[...]``. Besides gensim's ``on_epoch_*`` / ``on_train_*`` hooks, this package's
training calls ``on_progress(model, raw_words)`` on every callback that has it, each time a
worker finishes a job (iterable corpus) or a chunk (``corpus_file``), from the thread that
trains the model.
"""
import logging
from timeit import default_timer

import numpy as np
from gensim.models.callbacks import CallbackAny2Vec

logger = logging.getLogger(__name__)


class EpochLoss(CallbackAny2Vec):
    """Records each epoch's training loss and when it ended.

    gensim's ``get_latest_training_loss()`` is cumulative within one ``train()`` call; this
    keeps the difference per epoch. Train with ``compute_loss=True``.

    Attributes
    ----------
    cumulative : list of float
        The running loss at the end of each epoch.
    seconds : list of float
        Seconds from the start of ``train()`` to the end of each epoch.
    """

    def __init__(self):
        self.cumulative, self.seconds, self._start = [], [], None

    def on_train_begin(self, model):
        self.cumulative, self.seconds, self._start = [], [], default_timer()

    def on_epoch_end(self, model):
        self.cumulative.append(model.get_latest_training_loss())
        self.seconds.append(default_timer() - self._start)

    @property
    def per_epoch(self):
        """numpy.ndarray: the loss of each epoch."""
        return np.diff([0.0] + self.cumulative)


class ProgressBar(CallbackAny2Vec):
    """A tqdm bar over the words of the whole training run: words/s, ETA and the latest loss.

    It advances within an epoch, at every job or chunk a worker finishes.

    Parameters
    ----------
    epochs : int
        Epochs of the run (the bar's total is ``epochs * model.corpus_total_words``).
    desc : str, optional
        The bar's label.
    """

    def __init__(self, epochs, desc="training"):
        self.epochs, self.desc, self.bar = epochs, desc, None

    def on_train_begin(self, model):
        from tqdm.auto import tqdm

        total = self.epochs * (model.corpus_total_words or 0) or None
        self.bar = tqdm(total=total, unit="word", unit_scale=True, desc=self.desc, smoothing=0.1)
        self.epochs_done, self.epoch_loss_start = 0, 0.0

    def on_progress(self, model, raw_words):
        if self.bar is None:
            return
        self.bar.update(raw_words)
        if model.compute_loss:
            self.bar.set_postfix(loss=f"{model.get_latest_training_loss() - self.epoch_loss_start:.4g}",
                                 refresh=False)

    def on_epoch_end(self, model):
        self.epochs_done += 1
        if self.bar is not None:
            # catch up where no progress came within the epoch (gensim's own corpus_file kernels)
            expected = (self.bar.total or 0) * self.epochs_done // self.epochs
            if self.bar.n < expected:
                self.bar.update(expected - self.bar.n)
            postfix = dict(epoch=f"{self.epochs_done}/{self.epochs}")
            if model.compute_loss:
                postfix["loss"] = f"{model.get_latest_training_loss() - self.epoch_loss_start:.4g}"
            self.bar.set_postfix(postfix)
        self.epoch_loss_start = model.get_latest_training_loss()

    def on_train_end(self, model):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


#: Each metric Evaluation can record, and whether larger is better.
METRICS = {"perplexity": False, "simlex999": True, "wordsim353": True, "analogy_accuracy": True}


class Evaluation(CallbackAny2Vec):
    """Anytime evaluation: scores the model at every epoch's end, or every `every_words` words.

    Each evaluation appends one record to :attr:`records`: the words trained so far, the wall
    time of training so far with every evaluation's own time left out, that evaluation's cost,
    and the metrics. The model is only read.

    Parameters
    ----------
    heldout : iterable of list of str, optional
        Held-out sentences (Doc2Vec: ``TaggedDocument``\\ s) for the exact log-likelihood, by
        ``model.evaluate_log_likelihood``: the record's ``perplexity``. None: no perplexity.
    quality : bool, optional
        Also score the word-similarity sets (simlex999, wordsim353: Spearman) and the analogies
        (questions-words, 3CosAdd, the 30k most frequent words), from gensim's test data.
    every_words : int, optional
        Evaluate every this many words too, within the epochs (at the end of the job or chunk
        that crosses the mark; the workers train on meanwhile, so such a record reads weights
        that move, and its time competes with theirs). None (default): at epoch ends only.

    Attributes
    ----------
    records : list of dict
        ``epoch`` (epochs completed, fractional within an epoch), ``words``, ``train_seconds``,
        ``eval_seconds``, and each metric measured (see :data:`METRICS`).
    eval_seconds : float
        The time all evaluations took, kept out of ``train_seconds``.
    """

    def __init__(self, heldout=None, quality=False, every_words=None):
        if heldout is None and not quality:
            raise ValueError("Evaluation needs heldout= text or quality=True: it would measure nothing")
        if every_words is not None and (not isinstance(every_words, int) or every_words < 1):
            raise ValueError(f"every_words must be a positive integer or None, got {every_words!r}")
        self.heldout = list(heldout) if heldout is not None else None
        self.quality, self.every_words = bool(quality), every_words
        self.records, self.eval_seconds = [], 0.0

    def on_train_begin(self, model):
        self.records, self.eval_seconds = [], 0.0
        self._start, self._words, self._epochs = default_timer(), 0, 0
        self._next_mark = self.every_words

    def on_progress(self, model, raw_words):
        self._words += raw_words
        if self.every_words and self._words >= self._next_mark:
            while self._next_mark <= self._words:
                self._next_mark += self.every_words
            total = model.corpus_total_words or 1
            self.evaluate(model, epoch=self._words / total)

    def on_epoch_end(self, model):
        self._epochs += 1
        # gensim's own corpus_file kernels report no progress within an epoch: count the pass
        self._words = max(self._words, self._epochs * (model.corpus_total_words or 0))
        self.evaluate(model, epoch=float(self._epochs))

    def measure(self, model):
        """The metrics of `model` now, as a dict (see :data:`METRICS`)."""
        metrics = {}
        if self.heldout is not None:
            metrics["perplexity"] = float(model.evaluate_log_likelihood(self.heldout).perplexity)
        if self.quality:
            from blackout_ext.compare import quality_scores

            metrics.update(quality_scores(model.wv))
        return metrics

    def evaluate(self, model, epoch):
        """Measure `model` and append the record; returns it."""
        began = default_timer()
        train_seconds = began - self._start - self.eval_seconds
        metrics = self.measure(model)
        cost = default_timer() - began
        self.eval_seconds += cost
        record = dict(epoch=epoch, words=self._words, train_seconds=train_seconds, eval_seconds=cost, **metrics)
        self.records.append(record)
        logger.info("evaluation at %.2f epochs (%i words, %.1f s of training): %s", epoch, self._words,
                    train_seconds, ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if k in METRICS))
        return record


class EarlyStopping(Evaluation):
    """Stops training once a metric has not improved for `patience` evaluations.

    An :class:`Evaluation` that, after each evaluation, compares `metric` with the best so far;
    when `patience` evaluations in a row failed to improve it by more than `min_delta`
    (relative), it sets ``model.stop_training``: the remaining epochs of that ``train()`` call
    train nothing, and the other callbacks hear no more of them. The model then saves, loads and
    trains on as any other. Works on both corpus paths, with every loss and with gensim's.

    Parameters
    ----------
    heldout : iterable of list of str, optional
        Held-out text, for ``metric='perplexity'`` (the default).
    metric : {'perplexity', 'simlex999', 'wordsim353', 'analogy_accuracy'}, optional
        What must improve: perplexity downwards, the others upwards.
    patience : int, optional
        Evaluations without improvement before stopping (default 2).
    min_delta : float, optional
        The relative improvement that counts (default 0.001: 0.1%).
    restore_best : bool, optional
        At the end of training, put back the weights of the best evaluation (a copy of every
        trained array is kept at each new best).
    every_words : int, optional
        As in :class:`Evaluation`.

    Attributes
    ----------
    best : dict or None
        The record of the best evaluation.
    stopped_epoch : float or None
        Where training was stopped, or None if it ran to the end.
    """

    def __init__(self, heldout=None, metric="perplexity", patience=2, min_delta=0.001, restore_best=False,
                 every_words=None):
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(map(repr, METRICS))}")
        if metric == "perplexity" and heldout is None:
            raise ValueError("metric='perplexity' needs heldout= text")
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if not (min_delta >= 0 and np.isfinite(min_delta)):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        super().__init__(heldout=heldout, quality=metric != "perplexity", every_words=every_words)
        self.metric, self.patience, self.min_delta = metric, patience, float(min_delta)
        self.restore_best = bool(restore_best)

    def on_train_begin(self, model):
        super().on_train_begin(model)
        self.best, self.stopped_epoch, self._waited, self._best_arrays = None, None, 0, None

    def _improves(self, value):
        if self.best is None:
            return True
        best = self.best[self.metric]
        if METRICS[self.metric]:
            return value > best + self.min_delta * abs(best)
        return value < best - self.min_delta * abs(best)

    def evaluate(self, model, epoch):
        record = super().evaluate(model, epoch)
        value = record.get(self.metric)
        if value is None or value != value:
            return record
        if self._improves(value):
            self.best, self._waited = record, 0
            if self.restore_best:
                self._best_arrays = [(array, array.copy()) for _, array in model._trainable_arrays()]
        else:
            self._waited += 1
            if self._waited >= self.patience and not getattr(model, "stop_training", False):
                self.stopped_epoch = epoch
                model.stop_training = True
                logger.info("early stopping at %.2f epochs: %s has not improved on %.4g (at %.2f epochs) for %i "
                            "evaluations", epoch, self.metric, self.best[self.metric], self.best["epoch"],
                            self._waited)
        return record

    def on_train_end(self, model):
        if self.restore_best and self._best_arrays is not None:
            for array, best in self._best_arrays:
                if array.shape == best.shape:
                    array[...] = best
            model._clear_post_train()
            logger.info("restored the weights of the best evaluation (%s %.4g at %.2f epochs)", self.metric,
                        self.best[self.metric], self.best["epoch"])
        self._best_arrays = None
