"""Faults, interruptions and hostile input never lose a model or corrupt one."""
import _thread
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from gensim.models import Word2Vec as GensimWord2Vec

from blackout_ext.losses import KERNEL_LOSSES
from gensim.models.callbacks import CallbackAny2Vec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blackout_ext import Word2Vec, _inner
from blackout_ext.corpora import LineSentence
from helpers import write_lines

SMALL = dict(vector_size=16, min_count=2, seed=1, epochs=2)


# --------------------------------------------------------------------------------------------
# atomic save

CHILD = r"""
import sys
import numpy as np
from blackout_ext import Word2Vec
model = Word2Vec.load(sys.argv[1])
model.wv.vectors += 1.0
model.syn1neg += 1.0
print("saving", flush=True)
model.save(sys.argv[1])
print("saved", flush=True)
"""


@pytest.fixture(scope="module")
def large_model_path(tmp_path_factory):
    model = Word2Vec(loss="nce", vector_size=200, min_count=1, workers=1)
    model.build_vocab_from_freq({f"w{i}": 5 + i % 7 for i in range(60_000)})
    path = str(tmp_path_factory.mktemp("save") / "big.model")
    model.save(path)
    return path, model


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.3, 0.6])
def test_save_killed_midway_leaves_a_complete_model(large_model_path, delay):
    path, original = large_model_path
    before = Word2Vec.load(path)
    # run outside the source tree, so that the child imports the installed package
    proc = subprocess.Popen([sys.executable, "-c", CHILD, path], stdout=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(path))
    assert proc.stdout.readline().strip() == "saving"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = Word2Vec.load(path)
    # the old model, or the whole new one (every array + 1, in float32): never a mixture
    saved_new = not np.array_equal(after.wv.vectors, before.wv.vectors)
    shift = np.float32(1.0 if saved_new else 0.0)
    np.testing.assert_array_equal(after.wv.vectors, before.wv.vectors + shift)
    np.testing.assert_array_equal(after.syn1neg, before.syn1neg + shift)
    after.save(path)  # and saving again cleans up what the killed save left behind
    stray = [f for f in os.listdir(os.path.dirname(path)) if ".tmp" in f]
    assert not stray
    assert len([f for f in os.listdir(os.path.dirname(path)) if f.endswith(".npy")]) == 2  # vectors, syn1neg


def test_failed_save_keeps_the_previous_model(tmp_path, small_corpus, monkeypatch):
    path = str(tmp_path / "m.model")
    model = Word2Vec(small_corpus, loss="blackout", workers=1, **SMALL)
    model.save(path, sep_limit=0)
    saved = model.wv.vectors.copy()
    model.wv.vectors += 1
    files_before = sorted(os.listdir(tmp_path))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("gensim.utils.pickle", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path, sep_limit=0)
    monkeypatch.undo()
    np.testing.assert_array_equal(Word2Vec.load(path).wv.vectors, saved)
    assert sorted(os.listdir(tmp_path)) == files_before  # nothing half-written left
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]


# --------------------------------------------------------------------------------------------
# corrupt or foreign files

def test_truncated_or_missing_files_are_named(tmp_path, small_corpus):
    path = str(tmp_path / "m.model")
    Word2Vec(small_corpus, loss="nce", workers=1, **SMALL).save(path, sep_limit=0)
    npy = sorted(f for f in os.listdir(tmp_path) if f.endswith("wv.vectors.npy"))[0]
    data = open(tmp_path / npy, "rb").read()
    with open(tmp_path / npy, "wb") as fout:
        fout.write(data[: len(data) // 2])
    with pytest.raises(OSError, match="cannot load model .*m.model.*truncated"):
        Word2Vec.load(path)
    os.unlink(tmp_path / npy)
    with pytest.raises(FileNotFoundError, match=npy.replace(".", r"\.")):
        Word2Vec.load(path)
    main = open(path, "rb").read()
    with open(path, "wb") as fout:
        fout.write(main[: len(main) // 3])
    with pytest.raises(OSError, match="cannot load model"):
        Word2Vec.load(path)
    with pytest.raises(FileNotFoundError, match="no saved model"):
        Word2Vec.load(str(tmp_path / "nothing.model"))


def test_loading_another_kind_of_object_raises_attribute_error(tmp_path, small_corpus):
    """As gensim's Word2Vec.load: a saved KeyedVectors is not a model (AttributeError), named."""
    path = str(tmp_path / "vectors.kv")
    Word2Vec(small_corpus, loss="nce", workers=1, **SMALL).wv.save(path)
    with pytest.raises(AttributeError, match=r"cannot load model .*vectors\.kv.*KeyedVectors"):
        Word2Vec.load(path)


def test_a_gensim_model_loads_and_trains(tmp_path, small_corpus):
    path = str(tmp_path / "gensim.model")
    original = GensimWord2Vec(small_corpus, workers=1, **SMALL)
    original.save(path)
    model = Word2Vec.load(path)
    assert type(model) is Word2Vec and model.loss is None
    np.testing.assert_array_equal(model.wv.vectors, original.wv.vectors)
    model.train(small_corpus, total_examples=len(small_corpus), epochs=1)
    assert np.isfinite(model.wv.vectors).all()
    # an explicit conversion too
    converted = Word2Vec.from_gensim(GensimWord2Vec.load(path))
    assert converted.predict_output_word(["police"], topn=2)


# --------------------------------------------------------------------------------------------
# interrupted training

class Repeated:
    def __init__(self, sentences, times):
        self.sentences, self.times = sentences, times

    def __iter__(self):
        for _ in range(self.times):
            yield from self.sentences


def build_vocab_on(model, sentences, path, tmp_path):
    """Build `model`'s vocabulary from `sentences` on one corpus path; return train()'s corpus arguments."""
    if path == "iterable":
        model.build_vocab(sentences)
        return dict(corpus_iterable=sentences, total_examples=model.corpus_count)
    corpus_file = write_lines(tmp_path / "c.txt", sentences)
    model.build_vocab(corpus_file=corpus_file)
    return dict(corpus_file=corpus_file, total_words=model.corpus_total_words)


def run_with_timeout(target, seconds=60):
    result = {}

    def wrapper():
        try:
            result["value"] = target()
        except BaseException as err:  # noqa: B902
            result["error"] = err
    thread = threading.Thread(target=wrapper, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "training hung"
    return result


@pytest.fixture
def sigint_handled():
    """Python's own Ctrl-C handler, whatever this process inherited: a process started in the
    background by a shell ignores SIGINT, and _thread.interrupt_main() then does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("path", ["iterable", "corpus_file"])
def test_keyboard_interrupt_stops_every_thread(tmp_path, lee_corpus, path, sigint_handled):
    model = Word2Vec(loss="blackout", workers=2, **dict(SMALL, epochs=50))
    kwargs = build_vocab_on(model, Repeated(lee_corpus, 5), path, tmp_path)
    baseline = threading.active_count()
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        model.train(epochs=50, **kwargs)
    timer.join()
    assert threading.active_count() == baseline
    assert np.isfinite(model.wv.vectors).all()
    # the model is intact: save, load, train further
    model.save(str(tmp_path / "m.model"))
    again = Word2Vec.load(str(tmp_path / "m.model"))
    outcome = run_with_timeout(lambda: again.train(lee_corpus, total_examples=len(lee_corpus), epochs=1))
    assert "error" not in outcome and outcome["value"][1] == sum(len(s) for s in lee_corpus)


@pytest.mark.parametrize("path, nth", [("iterable", 1), ("iterable", 2), ("iterable", 3),  # 2 workers, producer
                                       ("corpus_file", 1), ("corpus_file", 2)])             # 2 workers
@pytest.mark.parametrize("spawned", [True, False])
def test_interrupt_inside_thread_start(tmp_path, lee_corpus, monkeypatch, path, spawned, nth):
    # A Ctrl-C can land inside Thread.start(): after the thread was spawned (while start() waits
    # for it to run) or before. Either way train() must raise it with no thread left behind and
    # without hanging. Simulated deterministically on the nth start() of the second epoch.
    n_per_epoch = 3 if path == "iterable" else 2  # starts per epoch
    model = Word2Vec(loss="blackout", workers=2, **dict(SMALL, epochs=2))
    kwargs = build_vocab_on(model, lee_corpus[:100], path, tmp_path)
    original, calls = threading.Thread.start, []

    def start(thread):
        calls.append(thread)
        if len(calls) == n_per_epoch + nth:
            if spawned:
                original(thread)
            raise KeyboardInterrupt
        original(thread)

    def train():
        monkeypatch.setattr(threading.Thread, "start", start)
        try:
            return model.train(epochs=2, **kwargs)
        finally:
            monkeypatch.setattr(threading.Thread, "start", original)

    baseline = threading.active_count()
    outcome = run_with_timeout(train)
    assert isinstance(outcome.get("error"), KeyboardInterrupt), outcome
    assert len(calls) == n_per_epoch + nth
    assert threading.active_count() == baseline
    assert np.isfinite(model.wv.vectors).all()


class Exploding(CallbackAny2Vec):
    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, model):
        self.epochs += 1
        if self.epochs == 2:
            raise ValueError("callback failed")


def test_exception_in_a_callback(small_corpus):
    model = Word2Vec(small_corpus, loss="nce", workers=2, **SMALL)
    baseline = threading.active_count()
    with pytest.raises(ValueError, match="callback failed"):
        model.train(small_corpus, total_examples=len(small_corpus), epochs=4, callbacks=[Exploding()])
    assert threading.active_count() == baseline
    trained, raw = model.train(small_corpus, total_examples=len(small_corpus), epochs=1)
    assert raw == sum(len(s) for s in small_corpus)


class Failing:
    def __init__(self, sentences):
        self.sentences = sentences

    def __iter__(self):
        for i, s in enumerate(self.sentences):
            if i == len(self.sentences) // 2:
                raise ValueError("corpus broke")
            yield s


@pytest.mark.parametrize("loss", ["nce", None])
def test_exception_in_the_corpus_is_raised_not_hung(small_corpus, loss):
    model = Word2Vec(small_corpus, loss=loss, workers=2, **SMALL)
    outcome = run_with_timeout(
        lambda: model.train(Failing(small_corpus), total_examples=len(small_corpus), epochs=1))
    assert isinstance(outcome.get("error"), ValueError)


# --------------------------------------------------------------------------------------------
# hostile corpora, through both paths

token = st.one_of(
    st.sampled_from(["a", "b", "the", "x", "\x00", "é", "zz"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=3),
)
sentences_strategy = st.lists(st.lists(token, max_size=30), min_size=0, max_size=30)


def check_outcome(make, has_words):
    """A corpus with a word trains to small finite weights; one without is the empty-vocabulary error."""
    if not has_words:
        with pytest.raises(RuntimeError, match="the vocabulary is empty: no word of the corpus"):
            make()
        return
    model = make()
    for array in (model.wv.vectors, model.syn1neg):
        assert np.isfinite(array).all() and np.abs(array).max() < 10   # the clamp is at 1e12


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sentences=sentences_strategy, loss=st.sampled_from(KERNEL_LOSSES))
def test_fuzzed_iterables(sentences, loss):
    check_outcome(lambda: Word2Vec(sentences, loss=loss, min_count=1, vector_size=4, workers=2, epochs=1),
                  has_words=any(len(s) for s in sentences))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.binary(max_size=40), max_size=30), loss=st.sampled_from(["nce", "blackout"]))
def test_fuzzed_corpus_files(tmp_path, data, loss):
    path = tmp_path / "fuzz.txt"
    path.write_bytes(b"\n".join(data))
    # what is a word is the reader's rule (a token that is not UTF-8 is skipped)
    has_words = any(len(s) for s in LineSentence(str(path)))
    check_outcome(lambda: Word2Vec(corpus_file=str(path), loss=loss, min_count=1, vector_size=4, workers=2,
                                   epochs=1), has_words=has_words)


@pytest.mark.parametrize("path", ["iterable", "corpus_file"])
def test_extreme_corpora(tmp_path, path):
    rng = np.random.default_rng(0)
    cases = {
        "empty_lines": [[], [], ["a", "b"] * 3, []],
        "only_oov": [["a", "b", "c"]],
        "nul_bytes": [["a\x00b", "c"], ["a\x00b", "c"]],
        "enormous_line": [[f"w{i}" for i in rng.integers(0, 100, size=200_000)]],
        "million_tiny_tokens": [[chr(97 + i) for i in rng.integers(0, 26, size=1_000_000)]],
    }
    for name, sentences in cases.items():
        min_count = 5 if name == "only_oov" else 1
        if path == "iterable":
            make = lambda: Word2Vec(sentences, loss="blackout", min_count=min_count, vector_size=8,  # noqa: E731
                                    workers=2, epochs=1)
        else:
            corpus_file = tmp_path / f"{name}.txt"
            corpus_file.write_text("\n".join(" ".join(s) for s in sentences), encoding="utf8")
            make = lambda: Word2Vec(corpus_file=str(corpus_file), loss="blackout",  # noqa: E731
                                    min_count=min_count, vector_size=8, workers=2, epochs=1)
        outcome = run_with_timeout(make, seconds=120)
        if name == "only_oov":
            assert isinstance(outcome.get("error"), RuntimeError) and "vocabulary is empty" in str(outcome["error"])
        else:
            assert "error" not in outcome, (name, outcome.get("error"))
            assert np.isfinite(outcome["value"].wv.vectors).all()


# --------------------------------------------------------------------------------------------
# numerical faults

@pytest.mark.parametrize("loss", KERNEL_LOSSES)
@pytest.mark.parametrize("case", [
    dict(alpha=10.0, min_alpha=10.0), dict(alpha=1.0, sg=1), dict(ns_exponent=0.0), dict(ns_exponent=1.0),
    dict(vector_size=1), dict(negative=500),
])
def test_numerical_faults_keep_weights_finite(small_corpus, loss, case, caplog):
    """Finite is not enough: the kernels clamp every weight at +-1e12, so a weight at the clamp
    must come with train()'s divergence warning, and a stable setting must stay far below it."""
    params = dict(SMALL, workers=2, compute_loss=True)
    params.update(case)
    with caplog.at_level(logging.WARNING, logger="blackout_ext"):
        model = Word2Vec(small_corpus, loss=loss, **params)
    arrays = [a for a in (model.wv.vectors, model.syn1neg, model.syn1neg_bias) if a is not None]   # ns: no bias
    assert all(np.isfinite(a).all() for a in arrays)
    assert np.isfinite(model.get_latest_training_loss())
    largest = max(float(np.abs(a).max()) for a in arrays)
    warned = "training diverged" in caplog.text
    # the clamp is the float32 nearest 1e12 (999999995904), the kernels' BO_WEIGHT_LIMIT
    assert warned == (largest >= _inner.WEIGHT_LIMIT), (largest, warned)
    if case.get("alpha", 0.025) <= 0.025:
        assert largest < 1e3, largest


@pytest.mark.parametrize("loss", KERNEL_LOSSES)
def test_two_word_vocabulary_and_k_above_it(loss):
    model = Word2Vec([["a", "b"]] * 200, loss=loss, negative=20, min_count=1, sample=0, vector_size=4,
                     workers=2, epochs=3, compute_loss=True)
    assert np.isfinite(model.wv.vectors).all() and np.isfinite(model.syn1neg).all()
    loss_value = model.get_latest_training_loss()
    assert np.isfinite(loss_value) and loss_value > 0


# --------------------------------------------------------------------------------------------
# threads under load

@pytest.mark.parametrize("loss", ["nce", "blackout", "ns", None, "hs"])   # None: gensim's ns
def test_counts_and_loss_with_two_workers(lee_corpus, loss):
    corpus = Repeated(lee_corpus, 3)
    totals = (3 * len(lee_corpus), 3 * sum(len(s) for s in lee_corpus))
    losses = {}
    for workers in (1, 2):
        model = Word2Vec(loss=loss, workers=workers, vector_size=24, min_count=3, seed=1, batch_words=2000)
        model.build_vocab(corpus)
        assert (model.corpus_count, model.corpus_total_words) == totals
        trained, raw = model.train(corpus, total_examples=model.corpus_count, epochs=3, compute_loss=True)
        assert raw == 3 * totals[1]
        losses[workers] = model.get_latest_training_loss()
    assert losses[2] == pytest.approx(losses[1], rel=0.03)


@pytest.mark.parametrize("path", ["iterable", "corpus_file"])
def test_a_worker_that_cannot_get_its_memory(tmp_path, lee_corpus, monkeypatch, path):
    # A worker whose work memory cannot be allocated (a MemoryError for the full softmax of a
    # large vocabulary, say) fails the epoch with that error: it must not die silently and
    # leave the producer waiting on a full queue.
    model = Word2Vec(loss="blackout", workers=2, **dict(SMALL, epochs=1))
    kwargs = build_vocab_on(model, Repeated(lee_corpus, 3), path, tmp_path)
    original, calls = Word2Vec._get_thread_working_mem, []

    def failing(self):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError("no memory for the work buffers")
        return original(self)

    monkeypatch.setattr(Word2Vec, "_get_thread_working_mem", failing)
    baseline = threading.active_count()
    outcome = run_with_timeout(lambda: model.train(epochs=1, **kwargs))
    assert isinstance(outcome.get("error"), MemoryError), outcome
    assert "work buffers" in str(outcome["error"])
    assert threading.active_count() == baseline
    assert np.isfinite(model.wv.vectors).all()
