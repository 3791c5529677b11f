"""Data-parallel training on a Dask cluster: each worker trains the shards it reads.

:func:`train` is the entry point, for :class:`~blackout_ext.Word2Vec` (the default),
:class:`~blackout_ext.FastText` and :class:`~blackout_ext.Doc2Vec`::

    from dask.distributed import Client
    from blackout_ext import FastText, distributed

    client = Client("tcp://scheduler:8786")
    model = distributed.train(["s3://bucket/part-0.txt.gz", ...], client, loss="blackout", epochs=5)
    model = distributed.train(["s3://bucket/part-0.txt.gz", ...], client, model=FastText, loss="nce")

How it works:

* **Vocabulary.** One task per shard counts its words (:func:`count_shard`); the driver adds
  the counts up in shard order, which gives exactly the counts, and the order of first
  occurrence, of one machine's ``build_vocab`` over the shards concatenated. The driver then
  prepares the vocabulary, the weights, the noise tables and (FastText) the n-gram buckets
  once; they reach the workers with the model.
* **Documents** (Doc2Vec). Each line of each shard is a document, tagged by its line number
  counted over the shards in order: the tags one machine's ``corpus_file`` gives the shards
  concatenated.
* **Training.** An epoch is cut into rounds of about ``sync_words`` words. A round has
  :attr:`DistributedReport.tasks` tasks (by default one per worker at the start; fixed for the
  run, so that the result does not depend on when workers come and go), each training the
  next slice of sentences of its shards (:func:`train_slices`) on a replica of the model kept
  in the worker process, along one global learning-rate schedule (linear from ``alpha`` to
  ``min_alpha`` over all epochs' words, as gensim's), scaled by the number of tasks
  (``scale_alpha``). A shard belongs to the same task in every round, so a document's vector
  is only ever trained by one task. The task returns only the rows it changed, in every
  trained array (:func:`trained_arrays`: input vectors, n-gram buckets, document vectors,
  output layer, output bias, NCE normalisers).
* **Synchronisation.** The driver sets each row to the mean of its changes over the tasks that
  changed it (``combine="mean"``; Spark's Word2Vec does the same once per iteration since
  SPARK-24666), or to their sum (``combine="sum"``). It then broadcasts the changed rows, the
  round's update, to the workers, which apply it to their replicas. A worker that lacks the
  previous version (a restarted process) asks for the whole model instead. A row only one task
  changed (a document's, say) gets that task's value under either rule.
  :attr:`DistributedReport.rounds` records the bytes moved, in all and per array.
* **Faults.** A task is a pure function of the model's version, its slices and its seed.
  When a worker process dies, Dask runs its tasks again elsewhere and the driver gets each
  result once: no word is counted twice or lost. With ``checkpoint=``, the driver saves the
  model atomically after each synchronisation, and ``resume=True`` continues from that file.

Tasks on one worker process run one at a time (each holds its process's replica), so give
the workers one thread each and as many processes as cores (``LocalCluster(n_workers=...,
threads_per_worker=1)``).
"""
import collections
import copy
from concurrent.futures import CancelledError
import dataclasses
import itertools
import logging
import math
import pickle
import sys
import threading
import time
import uuid

import numpy as np

from gensim.models.doc2vec import TaggedDocument
from gensim.models.word2vec import MAX_WORDS_IN_BATCH

from blackout_ext import _scan, output_arrays
from blackout_ext._hooks import scans_in_c
from blackout_ext.corpora import LineSentence, warn_invalid_tokens
from blackout_ext._epochs import cut_jobs
from blackout_ext.doc2vec import Doc2Vec
from blackout_ext.fasttext import FastText
from blackout_ext.inputs import InputKind
from blackout_ext.word2vec import Word2Vec

logger = logging.getLogger(__name__)

NEED_STATE = "need-state"
"""What :func:`train_slices` returns when its worker has no replica of the model it needs."""

_REPLICAS = {}
"""In each worker process: run id -> (version, model), the replica its tasks train."""
_REPLICA_LOCK = threading.Lock()
_READERS = {}
"""In each worker process: (run id, shard) -> (next sentence index, open sentence iterator)."""
_PREFETCHED = {}
"""In each worker process: (run id, slice) -> (thread, [sentences]): the next round's slices,
read in the background while the driver combines and broadcasts this round's changes."""

MODEL_CLASSES = (Word2Vec, FastText, Doc2Vec)
"""The models :func:`train` trains (and their subclasses)."""

DERIVED_ARRAYS = {InputKind.SUBWORDS: ("wv.vectors",)}
"""Per input kind, the trainable arrays the driver recomposes instead of shipping them:
FastText's ``wv.vectors`` is ``wv.vectors_vocab`` and ``wv.vectors_ngrams`` combined."""

_NOT_SUPPORTED = ("sentences", "documents", "corpus_iterable", "corpus_file", "max_vocab_size", "trim_rule",
                  "callbacks")


@dataclasses.dataclass
class DistributedReport:
    """What a distributed training did, kept on the model as ``model.distributed_report``.

    Attributes
    ----------
    shards : list of str
        The shards, in order.
    shard_sentences, shard_words : list of int
        Sentences (Doc2Vec: documents, one per line) and words of each shard.
    tasks : int
        Tasks per round. Shard ``i`` is trained by task ``i % tasks`` in every round.
    epochs, rounds_per_epoch : int
        The schedule: each epoch has `rounds_per_epoch` synchronisations.
    combine : str
        How the tasks' changes are combined: ``"mean"`` or ``"sum"`` (:func:`combine_rows`).
    scale_alpha : bool
        Whether each task's learning rate is the schedule's times the number of tasks per round.
    done_rounds : int
        Rounds finished so far (over all epochs).
    version : int
        The model's version: one per synchronisation.
    trained_words, raw_words : int
        Words trained on (kept by subsampling) and words read, over all finished rounds.
    loss : float
        The training loss over all finished rounds (with ``compute_loss=True``).
    rounds : list of dict
        Per synchronisation: epoch, round, words, the rows changed per array, bytes returned by
        the tasks and bytes broadcast (in all, and per array: ``bytes_returned_by_array``,
        ``bytes_broadcast_by_array``), whole models sent, and seconds: in all, waiting for the
        tasks, combining, broadcasting, and the slowest task's reading, training and total.
    seconds_vocabulary : float
        Wall time of the vocabulary: counting the shards on the workers, merging, and building
        the vocabulary and the weights on the driver.
    """
    shards: list
    shard_sentences: list
    shard_words: list
    epochs: int
    rounds_per_epoch: int
    tasks: int = 0
    combine: str = "mean"
    scale_alpha: bool = True
    done_rounds: int = 0
    version: int = 0
    trained_words: int = 0
    raw_words: int = 0
    loss: float = 0.0
    rounds: list = dataclasses.field(default_factory=list)
    seconds_vocabulary: float = 0.0


def shard_reader(path, documents=False):
    """The sentences of a shard; with `documents` (Doc2Vec), one token list per line, empty lines
    included, as gensim's ``TaggedLineDocument`` reads a corpus_file (no line is split)."""
    return LineSentence(path, max_sentence_length=sys.maxsize) if documents else LineSentence(path)


def count_shard(path, documents=False):
    """Count the words of one shard, as ``build_vocab`` would.

    Parameters
    ----------
    path : str
        The shard.
    documents : bool, optional
        Count documents, one per line (Doc2Vec), rather than sentences.

    Returns
    -------
    (dict, int, int)
        Word counts, in order of first occurrence; sentences (or documents); words.

    A local plain file is counted in C (:func:`blackout_ext._scan.scan_file`, the same counts
    in the same order as the Python reader); any other shard by :func:`shard_reader`.
    """
    if scans_in_c(path, None):
        # a document is one line however long: no line is cut into sentences
        counts, words, sentences, invalid = _scan.scan_file(path, 2**31 - 1 if documents else MAX_WORDS_IN_BATCH)
        warn_invalid_tokens(invalid, path)
        return counts, sentences, words
    counts = collections.Counter()
    sentences = words = 0
    reader = shard_reader(path, documents)
    for sentence in reader:
        counts.update(sentence)
        sentences += 1
        words += len(sentence)
    reader.warn_invalid()
    return dict(counts), sentences, words


def trained_arrays(model):
    """The (name, array) pairs that training changes and a synchronisation ships.

    The model's own list of trainable arrays (``model._trainable_arrays()``: input vectors,
    n-gram buckets, document vectors, the output layer's arrays), without the lock factors,
    which training only reads, without the arrays the driver recomposes
    (:data:`DERIVED_ARRAYS`), and without the output arrays registered as not ``shipped``.
    """
    left_out = set(DERIVED_ARRAYS.get(model.input_kind, ()))
    left_out.update(array.name for array in output_arrays.OUTPUT_ARRAYS if not array.shipped)
    return [(name, array) for name, array in model._trainable_arrays()
            if not name.endswith("_lockf") and name not in left_out and len(array)]


def candidate_rows(model, name, documents):
    """The rows of array `name` that training on `documents` can change, or None for any row.

    Only the big arrays narrow it down: FastText's n-gram buckets to the buckets of the
    documents' words, Doc2Vec's document vectors to the documents' tags. So a task copies and
    compares those rows, not the whole bucket matrix or every document's vector.
    """
    if name == "wv.vectors_ngrams":
        start, buckets = model.subword_table()
        words = {w for doc in documents for w in getattr(doc, "words", doc)}
        index = sorted(model.wv.key_to_index[w] for w in words if w in model.wv.key_to_index)
        pieces = [buckets[start[i]:start[i + 1]] for i in index]
        return np.unique(np.concatenate(pieces + [np.zeros(0, dtype=buckets.dtype)])).astype(np.int64)
    if name == "dv.vectors":
        tags = [model.dv.get_index(tag) for doc in documents for tag in doc.tags if tag in model.dv]
        return np.unique(np.asarray(tags, dtype=np.int64))
    return None


def changed_rows(old, new):
    """The indices of the rows (or entries) of `new` that differ from `old`."""
    differs = new != old
    if differs.ndim > 1:
        differs = differs.any(axis=1)
    return np.flatnonzero(differs)


def sparse_nbytes(rows):
    """Bytes of a {name: (indices, values)} update."""
    return sum(index.nbytes + values.nbytes for index, values in rows.values())


def shippable(model):
    """A shallow copy of `model` without its process-local caches (the C vocabulary hash) and
    its report."""
    clone = copy.copy(model)
    clone.__dict__.pop("_vocab_hash_cache", None)
    clone.__dict__.pop("distributed_report", None)
    return clone


def _replica(run_id, version, update, full):
    """The worker's replica at `version`, or None when the worker cannot get there."""
    cached = _REPLICAS.get(run_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    if cached is not None and update is not None and cached[0] == version - 1:
        model = cached[1]
        arrays = dict(trained_arrays(model))
        for name, (index, values) in pickle.loads(update).items():
            arrays[name][index] = values
        _REPLICAS[run_id] = (version, model)
        return model
    if full is not None:
        model = pickle.loads(full)
        for old in [key for key in _REPLICAS if key != run_id]:
            del _REPLICAS[old]   # one run per worker process at a time
        for old in [key for key in _READERS if key[0] != run_id]:
            del _READERS[old]
        for old in [key for key in _PREFETCHED if key[0] != run_id]:
            _PREFETCHED.pop(old)[0].join()
        _REPLICAS[run_id] = (version, model)
        return model
    return None


def _read_slice(run_id, path, start, stop, first_tag=None):
    """Sentences [start, stop) of a shard; the next slice of the same shard continues the read.

    With `first_tag` (Doc2Vec), documents: line ``i`` of the shard is
    ``TaggedDocument(words, [first_tag + i])``. A slice :func:`_prefetch` has read is taken from
    there.
    """
    wanted = (path, start, stop, first_tag)
    piece = None
    for key in [key for key in _PREFETCHED if key[0] == run_id and key[1][0] == path]:
        thread, read = _PREFETCHED.pop(key)
        thread.join()   # the shard's reader is free again
        if key[1] == wanted and read:   # else not this slice, or its read failed: read it here
            piece = read[0]
    return piece if piece is not None else _read_slices_now(run_id, path, start, stop, first_tag)


def _prefetch(run_id, slices):
    """Start reading `slices` in a background thread (of this worker process), for the next round."""
    pieces = [(tuple(spec), []) for spec in slices]

    def read_all():
        for (path, start, stop, first_tag), piece in pieces:
            try:
                piece.append(_read_slices_now(run_id, path, start, stop, first_tag))
            except Exception:   # noqa: BLE001 (the task that needs the slice reads it again and raises)
                logger.debug("reading ahead %s [%d, %d) failed", path, start, stop, exc_info=True)

    thread = threading.Thread(target=read_all, daemon=True, name="blackout-ext-prefetch")
    for spec, piece in pieces:
        _PREFETCHED[(run_id, spec)] = (thread, piece)
    thread.start()


def _read_slices_now(run_id, path, start, stop, first_tag):
    """Read sentences [start, stop) of a shard from its open reader (see :func:`_read_slice`)."""
    documents = first_tag is not None
    key = (run_id, path)
    position, sentences = _READERS.pop(key, (0, None))
    if sentences is None or position > start:
        position, sentences = 0, iter(shard_reader(path, documents))
    piece = list(itertools.islice(sentences, start - position, stop - position))
    _READERS[key] = (stop, sentences)
    if documents:
        piece = [TaggedDocument(words, [first_tag + start + i]) for i, words in enumerate(piece)]
    return piece


def train_slices(run_id, version, update, full, slices, alpha_from, alpha_to, seed, compute_loss,
                 next_slices=()):
    """Train the replica at `version` on `slices`, one after the other.

    Runs in a worker process. `slices` is a list of (shard path, first sentence, end sentence).
    The learning rate falls linearly from `alpha_from` to `alpha_to` over the slices' words.
    The replica is left at `version` (the changes are returned, not kept), so that every task
    of a round starts from the same model. Once trained, the task starts reading
    `next_slices` (this task's slices of the next round) in the background; it does not wait
    for that read.

    `update` is the pickled update from version - 1 to `version` ({array name: (indices,
    values)}), or None; `full` the pickled model at `version`, or None. A worker whose replica
    is at `version` needs neither, one at version - 1 needs `update`, any other `full`.
    `slices` is a list of (shard path, first sentence, end sentence, first tag), the tag being
    None but for Doc2Vec.

    Returns
    -------
    dict or str
        ``trained``, ``raw`` (words), ``loss`` and ``rows``, {array name: (changed indices,
        their new values)}; or :data:`NEED_STATE` when the worker has no replica to train.
    """
    with _REPLICA_LOCK:
        began = time.perf_counter()
        model = _replica(run_id, version, update, full)
        if model is None:
            return NEED_STATE
        sentences = [s for path, start, stop, tag in slices for s in _read_slice(run_id, path, start, stop, tag)]
        read = time.perf_counter()
        arrays = trained_arrays(model)
        snapshot = []
        for name, array in arrays:
            rows = candidate_rows(model, name, sentences)
            snapshot.append((rows, array.copy() if rows is None else array[rows]))
        model.random = np.random.RandomState(seed)
        model.compute_loss = bool(compute_loss)
        model.running_training_loss = 0.0
        total = max(sum(len(getattr(s, "words", s)) for s in sentences), 1)
        done = trained = raw = 0
        memory = model._get_thread_working_mem()
        trained_from = time.perf_counter()
        for job, size in cut_jobs(sentences, model.batch_words):
            alpha = alpha_from + (alpha_to - alpha_from) * done / total
            job_trained, job_raw = model._do_train_job(job, alpha, memory)
            trained += job_trained
            raw += job_raw
            done += size
        trained_to = time.perf_counter()
        rows = {}
        for (name, array), (candidates, old) in zip(arrays, snapshot):
            if candidates is None:
                index = changed_rows(old, array)
                rows[name] = (index, array[index].copy())
                array[...] = old   # back to `version`
            else:
                index = candidates[changed_rows(old, array[candidates])]
                rows[name] = (index, array[index].copy())
                array[candidates] = old
        if next_slices:
            _prefetch(run_id, next_slices)
        return dict(trained=trained, raw=raw, loss=float(model.running_training_loss), rows=rows,
                    seconds_read=read - began, seconds_train=trained_to - trained_from,
                    seconds=time.perf_counter() - began)


COMBINE_RULES = ("mean", "sum")


def combine_rows(model, results, rule="mean"):
    """Apply the tasks' changes to the driver's model, row by row.

    With ``rule="mean"`` each row gets the mean of its changes over the tasks that changed it
    (Spark's rule): a row that n tasks changed moves by 1/n of their sum. With ``rule="sum"``
    it gets their sum, as if the tasks' updates had been applied one after the other, each
    computed on the weights of the last synchronisation.

    Returns the round's update, {array name: (indices, new values)}.
    """
    update = {}
    for name, array in trained_arrays(model):
        changes = [result["rows"][name] for result in results]
        index = np.unique(np.concatenate([rows for rows, _ in changes] + [np.zeros(0, dtype=np.int64)]))
        # the sum of the tasks' new values, and how many tasks changed each row: with c tasks,
        # old + sum(new_i - old) / c is sum(new_i) / c, and old + sum(new_i - old) is
        # sum(new_i) - (c - 1) old, so the old values are read once, for the sum only
        total = np.zeros((len(index),) + array.shape[1:], dtype=np.float64)   # only the changed rows
        count = np.zeros(len(index), dtype=np.int64)
        for rows, values in changes:
            at = np.searchsorted(index, rows)
            total[at] += values
            count[at] += 1
        per_row = count[:, None] if array.ndim > 1 else count
        if rule == "mean":
            new = total / per_row
        else:
            new = total - (per_row - 1) * array[index]
        new = new.astype(array.dtype)
        array[index] = new
        update[name] = (index, new)
    return update


def _check_arguments(corpus_files, client, model_class, sync_words, combine, tasks, model_kwargs):
    if not (isinstance(model_class, type) and issubclass(model_class, MODEL_CLASSES)):
        raise TypeError(f"model must be one of blackout_ext's {', '.join(c.__name__ for c in MODEL_CLASSES)} "
                        f"(or a subclass), got {model_class!r}")
    if isinstance(corpus_files, (str, bytes)) or not len(corpus_files):
        raise ValueError("corpus_files must be a non-empty list of paths or URLs, one per shard")
    if client is None or not hasattr(client, "submit"):
        raise TypeError(f"client must be a dask.distributed.Client, got {client!r}")
    if int(sync_words) < 1:
        raise ValueError(f"sync_words must be >= 1, got {sync_words}")
    if combine not in COMBINE_RULES:
        raise ValueError(f"combine must be one of {COMBINE_RULES}, got {combine!r}")
    if tasks is not None and (isinstance(tasks, bool) or not isinstance(tasks, int) or tasks < 1):
        raise ValueError(f"tasks must be a positive int or None, got {tasks!r}")
    for name in _NOT_SUPPORTED:
        if model_kwargs.get(name) is not None:
            raise TypeError(f"distributed.train() does not take {name}=: the corpus is corpus_files, "
                            "read by the workers")


def build_vocabulary(corpus_files, client, model_class, model_kwargs):
    """Count the shards on the workers, merge exactly, and build a model's vocabulary (Doc2Vec:
    and its tags, the documents' global line numbers) and weights."""
    model = model_class(**model_kwargs)   # checks the parameters before any work
    documents = model.input_kind == InputKind.DOCUMENTS
    futures = client.map(count_shard, list(corpus_files), [documents] * len(corpus_files), pure=False)
    counted = []
    for path, future in zip(corpus_files, futures):
        try:
            counted.append(future.result())
        except Exception as err:
            raise RuntimeError(f"shard {path!r} could not be read: {type(err).__name__}: {err}") from err
    merged = collections.Counter()
    for counts, _, _ in counted:   # in shard order: the order of first occurrence of one pass
        merged.update(counts)
    sentences = sum(c[1] for c in counted)
    words = sum(c[2] for c in counted)
    if documents:   # as gensim's scan of a corpus_file: the int tags 0 .. documents - 1
        model.dv.index_to_key = list(range(sentences))
    model.build_vocab_from_freq(dict(merged), corpus_count=sentences)
    model.corpus_total_words = words
    if not len(model.wv):
        raise RuntimeError("the shards' vocabulary is empty (no word reaches min_count)")
    return model, [c[1] for c in counted], [c[2] for c in counted]


def train(corpus_files, client, model=Word2Vec, sync_words=1_000_000, combine="mean", scale_alpha=True,
          checkpoint=None, resume=False, retries=2, on_sync=None, tasks=None, **model_kwargs):
    """Train a :class:`~blackout_ext.Word2Vec`, :class:`~blackout_ext.FastText` or
    :class:`~blackout_ext.Doc2Vec` on shards read by the workers of a Dask cluster.

    Parameters
    ----------
    corpus_files : list of str
        The shards: one sentence per line (Doc2Vec: one document per line, tagged by its line
        number over the shards in order), tokens separated by whitespace; plain, ``.gz``,
        ``.bz2`` or any URL smart_open reads. Every worker must be able to read every shard.
    client : dask.distributed.Client
        The cluster.
    model : type, optional
        The model class: :class:`~blackout_ext.Word2Vec` (the default),
        :class:`~blackout_ext.FastText` or :class:`~blackout_ext.Doc2Vec`, or a subclass.
    sync_words : int, optional
        Words trained (by all workers together) between synchronisations.
    combine : {'mean', 'sum'}, optional
        How a synchronisation combines the tasks' changes to a row: their mean over the tasks
        that changed it (the default, Spark's rule), or their sum.
    scale_alpha : bool, optional
        Train each task at the schedule's learning rate times the number of tasks in a round
        (one per worker), as parallel SGD with model averaging does (Kaldi's nnet3, for one).
        Without it, the mean shrinks the step of every row several tasks change, and the
        vectors lose much of their quality at equal epochs; with the sum instead, the frequent
        words' rows overshoot. The README has the measurements.
    checkpoint : str, optional
        Save the model here, atomically, after every synchronisation.
    resume : bool, optional
        Continue the training saved in `checkpoint` (same shards) instead of starting anew. The
        model's parameters are the checkpoint's; one given here that differs is an error.
    retries : int, optional
        Times a failed task is retried (Dask's ``retries``); a task whose worker died is run
        again by Dask itself.
    on_sync : callable, optional
        Called as ``on_sync(model, report)`` after each synchronisation, on the driver.
    tasks : int, optional
        Tasks per round (each trains the slices of every `tasks`-th shard). By default one per
        worker when training starts, at most one per shard. The result depends on it, not on the
        workers: it is kept in the report, and a resumed training keeps it.
    **model_kwargs
        The model's parameters (``loss``, ``negative``, ``epochs``, ...), without a corpus.

    Returns
    -------
    :class:`~blackout_ext.Word2Vec`, :class:`~blackout_ext.FastText` or :class:`~blackout_ext.Doc2Vec`
        The trained model, of class `model`; ``model.distributed_report``
        (:class:`DistributedReport`) says what was done.

    Raises
    ------
    ValueError, TypeError
        For a bad argument.
    RuntimeError
        When a shard's task fails for good (its worker lost too often, say); the message names the shard.
    """
    model_class = model
    _check_arguments(corpus_files, client, model_class, sync_words, combine, tasks, model_kwargs)
    corpus_files = [str(path) for path in corpus_files]
    if resume:
        if checkpoint is None:
            raise ValueError("resume=True needs checkpoint=, the file to resume from")
        model = model_class.load(checkpoint)
        report = model.distributed_report
        if report.shards != corpus_files:
            raise ValueError(f"checkpoint {checkpoint!r} was made with other shards: {report.shards}")
        for name, value in model_kwargs.items():
            if hasattr(model, name) and getattr(model, name) != value:
                raise ValueError(f"checkpoint {checkpoint!r} was made with {name}={getattr(model, name)!r}, "
                                 f"not {value!r}")
        if tasks is not None and tasks != report.tasks:
            raise ValueError(f"checkpoint {checkpoint!r} was made with tasks={report.tasks}, not {tasks}")
    else:
        began = time.perf_counter()
        model, shard_sentences, shard_words = build_vocabulary(corpus_files, client, model_class, model_kwargs)
        words = sum(shard_words)
        if tasks is None:
            tasks = len(client.nthreads()) or 1   # asked of the scheduler now
        report = DistributedReport(
            shards=corpus_files, shard_sentences=shard_sentences, shard_words=shard_words, epochs=model.epochs,
            rounds_per_epoch=max(1, math.ceil(words / int(sync_words))), tasks=min(tasks, len(corpus_files)),
            combine=combine, scale_alpha=bool(scale_alpha), seconds_vocabulary=time.perf_counter() - began)
        model.distributed_report = report
        model.running_training_loss = 0.0
    logger.info("training %s on %d shards (%d words) for %d epochs, %d synchronisations per epoch, %d tasks each",
                type(model).__name__, len(corpus_files), sum(report.shard_words), report.epochs,
                report.rounds_per_epoch, report.tasks)
    if model.uses_own_kernels:
        model._prepare_kernel_tables()   # built once here, they reach the workers with the model
    run_id = uuid.uuid4().hex
    total_rounds = report.epochs * report.rounds_per_epoch
    update_future = None
    while report.done_rounds < total_rounds:
        epoch, round_ = divmod(report.done_rounds, report.rounds_per_epoch)
        start = time.perf_counter()
        workers = sorted(client.nthreads())
        results, bytes_full, n_full = _run_round(client, model, report, run_id, update_future, epoch, round_,
                                                 retries, workers)
        tasks_done = time.perf_counter()
        update = combine_rows(model, results, report.combine)
        combined = time.perf_counter()
        report.version += 1
        words = sum(r["raw"] for r in results)
        report.trained_words += sum(r["trained"] for r in results)
        report.raw_words += words
        report.loss += sum(r["loss"] for r in results)
        report.done_rounds += 1
        # as one bytes object: Dask would scatter a dict's values under its keys, the same each round
        update_future = client.scatter(pickle.dumps(update, protocol=pickle.HIGHEST_PROTOCOL), broadcast=True,
                                       hash=False)
        returned = {name: sum(sparse_nbytes({name: r["rows"][name]}) for r in results) for name in update}
        broadcast = {name: sparse_nbytes({name: rows}) * max(len(workers), 1) for name, rows in update.items()}
        report.rounds.append(dict(
            epoch=epoch, round=round_, words=words, rows={name: len(index) for name, (index, _) in update.items()},
            bytes_returned=sum(returned.values()), bytes_broadcast=sum(broadcast.values()),
            bytes_returned_by_array=returned, bytes_broadcast_by_array=broadcast, whole_models=n_full,
            bytes_whole_models=bytes_full, seconds=time.perf_counter() - start, seconds_tasks=tasks_done - start,
            seconds_combine=combined - tasks_done, seconds_broadcast=time.perf_counter() - combined,
            seconds_task_train=max(r["seconds_train"] for r in results),
            seconds_task_read=max(r["seconds_read"] for r in results),
            seconds_task=max(r["seconds"] for r in results)))
        logger.info("synchronisation %d/%d (epoch %d): %d words, %.1f MB returned, %.1f MB broadcast, "
                    "%d whole models sent", report.done_rounds, total_rounds, epoch + 1, words,
                    report.rounds[-1]["bytes_returned"] / 2**20, report.rounds[-1]["bytes_broadcast"] / 2**20, n_full)
        model.running_training_loss = report.loss
        model.wv.norms = None
        if checkpoint is not None or on_sync is not None:
            model._clear_post_train()   # FastText: wv.vectors recomposed from what was trained
        if checkpoint is not None:
            model.save(checkpoint)
        if on_sync is not None:
            on_sync(model, report)
    model._clear_post_train()
    model.train_count += 1
    return model


def _run_round(client, model, report, run_id, update_future, epoch, round_, retries, workers):
    """Train this round's slice of every shard, one task per worker of `workers` (each task
    trains the slices of its shards one after the other); ask again with the whole model where
    needed."""
    from distributed import KilledWorker

    n = report.rounds_per_epoch
    n_tasks = report.tasks or max(1, min(len(report.shards), len(workers)))   # 0: a checkpoint made before tasks=
    scale = n_tasks if report.scale_alpha else 1
    documents = model.input_kind == InputKind.DOCUMENTS
    first_tags = np.concatenate([[0], np.cumsum(report.shard_sentences)]).tolist()
    # gensim's own schedule, linear over all epochs, at the start and the end of the round
    alpha_from = scale * model._get_next_alpha(round_ / n, epoch)
    alpha_to = scale * model._get_next_alpha((round_ + 1) / n, epoch)
    compute_loss = bool(model.compute_loss)

    def slices_of(t, at):   # task t's slices in round `at` of an epoch
        return [(report.shards[i], report.shard_sentences[i] * at // n, report.shard_sentences[i] * (at + 1) // n,
                 first_tags[i] if documents else None) for i in range(t, len(report.shards), n_tasks)]

    last_round = report.done_rounds + 1 == report.epochs * n
    tasks = []
    for t in range(n_tasks):
        seed = (model.seed * 1_000_003 + report.done_rounds * 10_007 + t) % 2**31
        following = [] if last_round else slices_of(t, (round_ + 1) % n)   # read ahead by the task
        tasks.append((slices_of(t, round_), seed, workers[t % len(workers)] if workers else None, following))
    full_future = None
    bytes_full = n_full = 0
    results = [None] * len(tasks)
    pending = list(range(len(tasks)))
    cancelled = set()
    while pending:
        futures = {}
        for i in pending:
            slices, seed, worker, following = tasks[i]
            futures[i] = client.submit(
                train_slices, run_id, report.version, None if cancelled else update_future, full_future, slices,
                alpha_from, alpha_to, seed, compute_loss, following, pure=False, retries=retries,
                **({"workers": [worker], "allow_other_workers": True} if worker else {}))
        missing = []
        for i, future in futures.items():
            try:
                result = future.result()
            except KilledWorker as err:
                raise RuntimeError(f"the task of shards {[s[0] for s in tasks[i][0]]} lost its worker too often "
                                   f"({err})") from err
            except CancelledError as err:
                # the scheduler forgot the broadcast update with the worker that held it: the task
                # is a pure function of (version, slices, seed), so it runs again, from the whole
                # model; twice is a failure
                if i in cancelled:
                    raise RuntimeError(f"the task of shards {[s[0] for s in tasks[i][0]]} was cancelled twice in "
                                       f"round {round_ + 1} of epoch {epoch + 1}: {err}") from err
                logger.warning("a task of round %d was cancelled (%s); running it again from the whole model",
                               round_ + 1, err)
                cancelled.add(i)
                missing.append(i)
                continue
            except Exception as err:
                raise RuntimeError(f"the task of shards {[s[0] for s in tasks[i][0]]} failed in round "
                                   f"{round_ + 1} of epoch {epoch + 1}: {type(err).__name__}: {err}") from err
            if isinstance(result, str) and result == NEED_STATE:
                missing.append(i)
            else:
                results[i] = result
        if missing:
            if full_future is not None and not cancelled:
                raise RuntimeError("a worker that was sent the whole model still has no replica of it")
            state = pickle.dumps(shippable(model), protocol=pickle.HIGHEST_PROTOCOL)
            full_future = client.scatter(state, hash=False)
            n_full += len(missing)
            bytes_full += len(state) * len(missing)
        pending = missing
    return results, bytes_full, n_full
