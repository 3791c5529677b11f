# cython: language_level=3
"""The vocabulary as a C hash table of UTF-8 strings, looked up without the GIL.

:c:func:`vocab_lookup` is inline here, so that the ``corpus_file`` reader and the iterable
path look every token up without a call across modules.
"""
from libc.stdint cimport uint64_t, int32_t, int64_t
from libc.string cimport memcmp, memcpy


cdef struct VocabSlot:       # 16 bytes: four slots to a cache line
    int32_t word             # the word's index, or -1 for an empty slot
    int32_t length           # its length in bytes
    uint64_t head            # its first 8 bytes (key_head), so that most lookups read only the slot


cdef struct VocabTable:
    const char *keys          # the UTF-8 bytes of every word, one after the other
    const int64_t *offsets    # word i is keys[offsets[i]:offsets[i + 1]]
    const VocabSlot *slots    # open addressing, linear probing
    uint64_t mask


cdef inline uint64_t key_head(const char *s, Py_ssize_t n) noexcept nogil:
    # the first min(n, 8) bytes of s as one integer, zero-padded (a copy of a constant size is
    # one load; of a variable size, a call)
    cdef uint64_t h = 0
    cdef Py_ssize_t i
    if n >= 8:
        memcpy(&h, s, 8)
        return h
    for i in range(n):
        h |= (<uint64_t><unsigned char>s[i]) << (8 * i)
    return h


cdef inline uint64_t key_hash(const char *s, Py_ssize_t n) noexcept nogil:
    # a hash of the n bytes of s, eight at a time, with splitmix64's finaliser, so that the low
    # bits (the slot) depend on every byte
    cdef uint64_t h = (key_head(s, n) ^ <uint64_t>n) * <uint64_t>0x9E3779B97F4A7C15ULL
    cdef Py_ssize_t i = 8
    while i < n:
        h = (h ^ key_head(s + i, n - i)) * <uint64_t>0x9E3779B97F4A7C15ULL
        h ^= h >> 32
        i += 8
    h ^= h >> 30
    h *= <uint64_t>0xBF58476D1CE4E5B9ULL
    h ^= h >> 27
    h *= <uint64_t>0x94D049BB133111EBULL
    h ^= h >> 31
    return h


cdef inline int32_t vocab_lookup(const VocabTable *v, const char *s, Py_ssize_t n) noexcept nogil:
    # the word's index, or -1. A word of at most 8 bytes is found in its slot alone; a longer
    # one compares its other bytes once its length and first 8 bytes match.
    cdef uint64_t head = key_head(s, n)
    cdef uint64_t slot = key_hash(s, n) & v.mask
    cdef const VocabSlot *e
    while True:
        e = &v.slots[slot]
        if e.word < 0:
            return -1
        if e.length == n and e.head == head:
            if n <= 8 or memcmp(v.keys + v.offsets[e.word] + 8, s + 8, n - 8) == 0:
                return e.word
        slot = (slot + 1) & v.mask


cdef VocabTable vocab_table(vocab_hash, Py_ssize_t vocab_size) except *
