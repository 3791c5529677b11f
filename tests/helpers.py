"""Helpers shared by the tests."""
import numpy as np
from blackout_ext.callbacks import EpochLoss  # noqa: F401  (the tests' recorder)

# Related pairs that a model trained on the Lee corpus should place near each other.
LEE_PAIRS = [
    ("israeli", "palestinian"), ("afghanistan", "taliban"), ("police", "arrested"),
    ("president", "bush"), ("fire", "fires"), ("australia", "australian"), ("man", "woman"),
    ("sydney", "melbourne"), ("monday", "tuesday"), ("hamas", "arafat"), ("qantas", "airline"),
    ("bin", "laden"),
]

# CBOW adds the input gradient undivided to every context row, as gensim does, so gensim's
# default alpha (0.025) suits cbow_mean; the sum takes a smaller one, as in gensim's own tests
ARCHS = {
    "sg": dict(sg=1),
    "cbow_mean": dict(sg=0, cbow_mean=1, alpha=0.025),
    "cbow_sum": dict(sg=0, cbow_mean=0, alpha=0.01),
}


def partner_ranks(model, pairs=LEE_PAIRS):
    """Rank of each pair's second word among the first word's neighbours (0 = nearest)."""
    ranks = []
    for a, b in pairs:
        if a not in model.wv or b not in model.wv:
            continue
        sims = model.wv.most_similar(a, topn=len(model.wv))
        ranks.append([w for w, _ in sims].index(b))
    return np.array(ranks)


def write_lines(path, sentences, opener=open):
    """Write `sentences` one per line, tokens joined by spaces; return the path as a str."""
    with opener(path, "wt", encoding="utf8") as fout:
        for sentence in sentences:
            fout.write(" ".join(sentence) + "\n")
    return str(path)


def refind_rate(model, documents, n=80):
    """Doc2Vec: the share of the first `n` documents whose inferred vector finds their own tag first."""
    from blackout_ext.compare import refind_rate as compare_refind_rate

    return compare_refind_rate(model, documents[:n], n=n)
