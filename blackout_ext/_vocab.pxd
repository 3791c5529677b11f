# cython: language_level=3
"""The vocabulary as a C hash table of UTF-8 strings, looked up without the GIL.

:c:func:`vocab_lookup` is inline here, so that the ``corpus_file`` reader and the iterable
path look every token up without a call across modules.
"""
from libc.stdint cimport uint64_t, int32_t, int64_t


cdef struct VocabTable:
    const char *keys          # the UTF-8 bytes of every word, one after the other
    const int64_t *offsets    # word i is keys[offsets[i]:offsets[i + 1]]
    const int32_t *slots      # open addressing: word index, or -1 for an empty slot
    uint64_t mask


cdef inline uint64_t fnv1a(const char *s, Py_ssize_t n) noexcept nogil:
    cdef uint64_t h = <uint64_t>1469598103934665603ULL
    cdef Py_ssize_t i
    for i in range(n):
        h ^= <unsigned char>s[i]
        h *= <uint64_t>1099511628211ULL
    return h


cdef inline int32_t vocab_lookup(const VocabTable *v, const char *s, Py_ssize_t n) noexcept nogil:
    # the word's index, or -1
    cdef uint64_t slot = fnv1a(s, n) & v.mask
    cdef int32_t w
    cdef int64_t length
    cdef Py_ssize_t i
    while True:
        w = v.slots[slot]
        if w < 0:
            return -1
        length = v.offsets[w + 1] - v.offsets[w]
        if length == n:
            for i in range(n):
                if v.keys[v.offsets[w] + i] != s[i]:
                    break
            else:
                return w
        slot = (slot + 1) & v.mask


cdef VocabTable vocab_table(vocab_hash, Py_ssize_t vocab_size) except *
