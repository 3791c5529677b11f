"""Build the Cython kernels of blackout_ext.

The package metadata lives in pyproject.toml; this file only declares the extension.
No ``-march=native``: a built wheel must run on any x86-64 (or aarch64) machine.
"""
import os
import runpy

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def write_kernel_sources():
    """Write the kernel's loss codes and gammas dispatch from the loss table (losses.py)."""
    losses = runpy.run_path(os.path.join(HERE, "blackout_ext", "losses.py"))
    for name, text in losses["kernel_sources"]().items():
        path = os.path.join(HERE, "blackout_ext", name)
        if not os.path.exists(path) or open(path, encoding="utf8").read() != text:
            with open(path, "w", encoding="utf8") as fout:   # unchanged: left alone, not rebuilt
                fout.write(text)


write_kernel_sources()

# the training kernels (_inner), the vocabulary table (_vocab), the corpus_file reader
# (_corpus_file), the corpus_file vocabulary scan (_scan), float32 as text (_text) and a machine
# probe for the benchmarks (_probe); the RNG is inline (_random.pxd)
extensions = [
    Extension(
        f"blackout_ext.{name}",
        [f"blackout_ext/{name}.pyx"],
        include_dirs=[np.get_include(), "blackout_ext"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        # -fno-wrapv undoes the -fwrapv that Python's own flags add: the package's C relies on no
        # signed overflow (its hashes and RNG are unsigned), and without it GCC may widen the
        # kernels' int indices once per loop: 2-3% of a training step (benchmarks/README.md)
        extra_compile_args=["-O3", "-fno-wrapv"],
    )
    for name in ("_inner", "_vocab", "_corpus_file", "_scan", "_text", "_probe")
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3"},
    ),
)
