"""A pytest plugin: gensim's own test modules run with blackout_ext's classes in place of gensim's.

gensim's tests call ``word2vec.Word2Vec(...)`` through the module they imported. This plugin
gives each collected gensim test module a copy of that module whose ``Word2Vec`` is
:class:`blackout_ext.Word2Vec`. gensim's own module is left as it is: its methods call
``super(Word2Vec, cls)`` by the module's global name, which must stay gensim's class.

Used by ``tests/test_gensim_suite.py`` as ``pytest -p gensim_swap <gensim test file>``.
"""
import types

from gensim.models import word2vec as gensim_word2vec

import blackout_ext

SWAPS = {gensim_word2vec: {"Word2Vec": blackout_ext.Word2Vec}}


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
