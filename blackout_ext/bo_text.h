/* float32 as text, exactly as numpy's str() writes it, about 30x faster.
 *
 * gensim's save_word2vec_format writes every float32 with str() (repr() under numpy 1.x, the
 * same text): the shortest decimal that reads back as the same float32 (of those, the nearest),
 * positional for 1e-4 <= |x| < an upper bound that the caller passes (float32's: 1e6 in numpy
 * 2, 1e16 in numpy 1.x) ("0.5", "-0.0123", "3.0"), otherwise scientific ("1e-05", "-2.5e+06").
 * bo_f32_text writes that text for the values its exact integer arithmetic covers (normal
 * floats from about 1e-21 to 2**24) and returns 0 for any other (zero, inf, nan, tiny or huge
 * values), which the caller formats with numpy.
 *
 * The search: x = m 2^e, and every real in [x - lo, x + hi] (lo = hi = half an ulp, lo half of
 * that at a power of two) reads back as x; the bounds are included when m is even (reading
 * rounds a tie to the even mantissa). With N 2^k (k = e - 2) for x and its two bounds, the
 * decimals d 10^q inside the interval are the integers d from ceil(Lo 2^k / 10^q) to
 * floor(Hi 2^k / 10^q). The shortest is the largest q that has one; of its (at most two
 * nearest) candidates, the one nearest x, a tie going to the even d. For q <= 0 the quotient
 * is a product and a shift (N 10^-q >> -k), in unsigned 128-bit integers.
 */
#ifndef BO_TEXT_H
#define BO_TEXT_H

#include <stdint.h>
#include <string.h>

typedef unsigned __int128 bo_u128;

static bo_u128 bo_pow10_table[39];

static void bo_text_init(void) {
    bo_u128 p = 1;
    for (int i = 0; i < 39; i++) {
        bo_pow10_table[i] = p;
        p *= 10;
    }
}

/* floor(N 2^k / 10^q) into *fl, and whether the quotient is exact; 0 when out of range (k < 0) */
static inline int bo_scaled_floor(uint64_t N, int k, int q, bo_u128 *fl, int *exact) {
    int s = -k;
    if (s <= 0 || s > 127)
        return 0;
    if (q <= 0) {
        if (-q > 30)
            return 0;
        bo_u128 num = (bo_u128)N * bo_pow10_table[-q];
        bo_u128 mask = (((bo_u128)1) << s) - 1;
        *fl = num >> s;
        *exact = (num & mask) == 0;
        return 1;
    }
    if (q > 20 || s > 60)
        return 0;
    bo_u128 den = bo_pow10_table[q] << s;
    *fl = (bo_u128)N / den;
    *exact = ((bo_u128)N % den) == 0;
    return 1;
}

/* the candidates d 10^q inside the interval: 1 and [*lo_d, *hi_d] if there are any, 0 if none,
 * -1 when the arithmetic is out of range */
static inline int bo_decimals_at(uint64_t Lo, uint64_t Hi, int k, int q, int inclusive,
                                 bo_u128 *lo_d, bo_u128 *hi_d) {
    bo_u128 fl, fh;
    int el, eh;
    if (!bo_scaled_floor(Lo, k, q, &fl, &el) || !bo_scaled_floor(Hi, k, q, &fh, &eh))
        return -1;
    *lo_d = (el && inclusive) ? fl : fl + 1;
    *hi_d = (eh && !inclusive) ? fh - 1 : fh;
    if (eh && !inclusive && fh == 0)
        return 0;
    return *lo_d <= *hi_d;
}

/* the shortest decimal d 10^q that reads back as |x| (the nearest of them); 0 if not covered */
static int bo_f32_shortest(float x, uint64_t *digits, int *exp10) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof(bits));
    uint32_t expbits = (bits >> 23) & 0xff, frac = bits & 0x7fffff;
    if (expbits == 0 || expbits == 0xff || expbits > 150)   /* zero, subnormal, inf, nan, >= 2^24 */
        return 0;
    uint64_t m = frac | 0x800000u;
    int e = (int)expbits - 150, k = e - 2;
    uint64_t M = 4 * m, Hi = 4 * m + 2, Lo = (frac == 0 && expbits > 1) ? 4 * m - 1 : 4 * m - 2;
    int inclusive = (m & 1) == 0;
    int ebin = e + 23;                                 /* floor(log2 x) */
    int q = ((ebin * 78913) >> 18) - 8;                /* about 9 digits: always one inside */
    bo_u128 lo_d = 0, hi_d = 0, best_lo = 0, best_hi = 0;
    int found = bo_decimals_at(Lo, Hi, k, q, inclusive, &lo_d, &hi_d);
    if (found < 0)
        return 0;
    while (!found) {                                   /* the estimate of log10 x was high */
        q--;
        found = bo_decimals_at(Lo, Hi, k, q, inclusive, &lo_d, &hi_d);
        if (found < 0)
            return 0;
    }
    for (;;) {                                         /* the largest q with a decimal inside */
        best_lo = lo_d;
        best_hi = hi_d;
        int more = bo_decimals_at(Lo, Hi, k, q + 1, inclusive, &lo_d, &hi_d);
        if (more < 0)
            return 0;
        if (!more)
            break;
        q++;
    }
    /* the candidate nearest x: floor or floor + 1 of x / 10^q, clamped into [best_lo, best_hi] */
    bo_u128 c;
    int exact;
    if (!bo_scaled_floor(M, k, q, &c, &exact))
        return 0;
    bo_u128 d = c;
    if (!exact) {
        /* compare x with (c + 1/2) 10^q, that is 2 M 2^k with (2 c + 1) 10^q */
        bo_u128 twice;
        int twice_exact;
        if (!bo_scaled_floor(2 * M, k, q, &twice, &twice_exact))
            return 0;
        if (twice == 2 * c + 1)                        /* at or above the middle */
            d = twice_exact ? ((c & 1) ? c + 1 : c) : c + 1;   /* on it: the even one */
    }
    if (d < best_lo)
        d = best_lo;
    if (d > best_hi)
        d = best_hi;
    while (d % 10 == 0 && d != 0) {
        d /= 10;
        q++;
    }
    *digits = (uint64_t)d;
    *exp10 = q;
    return 1;
}

/* writes x as numpy's str() does into out (at least 24 bytes), positional below
 * `positional_below`; returns the length, or 0 if x is not covered (see above) */
static int bo_f32_text(float x, char *out, double positional_below) {
    uint64_t d;
    int q;
    if (!bo_f32_shortest(x, &d, &q))
        return 0;
    char digits[24];
    int n = 0;
    while (d) {
        digits[n++] = (char)('0' + d % 10);
        d /= 10;
    }
    /* digits[n-1] is the first */
    int X = q + n - 1;                                 /* x = D.DDD 10^X */
    char *p = out;
    float ax = x < 0 ? -x : x;
    if (x < 0)
        *p++ = '-';
    if ((double)ax >= 1e-4 && (double)ax < positional_below) {
        if (X >= 0) {
            for (int i = 0; i <= X; i++)
                *p++ = i < n ? digits[n - 1 - i] : '0';
            *p++ = '.';
            if (n > X + 1)
                for (int i = X + 1; i < n; i++)
                    *p++ = digits[n - 1 - i];
            else
                *p++ = '0';
        } else {
            *p++ = '0';
            *p++ = '.';
            for (int i = 0; i < -X - 1; i++)
                *p++ = '0';
            for (int i = 0; i < n; i++)
                *p++ = digits[n - 1 - i];
        }
    } else {
        *p++ = digits[n - 1];
        if (n > 1) {
            *p++ = '.';
            for (int i = 1; i < n; i++)
                *p++ = digits[n - 1 - i];
        }
        *p++ = 'e';
        *p++ = X < 0 ? '-' : '+';
        int ae = X < 0 ? -X : X;
        if (ae >= 100)
            *p++ = (char)('0' + ae / 100);
        *p++ = (char)('0' + (ae / 10) % 10);
        *p++ = (char)('0' + ae % 10);
    }
    return (int)(p - out);
}

#endif
