"""Anytime evaluation and early stopping, on both corpus paths."""
import numpy as np
import pytest

from blackout_ext import Word2Vec
from blackout_ext.callbacks import EarlyStopping, EpochLoss, Evaluation
from helpers import write_lines

PARAMS = dict(vector_size=24, min_count=3, seed=1, sg=1, window=5, negative=5)


@pytest.fixture(scope="module")
def split(lee_corpus):
    """The Lee corpus: every tenth document held out."""
    train = [s for i, s in enumerate(lee_corpus) if i % 10]
    heldout = [s for i, s in enumerate(lee_corpus) if not i % 10]
    return train, heldout


@pytest.fixture(scope="module")
def train_file(tmp_path_factory, split):
    return write_lines(tmp_path_factory.mktemp("train") / "train.txt", split[0])


@pytest.mark.parametrize("loss", [None, "blackout"])
def test_evaluation_records_each_epoch_without_disturbing_training(split, loss):
    train, heldout = split
    evaluation = Evaluation(heldout=heldout, quality=True)
    model = Word2Vec(train, loss=loss, workers=1, epochs=3, callbacks=[evaluation], **PARAMS)
    plain = Word2Vec(train, loss=loss, workers=1, epochs=3, **PARAMS)
    np.testing.assert_array_equal(model.wv.vectors, plain.wv.vectors)   # evaluation only reads
    np.testing.assert_array_equal(model.syn1neg, plain.syn1neg)
    records = evaluation.records
    assert [r["epoch"] for r in records] == [1.0, 2.0, 3.0]
    assert [r["words"] for r in records] == [i * model.corpus_total_words for i in (1, 2, 3)]
    assert all(r["eval_seconds"] > 0 for r in records)
    assert records[0]["train_seconds"] < records[1]["train_seconds"] < records[2]["train_seconds"]
    assert evaluation.eval_seconds == pytest.approx(sum(r["eval_seconds"] for r in records))
    assert records[-1]["perplexity"] == model.evaluate_log_likelihood(heldout).perplexity
    assert records[0]["perplexity"] > records[-1]["perplexity"]   # it learns
    assert {"simlex999", "wordsim353", "analogy_accuracy", "simlex999_pairs"} <= set(records[-1])


def test_evaluation_every_n_words_evaluates_within_epochs(split):
    train, heldout = split
    evaluation = Evaluation(heldout=heldout, every_words=10_000)
    model = Word2Vec(train, loss="nce", workers=2, epochs=2, batch_words=2000, callbacks=[evaluation], **PARAMS)
    within = [r for r in evaluation.records if r["epoch"] != int(r["epoch"])]
    words = 2 * model.corpus_total_words
    assert len(within) >= words // 10_000 - 2
    assert [r["words"] for r in evaluation.records] == sorted(r["words"] for r in evaluation.records)


def _stopping_run(split, train_file, path, **stopping):
    train, heldout = split
    stopper = EarlyStopping(heldout=heldout, **stopping)
    recorder = EpochLoss()
    # a constant, high learning rate on a small corpus: held-out perplexity is lowest after 1-3
    # epochs, then climbs as the model overfits (measured, seeds 1-3, both paths: from about 640
    # to 880-1010 at epoch 20)
    params = dict(PARAMS, loss="blackout", workers=2, epochs=20, alpha=0.05, min_alpha=0.05, compute_loss=True,
                  callbacks=[stopper, recorder])
    if path == "iterable":
        model = Word2Vec(train, **params)
    else:
        model = Word2Vec(corpus_file=train_file, **params)
    return model, stopper, recorder


@pytest.mark.parametrize("path", ["iterable", "corpus_file"])
def test_early_stopping_stops_a_plateaued_run(split, train_file, tmp_path, path):
    model, stopper, recorder = _stopping_run(split, train_file, path, patience=2, min_delta=0.01)
    assert stopper.stopped_epoch is not None and stopper.stopped_epoch < 20
    epochs_trained = int(stopper.stopped_epoch)
    assert [r["epoch"] for r in stopper.records] == [float(e) for e in range(1, epochs_trained + 1)]
    best = stopper.best["perplexity"]
    assert all(r["perplexity"] > best * (1 - 0.01) for r in stopper.records[-2:])   # the plateau it saw
    assert stopper.best["epoch"] == epochs_trained - 2
    assert len(recorder.cumulative) == epochs_trained   # the skipped epochs reach no callback
    assert model.train_count == 1 and not model.stop_training
    # the model saves, loads and trains on
    model.save(str(tmp_path / "m.model"))
    loaded = Word2Vec.load(str(tmp_path / "m.model"))
    trained, raw = loaded.train(split[0], total_examples=loaded.corpus_count, epochs=1)
    assert raw == loaded.corpus_total_words and not np.array_equal(loaded.wv.vectors, model.wv.vectors)


def test_early_stopping_can_restore_the_best_weights(split, train_file):
    model, stopper, _ = _stopping_run(split, train_file, "iterable", patience=2, min_delta=0.01,
                                      restore_best=True)
    assert stopper.stopped_epoch is not None
    assert model.evaluate_log_likelihood(split[1]).perplexity == stopper.best["perplexity"]


def test_early_stopping_on_a_quality_metric_runs_to_the_end_while_it_improves(split):
    train, _ = split
    stopper = EarlyStopping(metric="wordsim353", patience=50)
    Word2Vec(train, loss="blackout", workers=1, epochs=3, callbacks=[stopper], **PARAMS)
    assert stopper.stopped_epoch is None and len(stopper.records) == 3


@pytest.mark.parametrize("make, message", [
    (lambda: Evaluation(), "needs heldout= text or quality=True"),
    (lambda: Evaluation(quality=True, every_words=0), "every_words must be a positive integer"),
    (lambda: EarlyStopping(), "metric='perplexity' needs heldout= text"),
    (lambda: EarlyStopping(metric="bleu", heldout=[["a"]]), "unknown metric 'bleu'"),
    (lambda: EarlyStopping(heldout=[["a"]], patience=0), "patience must be an integer >= 1, got 0"),
    (lambda: EarlyStopping(heldout=[["a"]], min_delta=float("nan")), "min_delta must be a finite number >= 0"),
])
def test_bad_callback_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()
