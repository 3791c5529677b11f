# cython: boundscheck=False, wraparound=False, cdivision=True
"""Rows of float32 weights as text, each value written as ``str(numpy.float32)`` writes it.

The text writer of :class:`blackout_ext.keyedvectors.KeyedVectors` (``save_word2vec_format``)
uses it; ``bo_text.h`` holds the arithmetic. Values it does not cover (zero, inf, nan, tiny or
huge magnitudes) are formatted by numpy itself, so every value's text is numpy's.
"""
import numpy as np

from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

cdef extern from "bo_text.h":
    void bo_text_init()
    int bo_f32_text(float x, char *out, double positional_below) nogil

bo_text_init()

cdef double POSITIONAL_BELOW = 1e6 if str(np.float32(1e6)) == "1e+06" else 1e16
# numpy writes a float32 positionally from 1e-4 up to this bound: 1e6 since numpy 2, 1e16 in 1.x

cdef enum:
    MAX_VALUE_TEXT = 48   # the longest text of one float32 is 19 bytes ("-1000000000000000.0", numpy 1.x)


cdef int value_text(float x, char *out) except -1:
    # x's text into out (MAX_VALUE_TEXT bytes): from C, or from numpy for the values C leaves
    cdef int n = bo_f32_text(x, out, POSITIONAL_BELOW)
    cdef bytes text
    if n == 0:
        text = str(np.float32(x)).encode("ascii")
        n = len(text)
        memcpy(out, <const char *>text, n)
    return n


def float32_text(float x):
    """The text of one float32: ``str(numpy.float32(x))``, as bytes."""
    cdef char buf[MAX_VALUE_TEXT]
    return buf[:value_text(x, buf)]


def rows_text(const float[:, ::1] vectors, const long long[::1] rows):
    """The text of each row ``vectors[rows[i]]``: its values, each as ``str(numpy.float32)``
    writes it, separated by single spaces.

    Parameters
    ----------
    vectors : numpy.ndarray
        C-contiguous float32 matrix.
    rows : numpy.ndarray
        int64 indices of the rows to write, in order.

    Returns
    -------
    list of bytes
        One item per entry of `rows`, without a line end.
    """
    cdef Py_ssize_t i, j, r, pos, n_rows = rows.shape[0], size = vectors.shape[1]
    cdef char *buf = <char *>malloc(size * MAX_VALUE_TEXT + 1)
    cdef list out = []
    if buf == NULL:
        raise MemoryError("no memory for the text of one row")
    try:
        for i in range(n_rows):
            r = rows[i]
            if r < 0 or r >= vectors.shape[0]:
                raise IndexError(f"row {r} is not in the {vectors.shape[0]} rows of the vectors")
            pos = 0
            for j in range(size):
                if j:
                    buf[pos] = b' '
                    pos += 1
                pos += value_text(vectors[r, j], buf + pos)
            out.append(buf[:pos])
    finally:
        free(buf)
    return out
