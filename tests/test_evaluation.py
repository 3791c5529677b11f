"""Exact held-out log-likelihood and prediction, against a plain NumPy loop over the same
predictions, for the three models."""
import math

import numpy as np
import pytest
from gensim.models import Word2Vec as GensimWord2Vec
from gensim.models.doc2vec import TaggedDocument

from blackout_ext import Doc2Vec, FastText, Word2Vec
from blackout_ext.losses import BIAS_LOSSES, LOSS_SPECS, LOSS_TABLE

COMMON = dict(vector_size=16, min_count=3, seed=1, workers=1, epochs=2)
ARCH = {"sg": dict(sg=1), "cbow_mean": dict(sg=0, cbow_mean=1), "cbow_sum": dict(sg=0, cbow_mean=0)}
# every loss of the table, and each with a learned normaliser (nce_learned)
MODES = {spec.name: dict(loss=spec.name) for spec in LOSS_TABLE}
MODES.update({f"{spec.name}_learned": dict(loss=spec.name, nce_normalizer="learned")
              for spec in LOSS_TABLE if spec.learned_normalizer})


def reference_log_probs(model, sentences):
    """One prediction at a time, written from the definitions."""
    syn0 = model.wv.vectors.astype(np.float64)
    hs = model.loss == "hs"
    bias = model.syn1neg_bias.astype(np.float64) if model.output_bias else 0.0
    out = []

    def log_p(h, target):
        if hs:
            codes = model.wv.get_vecattr(target, "code")
            points = model.wv.get_vecattr(target, "point")
            f = model.syn1[points].astype(np.float64) @ h
            return float(np.sum(-np.logaddexp(0.0, -(1.0 - 2.0 * codes) * f)))
        s = model.syn1neg.astype(np.float64) @ h + bias
        return float(s[target] - np.log(np.sum(np.exp(s - s.max()))) - s.max())

    for sentence in sentences:
        idx = [model.wv.key_to_index[w] for w in sentence if w in model.wv.key_to_index]
        for i in range(len(idx)):
            lo, hi = max(0, i - model.window), min(len(idx), i + model.window + 1)
            context = [idx[j] for j in range(lo, hi) if j != i]
            if not context:
                continue
            if model.sg:
                out.extend(log_p(syn0[idx[i]], t) for t in context)
            else:
                h = syn0[context].sum(axis=0)
                if model.cbow_mean:
                    h /= len(context)
                out.append(log_p(h, idx[i]))
    return np.array(out)


@pytest.mark.parametrize("arch", sorted(ARCH))
@pytest.mark.parametrize("mode", sorted(MODES))
def test_matches_numpy_reference(small_corpus, lee_corpus, mode, arch):
    model = Word2Vec(small_corpus, **MODES[mode], **ARCH[arch], **COMMON)
    held_out = lee_corpus[200:206]
    result = model.evaluate_log_likelihood(held_out, batch_contexts=50)
    expected = reference_log_probs(model, held_out)
    assert result.n_predictions == len(expected)
    assert result.mean_log_prob == pytest.approx(expected.mean(), rel=1e-5)
    assert result.perplexity == pytest.approx(math.exp(-expected.mean()), rel=1e-5)
    assert (result.nce_log_partition_mean is not None) == LOSS_SPECS[MODES[mode]["loss"]].learned_normalizer


def test_nce_self_normalisation_diagnostics(small_corpus, lee_corpus):
    model = Word2Vec(small_corpus, loss="nce", nce_normalizer="learned", **COMMON)
    held_out = lee_corpus[200:203]
    result = model.evaluate_log_likelihood(held_out)
    syn0, syn1 = model.wv.vectors.astype(np.float64), model.syn1neg.astype(np.float64)
    bias, window = model.syn1neg_bias.astype(np.float64), model.window
    partitions, self_norm = [], []
    for sentence in held_out:
        idx = [model.wv.key_to_index[w] for w in sentence if w in model.wv.key_to_index]
        for i in range(len(idx)):
            context = [idx[j] for j in range(max(0, i - window), min(len(idx), i + window + 1)) if j != i]
            if not context:
                continue
            c = model.nce_log_z[context].mean()
            h = syn0[context].mean(axis=0)
            s = syn1 @ h + bias
            partitions.append(np.log(np.exp(s).sum()) - c)
            self_norm.append(s[idx[i]] - c)
    assert result.nce_log_partition_mean == pytest.approx(np.mean(partitions), rel=1e-5)
    assert result.nce_log_partition_std == pytest.approx(np.std(partitions), rel=1e-4, abs=1e-6)
    assert result.nce_mean_self_normalized_log_prob == pytest.approx(np.mean(self_norm), rel=1e-5)


def test_uniform_model_gives_log_vocabulary(small_corpus, lee_corpus):
    model = Word2Vec(small_corpus, loss="softmax", **COMMON)
    model.syn1neg[:] = 0.0
    model.syn1neg_bias[:] = 0.0
    result = model.evaluate_log_likelihood(lee_corpus[200:220])
    assert result.mean_log_prob == pytest.approx(-math.log(len(model.wv)), rel=1e-7)
    assert result.perplexity == pytest.approx(len(model.wv), rel=1e-7)


@pytest.mark.parametrize("loss", BIAS_LOSSES)
def test_untrained_model_is_the_unigram_model(lee_corpus, loss):
    """syn1neg starts at zero and the output bias at log(count / total): before training, every
    context predicts the unigram distribution, normalised (log sum_w exp(s_w) = 0)."""
    train, held_out = lee_corpus[:250], lee_corpus[250:]
    model = Word2Vec(vector_size=16, min_count=3, seed=1, workers=1, loss=loss, sg=1)
    model.build_vocab(train)
    counts = np.array([model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key], dtype=np.float64)
    log_unigram = np.log(counts / counts.sum())
    np.testing.assert_allclose(model.syn1neg_bias, log_unigram, rtol=1e-6, atol=1e-6)
    result = model.evaluate_log_likelihood(held_out)
    targets = [model.wv.get_index(w) for s in held_out for w in s if w in model.wv]
    assert result.n_predictions > 1000
    # sg predicts every in-vocabulary word of a window: the unigram log-likelihood of those targets
    assert result.mean_log_prob > -math.log(len(model.wv))
    assert abs(result.mean_log_prob - log_unigram[targets].mean()) < 0.1
    if loss == "nce":
        assert abs(result.nce_log_partition_mean) < 1e-4


@pytest.mark.parametrize("output_bias", [False, None], ids=["no-bias", "bias"])
def test_training_lowers_held_out_perplexity(lee_corpus, output_bias):
    train, held_out = lee_corpus[:250], lee_corpus[250:]
    # sample=0: training then sees the distribution that evaluation scores (subsampling would
    # teach the bias a flatter unigram distribution than the raw text's)
    model = Word2Vec(vector_size=24, min_count=3, seed=1, workers=2, loss="softmax", sg=0, alpha=0.05,
                     output_bias=output_bias, sample=0)
    model.build_vocab(train)
    untrained = model.evaluate_log_likelihood(held_out)
    model.train(train, total_examples=len(train), epochs=5)
    trained = model.evaluate_log_likelihood(held_out)
    if output_bias is False:
        assert untrained.perplexity == pytest.approx(len(model.wv), rel=1e-6)  # syn1neg starts at zero
        assert trained.perplexity < 0.6 * untrained.perplexity
    else:
        # the unigram model is the start, and the context then explains more
        assert untrained.perplexity < 0.5 * len(model.wv)
        assert trained.perplexity < 0.95 * untrained.perplexity


def test_hs_agrees_with_gensim_score(small_corpus):
    """gensim's score() uses lookup tables and skips |f| >= 6; compare where it does not clip."""
    model = Word2Vec(small_corpus, loss="hs", sg=1, vector_size=16, min_count=3, seed=1, workers=1, epochs=3)
    words = model.wv.index_to_key[:40]
    rng = np.random.default_rng(0)
    pairs = [[words[a], words[b]] for a, b in rng.integers(0, 40, size=(60, 2)) if a != b]
    ours, theirs = [], []
    gensim_scores = GensimWord2Vec.score(model, pairs, total_sentences=len(pairs))
    for pair, score in zip(pairs, gensim_scores):
        a, b = (model.wv.get_index(w) for w in pair)
        clipped = False
        for inp, tgt in ((a, b), (b, a)):
            f = model.syn1[model.wv.get_vecattr(tgt, "point")] @ model.wv.vectors[inp]
            clipped |= bool(np.any(np.abs(f) >= 6.0))
        if clipped:
            continue
        ours.append(model.evaluate_log_likelihood([pair]).total_log_prob)
        theirs.append(score)
    assert len(ours) > 30
    # gensim's table index is (f + 6) * (1000 / 6 / 2) in integer arithmetic, i.e. * 83 instead
    # of * 83.3: a bias of about 2% on each node, always towards lower scores
    relative = (np.array(ours) - np.array(theirs)) / np.abs(theirs)
    assert np.all(np.abs(relative) < 0.03)
    assert abs(np.median(relative)) < 0.025


def test_bad_input_is_a_clear_error(small_corpus):
    model = Word2Vec(small_corpus, loss="blackout", **COMMON)
    with pytest.raises(ValueError, match="nothing to evaluate"):
        model.evaluate_log_likelihood([])
    with pytest.raises(ValueError, match="nothing to evaluate"):
        model.evaluate_log_likelihood([["zzzq", "qqqz"], ["police"]])
    del model.syn1neg
    with pytest.raises(RuntimeError, match="no syn1neg"):
        model.evaluate_log_likelihood(small_corpus[:2])


@pytest.mark.parametrize("mode", sorted(MODES))
def test_predict_output_word_for_every_mode(small_corpus, mode):
    model = Word2Vec(small_corpus, **MODES[mode], **COMMON)
    predictions = model.predict_output_word(["police", "said"], topn=len(model.wv))
    probs = np.array([p for _, p in predictions])
    assert np.isfinite(probs).all()
    assert probs.sum() == pytest.approx(1.0, rel=1e-6)

# ---------------------------------------------------------------------------------------------
# FastText and Doc2Vec: prediction and held-out likelihood, exactly


def test_predict_and_evaluate_fasttext_cbow_exactly(lee_corpus):
    # CBOW's input is the mean of every row of every context word: scoring must weigh each
    # word by its number of rows, as training does
    model = FastText(lee_corpus, sg=0, loss="sampled_softmax", vector_size=16, min_count=3, workers=1,
                     epochs=2, bucket=5000)
    counts = model.input_row_counts()
    context = ["government", "minister"]
    idx = [model.wv.get_index(w) for w in context]
    h = (model.wv.vectors[idx] * counts[idx, None]).sum(axis=0) / counts[idx].sum()
    s = model.syn1neg.astype(np.float64) @ h + model.syn1neg_bias
    p = np.exp(s - s.max())
    p /= p.sum()
    best = model.predict_output_word(context, topn=3)
    assert [w for w, _ in best] == [model.wv.index_to_key[i] for i in np.argsort(-p)[:3]]
    np.testing.assert_allclose([q for _, q in best], np.sort(p)[::-1][:3], rtol=1e-4)
    result = model.evaluate_log_likelihood(lee_corpus[:20])
    assert np.isfinite(result.mean_log_prob) and result.mean_log_prob < 0


@pytest.mark.parametrize("dm", [0, 1])
def test_doc2vec_log_likelihood_is_exact(dm, lee_documents):
    model = Doc2Vec(lee_documents[:80], dm=dm, loss="nce", vector_size=16, min_count=2, workers=1, epochs=5)
    documents = lee_documents[:3] + [TaggedDocument(lee_documents[200].words, ["unseen"])]
    result = model.evaluate_log_likelihood(documents)
    W, U = model.wv.vectors.astype(np.float64), model.syn1neg.astype(np.float64)
    b = model.syn1neg_bias.astype(np.float64)
    total, n = 0.0, 0
    for doc in documents[:3]:
        idx = [model.wv.get_index(w) for w in doc.words if w in model.wv]
        d = model.dv[doc.tags[0]].astype(np.float64)
        for i, target in enumerate(idx):
            context = idx[max(0, i - model.window):i] + idx[i + 1:i + 1 + model.window]
            h = (W[context].sum(axis=0) + d) / (len(context) + 1) if dm else d
            s = U @ h + b
            total += s[target] - (s.max() + np.log(np.exp(s - s.max()).sum()))
            n += 1
    unseen = sum(w in model.wv for w in documents[3].words)
    assert result.n_predictions == n + unseen
    # the unseen document's vector is inferred, so compare the seen ones' total exactly
    seen = model.evaluate_log_likelihood(documents[:3])
    assert seen.n_predictions == n
    np.testing.assert_allclose(seen.total_log_prob, total, rtol=1e-4)
