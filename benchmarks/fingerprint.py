#!/usr/bin/env python
"""A fingerprint of every mode's trained weights, to check that a refactoring changes nothing.

Trains every mode (the new losses, NCE with a learned normaliser, ``shared_samples``, and
gensim's ns/hs) in sg and CBOW, on the iterable and the ``corpus_file`` paths, with
``workers=1`` and a fixed seed, and prints a SHA-256 of the bytes of ``wv.vectors``,
``syn1neg`` (or ``syn1``), ``syn1neg_bias`` and ``nce_log_z``: one line per configuration.
FastText (its n-gram rows too) and Doc2Vec (its document rows and one inferred vector) follow,
each loss once in both architectures and on both paths.

    python benchmarks/fingerprint.py --out before.txt     # on the old code
    python benchmarks/fingerprint.py --out after.txt      # on the new code
    diff before.txt after.txt                             # nothing: bit-identical

With one worker and a seed the kernels are deterministic, so any difference is a change of
behaviour. The fingerprints depend on the CPU's SIMD path (AVX2 or SSE2), so compare runs made
on one machine.
"""
import argparse
import hashlib
import os
import sys
import tempfile

from gensim.test.utils import datapath
from gensim.utils import simple_preprocess

MODES = [
    dict(loss="nce"), dict(loss="nce", nce_normalizer="learned"), dict(loss="sampled_softmax"),
    dict(loss="blackout"), dict(loss="softmax"), dict(loss="nce", output_bias=False),
    dict(loss="ns"), dict(loss="hs"),
]
SHARED = [dict(loss="nce", shared_samples=True), dict(loss="blackout", shared_samples=True),
          dict(loss="sampled_softmax", shared_samples=True),
          dict(loss="nce", nce_normalizer="learned", shared_samples=True)]
FAMILY_MODES = [  # FastText and Doc2Vec: each loss once (ns on the package's kernel), and gensim's
    dict(loss="nce", nce_normalizer="learned"), dict(loss="sampled_softmax"),  # hs through its reporting step
    dict(loss="blackout"), dict(loss="softmax"), dict(loss="ns", compute_loss=True),
    dict(loss="hs", compute_loss=True),
]


def digest(model):
    h = hashlib.sha256()
    for name in ("syn1neg", "syn1", "syn1neg_bias", "nce_log_z"):
        array = getattr(model, name, None)
        if array is not None and getattr(array, "size", 0):
            h.update(name.encode())
            h.update(array.tobytes())
    h.update(model.wv.vectors.tobytes())
    for extra in ("dv", ):
        kv = getattr(model, extra, None)
        if kv is not None and len(kv):
            h.update(kv.vectors.tobytes())
    ngrams = getattr(model.wv, "vectors_ngrams", None)
    if ngrams is not None:
        h.update(ngrams.tobytes())
    return h.hexdigest()[:32]


def family_lines(sentences, path):
    """The fingerprints of FastText and Doc2Vec (with an inferred vector) on both corpus paths."""
    from gensim.models.doc2vec import TaggedDocument

    from blackout_ext import Doc2Vec, FastText

    documents = [TaggedDocument(s, [i]) for i, s in enumerate(sentences)]
    lines = []
    for corpus in ("iterable", "corpus_file"):
        for arch in (1, 0):
            for mode in FAMILY_MODES:
                params = dict(vector_size=16, min_count=2, seed=3, workers=1, epochs=2, **mode)
                if mode["loss"] == "hs":
                    params["negative"] = None
                label = ",".join(f"{k}={v}" for k, v in sorted(mode.items()))
                source = dict(corpus_file=path) if corpus == "corpus_file" else None
                ft = FastText(**(source or dict(sentences=sentences)), sg=arch, bucket=2000, **params)
                lines.append(f"{corpus:<11} fasttext sg={arch} {label:<50} {digest(ft)}")
                print(lines[-1], flush=True)
                if mode.get("nce_normalizer") == "learned":  # Doc2Vec has no learned normaliser
                    params.pop("nce_normalizer")
                d2v = Doc2Vec(**(source or dict(documents=documents)), dm=1 - arch, **params)
                inferred = d2v.infer_vector(sentences[0], epochs=3)
                h = hashlib.sha256(digest(d2v).encode() + inferred.tobytes()).hexdigest()[:32]
                lines.append(f"{corpus:<11} doc2vec  dm={1 - arch} {label:<50} {h}")
                print(lines[-1], flush=True)
    return lines


def main(argv=None):
    if os.environ.get("PYTHONHASHSEED") != "0":  # gensim seeds infer_vector's start from hash(words)
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="also write the lines here")
    parser.add_argument("--documents", type=int, default=80, help="Lee documents to train on")
    parser.add_argument("--word2vec-only", action="store_true", help="skip FastText and Doc2Vec")
    args = parser.parse_args(argv)

    from blackout_ext import Word2Vec

    with open(datapath("lee_background.cor"), encoding="utf8") as fin:
        sentences = [simple_preprocess(line) for line in fin][:args.documents]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf8") as tmp:
        tmp.write("\n".join(" ".join(s) for s in sentences) + "\n")
    lines = []
    try:
        for path in ("iterable", "corpus_file"):
            for sg in (1, 0):
                for mode in MODES + (SHARED if sg else []):
                    params = dict(vector_size=24, min_count=2, seed=3, workers=1, epochs=2, sg=sg, **mode)
                    if mode["loss"] == "hs":
                        params["negative"] = None
                    if path == "iterable":
                        model = Word2Vec(sentences, **params)
                    else:
                        model = Word2Vec(corpus_file=tmp.name, **params)
                    label = ",".join(f"{k}={v}" for k, v in sorted(mode.items()))
                    lines.append(f"{path:<11} sg={sg} {label:<60} {digest(model)}")
                    print(lines[-1], flush=True)
        if not args.word2vec_only:
            lines += family_lines(sentences, tmp.name)
    finally:
        os.unlink(tmp.name)
    if args.out:
        with open(args.out, "w") as fout:
            fout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
