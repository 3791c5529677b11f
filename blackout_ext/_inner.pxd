# cython: language_level=3
"""Shared declarations of the blackout_ext training kernels.

Life cycle of a :c:type:`TrainConfig`: ``init_config`` fills it from the model once per job
(on the ``corpus_file`` path, once per chunk of the file), the caller fills the index arrays
for each batch of sentences, then ``run_sg`` / ``run_cbow`` (``run_docs`` for Doc2Vec's
documents) train on that batch with the GIL released.

The input of a word is its row of ``syn0``, and for FastText also the rows of its character
n-gram buckets (``ngrams``); Doc2Vec adds the rows of a document's tags (``docs``).
"""
from libc.stdint cimport uint64_t, uint32_t, uint8_t, int32_t, int64_t

ctypedef float REAL_t

include "_loss_codes.pxi"   # cpdef enum LossMode, written by setup.py from losses.py's table


cdef struct LossParams:
    # what a loss reads besides the scores and the noise's log q, and writes besides the gammas:
    # the parameters of losses of their own (NCE's). A gammas function takes them all; a loss that
    # has no parameters leaves them alone, and a loss with new ones adds its fields here.
    double log_k              # NCE: log(k), of D_w = s_w - c - log(k q_w)
    double log_z              # NCE: c, the normaliser of this prediction's input (0 when fixed)
    double dlogz              # NCE: dJ/dc, written by its gammas (0 by the others)

cdef struct LossConfig:       # which loss, and how its step runs (a row of losses.py's table)
    int code                  # a LossMode
    int dense                 # 1: scores the whole vocabulary (the full softmax)
    int tree                  # 1: the Huffman tree's step (hierarchical softmax)
    int keeps_hits            # 1: a draw equal to the target stays a candidate
    int nce_learned           # 1: c = log Z is learned per input word (Inputs.nce_log_z)

cdef struct Noise:
    # the noise distribution q, and its stream (draw_noise): the draws are made ahead, so that
    # their memory is fetched before it is used. Slots [pos, pos + NOISE_ROWS_AHEAD) hold drawn
    # words, whose output rows are on their way to the cache; the raw draws of the next slots,
    # up to pos + NOISE_ALIAS_AHEAD, wait for their alias records.
    const double *logq        # log q_w, exact, from the counts
    const uint64_t *alias     # Walker alias table, one 8-byte record per column (build_alias_table)
    uint64_t rng              # the stream's own RNG state
    uint32_t pos
    uint64_t raw[32]          # a ring of NOISE_RING raw 64-bit draws
    int32_t word[32]          # a ring of NOISE_RING drawn words
    int reuse_left            # windows the current draw in Work.draws still serves (windows_per_draw)

cdef struct Inputs:
    # the input rows: a word's syn0 row, for FastText also its n-gram buckets' rows; Doc2Vec's tags
    REAL_t *syn0              # wv.vectors (FastText: wv.vectors_vocab)
    REAL_t *lockf
    uint32_t lockf_len
    int learn_words           # 0: word (and n-gram) rows and NCE's c stay as they are
    REAL_t *nce_log_z         # NCE's learned c per word; NULL unless LossConfig.nce_learned
    int has_ngrams            # FastText with buckets: a word's input is its row and its n-grams'
    REAL_t *ngrams            # wv.vectors_ngrams
    REAL_t *ngram_lockf
    uint32_t ngram_lockf_len
    const int64_t *sub_start  # word w's buckets are sub_idx[sub_start[w]:sub_start[w + 1]]
    const uint32_t *sub_idx
    int has_docs              # Doc2Vec: the rows of the documents' tags
    REAL_t *docs              # dv.vectors (infer_vector: the one vector being inferred)
    REAL_t *doc_lockf
    uint32_t doc_lockf_len
    int learn_docs            # 0: document rows stay as they are
    int train_words           # PV-DBOW: also train skip-gram word pairs (dbow_words)

cdef struct Output:
    REAL_t *syn1neg           # the output rows u_w of the sampled and dense losses
    int has_bias
    REAL_t *bias              # the output bias b_w of each word (syn1neg_bias)
    REAL_t *syn1              # hierarchical softmax: the inner nodes' rows
    const int64_t *hs_start   # word w's path is hs_point/hs_code[hs_start[w]:hs_start[w + 1]]
    const uint32_t *hs_point
    const uint8_t *hs_code
    int learn_hidden          # 0: the output layer stays as it is (infer_vector)

cdef struct Work:             # per-thread work memory (ThreadMemory)
    REAL_t *neu1              # the input vector h
    REAL_t *neu1e             # the input gradient
    REAL_t *acc               # FastText skip-gram: the input gradient summed over a centre's window
    int32_t *cand             # candidates: cand[0] is the target
    int32_t *draws            # windows_per_draw > 1: the k draws the windows share
    REAL_t *scores            # k + 1 scores, or |V| for the full softmax
    double *gam               # gamma_w = dJ/ds_w per candidate
    REAL_t *win_neu1e         # shared_samples: the input gradient of each context, 2 window x d
    double *win_gam           #                 the gammas of each context, 2 window x (k + 1)
    double *win_dlogz         #                 NCE's dJ/dc of each context, 2 window
    int32_t *win_ctx          #                 the context words of the window, 2 window
    REAL_t *win_scores        #                 their scores, then alpha x gammas, 2 window x (k + 1)

cdef struct TrainConfig:
    int size                  # vector dimensionality d
    int negative              # samples per pair k
    int vocab_size
    int sg                    # 1: skip-gram (PV-DBOW for documents), 0: CBOW (PV-DM)
    int window
    int shrink_windows
    int cbow_mean
    int compute_loss
    int shared_samples        # 1: sg draws one candidate set per centre word, for its window
    int windows_per_draw      # > 1: one draw of k samples serves this many consecutive windows
    REAL_t alpha
    const uint32_t *sample_int  # subsampling: keep word w if a 32-bit draw <= sample_int[w]; NULL: keep all
    uint64_t rng              # this job's own RNG state (subsampling, window shrinking)

    LossConfig loss
    LossParams lp
    Noise noise
    Inputs inp
    Output out
    Work work

    double loss_sum           # loss accumulated in this job

cdef void run_batch(TrainConfig *c, const int32_t *idx, const int32_t *bounds, int n_sent,
                    const int32_t *tags, const int32_t *tag_bounds) noexcept nogil
cdef void run_sg(TrainConfig *c, const int32_t *idx, const int32_t *bounds, int n_sent) noexcept nogil
cdef void run_cbow(TrainConfig *c, const int32_t *idx, const int32_t *bounds, int n_sent) noexcept nogil
cdef void run_docs(TrainConfig *c, const int32_t *idx, const int32_t *bounds, int n_doc,
                   const int32_t *tags, const int32_t *tag_bounds) noexcept nogil
cdef init_config(TrainConfig *c, model, double alpha, int compute_loss, mem, uint64_t seed, bint frozen=*)
