# Included by _inner.pyx (one compilation unit, so that the steps inline): One small step per loss: the scores of the candidates in, gamma_w = dJ/ds_w out (docs/losses.md).
# ---------------------------------------------------------------------------------------------
# One small step per loss: scores of the candidates in, gamma_w = dJ/ds_w out, loss (-J) back.
#
# A sampled loss is one function gammas_<name> with the signature of gamma_fn: from the scores
# s[0:n] of the candidates cand[0:n] (the target first) and log q of each, the gammas
# g[i] = dJ/ds_i, and -J back when want_loss. setup.py writes gamma_function, the dispatch on
# the loss's code, from losses.py's table (_loss_dispatch.pxi, included after this file).

ctypedef double (*gamma_fn)(
    const REAL_t *s, const int32_t *cand, int n, const double *logq, int want_loss, double *g, LossParams *p
) noexcept nogil


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
        const REAL_t *s, const int32_t *cand, int n, const double *logq, int want_loss, double *g,
        LossParams *p) noexcept nogil:
    # D_w = s_w - c - log(k q_w); target is cand[0], hits on it are kept as noise
    cdef double gsum, loss = logistic_gammas(s, cand, n, logq, p.log_k, p.log_z, want_loss, g, &gsum)
    p.dlogz = -gsum
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
        const REAL_t *s, const int32_t *cand, int n, const double *logq, int want_loss, double *g,
        LossParams *p) noexcept nogil:
    cdef int i
    cdef double log_pt = weighted_softmax(s, cand, n, logq, g, want_loss)
    for i in range(n):
        g[i] = -g[i]
    g[0] += 1.0
    p.dlogz = 0.0
    return -log_pt


cdef double gammas_blackout(
        const REAL_t *s, const int32_t *cand, int n, const double *logq, int want_loss, double *g,
        LossParams *p) noexcept nogil:
    # J = log p_t + sum_j log(1 - p_j); A = sum_j p_j / (1 - p_j)  (Ji et al., 2016)
    cdef int i
    cdef double pw, pc, a = 0.0, loss
    cdef double log_pt = weighted_softmax(s, cand, n, logq, g, want_loss)
    loss = -log_pt
    for i in range(1, n):
        pc = g[i] if g[i] < BO_P_CLAMP else BO_P_CLAMP
        a += pc / (1.0 - pc)
        if want_loss:
            loss -= log1p(-pc)
    pw = g[0]
    g[0] = 1.0 - pw + pw * a
    for i in range(1, n):
        pw = g[i]
        pc = pw if pw < BO_P_CLAMP else BO_P_CLAMP
        g[i] = -pw * (1.0 + 1.0 / (1.0 - pc) - a)
    p.dlogz = 0.0
    return loss


cdef double gammas_ns(
        const REAL_t *s, const int32_t *cand, int n, const double *logq, int want_loss, double *g,
        LossParams *p) noexcept nogil:
    # gensim's negative sampling: log sigma(s_t) + sum_j log sigma(-s_j), no offset, no bias
    cdef double gsum
    p.dlogz = 0.0
    return logistic_gammas(s, cand, n, NULL, 0.0, 0.0, want_loss, g, &gsum)


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
