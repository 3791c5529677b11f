# Included by _inner.pyx (one compilation unit, so that the steps inline): The pair step: candidates drawn, scored, the gammas, the update of the output rows and neu1e.
# ---------------------------------------------------------------------------------------------
# The shared pair step


cdef inline bint not_the_target(TrainConfig *c, int32_t target, int32_t *w) noexcept nogil:
    # A loss that keeps hits (NCE, sampled softmax) keeps a draw equal to t as a candidate of
    # its own: with them, sampled softmax is consistent as k grows. BlackOut (and the package's
    # ns) sample from q without t, as BlackOut's paper does: a hit is redrawn, at most
    # BO_MAX_REDRAWS times, and then that draw is dropped (False).
    cdef int tries = 0
    if c.loss.keeps_hits:
        return True
    while w[0] == target and tries < BO_MAX_REDRAWS:
        w[0] = draw_noise(c)
        tries += 1
    return w[0] != target


cdef int draw_candidates(TrainConfig *c, int32_t target) noexcept nogil:
    # cand[0] = t, then k draws from q (see not_the_target). With windows_per_draw > 1, the k
    # draws are made once for that many consecutive windows (predictions), and each window
    # takes them as its own, a hit on its target redrawn for it alone: every window still sees
    # k draws from q, so its expected gradient and the optimum are unchanged.
    cdef int i, n = 1
    cdef int32_t w
    cdef bint shared = c.windows_per_draw > 1
    c.work.cand[0] = target
    if shared:
        if c.noise.reuse_left == 0:
            for i in range(c.negative):
                c.work.draws[i] = draw_noise(c)
            c.noise.reuse_left = c.windows_per_draw
        c.noise.reuse_left -= 1
    for i in range(c.negative):
        w = c.work.draws[i] if shared else draw_noise(c)
        if not_the_target(c, target, &w):
            c.work.cand[n] = w
            n += 1
    return n


cdef inline void score_candidates(TrainConfig *c, const REAL_t *h, int n, REAL_t *scores) noexcept nogil:
    # s_w = u_w . h + b_w for w in cand[0:n]
    cdef int i, size = c.size
    for i in range(n):
        scores[i] = bo_dot(&c.out.syn1neg[<Py_ssize_t>c.work.cand[i] * size], h, size)
    if c.out.has_bias:
        for i in range(n):
            scores[i] += c.out.bias[c.work.cand[i]]


cdef double update_with_candidates(
        TrainConfig *c, const REAL_t *h, int n) noexcept nogil:
    """Score cand[0:n], compute the gammas, update syn1neg rows and accumulate neu1e."""
    cdef int i, size = c.size
    cdef REAL_t coef
    cdef double loss
    score_candidates(c, h, n, c.work.scores)
    loss = gamma_function(c.loss.code)(c.work.scores, c.work.cand, n, c.noise.logq, c.compute_loss, c.work.gam, &c.lp)
    # two passes, so that a duplicate draw's neu1e term sees u_w as it was before this pair
    for i in range(n):
        coef = <REAL_t>(c.alpha * c.work.gam[i])
        bo_axpy(coef, &c.out.syn1neg[<Py_ssize_t>c.work.cand[i] * size], c.work.neu1e, size)
    if not c.out.learn_hidden:
        return loss
    for i in range(n):
        coef = <REAL_t>(c.alpha * c.work.gam[i])
        bo_axpy_clamped(coef, h, &c.out.syn1neg[<Py_ssize_t>c.work.cand[i] * size], size)
        if c.out.has_bias:
            add_clamped(&c.out.bias[c.work.cand[i]], c.alpha * c.work.gam[i])
    return loss


cdef double softmax_step(TrainConfig *c, const REAL_t *h, int32_t target) noexcept nogil:
    # O(|V| d). The scores are one BLAS sgemv (syn1neg is row-major |V| x d, i.e. a column-major
    # d x |V| matrix). The update then makes a single pass over the rows, fusing the input
    # gradient (sgemv) with the rank-1 update (sger), each row read before it changes, clamped
    # as every other update is; a row whose gamma underflowed to 0 is skipped.
    cdef int d = c.size, nv = c.vocab_size
    cdef double loss
    sgemv("T", &d, &nv, &ONEF, c.out.syn1neg, &d, <REAL_t *>h, &ONE, &ZEROF, c.work.scores, &ONE)
    if c.out.has_bias:
        bo_axpy(ONEF, c.out.bias, c.work.scores, nv)
    loss = softmax_gammas(c.work.scores, nv, target, c.alpha)   # scores -> lr * gamma
    if not c.out.learn_hidden:
        # neu1e += U^T (lr gamma): the output layer is only read
        sgemv("N", &d, &nv, &ONEF, c.out.syn1neg, &d, c.work.scores, &ONE, &ONEF, c.work.neu1e, &ONE)
        return loss
    bo_softmax_update(c.work.scores, h, c.out.syn1neg, c.work.neu1e, nv, d)
    if c.out.has_bias:
        bo_axpy_clamped(ONEF, c.work.scores, c.out.bias, nv)
    return loss


cdef double hs_step(TrainConfig *c, const REAL_t *h, int32_t target) noexcept nogil:
    # gensim's hierarchical softmax: along the target's Huffman path, each inner node's row
    # predicts the path's turn (code 0 or 1) with a sigmoid: log sigma((1 - 2 code) f)
    cdef int64_t p
    cdef int size = c.size
    cdef REAL_t *row
    cdef double f, g, loss = 0.0
    for p in range(c.out.hs_start[target], c.out.hs_start[target + 1]):
        row = &c.out.syn1[<Py_ssize_t>c.out.hs_point[p] * size]
        f = clip_score(bo_dot(row, h, size))
        if c.compute_loss:
            loss += softplus(f if c.out.hs_code[p] else -f)
        g = (1.0 - c.out.hs_code[p] - sigmoid(f)) * c.alpha
        bo_axpy(<REAL_t>g, row, c.work.neu1e, size)
        if c.out.learn_hidden:
            bo_axpy_clamped(<REAL_t>g, h, row, size)
    return loss


cdef inline double pair_step(
        TrainConfig *c, const REAL_t *h, int32_t target) noexcept nogil:
    """One prediction of `target` from `h`; neu1e must be zero on entry."""
    if c.loss.tree:
        c.lp.dlogz = 0.0
        return hs_step(c, h, target)
    if c.loss.dense:
        c.lp.dlogz = 0.0
        return softmax_step(c, h, target)
    return update_with_candidates(c, h, draw_candidates(c, target))
