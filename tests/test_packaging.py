"""The source distribution carries what the README links or embeds and all that the tests import."""
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_sdist_holds_the_tests_helpers_examples_benchmarks_and_docs(tmp_path):
    # build from a copy, so that Cython's generated C stays out of the checkout
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "*.so",
                                                                  "__pycache__", ".pytest_cache", "results"))
    proc = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(tmp_path)],
                          cwd=source, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (sdist,) = [name for name in os.listdir(tmp_path) if name.endswith(".tar.gz")]
    with tarfile.open(tmp_path / sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    tests = {f"tests/{name}" for name in os.listdir(os.path.join(ROOT, "tests")) if name.endswith(".py")}
    assert {"tests/conftest.py", "tests/helpers.py", "tests/reference.py", "tests/gensim_swap.py"} <= tests
    assert tests <= names, sorted(tests - names)
    for folder in ("examples", "benchmarks", "docs"):
        expected = {f"{folder}/{name}" for name in os.listdir(os.path.join(ROOT, folder))}
        assert expected and expected <= names, sorted(expected - names)
    assert {"README.md", "ARCHITECTURE.md", "LICENSE", "blackout_ext/data/wordnet-glosses.txt.gz",
            "blackout_ext/_inner.pyx", ".ci/run"} <= names
