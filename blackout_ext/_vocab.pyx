# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The vocabulary as a C hash table of UTF-8 strings (the lookup itself is inline in ``_vocab.pxd``).

The ``corpus_file`` reader looks its tokens up here without the GIL; so does the iterable path,
for ASCII ``str`` tokens, once ``train_batch`` has released the GIL (a Python dict lookup would
need it, and costs twice as much besides).
"""
import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint64_t, int32_t, int64_t

cnp.import_array()

# VocabSlot of _vocab.pxd, as NumPy sees it
SLOT_DTYPE = np.dtype([("word", np.int32), ("length", np.int32), ("head", np.uint64)])
assert SLOT_DTYPE.itemsize == sizeof(VocabSlot)


class VocabHash:
    """The vocabulary as a C hash table of UTF-8 byte strings (built once per vocabulary).

    Only keys that are exactly ``str`` and encode to UTF-8 go into the table; another key (an
    int, a ``str`` subclass, a string with a lone surrogate) keeps an empty slot of `offsets`
    and is never found. ``exact`` says whether the table alone answers every lookup of a
    ``str`` token as ``key_to_index`` would: every key a plain ``str`` at its own index.
    """

    def __init__(self, index_to_key, key_to_index=None):
        encoded, exact = [], True
        for k in index_to_key:
            try:
                if type(k) is not str:
                    raise TypeError
                encoded.append(k.encode("utf8"))
            except (TypeError, UnicodeEncodeError):
                encoded.append(None)
                exact = False
        if key_to_index is not None:
            exact = exact and len(key_to_index) == len(encoded) and all(
                key_to_index.get(k) == i for i, k in enumerate(index_to_key))
        self.exact = exact
        self.keys = b"".join(e for e in encoded if e is not None) + b"\0"
        self.offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        self.offsets[1:] = np.cumsum([len(e) if e is not None else 0 for e in encoded])
        size = 16
        while size < 2 * len(encoded):
            size *= 2
        self.slots = np.zeros(size, dtype=SLOT_DTYPE)
        self.slots["word"] = -1
        _fill_slots(self.keys, self.offsets, self.slots, np.array([e is not None for e in encoded], dtype=np.uint8))


def _fill_slots(bytes keys, cnp.ndarray[cnp.int64_t, ndim=1] offsets, cnp.ndarray slots,
                cnp.ndarray[cnp.uint8_t, ndim=1] present):
    cdef const char *k = keys
    cdef VocabSlot *table = <VocabSlot *>cnp.PyArray_DATA(slots)
    cdef uint64_t mask = len(slots) - 1, slot, head
    cdef Py_ssize_t w, n
    for w in range(len(offsets) - 1):
        if not present[w]:
            continue
        n = offsets[w + 1] - offsets[w]
        head = key_head(k + offsets[w], n)
        slot = key_hash(k + offsets[w], n) & mask
        while table[slot].word >= 0:
            slot = (slot + 1) & mask
        table[slot].word = <int32_t>w
        table[slot].length = <int32_t>n
        table[slot].head = head


cdef VocabTable vocab_table(vocab_hash, Py_ssize_t vocab_size) except *:
    """A view of `vocab_hash` for the C lookups; the caller keeps `vocab_hash` alive."""
    cdef VocabTable v
    cdef cnp.ndarray[cnp.int64_t, ndim=1] offsets = vocab_hash.offsets
    cdef cnp.ndarray slots = vocab_hash.slots
    cdef bytes keys = vocab_hash.keys
    if vocab_size >= 0 and len(offsets) - 1 != vocab_size:
        raise RuntimeError("the vocabulary hash is out of date")
    if slots.dtype != SLOT_DTYPE or not slots.flags.c_contiguous:
        raise TypeError("the vocabulary hash's slots are not VocabSlot records")
    v.keys = keys
    v.offsets = <const int64_t *>&offsets[0]
    v.slots = <const VocabSlot *>cnp.PyArray_DATA(slots)
    v.mask = len(slots) - 1
    return v


def py_vocab_lookup(vocab_hash, bytes token):
    """Look a UTF-8 token up in a :class:`VocabHash` (for tests): its index, or -1."""
    cdef VocabTable v = vocab_table(vocab_hash, -1)
    return vocab_lookup(&v, token, len(token))
