"""The low end of the supported range: the gensim-facing tests again, under gensim 4.3.3 and numpy < 2.

The run itself (``tests/gensim43.py``) goes on in a second environment beside the rest of the
suite: conftest.py starts it as soon as this test is collected, and runs this test last.
"""
import os

import pytest

import gensim43


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get(gensim43.INSIDE)), reason="this is the gensim 4.3 run itself")
def test_gensim_facing_tests_pass_under_gensim_4_3(gensim43_run):
    returncode, output, versions = gensim43_run.wait()
    tail = output[-6000:]
    assert versions[0] == "4.3.3" and versions[1].startswith("1."), versions
    import blackout_ext
    assert os.path.realpath(versions[2]) == os.path.realpath(blackout_ext.__file__), versions   # this checkout's build
    assert returncode == 0, tail
    assert " passed" in output.splitlines()[-1], tail
