# cython: language_level=3
"""The kernels' random numbers: xorshift64* (Vigna, 2016), one state word per job, no locks.

Inline functions in a ``.pxd``: every module that cimports them compiles them in, so a draw per
token costs no call across modules.
"""
from libc.stdint cimport uint64_t, uint32_t


cdef inline uint64_t rng_next64(uint64_t *s) noexcept nogil:
    cdef uint64_t x = s[0]
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    s[0] = x
    return x * <uint64_t>0x2545F4914F6CDD1DULL


cdef inline uint32_t rng_next32(uint64_t *state) noexcept nogil:
    return <uint32_t>(rng_next64(state) >> 32)


cdef inline uint64_t seed_state(uint64_t seed) noexcept nogil:
    # splitmix64 scrambles the seed, so that nearby seeds give unrelated streams
    cdef uint64_t z = seed + <uint64_t>0x9E3779B97F4A7C15ULL
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
    z = z ^ (z >> 31)
    return z if z != 0 else <uint64_t>0x9E3779B97F4A7C15ULL


cdef inline int rng_below(uint64_t *s, int n) noexcept nogil:
    # uniform in [0, n)
    return <int>((<uint64_t>rng_next32(s) * <uint64_t>n) >> 32)
