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

from blackout_ext.losses import LOSS_SPECS, loss_spec

LOSS_CODES = {loss.name: loss.code for loss in LOSS_SPECS.values() if loss.own_kernel}
"""The kernel's code of each of its losses, from the table in ``losses.py``."""
REPORTING_CODES = {loss.name: loss.reporting_code for loss in LOSS_SPECS.values() if loss.reporting_code}
"""The kernel's code of the steps that train gensim's losses and report them (FastText, Doc2Vec)."""
if sorted(LOSS_CODES.values()) != sorted([LOSS_NCE, LOSS_SAMPLED_SOFTMAX, LOSS_BLACKOUT, LOSS_SOFTMAX]) \
        or sorted(REPORTING_CODES.values()) != sorted([LOSS_NS, LOSS_HS]):
    raise ImportError("losses.py and the kernel's LossMode (_inner.pxd) disagree on the loss codes")

# ---------------------------------------------------------------------------------------------
# The sampler: a Walker alias table, drawn with the RNG of _random.pxd


cdef inline int32_t alias_column(const TrainConfig *c, uint64_t r) noexcept nogil:
    # the high 32 bits of a raw draw pick a column of the alias table
    return <int32_t>(((r >> 32) * <uint64_t>c.vocab_size) >> 32)


cdef inline int32_t alias_resolve(const TrainConfig *c, uint64_t r) noexcept nogil:
    # Walker alias: the low 32 bits of the draw toss the column's coin; one record holds the
    # column's threshold (low half) and alias (high half), so one cache miss brings both
    cdef int32_t col = alias_column(c, r)
    cdef uint64_t record = c.alias[col]
    if (r & <uint64_t>0xFFFFFFFFULL) < (record & <uint64_t>0xFFFFFFFFULL):
        return col
    return <int32_t>(record >> 32)


cdef inline void prefetch_output(const TrainConfig *c, int32_t w) noexcept nogil:
    # what scoring word w reads: its output row, its bias and its log q
    bo_prefetch_row(&c.syn1neg[<Py_ssize_t>w * c.size], c.size)
    if c.bias != NULL:
        bo_prefetch(&c.bias[w])
    bo_prefetch(&c.logq[w])


cdef inline int32_t draw_noise(TrainConfig *c) noexcept nogil:
    """The next word of the noise stream, a draw from q.

    At a million words every draw misses the cache twice, once for its alias record and once
    for its output row, and each miss waits for the one before. The stream therefore works
    ahead: this call hands out a word drawn NOISE_ROWS_AHEAD calls ago, whose row has been
    prefetched since; resolves the raw draw NOISE_ROWS_AHEAD slots ahead, whose alias record has
    been prefetched since, and prefetches its row; and makes a new raw draw NOISE_ALIAS_AHEAD
    slots ahead, prefetching its alias record. The words are i.i.d. draws from q all the same.
    """
    cdef uint32_t pos = c.noise_pos
    cdef uint32_t mask = NOISE_RING - 1
    cdef int32_t w = c.noise_word[pos & mask]
    cdef int32_t ahead = alias_resolve(c, c.noise_raw[(pos + NOISE_ROWS_AHEAD) & mask])
    cdef uint64_t r = rng_next64(&c.noise_rng)
    c.noise_word[(pos + NOISE_ROWS_AHEAD) & mask] = ahead
    prefetch_output(c, ahead)
    c.noise_raw[(pos + NOISE_ALIAS_AHEAD) & mask] = r
    bo_prefetch(&c.alias[alias_column(c, r)])
    c.noise_pos = pos + 1
    return w


cdef void start_noise(TrainConfig *c, uint64_t seed) noexcept nogil:
    # fill the noise stream's look-ahead; alias, vocab_size, syn1neg, bias and logq must be set
    cdef int i
    c.noise_rng = seed_state(~seed)   # a stream of its own, unrelated to c.rng's
    c.noise_pos = 0
    for i in range(NOISE_ALIAS_AHEAD):
        c.noise_raw[i] = rng_next64(&c.noise_rng)
    for i in range(NOISE_ROWS_AHEAD):
        c.noise_word[i] = alias_resolve(c, c.noise_raw[i])


def build_alias_table(q):
    """Build a Walker alias table for drawing from `q` in O(1).

    Parameters
    ----------
    q : numpy.ndarray
        Probabilities (float64, non-negative, summing to 1).

    Returns
    -------
    numpy.ndarray
        One uint64 record per column ``i``: the low 32 bits are the threshold (keep ``i`` when
        a uniform 32-bit coin is below it), the high 32 bits the alias taken otherwise. A column
        that is always kept has the threshold ``2**32 - 1`` and itself as its alias.
    """
    cdef cnp.ndarray[double, ndim=1] scaled = np.ascontiguousarray(q, dtype=np.float64) * len(q)
    cdef Py_ssize_t n = len(q), i, s, l, n_small = 0, n_large = 0
    cdef cnp.ndarray[cnp.int64_t, ndim=1] small = np.empty(n, dtype=np.int64)
    cdef cnp.ndarray[cnp.int64_t, ndim=1] large = np.empty(n, dtype=np.int64)
    cdef cnp.ndarray[cnp.uint64_t, ndim=1] table = np.empty(n, dtype=np.uint64)
    cdef double two32 = 4294967296.0
    cdef uint64_t always = <uint64_t>0xFFFFFFFFULL
    if n >= 2 ** 31:
        raise ValueError("the alias table holds at most 2**31 - 1 words")
    for i in range(n):
        if scaled[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        s = small[n_small]
        l = large[n_large - 1]
        table[s] = (<uint64_t>l << 32) | <uint64_t>(scaled[s] * two32)   # scaled[s] < 1: fits 32 bits
        scaled[l] = (scaled[l] + scaled[s]) - 1.0
        if scaled[l] < 1.0:
            n_large -= 1
            small[n_small] = l
            n_small += 1
    # what is left is 1 up to rounding: always keep it
    for i in range(n_large):
        table[large[i]] = (<uint64_t>large[i] << 32) | always
    for i in range(n_small):
        table[small[i]] = (<uint64_t>small[i] << 32) | always
    return table


def py_draw(table, Py_ssize_t n, seed):
    """Draw `n` words with the kernel's own noise stream over the alias `table` (for tests)."""
    cdef TrainConfig c
    cdef cnp.ndarray[cnp.uint64_t, ndim=1] t = np.ascontiguousarray(table, dtype=np.uint64)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] out = np.empty(n, dtype=np.int32)
    cdef cnp.ndarray[REAL_t, ndim=1] rows = np.zeros(len(t), dtype=np.float32)   # one float per "row"
    cdef cnp.ndarray[double, ndim=1] logq = np.zeros(len(t), dtype=np.float64)
    cdef Py_ssize_t i
    memset(&c, 0, sizeof(TrainConfig))
    c.alias = &t[0]
    c.vocab_size = len(t)
    c.size = 1
    c.syn1neg = &rows[0]
    c.logq = &logq[0]
    start_noise(&c, <uint64_t>seed)
    for i in range(n):
        out[i] = draw_noise(&c)
    return out


# ---------------------------------------------------------------------------------------------
# One small step per loss: scores of the candidates in, gamma_w = dJ/ds_w out, loss (-J) back.


cdef inline double clip_score(double s) noexcept nogil:
    if s > BO_SCORE_CLIP:
        return BO_SCORE_CLIP
    if s < -BO_SCORE_CLIP:
        return -BO_SCORE_CLIP
    return s


cdef inline void add_clamped(REAL_t *x, double delta) noexcept nogil:
    # a scalar weight's update, limited to +-BO_WEIGHT_LIMIT as bo_axpy_clamped limits the rows
    cdef double v = x[0] + delta
    if v > BO_WEIGHT_LIMIT:
        v = BO_WEIGHT_LIMIT
    elif v < -BO_WEIGHT_LIMIT:
        v = -BO_WEIGHT_LIMIT
    x[0] = <REAL_t>v


cdef inline double sigmoid(double x) noexcept nogil:
    # a float exp: the gradient needs no more (exp(-x) may overflow to inf: sigmoid is then 0)
    return 1.0 / (1.0 + expf(<float>-x))


cdef inline double softplus(double x) noexcept nogil:
    # log(1 + exp(x)), without overflow
    if x > 0:
        return x + log1p(exp(-x))
    return log1p(exp(x))


cdef inline double logistic_gammas(
        const REAL_t *s, const int32_t *cand, int n, const double *logq, double log_k,
        double log_z, int want_loss, double *g, double *gsum) noexcept nogil:
    # the target (cand[0]) against the noise, each by a logistic on D_w = s_w - c - log(k q_w)
    # (logq NULL: D_w = s_w, as negative sampling has it); returns the loss, and the sum of
    # the gammas in gsum
    cdef int i
    cdef double d, loss = 0.0
    gsum[0] = 0.0
    for i in range(n):
        d = clip_score(s[i])
        if logq != NULL:
            d = d - log_z - log_k - logq[cand[i]]
        if i == 0:
            g[i] = sigmoid(-d)
            if want_loss:
                loss += softplus(-d)
        else:
            g[i] = -sigmoid(d)
            if want_loss:
                loss += softplus(d)
        gsum[0] += g[i]
    return loss


cdef double gammas_nce(
        const REAL_t *s, const int32_t *cand, int n, const double *logq, double log_k,
        double log_z, int want_loss, double *g, double *dlogz) noexcept nogil:
    # D_w = s_w - c - log(k q_w); target is cand[0], hits on it are kept as noise
    cdef double gsum, loss = logistic_gammas(s, cand, n, logq, log_k, log_z, want_loss, g, &gsum)
    dlogz[0] = -gsum
    return loss


cdef inline double weighted_softmax(
        const REAL_t *s, const int32_t *cand, int n, const double *logq, double *p, int want_log) noexcept nogil:
    # p_w = exp(s_w - log q_w) / sum_l exp(s_l - log q_l); returns log p_t (t = cand[0]) if
    # want_log, else 0 (the log is only needed for the loss)
    cdef int i
    cdef double m, z = 0.0, inv_z, x_t
    for i in range(n):
        p[i] = clip_score(s[i]) - logq[cand[i]]
    x_t = p[0]
    m = p[0]
    for i in range(1, n):
        if p[i] > m:
            m = p[i]
    for i in range(n):
        p[i] = expf(<float>(p[i] - m))   # argument <= 0; float exp, as the full softmax
        z += p[i]
    inv_z = 1.0 / z
    for i in range(n):
        p[i] *= inv_z
    if want_log:
        return x_t - m - log(z)
    return 0.0


cdef double gammas_sampled_softmax(
        const REAL_t *s, const int32_t *cand, int n, const double *logq, double log_k,
        double log_z, int want_loss, double *g, double *dlogz) noexcept nogil:
    cdef int i
    cdef double log_pt = weighted_softmax(s, cand, n, logq, g, want_loss)
    for i in range(n):
        g[i] = -g[i]
    g[0] += 1.0
    dlogz[0] = 0.0
    return -log_pt


cdef double gammas_blackout(
        const REAL_t *s, const int32_t *cand, int n, const double *logq, double log_k,
        double log_z, int want_loss, double *g, double *dlogz) noexcept nogil:
    # J = log p_t + sum_j log(1 - p_j); A = sum_j p_j / (1 - p_j)  (Ji et al., 2016)
    cdef int i
    cdef double p, pc, a = 0.0, loss
    cdef double log_pt = weighted_softmax(s, cand, n, logq, g, want_loss)
    loss = -log_pt
    for i in range(1, n):
        pc = g[i] if g[i] < BO_P_CLAMP else BO_P_CLAMP
        a += pc / (1.0 - pc)
        if want_loss:
            loss -= log1p(-pc)
    p = g[0]
    g[0] = 1.0 - p + p * a
    for i in range(1, n):
        p = g[i]
        pc = p if p < BO_P_CLAMP else BO_P_CLAMP
        g[i] = -p * (1.0 + 1.0 / (1.0 - pc) - a)
    dlogz[0] = 0.0
    return loss


cdef double gammas_ns(
        const REAL_t *s, const int32_t *cand, int n, const double *logq, double log_k,
        double log_z, int want_loss, double *g, double *dlogz) noexcept nogil:
    # gensim's negative sampling: log sigma(s_t) + sum_j log sigma(-s_j), no offset, no bias
    cdef double gsum
    dlogz[0] = 0.0
    return logistic_gammas(s, cand, n, NULL, 0.0, 0.0, want_loss, g, &gsum)


ctypedef double (*gamma_fn)(
    const REAL_t *, const int32_t *, int, const double *, double, double, int, double *, double *
) noexcept nogil


cdef inline gamma_fn gamma_function(int loss) noexcept nogil:
    # the table of sampled losses' steps; init_config accepts no other code
    if loss == LOSS_NCE:
        return gammas_nce
    if loss == LOSS_SAMPLED_SOFTMAX:
        return gammas_sampled_softmax
    if loss == LOSS_BLACKOUT:
        return gammas_blackout
    if loss == LOSS_NS:
        return gammas_ns
    return NULL


cdef double softmax_gammas(REAL_t *s, int n, int32_t target, double lr) noexcept nogil:
    # in place: s_w -> lr * (1[w == t] - P_w); returns -log P_t. One exp per word, in float
    # (after subtracting the maximum, every argument is <= 0), summed in double.
    cdef int i
    cdef REAL_t m, st
    cdef double z = 0.0
    cdef REAL_t scale
    for i in range(n):
        s[i] = <REAL_t>clip_score(s[i])
    m = s[0]
    for i in range(1, n):
        if s[i] > m:
            m = s[i]
    st = s[target]
    for i in range(n):
        s[i] = expf(s[i] - m)
        z += s[i]
    scale = <REAL_t>(-lr / z)
    for i in range(n):
        s[i] *= scale
    s[target] += <REAL_t>lr
    return -((<double>st - <double>m) - log(z))


# ---------------------------------------------------------------------------------------------
# The shared pair step


cdef int draw_candidates(TrainConfig *c, int32_t target) noexcept nogil:
    # cand[0] = t. A loss that keeps hits (NCE, sampled softmax) keeps a draw equal to t as a
    # candidate of its own: with them, sampled softmax is consistent as k grows. BlackOut samples
    # from q without t, as its paper does: a hit is redrawn, at most BO_MAX_REDRAWS times, and
    # then that draw is dropped.
    cdef int i, tries, n = 1
    cdef int32_t w
    c.cand[0] = target
    for i in range(c.negative):
        w = draw_noise(c)
        if not c.keeps_hits:
            tries = 0
            while w == target and tries < BO_MAX_REDRAWS:
                w = draw_noise(c)
                tries += 1
            if w == target:
                continue
        c.cand[n] = w
        n += 1
    return n


cdef inline void score_candidates(TrainConfig *c, const REAL_t *h, int n, REAL_t *scores) noexcept nogil:
    # s_w = u_w . h + b_w for w in cand[0:n]
    cdef int i, size = c.size
    for i in range(n):
        scores[i] = bo_dot(&c.syn1neg[<Py_ssize_t>c.cand[i] * size], h, size)
    if c.bias != NULL:
        for i in range(n):
            scores[i] += c.bias[c.cand[i]]


cdef double update_with_candidates(
        TrainConfig *c, const REAL_t *h, int n, double log_z, double *dlogz) noexcept nogil:
    """Score cand[0:n], compute the gammas, update syn1neg rows and accumulate neu1e."""
    cdef int i, size = c.size
    cdef REAL_t coef
    cdef double loss
    score_candidates(c, h, n, c.scores)
    loss = gamma_function(c.loss)(
        c.scores, c.cand, n, c.logq, c.log_k, log_z, c.compute_loss, c.gam, dlogz)
    # two passes, so that a duplicate draw's neu1e term sees u_w as it was before this pair
    for i in range(n):
        coef = <REAL_t>(c.alpha * c.gam[i])
        bo_axpy(coef, &c.syn1neg[<Py_ssize_t>c.cand[i] * size], c.neu1e, size)
    if not c.learn_hidden:
        return loss
    for i in range(n):
        coef = <REAL_t>(c.alpha * c.gam[i])
        bo_axpy_clamped(coef, h, &c.syn1neg[<Py_ssize_t>c.cand[i] * size], size)
        if c.bias != NULL:
            add_clamped(&c.bias[c.cand[i]], c.alpha * c.gam[i])
    return loss


cdef double softmax_step(TrainConfig *c, const REAL_t *h, int32_t target) noexcept nogil:
    # O(|V| d). The scores are one BLAS sgemv (syn1neg is row-major |V| x d, i.e. a column-major
    # d x |V| matrix). The update then makes a single pass over the rows, fusing the input
    # gradient (sgemv) with the rank-1 update (sger), each row read before it changes, clamped
    # as every other update is; a row whose gamma underflowed to 0 is skipped.
    cdef int d = c.size, nv = c.vocab_size
    cdef double loss
    sgemv("T", &d, &nv, &ONEF, c.syn1neg, &d, <REAL_t *>h, &ONE, &ZEROF, c.scores, &ONE)
    if c.bias != NULL:
        bo_axpy(ONEF, c.bias, c.scores, nv)
    loss = softmax_gammas(c.scores, nv, target, c.alpha)   # scores -> lr * gamma
    if not c.learn_hidden:
        # neu1e += U^T (lr gamma): the output layer is only read
        sgemv("N", &d, &nv, &ONEF, c.syn1neg, &d, c.scores, &ONE, &ONEF, c.neu1e, &ONE)
        return loss
    bo_softmax_update(c.scores, h, c.syn1neg, c.neu1e, nv, d)
    if c.bias != NULL:
        bo_axpy_clamped(ONEF, c.scores, c.bias, nv)
    return loss


cdef double hs_step(TrainConfig *c, const REAL_t *h, int32_t target) noexcept nogil:
    # gensim's hierarchical softmax: along the target's Huffman path, each inner node's row
    # predicts the path's turn (code 0 or 1) with a sigmoid: log sigma((1 - 2 code) f)
    cdef int64_t p
    cdef int size = c.size
    cdef REAL_t *row
    cdef double f, g, loss = 0.0
    for p in range(c.hs_start[target], c.hs_start[target + 1]):
        row = &c.syn1[<Py_ssize_t>c.hs_point[p] * size]
        f = clip_score(bo_dot(row, h, size))
        if c.compute_loss:
            loss += softplus(f if c.hs_code[p] else -f)
        g = (1.0 - c.hs_code[p] - sigmoid(f)) * c.alpha
        bo_axpy(<REAL_t>g, row, c.neu1e, size)
        if c.learn_hidden:
            bo_axpy_clamped(<REAL_t>g, h, row, size)
    return loss


cdef inline double pair_step(
        TrainConfig *c, const REAL_t *h, int32_t target, double log_z, double *dlogz) noexcept nogil:
    """One prediction of `target` from `h`; neu1e must be zero on entry."""
    if c.loss == LOSS_HS:
        dlogz[0] = 0.0
        return hs_step(c, h, target)
    if c.dense:
        dlogz[0] = 0.0
        return softmax_step(c, h, target)
    return update_with_candidates(c, h, draw_candidates(c, target), log_z, dlogz)


# ---------------------------------------------------------------------------------------------
# One driver per input kind: words in sentences (skip-gram, CBOW), and documents (Doc2Vec)


# The input of a word: its syn0 row, and for FastText the rows of its n-gram buckets. These three
# functions are the only ones that know what a word's input is made of.


cdef inline int add_word_input(TrainConfig *c, int32_t word, REAL_t *acc) noexcept nogil:
    # acc += every row of word's input; returns how many rows that was
    cdef int64_t b, b0, b1
    cdef int size = c.size
    bo_axpy(ONEF, &c.syn0[<Py_ssize_t>word * size], acc, size)
    if c.ngrams == NULL:
        return 1
    b0 = c.sub_start[word]
    b1 = c.sub_start[word + 1]
    for b in range(b0, b1):
        bo_axpy(ONEF, &c.ngrams[<Py_ssize_t>c.sub_idx[b] * size], acc, size)
    return <int>(1 + b1 - b0)


cdef inline const REAL_t *word_input(TrainConfig *c, int32_t word) noexcept nogil:
    # h of one word: its syn0 row itself, or (FastText) the mean of its rows, built in neu1
    cdef int n, k
    cdef REAL_t inv
    if c.ngrams == NULL:
        return &c.syn0[<Py_ssize_t>word * c.size]
    memset(c.neu1, 0, c.size * sizeof(REAL_t))
    n = add_word_input(c, word, c.neu1)
    if n > 1:
        inv = ONEF / n
        for k in range(c.size):
            c.neu1[k] *= inv
    return c.neu1


cdef inline void apply_input_gradient(TrainConfig *c, int32_t word, const REAL_t *e, double dlogz) noexcept nogil:
    # every row of word's input += its lockf * e, clamped (undivided, as gensim and fastText do);
    # NCE's learned normaliser c[word] follows dJ/dc
    cdef int64_t b
    cdef uint32_t r
    if not c.learn_words:
        return
    bo_axpy_clamped(c.lockf[word % c.lockf_len], e, &c.syn0[<Py_ssize_t>word * c.size], c.size)
    if c.ngrams != NULL:
        for b in range(c.sub_start[word], c.sub_start[word + 1]):
            r = c.sub_idx[b]
            bo_axpy_clamped(c.ngram_lockf[r % c.ngram_lockf_len], e, &c.ngrams[<Py_ssize_t>r * c.size], c.size)
    if c.nce_learned:
        c.nce_log_z[word] += <REAL_t>(c.alpha * dlogz)


cdef inline void apply_doc_gradient(TrainConfig *c, int32_t tag, const REAL_t *e) noexcept nogil:
    if c.learn_docs:
        bo_axpy_clamped(c.doc_lockf[tag % c.doc_lockf_len], e, &c.docs[<Py_ssize_t>tag * c.size], c.size)


cdef inline void window_bounds(
        TrainConfig *c, int i, int start, int end, int *j0, int *j1) noexcept nogil:
    cdef int b = rng_below(&c.rng, c.window) if c.shrink_windows else 0
    j0[0] = i - c.window + b
    if j0[0] < start:
        j0[0] = start
    j1[0] = i + c.window + 1 - b
    if j1[0] > end:
        j1[0] = end


cdef double window_update_with_candidates(
        TrainConfig *c, const int32_t *idx, int i, int j0, int j1, int n) noexcept nogil:
    """The update of shared_window_step (below), with the candidates cand[0:n] already drawn."""
    cdef int p, q, j, m = 0, size = c.size, stride = c.negative + 1
    cdef double loss = 0.0, log_z = 0.0, gsum
    cdef REAL_t *h
    cdef REAL_t *e
    cdef double *g
    cdef gamma_fn gammas = gamma_function(c.loss)
    for j in range(j0, j1):
        if j == i:
            continue
        h = &c.syn0[<Py_ssize_t>idx[j] * size]
        g = &c.win_gam[m * stride]
        score_candidates(c, h, n, c.scores)
        if c.nce_learned:
            log_z = c.nce_log_z[idx[j]]
        loss += gammas(c.scores, c.cand, n, c.logq, c.log_k, log_z, c.compute_loss, g, &c.win_dlogz[m])
        e = &c.win_neu1e[m * size]
        memset(e, 0, size * sizeof(REAL_t))
        for q in range(n):
            bo_axpy(<REAL_t>(c.alpha * g[q]), &c.syn1neg[<Py_ssize_t>c.cand[q] * size], e, size)
        m += 1
    for q in range(n):
        # neu1 collects this row's update over the window, then the row is written once
        memset(c.neu1, 0, size * sizeof(REAL_t))
        gsum = 0.0
        p = 0
        for j in range(j0, j1):
            if j == i:
                continue
            bo_axpy(<REAL_t>(c.alpha * c.win_gam[p * stride + q]), &c.syn0[<Py_ssize_t>idx[j] * size], c.neu1, size)
            gsum += c.win_gam[p * stride + q]
            p += 1
        bo_axpy_clamped(ONEF, c.neu1, &c.syn1neg[<Py_ssize_t>c.cand[q] * size], size)
        if c.bias != NULL:
            add_clamped(&c.bias[c.cand[q]], c.alpha * gsum)
    p = 0
    for j in range(j0, j1):
        if j == i:
            continue
        apply_input_gradient(c, idx[j], &c.win_neu1e[p * size], c.win_dlogz[p])
        p += 1
    return loss


cdef double shared_window_step(TrainConfig *c, const int32_t *idx, int i, int j0, int j1) noexcept nogil:
    """The pairs (i, j) of one window, j in [j0, j1) but i, with one candidate set.

    In skip-gram every pair of a window predicts the same word, the centre idx[i], so its pairs
    can share one draw of the k samples (pWord2Vec; BlackOut's paper shares them across a
    mini-batch). Each pair still sees k independent draws from q, so its expected gradient and
    the optimum are unchanged. The window is one mini-batch: every gradient is taken at the
    weights as they were before it, then each candidate row is written once (not once per pair)
    and each context row once. Fewer writes to shared rows is what helps Hogwild threads.
    """
    return window_update_with_candidates(c, idx, i, j0, j1, draw_candidates(c, idx[i]))


cdef inline void prefetch_next_window(TrainConfig *c, const int32_t *idx, int i, int end) noexcept nogil:
    # what the window after centre i will read first: the row of the word entering it (the
    # other rows of a window were read by the windows before), and its target's output row
    cdef int entering = i + 1 + c.window
    if entering < end:
        bo_prefetch_row(&c.syn0[<Py_ssize_t>idx[entering] * c.size], c.size)
    if i + 1 < end and not c.dense and c.syn1neg != NULL:
        prefetch_output(c, idx[i + 1])


cdef inline void sg_position(TrainConfig *c, const int32_t *idx, int i, int start, int end) noexcept nogil:
    # as gensim: for each pair (centre i, context j), h = the input of word j predicts word i
    cdef int j, j0, j1
    cdef int32_t inp
    cdef double log_z = 0.0, dlogz = 0.0
    window_bounds(c, i, start, end, &j0, &j1)
    prefetch_next_window(c, idx, i, end)
    if c.shared_samples:
        if j1 - j0 > 1:
            c.loss_sum += shared_window_step(c, idx, i, j0, j1)
        return
    for j in range(j0, j1):
        if j == i:
            continue
        inp = idx[j]
        if c.nce_learned:
            log_z = c.nce_log_z[inp]
        memset(c.neu1e, 0, c.size * sizeof(REAL_t))
        c.loss_sum += pair_step(c, word_input(c, inp), idx[i], log_z, &dlogz)
        apply_input_gradient(c, inp, c.neu1e, dlogz)


cdef inline void subword_sg_position(TrainConfig *c, const int32_t *idx, int i, int start, int end) noexcept nogil:
    # FastText's skip-gram, as gensim and fastText orient it: the centre word's input (the mean
    # of its own row and its n-grams' rows) predicts each word of its window. The pairs run one
    # after the other, as if each updated the centre's rows at once: an update of e to each of
    # the n + 1 rows moves their mean by m e (m, the rows' mean lockf; 1 by default), so h
    # follows it exactly, and the rows get the window's summed gradient once, at its end
    # (2 (n + 1) row operations per centre, not per pair).
    cdef int j, j0, j1, n, size = c.size
    cdef int32_t centre = idx[i]
    cdef int64_t b
    cdef REAL_t m
    cdef double log_z = 0.0, dlogz = 0.0
    window_bounds(c, i, start, end, &j0, &j1)
    if j1 - j0 <= 1:
        return
    prefetch_next_window(c, idx, i, end)
    word_input(c, centre)   # into neu1
    n = <int>(1 + c.sub_start[centre + 1] - c.sub_start[centre])
    m = c.lockf[centre % c.lockf_len]
    for b in range(c.sub_start[centre], c.sub_start[centre + 1]):
        m += c.ngram_lockf[c.sub_idx[b] % c.ngram_lockf_len]
    m /= n
    memset(c.acc, 0, size * sizeof(REAL_t))
    for j in range(j0, j1):
        if j == i:
            continue
        if c.nce_learned:
            log_z = c.nce_log_z[centre]
        memset(c.neu1e, 0, size * sizeof(REAL_t))
        c.loss_sum += pair_step(c, c.neu1, idx[j], log_z, &dlogz)
        bo_axpy(m, c.neu1e, c.neu1, size)
        bo_axpy(ONEF, c.neu1e, c.acc, size)
        if c.nce_learned and c.learn_words:
            c.nce_log_z[centre] += <REAL_t>(c.alpha * dlogz)
    apply_input_gradient(c, centre, c.acc, 0.0)   # (NCE's dJ/dc went in pair by pair, above)


cdef inline void cbow_position(
        TrainConfig *c, const int32_t *idx, int i, int start, int end,
        const int32_t *tags, int t0, int t1) noexcept nogil:
    # h = sum (cbow_mean=0) or mean (cbow_mean=1) of every input row of the context words (and,
    # for PV-DM, of the document's tag rows tags[t0:t1]) predicts the centre word. The learned
    # NCE normaliser of a context is the mean of its words' normalisers. As in gensim and
    # word2vec.c, the input gradient is added undivided to every input row (and dJ/dc to every
    # context word's c), for both cbow_mean values: their learning rates are tuned for that,
    # and dividing by the context size halved the vectors' quality.
    cdef int j, j0, j1, t, count = 0, n_words = 0, size = c.size
    cdef REAL_t inv_count
    cdef double log_z = 0.0, dlogz = 0.0
    window_bounds(c, i, start, end, &j0, &j1)
    prefetch_next_window(c, idx, i, end)
    memset(c.neu1, 0, size * sizeof(REAL_t))
    for j in range(j0, j1):
        if j == i:
            continue
        n_words += 1
        count += add_word_input(c, idx[j], c.neu1)
        if c.nce_learned:
            log_z += c.nce_log_z[idx[j]]
    for t in range(t0, t1):
        count += 1
        bo_axpy(ONEF, &c.docs[<Py_ssize_t>tags[t] * size], c.neu1, size)
    if count == 0:
        return
    if c.cbow_mean:
        inv_count = ONEF / count
        for j in range(size):
            c.neu1[j] *= inv_count
    if n_words > 0:
        inv_count = ONEF / n_words
        log_z *= inv_count
    memset(c.neu1e, 0, size * sizeof(REAL_t))
    c.loss_sum += pair_step(c, c.neu1, idx[i], log_z, &dlogz)
    for j in range(j0, j1):
        if j == i:
            continue
        apply_input_gradient(c, idx[j], c.neu1e, dlogz)
    for t in range(t0, t1):
        apply_doc_gradient(c, tags[t], c.neu1e)


cdef void run_sg(TrainConfig *c, const int32_t *idx, const int32_t *bounds, int n_sent) noexcept nogil:
    cdef int s, i
    for s in range(n_sent):
        for i in range(bounds[s], bounds[s + 1]):
            if c.ngrams != NULL:
                subword_sg_position(c, idx, i, bounds[s], bounds[s + 1])
            else:
                sg_position(c, idx, i, bounds[s], bounds[s + 1])


cdef void run_cbow(TrainConfig *c, const int32_t *idx, const int32_t *bounds, int n_sent) noexcept nogil:
    cdef int s, i
    for s in range(n_sent):
        for i in range(bounds[s], bounds[s + 1]):
            cbow_position(c, idx, i, bounds[s], bounds[s + 1], NULL, 0, 0)


cdef void run_docs(TrainConfig *c, const int32_t *idx, const int32_t *bounds, int n_doc,
                   const int32_t *tags, const int32_t *tag_bounds) noexcept nogil:
    """Doc2Vec: document s has the words idx[bounds[s]:bounds[s + 1]] and the tag rows
    tags[tag_bounds[s]:tag_bounds[s + 1]] of ``docs``.

    PV-DBOW (``sg``): each tag's row predicts each word of its document; with ``train_words``,
    each word's skip-gram window is trained first, as gensim interleaves them. PV-DM: the CBOW
    step, with the tags' rows added to every context.
    """
    cdef int s, i, t
    cdef double dlogz = 0.0
    for s in range(n_doc):
        for i in range(bounds[s], bounds[s + 1]):
            if not c.sg:
                cbow_position(c, idx, i, bounds[s], bounds[s + 1], tags, tag_bounds[s], tag_bounds[s + 1])
                continue
            if c.train_words:
                sg_position(c, idx, i, bounds[s], bounds[s + 1])
            for t in range(tag_bounds[s], tag_bounds[s + 1]):
                memset(c.neu1e, 0, c.size * sizeof(REAL_t))
                c.loss_sum += pair_step(c, &c.docs[<Py_ssize_t>tags[t] * c.size], idx[i], 0.0, &dlogz)
                apply_doc_gradient(c, tags[t], c.neu1e)


# ---------------------------------------------------------------------------------------------
# Python side: filling the config, and the entry points


def cache_line_alone(n, dtype):
    """A zeroed array of `n` items that shares no 64-byte cache line with any other allocation.

    The kernels write their work buffers at every prediction. Small arrays allocated one after
    the other (by two worker threads, say) could share a cache line, and two cores writing to
    one line take turns owning it; 64 bytes of padding on each side rule that out.
    """
    nbytes = n * np.dtype(dtype).itemsize
    raw = np.zeros(nbytes + 3 * 64, dtype=np.uint8)
    start = 64 + (-raw.ctypes.data) % 64     # 64-byte aligned, and 64 bytes of padding before
    return raw[start:start + nbytes].view(dtype)   # and at least 64 after


class ThreadMemory:
    """Per-thread work memory of the new kernels (gensim's ``work`` and ``neu1``, and more)."""

    def __init__(self, size, negative, vocab_size, full_softmax, window=0):
        self.neu1 = cache_line_alone(size, np.float32)
        self.neu1e = cache_line_alone(size, np.float32)
        self.acc = cache_line_alone(size, np.float32)
        self.cand = cache_line_alone(negative + 1, np.int32)
        self.scores = cache_line_alone(max(negative + 1, vocab_size if full_softmax else 0), np.float32)
        self.gam = cache_line_alone(negative + 1, np.float64)
        # for shared_samples (window > 0): one slot per context word of a window, at most 2 window
        self.window = max(int(window), 0)
        self.win_neu1e = cache_line_alone(max(2 * self.window * size, 1), np.float32)
        self.win_gam = cache_line_alone(max(2 * self.window * (negative + 1), 1), np.float64)
        self.win_dlogz = cache_line_alone(max(2 * self.window, 1), np.float64)


cdef REAL_t *float_ptr(object arr, str name, bint writes=True) except NULL:
    # writes=False: the kernel only reads the array (infer_vector's frozen words and output
    # layer), so a read-only one, as mmap='r' loads it, will do
    cdef cnp.ndarray a = arr
    if a.dtype != np.float32 or not a.flags.c_contiguous:
        raise TypeError("%s must be a C-contiguous float32 array" % name)
    if writes and not a.flags.writeable:
        raise ValueError("%s is read-only (was the model loaded with mmap='r'?)" % name)
    return <REAL_t *>cnp.PyArray_DATA(a)


cdef void *const_ptr(object arr, object dtype, str name) except NULL:
    cdef cnp.ndarray a = arr
    if a.dtype != dtype or not a.flags.c_contiguous:
        raise TypeError("%s must be a C-contiguous %s array" % (name, dtype))
    return cnp.PyArray_DATA(a)


cdef set_loss(TrainConfig *c, spec):
    # what the kernel reads of a row of the loss table (losses.Loss)
    c.loss = spec.code or spec.reporting_code
    c.dense = spec.dense
    c.keeps_hits = spec.keeps_hits


cdef init_config(TrainConfig *c, model, double alpha, int compute_loss, mem, uint64_t seed, bint frozen=False):
    # frozen: only document rows train (infer_vector); the words' rows and the output layer
    # are read, never written, and may be read-only
    spec = loss_spec(model.kernel_loss)
    if spec is None:
        raise ValueError(f"loss={model.loss!r} is not trained by this package's kernels")
    memset(c, 0, sizeof(TrainConfig))
    set_loss(c, spec)
    c.size = model.wv.vector_size
    c.negative = model.negative
    c.vocab_size = len(model.wv)
    c.window = model.window
    c.shrink_windows = int(model.shrink_windows)
    c.cbow_mean = model.cbow_mean
    c.compute_loss = compute_loss
    c.alpha = <REAL_t>alpha
    c.sg = model.sg
    if c.loss == LOSS_HS:
        bind_hs(c, model, frozen)
    else:
        c.syn1neg = float_ptr(model.syn1neg, "syn1neg", not frozen)
        if model.syn1neg.shape[0] < c.vocab_size:
            raise RuntimeError("syn1neg is smaller than the vocabulary; call build_vocab() first")
    c.learn_docs = 1
    c.learn_words = c.learn_hidden = not frozen
    bind_inputs(c, model, frozen)
    c.nce_learned = model.nce_learned
    if c.nce_learned:
        c.nce_log_z = float_ptr(model.nce_log_z, "nce_log_z", not frozen)
    if model.output_bias:
        c.bias = float_ptr(model.syn1neg_bias, "syn1neg_bias", not frozen)
        if len(model.syn1neg_bias) < c.vocab_size:
            raise RuntimeError("syn1neg_bias is smaller than the vocabulary; call build_vocab() first")
    c.logq = <const double *>const_ptr(model.noise_logq, np.float64, "noise_logq")
    c.log_k = log(max(model.negative, 1))
    c.alias = <const uint64_t *>const_ptr(model.noise_alias, np.uint64, "noise_alias")
    if model.sample:
        c.sample_int = <const uint32_t *>const_ptr(model.wv.expandos['sample_int'], np.uint32, "sample_int")
        if len(model.wv.expandos['sample_int']) < c.vocab_size:
            raise RuntimeError("sample_int is smaller than the vocabulary; call build_vocab() first")
    if len(model.noise_logq) < c.vocab_size or len(model.noise_alias) < c.vocab_size:
        raise RuntimeError("model arrays are smaller than the vocabulary; call build_vocab() first")
    if c.dense and len(mem.scores) < c.vocab_size:
        raise RuntimeError("thread memory too small for the full softmax")
    bind_thread_memory(c, mem)
    c.shared_samples = bool(model.shared_samples) and model.sg and spec.shared_samples \
        and c.ngrams == NULL and c.docs == NULL
    if c.shared_samples and (mem.window < c.window or len(mem.win_gam) < 2 * c.window * (c.negative + 1)):
        raise RuntimeError("thread memory too small for shared_samples with this window")
    c.rng = seed_state(seed)
    if not c.dense and c.syn1neg != NULL and c.vocab_size > 0:
        start_noise(c, seed)


cdef bind_hs(TrainConfig *c, model, bint frozen):
    """Point `c` at the hierarchical softmax's inner nodes and every word's Huffman path."""
    cdef cnp.ndarray start, points, codes
    start, points, codes = model.hs_table()
    if len(start) < c.vocab_size + 1 or model.syn1.shape[0] < c.vocab_size - 1:
        raise RuntimeError("the Huffman tree does not match the vocabulary; call build_vocab() first")
    c.syn1 = float_ptr(model.syn1, "syn1", not frozen)
    c.hs_start = <const int64_t *>const_ptr(start, np.int64, "path starts")
    c.hs_point = <const uint32_t *>const_ptr(points, np.uint32, "path points")
    c.hs_code = <const uint8_t *>const_ptr(codes, np.uint8, "path codes")


cdef bind_inputs(TrainConfig *c, model, bint frozen):
    """Point `c` at the model's input rows: its words', and FastText's n-grams or Doc2Vec's tags."""
    cdef str kind = model.input_kind
    cdef cnp.ndarray start, flat
    wv = model.wv
    if kind == "subwords":
        c.syn0 = float_ptr(wv.vectors_vocab, "wv.vectors_vocab", not frozen)
        c.lockf = float_ptr(wv.vectors_vocab_lockf, "wv.vectors_vocab_lockf", not frozen)
        c.lockf_len = len(wv.vectors_vocab_lockf)
        if wv.vectors_vocab.shape[0] < c.vocab_size:
            raise RuntimeError("wv.vectors_vocab is smaller than the vocabulary; call build_vocab() first")
        if wv.bucket:
            start, flat = model.subword_table()
            if len(start) < c.vocab_size + 1 or wv.vectors_ngrams.shape[0] < wv.bucket:
                raise RuntimeError("the n-gram buckets do not match the vocabulary; call build_vocab() first")
            c.ngrams = float_ptr(wv.vectors_ngrams, "wv.vectors_ngrams", not frozen)
            c.ngram_lockf = float_ptr(wv.vectors_ngrams_lockf, "wv.vectors_ngrams_lockf", not frozen)
            c.ngram_lockf_len = len(wv.vectors_ngrams_lockf)
            c.sub_start = <const int64_t *>const_ptr(start, np.int64, "subword starts")
            c.sub_idx = <const uint32_t *>const_ptr(flat, np.uint32, "subword buckets")
    else:
        c.syn0 = float_ptr(wv.vectors, "wv.vectors", not frozen)
        c.lockf = float_ptr(wv.vectors_lockf, "wv.vectors_lockf", not frozen)
        c.lockf_len = len(wv.vectors_lockf)
        if wv.vectors.shape[0] < c.vocab_size:
            raise RuntimeError("wv.vectors is smaller than the vocabulary; call build_vocab() first")
    if c.lockf_len == 0 or (c.ngrams != NULL and c.ngram_lockf_len == 0):
        raise ValueError("a vectors_lockf array is empty")
    if kind == "documents":
        bind_docs(c, model.dv.vectors, model.dv.vectors_lockf, not frozen)
        c.train_words = int(model.dbow_words)


cdef bind_docs(TrainConfig *c, vectors, lockf, bint writes=True):
    if vectors.ndim != 2 or vectors.shape[1] != c.size:
        raise ValueError(f"document vectors must be n x {c.size}")
    c.docs = float_ptr(vectors, "dv.vectors", writes)
    c.doc_lockf = float_ptr(lockf, "dv.vectors_lockf", writes)
    c.doc_lockf_len = len(lockf)
    if c.doc_lockf_len == 0:
        raise ValueError("dv.vectors_lockf is empty")


cdef bind_thread_memory(TrainConfig *c, mem):
    """Point `c`'s work buffers at those of `mem`, a :class:`ThreadMemory`."""
    c.neu1 = float_ptr(mem.neu1, "neu1")
    c.neu1e = float_ptr(mem.neu1e, "neu1e")
    c.acc = float_ptr(mem.acc, "acc")
    c.cand = <int32_t *>const_ptr(mem.cand, np.int32, "cand")
    c.scores = float_ptr(mem.scores, "scores")
    c.gam = <double *>const_ptr(mem.gam, np.float64, "gam")
    c.win_neu1e = float_ptr(mem.win_neu1e, "win_neu1e")
    c.win_gam = <double *>const_ptr(mem.win_gam, np.float64, "win_gam")
    c.win_dlogz = <double *>const_ptr(mem.win_dlogz, np.float64, "win_dlogz")


def train_batch(model, sentences, double alpha, mem, int compute_loss, seed, vocab_hash=None, doc_tags=None,
                infer_into=None):
    """Train on one job of sentences (or of Doc2Vec's documents), with the new losses.

    Parameters
    ----------
    model : :class:`~blackout_ext.Word2Vec`, :class:`~blackout_ext.FastText` or :class:`~blackout_ext.Doc2Vec`
        The model, with ``loss`` one of the new losses.
    sentences : list of list of str
        The job (for Doc2Vec, the documents' words).
    alpha : float
        Learning rate for this job.
    mem : :class:`ThreadMemory`
        The calling thread's work memory.
    compute_loss : int
        Whether to accumulate the loss.
    seed : int
        Seed of this job's RNG (subsampling, window shrinking, noise draws).
    vocab_hash : :class:`VocabHash`, optional
        The vocabulary as a C table, for a faster lookup of ASCII ``str`` tokens. Used only
        when it is ``exact``; otherwise (or if None) every token goes through
        ``model.wv.key_to_index``. Either way the result is the same.
    doc_tags : list of list of int, optional
        Doc2Vec only: the row of ``dv.vectors`` of each tag of each document of `sentences`.
    infer_into : numpy.ndarray, optional
        Doc2Vec's ``infer_vector``: train only these document rows (float32, n x d, indexed by
        `doc_tags`); the words and the output layer stay as they are.

    Returns
    -------
    (int, int, float)
        Words trained on (in vocabulary and kept by subsampling; for documents plus their tags,
        as gensim counts), words seen, and the job's loss (double).
    """
    cdef TrainConfig c
    init_config(&c, model, alpha, compute_loss, mem, <uint64_t>seed, frozen=infer_into is not None)
    cdef int docs = doc_tags is not None
    if docs and c.docs == NULL:
        raise TypeError("doc_tags needs a Doc2Vec model")
    infer_lockf = np.ones(1, dtype=np.float32)   # held here: the config points into it
    if infer_into is not None:
        bind_docs(&c, infer_into, infer_lockf)
        c.train_words = 0
    cdef Py_ssize_t n_rows = 0, n_tags = 0, n_tag = 0
    if docs:
        n_rows = (infer_into if infer_into is not None else model.dv.vectors).shape[0]
        if len(doc_tags) != len(sentences):
            raise ValueError("doc_tags needs one list of tags per document")
        for tag_list in doc_tags:
            n_tags += len(tag_list)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] tags = np.empty(max(n_tags, 1), dtype=np.int32)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] tag_bounds = np.zeros(len(sentences) + 1, dtype=np.int32)
    cdef dict key_to_index = model.wv.key_to_index
    cdef Py_ssize_t raw = 0
    for sent in sentences:
        raw += len(sent)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] idx = np.empty(max(raw, 1), dtype=np.int32)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] bounds = np.zeros(len(sentences) + 1, dtype=np.int32)
    cdef VocabTable table
    cdef int use_table = vocab_hash is not None and vocab_hash.exact
    # the tokens whose lookup waits until the GIL is released, each with a reference held
    cdef cnp.ndarray[cnp.intp_t, ndim=1] held = np.empty(max(raw, 1) if use_table else 1, dtype=np.intp)
    cdef Py_ssize_t n = 0, n_held = 0, t
    cdef int n_sent = 0
    cdef PyObject *found
    cdef int sg = model.sg
    memset(&table, 0, sizeof(VocabTable))
    if use_table:
        table = vocab_table(vocab_hash, c.vocab_size)
    # Under the GIL, only what needs it: walk the Python lists, and hold each ASCII str token
    # (to look it up in the C table without the GIL, by its bytes; the reference keeps it alive
    # should the corpus's own code reuse its lists meanwhile). Any other token goes through the
    # dict here. This loop's cost per token sets the ceiling on how well more workers scale.
    try:
        for s_i, sent in enumerate(sentences):
            if not sent:
                continue
            if docs:
                for tag in doc_tags[s_i]:
                    if not 0 <= tag < n_rows:
                        raise IndexError(f"document tag row {tag} is out of range for {n_rows} document vectors")
                    tags[n_tag] = tag
                    n_tag += 1
                tag_bounds[n_sent + 1] = n_tag
            for token in sent:
                if use_table and PyUnicode_CheckExact(token) and PyUnicode_IS_COMPACT_ASCII(token):
                    Py_INCREF(token)
                    held[n_held] = <cnp.intp_t><PyObject *>token
                    n_held += 1
                    idx[n] = TOKEN_HELD
                else:
                    found = PyDict_GetItem(key_to_index, token)
                    if found is NULL:
                        continue
                    idx[n] = PyLong_AsLong(<object>found)
                n += 1
            n_sent += 1
            bounds[n_sent] = n
        if n > 0:
            with nogil:
                n = resolve_and_subsample(&c, &table, &idx[0], &bounds[0], n_sent, <PyObject **>&held[0])
                if n > 0:
                    if docs:
                        run_docs(&c, &idx[0], &bounds[0], n_sent, &tags[0], &tag_bounds[0])
                    elif sg:
                        run_sg(&c, &idx[0], &bounds[0], n_sent)
                    else:
                        run_cbow(&c, &idx[0], &bounds[0], n_sent)
    finally:
        for t in range(n_held):
            Py_DECREF(<object><PyObject *>held[t])
    return n + n_tag, raw, c.loss_sum


cdef Py_ssize_t resolve_and_subsample(
        TrainConfig *c, const VocabTable *table, int32_t *idx, int32_t *bounds, int n_sent,
        PyObject **held) noexcept nogil:
    """Without the GIL: look each held token up, drop the unknown and subsampled ones, compact.

    idx[0:bounds[n_sent]] holds a word index or TOKEN_HELD (the next token of `held`); the
    sentences' bounds are rewritten to the compacted array. The draws come in the order of the
    tokens, as when the lookup was done under the GIL, so the result is the same.
    """
    cdef Py_ssize_t n = 0, t, h = 0, start = 0, end
    cdef int s
    cdef int32_t w
    for s in range(n_sent):
        end = bounds[s + 1]
        for t in range(start, end):
            w = idx[t]
            if w == TOKEN_HELD:
                w = vocab_lookup(table, <const char *>ascii_data(held[h]), str_length(held[h]))
                h += 1
                if w < 0:
                    continue
            if c.sample_int != NULL and c.sample_int[w] < rng_next32(&c.rng):
                continue
            idx[n] = w
            n += 1
        start = end
        bounds[s + 1] = <int32_t>n
    return n


# ---------------------------------------------------------------------------------------------
# The kernel's own steps, callable from Python (for the gradient tests)


def py_gammas(str loss, scores, logq=None, int negative=1, double log_z=0.0, int target=0):
    """Gammas and loss of one pair, computed by the same C function training uses.

    Parameters
    ----------
    loss : str
        ``"nce"``, ``"sampled_softmax"``, ``"blackout"``, ``"softmax"``, or ``"ns"`` (the step that
        trains gensim's negative sampling for FastText and Doc2Vec with ``compute_loss``).
    scores : numpy.ndarray
        For the sampled losses, the scores of the candidates, target first. For ``"softmax"``,
        the scores of the whole vocabulary.
    logq : numpy.ndarray, optional
        log q of each candidate (sampled losses only).
    negative : int, optional
        k, for NCE's log(k q).
    log_z : float, optional
        NCE's c = log Z.
    target : int, optional
        Index of the target in `scores` (``"softmax"`` only).

    Returns
    -------
    (numpy.ndarray, float, float)
        gamma_w = dJ/ds_w for each entry of `scores`, the loss -J, and dJ/dc (NCE).
    """
    cdef cnp.ndarray[REAL_t, ndim=1] s = np.array(scores, dtype=np.float32)
    cdef int n = len(s)
    cdef cnp.ndarray[double, ndim=1] g = np.zeros(n, dtype=np.float64)
    cdef cnp.ndarray[double, ndim=1] lq
    cdef cnp.ndarray[cnp.int32_t, ndim=1] cand = np.arange(n, dtype=np.int32)
    cdef double dlogz = 0.0, value
    cdef int code = LOSS_CODES.get(loss, 0) or (REPORTING_CODES.get(loss, 0) if loss == "ns" else 0)
    if not code:
        raise ValueError("unknown loss %r" % loss)
    if loss_spec(loss).dense:
        value = softmax_gammas(&s[0], n, target, 1.0)
        return s.astype(np.float64), value, 0.0
    lq = np.array(logq if logq is not None else np.zeros(n), dtype=np.float64)
    value = gamma_function(code)(&s[0], &cand[0], n, &lq[0], log(negative), log_z, 1, &g[0], &dlogz)
    return g, value, dlogz


cdef test_config(TrainConfig *c, str loss, cnp.ndarray[REAL_t, ndim=2] u, int negative, double alpha,
                 cnp.ndarray[double, ndim=1] lq, bias):
    # what the test entry points below share: a zeroed config for `loss` over the output matrix u,
    # with the output bias `bias` (one float32 per row of u) or none
    memset(c, 0, sizeof(TrainConfig))
    set_loss(c, loss_spec(loss))
    if bias is not None:
        if len(bias) != u.shape[0]:
            raise ValueError("bias needs one value per row of syn1neg")
        c.bias = float_ptr(bias, "bias")
    c.size = u.shape[1]
    c.vocab_size = u.shape[0]
    c.negative = negative
    c.alpha = <REAL_t>alpha
    c.compute_loss = 1
    c.learn_words = c.learn_docs = c.learn_hidden = 1
    c.syn1neg = &u[0, 0]
    c.logq = &lq[0]
    c.log_k = log(negative)


def py_pair_update(str loss, syn1neg, h, cand, logq, int negative, double alpha, double log_z=0.0, bias=None):
    """Apply one pair's update with fixed candidates, as training does (for tests).

    `syn1neg` and `bias` (the output bias of each word, float32, or None) are updated in place.
    Returns ``(neu1e, loss, dlogz)``. For ``"softmax"`` the candidates are ignored: cand[0] is
    the target.
    """
    cdef TrainConfig c
    cdef cnp.ndarray[REAL_t, ndim=2] u = syn1neg
    cdef cnp.ndarray[REAL_t, ndim=1] hv = np.array(h, dtype=np.float32)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] cv = np.array(cand, dtype=np.int32)
    cdef cnp.ndarray[double, ndim=1] lq = np.array(logq, dtype=np.float64)
    cdef cnp.ndarray[REAL_t, ndim=1] neu1e = np.zeros(u.shape[1], dtype=np.float32)
    cdef cnp.ndarray[REAL_t, ndim=1] scores = np.zeros(max(len(cv), u.shape[0]), dtype=np.float32)
    cdef cnp.ndarray[double, ndim=1] gam = np.zeros(len(cv), dtype=np.float64)
    cdef double dlogz = 0.0, value
    if not u.flags.c_contiguous:
        raise ValueError("syn1neg must be C-contiguous")
    test_config(&c, loss, u, negative, alpha, lq, bias)
    c.cand = &cv[0]
    c.scores = &scores[0]
    c.gam = &gam[0]
    c.neu1e = &neu1e[0]
    if c.dense:
        value = softmax_step(&c, &hv[0], cv[0])
    else:
        value = update_with_candidates(&c, &hv[0], len(cv), log_z, &dlogz)
    return neu1e, value, dlogz


def py_window_update(str loss, syn0, syn1neg, contexts, cand, logq, int negative, double alpha, log_z=None,
                     bias=None):
    """Apply one shared-samples window update with fixed candidates, as training does (for tests).

    The rows `contexts` of `syn0` each predict cand[0] against the same candidates `cand`.
    `syn0`, `syn1neg`, `log_z` (NCE's learned c per word, or None) and `bias` (the output bias,
    or None) are updated in place. Returns the window's loss.
    """
    cdef TrainConfig c
    cdef cnp.ndarray[REAL_t, ndim=2] v = syn0
    cdef cnp.ndarray[REAL_t, ndim=2] u = syn1neg
    cdef cnp.ndarray[cnp.int32_t, ndim=1] cv = np.array(cand, dtype=np.int32)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] idx = np.array([cand[0]] + list(contexts), dtype=np.int32)
    cdef cnp.ndarray[double, ndim=1] lq = np.array(logq, dtype=np.float64)
    cdef cnp.ndarray[REAL_t, ndim=1] lockf = np.ones(1, dtype=np.float32)
    cdef cnp.ndarray[REAL_t, ndim=1] lz
    if loss not in LOSS_CODES or loss_spec(loss).dense:
        raise ValueError("unknown sampled loss %r" % loss)
    if not (v.flags.c_contiguous and u.flags.c_contiguous) or v.shape[1] != u.shape[1]:
        raise ValueError("syn0 and syn1neg must be C-contiguous, with the same number of columns")
    if len(cv) > negative + 1:
        raise ValueError("at most negative + 1 candidates")
    mem = ThreadMemory(u.shape[1], negative, u.shape[0], False, window=len(contexts))
    test_config(&c, loss, u, negative, alpha, lq, bias)
    c.syn0 = &v[0, 0]
    c.lockf = &lockf[0]
    c.lockf_len = 1
    if log_z is not None:
        lz = log_z
        c.nce_learned = 1
        c.nce_log_z = &lz[0]
    bind_thread_memory(&c, mem)
    memcpy(c.cand, &cv[0], len(cv) * sizeof(int32_t))
    return window_update_with_candidates(&c, &idx[0], 0, 0, len(idx), len(cv))
