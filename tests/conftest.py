"""Shared fixtures (small real corpora from gensim's bundled test data), and the start of the gensim 4.3 run."""
import logging
import os

import pytest
from gensim.models.doc2vec import TaggedDocument
from gensim.test.utils import datapath
from gensim.utils import simple_preprocess

from helpers import write_lines

logging.getLogger("gensim").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def lee_corpus():
    """gensim's Lee background corpus (300 documents, 60k tokens), tokenised."""
    with open(datapath("lee_background.cor"), encoding="utf8") as fin:
        return [simple_preprocess(line) for line in fin]


@pytest.fixture(scope="session")
def small_corpus(lee_corpus):
    """The first 60 Lee documents: cheap enough for the full softmax."""
    return lee_corpus[:60]


@pytest.fixture(scope="session")
def lee_documents():
    """The Lee corpus as Doc2Vec's documents, each tagged by its line number."""
    with open(datapath("lee_background.cor"), encoding="utf8") as fin:
        return [TaggedDocument(simple_preprocess(line), [i]) for i, line in enumerate(fin)]


@pytest.fixture(scope="session")
def lee_file(tmp_path_factory, lee_corpus):
    """The tokenised Lee corpus as a file, one sentence per line (for ``corpus_file``)."""
    return write_lines(tmp_path_factory.mktemp("lee") / "lee.txt", lee_corpus)


@pytest.fixture(scope="session")
def lee_doc_file(tmp_path_factory, lee_documents):
    """The Lee documents as a ``corpus_file``: line i is document i."""
    path = tmp_path_factory.mktemp("docs") / "lee_docs.txt"
    path.write_text("".join(" ".join(doc.words) + "\n" for doc in lee_documents))
    return str(path)


GENSIM43_TEST = "test_gensim43.py::test_gensim_facing_tests_pass_under_gensim_4_3"


def pytest_collection_modifyitems(session, config, items):
    """The gensim 4.3 test goes last: its run goes on beside the other tests (gensim43.py)."""
    items.sort(key=lambda item: item.nodeid.endswith(GENSIM43_TEST))


def pytest_collection_finish(session):
    import gensim43

    if (not session.config.option.collectonly and not os.environ.get(gensim43.INSIDE)
            and any(item.nodeid.endswith(GENSIM43_TEST) for item in session.items)):
        session.config.gensim43_run = gensim43.Run()


def pytest_unconfigure(config):
    run = getattr(config, "gensim43_run", None)
    if run is not None:
        run.stop()


@pytest.fixture(scope="session")
def gensim43_run(pytestconfig):
    """The gensim 4.3 run started at collection (tests/gensim43.py)."""
    run = getattr(pytestconfig, "gensim43_run", None)
    if run is None:
        pytest.fail("the gensim 4.3 run was not started at collection")
    return run
