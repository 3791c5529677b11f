/* Small vector kernels for blackout_ext: dot product, axpy and a clamped axpy.
 *
 * Plain loops and GCC/Clang vector extensions, so that the compiler emits SIMD code without
 * -ffast-math. On x86-64 Linux with GCC 12 or later each kernel is compiled three times, for the
 * ISA levels x86-64-v4 (AVX-512), x86-64-v3 (AVX2 and FMA) and the SSE2 baseline, and the loader
 * picks one by CPU feature at run time (target_clones; a level is a set of features, where a
 * CPU model's name would fall back to SSE2 on newer CPUs): a wheel stays portable. The block
 * scores (bo_dots_block) pick their tile by the same test themselves, as the tile's shape differs
 * with the register width, not only its instructions.
 *
 * bo_prefetch and bo_prefetch_row are hints for memory a kernel will touch a few steps later.
 *
 * bo_axpy_clamped keeps every weight within +-BO_WEIGHT_LIMIT. With |w| <= 1e12, a dot product
 * of length d is at most d * 1e24, far from float overflow: training at any learning rate can
 * saturate, but never produce inf or NaN.
 */
#ifndef BO_VEC_H
#define BO_VEC_H

#include <string.h>

#define BO_WEIGHT_LIMIT 1e12f

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && __GNUC__ >= 12
#define BO_DISPATCH __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define BO_V4 __attribute__((target("arch=x86-64-v4")))
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define BO_DISPATCH __attribute__((target_clones("avx2", "default")))
#else
#define BO_DISPATCH
#endif

/* a function that clamps weights: dispatched, and free to use min/max instructions (above) */
#if defined(__GNUC__) && !defined(__clang__)
#define BO_CLAMPS BO_DISPATCH __attribute__((optimize("finite-math-only", "no-signed-zeros")))
#else
#define BO_CLAMPS BO_DISPATCH
#endif

typedef float bo_v16 __attribute__((vector_size(64)));
typedef float bo_v8 __attribute__((vector_size(32)));
typedef float bo_v4 __attribute__((vector_size(16)));
typedef int bo_i16 __attribute__((vector_size(64)));
typedef int bo_i8 __attribute__((vector_size(32)));
typedef int bo_i4 __attribute__((vector_size(16)));

/* Vectors of 16, 8 and 4 floats. GCC lowers each to the widest registers of the clone it
 * compiles (one zmm, two ymm or four xmm for 16), with the same lane arithmetic in every clone.
 * A row's length rarely divides by 16 (gensim's default d = 100 is 6 x 16 + 4): the kernels
 * take the rest as one 8- and one 4-wide step before any scalar one, where GCC's own epilogue
 * would do the last 4 floats one at a time. */
/* (these always inline: GCC's note that a vector return changes the ABI does not apply; GCC gives
 * it at the end of the translation unit, so a push/pop around this header would not hide it) */
#pragma GCC diagnostic ignored "-Wpsabi"
#define BO_DEFINE_LOAD(W)                                                                       \
    static inline __attribute__((always_inline)) bo_v##W bo_load##W(const float *p) {           \
        bo_v##W v;                                                                              \
        memcpy(&v, p, sizeof(v));                                                               \
        return v;                                                                               \
    }
BO_DEFINE_LOAD(16)
BO_DEFINE_LOAD(8)
BO_DEFINE_LOAD(4)

/* the sum of a vector's two halves */
#define BO_DEFINE_FOLD(W, H)                                                                    \
    static inline __attribute__((always_inline)) bo_v##H bo_fold##W(bo_v##W v) {               \
        bo_v##H lo, hi;                                                                         \
        memcpy(&lo, &v, sizeof(lo));                                                            \
        memcpy(&hi, (const char *)&v + sizeof(lo), sizeof(hi));                                 \
        return lo + hi;                                                                         \
    }
BO_DEFINE_FOLD(16, 8)
BO_DEFINE_FOLD(8, 4)

/* sum_i x[i] y[i], with 32 partial sums (a reduction the compiler may not reorder itself) */
BO_DISPATCH
static float bo_dot(const float *x, const float *y, int n) {
    bo_v16 acc0 = {0}, acc1 = {0};
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 += bo_load16(x + i) * bo_load16(y + i);
        acc1 += bo_load16(x + i + 16) * bo_load16(y + i + 16);
    }
    if (i + 16 <= n) {
        acc0 += bo_load16(x + i) * bo_load16(y + i);
        i += 16;
    }
    bo_v8 a8 = bo_fold16(acc0 + acc1);
    if (i + 8 <= n) {
        a8 += bo_load8(x + i) * bo_load8(y + i);
        i += 8;
    }
    bo_v4 a4 = bo_fold8(a8);
    if (i + 4 <= n) {
        a4 += bo_load4(x + i) * bo_load4(y + i);
        i += 4;
    }
    float s = (a4[0] + a4[2]) + (a4[1] + a4[3]);
    for (; i < n; i++)
        s += x[i] * y[i];
    return s;
}

/* v clamped to +-BO_WEIGHT_LIMIT, lane by lane as bo_clamp1 (here NaN -> the limit): C has no ?:
 * on vectors, so the choice is made with the comparison's mask (the short tails, the block sums) */
#define BO_DEFINE_CLAMP(W)                                                                      \
    static inline __attribute__((always_inline)) bo_v##W bo_clamp##W(bo_v##W v) {              \
        const bo_v##W hi = (bo_v##W){0} + BO_WEIGHT_LIMIT;                                      \
        bo_i##W below = v < hi;                                                                 \
        bo_i##W x = ((bo_i##W)v & below) | ((bo_i##W)hi & ~below);                              \
        bo_i##W above = (bo_v##W)x > -hi;                                                       \
        return (bo_v##W)((x & above) | ((bo_i##W)(-hi) & ~above));                              \
    }
BO_DEFINE_CLAMP(16)
BO_DEFINE_CLAMP(8)
BO_DEFINE_CLAMP(4)

static inline __attribute__((always_inline)) float bo_clamp1(float v) {
    v = v < BO_WEIGHT_LIMIT ? v : BO_WEIGHT_LIMIT;
    return v > -BO_WEIGHT_LIMIT ? v : -BO_WEIGHT_LIMIT;
}

/* y += a * x, each result clamped to +-BO_WEIGHT_LIMIT. The two conditionals have exactly the
 * semantics of the SIMD min/max instructions, but GCC only emits those where it may assume no
 * NaN: BO_CLAMPS lets it for the functions that clamp (without it, each clamp is two compares
 * and two blends; measured, CBOW's step was 10% slower). The kernels' values are finite: every
 * weight is within +-BO_WEIGHT_LIMIT, so every product and sum stays far from overflow. */
/* one step of W floats of y[i:] += a x[i:], through CLAMP (bo_clamp##W, or BO_AS_IS) */
#define BO_AS_IS(v) (v)
#define BO_AXPY_STEP(W, CLAMP)                                                                  \
    do {                                                                                        \
        bo_v##W v = CLAMP(bo_load##W(y + i) + a * bo_load##W(x + i));                           \
        memcpy(y + i, &v, sizeof(v));                                                           \
        i += W;                                                                                 \
    } while (0)

BO_CLAMPS
static void bo_axpy_clamped(float a, const float *restrict x, float *restrict y, int n) {
    int i = n & ~15;
    for (int j = 0; j < i; j++)   /* GCC vectorises this loop, each clamp a min and a max */
        y[j] = bo_clamp1(y[j] + a * x[j]);
    if (i + 8 <= n)
        BO_AXPY_STEP(8, bo_clamp8);
    if (i + 4 <= n)
        BO_AXPY_STEP(4, bo_clamp4);
    for (; i < n; i++)
        y[i] = bo_clamp1(y[i] + a * x[i]);
}

/* y += a * x, unclamped (for work vectors such as neu1e and the CBOW input) */
BO_DISPATCH
static void bo_axpy(float a, const float *restrict x, float *restrict y, int n) {
    int i = 0;
    while (i + 16 <= n)
        BO_AXPY_STEP(16, BO_AS_IS);
    if (i + 8 <= n)
        BO_AXPY_STEP(8, BO_AS_IS);
    if (i + 4 <= n)
        BO_AXPY_STEP(4, BO_AS_IS);
    for (; i < n; i++)
        y[i] += a * x[i];
}

/* The full softmax's update, one pass over the output matrix U (|V| rows of d):
 * for each row w with g[w] != 0, neu1e += g[w] * U[w] (U[w] as it was), then
 * U[w] += g[w] * h, clamped. Fuses BLAS's sgemv (input gradient) and sger (rank-1 update). */
BO_CLAMPS
static void bo_softmax_update(const float *restrict g, const float *restrict h, float *restrict U,
                              float *restrict neu1e, int n_rows, int d) {
    for (int w = 0; w < n_rows; w++) {
        float a = g[w];
        if (a == 0.0f)
            continue;
        float *restrict row = U + (long)w * d;
        for (int i = 0; i < d; i++) {
            float old = row[i];
            neu1e[i] += a * old;
            float v = old + a * h[i];
            v = v < BO_WEIGHT_LIMIT ? v : BO_WEIGHT_LIMIT;
            v = v > -BO_WEIGHT_LIMIT ? v : -BO_WEIGHT_LIMIT;
            row[i] = v;
        }
    }
}

/* A window's block products (shared samples): its m context rows a_p = A + ia[p] d against its
 * n candidate rows b_q = B + ib[q] d. bo_dots_block computes the m x n scores; bo_combine and
 * bo_add_combination_clamped the two gradient products, a row at a time. Tiles of up to 4 rows
 * by 3 keep 12 partial sums in registers and load each chunk of a row once per tile, where one
 * bo_dot per pair loads both rows for every pair (pWord2Vec does this with sgemm; at these
 * sizes a call to BLAS costs more than the product). The 12 sums are vectors of 8 floats, as
 * many as AVX2's 16 registers hold beside the loads; with AVX-512's 32 (`wide`) they are 16
 * floats each, and the tile loads half as often. */
/* one step of W floats of a tile: ACC[p][q] += a_p[i:i + W] * b_q[i:i + W], each chunk loaded once */
#define BO_TILE_STEP(W, ACC)                                                                    \
    do {                                                                                        \
        bo_v##W bv[3];                                                                          \
        for (int q = 0; q < NQ; q++)                                                            \
            bv[q] = bo_load##W(b[q] + i);                                                       \
        for (int p = 0; p < NP; p++) {                                                          \
            bo_v##W av = bo_load##W(a[p] + i);                                                  \
            for (int q = 0; q < NQ; q++)                                                        \
                ACC[p][q] += av * bv[q];                                                        \
        }                                                                                       \
        i += W;                                                                                 \
    } while (0)

static inline __attribute__((always_inline)) void bo_dots_tile(
        const float *A, const int *ia, const float *B, const int *ib, const int NP, const int NQ, int d,
        float *out, int ostride, const int wide) {
    const float *a[4], *b[3];
    bo_v8 acc[4][3];
    int i = 0;
    for (int p = 0; p < NP; p++)
        a[p] = A + (long)ia[p] * d;
    for (int q = 0; q < NQ; q++)
        b[q] = B + (long)ib[q] * d;
    if (wide) {
        bo_v16 acc16[4][3];
        for (int p = 0; p < NP; p++)
            for (int q = 0; q < NQ; q++)
                acc16[p][q] = (bo_v16){0};
        while (i + 16 <= d)
            BO_TILE_STEP(16, acc16);
        for (int p = 0; p < NP; p++)
            for (int q = 0; q < NQ; q++)
                acc[p][q] = bo_fold16(acc16[p][q]);
    } else {
        for (int p = 0; p < NP; p++)
            for (int q = 0; q < NQ; q++)
                acc[p][q] = (bo_v8){0};
    }
    while (i + 8 <= d)   /* the whole row; once at most after the wide loop */
        BO_TILE_STEP(8, acc);
    const int has4 = i + 4 <= d;
    for (int p = 0; p < NP; p++)
        for (int q = 0; q < NQ; q++) {
            bo_v4 v = bo_fold8(acc[p][q]);
            if (has4)
                v += bo_load4(a[p] + i) * bo_load4(b[q] + i);
            float s = (v[0] + v[2]) + (v[1] + v[3]);
            for (int j = i + 4 * has4; j < d; j++)
                s += a[p][j] * b[q][j];
            out[p * ostride + q] = s;
        }
}

static inline __attribute__((always_inline)) void bo_dots_rows(
        const float *A, const int *ia, const float *B, const int *ib, const int NP, int n, int d,
        float *out, int ostride, const int wide) {
    int q = 0;
    for (; q + 3 <= n; q += 3)
        bo_dots_tile(A, ia, B, ib + q, NP, 3, d, out + q, ostride, wide);
    for (; q < n; q++)
        bo_dots_tile(A, ia, B, ib + q, NP, 1, d, out + q, ostride, wide);
}

static inline __attribute__((always_inline)) void bo_dots_rows_of(
        const float *A, const int *ia, int m, const float *B, const int *ib, int n, int d, float *out,
        const int wide) {
    int p = 0;
    for (; p + 4 <= m; p += 4)
        bo_dots_rows(A, ia + p, B, ib, 4, n, d, out + p * n, n, wide);
    if (p + 2 <= m) {
        bo_dots_rows(A, ia + p, B, ib, 2, n, d, out + p * n, n, wide);
        p += 2;
    }
    if (p < m)
        bo_dots_rows(A, ia + p, B, ib, 1, n, d, out + p * n, n, wide);
}

BO_DISPATCH
static void bo_dots_block8(const float *A, const int *ia, int m, const float *B, const int *ib, int n,
                           int d, float *out) {
    bo_dots_rows_of(A, ia, m, B, ib, n, d, out, 0);
}

#ifdef BO_V4
BO_V4
static void bo_dots_block16(const float *A, const int *ia, int m, const float *B, const int *ib, int n,
                            int d, float *out) {
    bo_dots_rows_of(A, ia, m, B, ib, n, d, out, 1);
}

/* whether the CPU runs x86-64-v4 code (AVX-512), as the target_clones resolvers decide it; the
 * answer is kept (workers may ask at once: each would store the same value) */
static int bo_has_v4(void) {
    static int known = -1;
    int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("x86-64-v4") != 0;
        __atomic_store_n(&known, v, __ATOMIC_RELAXED);
    }
    return v;
}
#endif

/* out[p n + q] = a_p . b_q */
static void bo_dots_block(const float *A, const int *ia, int m, const float *B, const int *ib, int n,
                          int d, float *out) {
#ifdef BO_V4
    if (bo_has_v4()) {
        bo_dots_block16(A, ia, m, B, ib, n, d, out);
        return;
    }
#endif
    bo_dots_block8(A, ia, m, B, ib, n, d, out);
}

/* the sum over q < n of coef[q * cstride] b_q: into out (add = 0), or added to y = out, clamped
 * to +-BO_WEIGHT_LIMIT (add = 1); sixteen floats at a time, the sum built in registers */
#define BO_COMBINE_STEP(W)                                                                      \
    do {                                                                                        \
        bo_v##W s = {0};                                                                        \
        for (int q = 0; q < n; q++)                                                             \
            s += coef[q * cstride] * bo_load##W(B + (long)ib[q] * d + i);                       \
        if (add)                                                                                \
            s = bo_clamp##W(s + bo_load##W(out + i));                                           \
        memcpy(out + i, &s, sizeof(s));                                                         \
    } while (0)

static inline __attribute__((always_inline)) void bo_combination(
        const float *coef, int cstride, const float *B, const int *ib, int n, int d, float *out, const int add) {
    int i = 0;
    for (; i + 16 <= d; i += 16)
        BO_COMBINE_STEP(16);
    if (i + 8 <= d) {
        BO_COMBINE_STEP(8);
        i += 8;
    }
    if (i + 4 <= d) {
        BO_COMBINE_STEP(4);
        i += 4;
    }
    for (; i < d; i++) {
        float s = 0.0f;
        for (int q = 0; q < n; q++)
            s += coef[q * cstride] * B[(long)ib[q] * d + i];
        if (add)
            s = bo_clamp1(s + out[i]);
        out[i] = s;
    }
}

/* out = sum_q coef[q cstride] b_q */
BO_DISPATCH
static void bo_combine(const float *coef, int cstride, const float *B, const int *ib, int n, int d, float *out) {
    bo_combination(coef, cstride, B, ib, n, d, out, 0);
}

/* y += sum_q coef[q cstride] b_q, clamped */
BO_DISPATCH
static void bo_add_combination_clamped(const float *coef, int cstride, const float *B, const int *ib, int n,
                                       int d, float *y) {
    bo_combination(coef, cstride, B, ib, n, d, y, 1);
}

/* Prefetch hints: ask for memory that the kernel will touch a few steps later, so that the
 * misses of consecutive draws overlap instead of forming a chain. A hint never faults. */
static inline void bo_prefetch(const void *p) {
#if defined(__GNUC__) && !defined(BO_NO_PREFETCH)
    __builtin_prefetch(p, 1, 3);
#else
    (void)p;
#endif
}

/* every cache line of a row of n floats (a row need not start on a line) */
static inline void bo_prefetch_row(const float *row, int n) {
    const char *p = (const char *)row;
    long bytes = (long)n * (long)sizeof(float);
    for (long off = 0; off < bytes; off += 64)
        bo_prefetch(p + off);
    bo_prefetch(p + bytes - 1);
}

#endif
