"""The text writer of the models' vectors: gensim's file, byte for byte, written in C.

Each float32's text is checked against ``str(numpy.float32)`` (what gensim writes) over random
bit patterns and the values where shortest-decimal algorithms go wrong (powers of two and ten and
their neighbours, the positional/scientific bounds); each file against gensim's own writer with
every option. Run under gensim 4.3 too, whose writer uses ``repr`` with numpy 1.x.
"""
import copy
import filecmp
import inspect
import logging
import pickle

import numpy as np
import pytest
from gensim.models import word2vec as gensim_word2vec
from gensim.models.doc2vec import TaggedDocument
from gensim.models.fasttext import FastTextKeyedVectors as GensimFastTextKeyedVectors
from gensim.models.keyedvectors import KeyedVectors as GensimKeyedVectors
from gensim.test.utils import common_texts

from blackout_ext import Doc2Vec, FastText, Word2Vec, _text, keyedvectors


def hard_floats():
    """Random bit patterns, and the values next to powers of two and of ten, and to 1e-4 and 1e6."""
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, size=300_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    with np.errstate(over="ignore"):
        powers = np.concatenate([2.0 ** np.arange(-149, 128), 10.0 ** np.arange(-45, 39)]).astype(np.float32)
    powers = powers[np.isfinite(powers) & (powers > 0)]
    near = [powers, np.nextafter(powers, np.float32(np.inf)), np.nextafter(powers, np.float32(0))]
    for bound in (1e-4, 1e6, 2.0**24):
        centre = np.array(bound, dtype=np.float32).view(np.uint32)
        near.append((centre + np.arange(-500, 500, dtype=np.int64)).astype(np.uint32).view(np.float32))
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, 0.5, 3.0, 999999.94, 1e16], dtype=np.float32)
    values = np.concatenate([bits] + near + [specials])
    return np.concatenate([values, -values])


def test_every_float32_text_is_numpys():
    values = hard_floats()
    texts = _text.rows_text(values.reshape(1, -1), np.zeros(1, dtype=np.int64))[0].split(b" ")
    assert len(texts) == len(values)
    wrong = [(float(x), text) for x, text in zip(values, texts) if text != str(x).encode()]
    assert wrong == []
    assert [_text.float32_text(x) for x in values[-12:]] == [str(x).encode() for x in values[-12:]]


def test_rows_text_names_a_row_out_of_range():
    with pytest.raises(IndexError, match="row 3 is not in the 2 rows"):
        _text.rows_text(np.zeros((2, 4), dtype=np.float32), np.array([0, 3], dtype=np.int64))


def same_bytes_as_gensim(kv, tmp_path, **kwargs):
    ours, theirs = tmp_path / "ours.txt", tmp_path / "gensim.txt"
    if kwargs.get("append"):
        ours.write_bytes(b"already here\n")
        theirs.write_bytes(b"already here\n")
    vocab = {}
    if "fvocab" in kwargs:
        vocab = {"ours": str(tmp_path / "ours.vocab"), "gensim": str(tmp_path / "gensim.vocab")}
    kv.save_word2vec_format(str(ours), **dict(kwargs, **({"fvocab": vocab["ours"]} if vocab else {})))
    kwargs_gensim = dict(kwargs, **({"fvocab": vocab["gensim"]} if vocab else {}))
    GensimKeyedVectors.save_word2vec_format(kv, str(theirs), **kwargs_gensim)
    assert ours.read_bytes() == theirs.read_bytes()
    if vocab:
        assert filecmp.cmp(vocab["ours"], vocab["gensim"], shallow=False)
    return ours.read_bytes()


@pytest.fixture(scope="module")
def word2vec():
    return Word2Vec(common_texts, min_count=1, vector_size=16, loss="blackout", negative=3, epochs=2, seed=1)


@pytest.mark.parametrize("kwargs", [
    {},
    {"prefix": "w_", "total_vec": 100},
    {"write_header": False},
    {"append": True},
    {"fvocab": True},
    {"binary": True},
], ids=["defaults", "prefix-total_vec", "no-header", "append", "fvocab", "binary"])
def test_word2vec_vectors_file_is_gensims(word2vec, tmp_path, kwargs):
    assert type(word2vec.wv) is keyedvectors.KeyedVectors
    text = same_bytes_as_gensim(word2vec.wv, tmp_path, **kwargs)
    if not kwargs:
        loaded = GensimKeyedVectors.load_word2vec_format(str(tmp_path / "ours.txt"))
        assert loaded.index_to_key == word2vec.wv.index_to_key   # most frequent first
        np.testing.assert_array_equal(loaded.vectors, word2vec.wv.vectors)   # exact: shortest round trip
        assert text.startswith(f"{len(word2vec.wv)} 16\n".encode())


def test_fasttext_and_doc2vec_vectors_files_are_gensims(tmp_path):
    ft = FastText(common_texts, min_count=1, vector_size=8, epochs=1, seed=1)
    assert type(ft.wv) is keyedvectors.FastTextKeyedVectors
    same_bytes_as_gensim(ft.wv, tmp_path)
    plain = [TaggedDocument(words, [i]) for i, words in enumerate(common_texts)]
    named = [TaggedDocument(words, [f"doc{i}"]) for i, words in enumerate(common_texts)]
    for documents in (plain, named):
        d2v = Doc2Vec(documents, min_count=1, vector_size=8, epochs=1, seed=1)
        assert type(d2v.dv) is keyedvectors.KeyedVectors and type(d2v.wv) is keyedvectors.KeyedVectors
        same_bytes_as_gensim(d2v.dv, tmp_path)


def test_vectors_without_counts_and_float64_vectors_are_written_as_gensim(tmp_path, caplog):
    kv = keyedvectors.adopted(GensimKeyedVectors(3))
    kv.add_vectors(["a", "b", "c"], np.array([[0.1, -2.5e-7, 3], [1e6, 0, -0.0], [1e-4, 7, 8]], dtype=np.float32))
    with caplog.at_level(logging.WARNING, logger="blackout_ext.keyedvectors"):
        same_bytes_as_gensim(kv, tmp_path)
    assert "attribute count not present" in caplog.text
    with pytest.raises(ValueError, match="Cannot store vocabulary with 'count'"):
        kv.save_word2vec_format(str(tmp_path / "v.txt"), fvocab=str(tmp_path / "v.vocab"))
    wide = keyedvectors.adopted(GensimKeyedVectors(2, dtype=np.float64))
    wide.add_vectors(["x"], np.array([[0.1, 1 / 3]]))
    same_bytes_as_gensim(wide, tmp_path)


def test_the_writer_takes_gensims_parameters():
    ours = inspect.signature(keyedvectors.KeyedVectors.save_word2vec_format).parameters
    assert list(ours.items()) == list(inspect.signature(GensimKeyedVectors.save_word2vec_format).parameters.items())


def test_saved_vectors_are_gensims_class_and_loaded_models_get_the_writer(word2vec, tmp_path):
    pickled = pickle.dumps(word2vec.wv, protocol=pickle.HIGHEST_PROTOCOL)
    assert b"blackout_ext" not in pickled   # gensim alone loads a saved KeyedVectors
    assert type(pickle.loads(pickled)) is GensimKeyedVectors
    word2vec.wv.save(str(tmp_path / "kv"))
    loaded = GensimKeyedVectors.load(str(tmp_path / "kv"))
    assert type(loaded) is GensimKeyedVectors
    np.testing.assert_array_equal(loaded.vectors, word2vec.wv.vectors)
    word2vec.save(str(tmp_path / "model"))
    assert type(Word2Vec.load(str(tmp_path / "model")).wv) is keyedvectors.KeyedVectors
    gensim_model = gensim_word2vec.Word2Vec(common_texts, min_count=1, vector_size=8, epochs=1)
    gensim_model.save(str(tmp_path / "gensim-model"))
    assert type(Word2Vec.load(str(tmp_path / "gensim-model")).wv) is keyedvectors.KeyedVectors
    ft = FastText(common_texts, min_count=1, vector_size=8, epochs=1)
    ft.save(str(tmp_path / "ft"))
    again = FastText.load(str(tmp_path / "ft"))
    assert type(again.wv) is keyedvectors.FastTextKeyedVectors
    np.testing.assert_array_equal(again.wv["unseen-word"], ft.wv["unseen-word"])


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copied_and_unpickled_models_keep_the_writer(word2vec, tmp_path, how):
    # copy.deepcopy and pickle.loads restore a model's attributes without __setattr__ or load()
    copy_of = copy.deepcopy if how == "deepcopy" else lambda m: pickle.loads(pickle.dumps(m))
    ft = FastText(common_texts, min_count=1, vector_size=8, epochs=1, loss="blackout")
    docs = [TaggedDocument(words, [i]) for i, words in enumerate(common_texts)]
    d2v = Doc2Vec(docs, min_count=1, vector_size=8, epochs=1, loss="blackout")
    expected = {(word2vec, "wv"): keyedvectors.KeyedVectors, (ft, "wv"): keyedvectors.FastTextKeyedVectors,
                (d2v, "wv"): keyedvectors.KeyedVectors, (d2v, "dv"): keyedvectors.KeyedVectors}
    copies = {}
    for (model, name), cls in expected.items():
        copied = copies.setdefault(id(model), copy_of(model))
        assert type(copied) is type(model)
        assert type(getattr(copied, name)) is cls, (type(model).__name__, name)
        np.testing.assert_array_equal(getattr(copied, name).vectors, getattr(model, name).vectors)
    copied = copies[id(word2vec)]
    copied.wv.save_word2vec_format(str(tmp_path / "copy.txt"))
    word2vec.wv.save_word2vec_format(str(tmp_path / "original.txt"))
    assert filecmp.cmp(tmp_path / "copy.txt", tmp_path / "original.txt", shallow=False)
    copied.train(common_texts, total_examples=len(common_texts), epochs=1)   # the copy trains on its own
    assert not np.array_equal(copied.wv.vectors, word2vec.wv.vectors)


def test_only_gensims_own_classes_are_adopted():
    class Other(GensimKeyedVectors):
        pass

    other = Other(4)
    assert type(keyedvectors.adopted(other)) is Other
    assert type(keyedvectors.adopted(GensimFastTextKeyedVectors(4, 1, 2, 10))) is keyedvectors.FastTextKeyedVectors
