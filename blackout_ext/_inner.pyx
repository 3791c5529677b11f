# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Training kernels for the output layers that gensim does not have.

One driver per architecture (:c:func:`run_sg`, :c:func:`run_cbow`) builds the input vector
``h`` of each (input, target) pair and calls :c:func:`pair_step`. That step draws the
candidates, scores them (``s_w = u_w . h + b_w``, with the output bias ``b_w`` when the model
has one) and dispatches once, on the loss, to a small function that turns the scores into
``gamma_w = dJ/ds_w`` (``gammas_nce``, ``gammas_sampled_softmax``, ``gammas_blackout``; the
full softmax has its own BLAS step). The update is then the same for every loss::

    neu1e += lr * gamma_w * u_w      # with u_w as it was before this pair
    u_w   += lr * gamma_w * h
    b_w   += lr * gamma_w

and :c:func:`apply_input_gradient` adds ``neu1e`` to each input row. With ``shared_samples``
the skip-gram driver instead calls :c:func:`shared_window_step`, which draws one candidate set
per centre word and updates the whole window as one mini-batch.

The math, and the optimum each loss converges to, is in the project's ``losses`` notes.
The kernel owns its RNG (xorshift64*, one state per job) and its sampler (a Walker alias
table); it takes nothing from gensim's compiled modules, only BLAS from SciPy.
"""
import numpy as np
cimport numpy as cnp
from libc.math cimport exp, expf, log, log1p
from libc.string cimport memcpy, memset
from libc.stdint cimport uint64_t, uint32_t, uint8_t, int32_t, int64_t
from scipy.linalg.cython_blas cimport sgemv

from blackout_ext._random cimport rng_below, rng_next32, rng_next64, seed_state
from blackout_ext._vocab cimport VocabTable, vocab_lookup, vocab_table

cdef extern from "bo_vec.h" nogil:
    float BO_WEIGHT_LIMIT                                            # every weight stays within +-this
    float bo_dot(const float *x, const float *y, int n)
    void bo_axpy(float a, const float *x, float *y, int n)           # y += a x
    void bo_axpy_clamped(float a, const float *x, float *y, int n)   # the same, |y| <= 1e12
    void bo_softmax_update(const float *g, const float *h, float *U, float *neu1e, int n_rows, int d)
    # a window's blocks: rows A + ia[p] d against rows B + ib[q] d (shared samples)
    void bo_dots_block(const float *A, const int32_t *ia, int m, const float *B, const int32_t *ib, int n, int d,
                       float *out)                                   # out[p n + q] = a_p . b_q
    void bo_combine(const float *coef, int cstride, const float *B, const int32_t *ib, int n, int d,
                    float *out)                                      # out = sum_q coef[q cstride] b_q
    void bo_add_combination_clamped(const float *coef, int cstride, const float *B, const int32_t *ib, int n,
                                    int d, float *y)                 # y += the same, clamped
    void bo_prefetch(const void *p)                                 # a hint: p will be used soon
    void bo_prefetch_row(const float *row, int n)                  # the same for every line of a row

from cpython.dict cimport PyDict_GetItem
from cpython.long cimport PyLong_AsLong
from cpython.object cimport PyObject

from cpython.ref cimport Py_DECREF, Py_INCREF

cdef extern from "Python.h":
    bint PyUnicode_CheckExact(object o)
    bint PyUnicode_IS_COMPACT_ASCII(object o)   # only valid on a str, hence the check first
    void *PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    # the same two on a str known to be compact ASCII: plain reads of the object, no GIL needed
    void *ascii_data "PyUnicode_DATA"(PyObject *o) nogil
    Py_ssize_t str_length "PyUnicode_GET_LENGTH"(PyObject *o) nogil

cnp.import_array()

cdef int ONE = 1
cdef REAL_t ONEF = <REAL_t>1.0
cdef REAL_t ZEROF = <REAL_t>0.0

cdef extern from *:
    """
    #define TOKEN_HELD (-1)
    #define BO_MAX_REDRAWS 32
    #define BO_SCORE_CLIP 1e4
    #define BO_P_CLAMP (1.0 - 1e-10)
    #define NOISE_RING 32
    #define NOISE_ROWS_AHEAD 16
    #define NOISE_ALIAS_AHEAD 32
    """
    int TOKEN_HELD           # in train_batch: a token to look up once the GIL is released
    int BO_MAX_REDRAWS       # blackout: a sample that hits the target is redrawn at most this often, then dropped
    double BO_SCORE_CLIP     # |s| beyond this is clipped: keeps exp() and its gradient finite
    double BO_P_CLAMP        # p < 1 before log1p(-p) and 1 / (1 - p)
    int NOISE_RING           # the noise stream's ring (the size of TrainConfig.noise_raw), a power of 2
    int NOISE_ROWS_AHEAD     # a draw's output row is prefetched this many draws before its use
    int NOISE_ALIAS_AHEAD    # and its alias record this many (<= NOISE_RING)

from blackout_ext.inputs import InputKind
from blackout_ext.losses import LOSS_SPECS, loss_spec

LOSS_CODES = {loss.name: loss.code for loss in LOSS_SPECS.values() if loss.own_kernel}
"""The kernel's code of each of its losses, from the table in ``losses.py``."""
REPORTING_CODES = {loss.name: loss.reporting_code for loss in LOSS_SPECS.values() if loss.reporting_code}
"""The kernel's code of the steps that train gensim's losses and report them (FastText, Doc2Vec)."""
WEIGHT_LIMIT = float(BO_WEIGHT_LIMIT)
"""The kernels clamp every weight to +-this (bo_vec.h)."""

if {m.name: int(m) for m in LossMode} != {loss.enum_name: loss.kernel_code for loss in LOSS_SPECS.values()
                                          if loss.kernel_code}:
    raise ImportError("losses.py's table and the kernel's LossMode disagree: the kernel was built from "
                      "another table; rebuild it (pip install .)")

include "_noise.pxi"
include "_loss_steps.pxi"
include "_loss_dispatch.pxi"    # gamma_function, written by setup.py from the table
include "_steps.pxi"
include "_drivers.pxi"
include "_binding.pxi"
include "_shims.pxi"
