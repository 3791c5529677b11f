"""Data-parallel training on a Dask cluster: a LocalCluster of 2 worker processes on 127.0.0.1."""
import gzip
import os
import signal
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="the [distributed] extra is part of [test]")

import cloudpickle  # noqa: E402  (comes with distributed)

from gensim.models.doc2vec import TaggedDocument  # noqa: E402

from blackout_ext import KERNEL_LOSSES, Doc2Vec, FastText, Word2Vec  # noqa: E402
from blackout_ext import distributed as bo_distributed  # noqa: E402
from blackout_ext.corpora import LineSentence  # noqa: E402
from helpers import partner_ranks, refind_rate, write_lines  # noqa: E402

# the kill hook below runs in the workers, which cannot import this file: ship it by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

PARAMS = dict(vector_size=24, min_count=3, seed=3, negative=5, sample=1e-3)
MODEL_PARAMS = {Word2Vec: {}, FastText: dict(bucket=4000, min_n=3, max_n=5), Doc2Vec: dict(dm=0, dbow_words=1)}
"""Each model's parameters beside PARAMS: a small bucket matrix, and Doc2Vec training word vectors too."""


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


def shard_documents(shards):
    """The shards concatenated as one machine's corpus_file reads them for Doc2Vec: a document
    per line, tagged by its line number."""
    documents = []
    for path in shards:
        with (gzip.open if path.endswith(".gz") else open)(path, "rt", encoding="utf8") as fin:
            documents += [TaggedDocument(line.split(), [len(documents) + i]) for i, line in enumerate(fin)]
    return documents


@pytest.fixture(scope="module")
def concatenated(tmp_path_factory, shards):
    """The shards concatenated into one plain file, for one machine's corpus_file."""
    path = tmp_path_factory.mktemp("one") / "all.txt"
    with open(path, "w", encoding="utf8") as fout:
        for shard in shards:
            with (gzip.open if shard.endswith(".gz") else open)(shard, "rt", encoding="utf8") as fin:
                fout.write(fin.read())
    return str(path)


def shard_corpus(shards, model_class=Word2Vec):
    if model_class is Doc2Vec:
        return shard_documents(shards)
    return [s for path in shards for s in LineSentence(path)]


def one_machine(shards, model_class=Word2Vec, **kwargs):
    """The reference: one machine's build_vocab over the shards concatenated."""
    model = model_class(**{**PARAMS, **MODEL_PARAMS[model_class], **kwargs})
    model.build_vocab(shard_corpus(shards, model_class))
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


@pytest.mark.parametrize("model_class", [FastText, Doc2Vec])
def test_fasttext_and_doc2vec_vocabulary_and_tags_equal_one_machine(client, shards, concatenated, model_class):
    params = dict(PARAMS, **MODEL_PARAMS[model_class], loss="blackout", epochs=2)
    rounds = []

    def watch(model, report):   # which rows of the document vectors each round changed
        rounds.append(model.dv.vectors.copy() if model_class is Doc2Vec else None)

    model = bo_distributed.train(shards, client, model=model_class, sync_words=20_000, on_sync=watch, **params)
    reference = model_class(**params)
    reference.build_vocab(corpus_file=concatenated)
    assert type(model) is model_class
    assert model.wv.index_to_key == reference.wv.index_to_key
    np.testing.assert_array_equal(model.wv.expandos["count"], reference.wv.expandos["count"])
    assert (model.corpus_count, model.corpus_total_words) == (reference.corpus_count, reference.corpus_total_words)
    report = model.distributed_report
    assert report.raw_words == 2 * reference.corpus_total_words and report.tasks == 2
    for r in report.rounds:
        assert r["bytes_returned"] == sum(r["bytes_returned_by_array"].values())
        assert r["bytes_broadcast"] == sum(r["bytes_broadcast_by_array"].values())
    if model_class is FastText:
        assert len(model.wv.buckets_word) == len(reference.wv.buckets_word)
        assert all(np.array_equal(a, b) for a, b in zip(model.wv.buckets_word, reference.wv.buckets_word))
        # only the bucket rows a round's words touch travel, not the bucket matrix
        assert all(0 < r["rows"]["wv.vectors_ngrams"] < model.wv.bucket for r in report.rounds)
        assert all(r["bytes_returned_by_array"]["wv.vectors_ngrams"] > 0 for r in report.rounds)
        # wv.vectors is recomposed from what was trained, as gensim's FastText leaves it
        vectors = model.wv.vectors.copy()
        model.wv.adjust_vectors()
        np.testing.assert_array_equal(vectors, model.wv.vectors)
        assert np.isfinite(model.wv["distributedly"]).all() and np.abs(model.wv["distributedly"]).max() > 0
    else:
        # every line a document, tagged by its line number over the shards in order
        assert model.dv.index_to_key == reference.dv.index_to_key == list(range(reference.corpus_count))
        assert len(model.dv.vectors) == reference.corpus_count
        # a round changes only the vectors of the documents of its slices: each its shard's task's
        n, bounds = report.rounds_per_epoch, np.concatenate([[0], np.cumsum(report.shard_sentences)])
        before = one_machine(shards, Doc2Vec, **dict(params, epochs=2)).dv.vectors   # the same start
        for done, after in enumerate(rounds):
            round_ = done % n
            allowed = np.zeros(len(after), dtype=bool)
            for i, count in enumerate(report.shard_sentences):
                allowed[bounds[i] + count * round_ // n:bounds[i] + count * (round_ + 1) // n] = True
            changed = (after != before).any(axis=1)
            assert changed.any() and not (changed & ~allowed).any(), done
            before = after
        assert np.isfinite(model.infer_vector(["the", "government", "said"])).all()
        result = model.evaluate_log_likelihood(shard_documents(shards)[:5])
        # better than uniform over the vocabulary
        assert result.n_predictions > 0 and np.isfinite(result.perplexity) and result.perplexity < len(model.wv)


@pytest.mark.parametrize("model_class", [Word2Vec, FastText, Doc2Vec])
@pytest.mark.parametrize("loss", [None, "hs"] + list(KERNEL_LOSSES))   # None: gensim's ns
def test_every_loss_trains(client, shards, loss, model_class):
    extra = dict(loss=None, hs=1, negative=0) if loss == "hs" else dict(loss=loss)
    extra.update(MODEL_PARAMS[model_class])
    model = bo_distributed.train(shards[:2], client, model=model_class, epochs=1, sync_words=5_000, compute_loss=True,
                                 **dict(PARAMS, **extra))
    untrained = one_machine(shards[:2], model_class, **extra)
    for name, array in bo_distributed.trained_arrays(model):
        assert np.isfinite(array).all(), name
        assert np.abs(array).max() < 100, name   # far from the kernels' clamp at 1e12
        assert not np.array_equal(array, dict(bo_distributed.trained_arrays(untrained))[name]), name
    if model_class is not Word2Vec and loss in (None, "hs"):
        return   # gensim's FastText and Doc2Vec kernels compute no loss
    # the same objective, over the same words, as one machine trains it: the loss agrees
    single = one_machine(shards[:2], model_class, compute_loss=True, epochs=1, workers=1, **extra)
    single.train(shard_corpus(shards[:2], model_class), total_examples=single.corpus_count, epochs=1,
                 compute_loss=True)
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


@pytest.mark.slow
def test_fasttext_and_doc2vec_quality_near_one_machine(client, shards, lee_corpus):
    """Same epochs, two seeds: FastText's neighbours and Doc2Vec's re-find rate are at least
    about 0.9x one machine's."""
    ranks, refound = [], []
    documents = shard_documents(shards)
    for seed in (1, 2):
        params = dict(PARAMS, loss="blackout", epochs=10, seed=seed)
        ft = dict(params, **MODEL_PARAMS[FastText])
        model = bo_distributed.train(shards, client, model=FastText, sync_words=10_000, **ft)
        single = FastText(lee_corpus, workers=1, **ft)
        ranks.append((np.median(partner_ranks(model)), np.median(partner_ranks(single))))
        d2v = dict(params, **MODEL_PARAMS[Doc2Vec], epochs=20)
        model = bo_distributed.train(shards, client, model=Doc2Vec, sync_words=10_000, **d2v)
        single = Doc2Vec(documents, workers=1, **d2v)
        refound.append((refind_rate(model, documents), refind_rate(single, documents)))
    distributed_rank, single_rank = np.mean(ranks, axis=0)
    assert distributed_rank < max(1.5 * single_rank, 40), ranks
    distributed_refound, single_refound = np.mean(refound, axis=0)
    assert distributed_refound >= 0.9 * single_refound - 0.05, refound


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


@pytest.mark.parametrize("model_class", [Word2Vec, FastText, Doc2Vec])
def test_survives_a_worker_killed_mid_training(client, shards, model_class):
    client.wait_for_workers(2, timeout=120)
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    client.run(_kill_on_second_slice, workers=[victim])
    model = bo_distributed.train(shards, client, model=model_class, loss="blackout", epochs=2, sync_words=10_000,
                                 tasks=2, **PARAMS, **MODEL_PARAMS[model_class])
    client.wait_for_workers(2, timeout=120)
    assert sorted(client.run(os.getpid).values()) != sorted(pids.values())   # a worker process was replaced
    reference = one_machine(shards, model_class, loss="blackout")
    np.testing.assert_array_equal(model.wv.expandos["count"], reference.wv.expandos["count"])
    report = model.distributed_report
    assert report.raw_words == 2 * reference.corpus_total_words
    # each round read each shard's slice once: the words of one machine's pass, per epoch
    assert sum(r["words"] for r in report.rounds[:report.rounds_per_epoch]) == reference.corpus_total_words
    if model_class is Doc2Vec:
        assert model.dv.index_to_key == list(range(reference.corpus_count))
    for name, array in bo_distributed.trained_arrays(model):
        assert np.isfinite(array).all(), name


class DriverCrash(Exception):
    pass


@pytest.mark.parametrize("model_class", [Word2Vec, FastText, Doc2Vec])
def test_resume_from_checkpoint_is_bit_identical(client, shards, tmp_path, model_class):
    # tasks= fixes the work's decomposition, whatever the workers when each run starts
    params = dict(PARAMS, **MODEL_PARAMS[model_class], loss="nce", epochs=2, sync_words=15_000, tasks=2,
                  model=model_class)
    whole = bo_distributed.train(shards, client, **params)
    path = str(tmp_path / "run.model")

    def crash_after_three(model, report):
        if report.done_rounds == 3:
            raise DriverCrash

    with pytest.raises(DriverCrash):
        bo_distributed.train(shards, client, checkpoint=path, on_sync=crash_after_three, **params)
    assert model_class.load(path).distributed_report.done_rounds == 3
    with pytest.raises(ValueError, match="epochs=2"):
        bo_distributed.train(shards, client, checkpoint=path, resume=True, **dict(params, epochs=3))
    with pytest.raises(ValueError, match="other shards"):
        bo_distributed.train(shards[:3], client, checkpoint=path, resume=True, **params)
    with pytest.raises(ValueError, match="tasks=2, not 1"):
        bo_distributed.train(shards, client, checkpoint=path, resume=True, **dict(params, tasks=1))
    resumed = bo_distributed.train(shards, client, checkpoint=path, resume=True, **params)
    assert type(resumed) is model_class
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
    from gensim.models import Word2Vec as GensimWord2Vec
    for bad in (GensimWord2Vec, "FastText", Word2Vec(vector_size=4)):
        with pytest.raises(TypeError, match="model must be one of blackout_ext's Word2Vec, FastText, Doc2Vec"):
            bo_distributed.train(shards, client, model=bad)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="tasks must be a positive int"):
            bo_distributed.train(shards, client, tasks=bad)
    with pytest.raises(TypeError, match="documents"):
        bo_distributed.train(shards, client, model=Doc2Vec, documents=[TaggedDocument(["a"], [0])])


def test_combine_rows_sums_or_averages_the_tasks_changes():
    """Rows changed by several tasks get the sum (or the mean) of the changes; others are untouched."""
    model = Word2Vec(vector_size=2, min_count=1, loss="nce", negative=2, seed=1)
    model.build_vocab([["a", "b", "c", "d"]])
    start = {name: array.copy() for name, array in bo_distributed.trained_arrays(model)}
    v = start["wv.vectors"]

    def task(rows, values):
        result = {name: (np.zeros(0, dtype=np.int64), array[:0]) for name, array in start.items()}
        result["wv.vectors"] = (np.array(rows), np.array(values, dtype=np.float32))
        return dict(rows=result)

    first = task([0, 1], [v[0] + 1.0, v[1] + 2.0])
    second = task([1, 2], [v[1] + 4.0, v[2] - 1.0])
    for rule, row1 in (("sum", 6.0), ("mean", 3.0)):
        for name, array in bo_distributed.trained_arrays(model):
            array[...] = start[name]
        update = bo_distributed.combine_rows(model, [first, second], rule)
        np.testing.assert_allclose(model.wv.vectors - v, [[1, 1], [row1, row1], [-1, -1], [0, 0]], rtol=1e-6)
        assert list(update["wv.vectors"][0]) == [0, 1, 2] and len(update["syn1neg"][0]) == 0
        np.testing.assert_array_equal(update["wv.vectors"][1], model.wv.vectors[[0, 1, 2]])


@pytest.mark.parametrize("documents", [False, True])
def test_a_plain_shard_is_counted_as_a_compressed_one(tmp_path, documents, caplog):
    """count_shard counts a plain shard in C and a .gz one in Python: the same counts in the same
    order, sentences (a line longer than gensim's 10,000 words is two sentences, but one document),
    words, and one warning for a token that is not valid UTF-8."""
    lines = [b"b a b c", b"", b"d " * 10_500 + b"e", b"caf\xc3\xa9 bad\xff a", b"  a  ", b"z"]   # no final newline
    plain = tmp_path / "shard.txt"
    plain.write_bytes(b"\n".join(lines))
    packed = tmp_path / "shard.txt.gz"
    with gzip.open(packed, "wb") as fout:
        fout.write(b"\n".join(lines))
    with caplog.at_level("WARNING", logger="blackout_ext"):
        in_c = bo_distributed.count_shard(str(plain), documents)
        in_python = bo_distributed.count_shard(str(packed), documents)
    assert list(in_c[0].items()) == list(in_python[0].items())
    assert list(in_c[0]) == ["b", "a", "c", "d", "e", "café", "z"] and in_c[0]["d"] == 10_500
    assert in_c[1:] == in_python[1:] == ((6 if documents else 7), 10_509)   # bad\xff is skipped
    assert sum("not valid UTF-8" in r.getMessage() for r in caplog.records) == 2   # once per shard


def test_a_slice_read_ahead_is_the_slice_read_now(tmp_path, lee_corpus):
    """_prefetch reads the next round's slices in the background; _read_slice then takes them,
    and a slice other than the one read ahead is read anew, from the shard's start if need be."""
    path = write_lines(tmp_path / "shard.txt", lee_corpus[:40])
    sentences = list(LineSentence(path))
    bo_distributed._prefetch("ahead", [(path, 0, 10, None)])
    assert bo_distributed._read_slice("ahead", path, 0, 10) == sentences[0:10]
    bo_distributed._prefetch("ahead", [(path, 10, 20, None)])
    assert bo_distributed._read_slice("ahead", path, 5, 15) == sentences[5:15]   # not the slice read ahead
    bo_distributed._prefetch("ahead", [(path, 15, 25, 100)])   # Doc2Vec: tagged by global line number
    documents = bo_distributed._read_slice("ahead", path, 15, 25, 100)
    assert [d.words for d in documents] == sentences[15:25] and documents[0].tags == [115]
    assert not [key for key in bo_distributed._PREFETCHED if key[0] == "ahead"]
    bo_distributed._prefetch("ahead", [(str(tmp_path / "missing.txt"), 0, 5, None)])   # fails in the background
    with pytest.raises(OSError):   # and again, in the open, when the task asks for it
        bo_distributed._read_slice("ahead", str(tmp_path / "missing.txt"), 0, 5)
