"""A pytest plugin: gensim's own test modules run with blackout_ext's classes in place of gensim's.

gensim's tests call ``word2vec.Word2Vec(...)`` (``doc2vec.Doc2Vec(...)``) through the module
they imported, or a class they imported by name (``FastText as FT_gensim``). This plugin gives
each collected gensim test module a copy of such a module whose class is this package's, and
rebinds such names to this package's classes. gensim's own modules are left as they are: their
methods call ``super(Word2Vec, cls)`` by the module's global name, which must stay gensim's class.

Used by ``tests/test_gensim_suite.py`` as ``pytest -p gensim_swap <gensim test file>``.
"""
import types

from gensim.models import doc2vec as gensim_doc2vec
from gensim.models import fasttext as gensim_fasttext
from gensim.models import word2vec as gensim_word2vec

import blackout_ext

SWAPS = {
    gensim_word2vec: {"Word2Vec": blackout_ext.Word2Vec},
    gensim_fasttext: {"FastText": blackout_ext.FastText},
    gensim_doc2vec: {"Doc2Vec": blackout_ext.Doc2Vec},
}
CLASSES = {gensim_class: ours for replacements in SWAPS.values() for ours in replacements.values()
           for gensim_class in [ours.gensim_class]}


def swapped(module, replacements):
    """A copy of `module` with some of its names bound to other objects."""
    copy = types.ModuleType(module.__name__, module.__doc__)
    copy.__dict__.update(module.__dict__)
    copy.__dict__.update(replacements)
    return copy


def pytest_collection_finish(session):
    modules = {item.module for item in session.items if getattr(item, "module", None) is not None}
    for test_module in modules:
        for name, value in list(vars(test_module).items()):
            if isinstance(value, types.ModuleType) and value in SWAPS:
                setattr(test_module, name, swapped(value, SWAPS[value]))
            elif isinstance(value, type) and value in CLASSES:
                setattr(test_module, name, CLASSES[value])
