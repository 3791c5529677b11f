"""The CLI and the example scripts, end to end on a tiny corpus, in a temporary directory."""
import csv
import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from helpers import write_lines

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory, lee_corpus):
    return write_lines(tmp_path_factory.mktemp("corpus") / "tiny.txt.gz", lee_corpus[:40], gzip.open)


def run(args, cwd):
    return subprocess.run([sys.executable] + args, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_compare_example_writes_table_and_plots(tmp_path, tiny_corpus):
    out = tmp_path / "results"
    proc = run([os.path.join(ROOT, "examples", "compare_modes.py"), tiny_corpus, "--out", str(out), "--quiet",
                "--size", "16", "--epochs", "2", "--min-count", "2", "--workers", "2", "--softmax-fraction", "0.5"],
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    from blackout_ext import LOSSES
    rows = list(csv.DictReader(open(out / "comparison.csv")))
    assert [r["mode"] for r in rows] == list(LOSSES)
    assert all(float(r["words_per_second"]) > 0 for r in rows)
    assert float(rows[0]["speed_vs_ns"]) == 1.0
    assert all(float(r["heldout_perplexity"]) > 1 for r in rows)
    # the full softmax trained on half the sentences, and says so
    assert [float(r["corpus_fraction"]) for r in rows] == [0.5 if r["mode"] == "softmax" else 1.0 for r in rows]
    assert "softmax [50.0% slice]" in proc.stdout
    # 40 short documents cover few evaluation pairs: the figures print as n/a, with the counts
    assert "n/a" in proc.stdout and "in the vocabulary: simlex999 " in proc.stdout
    assert all(int(r["simlex999_pairs"]) < 100 for r in rows)
    def no_constant(name):
        raise AssertionError(f"comparison.json holds {name}, which strict JSON parsers reject")
    data = json.loads((out / "comparison.json").read_text(), parse_constant=no_constant)
    assert len(data) == len(LOSSES) and all(len(r["epoch_losses"]) == 2 for r in data)
    assert all(r["refind_rate"] is None for r in data)   # not a Doc2Vec run: null, not NaN
    # each mode's anytime curve: one evaluation per epoch, its own time left out of the training time
    for r in data:
        assert [c["epoch"] for c in r["curve"]] == [1.0, 2.0]
        assert 0 < r["curve"][0]["train_seconds"] < r["curve"][1]["train_seconds"] <= r["train_seconds"] * 1.01
        assert r["curve"][-1]["perplexity"] == pytest.approx(r["heldout_perplexity"])
    assert "to ns quality s" in proc.stdout and "Q at ns time" in proc.stdout
    (sliced,) = [r for r in data if r["corpus_fraction"] < 1.0]
    assert sliced["quality_at_ns_time"] is None and sliced["seconds_to_ns_quality"] is None
    # every file follows the umask, as the plots do (mkstemp made the others 0600)
    umask = os.umask(0)
    os.umask(umask)
    modes = {name: os.stat(out / name).st_mode & 0o777 for name in os.listdir(out)}
    assert set(modes.values()) == {0o666 & ~umask}, modes
    for name in ("loss_per_epoch.png", "quality_vs_time.png"):
        with open(out / name, "rb") as fin:
            assert fin.read(8) == PNG_MAGIC
        assert f"wrote {out / name}" in proc.stdout
    report = (out / "report.md").read_text()
    assert "![quality_vs_time.png](quality_vs_time.png)" in report and "| mode |" in report
    assert "trained on the first 50.0% of the sentences" in report and "gensim " in report
    assert "| own loss |" in report and "compares a mode with itself across runs, never with another" in report
    assert "Negative sampling (`ns`) does not train a normalised model" in report
    assert "each mode at its own defaults for alpha and shared_samples" in report


def test_train_then_evaluate(tmp_path, tiny_corpus):
    proc = run(["-m", "blackout_ext", "train", tiny_corpus, "--loss", "nce", "--size", "16", "--epochs", "2",
                "--min-count", "2", "--shared-samples", "--save", "m.model", "--vectors", "v.txt", "--quiet"],
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "v.txt") as fin:
        vocab, dim = map(int, fin.readline().split())
    assert dim == 16 and vocab > 50
    proc = run(["-m", "blackout_ext", "evaluate", "m.model", "--heldout", tiny_corpus, "--quiet"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "held-out perplexity" in proc.stdout and "simlex999" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["train", "missing.txt"], "corpus not found: missing.txt"),
    (["train", "--loss", "blackhole"], "unknown loss 'blackhole'"),
    (["compare", "--modes", "ns,zzz"], "unknown mode 'zzz'"),
    (["compare", "--softmax-fraction", "0"], "--softmax-fraction must be in (0, 1], got 0.0"),
    (["evaluate", "nope.model"], "model not found: nope.model"),
    (["train", "--negative", "0", "--loss", "nce"], "negative >= 1"),
    (["train", "--shared-samples", "--sg", "0"], "skip-gram (sg=1) only"),
    (["train", "--windows-per-draw", "1"], "an int >= 2 (windows per draw), got 1"),
    (["train", "--windows-per-draw", "4", "--no-shared-samples"], "--windows-per-draw 4 contradicts --no-shared-samples"),
    (["train", "--workers", "0"], "workers must be an integer >= 1, got 0"),
    (["compare", "--workers", "0"], "workers must be an integer >= 1, got 0"),
    (["train", "--alpha", "nan"], "alpha must be a finite number >= 0, got nan"),
    (["compare", "--alpha", "-1"], "alpha must be a finite number >= 0, got -1.0"),
    (["train", "--sample", "nan"], "--sample must be in [0, 1), got nan"),
    (["train", "--ns-exponent", "inf"], "ns_exponent must be a finite number"),
    (["train", "--size", "0"], "--size must be >= 1, got 0"),
    (["train", "--corpus-file", "."], "--corpus-file . is a folder, not a file"),
    (["train", "."], "corpus . is a folder, not a file"),
])
def test_bad_arguments_give_one_line(tmp_path, monkeypatch, capfd, args, message):
    """In this process, through ``cli.main`` (the test below runs the command as a user does)."""
    from blackout_ext import cli

    monkeypatch.chdir(tmp_path)
    try:
        code = cli.main(args + ["--quiet"])
    except SystemExit as exit:   # argparse's own errors
        code = exit.code
    stderr = capfd.readouterr().err
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in stderr


@pytest.mark.parametrize("args, message", [
    (["train", "missing.txt"], "corpus not found: missing.txt"),   # the package's own check
    (["train", "--loss", "blackhole"], "unknown loss 'blackhole'"),
])
def test_bad_arguments_give_one_line_from_the_command(tmp_path, args, message):
    proc = run(["-m", "blackout_ext"] + args + ["--quiet"], cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def truncated_corpus(tmp_path_factory, lee_corpus):
    path = write_lines(tmp_path_factory.mktemp("cut") / "whole.txt.gz", lee_corpus[:200], gzip.open)
    data = open(path, "rb").read()
    cut = os.path.join(os.path.dirname(path), "cut.txt.gz")
    with open(cut, "wb") as fout:
        fout.write(data[:len(data) // 2])
    return cut


@pytest.mark.parametrize("command", ["train", "compare", "evaluate"])
def test_a_truncated_gz_is_one_line(tmp_path, tiny_corpus, truncated_corpus, command):
    if command == "evaluate":
        proc = run(["-m", "blackout_ext", "train", tiny_corpus, "--size", "8", "--epochs", "1", "--min-count", "2",
                    "--save", "m.model", "--quiet"], cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        args = ["evaluate", "m.model", "--heldout", truncated_corpus]
    else:
        args = [command, truncated_corpus, "--size", "8"]
    proc = run(["-m", "blackout_ext"] + args + ["--quiet"], cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"corpus {truncated_corpus} is truncated" in lines[0]


def test_train_help_names_the_default_corpus(tmp_path):
    proc = run(["-m", "blackout_ext", "train", "--help"], cwd=tmp_path)
    assert proc.returncode == 0 and "the embedded WordNet glosses" in " ".join(proc.stdout.split())


def test_evaluate_prints_na_below_the_comparisons_counts(tmp_path, tiny_corpus):
    """evaluate and compare use one rule: a figure on fewer than 100 pairs (300 questions) is n/a."""
    proc = run(["-m", "blackout_ext", "train", tiny_corpus, "--size", "8", "--epochs", "1", "--min-count", "2",
                "--save", "m.model", "--quiet"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = run(["-m", "blackout_ext", "evaluate", "m.model", "--quiet"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = {line.split(":")[0]: line for line in proc.stdout.splitlines() if ": " in line}
    for name in ("simlex999", "wordsim353", "analogy_accuracy"):
        assert lines[name].startswith(f"{name}: n/a (on "), lines[name]


def test_vocab_scaling_example(tmp_path):
    modes = ["ns", "hs", "nce", "blackout+shared", "softmax"]
    proc = run([os.path.join(ROOT, "examples", "vocab_scaling.py"), "--vocab", "200,800", "--words", "4000",
                "--modes", ",".join(modes), "--large-k", "20", "--large-k-words", "1000", "--size", "8",
                "--softmax-max-vocab", "300", "--softmax-budget", "1e7", "--out", str(tmp_path)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(open(tmp_path / "vocab_scaling.csv")))
    measured = [(r["mode"], r["k"], int(r["vocab_size"])) for r in rows if r["extrapolated"] == "False"]
    # every mode at k=5 and each sampled one at the large k, at both sizes; the softmax only where allowed
    expected = [(m, "" if m in ("hs", "softmax") else "5", v) for m in modes for v in (200, 800)
                if not (m == "softmax" and v > 300)]
    expected += [(m, "20", v) for m in ("ns", "nce", "blackout+shared") for v in (200, 800)]
    assert sorted(measured) == sorted(expected)
    assert all(float(r["us_per_word"]) > 0 for r in rows)
    # beyond --softmax-max-vocab the softmax is extrapolated, linearly in |V|
    (guess,) = [r for r in rows if r["extrapolated"] == "True"]
    (at_200,) = [r for r in rows if r["mode"] == "softmax" and r["vocab_size"] == "200"]
    assert (guess["mode"], guess["vocab_size"]) == ("softmax", "800")
    assert float(guess["us_per_word"]) == pytest.approx(4 * float(at_200["us_per_word"]))
    report = (tmp_path / "vocab_scaling.md").read_text()
    assert "speed-up over softmax at 800" in report and "nce k=20" in report
    with open(tmp_path / "vocab_scaling.png", "rb") as fin:
        assert fin.read(8) == PNG_MAGIC


def test_compare_takes_shared_sample_modes(lee_corpus):
    from blackout_ext.compare import compare_modes
    results = compare_modes(lee_corpus[:60], modes=["blackout+shared"], vector_size=16, min_count=2, epochs=2,
                            workers=1, sg=1)
    assert [r.mode for r in results] == ["ns", "blackout+shared"]
    assert results[1].speed_vs_ns > 0 and len(results[1].epoch_losses) == 2
    assert results[1].epoch_losses[-1] < results[1].epoch_losses[0]
    with pytest.raises(ValueError, match="unknown mode.*'hs\\+shared'"):
        compare_modes(lee_corpus[:60], modes=["hs+shared"])


@pytest.mark.parametrize("model, extra", [("fasttext", ["--bucket", "20000"]), ("doc2vec", ["--sg", "1"])])
def test_train_and_evaluate_the_other_models(tmp_path, tiny_corpus, model, extra):
    proc = run(["-m", "blackout_ext", "train", tiny_corpus, "--model", model, "--loss", "blackout", "--size", "16",
                "--epochs", "2", "--min-count", "2", "--save", "m.model", "--quiet"] + extra, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith({"fasttext": "FastText<", "doc2vec": "Doc2Vec<"}[model])
    proc = run(["-m", "blackout_ext", "evaluate", "m.model", "--heldout", tiny_corpus, "--quiet"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "held-out perplexity" in proc.stdout


def test_compare_doc2vec_reports_the_refind_rate(lee_corpus):
    from blackout_ext.compare import compare_modes
    from blackout_ext.report import format_table
    results = compare_modes(lee_corpus[:200], modes=["nce"], heldout=lee_corpus[200:230], model="doc2vec",
                            vector_size=16, min_count=2, epochs=5, workers=1, sg=1)
    assert [r.mode for r in results] == ["ns", "nce"]
    # chance is 1/200; measured: ns 0.30, nce 0.55 (5 epochs of 16 dimensions)
    assert all(0.2 < r.refind_rate <= 1.0 for r in results), [r.refind_rate for r in results]
    assert all(r.heldout_perplexity > 1 for r in results)
    assert "re-find" in format_table(results)


def test_compare_fasttext(lee_corpus):
    from blackout_ext.compare import compare_modes
    from blackout_ext.report import format_table
    results = compare_modes(lee_corpus[:100], modes=["blackout"], model="fasttext", vector_size=16, min_count=2,
                            epochs=2, workers=1, sg=1, bucket=20000)
    assert [r.mode for r in results] == ["ns", "blackout"]
    # the baseline is gensim's kernel, which computes no loss (n/a); the new loss reports its own
    assert results[0].final_epoch_loss != results[0].final_epoch_loss and results[1].final_epoch_loss > 0
    assert format_table(results).splitlines()[2].split()[4] == "n/a"
    assert results[1].refind_rate != results[1].refind_rate   # nan: not a Doc2Vec
    with pytest.raises(ValueError, match="unknown model 'glove'"):
        compare_modes(lee_corpus[:10], model="glove")


def test_doc2vec_defaults_to_gensims_ten_epochs():
    from blackout_ext.cli import _training_params, build_parser
    parse = build_parser().parse_args
    assert _training_params(parse(["compare", "--model", "doc2vec"]))["epochs"] == 10
    assert _training_params(parse(["compare"]))["epochs"] == 3
    assert _training_params(parse(["train", "--model", "fasttext"]))["epochs"] == 5
    assert _training_params(parse(["compare", "--model", "doc2vec", "--epochs", "4"]))["epochs"] == 4


def _result(mode, seconds, curve):
    from blackout_ext.compare import ModeResult
    final = curve[-1]
    return ModeResult(mode=mode, train_seconds=seconds, words_per_second=1.0, speed_vs_ns=1.0,
                      final_epoch_loss=1.0, heldout_perplexity=final.get("perplexity", float("nan")),
                      **{k: final[k] for k in ("simlex999", "wordsim353", "analogy_accuracy", "simlex999_pairs",
                                               "wordsim353_pairs", "analogy_questions")}, curve=curve)


def _record(seconds, simlex, wordsim, analogy, pairs=500, questions=1000):
    return dict(train_seconds=seconds, simlex999=simlex, wordsim353=wordsim, analogy_accuracy=analogy,
                simlex999_pairs=pairs, wordsim353_pairs=pairs, analogy_questions=questions)


def test_time_to_quality_is_the_first_evaluation_at_ns_final_quality():
    from blackout_ext.compare import add_time_to_quality, relative_quality
    ns = _result("ns", 9.0, [_record(3, 0.1, 0.2, 0.05), _record(6, 0.15, 0.3, 0.08), _record(9, 0.2, 0.4, 0.1)])
    fast = _result("blackout", 4.0, [_record(1, 0.1, 0.3, 0.06), _record(2, 0.2, 0.4, 0.1), _record(4, 0.3, 0.5, 0.1)])
    slow = _result("nce", 12.0, [_record(4, 0.1, 0.2, 0.05), _record(8, 0.12, 0.25, 0.06), _record(12, 0.15, 0.3, 0.08)])
    assert relative_quality(_record(0, 0.1, 0.2, 0.05), _record(0, 0.2, 0.4, 0.1)) == pytest.approx(0.5)
    add_time_to_quality([ns, fast, slow])
    assert ns.seconds_to_ns_quality == 9 and ns.quality_at_ns_time == pytest.approx(1.0)
    assert fast.seconds_to_ns_quality == 2
    assert fast.quality_at_ns_time == pytest.approx((1.5 + 1.25 + 1.0) / 3)
    assert slow.seconds_to_ns_quality != slow.seconds_to_ns_quality   # never reached: nan, printed n/a
    assert slow.quality_at_ns_time == pytest.approx((0.12 / 0.2 + 0.25 / 0.4 + 0.06 / 0.1) / 3)


def test_time_to_quality_leaves_out_sets_with_too_few_pairs():
    from blackout_ext.compare import relative_quality
    reference = _record(0, 0.2, 0.4, 0.1, pairs=50, questions=1000)   # the similarity sets are n/a
    assert relative_quality(_record(0, 0.9, 0.9, 0.05), reference) == pytest.approx(0.5)
    assert relative_quality(_record(0, 0.9, 0.9, 0.05), _record(0, 0.2, 0.4, 0.1, pairs=50, questions=10)) is None


def test_train_with_windows_per_draw(tmp_path, monkeypatch, tiny_corpus):
    from blackout_ext import Word2Vec, cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", tiny_corpus, "--sg", "0", "--windows-per-draw", "4", "--size", "16", "--epochs", "1",
                     "--min-count", "2", "--save", "m.model", "--quiet"]) == 0
    model = Word2Vec.load(str(tmp_path / "m.model"))
    assert (model.shared_samples, model.sg, model.loss) == (4, 0, "blackout")
    assert np.isfinite(model.wv.vectors).all()
