"""Impossible parameters get a clear exception that names the problem."""
import logging
import math
import subprocess
import sys

import pytest
from gensim.models.doc2vec import TaggedDocument

from blackout_ext import Doc2Vec, FastText, Word2Vec
from helpers import write_lines
from blackout_ext.losses import KERNEL_LOSSES, LOSSES


def test_unknown_loss_lists_the_choices():
    with pytest.raises(ValueError) as info:
        Word2Vec(loss="blackhole")
    message = str(info.value)
    assert "blackhole" in message
    for loss in LOSSES:
        assert repr(loss) in message


@pytest.mark.parametrize("loss", KERNEL_LOSSES)
@pytest.mark.parametrize("negative", [0, -3])
def test_negative_below_one_is_refused(loss, negative):
    with pytest.raises(ValueError, match=f"negative >= 1.*negative={negative}"):
        Word2Vec(loss=loss, negative=negative)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(loss="nce", hs=1), "contradicts hs=1"),
    (dict(loss="blackout", hs=1, negative=5), "contradicts hs=1"),
    (dict(loss="hs", negative=5), "contradicts negative=5"),
    (dict(loss="hs", hs=0), "contradicts hs=0"),
    (dict(loss="ns", hs=1), "contradicts hs=1"),
    (dict(loss="ns", negative=0), "negative >= 1"),
    (dict(loss="blackout", nce_normalizer="learned"), "applies to loss='nce' only"),
    (dict(loss="nce", nce_normalizer="floating"), "unknown nce_normalizer"),
    (dict(loss="nce", negative=2.5), "negative must be an integer"),
    (dict(loss="hs", sg=1, shared_samples=True), "shared_samples=True applies to loss in"),
    (dict(loss="softmax", sg=1, shared_samples=True), "shared_samples=True applies to loss in"),
    (dict(sg=1, shared_samples=True), "not loss=None"),
    (dict(loss="blackout", sg=0, shared_samples=True), r"skip-gram \(sg=1\) only"),
    (dict(loss="blackout", sg=1, shared_samples="yes"), r"shared_samples must be True, False or an int >= 2"),
    (dict(loss="blackout", sg=1, shared_samples=1), r"an int >= 2 \(windows per draw\), got 1"),
    (dict(loss="blackout", sg=0, shared_samples=-4), r"an int >= 2 \(windows per draw\), got -4"),
    (dict(loss="blackout", sg=1, shared_samples=2.5), r"an int >= 2 \(windows per draw\), got 2.5"),
    (dict(loss="softmax", sg=0, shared_samples=4), "shared_samples=4 applies to loss in"),
    (dict(loss="ns", output_bias=True), "output_bias=True applies to loss in"),
    (dict(output_bias=True), "not loss=None"),
    (dict(loss="hs", output_bias=True), "ns and hs have no output bias"),
    (dict(loss="nce", output_bias="on"), "output_bias must be True, False or None"),
])
def test_contradictions_are_refused(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        Word2Vec(**kwargs)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "x"])
@pytest.mark.parametrize("loss", [None, "nce"])
def test_non_finite_ns_exponent_is_refused(value, loss):
    with pytest.raises(ValueError, match="ns_exponent must be a finite number"):
        Word2Vec(loss=loss, ns_exponent=value)


def test_changing_parameters_after_construction_is_checked_at_train(small_corpus):
    model = Word2Vec(small_corpus, loss="nce", min_count=3, workers=1, epochs=1)
    model.negative = 0
    with pytest.raises(ValueError, match="negative >= 1"):
        model.train(small_corpus, total_examples=len(small_corpus), epochs=1)


def test_switching_to_cbow_with_shared_samples_is_checked_at_train(small_corpus):
    model = Word2Vec(small_corpus, loss="blackout", sg=1, shared_samples=True, min_count=3, workers=1, epochs=1)
    model.sg = 0
    with pytest.raises(ValueError, match="skip-gram"):
        model.train(small_corpus, total_examples=len(small_corpus), epochs=1)


def test_loss_given_without_hs_or_negative_uses_sane_defaults():
    model = Word2Vec(loss="hs")
    assert (model.hs, model.negative) == (1, 0)
    model = Word2Vec(loss="blackout")
    assert (model.hs, model.negative) == (0, 5)
    model = Word2Vec()
    assert (model.hs, model.negative, model.loss) == (0, 5, None)


def test_shared_samples_refuse_thread_memory_without_window_slots(small_corpus):
    # the kernel writes one slot per context word: memory sized for another window is refused
    from blackout_ext import _inner
    model = Word2Vec(small_corpus, loss="blackout", sg=1, shared_samples=True, min_count=3, workers=1, epochs=1)
    assert model._get_thread_working_mem().window == model.window
    for window in (0, model.window - 1):
        mem = _inner.ThreadMemory(model.layer1_size, model.negative, len(model.wv), False, window=window)
        with pytest.raises(RuntimeError, match="thread memory too small for shared_samples"):
            _inner.train_batch(model, small_corpus[:5], 0.025, mem, 0, 1)
    model.shared_samples = False
    assert model._get_thread_working_mem().window == 0


# --------------------------------------------------------------------------------------------
# values gensim accepts silently: each is refused, naming the parameter, by all three models

MODELS = [Word2Vec, FastText, Doc2Vec]


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("loss", [None, "blackout"])
@pytest.mark.parametrize("kwargs, pattern", [
    (dict(alpha=math.nan), r"alpha must be a finite number >= 0, got nan"),
    (dict(alpha=math.inf), r"alpha must be a finite number >= 0, got inf"),
    (dict(alpha=-0.1), r"alpha must be a finite number >= 0, got -0.1"),
    (dict(min_alpha=math.nan), r"min_alpha must be a finite number >= 0, got nan"),
    (dict(min_alpha=-1e-4), r"min_alpha must be a finite number >= 0, got -0.0001"),
    (dict(workers=0), r"workers must be an integer >= 1, got 0"),
    (dict(workers=-2), r"workers must be an integer >= 1, got -2"),
    (dict(workers=1.5), r"workers must be an integer >= 1, got 1.5"),
    (dict(sg=2), r"sg must be 0 or 1, got 2"),
    (dict(cbow_mean=3), r"cbow_mean must be 0 or 1, got 3"),
])
def test_values_gensim_accepts_silently_are_refused(cls, loss, kwargs, pattern):
    if cls is Doc2Vec and "sg" in kwargs:   # Doc2Vec's architecture is dm; its dm_mean is a cbow_mean
        kwargs, pattern = dict(dm_mean=2), r"cbow_mean must be 0 or 1, got 2"
    with pytest.raises(ValueError, match=pattern):
        cls(loss=loss, **kwargs)


@pytest.mark.parametrize("loss", [None, "nce"])
def test_workers_changed_to_zero_is_refused_at_train(small_corpus, loss):
    # gensim returns an untrained model here, and on the corpus_file path says nothing
    model = Word2Vec(small_corpus, loss=loss, min_count=3, workers=1, epochs=1)
    model.workers = 0
    with pytest.raises(ValueError, match="workers must be an integer >= 1, got 0"):
        model.train(small_corpus, total_examples=len(small_corpus), epochs=1)


@pytest.mark.parametrize("start_alpha", [math.nan, -0.5])
def test_a_bad_start_alpha_given_to_train_is_refused(small_corpus, start_alpha):
    model = Word2Vec(small_corpus, loss="blackout", min_count=3, workers=1, epochs=1)
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        model.train(small_corpus, total_examples=len(small_corpus), epochs=1, start_alpha=start_alpha)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("loss", [None, "nce"])
def test_an_ns_exponent_that_overflows_the_noise_table_is_refused(cls, loss):
    # 2000 ** 200 overflows float64; gensim fails deep inside with "cannot convert float NaN to integer"
    model = cls(loss=loss, ns_exponent=200, min_count=1, workers=1)
    words = ["often"] * 2000 + ["rare"] * 10
    corpus = [TaggedDocument(words, [0])] if cls is Doc2Vec else [words]
    with pytest.raises(ValueError, match=r"ns_exponent=200 is too large for this vocabulary.*largest count is 2000"):
        model.build_vocab(corpus)


def test_a_huge_alpha_is_warned_of(caplog):
    with caplog.at_level(logging.WARNING, logger="blackout_ext"):
        Word2Vec(loss="blackout", alpha=1e6)
    assert any("alpha=1e+06 is far above" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="blackout_ext"):
        Word2Vec(loss="blackout", alpha=0.05)
    assert not any("far above" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------------------------
# paths: a pathlib.Path is taken wherever a file name is

PATH_CHILD = r"""
import pathlib, sys
from gensim.models.doc2vec import TaggedDocument
from blackout_ext import Doc2Vec, FastText, Word2Vec
cls = {"Word2Vec": Word2Vec, "FastText": FastText, "Doc2Vec": Doc2Vec}[sys.argv[1]]
loss = None if sys.argv[2] == "None" else sys.argv[2]
path = pathlib.Path(sys.argv[3])
model = cls(corpus_file=path, loss=loss, min_count=2, vector_size=8, workers=2, epochs=1)
assert model.corpus_total_words == int(sys.argv[4]), model.corpus_total_words
model.train(corpus_file=path, total_words=model.corpus_total_words, epochs=1)
saved = path.with_suffix(".model")
model.save(saved)
loaded = cls.load(saved)
assert loaded.wv.index_to_key == model.wv.index_to_key
print("ok", len(model.wv))
"""


@pytest.mark.parametrize("cls", ["Word2Vec", "FastText", "Doc2Vec"])
@pytest.mark.parametrize("loss", [None, "nce"])
def test_pathlib_paths_train_save_and_load(tmp_path, small_corpus, cls, loss):
    """gensim's own corpus_file workers die on a Path (no .encode) and the process hung; run in
    a child process under a timeout, so that a hang fails the test instead of the suite."""
    path = write_lines(tmp_path / "c.txt", small_corpus)
    words = sum(len(s) for s in small_corpus)
    proc = subprocess.run([sys.executable, "-c", PATH_CHILD, cls, str(loss), path, str(words)],
                          capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ok ")


@pytest.mark.parametrize("loss", [None, "nce"])
def test_corpus_file_that_is_a_folder_or_not_a_path_is_named(tmp_path, loss):
    with pytest.raises(ValueError, match=r"corpus_file .* is a folder, not a file"):
        Word2Vec(corpus_file=tmp_path, loss=loss)
    with pytest.raises(TypeError, match=r"corpus_file must be a path \(str or os.PathLike\), got int"):
        Word2Vec(corpus_file=3, loss=loss)


def test_loading_another_model_kind_is_an_attribute_error(tmp_path, small_corpus):
    """As gensim's Word2Vec.load raises for an object that is no Word2Vec (and as load's docstring
    says): FastText.load of a Word2Vec file, and Word2Vec.load of a Doc2Vec file, never adopt it."""
    w2v = Word2Vec(small_corpus, min_count=3, vector_size=8, workers=1, epochs=1)
    w2v.save(str(tmp_path / "w.model"))
    docs = [TaggedDocument(s, [i]) for i, s in enumerate(small_corpus)]
    d2v = Doc2Vec(docs, loss="nce", min_count=3, vector_size=8, workers=1, epochs=1)
    d2v.save(str(tmp_path / "d.model"))
    with pytest.raises(AttributeError, match=r"cannot load .*w.model as FastText: it holds a Word2Vec model"):
        FastText.load(tmp_path / "w.model")
    with pytest.raises(AttributeError, match=r"cannot load .*d.model as Word2Vec: it holds a Doc2Vec model"):
        Word2Vec.load(tmp_path / "d.model")
    assert type(Doc2Vec.load(tmp_path / "d.model")) is Doc2Vec


def test_doc2vec_refuses_what_it_does_not_support(lee_documents):
    with pytest.raises(ValueError, match="dm_concat"):
        Doc2Vec(dm=1, dm_concat=1, loss="nce")
    with pytest.raises(ValueError, match="learned"):
        Doc2Vec(dm=0, loss="nce", nce_normalizer="learned")
    with pytest.raises(ValueError, match="unknown loss"):
        Doc2Vec(loss="ncee")
    with pytest.raises(ValueError, match="unknown loss"):
        FastText(loss="black_out")
    with pytest.raises(ValueError, match="hs=1"):
        FastText(loss="nce", hs=1)
    with pytest.raises(TypeError, match="TaggedDocument.*got a list"):
        Doc2Vec([["plain", "words"]], loss="nce", min_count=1)
