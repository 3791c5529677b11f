"""What the kernels build a model's input vector from: its ``input_kind``, one of :class:`InputKind`."""
import enum


class InputKind(str, enum.Enum):
    """A model class's ``input_kind``; a ``str``, so that it also compares equal to its value."""

    WORDS = "words"
    """Word2Vec: a word's row of ``wv.vectors``."""
    SUBWORDS = "subwords"
    """FastText: a word's row of ``wv.vectors_vocab`` and the rows of its n-gram buckets."""
    DOCUMENTS = "documents"
    """Doc2Vec: the words' rows and the rows of the documents' tags (``dv.vectors``)."""
