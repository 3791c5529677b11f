# Included by _inner.pyx (one compilation unit, so that the steps inline): Binding Python objects to C: the config from the model, thread memory, and the job entry train_batch.
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
        self.draws = cache_line_alone(max(negative, 1), np.int32)
        self.scores = cache_line_alone(max(negative + 1, vocab_size if full_softmax else 0), np.float32)
        self.gam = cache_line_alone(negative + 1, np.float64)
        # for shared_samples (window > 0): one slot per context word of a window, at most 2 window
        self.window = max(int(window), 0)
        self.win_neu1e = cache_line_alone(max(2 * self.window * size, 1), np.float32)
        self.win_gam = cache_line_alone(max(2 * self.window * (negative + 1), 1), np.float64)
        self.win_dlogz = cache_line_alone(max(2 * self.window, 1), np.float64)
        self.win_ctx = cache_line_alone(max(2 * self.window, 1), np.int32)
        self.win_scores = cache_line_alone(max(2 * self.window * (negative + 1), 1), np.float32)


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
    c.loss.code = spec.kernel_code
    c.loss.dense = spec.dense
    c.loss.tree = spec.step == "tree"
    c.loss.keeps_hits = spec.keeps_hits


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
    if c.loss.tree:
        bind_hs(c, model, frozen)
    else:
        c.out.syn1neg = float_ptr(model.syn1neg, "syn1neg", not frozen)
        if model.syn1neg.shape[0] < c.vocab_size:
            raise RuntimeError("syn1neg is smaller than the vocabulary; call build_vocab() first")
    c.inp.learn_docs = 1
    c.inp.learn_words = c.out.learn_hidden = not frozen
    bind_inputs(c, model, frozen)
    c.loss.nce_learned = model.nce_learned
    if c.loss.nce_learned:
        c.inp.nce_log_z = float_ptr(model.nce_log_z, "nce_log_z", not frozen)
    if model.output_bias:
        c.out.has_bias = 1
        c.out.bias = float_ptr(model.syn1neg_bias, "syn1neg_bias", not frozen)
        if len(model.syn1neg_bias) < c.vocab_size:
            raise RuntimeError("syn1neg_bias is smaller than the vocabulary; call build_vocab() first")
    c.noise.logq = <const double *>const_ptr(model.noise_logq, np.float64, "noise_logq")
    c.lp.log_k = log(max(model.negative, 1))
    c.noise.alias = <const uint64_t *>const_ptr(model.noise_alias, np.uint64, "noise_alias")
    if model.sample:
        c.sample_int = <const uint32_t *>const_ptr(model.wv.expandos['sample_int'], np.uint32, "sample_int")
        if len(model.wv.expandos['sample_int']) < c.vocab_size:
            raise RuntimeError("sample_int is smaller than the vocabulary; call build_vocab() first")
    if len(model.noise_logq) < c.vocab_size or len(model.noise_alias) < c.vocab_size:
        raise RuntimeError("model arrays are smaller than the vocabulary; call build_vocab() first")
    if c.loss.dense and len(mem.scores) < c.vocab_size:
        raise RuntimeError("thread memory too small for the full softmax")
    bind_thread_memory(c, mem)
    shares = spec.shared_samples and not c.inp.has_ngrams and not c.inp.has_docs
    c.shared_samples = shares and bool(model.shared_samples) and model.sg
    c.windows_per_draw = max(1, int(model.shared_samples)) if shares else 1
    if c.windows_per_draw > 1 and len(mem.draws) < c.negative:
        raise RuntimeError("thread memory too small for shared_samples with this negative")
    if c.shared_samples and (mem.window < c.window or len(mem.win_gam) < 2 * c.window * (c.negative + 1)):
        raise RuntimeError("thread memory too small for shared_samples with this window")
    c.rng = seed_state(seed)
    if not c.loss.dense and c.out.syn1neg != NULL and c.vocab_size > 0:
        start_noise(c, seed)


cdef bind_hs(TrainConfig *c, model, bint frozen):
    """Point `c` at the hierarchical softmax's inner nodes and every word's Huffman path."""
    cdef cnp.ndarray start, points, codes
    start, points, codes = model.hs_table()
    if len(start) < c.vocab_size + 1 or model.syn1.shape[0] < c.vocab_size - 1:
        raise RuntimeError("the Huffman tree does not match the vocabulary; call build_vocab() first")
    c.out.syn1 = float_ptr(model.syn1, "syn1", not frozen)
    c.out.hs_start = <const int64_t *>const_ptr(start, np.int64, "path starts")
    c.out.hs_point = <const uint32_t *>const_ptr(points, np.uint32, "path points")
    c.out.hs_code = <const uint8_t *>const_ptr(codes, np.uint8, "path codes")


cdef bind_inputs(TrainConfig *c, model, bint frozen):
    """Point `c` at the model's input rows: its words', and FastText's n-grams or Doc2Vec's tags."""
    kind = model.input_kind
    cdef cnp.ndarray start, flat
    wv = model.wv
    if kind == InputKind.SUBWORDS:
        c.inp.syn0 = float_ptr(wv.vectors_vocab, "wv.vectors_vocab", not frozen)
        c.inp.lockf = float_ptr(wv.vectors_vocab_lockf, "wv.vectors_vocab_lockf", not frozen)
        c.inp.lockf_len = len(wv.vectors_vocab_lockf)
        if wv.vectors_vocab.shape[0] < c.vocab_size:
            raise RuntimeError("wv.vectors_vocab is smaller than the vocabulary; call build_vocab() first")
        if wv.bucket:
            start, flat = model.subword_table()
            if len(start) < c.vocab_size + 1 or wv.vectors_ngrams.shape[0] < wv.bucket:
                raise RuntimeError("the n-gram buckets do not match the vocabulary; call build_vocab() first")
            c.inp.has_ngrams = 1
            c.inp.ngrams = float_ptr(wv.vectors_ngrams, "wv.vectors_ngrams", not frozen)
            c.inp.ngram_lockf = float_ptr(wv.vectors_ngrams_lockf, "wv.vectors_ngrams_lockf", not frozen)
            c.inp.ngram_lockf_len = len(wv.vectors_ngrams_lockf)
            c.inp.sub_start = <const int64_t *>const_ptr(start, np.int64, "subword starts")
            c.inp.sub_idx = <const uint32_t *>const_ptr(flat, np.uint32, "subword buckets")
    else:
        c.inp.syn0 = float_ptr(wv.vectors, "wv.vectors", not frozen)
        c.inp.lockf = float_ptr(wv.vectors_lockf, "wv.vectors_lockf", not frozen)
        c.inp.lockf_len = len(wv.vectors_lockf)
        if wv.vectors.shape[0] < c.vocab_size:
            raise RuntimeError("wv.vectors is smaller than the vocabulary; call build_vocab() first")
    if c.inp.lockf_len == 0 or (c.inp.has_ngrams and c.inp.ngram_lockf_len == 0):
        raise ValueError("a vectors_lockf array is empty")
    if kind == InputKind.DOCUMENTS:
        bind_docs(c, model.dv.vectors, model.dv.vectors_lockf, not frozen)
        c.inp.train_words = int(model.dbow_words)


cdef bind_docs(TrainConfig *c, vectors, lockf, bint writes=True):
    if vectors.ndim != 2 or vectors.shape[1] != c.size:
        raise ValueError(f"document vectors must be n x {c.size}")
    c.inp.has_docs = 1
    c.inp.docs = float_ptr(vectors, "dv.vectors", writes)
    c.inp.doc_lockf = float_ptr(lockf, "dv.vectors_lockf", writes)
    c.inp.doc_lockf_len = len(lockf)
    if c.inp.doc_lockf_len == 0:
        raise ValueError("dv.vectors_lockf is empty")


cdef bind_thread_memory(TrainConfig *c, mem):
    """Point `c`'s work buffers at those of `mem`, a :class:`ThreadMemory`."""
    c.work.neu1 = float_ptr(mem.neu1, "neu1")
    c.work.neu1e = float_ptr(mem.neu1e, "neu1e")
    c.work.acc = float_ptr(mem.acc, "acc")
    c.work.cand = <int32_t *>const_ptr(mem.cand, np.int32, "cand")
    c.work.draws = <int32_t *>const_ptr(mem.draws, np.int32, "draws")
    c.work.scores = float_ptr(mem.scores, "scores")
    c.work.gam = <double *>const_ptr(mem.gam, np.float64, "gam")
    c.work.win_neu1e = float_ptr(mem.win_neu1e, "win_neu1e")
    c.work.win_gam = <double *>const_ptr(mem.win_gam, np.float64, "win_gam")
    c.work.win_dlogz = <double *>const_ptr(mem.win_dlogz, np.float64, "win_dlogz")
    c.work.win_ctx = <int32_t *>const_ptr(mem.win_ctx, np.int32, "win_ctx")
    c.work.win_scores = float_ptr(mem.win_scores, "win_scores")


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
    if docs and not c.inp.has_docs:
        raise TypeError("doc_tags needs a Doc2Vec model")
    infer_lockf = np.ones(1, dtype=np.float32)   # held here: the config points into it
    if infer_into is not None:
        bind_docs(&c, infer_into, infer_lockf)
        c.inp.train_words = 0
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
                    run_batch(&c, &idx[0], &bounds[0], n_sent, &tags[0] if docs else NULL, &tag_bounds[0])
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
