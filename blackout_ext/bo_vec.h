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

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define BO_DISPATCH __attribute__((target_clones("avx2", "default")))
#else
#define BO_DISPATCH
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
 * semantics of the SIMD min/max instructions, so the loop vectorises without fast-math. */
BO_DISPATCH
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
BO_DISPATCH
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
