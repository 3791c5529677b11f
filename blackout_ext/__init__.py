"""More output layers for gensim's Word2Vec: BlackOut, NCE, sampled softmax and full softmax.

``from blackout_ext import Word2Vec`` is a drop-in replacement for
:class:`gensim.models.Word2Vec` that adds the ``loss`` parameter.
"""
import logging

from blackout_ext.word2vec import LOSSES, NEW_LOSSES, Word2Vec  # noqa: F401

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Word2Vec", "LOSSES", "NEW_LOSSES", "__version__"]
