"""Data-parallel training on a Dask cluster: a LocalCluster of 2 worker processes on 127.0.0.1."""
import gzip
import os
import signal
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="the [distributed] extra is part of [test]")

import cloudpickle  # noqa: E402  (comes with distributed)

from blackout_ext import KERNEL_LOSSES, Word2Vec  # noqa: E402
from blackout_ext import distributed as bo_distributed  # noqa: E402
from blackout_ext.corpora import LineSentence  # noqa: E402
from helpers import partner_ranks, write_lines  # noqa: E402

# the kill hook below runs in the workers, which cannot import this file: ship it by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

PARAMS = dict(vector_size=24, min_count=3, seed=3, negative=5, sample=1e-3)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, worker_dashboard_address=None)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture(scope="module")
def shards(tmp_path_factory, lee_corpus):
    """The Lee corpus in 4 shards of unequal sizes, two of them gzipped."""
    folder = tmp_path_factory.mktemp("shards")
    bounds = [0, 50, 130, 210, len(lee_corpus)]
    paths = []
    for i in range(4):
        part = lee_corpus[bounds[i]:bounds[i + 1]]
        if i % 2:
            paths.append(write_lines(folder / f"part-{i}.txt.gz", part, gzip.open))
        else:
            paths.append(write_lines(folder / f"part-{i}.txt", part))
    return paths


def one_machine(shards, **kwargs):
    """The reference: one machine's build_vocab over the shards concatenated."""
    model = Word2Vec(**dict(PARAMS, **kwargs))
    model.build_vocab([s for path in shards for s in LineSentence(path)])
    return model


def test_vocabulary_and_counts_equal_one_machine(client, shards):
    model = bo_distributed.train(shards, client, loss="nce", epochs=2, sync_words=20_000, **PARAMS)
    reference = one_machine(shards, loss="nce")
    assert model.wv.index_to_key == reference.wv.index_to_key
    np.testing.assert_array_equal(model.wv.expandos["count"], reference.wv.expandos["count"])
    np.testing.assert_array_equal(model.noise_logq, reference.noise_logq)
    assert (model.corpus_count, model.corpus_total_words) == (reference.corpus_count, reference.corpus_total_words)
    report = model.distributed_report
    # every word read exactly once per epoch, in 3 synchronisations per epoch
    assert report.raw_words == 2 * reference.corpus_total_words
    assert report.rounds_per_epoch == 3 and report.done_rounds == 6 and len(report.rounds) == 6
    assert all(r["bytes_returned"] > 0 and r["bytes_broadcast"] > 0 for r in report.rounds)


@pytest.mark.parametrize("loss", ["ns", "hs"] + list(KERNEL_LOSSES))
def test_every_loss_trains(client, shards, loss):
    extra = dict(loss=None, hs=1, negative=0) if loss == "hs" else dict(loss=loss)
    model = bo_distributed.train(shards[:2], client, epochs=1, sync_words=5_000, compute_loss=True,
                                 **dict(PARAMS, **extra))
    untrained = one_machine(shards[:2], **extra)
    for name, array in bo_distributed.trained_arrays(model):
        assert np.isfinite(array).all(), name
        assert np.abs(array).max() < 100, name   # far from the kernels' clamp at 1e12
        assert not np.array_equal(array, dict(bo_distributed.trained_arrays(untrained))[name]), name
    # the same objective, over the same words, as one machine trains it: the loss agrees
    single = one_machine(shards[:2], compute_loss=True, epochs=1, workers=1, **extra)
    single.train([s for path in shards[:2] for s in LineSentence(path)], total_examples=single.corpus_count,
                 epochs=1, compute_loss=True)
    assert model.get_latest_training_loss() == pytest.approx(single.get_latest_training_loss(), rel=0.25)


def test_quality_near_one_machine(client, shards, lee_corpus):
    """Same epochs: the averaged model's neighbours are about as good as one machine's."""
    ranks = []
    for seed in (1, 2):
        params = dict(PARAMS, loss="blackout", epochs=10, seed=seed)
        model = bo_distributed.train(shards, client, sync_words=10_000, **params)
        single = Word2Vec(lee_corpus, workers=1, **params)
        ranks.append((np.median(partner_ranks(model)), np.median(partner_ranks(single))))
    distributed_rank, single_rank = np.mean(ranks, axis=0)
    # random vectors would give a median rank of about 800 here
    assert distributed_rank < max(1.5 * single_rank, 40), ranks


def _kill_on_second_slice():
    """Installed in one worker: its second training task dies midway, as a lost machine would."""
    original = bo_distributed._read_slice
    calls = []

    def read_then_die(*args):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args)

    bo_distributed._read_slice = read_then_die


def test_survives_a_worker_killed_mid_training(client, shards):
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    client.run(_kill_on_second_slice, workers=[victim])
    model = bo_distributed.train(shards, client, loss="blackout", epochs=2, sync_words=10_000, **PARAMS)
    client.wait_for_workers(2)
    assert sorted(client.run(os.getpid).values()) != sorted(pids.values())   # a worker process was replaced
    reference = one_machine(shards, loss="blackout")
    np.testing.assert_array_equal(model.wv.expandos["count"], reference.wv.expandos["count"])
    assert model.distributed_report.raw_words == 2 * reference.corpus_total_words
    for name, array in bo_distributed.trained_arrays(model):
        assert np.isfinite(array).all(), name


class DriverCrash(Exception):
    pass


def test_resume_from_checkpoint_is_bit_identical(client, shards, tmp_path):
    params = dict(PARAMS, loss="nce", epochs=2, sync_words=15_000)
    whole = bo_distributed.train(shards, client, **params)
    path = str(tmp_path / "run.model")

    def crash_after_three(model, report):
        if report.done_rounds == 3:
            raise DriverCrash

    with pytest.raises(DriverCrash):
        bo_distributed.train(shards, client, checkpoint=path, on_sync=crash_after_three, **params)
    assert Word2Vec.load(path).distributed_report.done_rounds == 3
    with pytest.raises(ValueError, match="epochs=2"):
        bo_distributed.train(shards, client, checkpoint=path, resume=True, **dict(params, epochs=3))
    with pytest.raises(ValueError, match="other shards"):
        bo_distributed.train(shards[:3], client, checkpoint=path, resume=True, **params)
    resumed = bo_distributed.train(shards, client, checkpoint=path, resume=True, **params)
    assert resumed.distributed_report.done_rounds == whole.distributed_report.done_rounds
    assert resumed.distributed_report.raw_words == whole.distributed_report.raw_words
    for (name, a), (_, b) in zip(bo_distributed.trained_arrays(resumed), bo_distributed.trained_arrays(whole)):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_bad_arguments_are_named(client, shards, tmp_path):
    with pytest.raises(ValueError, match="corpus_files"):
        bo_distributed.train([], client)
    with pytest.raises(ValueError, match="corpus_files"):
        bo_distributed.train(shards[0], client)
    with pytest.raises(TypeError, match="sentences"):
        bo_distributed.train(shards, client, sentences=[["a"]])
    with pytest.raises(TypeError, match="Client"):
        bo_distributed.train(shards, None)
    with pytest.raises(ValueError, match="sync_words"):
        bo_distributed.train(shards, client, sync_words=0)
    with pytest.raises(ValueError, match="combine"):
        bo_distributed.train(shards, client, combine="median")
    missing = str(tmp_path / "nowhere.txt")
    with pytest.raises(RuntimeError, match="nowhere.txt"):
        bo_distributed.train([shards[0], missing], client, **PARAMS)
    with pytest.raises(ValueError, match="unknown loss 'nope'; choose one of 'ns', 'hs'"):
        bo_distributed.train(shards, client, loss="nope")
    with pytest.raises(ValueError, match="checkpoint"):
        bo_distributed.train(shards, client, resume=True)


def test_combine_rows_sums_or_averages_the_tasks_changes():
    """Rows changed by several tasks get the sum (or the mean) of the changes; others are untouched."""
    model = Word2Vec(vector_size=2, min_count=1, loss="nce", negative=2, seed=1)
    model.build_vocab([["a", "b", "c", "d"]])
    start = {name: array.copy() for name, array in bo_distributed.trained_arrays(model)}
    v = start["vectors"]

    def task(rows, values):
        result = {name: (np.zeros(0, dtype=np.int64), array[:0]) for name, array in start.items()}
        result["vectors"] = (np.array(rows), np.array(values, dtype=np.float32))
        return dict(rows=result)

    first = task([0, 1], [v[0] + 1.0, v[1] + 2.0])
    second = task([1, 2], [v[1] + 4.0, v[2] - 1.0])
    for rule, row1 in (("sum", 6.0), ("mean", 3.0)):
        for name, array in bo_distributed.trained_arrays(model):
            array[...] = start[name]
        update = bo_distributed.combine_rows(model, [first, second], rule)
        np.testing.assert_allclose(model.wv.vectors - v, [[1, 1], [row1, row1], [-1, -1], [0, 0]], rtol=1e-6)
        assert list(update["vectors"][0]) == [0, 1, 2] and len(update["syn1neg"][0]) == 0
        np.testing.assert_array_equal(update["vectors"][1], model.wv.vectors[[0, 1, 2]])
