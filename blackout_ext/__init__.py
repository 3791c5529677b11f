"""More output layers for gensim's Word2Vec, FastText and Doc2Vec: BlackOut, NCE, sampled softmax
and the full softmax.

``from blackout_ext import Word2Vec`` (``FastText``, ``Doc2Vec``) is a drop-in replacement for
gensim's class of that name that adds the ``loss`` parameter.
"""
import logging
import os

try:
    from blackout_ext import _inner  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on how the package was imported
    if os.path.exists(os.path.join(os.path.dirname(__file__), "_inner.pyx")):
        raise ImportError(
            f"blackout_ext's compiled extension is missing in {os.path.dirname(__file__)}: this is the source "
            "tree. Install the package (pip install .) and run from another directory, or build in place "
            "(pip install -e .)") from err
    raise

from blackout_ext.losses import KERNEL_LOSSES, LOSSES, NEW_LOSSES  # noqa: F401
from blackout_ext.word2vec import Word2Vec
from blackout_ext.fasttext import FastText
from blackout_ext.doc2vec import Doc2Vec

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Word2Vec", "FastText", "Doc2Vec", "LOSSES", "KERNEL_LOSSES", "NEW_LOSSES", "__version__"]
