"""Corpus readers that survive bad bytes.

:class:`LineSentence` is gensim's :class:`~gensim.models.word2vec.LineSentence` (one sentence
per line, tokens split on whitespace, read through smart_open so ``.gz``, ``.bz2`` and URLs
work, lines longer than `max_sentence_length` split into pieces), except that a token which is
not valid UTF-8 is **skipped and counted** instead of failing the whole run. The
``corpus_file`` training path skips the same tokens, so both paths see the same corpus.
"""
import itertools
import logging
import os

from gensim import utils
from gensim.models import word2vec as gensim_word2vec

logger = logging.getLogger(__name__)


def decode_tokens(line):
    """Split a line of bytes on whitespace; return (valid tokens, number of invalid ones)."""
    try:
        return line.decode("utf8").split(), 0
    except UnicodeDecodeError:
        tokens, invalid = [], 0
        for raw in line.split():
            try:
                tokens.append(raw.decode("utf8"))
            except UnicodeDecodeError:
                invalid += 1
        return tokens, invalid


class LineSentence(gensim_word2vec.LineSentence):
    """gensim's LineSentence, skipping (and counting) tokens that are not valid UTF-8.

    Parameters
    ----------
    source : str or file-like
        Path (plain, ``.gz``, ``.bz2``, or any URL smart_open reads) or an open binary file.
    max_sentence_length : int, optional
        Longer lines are split into pieces of this many tokens.
    limit : int, optional
        Read only the first `limit` lines.

    Attributes
    ----------
    invalid_tokens : int
        Tokens skipped in the last complete pass.
    """

    def __init__(self, source, max_sentence_length=gensim_word2vec.MAX_WORDS_IN_BATCH, limit=None):
        super().__init__(source, max_sentence_length=max_sentence_length, limit=limit)
        self.invalid_tokens = 0

    def _lines(self):
        try:
            self.source.seek(0)
            yield from itertools.islice(self.source, self.limit)
        except AttributeError:
            with utils.open(self.source, "rb") as fin:
                yield from itertools.islice(fin, self.limit)

    def __iter__(self):
        invalid = 0
        for line in self._lines():
            if isinstance(line, str):
                line = line.encode("utf8", "surrogateescape")
            tokens, bad = decode_tokens(line)
            invalid += bad
            for i in range(0, max(len(tokens), 1), self.max_sentence_length):
                yield tokens[i:i + self.max_sentence_length]
        self.invalid_tokens = invalid

    def warn_invalid(self):
        """Log a warning if the last pass skipped tokens."""
        warn_invalid_tokens(self.invalid_tokens, self.source)


def warn_invalid_tokens(count, source):
    """Log a warning that `count` tokens of `source` were skipped as invalid UTF-8 (none: nothing)."""
    if count:
        logger.warning("skipped %i tokens that are not valid UTF-8 in %s", count, source)


def load_sentences(path, limit=None):
    """Read a whole corpus into a list: one sentence per line, through :class:`LineSentence`.

    Parameters
    ----------
    path : str
        A plain, ``.gz`` or ``.bz2`` file, or a URL smart_open reads.
    limit : int, optional
        Read at most this many lines.

    Returns
    -------
    list of list of str
        The non-empty sentences.

    Raises
    ------
    FileNotFoundError
        If `path` is a local path that does not exist.
    ValueError
        If `path` is a folder.
    OSError
        If the file is truncated (a ``.gz`` or ``.bz2`` that ends early) or cannot be read.
    """
    if "://" not in path and not os.path.exists(path):
        raise FileNotFoundError(f"corpus not found: {path}")
    if "://" not in path and os.path.isdir(path):
        raise ValueError(f"corpus {path} is a folder, not a file")
    reader = LineSentence(path, limit=limit)
    try:
        sentences = [s for s in reader if s]
    except EOFError as err:   # a truncated .gz or .bz2
        raise OSError(f"corpus {path} is truncated: {err}") from err
    reader.warn_invalid()
    return sentences
