"""The gensim 4.3 run: the gensim-facing tests again, in a second environment, beside the suite.

gensim 4.3.x is what many users still run (numpy < 2). Its ``word2vec.py``, ``fasttext.py``,
``doc2vec.py`` and ``test_word2vec.py`` are the same as 4.4.0's, line for line; only
``keyedvectors.py`` and ``utils.py`` differ, in a few lines this package does not touch.

:func:`start` makes (or reuses) a virtualenv with those versions (kept in a cache folder between
runs) and runs there every test file that exercises gensim's machinery (:data:`GENSIM_FACING`),
in a background thread, while the main suite goes on; ``tests/test_gensim43.py`` waits for it
and checks the outcome. conftest.py starts it as soon as that test is collected, and puts the
test last.

The package is not built a second time: the run imports the compiled package installed in the
main environment (through a ``.pth`` file naming a folder that links it and its metadata). That
is the very artefact a user of numpy 1.x gets: the build always compiles against numpy >= 2
(pyproject.toml's build requirements), whose extensions NumPy documents to run on 1.x as well.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from importlib.metadata import distribution

HERE = os.path.dirname(os.path.abspath(__file__))
PINS = ["gensim==4.3.3", "numpy<2", "scipy<1.14"]
TOOLS = ["pytest>=7", "hypothesis>=6", "packaging"]
# the files that exercise gensim's machinery, and the steps and optima of FastText's and
# Doc2Vec's inputs (which gensim's classes build). gensim's own suites with the subclasses
# (test_gensim_suite.py) run under gensim 4.4 only: the modules they test are the same in 4.3.3,
# line for line. test_evaluation.py is left out: it runs the package's own NumPy and Cython code
# on arrays, whatever gensim's version.
GENSIM_FACING = ["test_compat.py", "test_training.py", "test_streams.py", "test_keyedvectors.py",
                 "test_reliability.py", "test_errors.py", "test_gradients.py",
                 "test_statistical.py::test_document_vectors_reach_log_p",
                 "test_statistical.py::test_fasttext_vectors_reach_log_p"]
INSIDE = "BLACKOUT_EXT_GENSIM43_RUN"
"""Set in the run's environment: the gensim 4.3 test skips itself there."""


def environment_folder():
    default = os.path.join(os.path.expanduser("~"), ".cache", "blackout_ext", "venv-gensim-4.3.3")
    return os.environ.get("BLACKOUT_EXT_GENSIM43_VENV", default)


class StepFailed(Exception):
    """A step of making the environment failed; the message holds its output."""


def _run(command, **kwargs):
    completed = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if completed.returncode != 0:
        raise StepFailed(f"{' '.join(command)} failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}")
    return completed.stdout


def installed_package():
    """The folders of the installed blackout_ext and of its metadata (``*.dist-info``)."""
    import blackout_ext

    package = os.path.dirname(os.path.abspath(blackout_ext.__file__))
    info = str(distribution("blackout_ext")._path)   # noqa: SLF001 (importlib.metadata's PathDistribution)
    return package, info


def runtime_requirements():
    """blackout_ext's own requirements (no extras), from its installed metadata."""
    return [r for r in distribution("blackout_ext").requires or [] if "extra ==" not in r]


class Run:
    """The gensim 4.3 run, going on in a thread: :meth:`wait` gives its outcome."""

    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="blackout-ext-gensim43-")
        self.process = None
        self.outcome = None   # (return code, output, versions) or a StepFailed
        self.stopped = False
        self._thread = threading.Thread(target=self._go, name="gensim-4.3-run", daemon=True)
        self._thread.start()

    def _go(self):
        try:
            self.outcome = self._steps()
        except StepFailed as err:
            self.outcome = err

    def _steps(self):
        venv = environment_folder()
        python = os.path.join(venv, "bin", "python")
        ready = os.path.join(venv, "blackout-ext-ready")   # written once the environment is complete
        if not os.path.exists(ready):   # none yet, or one whose making was interrupted: make it anew
            shutil.rmtree(venv, ignore_errors=True)
            _run([sys.executable, "-m", "venv", venv])
        _run([python, "-m", "pip", "install", "-q", *PINS, *runtime_requirements(), *TOOLS], timeout=1800)
        # an install of the package made there by an earlier version of this test would shadow the link
        _run([python, "-m", "pip", "uninstall", "-y", "-q", "blackout_ext"])
        open(ready, "w").close()
        # this checkout's compiled package, as installed in the main environment
        links = os.path.join(self.work, "site")
        os.makedirs(links)
        for folder in installed_package():
            os.symlink(folder, os.path.join(links, os.path.basename(folder)))
        site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
        with open(os.path.join(site, "blackout-ext-main.pth"), "w") as fout:
            fout.write(links + "\n")
        versions = _run([python, "-c", "import gensim, numpy, blackout_ext; "
                         "print(gensim.__version__, numpy.__version__, blackout_ext.__file__)"], cwd=self.work).split()
        env = dict(os.environ, **{INSIDE: "1"})
        env.pop("PYTHONPATH", None)
        if self.stopped:
            raise StepFailed("stopped before the tests ran")
        self.process = subprocess.Popen(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", os.path.dirname(HERE),
             f"--basetemp={os.path.join(self.work, 'tmp')}", *[os.path.join(HERE, name) for name in GENSIM_FACING]],
            cwd=self.work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output, _ = self.process.communicate(timeout=3600)
        return self.process.returncode, output, versions

    def wait(self, timeout=3600):
        """(return code, pytest's output, [gensim, numpy, blackout_ext's file]) of the run.

        Raises
        ------
        StepFailed
            When the environment could not be made.
        TimeoutError
            When the run is not over within `timeout` seconds.
        """
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.stop()
            raise TimeoutError(f"the gensim 4.3 run took more than {timeout} s")
        if isinstance(self.outcome, StepFailed):
            raise self.outcome
        return self.outcome

    def stop(self):
        """Kill the run if it is going on (the session ends early), and remove its folder."""
        self.stopped = True
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        self._thread.join(60)
        shutil.rmtree(self.work, ignore_errors=True)
