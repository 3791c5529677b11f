"""Build the Cython kernels of blackout_ext.

The package metadata lives in pyproject.toml; this file only declares the extension.
No ``-march=native``: a built wheel must run on any x86-64 (or aarch64) machine.
"""
import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

# the training kernels (_inner), the vocabulary table (_vocab), the corpus_file reader
# (_corpus_file) and a machine probe for the benchmarks (_probe); the RNG is inline (_random.pxd)
extensions = [
    Extension(
        f"blackout_ext.{name}",
        [f"blackout_ext/{name}.pyx"],
        include_dirs=[np.get_include(), "blackout_ext"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    )
    for name in ("_inner", "_vocab", "_corpus_file", "_probe")
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3"},
    ),
)
