"""Impossible parameters get a clear exception that names the problem."""
import math

import pytest

from blackout_ext import Word2Vec
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
    (dict(loss="ns", sg=1, shared_samples=True), "shared_samples=True applies to loss in"),
    (dict(loss="softmax", sg=1, shared_samples=True), "shared_samples=True applies to loss in"),
    (dict(sg=1, shared_samples=True), "not loss=None"),
    (dict(loss="blackout", sg=0, shared_samples=True), r"skip-gram \(sg=1\) only"),
    (dict(loss="blackout", sg=1, shared_samples="yes"), "shared_samples must be True or False"),
    (dict(loss="ns", output_bias=True), "output_bias=True applies to loss in"),
    (dict(output_bias=True), "not loss=None"),
    (dict(loss="hs", output_bias=True), "gensim's ns and hs have no output bias"),
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
