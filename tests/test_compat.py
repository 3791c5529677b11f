"""The gensim pin holds: every gensim internal this package overrides, calls or reads is there.

This file is the list of what blackout_ext relies on in gensim beyond its documented API; a
gensim release that changes one of them fails here first, by name. It was made by grepping
``blackout_ext/`` for ``super().``, ``gensim_word2vec.``, ``utils.`` and gensim attributes. It also
checks that without ``loss`` each of the three models is gensim's, bit for bit.
"""
import inspect
from importlib.metadata import requires, version

import numpy as np
import pytest
from gensim import utils
from gensim.models import doc2vec as gensim_doc2vec
from gensim.models import fasttext as gensim_fasttext
from gensim.models import word2vec as gensim_word2vec
from gensim.models.callbacks import CallbackAny2Vec
from packaging.requirements import Requirement

from blackout_ext import Doc2Vec, FastText, Word2Vec

# Word2Vec methods this package overrides or calls, with the parameters it passes or receives
WORD2VEC_METHODS = {
    # overridden
    "__init__": ["sentences", "corpus_file", "vector_size", "hs", "negative", "ns_exponent", "cbow_mean",
                 "shrink_windows", "callbacks"],
    "_do_train_job": ["sentences", "alpha", "inits"],
    "_get_thread_working_mem": [],
    "_check_training_sanity": ["epochs", "total_examples", "total_words"],
    "_train_epoch": ["data_iterable", "cur_epoch", "total_examples", "total_words", "queue_factor",
                     "report_delay", "callbacks"],
    "_train_epoch_corpusfile": ["corpus_file", "cur_epoch", "total_examples", "total_words", "callbacks"],
    "_job_producer": ["data_iterator", "job_queue", "cur_epoch", "total_examples", "total_words"],
    "make_cum_table": ["domain"],
    "init_weights": [],
    "update_weights": [],
    "estimate_memory": ["vocab_size", "report"],
    "build_vocab": ["corpus_iterable", "corpus_file", "update", "progress_per", "keep_raw_vocab", "trim_rule"],
    "scan_vocab": ["corpus_iterable", "corpus_file", "progress_per", "workers", "trim_rule"],
    "train": [],
    "predict_output_word": ["context_words_list", "topn"],
    "save": [],
    "load": [],
    "_save_specials": ["fname", "separately", "sep_limit", "ignore", "pickle_protocol", "compress", "subname"],
    "_load_specials": [],   # Word2Vec's forwards *args to SaveLoad's, checked below
    "__str__": [],
    # called
    "_get_next_alpha": ["epoch_progress", "cur_epoch"],
    "_raw_word_count": ["job"],
    "_log_epoch_progress": ["progress_queue", "job_queue", "cur_epoch", "total_examples", "total_words",
                            "report_delay", "is_corpus_file_mode"],
    "add_lifecycle_event": ["event_name"],
    "get_latest_training_loss": [],
}

# gensim's compiled kernels, called positionally by _do_train_job: their number of parameters
MODULE_FUNCTIONS = {
    "train_batch_sg": 5,     # (model, sentences, alpha, work, compute_loss)
    "train_batch_cbow": 6,   # (model, sentences, alpha, work, neu1, compute_loss)
}

# attributes a built model has, which this package reads or writes
MODEL_ATTRIBUTES = ["wv", "syn1neg", "cum_table", "running_training_loss", "train_count", "corpus_count",
                    "corpus_total_words", "layer1_size", "random", "min_count", "window", "epochs", "alpha",
                    "min_alpha", "batch_words", "compute_loss"]
VECATTRS = ["count", "sample_int"]          # model.wv.expandos keys (and "code"/"point" with hs)


def signature_names(function):
    return list(inspect.signature(function).parameters)


def test_installed_gensim_is_in_the_supported_range():
    pin = next(Requirement(r) for r in requires("blackout_ext") if r.startswith("gensim"))
    assert version("gensim") in pin.specifier


def test_word2vec_methods_have_the_expected_signatures():
    for name, params in WORD2VEC_METHODS.items():
        method = getattr(gensim_word2vec.Word2Vec, name)
        names = signature_names(method)
        for p in params:
            assert p in names, f"gensim's Word2Vec.{name} lost parameter {p!r}"


def test_module_functions_and_constants():
    for name, n_params in MODULE_FUNCTIONS.items():
        function = getattr(gensim_word2vec, name)
        try:
            names = signature_names(function)
        except ValueError:  # an older Cython gives no signature, only the docstring's first line
            names = function.__doc__.split("(", 1)[1].split(")", 1)[0].split(",")
        assert len(names) == n_params, f"gensim's word2vec.{name} changed its parameters: {names}"
    assert gensim_word2vec.MAX_WORDS_IN_BATCH == 10000
    assert issubclass(gensim_word2vec.LineSentence, object)
    line_sentence = signature_names(gensim_word2vec.LineSentence.__init__)
    for p in ("source", "max_sentence_length", "limit"):
        assert p in line_sentence


def test_saveload_internals():
    compress, subname = utils.SaveLoad._adapt_by_suffix("model.bin")
    assert compress is False and subname("model.bin", "wv.vectors").endswith("wv.vectors.npy")
    assert isinstance(utils.PICKLE_PROTOCOL, int)
    for name in ("pickle", "unpickle", "open"):
        assert callable(getattr(utils, name))
    for p in ("fname", "mmap", "compress", "subname"):
        assert p in signature_names(utils.SaveLoad._load_specials)
    assert callable(CallbackAny2Vec.on_epoch_end)


def test_a_built_model_has_the_attributes_we_use(small_corpus):
    model = gensim_word2vec.Word2Vec(vector_size=8, min_count=3, workers=1, hs=1, negative=5)
    model.build_vocab(small_corpus)
    for name in MODEL_ATTRIBUTES:
        assert hasattr(model, name), f"gensim's Word2Vec no longer has {name!r}"
    for key in VECATTRS + ["code", "point"]:
        assert key in model.wv.expandos, f"gensim's KeyedVectors no longer keeps {key!r}"
    assert model.wv.expandos["sample_int"].dtype == np.uint32
    assert model.syn1neg.shape == (len(model.wv), 8) and model.layer1_size == 8


def test_constructor_accepts_every_gensim_parameter():
    ours = inspect.signature(Word2Vec.__init__).parameters
    theirs = inspect.signature(gensim_word2vec.Word2Vec.__init__).parameters
    for name, param in theirs.items():
        assert name in ours
        # None there means "not given", resolved in __init__: gensim's default without a tuned loss
        if name not in ("hs", "negative", "alpha"):
            assert ours[name].default == param.default, name
    assert ours["alpha"].default is None and Word2Vec().alpha == theirs["alpha"].default


# FastText and Doc2Vec: what their subclasses override, call and read
FASTTEXT_METHODS = {
    "__init__": ["sentences", "corpus_file", "sg", "hs", "negative", "bucket", "min_n", "max_n", "callbacks"],
    "estimate_memory": ["vocab_size", "report"],
    "_do_train_job": ["sentences", "alpha", "inits"],
    "_clear_post_train": [],   # called by train(): recomposes wv.vectors from the trained rows
}
FASTTEXT_WV_ATTRIBUTES = ["vectors_vocab", "vectors_ngrams", "vectors_vocab_lockf", "vectors_ngrams_lockf",
                          "buckets_word", "bucket", "vectors"]
DOC2VEC_METHODS = {
    "__init__": ["documents", "corpus_file", "dm", "dbow_words", "dm_concat", "dm_mean", "callbacks", "window",
                 "epochs", "kwargs"],
    "_do_train_job": ["job", "alpha", "inits"],
    "infer_vector": ["doc_words", "alpha", "min_alpha", "epochs"],
    "scan_vocab": ["corpus_iterable", "corpus_file", "progress_per", "trim_rule"],
    "_raw_word_count": ["job"],
}


def test_fasttext_and_doc2vec_internals():
    from gensim.models import doc2vec as gensim_doc2vec
    from gensim.models import fasttext as gensim_fasttext
    from gensim.models.keyedvectors import pseudorandom_weak_vector

    from blackout_ext import Doc2Vec, FastText

    for cls, methods in ((gensim_fasttext.FastText, FASTTEXT_METHODS), (gensim_doc2vec.Doc2Vec, DOC2VEC_METHODS)):
        for name, params in methods.items():
            names = signature_names(getattr(cls, name))
            for p in params:
                assert p in names, f"gensim's {cls.__name__}.{name} lost parameter {p!r}"
    assert signature_names(pseudorandom_weak_vector)[:2] == ["size", "seed_string"]
    model = gensim_fasttext.FastText(vector_size=8, min_count=1, workers=1, bucket=100)
    model.build_vocab([["alpha", "beta"]])
    for name in FASTTEXT_WV_ATTRIBUTES:
        assert hasattr(model.wv, name), f"gensim's FastTextKeyedVectors no longer has {name!r}"
    assert model.wv.buckets_word[0].dtype == np.uint32
    d2v = gensim_doc2vec.Doc2Vec(vector_size=8, min_count=1, workers=1)
    d2v.build_vocab([gensim_doc2vec.TaggedDocument(["alpha"], [0])])
    assert d2v.dv.vectors.shape == (1, 8) and d2v.dv.vectors_lockf.dtype == np.float32
    # every gensim parameter is taken, with gensim's default (None for hs and negative: "not given")
    for ours, theirs in ((FastText, gensim_fasttext.FastText), (Doc2Vec, gensim_doc2vec.Doc2Vec)):
        mine = inspect.signature(ours.__init__).parameters
        for name, param in inspect.signature(theirs.__init__).parameters.items():
            assert name in mine, (ours.__name__, name)
            if name not in ("hs", "negative", "kwargs"):
                assert mine[name].default == param.default, (ours.__name__, name)

# ---------------------------------------------------------------------------------------------
# FastText and Doc2Vec: loss=None is gensim, bit for bit, on both corpus paths


@pytest.mark.parametrize("sg", [0, 1])
@pytest.mark.parametrize("path", ["iterable", "corpus_file"])
def test_fasttext_without_loss_is_gensim_bit_for_bit(sg, path, lee_file, lee_corpus):
    params = dict(sg=sg, vector_size=16, min_count=3, workers=1, seed=5, epochs=2, bucket=5000)
    corpus = dict(corpus_file=lee_file) if path == "corpus_file" else dict(sentences=lee_corpus[:150])
    ours, theirs = FastText(**corpus, **params), gensim_fasttext.FastText(**corpus, **params)
    assert ours.loss is None and (ours.hs, ours.negative) == (0, 5)
    for name in ("vectors_vocab", "vectors_ngrams", "vectors"):
        assert np.array_equal(getattr(ours.wv, name), getattr(theirs.wv, name)), name
    assert np.array_equal(ours.syn1neg, theirs.syn1neg)
    assert np.array_equal(ours.wv["unseenword"], theirs.wv["unseenword"])


@pytest.mark.parametrize("kwargs", [dict(dm=0), dict(dm=0, dbow_words=1), dict(dm=1), dict(dm=1, dm_mean=1),
                                    dict(dm=1, dm_concat=1), dict(dm=0, hs=1, negative=0)])
def test_doc2vec_without_loss_is_gensim_bit_for_bit(kwargs, lee_documents):
    params = dict(vector_size=12, min_count=3, workers=1, seed=2, epochs=2, **kwargs)
    ours, theirs = Doc2Vec(lee_documents[:60], **params), gensim_doc2vec.Doc2Vec(lee_documents[:60], **params)
    assert np.array_equal(ours.dv.vectors, theirs.dv.vectors)
    assert np.array_equal(ours.wv.vectors, theirs.wv.vectors)
    words = lee_documents[3].words
    assert np.array_equal(ours.infer_vector(words), theirs.infer_vector(words))


def test_doc2vec_corpus_file_without_loss_is_gensim_bit_for_bit(lee_doc_file):
    params = dict(vector_size=12, min_count=3, workers=1, seed=2, epochs=2, dm=0)
    ours = Doc2Vec(corpus_file=lee_doc_file, **params)
    theirs = gensim_doc2vec.Doc2Vec(corpus_file=lee_doc_file, **params)
    assert np.array_equal(ours.dv.vectors, theirs.dv.vectors)
