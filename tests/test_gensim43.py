"""The low end of the supported range: the gensim-facing tests again, under gensim 4.3.3 and numpy < 2.

gensim 4.3.x is what many users still run (numpy < 2). Its ``word2vec.py``, ``fasttext.py``,
``doc2vec.py`` and ``test_word2vec.py`` are the same as 4.4.0's, line for line; only
``keyedvectors.py`` and ``utils.py`` differ, in a few lines this package does not touch. This
test makes a second environment with those versions (kept in a cache folder between runs),
installs this checkout into it, and runs there every test file that exercises gensim's
machinery (:data:`GENSIM_FACING`); gensim's own suites with the subclasses run under 4.4 only.
"""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PINS = ["gensim==4.3.3", "numpy<2", "scipy<1.14"]
# the files that exercise gensim's machinery, and the steps and optima of FastText's and
# Doc2Vec's inputs (which gensim's classes build); the other kernel tests do not depend on
# gensim's version. gensim's own suites with the subclasses (test_gensim_suite.py) run under
# gensim 4.4 only: the modules they test are the same in 4.3.3, line for line, and their run
# took some 4.5 of the suite's 15 minutes.
GENSIM_FACING = ["test_compat.py", "test_training.py", "test_streams.py",
                 "test_reliability.py", "test_errors.py", "test_evaluation.py", "test_gradients.py",
                 "test_statistical.py::test_document_vectors_reach_log_p",
                 "test_statistical.py::test_fasttext_vectors_reach_log_p"]
INSIDE = "BLACKOUT_EXT_GENSIM43_RUN"


def environment_folder():
    default = os.path.join(os.path.expanduser("~"), ".cache", "blackout_ext", "venv-gensim-4.3.3")
    return os.environ.get("BLACKOUT_EXT_GENSIM43_VENV", default)


def run(command, **kwargs):
    completed = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if completed.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}")
    return completed.stdout


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get(INSIDE)), reason="this is the gensim 4.3 run itself")
def test_gensim_facing_tests_pass_under_gensim_4_3(tmp_path):
    venv = environment_folder()
    python = os.path.join(venv, "bin", "python")
    ready = os.path.join(venv, "blackout-ext-ready")   # written once the environment is complete
    reused = os.path.exists(ready)
    if not reused:  # none yet, or one whose making was interrupted: make it anew
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", venv])
    run([python, "-m", "pip", "install", "-q", *PINS, f"{REPO}[test]"], timeout=1800)
    if reused:  # the same version number is installed already: put this checkout's code in
        run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", REPO], timeout=1800)
    open(ready, "w").close()
    versions = run([python, "-c", "import gensim, numpy; print(gensim.__version__, numpy.__version__)"],
                   cwd=tmp_path).split()
    assert versions[0] == "4.3.3" and versions[1].startswith("1."), versions
    env = dict(os.environ, **{INSIDE: "1"})
    env.pop("PYTHONPATH", None)
    completed = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", REPO,
         *[os.path.join(HERE, name) for name in GENSIM_FACING]],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3600)
    tail = completed.stdout[-6000:] + completed.stderr[-2000:]
    assert completed.returncode == 0, tail
    assert " passed" in completed.stdout.splitlines()[-1], tail
