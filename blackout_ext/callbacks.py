"""Training callbacks: the loss of each epoch, and a progress bar that moves within an epoch.

Both are gensim :class:`~gensim.models.callbacks.CallbackAny2Vec` objects, passed as
``callbacks=[...]``. Besides gensim's ``on_epoch_*`` / ``on_train_*`` hooks, this package's
training calls ``on_progress(model, raw_words)`` on every callback that has it, each time a
worker finishes a job (iterable corpus) or a chunk (``corpus_file``), from the thread that
trains the model.
"""
from timeit import default_timer

import numpy as np
from gensim.models.callbacks import CallbackAny2Vec


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
