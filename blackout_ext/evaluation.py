"""Exact held-out log-likelihood of a trained model, for every output layer.

Sampled objectives are surrogates; this scores what they approximate, the exact probability
the model gives to held-out text:

* ``sg`` predicts each context word from the centre word, ``cbow`` the centre word from its
  context (mean or sum, as trained), over the full window, without subsampling, skipping
  out-of-vocabulary words as training does.
* Every loss that trains ``syn1neg`` (``softmax``, ``sampled_softmax``, ``blackout``, ``ns``,
  ``nce``) is scored with the full softmax over ``syn1neg``, the scores ``u_w . h + b_w``
  including the output bias ``syn1neg_bias`` where the model has one. NCE also reports its
  self-normalised log-probability ``s_t - c`` and the spread of ``log sum_w exp(s_w) - c``.
* ``hs`` is scored with the exact product along the Huffman path, ``log sigma`` computed
  exactly: no lookup table and no skipped nodes.

Scores come in batches of contexts through one ``sgemm`` (NumPy's ``matmul``, which releases
the GIL); the log-sum-exp subtracts the maximum and sums in double.
"""
import logging
import math
from dataclasses import dataclass
from timeit import default_timer

import numpy as np
import scipy.sparse

from blackout_ext.losses import loss_spec, trained_loss
from blackout_ext.output_arrays import array_of

logger = logging.getLogger(__name__)

_BATCH_CELLS = 1 << 22  # contexts x vocabulary per batch: 16 MB of float32 scores


@dataclass
class LogLikelihoodResult:
    """The exact log-likelihood of held-out text under a model.

    Attributes
    ----------
    mean_log_prob : float
        Mean natural-log probability per predicted word.
    perplexity : float
        ``exp(-mean_log_prob)``.
    n_predictions : int
        How many words were predicted.
    total_log_prob : float
        Sum of the log-probabilities.
    n_contexts : int
        How many inputs (centre words for sg, context windows for cbow) were scored.
    nce_mean_self_normalized_log_prob : float or None
        NCE only: mean of ``s_t - c``, the model's own unnormalised log-probability.
    nce_log_partition_mean, nce_log_partition_std : float or None
        NCE only: mean and standard deviation of ``log sum_w exp(s_w) - c`` over the contexts;
        near 0 means the model is self-normalised.
    words_per_second : float
        Throughput of the evaluation.
    """

    mean_log_prob: float
    perplexity: float
    n_predictions: int
    total_log_prob: float
    n_contexts: int
    nce_mean_self_normalized_log_prob: float = None
    nce_log_partition_mean: float = None
    nce_log_partition_std: float = None
    words_per_second: float = 0.0


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def _as_indexes(model, corpus_iterable, minimum=2):
    # each sentence's in-vocabulary words; with minimum=1 (documents) one array per document,
    # empty ones included, so that the d-th array is the d-th document's
    key_to_index = model.wv.key_to_index
    for sentence in corpus_iterable:
        if isinstance(sentence, str):
            raise TypeError("corpus_iterable must yield lists of tokens, not strings")
        idx = [key_to_index[w] for w in sentence if w in key_to_index]
        if minimum == 1 or len(idx) >= minimum:
            yield np.asarray(idx, dtype=np.int64)


def _sentence_rows(idx, window, sg):
    """The inputs and targets of one sentence.

    Returns ``(inputs, targets, pair_rows)``: for sg, ``inputs`` are the centre words and
    ``pair_rows`` maps each (centre, context) pair to its centre; for cbow, ``inputs`` is a list
    of context index arrays, one per centre word, and each row has one target.
    """
    n = len(idx)
    if sg:
        rows, targets = [], []
        positions = np.arange(n)
        for offset in range(1, window + 1):
            if offset >= n:
                break
            rows.extend([positions[:-offset], positions[offset:]])
            targets.extend([idx[offset:], idx[:-offset]])
        rows = np.concatenate(rows)
        return idx, np.concatenate(targets), rows
    contexts = [np.concatenate([idx[max(0, i - window):i], idx[i + 1:i + 1 + window]]) for i in range(n)]
    keep = [i for i in range(n) if len(contexts[i])]
    return [contexts[i] for i in keep], idx[keep], np.arange(len(keep))


class _Scorer:
    """Scores batches of (input rows, targets) for one model."""

    def __init__(self, model):
        self.model = model
        self.sg = bool(model.sg)
        self.vocab_size = len(model.wv)
        self.syn0 = model.wv.vectors
        self.hs = trained_loss(getattr(model, 'loss', None), model.hs, model.negative) == "hs"
        if self.hs:
            if getattr(model, 'syn1', None) is None:
                raise RuntimeError("this hs model has no syn1 (output weights): it cannot be scored")
            codes = model.wv.expandos.get('code')
            points = model.wv.expandos.get('point')
            if codes is None or points is None:
                raise RuntimeError("this hs model has no Huffman codes: build_vocab() first")
            lengths = np.array([len(c) for c in codes[:self.vocab_size]])
            width = max(int(lengths.max()), 1)
            rows = np.repeat(np.arange(self.vocab_size), lengths)
            cols = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            self.codes = np.zeros((self.vocab_size, width), dtype=np.float32)
            self.points = np.zeros((self.vocab_size, width), dtype=np.int64)
            self.mask = np.zeros((self.vocab_size, width), dtype=bool)
            self.codes[rows, cols] = np.concatenate(codes[:self.vocab_size])
            self.points[rows, cols] = np.concatenate(points[:self.vocab_size])
            self.mask[rows, cols] = True
        else:
            if getattr(model, 'syn1neg', None) is None:
                raise RuntimeError("this model has no syn1neg (output weights): it cannot be scored; "
                                   "was it saved without its trainables?")
        bias = array_of(model, "syn1neg_bias") if getattr(model, 'output_bias', False) else None
        self.bias = None if bias is None else np.asarray(bias[:self.vocab_size], dtype=np.float64)
        spec = loss_spec(getattr(model, 'loss', None))
        self.nce = bool(spec and spec.learned_normalizer)   # scores D = s - c - log(k q): NCE's normaliser c
        self.log_z = array_of(model, "nce_log_z") if self.nce else None
        # FastText's CBOW input is the mean of every row of every context word: a word weighs
        # as many rows as it has (its own and its n-grams'); wv.vectors holds their mean
        row_counts = model.input_row_counts() if hasattr(model, 'input_row_counts') else None
        self.row_counts = None if row_counts is None else np.asarray(row_counts, dtype=np.float64)

    def cbow_weights(self, inputs):
        """How each context of `inputs` (lists of word rows) sums its words into a CBOW input.

        Returns ``(rows, cols, weights, lengths)``: context ``rows[i]`` takes ``weights[i]`` times
        row ``cols[i]`` of ``wv.vectors``. As the kernels build it: the mean (``cbow_mean``) or sum
        of the context's input rows, where a FastText word weighs as many rows as it has (its own
        and its n-grams', whose mean ``wv.vectors`` holds).
        """
        lengths = np.array([len(x) for x in inputs])
        cols = np.concatenate(inputs)
        rows = np.repeat(np.arange(len(inputs)), lengths)
        if self.row_counts is None:
            weights = np.repeat(1.0 / lengths if self.model.cbow_mean else np.ones(len(inputs)), lengths)
        else:
            weights = np.append(self.row_counts, np.ones(len(self.syn0) - len(self.row_counts)))[cols]
            if self.model.cbow_mean:
                weights = weights / np.bincount(rows, weights=weights, minlength=len(inputs))[rows]
        return rows, cols, weights, lengths

    def context_vector(self, context):
        """The CBOW input of one context (a list of word rows), in float64."""
        _, cols, weights, _ = self.cbow_weights([context])
        return weights @ self.syn0[cols].astype(np.float64)

    def input_vectors(self, inputs):
        """(H, c): the input vectors of a batch, and NCE's c for each (zeros if fixed)."""
        if self.sg:
            h = self.syn0[inputs]
            c = self.log_z[inputs].astype(np.float64) if self.log_z is not None else np.zeros(len(inputs))
            return h, c
        rows, cols, weights, lengths = self.cbow_weights(inputs)
        matrix = scipy.sparse.csr_matrix(
            (weights.astype(np.float32), (rows, cols)), shape=(len(inputs), len(self.syn0)))
        h = np.asarray(matrix @ self.syn0, dtype=np.float32)
        c = np.zeros(len(inputs))
        if self.log_z is not None:
            mean_matrix = scipy.sparse.csr_matrix(
                (np.repeat(1.0 / lengths, lengths), (rows, cols)), shape=(len(inputs), self.vocab_size))
            c = mean_matrix @ self.log_z.astype(np.float64)
        return h, c

    def all_log_probs(self, h):
        """log P(w | h) for every word w of the vocabulary, for one input vector `h`."""
        h = np.asarray(h, dtype=np.float64)
        if self.hs:
            f = self.model.syn1.astype(np.float64) @ h  # one score per inner node of the tree
            signs = 1.0 - 2.0 * self.codes
            return np.where(self.mask, _log_sigmoid(signs * f[self.points]), 0.0).sum(axis=1)
        s = self.model.syn1neg.astype(np.float64) @ h
        if self.bias is not None:
            s += self.bias
        return s - (s.max() + np.log(np.exp(s - s.max()).sum()))

    def log_probs(self, h, c, targets, pair_rows):
        """log P(target | row) for each pair, and (for NCE) s_t - c and log Z - c per row."""
        if self.hs:
            hp = h[pair_rows].astype(np.float64)
            nodes = self.model.syn1[self.points[targets]].astype(np.float64)  # pairs x L x d
            f = np.einsum('pd,pld->pl', hp, nodes)
            signs = 1.0 - 2.0 * self.codes[targets]
            return np.where(self.mask[targets], _log_sigmoid(signs * f), 0.0).sum(axis=1), None, None
        scores = h @ self.model.syn1neg.T  # sgemm: rows x |V|, float32
        if self.bias is not None:
            scores += self.bias.astype(np.float32)
        s_target = scores[pair_rows, targets].astype(np.float64)
        top = scores.max(axis=1, keepdims=True)
        np.subtract(scores, top, out=scores)
        np.exp(scores, out=scores)
        log_partition = np.log(scores.sum(axis=1, dtype=np.float64)) + top[:, 0].astype(np.float64)
        log_p = s_target - log_partition[pair_rows]
        if not self.nce:
            return log_p, None, None
        return log_p, s_target - c[pair_rows], log_partition - c


def evaluate_log_likelihood(model, corpus_iterable, batch_contexts=None):
    """Exact log-likelihood of `corpus_iterable` under `model`.

    Parameters
    ----------
    model : :class:`~blackout_ext.Word2Vec` or :class:`gensim.models.Word2Vec`
        A trained model (any loss).
    corpus_iterable : iterable of list of str
        Held-out sentences.
    batch_contexts : int, optional
        Contexts scored per batch; by default as many as fit 16 MB of scores.

    Returns
    -------
    :class:`LogLikelihoodResult`

    Raises
    ------
    ValueError
        If the corpus has no word of the vocabulary to predict.
    RuntimeError
        If the model lacks the weights its loss needs.
    """
    start = default_timer()
    if not len(model.wv):
        raise RuntimeError("the model has an empty vocabulary: build_vocab() and train() first")
    scorer = _Scorer(model)
    window = int(model.window)
    predictions = (_sentence_rows(idx, window, scorer.sg) for idx in _as_indexes(model, corpus_iterable))
    return _evaluate(model, scorer, predictions, batch_contexts, start)


def evaluate_documents_log_likelihood(model, documents, batch_contexts=None):
    """Exact log-likelihood of `documents` under a Doc2Vec `model`.

    Each document's vector is its first tag's trained vector if the model has one, else
    inferred by :meth:`~gensim.models.Doc2Vec.infer_vector`. PV-DBOW predicts each word from
    the document's vector; PV-DM predicts each word from its context words and the document's
    vector, summed or averaged as in training.

    Parameters
    ----------
    model : :class:`~blackout_ext.Doc2Vec` or :class:`gensim.models.Doc2Vec`
        A trained model (any loss; not ``dm_concat``).
    documents : iterable of :class:`~gensim.models.doc2vec.TaggedDocument`
        Held-out (or training) documents.
    batch_contexts : int, optional
        Contexts scored per batch.

    Returns
    -------
    :class:`LogLikelihoodResult`
    """
    start = default_timer()
    if not len(model.wv):
        raise RuntimeError("the model has an empty vocabulary: build_vocab() and train() first")
    if getattr(model, 'dm_concat', 0) and not model.sg:
        raise NotImplementedError("evaluate_log_likelihood does not score dm_concat models")
    documents = list(documents)
    vectors = []
    for doc in documents:
        if isinstance(doc, (str, list)) or not hasattr(doc, 'words'):
            raise TypeError("documents must be TaggedDocument objects (with .words and .tags)")
        tag = doc.tags[0] if len(doc.tags) else None
        vectors.append(model.dv[tag] if tag is not None and tag in model.dv else model.infer_vector(doc.words))
    scorer = _Scorer(model)
    n_words = len(model.wv)
    scorer.syn0 = np.vstack([model.wv.vectors] + [np.asarray(v, dtype=np.float32)[None, :] for v in vectors])
    window = int(model.window)

    def predictions():
        for d, idx in enumerate(_as_indexes(model, (doc.words for doc in documents), minimum=1)):
            row = n_words + d
            if scorer.sg:   # the document's vector predicts each word
                yield np.array([row]), idx, np.zeros(len(idx), dtype=np.int64)
            else:           # each word from its context and the document's vector
                contexts = [np.append(np.concatenate([idx[max(0, i - window):i], idx[i + 1:i + 1 + window]]), row)
                            for i in range(len(idx))]
                yield contexts, idx, np.arange(len(idx))
    return _evaluate(model, scorer, predictions(), batch_contexts, start)


def _evaluate(model, scorer, predictions, batch_contexts, start):
    """Score every (inputs, targets, rows) of `predictions` in batches; see :func:`evaluate_log_likelihood`."""
    if batch_contexts is None:
        if scorer.hs:  # pairs x path length x d gathered at once
            batch_contexts = 256
        else:
            batch_contexts = max(16, min(8192, _BATCH_CELLS // max(len(model.wv), 1)))

    total, n_pred, n_ctx = 0.0, 0, 0
    self_norm_total, partition_sum, partition_sq = 0.0, 0.0, 0.0
    pending_inputs, pending_targets, pending_rows, pending_count = [], [], [], 0

    def flush():
        nonlocal total, n_pred, n_ctx, self_norm_total, partition_sum, partition_sq
        if not pending_targets:
            return
        if scorer.sg:
            inputs = np.concatenate(pending_inputs)
        else:
            inputs = [ctx for chunk in pending_inputs for ctx in chunk]
        targets = np.concatenate(pending_targets)
        rows = np.concatenate(pending_rows)
        h, c = scorer.input_vectors(inputs)
        log_p, self_norm, log_partition = scorer.log_probs(h, c, targets, rows)
        total += float(log_p.sum())
        n_pred += len(log_p)
        n_ctx += len(inputs)
        if self_norm is not None:
            self_norm_total += float(self_norm.sum())
            partition_sum += float(log_partition.sum())
            partition_sq += float((log_partition ** 2).sum())
        pending_inputs.clear(), pending_targets.clear(), pending_rows.clear()

    for inputs, targets, rows in predictions:
        pending_inputs.append(inputs)
        pending_targets.append(targets)
        pending_rows.append(rows + pending_count)
        pending_count += len(inputs)
        if pending_count >= batch_contexts:
            flush()
            pending_count = 0
    flush()

    if n_pred == 0:
        raise ValueError("nothing to evaluate: the corpus has no sentence with two or more in-vocabulary words")
    mean = total / n_pred
    elapsed = max(default_timer() - start, 1e-9)
    result = LogLikelihoodResult(
        mean_log_prob=mean, perplexity=math.exp(-mean), n_predictions=n_pred, total_log_prob=total,
        n_contexts=n_ctx, words_per_second=n_pred / elapsed)
    if scorer.nce:
        result.nce_mean_self_normalized_log_prob = self_norm_total / n_pred
        result.nce_log_partition_mean = partition_sum / n_ctx
        result.nce_log_partition_std = math.sqrt(max(partition_sq / n_ctx - result.nce_log_partition_mean ** 2, 0.0))
    logger.info(
        "evaluated %i predictions from %i contexts: mean log prob %.4f, perplexity %.2f, %.0f predictions/s",
        n_pred, n_ctx, mean, result.perplexity, result.words_per_second)
    return result


def analogy_accuracy(wv, analogies, restrict_vocab=300000, batch=512):
    """Accuracy on word analogies, as gensim's ``KeyedVectors.evaluate_word_analogies``, batched.

    The same questions, the same answer (3CosAdd: the word nearest to ``b + c - a`` in cosine,
    over the first `restrict_vocab` words, the question's words excluded, case-insensitive),
    computed for `batch` questions at a time with one matrix product instead of one
    ``most_similar`` call per question: tens of times faster on a large vocabulary.

    Parameters
    ----------
    wv : :class:`~gensim.models.KeyedVectors`
        The vectors.
    analogies : str
        Path to a file in the format of ``questions-words.txt``.
    restrict_vocab : int, optional
        Only the first this many words (the most frequent) answer or are asked about.
    batch : int, optional
        Questions per matrix product.

    Returns
    -------
    (float, int)
        The share of answered questions answered right, and how many were answered (the
        questions whose four words are all among the first `restrict_vocab`).
    """
    from gensim import utils

    keys = wv.index_to_key[:restrict_vocab]
    index = {k.upper(): i for i, k in reversed(list(enumerate(keys)))}
    questions = []
    with utils.open(analogies, "rb") as fin:
        for line in fin:
            line = utils.to_unicode(line)
            if line.startswith(": "):
                continue
            words = [w.upper() for w in line.split()]
            if len(words) == 4 and all(w in index for w in words):
                questions.append([index[w] for w in words])
    if not questions:
        return float("nan"), 0
    questions = np.array(questions, dtype=np.int64)
    vectors = np.asarray(wv.vectors[:len(keys)], dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    correct = 0
    for start in range(0, len(questions), batch):
        q = questions[start:start + batch]
        target = unit[q[:, 1]] + unit[q[:, 2]] - unit[q[:, 0]]
        scores = target @ unit.T
        rows = np.arange(len(q))
        for column in range(3):
            scores[rows, q[:, column]] = -np.inf
        correct += int(np.sum(np.argmax(scores, axis=1) == q[:, 3]))
    return correct / len(questions), len(questions)
