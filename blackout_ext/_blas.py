"""Keep SciPy's OpenBLAS single-threaded while our worker threads call it.

The full softmax calls ``sgemv`` once per prediction (for the scores) from each of gensim's
worker threads. OpenBLAS would split each call over its own thread pool as well, and on a small
machine the two pools fight (measured: 4x slower with 2 workers on 2 cores). This does what
threadpoolctl does, for the one library our kernels link: SciPy's bundled OpenBLAS.
"""
import contextlib
import ctypes
import logging

logger = logging.getLogger(__name__)

_SUFFIXES = ("", "64_")
_PREFIXES = ("scipy_openblas_", "openblas_")


def _scipy_openblas():
    import scipy.linalg.cython_blas  # noqa: F401  (make sure the library is loaded)
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(p for p in paths if p.startswith("/") and "scipy" in p):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                getter = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
                setter = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
                if getter is not None and setter is not None and "openblas64" not in path:
                    return getter, setter
    return None


_FUNCTIONS = None


@contextlib.contextmanager
def single_threaded_blas():
    """Context manager: SciPy's OpenBLAS uses one thread inside, as before outside."""
    global _FUNCTIONS
    if _FUNCTIONS is None:
        _FUNCTIONS = _scipy_openblas() or ()
    if not _FUNCTIONS:
        yield
        return
    getter, setter = _FUNCTIONS
    before = getter()
    setter(1)
    try:
        yield
    finally:
        setter(before)
