/* Small vector kernels for blackout_ext: dot product, axpy and a clamped axpy.
 *
 * Plain loops and GCC/Clang vector extensions, so that the compiler emits SIMD code without
 * -ffast-math. On x86-64 Linux with GCC each kernel is compiled twice, for AVX2 and for the
 * SSE2 baseline, and the loader picks one by CPU feature at run time (target_clones; "arch=..."
 * would dispatch on the CPU model instead, and fall back to SSE2 on newer CPUs): a wheel stays portable.
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
#define BO_DISPATCH __attribute__((target_clones("arch=x86-64-v3", "default")))
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

typedef float bo_v8 __attribute__((vector_size(32)));

static inline bo_v8 bo_load8(const float *p) {
    bo_v8 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* sum_i x[i] y[i], with eight partial sums (a reduction the compiler may not reorder itself) */
BO_DISPATCH
static float bo_dot(const float *x, const float *y, int n) {
    bo_v8 acc0 = {0}, acc1 = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 += bo_load8(x + i) * bo_load8(y + i);
        acc1 += bo_load8(x + i + 8) * bo_load8(y + i + 8);
    }
    for (; i + 8 <= n; i += 8)
        acc0 += bo_load8(x + i) * bo_load8(y + i);
    acc0 += acc1;
    float s = ((acc0[0] + acc0[4]) + (acc0[1] + acc0[5])) + ((acc0[2] + acc0[6]) + (acc0[3] + acc0[7]));
    for (; i < n; i++)
        s += x[i] * y[i];
    return s;
}

/* y += a * x, each result clamped to +-BO_WEIGHT_LIMIT. The two conditionals have exactly the
 * semantics of the SIMD min/max instructions, but GCC only emits those where it may assume no
 * NaN: BO_CLAMPS lets it for the functions that clamp (without it, each clamp is two compares
 * and two blends; measured, CBOW's step was 10% slower). The kernels' values are finite: every
 * weight is within +-BO_WEIGHT_LIMIT, so every product and sum stays far from overflow. */
BO_CLAMPS
static void bo_axpy_clamped(float a, const float *restrict x, float *restrict y, int n) {
    for (int i = 0; i < n; i++) {
        float v = y[i] + a * x[i];
        v = v < BO_WEIGHT_LIMIT ? v : BO_WEIGHT_LIMIT;
        v = v > -BO_WEIGHT_LIMIT ? v : -BO_WEIGHT_LIMIT;
        y[i] = v;
    }
}

/* y += a * x, unclamped (for work vectors such as neu1e and the CBOW input) */
BO_DISPATCH
static void bo_axpy(float a, const float *restrict x, float *restrict y, int n) {
    for (int i = 0; i < n; i++)
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

typedef int bo_i8 __attribute__((vector_size(32)));

/* v clamped to +-BO_WEIGHT_LIMIT, lane by lane as bo_axpy_clamped (here NaN -> the limit): C has no
 * ?: on vectors, so the choice is made with the comparison's mask */
static inline __attribute__((always_inline)) bo_v8 bo_clamp8(bo_v8 v) {
    const bo_v8 hi = {BO_WEIGHT_LIMIT, BO_WEIGHT_LIMIT, BO_WEIGHT_LIMIT, BO_WEIGHT_LIMIT,
                      BO_WEIGHT_LIMIT, BO_WEIGHT_LIMIT, BO_WEIGHT_LIMIT, BO_WEIGHT_LIMIT};
    bo_i8 below = v < hi;
    bo_i8 x = ((bo_i8)v & below) | ((bo_i8)hi & ~below);
    bo_i8 above = (bo_v8)x > -hi;
    return (bo_v8)((x & above) | ((bo_i8)(-hi) & ~above));
}

/* A window's block products (shared samples): its m context rows a_p = A + ia[p] d against its
 * n candidate rows b_q = B + ib[q] d. bo_dots_block computes the m x n scores; bo_combine and
 * bo_add_combination_clamped the two gradient products, a row at a time. Tiles of up to 4 rows
 * by 3 keep 12 partial sums in registers and load each chunk of a row once per tile, where one
 * bo_dot per pair loads both rows for every pair (pWord2Vec does this with sgemm; at these
 * sizes a call to BLAS costs more than the product). */
static inline __attribute__((always_inline)) void bo_dots_tile(
        const float *A, const int *ia, const float *B, const int *ib, const int NP, const int NQ, int d,
        float *out, int ostride) {
    const float *a[4], *b[3];
    bo_v8 acc[4][3];
    for (int p = 0; p < NP; p++)
        a[p] = A + (long)ia[p] * d;
    for (int q = 0; q < NQ; q++)
        b[q] = B + (long)ib[q] * d;
    for (int p = 0; p < NP; p++)
        for (int q = 0; q < NQ; q++)
            acc[p][q] = (bo_v8){0};
    int i = 0;
    for (; i + 8 <= d; i += 8) {
        bo_v8 bv[3];
        for (int q = 0; q < NQ; q++)
            bv[q] = bo_load8(b[q] + i);
        for (int p = 0; p < NP; p++) {
            bo_v8 av = bo_load8(a[p] + i);
            for (int q = 0; q < NQ; q++)
                acc[p][q] += av * bv[q];
        }
    }
    for (int p = 0; p < NP; p++)
        for (int q = 0; q < NQ; q++) {
            bo_v8 v = acc[p][q];
            float s = ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
            for (int j = i; j < d; j++)
                s += a[p][j] * b[q][j];
            out[p * ostride + q] = s;
        }
}

static inline __attribute__((always_inline)) void bo_dots_rows(
        const float *A, const int *ia, const float *B, const int *ib, const int NP, int n, int d,
        float *out, int ostride) {
    int q = 0;
    for (; q + 3 <= n; q += 3)
        bo_dots_tile(A, ia, B, ib + q, NP, 3, d, out + q, ostride);
    for (; q < n; q++)
        bo_dots_tile(A, ia, B, ib + q, NP, 1, d, out + q, ostride);
}

/* out[p n + q] = a_p . b_q */
BO_DISPATCH
static void bo_dots_block(const float *A, const int *ia, int m, const float *B, const int *ib, int n,
                          int d, float *out) {
    int p = 0;
    for (; p + 4 <= m; p += 4)
        bo_dots_rows(A, ia + p, B, ib, 4, n, d, out + p * n, n);
    if (p + 2 <= m) {
        bo_dots_rows(A, ia + p, B, ib, 2, n, d, out + p * n, n);
        p += 2;
    }
    if (p < m)
        bo_dots_rows(A, ia + p, B, ib, 1, n, d, out + p * n, n);
}

/* the sum over q < n of coef[q * cstride] b_q: into out (add = 0), or added to y = out, clamped
 * to +-BO_WEIGHT_LIMIT (add = 1); sixteen floats at a time, the sum built in registers */
static inline __attribute__((always_inline)) void bo_combination(
        const float *coef, int cstride, const float *B, const int *ib, int n, int d, float *out, const int add) {
    int i = 0;
    for (; i + 16 <= d; i += 16) {
        bo_v8 s0 = {0}, s1 = {0};
        for (int q = 0; q < n; q++) {
            const float *row = B + (long)ib[q] * d + i;
            float c = coef[q * cstride];
            s0 += c * bo_load8(row);
            s1 += c * bo_load8(row + 8);
        }
        if (add) {
            s0 = bo_clamp8(s0 + bo_load8(out + i));
            s1 = bo_clamp8(s1 + bo_load8(out + i + 8));
        }
        memcpy(out + i, &s0, sizeof(s0));
        memcpy(out + i + 8, &s1, sizeof(s1));
    }
    for (; i < d; i++) {
        float s = 0.0f;
        for (int q = 0; q < n; q++)
            s += coef[q * cstride] * B[(long)ib[q] * d + i];
        if (add) {
            s += out[i];
            s = s < BO_WEIGHT_LIMIT ? s : BO_WEIGHT_LIMIT;
            s = s > -BO_WEIGHT_LIMIT ? s : -BO_WEIGHT_LIMIT;
        }
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
