# Included by _inner.pyx (one compilation unit, so that the steps inline): The kernel's own steps, callable from Python (for the gradient tests).
# ---------------------------------------------------------------------------------------------
# The kernel's own steps, callable from Python (for the gradient tests)


def py_gammas(str loss, scores, logq=None, int negative=1, double log_z=0.0, int target=0):
    """Gammas and loss of one pair, computed by the same C function training uses.

    Parameters
    ----------
    loss : str
        A loss of the table with a sampled or dense kernel step: one of this package's losses, or
        ``"ns"`` (the step that trains gensim's negative sampling for FastText and Doc2Vec with
        ``compute_loss``).
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
    cdef double value
    cdef LossParams p
    spec = LOSS_SPECS.get(loss)
    if spec is None or not spec.kernel_code or spec.step == "tree":
        raise ValueError("unknown loss %r" % loss)
    if spec.dense:
        value = softmax_gammas(&s[0], n, target, 1.0)
        return s.astype(np.float64), value, 0.0
    lq = np.array(logq if logq is not None else np.zeros(n), dtype=np.float64)
    p.log_k = log(negative)
    p.log_z = log_z
    p.dlogz = 0.0
    value = gamma_function(spec.kernel_code)(&s[0], &cand[0], n, &lq[0], 1, &g[0], &p)
    return g, value, p.dlogz


cdef test_config(TrainConfig *c, str loss, cnp.ndarray[REAL_t, ndim=2] u, int negative, double alpha,
                 cnp.ndarray[double, ndim=1] lq, bias):
    # what the test entry points below share: a zeroed config for `loss` over the output matrix u,
    # with the output bias `bias` (one float32 per row of u) or none
    memset(c, 0, sizeof(TrainConfig))
    set_loss(c, loss_spec(loss))
    if bias is not None:
        if len(bias) != u.shape[0]:
            raise ValueError("bias needs one value per row of syn1neg")
        c.out.has_bias = 1
        c.out.bias = float_ptr(bias, "bias")
    c.size = u.shape[1]
    c.vocab_size = u.shape[0]
    c.negative = negative
    c.alpha = <REAL_t>alpha
    c.compute_loss = 1
    c.inp.learn_words = c.inp.learn_docs = c.out.learn_hidden = 1
    c.out.syn1neg = &u[0, 0]
    c.noise.logq = &lq[0]
    c.lp.log_k = log(negative)


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
    cdef double value
    if not u.flags.c_contiguous:
        raise ValueError("syn1neg must be C-contiguous")
    test_config(&c, loss, u, negative, alpha, lq, bias)
    c.work.cand = &cv[0]
    c.work.scores = &scores[0]
    c.work.gam = &gam[0]
    c.work.neu1e = &neu1e[0]
    c.lp.log_z = log_z
    if c.loss.dense:
        value = softmax_step(&c, &hv[0], cv[0])
        c.lp.dlogz = 0.0
    else:
        value = update_with_candidates(&c, &hv[0], len(cv))
    return neu1e, value, c.lp.dlogz


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
    c.inp.syn0 = &v[0, 0]
    c.inp.lockf = &lockf[0]
    c.inp.lockf_len = 1
    if log_z is not None:
        lz = log_z
        c.loss.nce_learned = 1
        c.inp.nce_log_z = &lz[0]
    bind_thread_memory(&c, mem)
    memcpy(c.work.cand, &cv[0], len(cv) * sizeof(int32_t))
    return window_update_with_candidates(&c, &idx[0], 0, 0, len(idx), len(cv))


def py_draw_candidates(str loss, alias, logq, targets, int negative, int windows_per_draw=1, seed=1):
    """The candidates drawn for each word of `targets` in turn, as training draws them (for tests).

    `alias` is the noise's alias table (:func:`build_alias_table`), `logq` its log q; one draw of
    `negative` samples serves `windows_per_draw` consecutive targets. Returns a list of int32
    arrays, each with its target first.
    """
    cdef TrainConfig c
    cdef cnp.ndarray[double, ndim=1] lq = np.array(logq, dtype=np.float64)
    cdef cnp.ndarray[REAL_t, ndim=2] u = np.zeros((len(lq), 1), dtype=np.float32)
    cdef int n
    if windows_per_draw < 1:
        raise ValueError("windows_per_draw must be >= 1")
    mem = ThreadMemory(1, negative, len(lq), False)
    test_config(&c, loss, u, negative, 0.0, lq, None)
    c.noise.alias = <const uint64_t *>const_ptr(alias, np.uint64, "alias")
    bind_thread_memory(&c, mem)
    c.windows_per_draw = windows_per_draw
    start_noise(&c, seed)
    drawn = []
    for t in targets:
        n = draw_candidates(&c, t)
        drawn.append(np.array(<int32_t[:n]>c.work.cand, dtype=np.int32))
    return drawn
