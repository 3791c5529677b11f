"""Prediction from a trained model: the centre word's distribution given a context, and the exact
held-out log-likelihood (both through :mod:`blackout_ext.evaluation`'s scorer, for every loss)."""
import logging

import numpy as np

logger = logging.getLogger(__name__)


class PredictionMixin:
    """``predict_output_word`` and ``evaluate_log_likelihood`` for every loss."""

    def predict_output_word(self, context_words_list, topn=10):
        """Get the probability distribution of the centre word given context words.

        Works for every loss: a softmax over ``syn1neg`` that subtracts its maximum (so it never
        overflows), or for ``hs`` the exact product along each word's Huffman path.

        Parameters
        ----------
        context_words_list : list of str
            List of context words.
        topn : int, optional
            Return `topn` words and their probabilities.

        Returns
        -------
        list of (str, float)
            `topn` length list of tuples of (word, probability), or None if every context word
            is out of vocabulary.
        """
        from blackout_ext.evaluation import _Scorer

        if not hasattr(self.wv, 'vectors') or not len(self.wv):
            raise RuntimeError("Parameters required for predicting the output words not found.")
        word2_indices = [self.wv.get_index(w) for w in context_words_list if w in self.wv]
        if not word2_indices:
            logger.warning("All the input context words are out-of-vocabulary for the current model.")
            return None
        scorer = _Scorer(self)
        prob_values = np.exp(scorer.all_log_probs(scorer.context_vector(word2_indices)))
        top_indices = np.argsort(-prob_values, kind='stable')[:topn]
        return [(self.wv.index_to_key[index1], float(prob_values[index1])) for index1 in top_indices]

    def evaluate_log_likelihood(self, corpus_iterable, batch_contexts=None):
        """Exact log-likelihood of held-out text; see :func:`blackout_ext.evaluation.evaluate_log_likelihood`.

        Parameters
        ----------
        corpus_iterable : iterable of list of str
            Held-out sentences.
        batch_contexts : int, optional
            Contexts scored per batch.

        Returns
        -------
        :class:`~blackout_ext.evaluation.LogLikelihoodResult`
            ``mean_log_prob``, ``perplexity``, ``n_predictions`` and, for NCE, the
            self-normalisation diagnostics.
        """
        from blackout_ext.evaluation import evaluate_log_likelihood

        return evaluate_log_likelihood(self, corpus_iterable, batch_contexts=batch_contexts)
