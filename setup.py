"""Build the Cython kernels of blackout_ext.

The package metadata lives in pyproject.toml; this file only declares the extension.
No ``-march=native``: a built wheel must run on any x86-64 (or aarch64) machine.
"""
import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "blackout_ext._inner",
        ["blackout_ext/_inner.pyx"],
        include_dirs=[np.get_include(), "blackout_ext"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    ),
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3"},
    ),
)
