# Included by _inner.pyx (one compilation unit, so that the steps inline): The inputs (a word's rows) and the drivers: one per input kind, over a batch's positions.
# ---------------------------------------------------------------------------------------------
# One driver per input kind: words in sentences (skip-gram, CBOW), and documents (Doc2Vec)


# The input of a word: its syn0 row, and for FastText the rows of its n-gram buckets. These three
# functions are the only ones that know what a word's input is made of.


cdef inline int add_word_input(TrainConfig *c, int32_t word, REAL_t *acc) noexcept nogil:
    # acc += every row of word's input; returns how many rows that was
    cdef int64_t b, b0, b1
    cdef int size = c.size
    bo_axpy(ONEF, &c.inp.syn0[<Py_ssize_t>word * size], acc, size)
    if not c.inp.has_ngrams:
        return 1
    b0 = c.inp.sub_start[word]
    b1 = c.inp.sub_start[word + 1]
    for b in range(b0, b1):
        bo_axpy(ONEF, &c.inp.ngrams[<Py_ssize_t>c.inp.sub_idx[b] * size], acc, size)
    return <int>(1 + b1 - b0)


cdef inline const REAL_t *word_input(TrainConfig *c, int32_t word) noexcept nogil:
    # h of one word: its syn0 row itself, or (FastText) the mean of its rows, built in neu1
    cdef int n, k
    cdef REAL_t inv
    if not c.inp.has_ngrams:
        return &c.inp.syn0[<Py_ssize_t>word * c.size]
    memset(c.work.neu1, 0, c.size * sizeof(REAL_t))
    n = add_word_input(c, word, c.work.neu1)
    if n > 1:
        inv = ONEF / n
        for k in range(c.size):
            c.work.neu1[k] *= inv
    return c.work.neu1


cdef inline void apply_input_gradient(TrainConfig *c, int32_t word, const REAL_t *e, double dlogz) noexcept nogil:
    # every row of word's input += its lockf * e, clamped (undivided, as gensim and fastText do);
    # NCE's learned normaliser c[word] follows dJ/dc
    cdef int64_t b
    cdef uint32_t r
    if not c.inp.learn_words:
        return
    bo_axpy_clamped(c.inp.lockf[word % c.inp.lockf_len], e, &c.inp.syn0[<Py_ssize_t>word * c.size], c.size)
    if c.inp.has_ngrams:
        for b in range(c.inp.sub_start[word], c.inp.sub_start[word + 1]):
            r = c.inp.sub_idx[b]
            bo_axpy_clamped(c.inp.ngram_lockf[r % c.inp.ngram_lockf_len], e, &c.inp.ngrams[<Py_ssize_t>r * c.size], c.size)
    if c.loss.nce_learned:
        c.inp.nce_log_z[word] += <REAL_t>(c.alpha * dlogz)


cdef inline void apply_doc_gradient(TrainConfig *c, int32_t tag, const REAL_t *e) noexcept nogil:
    if c.inp.learn_docs:
        bo_axpy_clamped(c.inp.doc_lockf[tag % c.inp.doc_lockf_len], e, &c.inp.docs[<Py_ssize_t>tag * c.size], c.size)


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
    """The update of shared_window_step (below), with the candidates cand[0:n] already drawn.

    As blocks: the m x n scores S = H U^T of the window's m context rows H against the candidate
    rows U, then the gammas of each context (row of S), then the input gradients E = (a G) U and
    the candidates' updates U += (a G)^T H, both from the weights as they were, then H += E.
    """
    cdef int p, q, j, m = 0, size = c.size
    cdef double loss = 0.0, gsum
    cdef int32_t *ctx = c.work.win_ctx
    cdef REAL_t *s = c.work.win_scores
    cdef double *g
    cdef gamma_fn gammas = gamma_function(c.loss.code)
    for j in range(j0, j1):
        if j != i:
            ctx[m] = idx[j]
            m += 1
    bo_dots_block(c.inp.syn0, ctx, m, c.out.syn1neg, c.work.cand, n, size, s)
    for p in range(m):
        if c.out.has_bias:
            for q in range(n):
                s[p * n + q] += c.out.bias[c.work.cand[q]]
        if c.loss.nce_learned:
            c.lp.log_z = c.inp.nce_log_z[ctx[p]]
        g = &c.work.win_gam[p * n]
        loss += gammas(&s[p * n], c.work.cand, n, c.noise.logq, c.compute_loss, g, &c.lp)
        c.work.win_dlogz[p] = c.lp.dlogz
        for q in range(n):
            s[p * n + q] = <REAL_t>(c.alpha * g[q])   # the scores are spent: a G in their place
    for p in range(m):
        bo_combine(&s[p * n], 1, c.out.syn1neg, c.work.cand, n, size, &c.work.win_neu1e[p * size])
    for q in range(n):
        bo_add_combination_clamped(&s[q], n, c.inp.syn0, ctx, m, size,
                                   &c.out.syn1neg[<Py_ssize_t>c.work.cand[q] * size])
        if c.out.has_bias:
            gsum = 0.0
            for p in range(m):
                gsum += c.work.win_gam[p * n + q]
            add_clamped(&c.out.bias[c.work.cand[q]], c.alpha * gsum)
    for p in range(m):
        apply_input_gradient(c, ctx[p], &c.work.win_neu1e[p * size], c.work.win_dlogz[p])
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
        bo_prefetch_row(&c.inp.syn0[<Py_ssize_t>idx[entering] * c.size], c.size)
    if i + 1 < end and not c.loss.dense and c.out.syn1neg != NULL:
        prefetch_output(c, idx[i + 1])


cdef inline void sg_position(TrainConfig *c, const int32_t *idx, int i, int start, int end) noexcept nogil:
    # as gensim: for each pair (centre i, context j), h = the input of word j predicts word i
    cdef int j, j0, j1
    cdef int32_t inp
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
        if c.loss.nce_learned:
            c.lp.log_z = c.inp.nce_log_z[inp]
        memset(c.work.neu1e, 0, c.size * sizeof(REAL_t))
        c.loss_sum += pair_step(c, word_input(c, inp), idx[i])
        apply_input_gradient(c, inp, c.work.neu1e, c.lp.dlogz)


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
    window_bounds(c, i, start, end, &j0, &j1)
    if j1 - j0 <= 1:
        return
    prefetch_next_window(c, idx, i, end)
    word_input(c, centre)   # into neu1
    n = <int>(1 + c.inp.sub_start[centre + 1] - c.inp.sub_start[centre])
    m = c.inp.lockf[centre % c.inp.lockf_len]
    for b in range(c.inp.sub_start[centre], c.inp.sub_start[centre + 1]):
        m += c.inp.ngram_lockf[c.inp.sub_idx[b] % c.inp.ngram_lockf_len]
    m /= n
    memset(c.work.acc, 0, size * sizeof(REAL_t))
    for j in range(j0, j1):
        if j == i:
            continue
        if c.loss.nce_learned:
            c.lp.log_z = c.inp.nce_log_z[centre]
        memset(c.work.neu1e, 0, size * sizeof(REAL_t))
        c.loss_sum += pair_step(c, c.work.neu1, idx[j])
        bo_axpy(m, c.work.neu1e, c.work.neu1, size)
        bo_axpy(ONEF, c.work.neu1e, c.work.acc, size)
        if c.loss.nce_learned and c.inp.learn_words:
            c.inp.nce_log_z[centre] += <REAL_t>(c.alpha * c.lp.dlogz)
    apply_input_gradient(c, centre, c.work.acc, 0.0)   # (NCE's dJ/dc went in pair by pair, above)


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
    cdef double log_z = 0.0
    window_bounds(c, i, start, end, &j0, &j1)
    prefetch_next_window(c, idx, i, end)
    memset(c.work.neu1, 0, size * sizeof(REAL_t))
    for j in range(j0, j1):
        if j == i:
            continue
        n_words += 1
        count += add_word_input(c, idx[j], c.work.neu1)
        if c.loss.nce_learned:
            log_z += c.inp.nce_log_z[idx[j]]
    for t in range(t0, t1):
        count += 1
        bo_axpy(ONEF, &c.inp.docs[<Py_ssize_t>tags[t] * size], c.work.neu1, size)
    if count == 0:
        return
    if c.cbow_mean:
        inv_count = ONEF / count
        for j in range(size):
            c.work.neu1[j] *= inv_count
    if n_words > 0:
        inv_count = ONEF / n_words
        log_z *= inv_count
    memset(c.work.neu1e, 0, size * sizeof(REAL_t))
    c.lp.log_z = log_z
    c.loss_sum += pair_step(c, c.work.neu1, idx[i])
    for j in range(j0, j1):
        if j == i:
            continue
        apply_input_gradient(c, idx[j], c.work.neu1e, c.lp.dlogz)
    for t in range(t0, t1):
        apply_doc_gradient(c, tags[t], c.work.neu1e)


cdef void run_sg(TrainConfig *c, const int32_t *idx, const int32_t *bounds, int n_sent) noexcept nogil:
    cdef int s, i
    for s in range(n_sent):
        for i in range(bounds[s], bounds[s + 1]):
            if c.inp.has_ngrams:
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
    for s in range(n_doc):
        for i in range(bounds[s], bounds[s + 1]):
            if not c.sg:
                cbow_position(c, idx, i, bounds[s], bounds[s + 1], tags, tag_bounds[s], tag_bounds[s + 1])
                continue
            if c.inp.train_words:
                sg_position(c, idx, i, bounds[s], bounds[s + 1])
            for t in range(tag_bounds[s], tag_bounds[s + 1]):
                memset(c.work.neu1e, 0, c.size * sizeof(REAL_t))
                c.lp.log_z = 0.0   # a document's row has no learned normaliser
                c.loss_sum += pair_step(c, &c.inp.docs[<Py_ssize_t>tags[t] * c.size], idx[i])
                apply_doc_gradient(c, tags[t], c.work.neu1e)


cdef void run_batch(TrainConfig *c, const int32_t *idx, const int32_t *bounds, int n_sent,
                    const int32_t *tags, const int32_t *tag_bounds) noexcept nogil:
    """The one dispatch to the drivers, for both corpus paths: documents when `tags` is not NULL
    (Doc2Vec: the tags of each document, tags[tag_bounds[s]:tag_bounds[s + 1]]), else
    skip-gram or CBOW over the sentences."""
    if n_sent <= 0:
        return
    if tags != NULL:
        run_docs(c, idx, bounds, n_sent, tags, tag_bounds)
    elif c.sg:
        run_sg(c, idx, bounds, n_sent)
    else:
        run_cbow(c, idx, bounds, n_sent)
