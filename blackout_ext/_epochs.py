"""One training epoch in worker threads, for both corpus paths: gensim's machinery, made safe.

gensim runs an epoch as a producer thread that cuts the corpus into jobs and worker threads
that train them (``Word2Vec._train_epoch``), or, for ``corpus_file``, as workers that each read
a part of the file (``_train_epoch_corpusfile``). This module does the same for the model's
hooks, with two guarantees gensim lacks:

* an exception in the corpus iterator or in a worker is raised in the calling thread, instead
  of hanging it;
* an interruption (``KeyboardInterrupt``) stops the producer, lets the workers finish what they
  hold, and joins every thread before it propagates: no thread outlives ``train()``.

:class:`IterableEpoch` and :class:`FileEpoch` each build their threads; :class:`EpochThreads`
runs them and reports progress through gensim's ``_log_epoch_progress``.
"""
import functools
import logging
import os
import threading
import time
from queue import Empty, Full, Queue, SimpleQueue

import numpy as np

from blackout_ext import _corpus_file
from blackout_ext.inputs import InputKind

logger = logging.getLogger(__name__)


def file_chunks(size, workers, min_chunk=1 << 16, max_chunk=1 << 23):
    """Byte offsets that cut a ``corpus_file`` of `size` bytes into chunks for `workers`.

    64 chunks per worker, so that the workers end an epoch within about a chunk's time of each
    other; none smaller than `min_chunk` bytes (a line that starts in a chunk is read whole, so
    tiny chunks would only cost calls), none larger than `max_chunk`. At least one per worker.

    Returns
    -------
    list of int
        ``n + 1`` increasing offsets from 0 to `size`, for ``n`` chunks.
    """
    n = max(64 * workers, -(-size // max_chunk))
    n = max(min(n, -(-size // min_chunk)), workers, 1)
    return [size * i // n for i in range(n + 1)]


def first_lines(path, bounds, block=1 << 22):
    """The number of the first line that starts at or after each byte offset of `bounds` (sorted).

    A Doc2Vec ``corpus_file`` tags each line by its number; a chunk ``[start, end)`` of the file
    holds the lines that start in it (see ``_corpus_file``). The last entry, for the file's
    size, is the number of lines.
    """
    result, newlines, pos, k, last = [], 0, 0, 0, b""
    with open(path, 'rb') as f:
        while True:
            data = f.read(block)
            # a line starts at 0 and after every newline: the first line at or after offset b is
            # the count of newlines before b - 1, plus 1 (for b > 0)
            while k < len(bounds) and (bounds[k] == 0 or bounds[k] - 1 < pos + len(data)):
                b = bounds[k]
                result.append(0 if b == 0 else newlines + data.count(b'\n', 0, b - 1 - pos) + 1)
                k += 1
            if not data:
                break
            newlines += data.count(b'\n')
            pos += len(data)
            last = data[-1:]
    if k < len(bounds):  # offsets at the end of the file: a last line without its newline counts
        size_lines = newlines + (1 if last not in (b"", b"\n") else 0)
        result.extend([size_lines] * (len(bounds) - k))
    return result


@functools.lru_cache(maxsize=16)
def _first_lines_of_file(path, size, mtime_ns, bounds):
    # first_lines for a file as it is (its size and time of change are part of the key): the
    # same chunks of the same file are counted once, not once per epoch
    return first_lines(path, bounds)


def wait_for_threads(threads, progress_queue, grace=5.0):
    """Wait until none of `threads` runs, draining `progress_queue` so that none blocks on it.

    A thread whose ``start()`` was interrupted (a KeyboardInterrupt raised inside it) may have
    been spawned without ``is_alive()`` being true yet: it is already listed by
    ``threading.enumerate()``. Such a thread is given `grace` seconds to come alive.
    """
    deadline = time.monotonic() + grace
    while True:
        present = set(threading.enumerate())
        running = any(thread.is_alive() for thread in threads)
        spawning = any(not thread.is_alive() and thread in present for thread in threads)
        if not running and (not spawning or time.monotonic() > deadline):
            return
        try:
            progress_queue.get(timeout=0.05)
        except (Empty, KeyboardInterrupt):  # a second Ctrl-C: the threads are nearly done
            pass


class ProgressQueue(Queue):
    """The workers' report queue, which also tells the model's callbacks of each report.

    gensim's ``_log_epoch_progress`` takes every report off this queue in the calling thread;
    each ``(examples, effective words, raw words)`` report is then passed on to every callback
    with an ``on_progress(model, raw_words)`` method (see :mod:`blackout_ext.callbacks`).
    """

    def __init__(self, model, callbacks=(), maxsize=0):
        super().__init__(maxsize=maxsize)
        self.listeners = [cb for cb in callbacks if hasattr(cb, "on_progress")]
        self.model = model

    def get(self, block=True, timeout=None):
        report = super().get(block=block, timeout=timeout)
        if report is not None:
            for callback in self.listeners:
                callback.on_progress(self.model, report[2])
        return report


class EpochThreads:
    """The threads of one epoch: started, watched through gensim's progress log, joined.

    Subclasses fill :attr:`threads` and define :meth:`stop` (and :meth:`release`, for threads
    that wait on a producer which may never have started). Every thread puts one report
    ``(examples, effective words, raw words)`` per job on :attr:`progress_queue` and a final
    None; an exception it catches goes to :attr:`failures`.
    """

    def __init__(self, model, progress_queue):
        self.model = model
        self.progress_queue = progress_queue
        self.failures = []
        self.threads = []

    def stop(self):
        """Ask every thread to stop soon."""
        raise NotImplementedError

    def release(self):
        """Free threads that wait for work which will never come (if any)."""

    def run(self, job_queue=None, **progress_kwargs):
        """Run the threads; return what gensim's ``_log_epoch_progress`` returns.

        Raises the first failure of any thread. On an interruption anywhere (while starting,
        waiting or joining), stops the threads that did start and waits for them, draining their
        reports, before it propagates.
        """
        attempted, started = [], []
        try:
            for thread in self.threads:
                attempted.append(thread)
                thread.start()
                started.append(thread)
            result = self.model._log_epoch_progress(
                progress_queue=self.progress_queue, job_queue=job_queue, **progress_kwargs)
            for thread in self.threads:
                thread.join()
        except BaseException:
            self.stop()
            if len(started) < len(self.threads):
                self.release()
            logger.warning("training interrupted: stopping the worker threads")
            wait_for_threads(attempted, self.progress_queue)
            raise
        if self.failures:
            raise self.failures[0]
        return result


class IterableEpoch(EpochThreads):
    """An epoch over an iterable corpus: one producer cuts it into jobs, `workers` consumers train them."""

    def __init__(self, model, data_iterable, cur_epoch=0, total_examples=None, total_words=None, queue_factor=2,
                 callbacks=()):
        super().__init__(model, ProgressQueue(model, callbacks, maxsize=(queue_factor + 1) * model.workers))
        self.data_iterable = data_iterable
        self.job_queue = Queue(maxsize=queue_factor * model.workers)
        self.stopping = threading.Event()
        self.epoch_args = dict(cur_epoch=cur_epoch, total_examples=total_examples, total_words=total_words)
        self.threads = [threading.Thread(target=self.consume, daemon=True) for _ in range(model.workers)]
        self.threads.append(threading.Thread(target=self.produce, daemon=True))

    def stop(self):
        self.stopping.set()

    def release(self):
        # If the producer never started, nobody else will end the consumers. Never blocks: a
        # full queue means the producer did start, and it ends them itself.
        for _ in range(self.model.workers):
            try:
                self.job_queue.put_nowait(None)
            except Full:
                break

    def sentences(self):
        """The corpus, until :meth:`stop`."""
        for item in self.data_iterable:
            if self.stopping.is_set():
                return
            yield item

    def produce(self):
        try:
            self.model._job_producer(self.sentences(), self.job_queue, **self.epoch_args)
        except BaseException as err:
            self.failures.append(err)
            self.stopping.set()
            for _ in range(self.model.workers):
                self.job_queue.put(None)

    def consume(self):
        try:
            mem = self.model._get_thread_working_mem()
        except BaseException as err:  # (a MemoryError, say): fail the epoch, and drain the jobs
            self.failures.append(err)     # below, so that the producer never waits on a full queue
            self.stopping.set()
        while True:
            job = self.job_queue.get()
            if job is None:
                break
            if self.stopping.is_set() and self.failures:
                continue  # drain: the epoch has failed
            try:
                tally, raw_tally = self.model._do_train_job(job[0], job[1], mem)
                self.progress_queue.put((len(job[0]), tally, raw_tally))
            except BaseException as err:
                self.failures.append(err)
                self.stopping.set()
        self.progress_queue.put(None)

    def train(self, report_delay=1.0):
        return self.run(job_queue=self.job_queue, report_delay=report_delay, is_corpus_file_mode=False,
                        **self.epoch_args)


class FileEpoch(EpochThreads):
    """An epoch over a ``corpus_file``: `workers` threads take its chunks in file order, one at a time.

    A worker slowed down (by a busy neighbour on the machine, say) takes fewer chunks, so that
    neither waits long for the other at the end of the epoch. The learning rate follows the
    position in the file.
    """

    def __init__(self, model, corpus_file, cur_epoch=0, total_examples=None, total_words=None, callbacks=()):
        super().__init__(model, ProgressQueue(model, callbacks))
        self.corpus_file = corpus_file
        self.cur_epoch = cur_epoch
        self.epoch_args = dict(cur_epoch=cur_epoch, total_examples=total_examples, total_words=total_words)
        size = os.path.getsize(corpus_file)
        self.vocab_hash = model._vocab_hash()
        self.bounds = file_chunks(size, model.workers)
        self.span = max(size, 1)
        # a seed per chunk, drawn here: with workers=1 the run is reproducible
        self.seeds = [model._next_job_seed() for _ in range(len(self.bounds) - 1)]
        self.first_lines = [0] * len(self.bounds)
        if model.input_kind == InputKind.DOCUMENTS:
            stat = os.stat(corpus_file)
            self.first_lines = _first_lines_of_file(corpus_file, stat.st_size, stat.st_mtime_ns, tuple(self.bounds))
            if self.first_lines[-1] > len(model.dv):
                raise ValueError(f"corpus_file {corpus_file!r} has {self.first_lines[-1]} lines (documents) but the "
                                 f"model has {len(model.dv)} document vectors: build_vocab() on this file first")
        self.chunks = SimpleQueue()
        for i in range(len(self.bounds) - 1):
            self.chunks.put(i)
        self.stop_flag = np.zeros(1, dtype=np.int32)
        self.threads = [threading.Thread(target=self.work, daemon=True) for _ in range(model.workers)]

    def stop(self):
        self.stop_flag[0] = 1

    def train_chunk(self, i, mem):
        """Train chunk `i` of the file; returns (lines, effective words, raw words)."""
        model = self.model
        with model._dense_update_lock():
            lines, effective, raw, job_loss, _ = _corpus_file.train_epoch_file(
                model, self.corpus_file, self.bounds[i], self.bounds[i + 1], self.vocab_hash, mem,
                self.cur_epoch, int(model.compute_loss), self.seeds[i], self.stop_flag,
                self.bounds[i] / self.span, self.bounds[i + 1] / self.span, self.first_lines[i])
        if model.compute_loss:
            model._add_training_loss(job_loss)
        return lines, effective, raw

    def work(self):
        try:
            mem = self.model._get_thread_working_mem()
            while not self.stop_flag[0]:
                try:
                    i = self.chunks.get_nowait()
                except Empty:
                    break
                self.progress_queue.put(self.train_chunk(i, mem))
        except BaseException as err:  # reported to the main thread: a worker never dies silently
            self.failures.append(err)
        finally:
            self.progress_queue.put(None)

    def train(self):
        return self.run(is_corpus_file_mode=True, **self.epoch_args)


def cut_jobs(sentences, batch_words, documents=False):
    """The one job cutter: `sentences` as jobs of at most `batch_words` words, by gensim's rule.

    A sentence joins the job while the job's words stay <= `batch_words`; the one that would
    pass it starts the next job (so a sentence longer than `batch_words` is a job of its own,
    and, first of all, follows an empty job, as in gensim's producer: its job seeds stay the
    same). `documents`: the items are Doc2Vec's documents, whose words count.

    Yields
    ------
    (list, int)
        A job and its number of words.
    """
    job, size = [], 0
    for item in sentences:
        length = len(item.words) if documents else len(item)
        if size + length <= batch_words:
            job.append(item)
            size += length
            continue
        yield job, size
        job, size = [item], length
    if job:
        yield job, size


def produce_jobs(model, data_iterator, job_queue, cur_epoch=0, total_examples=None, total_words=None):
    """gensim's job producer, job for job and learning rate for learning rate.

    A sentence's word count is ``len(sentence)`` instead of a generator per sentence: this
    thread holds the GIL, and its cost per sentence limits how well the workers scale.
    """
    pushed_words, pushed_examples = 0, 0
    next_alpha = model._get_next_alpha(0.0, cur_epoch)
    job_no = 0
    documents = model.input_kind == InputKind.DOCUMENTS   # Doc2Vec's TaggedDocument: count its words
    for job_batch, batch_size in cut_jobs(data_iterator, model.batch_words, documents=documents):
        job_no += 1
        job_queue.put((job_batch, next_alpha))
        if total_examples:
            pushed_examples += len(job_batch)
            epoch_progress = 1.0 * pushed_examples / total_examples
        else:
            pushed_words += batch_size
            epoch_progress = 1.0 * pushed_words / total_words
        next_alpha = model._get_next_alpha(epoch_progress, cur_epoch)
    if job_no == 0 and model.train_count == 0:
        logger.warning(
            "train() called with an empty iterator (if not intended, "
            "be sure to provide a corpus that offers restartable iteration = an iterable).")
    for _ in range(model.workers):
        job_queue.put(None)
    logger.debug("job loop exiting, total %i jobs", job_no)
