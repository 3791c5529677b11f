"""One registry per fact: the loss table and the output arrays' registry drive everything else.

A new sampled loss is one row of ``losses.LOSS_TABLE``, one ``gammas_<name>`` in
``_loss_steps.pxi`` and one reference in ``tests/reference.py``; a new per-word output array is
one entry of ``output_arrays.OUTPUT_ARRAYS``. These tests check that what is derived from them
(the kernel's enum and dispatch, docstrings, help texts, the README's table, and the arrays'
life cycle) follows, for the real registries and for a toy entry.
"""
import dataclasses
import os
import re

import numpy as np
import pytest

from blackout_ext import Doc2Vec, FastText, Word2Vec, _inner, distributed, losses, output_arrays
from blackout_ext.cli import build_parser
from blackout_ext.losses import LOSS_TABLE, Loss, kernel_sources

README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def test_the_kernel_enum_is_the_table():
    assert {m.name: int(m) for m in _inner.LossMode} == {
        spec.enum_name: spec.kernel_code for spec in LOSS_TABLE if spec.kernel_code}


def test_a_toy_loss_row_generates_its_enum_entry_and_dispatch():
    toy = Loss("toy", 7, summary="a toy")
    sources = kernel_sources(LOSS_TABLE + (toy,))
    assert "    LOSS_TOY = 7" in sources["_loss_codes.pxi"].splitlines()
    dispatch = sources["_loss_dispatch.pxi"]
    assert "    if loss == LOSS_TOY:\n        return gammas_toy" in dispatch
    # the dense and tree steps have no gammas function; every sampled kernel loss has one
    sampled = [spec.name for spec in LOSS_TABLE if spec.kernel_code and spec.step == "sampled"]
    assert sorted(re.findall(r"return gammas_(\w+)", dispatch)) == sorted(sampled + ["toy"])


def test_two_losses_with_one_code_are_refused():
    clash = Loss("clash", LOSS_TABLE[-1].code)
    with pytest.raises(ValueError, match="two losses one kernel code"):
        kernel_sources(LOSS_TABLE + (clash,))


def test_an_unknown_step_is_refused():
    with pytest.raises(ValueError, match="step must be one of"):
        Loss("bad", 9, step="sparse")


def test_the_docstrings_name_every_loss_and_keep_no_placeholder():
    for doc in (Word2Vec.__init__.__doc__, FastText.__init__.__doc__, Doc2Vec.__init__.__doc__):
        choices = re.search(r"loss : (\{.*\}), optional", doc).group(1)
        assert choices == "{" + ", ".join(["None"] + [repr(spec.name) for spec in LOSS_TABLE]) + "}"
        assert "$" not in doc
    for spec in LOSS_TABLE:
        assert f"* ``{spec.name!r}``: {spec.summary}." in Word2Vec.__init__.__doc__


def test_a_toy_loss_reaches_the_docstrings(monkeypatch):
    toy = Loss("toy", 7, shared_samples=True, output_bias=True, tuned_defaults=True, summary="a toy loss")
    table = LOSS_TABLE + (toy,)
    monkeypatch.setattr(losses, "LOSS_TABLE", table)
    monkeypatch.setattr(losses, "LOSSES", tuple(spec.name for spec in table))
    monkeypatch.setattr(losses, "KERNEL_LOSSES", tuple(spec.name for spec in table if spec.own_kernel))
    monkeypatch.setattr(losses, "SHARED_SAMPLE_LOSSES", tuple(spec.name for spec in table if spec.shared_samples))
    monkeypatch.setattr(losses, "BIAS_LOSSES", tuple(spec.name for spec in table if spec.output_bias))
    text = losses.fill_docs("loss : $loss_choices\n    $loss_items\n$shared_losses; $bias_losses; $tuned_losses")
    assert "'toy'}" in text and "* ``'toy'``: a toy loss." in text
    assert text.splitlines()[-1].count("``'toy'``") == 3


def test_the_cli_help_names_every_loss(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for spec in LOSS_TABLE:
        assert f"{spec.name}: {' '.join(spec.summary.split())}" in out


def test_the_readme_table_is_the_loss_table():
    with open(README, encoding="utf8") as fin:
        text = fin.read()
    assert losses.markdown_table() in text, "rewrite it: python -m blackout_ext.losses --readme README.md"
    rows = re.findall(r'^\| `"(\w+)"` \|', text, flags=re.M)
    assert rows == [spec.name for spec in LOSS_TABLE]


def test_a_toy_loss_reaches_the_readme_table(tmp_path):
    toy = Loss("toy", 7, summary="a toy loss")
    readme = tmp_path / "README.md"
    readme.write_text("intro\n" + losses.markdown_table() + "\noutro\n", encoding="utf8")
    assert losses.rewrite_readme(str(readme), LOSS_TABLE + (toy,))
    lines = readme.read_text(encoding="utf8").splitlines()
    assert lines[0] == "intro" and lines[-1] == "outro"
    assert '| `"toy"` | a toy loss | O(k d) |' in lines


# ------------------------------------------------------------------------------------------------
# the output arrays

def test_the_registry_is_what_the_models_hold(small_corpus):
    model = Word2Vec(small_corpus, loss="nce", nce_normalizer="learned", vector_size=8, min_count=3, epochs=1,
                     workers=1)
    for array in output_arrays.OUTPUT_ARRAYS:
        assert array.present(model)
        assert getattr(model, array.name).dtype == array.dtype and len(getattr(model, array.name)) == len(model.wv)
    plain = Word2Vec(small_corpus, vector_size=8, min_count=3, epochs=1, workers=1)
    assert all(getattr(plain, array.name) is None for array in output_arrays.OUTPUT_ARRAYS)


TOY = output_arrays.OutputArray(
    "toy_rows", np.float64, present=lambda model: getattr(model, "loss", None) == "blackout",
    start=lambda model: np.arange(len(model.wv), dtype=np.float64) + 0.5, summary="a toy per-word array")


@pytest.fixture
def toy_array(monkeypatch):
    monkeypatch.setattr(output_arrays, "OUTPUT_ARRAYS", output_arrays.OUTPUT_ARRAYS + (TOY,))
    monkeypatch.setattr(output_arrays, "OUTPUT_ARRAY", dict(output_arrays.OUTPUT_ARRAY, toy_rows=TOY))
    return TOY


def test_a_toy_array_is_one_registry_entry(toy_array, small_corpus, lee_corpus, tmp_path):
    params = dict(loss="blackout", vector_size=8, min_count=3, epochs=1, workers=1, seed=1)
    model = Word2Vec(small_corpus, **params)
    n = len(model.wv)
    assert np.array_equal(model.toy_rows, np.arange(n) + 0.5)                       # started
    assert ("toy_rows", model.toy_rows) in model._trainable_arrays()                 # checked for mmap
    assert model.estimate_memory()["toy_rows"] == n * 8                              # counted
    assert "toy_rows" in dict(distributed.trained_arrays(model))                     # shipped
    model.toy_rows[:] = -1.0
    model.build_vocab(lee_corpus[60:120], update=True)                               # grown
    assert len(model.toy_rows) == len(model.wv) > n
    assert np.all(model.toy_rows[:n] == -1.0) and np.array_equal(model.toy_rows[n:], np.arange(n, len(model.wv)) + 0.5)
    model.save(str(tmp_path / "m"))                                                  # saved
    assert np.array_equal(Word2Vec.load(str(tmp_path / "m")).toy_rows, model.toy_rows)
    del model.toy_rows
    model.train(small_corpus, total_examples=len(small_corpus), epochs=1)            # rebuilt before training
    assert len(model.toy_rows) == len(model.wv)
    assert Word2Vec(small_corpus, **dict(params, loss="nce")).toy_rows is None       # absent


def test_an_unsaved_array_is_not_pickled(monkeypatch, small_corpus, tmp_path):
    unsaved = dataclasses.replace(TOY, saved=False)
    monkeypatch.setattr(output_arrays, "OUTPUT_ARRAYS", output_arrays.OUTPUT_ARRAYS + (unsaved,))
    model = Word2Vec(small_corpus, loss="blackout", vector_size=8, min_count=3, epochs=1, workers=1)
    model.save(str(tmp_path / "m"))
    assert Word2Vec.load(str(tmp_path / "m")).toy_rows is None
