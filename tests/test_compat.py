"""The gensim pin holds: the installed version is in range, and the hooks we override exist."""
import inspect
from importlib.metadata import requires, version

from gensim.models import word2vec as gensim_word2vec
from packaging.requirements import Requirement

from blackout_ext import Word2Vec

# gensim methods this package overrides or calls, with the parameters it relies on
HOOKS = {
    "_do_train_job": ["sentences", "alpha", "inits"],
    "_get_thread_working_mem": [],
    "_check_training_sanity": ["epochs", "total_examples", "total_words"],
    "_train_epoch_corpusfile": ["corpus_file", "cur_epoch", "total_examples", "total_words"],
    "_log_epoch_progress": ["progress_queue", "job_queue", "cur_epoch", "total_examples", "total_words"],
    "make_cum_table": ["domain"],
    "init_weights": [],
    "update_weights": [],
    "estimate_memory": ["vocab_size", "report"],
    "_save_specials": ["fname", "separately", "sep_limit", "ignore", "pickle_protocol", "compress", "subname"],
    "_load_specials": [],
}


def test_installed_gensim_is_in_the_supported_range():
    pin = next(Requirement(r) for r in requires("blackout_ext") if r.startswith("gensim"))
    assert version("gensim") in pin.specifier


def test_gensim_hooks_have_the_expected_signatures():
    for name, params in HOOKS.items():
        method = getattr(gensim_word2vec.Word2Vec, name)
        names = list(inspect.signature(method).parameters)
        assert names[:1] == ["self"]
        for p in params:
            assert p in names, f"gensim's Word2Vec.{name} lost parameter {p!r}"
    for func in ("train_batch_sg", "train_batch_cbow"):
        assert callable(getattr(gensim_word2vec, func))


def test_constructor_accepts_every_gensim_parameter():
    ours = inspect.signature(Word2Vec.__init__).parameters
    theirs = inspect.signature(gensim_word2vec.Word2Vec.__init__).parameters
    for name, param in theirs.items():
        assert name in ours
        if name not in ("hs", "negative"):  # None there means "gensim's default", resolved in __init__
            assert ours[name].default == param.default, name
