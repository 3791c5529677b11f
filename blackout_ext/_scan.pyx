# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The vocabulary scan of a ``corpus_file`` in C: word counts, words and sentences of a plain file.

The same counts, in the same order, as gensim's ``_scan_vocab`` over
:class:`blackout_ext.corpora.LineSentence` (the reader of ``build_vocab(corpus_file=...)``), at a
fraction of its cost: a line of ASCII bytes is split and counted here, on the bytes; a line with
any other byte is decoded and split by Python's ``str.split`` (:func:`~blackout_ext.corpora.decode_tokens`,
which skips and counts a token that is not valid UTF-8), so that every line is split exactly as
the Python reader splits it. Words are counted in a growing open-addressing table of their UTF-8
bytes, in the order they first occur.
"""
from libc.stdint cimport int64_t, uint64_t
from libc.stdio cimport FILE, fclose, fopen, fread
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove

from blackout_ext._vocab cimport key_hash

from blackout_ext.corpora import decode_tokens

DEF READ_CHUNK = 1 << 20


cdef struct Counts:
    char *arena              # every word's UTF-8 bytes, one after the other, in first-occurrence order
    int64_t arena_used, arena_size
    int64_t *offsets         # word i is arena[offsets[i]:offsets[i + 1]]
    int64_t *counts
    int64_t n_words, words_size
    int64_t *slots           # open addressing: word index, or -1
    uint64_t mask


cdef inline bint ascii_space(unsigned char ch) noexcept nogil:
    # what str.split() splits an ASCII string on: \t \n \v \f \r, \x1c-\x1f and the space
    return ch == 32 or 9 <= ch <= 13 or 28 <= ch <= 31


cdef int grow_slots(Counts *t) except -1:
    cdef uint64_t size = (t.mask + 1) * 2, slot, i
    cdef int64_t w
    cdef int64_t *slots = <int64_t *>malloc(size * sizeof(int64_t))
    if slots == NULL:
        raise MemoryError()
    for i in range(size):
        slots[i] = -1
    for w in range(t.n_words):
        slot = key_hash(t.arena + t.offsets[w], t.offsets[w + 1] - t.offsets[w]) & (size - 1)
        while slots[slot] >= 0:
            slot = (slot + 1) & (size - 1)
        slots[slot] = w
    free(t.slots)
    t.slots = slots
    t.mask = size - 1
    return 0


cdef int add_word(Counts *t, const char *s, int64_t n) except -1:
    cdef uint64_t slot = key_hash(s, n) & t.mask
    cdef int64_t w
    cdef void *grown
    while True:
        w = t.slots[slot]
        if w < 0:
            break
        if t.offsets[w + 1] - t.offsets[w] == n and memcmp(t.arena + t.offsets[w], s, n) == 0:
            t.counts[w] += 1
            return 0
        slot = (slot + 1) & t.mask
    # a new word
    if t.arena_used + n > t.arena_size:
        grown = realloc(t.arena, max(2 * t.arena_size, t.arena_used + n))
        if grown == NULL:
            raise MemoryError()
        t.arena = <char *>grown
        t.arena_size = max(2 * t.arena_size, t.arena_used + n)
    if t.n_words + 2 > t.words_size:
        grown = realloc(t.offsets, 2 * t.words_size * sizeof(int64_t))
        if grown == NULL:
            raise MemoryError()
        t.offsets = <int64_t *>grown
        grown = realloc(t.counts, 2 * t.words_size * sizeof(int64_t))
        if grown == NULL:
            raise MemoryError()
        t.counts = <int64_t *>grown
        t.words_size *= 2
    memcpy(t.arena + t.arena_used, s, n)
    t.arena_used += n
    t.counts[t.n_words] = 1
    t.slots[slot] = t.n_words
    t.n_words += 1
    t.offsets[t.n_words] = t.arena_used
    if 2 * t.n_words > <int64_t>(t.mask + 1):
        grow_slots(t)
    return 0


cdef int64_t count_line(Counts *t, const char *line, int64_t n, int64_t *invalid) except -1:
    """Count the words of one line (without its newline); returns how many there were."""
    cdef int64_t i = 0, start, words = 0
    cdef bint ascii = True
    for i in range(n):
        if <unsigned char>line[i] >= 128:
            ascii = False
            break
    if not ascii:
        tokens, bad = decode_tokens(line[:n])
        invalid[0] += bad
        for token in tokens:
            data = token.encode("utf8")
            add_word(t, data, len(data))
        return len(tokens)
    i = 0
    while i < n:
        while i < n and ascii_space(<unsigned char>line[i]):
            i += 1
        if i >= n:
            break
        start = i
        while i < n and not ascii_space(<unsigned char>line[i]):
            i += 1
        add_word(t, line + start, i - start)
        words += 1
    return words


def scan_file(str path, int max_sentence_length):
    """Count the words of a plain text file, one sentence per line, as the Python scan does.

    Parameters
    ----------
    path : str
        An uncompressed file.
    max_sentence_length : int
        A line of more words counts as that many words per sentence (gensim's LineSentence
        splits it so), and an empty line as one empty sentence.

    Returns
    -------
    (dict of str to int, int, int, int)
        The counts in first-occurrence order, the words, the sentences, and the tokens skipped
        as invalid UTF-8.

    Raises
    ------
    OSError
        If the file cannot be opened.
    """
    cdef Counts t
    cdef FILE *f = fopen(path.encode("utf8", "surrogateescape"), "rb")
    cdef char *buf = NULL
    cdef char *chunk = NULL
    cdef int64_t used = 0, size = READ_CHUNK, got, i, line_start, words, total_words = 0, sentences = 0
    cdef int64_t invalid = 0
    cdef uint64_t s
    cdef void *grown
    if f == NULL:
        raise OSError(f"cannot open corpus_file {path!r}")
    t.arena_size, t.arena_used = 1 << 16, 0
    t.words_size, t.n_words = 1 << 12, 0
    t.mask = (1 << 13) - 1
    t.arena = <char *>malloc(t.arena_size)
    t.offsets = <int64_t *>malloc(t.words_size * sizeof(int64_t))
    t.counts = <int64_t *>malloc(t.words_size * sizeof(int64_t))
    t.slots = <int64_t *>malloc((t.mask + 1) * sizeof(int64_t))
    buf = <char *>malloc(size)
    try:
        if t.arena == NULL or t.offsets == NULL or t.counts == NULL or t.slots == NULL or buf == NULL:
            raise MemoryError()
        t.offsets[0] = 0
        for s in range(t.mask + 1):
            t.slots[s] = -1
        while True:
            # buf[0:used] holds the start of a line not yet ended; read more after it
            if size - used < READ_CHUNK:
                grown = realloc(buf, 2 * size)
                if grown == NULL:
                    raise MemoryError()
                buf = <char *>grown
                size *= 2
            got = <int64_t>fread(buf + used, 1, size - used, f)
            if got <= 0:
                break
            line_start = 0
            for i in range(used, used + got):
                if buf[i] == b'\n':
                    words = count_line(&t, buf + line_start, i - line_start, &invalid)
                    total_words += words
                    sentences += (max(words, 1) + max_sentence_length - 1) // max_sentence_length
                    line_start = i + 1
            used += got
            if line_start > 0:
                memmove(buf, buf + line_start, used - line_start)   # the unfinished line to the front
                used -= line_start
        if used > 0:   # the last line, without a newline
            words = count_line(&t, buf, used, &invalid)
            total_words += words
            sentences += (max(words, 1) + max_sentence_length - 1) // max_sentence_length
        vocab = {}
        for i in range(t.n_words):
            vocab[t.arena[t.offsets[i]:t.offsets[i + 1]].decode("utf8")] = t.counts[i]
        return vocab, total_words, sentences, invalid
    finally:
        fclose(f)
        free(buf)
        free(t.arena)
        free(t.offsets)
        free(t.counts)
        free(t.slots)
