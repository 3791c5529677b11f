# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The ``corpus_file`` path: this package's own line reader, feeding the training drivers.

Nothing here ties the package to one gensim binary build. A call reads the lines that *start*
in its byte range ``[start, end)``: it skips the rest of a line it starts inside of, and the
call for the previous range finishes that line, so no line is ever trained on in fragments.
The Python side (``blackout_ext._epochs``) hands the ranges (chunks of the file) out to the
workers one at a time, and the learning rate follows the position in the file, so there is no
sawtooth across workers. Tokens are looked up in the vocabulary's C table (``_vocab.pxd``) and
subsampled without the GIL; each batch of words goes to ``run_batch``, the drivers' dispatch.
"""
import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint64_t, uint32_t, int32_t
from libc.string cimport memmove, memset

from blackout_ext._inner cimport REAL_t, TrainConfig, init_config, run_batch
from blackout_ext._random cimport rng_next32
from blackout_ext._vocab cimport VocabTable, vocab_lookup, vocab_table

cnp.import_array()

from libc.stdio cimport FILE, fopen, fclose, fgetc
from libc.stdlib cimport free

cdef extern from "stdio.h" nogil:
    ssize_t getline(char **lineptr, size_t *n, FILE *stream)
    int fseeko(FILE *stream, long long offset, int whence)

cdef extern from *:
    """
    #define BO_FILE_BATCH_WORDS 10000
    """
    int BO_FILE_BATCH_WORDS  # words per batch; a longer line is split into pieces of this size


cdef inline int is_space(char ch) noexcept nogil:
    return ch == b' ' or ch == b'\t' or ch == b'\n' or ch == b'\r' or ch == b'\v' or ch == b'\f'


cdef struct FileJob:
    double start_alpha, end_alpha
    int cur_epoch, epochs
    long long start, end
    double progress_from, progress_to   # the share of the epoch done at `start` and at `end`
    int32_t *idx              # BO_FILE_BATCH_WORDS words
    int32_t *bounds           # BO_FILE_BATCH_WORDS + 1 sentence starts
    int docs                  # 1: each line is a Doc2Vec document, tagged by its line number
    long long line_tag        # the line number (document tag) of the line being read
    long long n_docs          # document vectors there are: a line beyond them has no tag
    int32_t *tags             # each sentence's tag (its line's number)
    const int32_t *tag_bounds # 0, 1, 2, ...: sentence s has the one tag tags[s]
    int n_words, n_sent
    long long sentences, effective_words, raw_words
    const int32_t *stop       # set to 1 by the main thread to interrupt the epoch


cdef inline double scheduled_alpha(double start_alpha, double end_alpha, int cur_epoch, int epochs,
                                   double progress) noexcept nogil:
    # gensim's learning-rate schedule (Word2Vec._get_next_alpha): linear from start_alpha to
    # end_alpha over all epochs, never below end_alpha; `progress` is the share of this epoch done
    cdef double alpha = start_alpha - (start_alpha - end_alpha) * (cur_epoch + progress) / epochs
    return alpha if alpha > end_alpha else end_alpha


def learning_rate(double start_alpha, double end_alpha, int cur_epoch, int epochs, double progress):
    """The learning rate this reader trains with at `progress` of epoch `cur_epoch`: gensim's
    schedule (``tests/test_streams.py`` checks it against ``Word2Vec._get_next_alpha``)."""
    return scheduled_alpha(start_alpha, end_alpha, cur_epoch, epochs, progress)


cdef void train_file_batch(TrainConfig *c, FileJob *job, long long pos) noexcept nogil:
    cdef double progress = (<double>(pos - job.start)) / (<double>max(job.end - job.start, 1))
    if progress > 1.0:  # the last line may run past `end`
        progress = 1.0
    progress = job.progress_from + (job.progress_to - job.progress_from) * progress
    c.alpha = <REAL_t>scheduled_alpha(job.start_alpha, job.end_alpha, job.cur_epoch, job.epochs, progress)
    run_batch(c, job.idx, job.bounds, job.n_sent, job.tags if job.docs else NULL, job.tag_bounds)


cdef inline void push_word(TrainConfig *c, FileJob *job, int32_t w, long long pos) noexcept nogil:
    cdef int partial
    if job.n_words == BO_FILE_BATCH_WORDS:
        if job.n_sent > 0:
            # train the finished sentences, keep the current one for the next batch
            train_file_batch(c, job, pos)
            partial = job.n_words - job.bounds[job.n_sent]
            memmove(job.idx, job.idx + job.bounds[job.n_sent], partial * sizeof(int32_t))
            job.n_words = partial
        else:
            # one line longer than a batch: split it here
            job.bounds[1] = job.n_words
            job.tags[0] = <int32_t>job.line_tag
            job.n_sent = 1
            train_file_batch(c, job, pos)
            job.n_words = 0
        job.n_sent = 0
        job.bounds[0] = 0
    job.idx[job.n_words] = w
    job.n_words += 1


cdef void read_range(TrainConfig *c, FileJob *job, const VocabTable *vocab, FILE *f) noexcept nogil:
    cdef char *line = NULL
    cdef size_t cap = 0
    cdef ssize_t n
    cdef long long pos = job.start
    cdef Py_ssize_t i, tok
    cdef int32_t w
    if job.start > 0:
        # start on a line boundary: skip the rest of a line the previous worker owns
        fseeko(f, job.start - 1, 0)
        if fgetc(f) != b'\n':
            n = getline(&line, &cap, f)
            if n > 0:
                pos += n
    while pos < job.end and not job.stop[0]:
        if job.docs and job.line_tag >= job.n_docs:
            break   # more lines than document vectors: FileEpoch refuses such a file first
        n = getline(&line, &cap, f)
        if n < 0:
            break
        pos += n
        job.sentences += 1
        i = 0
        while i < n:
            while i < n and is_space(line[i]):
                i += 1
            tok = i
            while i < n and not is_space(line[i]):
                i += 1
            if i == tok:
                break
            job.raw_words += 1
            w = vocab_lookup(vocab, line + tok, i - tok)
            if w < 0:
                continue
            if c.sample_int != NULL and c.sample_int[w] < rng_next32(&c.rng):
                continue
            job.effective_words += 1
            push_word(c, job, w, pos)
        if job.n_words > job.bounds[job.n_sent]:
            job.tags[job.n_sent] = <int32_t>job.line_tag
            job.n_sent += 1
            job.bounds[job.n_sent] = job.n_words
        job.line_tag += 1
    train_file_batch(c, job, pos)
    free(line)


def train_epoch_file(model, str path, long long start, long long end, vocab_hash, mem, int cur_epoch,
                     int compute_loss, seed, stop_flag=None, double progress_from=0.0, double progress_to=1.0,
                     long long first_line=0):
    """Train on one byte range of a ``corpus_file`` (a chunk of one epoch), with the GIL released.

    Parameters
    ----------
    model : :class:`~blackout_ext.Word2Vec`
        The model, with one of the new losses.
    path : str
        The uncompressed corpus file, one sentence per line, tokens separated by whitespace.
    start, end : int
        This worker reads the lines that start at a byte offset in ``[start, end)``.
    vocab_hash : :class:`VocabHash`
        The vocabulary.
    mem : :class:`ThreadMemory`
        The worker's work memory.
    cur_epoch : int
        The epoch (for the learning rate).
    compute_loss : int
        Whether to accumulate the loss.
    seed : int
        Seed of this worker's RNG.
    stop_flag : numpy.ndarray, optional
        One int32: when another thread sets it to 1, the worker stops after its current line.
    progress_from, progress_to : float, optional
        The share of the epoch done when this range starts and when it ends: the learning rate
        decays linearly between the two (by default, over the whole epoch).
    first_line : int, optional
        Doc2Vec: the number of the first line that starts in ``[start, end)``, its document tag.

    Returns
    -------
    (int, int, int, float, float)
        Lines read, words trained on, words read, the loss (double), and the learning rate of
        the last batch.
    """
    cdef TrainConfig c
    cdef FileJob job
    cdef VocabTable vocab
    init_config(&c, model, model.alpha, compute_loss, mem, <uint64_t>seed)
    vocab = vocab_table(vocab_hash, c.vocab_size)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] idx = np.zeros(BO_FILE_BATCH_WORDS, dtype=np.int32)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] bounds = np.zeros(BO_FILE_BATCH_WORDS + 1, dtype=np.int32)
    memset(&job, 0, sizeof(FileJob))
    job.start_alpha = model.alpha
    job.end_alpha = model.min_alpha
    job.cur_epoch = cur_epoch
    job.epochs = model.epochs
    job.start = start
    job.end = end
    job.progress_from = progress_from
    job.progress_to = progress_to
    job.idx = &idx[0]
    job.bounds = &bounds[0]
    cdef cnp.ndarray[cnp.int32_t, ndim=1] tags = np.zeros(BO_FILE_BATCH_WORDS + 1, dtype=np.int32)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] tag_bounds = np.arange(BO_FILE_BATCH_WORDS + 2, dtype=np.int32)
    job.docs = model.input_kind == "documents"
    job.tags = &tags[0]
    job.tag_bounds = &tag_bounds[0]
    job.line_tag = first_line
    if job.docs:
        job.n_docs = len(model.dv.vectors)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] stop = np.zeros(1, dtype=np.int32) if stop_flag is None else stop_flag
    job.stop = &stop[0]
    encoded = path.encode()
    cdef FILE *f = fopen(encoded, "rb")
    if f == NULL:
        raise FileNotFoundError(f"cannot open corpus_file {path!r}")
    with nogil:
        read_range(&c, &job, &vocab, f)
        fclose(f)
    return job.sentences, job.effective_words, job.raw_words, c.loss_sum, c.alpha
