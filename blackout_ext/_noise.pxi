# Included by _inner.pyx (one compilation unit, so that the steps inline): The noise sampler: a Walker alias table, and the noise stream that draws from it ahead of use.
# ---------------------------------------------------------------------------------------------
# The sampler: a Walker alias table, drawn with the RNG of _random.pxd


cdef inline int32_t alias_column(const TrainConfig *c, uint64_t r) noexcept nogil:
    # the high 32 bits of a raw draw pick a column of the alias table
    return <int32_t>(((r >> 32) * <uint64_t>c.vocab_size) >> 32)


cdef inline int32_t alias_resolve(const TrainConfig *c, uint64_t r) noexcept nogil:
    # Walker alias: the low 32 bits of the draw toss the column's coin; one record holds the
    # column's threshold (low half) and alias (high half), so one cache miss brings both
    cdef int32_t col = alias_column(c, r)
    cdef uint64_t record = c.noise.alias[col]
    if (r & <uint64_t>0xFFFFFFFFULL) < (record & <uint64_t>0xFFFFFFFFULL):
        return col
    return <int32_t>(record >> 32)


cdef inline void prefetch_output(const TrainConfig *c, int32_t w) noexcept nogil:
    # what scoring word w reads: its output row, its bias and its log q
    bo_prefetch_row(&c.out.syn1neg[<Py_ssize_t>w * c.size], c.size)
    if c.out.has_bias:
        bo_prefetch(&c.out.bias[w])
    bo_prefetch(&c.noise.logq[w])


cdef inline int32_t draw_noise(TrainConfig *c) noexcept nogil:
    """The next word of the noise stream, a draw from q.

    At a million words every draw misses the cache twice, once for its alias record and once
    for its output row, and each miss waits for the one before. The stream therefore works
    ahead: this call hands out a word drawn NOISE_ROWS_AHEAD calls ago, whose row has been
    prefetched since; resolves the raw draw NOISE_ROWS_AHEAD slots ahead, whose alias record has
    been prefetched since, and prefetches its row; and makes a new raw draw NOISE_ALIAS_AHEAD
    slots ahead, prefetching its alias record. The words are i.i.d. draws from q all the same.
    """
    cdef uint32_t pos = c.noise.pos
    cdef uint32_t mask = NOISE_RING - 1
    cdef int32_t w = c.noise.word[pos & mask]
    cdef int32_t ahead = alias_resolve(c, c.noise.raw[(pos + NOISE_ROWS_AHEAD) & mask])
    cdef uint64_t r = rng_next64(&c.noise.rng)
    c.noise.word[(pos + NOISE_ROWS_AHEAD) & mask] = ahead
    prefetch_output(c, ahead)
    c.noise.raw[(pos + NOISE_ALIAS_AHEAD) & mask] = r
    bo_prefetch(&c.noise.alias[alias_column(c, r)])
    c.noise.pos = pos + 1
    return w


cdef void start_noise(TrainConfig *c, uint64_t seed) noexcept nogil:
    # fill the noise stream's look-ahead; alias, vocab_size, syn1neg, bias and logq must be set
    cdef int i
    c.noise.rng = seed_state(~seed)   # a stream of its own, unrelated to c.rng's
    c.noise.pos = 0
    c.noise.reuse_left = 0
    for i in range(NOISE_ALIAS_AHEAD):
        c.noise.raw[i] = rng_next64(&c.noise.rng)
    for i in range(NOISE_ROWS_AHEAD):
        c.noise.word[i] = alias_resolve(c, c.noise.raw[i])


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
    c.noise.alias = &t[0]
    c.vocab_size = len(t)
    c.size = 1
    c.out.syn1neg = &rows[0]
    c.noise.logq = &logq[0]
    start_noise(&c, <uint64_t>seed)
    for i in range(n):
        out[i] = draw_noise(&c)
    return out
