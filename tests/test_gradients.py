"""Each loss's gammas, as the kernel computes them, against finite differences of the NumPy loss;
and one kernel step of each input kind (Word2Vec's, FastText's, Doc2Vec's) against a NumPy reference."""
import numpy as np
import pytest
from gensim.models.doc2vec import TaggedDocument

from blackout_ext import Doc2Vec, FastText, _inner
from blackout_ext.losses import KERNEL_LOSSES, LOSS_SPECS
from reference import (
    DENSE_LOSSES, SAMPLED_LOSSES, loss_softmax, numeric_gradient, pair_update, reference_prediction,
)

K = 6
# The row kernels (bo_vec.h) step 16, 8 and 4 floats at a time, then one: 8 is one step of 8,
# 29 = 16 + 8 + 4 + 1, and 100 (gensim's default) = 6 x 16 + 4, so each tail is met.
DIMS = [8, 29, 100]
LEARNED = [name for name in SAMPLED_LOSSES if LOSS_SPECS[name].learned_normalizer]


def test_the_table_has_a_reference():
    """Every loss the kernels train has a NumPy reference here: a new row cannot go untested."""
    for name in KERNEL_LOSSES:
        assert name in (DENSE_LOSSES if LOSS_SPECS[name].dense else SAMPLED_LOSSES), name
    assert set(SAMPLED_LOSSES) | set(DENSE_LOSSES) == set(KERNEL_LOSSES)


def random_case(seed, n=K + 1, scale=2.0):
    rng = np.random.default_rng(seed)
    # float32-representable scores, so that the kernel and the reference see the same numbers
    scores = (rng.normal(size=n) * scale).astype(np.float32).astype(np.float64)
    logq = np.log(rng.dirichlet(np.ones(50)))[rng.integers(0, 50, size=n)]
    return scores, logq


@pytest.mark.parametrize("loss, log_z", [(loss, 0.0) for loss in sorted(SAMPLED_LOSSES)] + [(n, 1.5) for n in LEARNED])
@pytest.mark.parametrize("seed", range(5))
def test_sampled_gammas_match_finite_differences(loss, seed, log_z):
    scores, logq = random_case(seed)
    reference = SAMPLED_LOSSES[loss]
    gammas, value, dlogz = _inner.py_gammas(loss, scores, logq, K, log_z)
    expected = -numeric_gradient(lambda s: reference(s, logq, K, log_z), scores)
    np.testing.assert_allclose(gammas, expected, rtol=1e-5, atol=1e-7)
    # the kernel's exponentials are float (expf), summed and logged in double
    assert value == pytest.approx(reference(scores, logq, K, log_z), rel=1e-6)
    if loss in LEARNED:
        expected_dz = -numeric_gradient(lambda z: reference(scores, logq, K, z[0]), [log_z])[0]
        assert dlogz == pytest.approx(expected_dz, rel=1e-5)


@pytest.mark.parametrize("loss", sorted(SAMPLED_LOSSES))
def test_gammas_stay_finite_on_extreme_scores(loss):
    scores = np.array([-1e30, 1e30, 50.0, -50.0, 0.0], dtype=np.float64)
    logq = np.log(np.full(5, 0.2))
    gammas, value, _ = _inner.py_gammas(loss, scores, logq, 4)
    assert np.all(np.isfinite(gammas)) and np.isfinite(value)
    assert np.all(np.abs(gammas) <= len(scores) + 2)


@pytest.mark.parametrize("seed", range(5))
def test_softmax_gammas_match_finite_differences(seed):
    rng = np.random.default_rng(seed)
    scores = (rng.normal(size=40) * 3).astype(np.float32).astype(np.float64)
    target = int(rng.integers(0, 40))
    gammas, value, _ = _inner.py_gammas("softmax", scores, target=target)
    expected = -numeric_gradient(lambda s: loss_softmax(s, target), scores)
    np.testing.assert_allclose(gammas, expected, rtol=1e-4, atol=1e-6)
    assert value == pytest.approx(loss_softmax(scores, target), rel=1e-6)


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("with_bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("loss", sorted(SAMPLED_LOSSES) + sorted(DENSE_LOSSES))
def test_pair_update_applies_the_gammas(loss, with_bias, dim):
    """The kernel's full pair step (scores, gammas, update) against the reference update.

    With an output bias the scores are u_w . h + b_w, and b_w moves by lr * gamma_w."""
    rng = np.random.default_rng(7)
    vocab, lr = 30, 0.1
    syn1neg = (rng.normal(size=(vocab, dim)) * 0.5).astype(np.float32)
    h = (rng.normal(size=dim)).astype(np.float32)
    logq_full = np.log(rng.dirichlet(np.ones(vocab)))
    bias = (rng.normal(size=vocab) - 3.0).astype(np.float32) if with_bias else None
    b64 = np.zeros(vocab) if bias is None else bias.astype(np.float64)
    if loss in DENSE_LOSSES:
        cand = np.array([4])
        scores = syn1neg.astype(np.float64) @ h.astype(np.float64) + b64
        gammas = -numeric_gradient(lambda s: loss_softmax(s, 4), scores)
        full_cand = np.arange(vocab)
    else:
        cand = np.array([3, 5, 5, 11, 29, 3])  # a duplicate draw, and a hit kept (not by blackout)
        if not LOSS_SPECS[loss].keeps_hits:
            cand = cand[:-1]
        scores = syn1neg[cand].astype(np.float64) @ h.astype(np.float64) + b64[cand]
        reference = SAMPLED_LOSSES[loss]
        gammas = -numeric_gradient(lambda s: reference(s, logq_full[cand], K, 0.0), scores)
        full_cand = cand
    expected_syn1neg, expected_neu1e, expected_bias = pair_update(
        syn1neg, h.astype(np.float64), full_cand, gammas, lr, bias)
    updated = syn1neg.copy()
    updated_bias = None if bias is None else bias.copy()
    neu1e, value, _ = _inner.py_pair_update(loss, updated, h, cand, logq_full, K, lr, bias=updated_bias)
    np.testing.assert_allclose(neu1e, expected_neu1e, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(updated, expected_syn1neg, rtol=1e-4, atol=1e-5)
    if bias is not None:
        np.testing.assert_allclose(updated_bias, expected_bias, rtol=1e-4, atol=1e-5)
        assert not np.array_equal(updated_bias, bias)
    reference_value = loss_softmax(scores, 4) if loss in DENSE_LOSSES else SAMPLED_LOSSES[loss](
        scores, logq_full[cand], K, 0.0)
    assert value == pytest.approx(reference_value, rel=1e-4)


def test_alias_sampler_matches_q():
    rng = np.random.default_rng(3)
    q = rng.dirichlet(np.full(20, 0.5))
    q[4] = 0.0
    q /= q.sum()
    table = _inner.build_alias_table(q)
    n = 400_000
    counts = np.bincount(_inner.py_draw(table, n, seed=11), minlength=20)
    assert counts[4] == 0
    expected = q * n
    seen = expected > 0
    chi2 = np.sum((counts[seen] - expected[seen]) ** 2 / expected[seen])
    # 18 degrees of freedom: the 0.999 quantile is 42.3
    assert chi2 < 42.3


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("with_bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("loss, learned_z", [(loss, False) for loss in sorted(SAMPLED_LOSSES)] + [(n, True) for n in LEARNED])
def test_shared_samples_window_is_the_sum_of_its_pairs(loss, learned_z, with_bias, dim):
    """shared_samples: one window's update is the sum of its pairs' reference updates, every
    gradient taken at the weights as they were before the window (one mini-batch)."""
    rng = np.random.default_rng(11)
    vocab, lr = 30, 0.1
    syn0 = (rng.normal(size=(vocab, dim)) * 0.5).astype(np.float32)
    syn1neg = (rng.normal(size=(vocab, dim)) * 0.5).astype(np.float32)
    logq_full = np.log(rng.dirichlet(np.ones(vocab)))
    log_z = (rng.normal(size=vocab) * 0.3).astype(np.float32) if learned_z else None
    bias = (rng.normal(size=vocab) - 3.0).astype(np.float32) if with_bias else None
    b64 = np.zeros(vocab) if bias is None else bias.astype(np.float64)
    contexts = [7, 2, 7, 19]                      # a context word twice in the window
    cand = np.array([3, 5, 5, 11, 29, 3])         # a duplicate draw, and a hit kept (not by blackout)
    if not LOSS_SPECS[loss].keeps_hits:
        cand = cand[:-1]
    reference = SAMPLED_LOSSES[loss]
    expected_syn1neg = syn1neg.astype(np.float64)
    expected_syn0 = syn0.astype(np.float64)
    expected_z = None if log_z is None else log_z.astype(np.float64)
    expected_bias = b64.copy()
    expected_loss = 0.0
    for w in contexts:
        h = syn0[w].astype(np.float64)
        z = 0.0 if log_z is None else float(log_z[w])
        scores = syn1neg[cand].astype(np.float64) @ h + b64[cand]
        f = lambda s: reference(s, logq_full[cand], K, z)  # noqa: E731
        gammas = -numeric_gradient(f, scores)
        expected_loss += f(scores)
        updated, neu1e, updated_bias = pair_update(syn1neg, h, cand, gammas, lr, b64)
        expected_syn1neg += updated - syn1neg.astype(np.float64)
        expected_bias += updated_bias - b64
        expected_syn0[w] += neu1e
        if log_z is not None:
            expected_z[w] -= lr * numeric_gradient(lambda c: reference(scores, logq_full[cand], K, c[0]), [z])[0]
    value = _inner.py_window_update(loss, syn0, syn1neg, contexts, cand, logq_full, K, lr, log_z, bias)
    np.testing.assert_allclose(syn1neg, expected_syn1neg, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(syn0, expected_syn0, rtol=1e-4, atol=1e-5)
    if log_z is not None:
        np.testing.assert_allclose(log_z, expected_z, rtol=1e-4, atol=1e-5)
    if bias is not None:
        np.testing.assert_allclose(bias, expected_bias, rtol=1e-4, atol=1e-5)
    assert value == pytest.approx(expected_loss, rel=1e-5)

@pytest.mark.parametrize("dim", [1, 4, 8, 12, 16, 29, 100])
def test_every_lane_of_an_update_is_clamped(dim):
    """An update that would carry weights past +-BO_WEIGHT_LIMIT leaves them at it, in every lane
    of the row kernels' steps (16, 8, 4 floats and one): the output rows by the pair step, the
    input rows and output rows by the shared-samples window's block update."""
    limit = np.float32(_inner.WEIGHT_LIMIT)
    vocab, lr = 30, 1e7
    logq = np.log(np.full(vocab, 1.0 / vocab))
    cand = np.array([3, 5, 11, 29])

    syn1neg = np.full((vocab, dim), 0.9 * limit, dtype=np.float32)
    h = np.full(dim, 1e6, dtype=np.float32)
    _inner.py_pair_update("blackout", syn1neg, h, cand, logq, K, lr)
    # the target's gamma is positive, each sample's negative: +-1e13 a lane, past either limit
    np.testing.assert_array_equal(syn1neg[3], np.full(dim, limit, dtype=np.float32))
    np.testing.assert_array_equal(syn1neg[cand[1:]], np.full((3, dim), -limit, dtype=np.float32))

    syn0 = np.full((vocab, dim), 1e6, dtype=np.float32)
    syn1neg = np.full((vocab, dim), 0.9 * limit, dtype=np.float32)
    syn1neg[3] *= -1   # the target scored far below the samples: its gamma near 1, theirs negative
    _inner.py_window_update("blackout", syn0, syn1neg, [7, 19], cand, logq, K, lr)
    np.testing.assert_array_equal(syn1neg[3], np.full(dim, limit, dtype=np.float32))
    np.testing.assert_array_equal(syn1neg[cand[1:]], np.full((3, dim), -limit, dtype=np.float32))
    # each input row moves by lr (gamma_t u_t + sum_j gamma_j u_j), every term negative here
    np.testing.assert_array_equal(syn0[[7, 19]], np.full((2, dim), -limit, dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# FastText's and Doc2Vec's inputs: one step of the kernels for each input kind, against a NumPy
# reference whose gradient is taken by finite differences (the input is built from the right
# rows, and its gradient goes back to each of them, undivided, to the output layer and the bias)


def random_weights(model, rng):
    """Give every array the kernel reads distinct float32 values (the bias too)."""
    for array in [model.syn1neg, model.syn1neg_bias] + [a for _, a in model._trainable_arrays()
                                                           if a.ndim == 2]:
        array[...] = rng.normal(0.0, 0.3, size=array.shape).astype(np.float32)


def kernel_step(model, sentences, alpha, **kwargs):
    model._prepare_kernel_tables()
    mem = model._get_thread_working_mem()
    return _inner.train_batch(model, sentences, alpha, mem, 1, 7, None, **kwargs)


def deterministic(cls, **kwargs):
    # the full softmax draws nothing; window 1, no shrinking, no subsampling: nothing is random
    return cls(loss="softmax", vector_size=4, window=1, shrink_windows=False, sample=0, min_count=1, workers=1,
               **kwargs)


@pytest.mark.parametrize("sg", [1, 0])
def test_fasttext_step_matches_the_reference(sg):
    model = deterministic(FastText, sg=sg, min_n=3, max_n=4, bucket=60)
    sentence = ["abcde", "xyz", "pqrs"]
    model.build_vocab([sentence])
    random_weights(model, np.random.default_rng(sg))
    wv = model.wv
    n_words = len(wv)
    # every input row in one matrix: the words' rows, then the n-gram buckets'
    P = np.vstack([wv.vectors_vocab, wv.vectors_ngrams]).astype(np.float64)
    U, b = model.syn1neg.astype(np.float64), model.syn1neg_bias.astype(np.float64)
    lr = 0.1

    def rows_of(word):
        i = wv.get_index(word)
        return [i] + [n_words + int(k) for k in wv.buckets_word[i]]

    if sg:   # each centre's rows predict each word of its window (1 here), one pair after the other
        predictions = [([sentence[0]], sentence[1]), ([sentence[1]], sentence[0]), ([sentence[1]], sentence[2]),
                       ([sentence[2]], sentence[1])]
    else:    # every row of every context word predicts the centre
        predictions = [([sentence[1]], sentence[0]), ([sentence[0], sentence[2]], sentence[1]),
                       ([sentence[1]], sentence[2])]
    for context, target in predictions:
        rows = [r for word in context for r in rows_of(word)]   # a bucket twice counts twice
        new_rows, U, b = reference_prediction([P[r] for r in rows], [1.0 / len(rows)] * len(rows), U, b,
                                              wv.get_index(target), lr)
        np.add.at(P, rows, np.array(new_rows) - P[rows])
    kernel_step(model, [sentence], lr)
    np.testing.assert_allclose(wv.vectors_vocab, P[:n_words], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(wv.vectors_ngrams, P[n_words:], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.syn1neg, U, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.syn1neg_bias, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dm, cbow_mean", [(0, 1), (1, 1), (1, 0)])
def test_doc2vec_step_matches_the_reference(dm, cbow_mean):
    # PV-DM sums (cbow_mean=0) or averages: gensim 4 sets cbow_mean from dm_mean and then
    # overwrites it with Word2Vec's cbow_mean argument, so cbow_mean is what decides
    model = deterministic(Doc2Vec, dm=dm, cbow_mean=cbow_mean)
    assert model.cbow_mean == cbow_mean
    document = TaggedDocument(["alpha", "beta"], ["d0"])
    model.build_vocab([document, TaggedDocument(["beta"], ["d1"])])
    random_weights(model, np.random.default_rng(3 + dm))
    W = model.wv.vectors.astype(np.float64)
    D = model.dv.vectors.astype(np.float64)
    U, b = model.syn1neg.astype(np.float64), model.syn1neg_bias.astype(np.float64)
    lr = 0.1
    d = model.dv.get_index("d0")
    a, z = model.wv.get_index("alpha"), model.wv.get_index("beta")
    for target, context in ((a, z), (z, a)):
        if dm:   # the context word's row and the tag's row, summed or averaged
            weight = 0.5 if cbow_mean else 1.0
            (W[context], D[d]), U, b = reference_prediction([W[context], D[d]], [weight, weight], U, b, target, lr)
        else:    # the tag's row alone
            (D[d],), U, b = reference_prediction([D[d]], [1.0], U, b, target, lr)
    kernel_step(model, [document.words], lr, doc_tags=[[d]])
    np.testing.assert_allclose(model.wv.vectors, W, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.dv.vectors, D, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.syn1neg, U, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.syn1neg_bias, b, rtol=1e-4, atol=1e-5)


def test_inference_step_moves_only_the_new_vector():
    model = deterministic(Doc2Vec, dm=0)
    model.build_vocab([TaggedDocument(["alpha", "beta"], ["d0"])])
    random_weights(model, np.random.default_rng(9))
    before = {name: array.copy() for name, array in model._trainable_arrays()}
    U, b = model.syn1neg.astype(np.float64), model.syn1neg_bias.astype(np.float64)
    hidden = (model.syn1neg.copy(), model.syn1neg_bias.copy())
    new = np.random.default_rng(1).normal(0, 0.3, size=(1, 4)).astype(np.float32)
    expected = new[0].astype(np.float64)
    for target in (model.wv.get_index("alpha"), model.wv.get_index("beta")):
        (expected,), _, _ = reference_prediction([expected], [1.0], U, b, target, 0.1, learn_hidden=False)
    kernel_step(model, [["alpha", "beta"]], 0.1, doc_tags=[[0]], infer_into=new)
    np.testing.assert_allclose(new[0], expected, rtol=1e-4, atol=1e-5)
    for name, array in model._trainable_arrays():
        assert np.array_equal(array, before[name]), name
    assert np.array_equal(model.syn1neg, hidden[0]) and np.array_equal(model.syn1neg_bias, hidden[1])


def test_the_ns_step_matches_its_loss():
    scores = np.array([0.7, -0.2, 1.3, -2.0])
    g, value, _ = _inner.py_gammas("ns", scores)

    def J(s):   # log sigma(s_t) + sum_j log sigma(-s_j)
        return -np.logaddexp(0, -s[0]) - np.logaddexp(0, s[1:]).sum()

    np.testing.assert_allclose(value, -J(scores.astype(np.float32).astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(g, numeric_gradient(J, scores.astype(np.float64)), rtol=1e-4, atol=1e-7)


def test_the_hs_step_matches_the_reference():
    # PV-DBOW with hierarchical softmax: the tag's row walks each word's Huffman path
    model = Doc2Vec(loss="hs", dm=0, vector_size=4, window=1, shrink_windows=False, sample=0, min_count=1,
                    workers=1, compute_loss=True)
    words = ["alpha", "beta", "gamma", "beta"]
    model.build_vocab([TaggedDocument(words, ["d0"])])
    assert model.kernel_loss == "hs"
    rng = np.random.default_rng(4)
    model.syn1[...] = rng.normal(0, 0.3, size=model.syn1.shape)
    D, S = model.dv.vectors.astype(np.float64), model.syn1.astype(np.float64)
    lr, total = 0.1, 0.0
    for word in words:
        i = model.wv.get_index(word)
        points, codes = model.wv.expandos['point'][i], model.wv.expandos['code'][i]

        def J(h, S):   # sum over the path of log sigma((1 - 2 code) s_p . h)
            f = S[points] @ h
            return -np.logaddexp(0, -(1.0 - 2.0 * codes) * f).sum()

        h = D[0].copy()
        g_h = numeric_gradient(lambda x: J(x, S), h)
        g_s = numeric_gradient(lambda x: J(h, x), S)
        total -= J(h, S)
        D[0] += lr * g_h
        S += lr * g_s
    model._prepare_kernel_tables()
    _, _, loss = _inner.train_batch(model, [words], lr, model._get_thread_working_mem(), 1, 7, None,
                                    doc_tags=[[0]])
    np.testing.assert_allclose(model.dv.vectors, D, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.syn1, S, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(loss, total, rtol=1e-5)
