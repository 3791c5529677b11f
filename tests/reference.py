"""A small NumPy reference of every loss of the package's kernels, written from docs/losses.md, independent of them.

Each function returns the loss ``-J`` of one prediction from the scores ``s`` of its
candidates (target first) or, for the full softmax, of the whole vocabulary.
"""
import numpy as np


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def loss_nce(s, logq, k, log_z=0.0):
    d = s - log_z - np.log(k) - logq
    # -log sigma(D_t) - sum_j log sigma(-D_j)
    return np.logaddexp(0.0, -d[0]) + np.sum(np.logaddexp(0.0, d[1:]))


def loss_ns(s, logq=None, k=None, log_z=0.0):
    # negative sampling: -log sigma(s_t) - sum_j log sigma(-s_j); q only draws the samples
    return np.logaddexp(0.0, -s[0]) + np.sum(np.logaddexp(0.0, s[1:]))


def loss_sampled_softmax(s, logq, k=None, log_z=0.0):
    o = s - logq
    return -(o[0] - logsumexp(o))


def loss_blackout(s, logq, k=None, log_z=0.0):
    o = s - logq
    p = np.exp(o - logsumexp(o))
    return -np.log(p[0]) - np.sum(np.log1p(-p[1:]))


def loss_softmax(s, target):
    return -(s[target] - logsumexp(s))


SAMPLED_LOSSES = {
    "ns": loss_ns,
    "nce": loss_nce,
    "sampled_softmax": loss_sampled_softmax,
    "blackout": loss_blackout,
}
"""The reference loss of each sampled loss of the table (``test_the_table_has_a_reference`` checks that none is missing)."""
DENSE_LOSSES = {"softmax": loss_softmax}
"""The reference loss of each dense loss of the table."""


def numeric_gradient(f, x, eps=1e-6):
    """Central finite differences of a scalar function `f` at `x` (an array of any shape; float64)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def centred(x):
    """Each row of `x` minus its mean: what a softmax's logits are defined up to."""
    return x - x.mean(axis=1, keepdims=True)


def log_softmax_at(h, U, b, target):
    s = U @ h + b
    return s[target] - (s.max() + np.log(np.exp(s - s.max()).sum()))


def reference_prediction(rows, weights, U, b, target, lr, learn_hidden=True):
    """One prediction of `target` from ``h = sum_r weights[r] rows[r]``, as the kernels apply it:
    every input row gets ``lr dJ/dh`` (undivided), U and b their own ``lr dJ/d.``; J = log softmax.
    The gradients are finite differences of J."""
    h = sum(w * r for w, r in zip(weights, rows))
    g_h = numeric_gradient(lambda x: log_softmax_at(x, U, b, target), h, eps=1e-5)
    g_u = numeric_gradient(lambda x: log_softmax_at(h, x, b, target), U, eps=1e-5)
    g_b = numeric_gradient(lambda x: log_softmax_at(h, U, x, target), b, eps=1e-5)
    new_rows = [r + lr * g_h for r in rows]
    if learn_hidden:
        U, b = U + lr * g_u, b + lr * g_b
    return new_rows, U, b


def pair_update(syn1neg, h, cand, gammas, lr, bias=None):
    """The update of docs/losses.md: neu1e from the rows as they were, then each row (and each
    output bias b_w, if given) moves. Returns ``(syn1neg, neu1e, bias)`` in float64."""
    syn1neg = syn1neg.astype(np.float64)
    bias = None if bias is None else bias.astype(np.float64)
    neu1e = lr * np.sum(gammas[:, None] * syn1neg[cand], axis=0)
    for w, g in zip(cand, gammas):
        syn1neg[w] += lr * g * h
        if bias is not None:
            bias[w] += lr * g
    return syn1neg, neu1e, bias
