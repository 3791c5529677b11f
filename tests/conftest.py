"""Shared fixtures: small real corpora from gensim's bundled test data."""
import logging

import pytest
from gensim.test.utils import datapath
from gensim.utils import simple_preprocess

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
