# cython: language_level=3
"""A probe of the machine, for ``benchmarks/bench_speed.py``: what moving one cache line between
the cores costs now. Hogwild workers pay it on every row both of them write.

It lives apart from the training kernels: nothing in training uses it.
"""
import numpy as np
cimport numpy as cnp

cnp.import_array()


cdef extern from *:
    """
    /* Two threads take turns on one counter: parity 0 waits for 2r and writes 2r + 1, parity 1
     * waits for 2r + 1 and writes 2r + 2. Each turn moves the line to the other core. Returns
     * 0, or -1 if the other thread did not answer within max_spins. */
    static int bo_ping_pong(long long *flag, long long rounds, int parity, long long max_spins) {
        for (long long r = 0; r < rounds; r++) {
            long long want = 2 * r + parity, spins = 0;
            while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != want)
                if (++spins > max_spins)
                    return -1;
            __atomic_store_n(flag, want + 1, __ATOMIC_RELEASE);
        }
        return 0;
    }
    """
    int bo_ping_pong(long long *flag, long long rounds, int parity, long long max_spins) nogil


def py_ping_pong(flag, long long rounds, int parity, long long max_spins=1000000000):
    """One side of a cache-line ping-pong on ``flag`` (an int64 array of one element, zeroed).

    Run it in two threads at once, with parity 0 and 1: both return after `rounds` round trips
    (2 * rounds transfers of the line). Returns False if the other side stopped answering.
    """
    cdef cnp.ndarray[cnp.int64_t, ndim=1] f = flag
    cdef int result
    with nogil:
        result = bo_ping_pong(<long long *>&f[0], rounds, parity, max_spins)
    return result == 0
