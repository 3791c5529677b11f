"""gensim's ``KeyedVectors`` with the text of ``save_word2vec_format`` written in C.

gensim writes each float of a text vectors file with ``str(numpy.float32)``, about a microsecond
per value: 3 s of a 3-epoch job on 27k words, more than the vocabulary and the import together.
:class:`TextWriterMixin` writes the same bytes (``_text.rows_text``, tested against gensim's
writer) about 15x faster. Everything else is gensim's: the binary format, and vectors that are
not float32, go to gensim's writer.

The models' ``wv`` (and Doc2Vec's ``dv``) are adopted into these classes when they are set
(:func:`adopted`). A pickled ``KeyedVectors`` (``model.wv.save(...)``) is still gensim's class:
gensim alone loads it.
"""
import copyreg
import itertools
import logging

import numpy as np
from gensim import utils
from gensim.models.fasttext import FastTextKeyedVectors as GensimFastTextKeyedVectors
from gensim.models.keyedvectors import KeyedVectors as GensimKeyedVectors

from blackout_ext import _text

logger = logging.getLogger(__name__)

ROWS_PER_CHUNK = 4096
"""Rows formatted at a time: the text of one chunk is held in memory, never the whole file's."""


class TextWriterMixin:
    """``save_word2vec_format`` with the text written in C; pickled as the gensim class it extends."""

    gensim_class = None

    def save_word2vec_format(self, fname, fvocab=None, binary=False, total_vec=None, write_header=True,
                             prefix='', append=False, sort_attr='count'):
        """Store the vectors in the format of the C word2vec tool, as gensim does, byte for byte.

        Parameters
        ----------
        fname : str
            File path to save the vectors to.
        fvocab : str, optional
            File path to save the vocabulary (key and `sort_attr` per line) to; None for none.
        binary : bool, optional
            Binary format (gensim's writer) instead of text.
        total_vec : int, optional
            The count of vectors the header declares (when more are appended afterwards).
        write_header : bool, optional
            Write the first line (count of vectors and dimensions).
        prefix : str, optional
            String written before each key.
        append : bool, optional
            Append to `fname` instead of replacing it.
        sort_attr : str, optional
            Store the vectors in descending order of this attribute (default: most frequent first).

        Raises
        ------
        ValueError
            If `fvocab` is given and the vectors have no attribute `sort_attr`, as in gensim.
        """
        if binary or self.vectors.dtype != np.float32 or self.vectors.ndim != 2:
            return super().save_word2vec_format(fname, fvocab=fvocab, binary=binary, total_vec=total_vec,
                                                write_header=write_header, prefix=prefix, append=append,
                                                sort_attr=sort_attr)
        if total_vec is None:
            total_vec = len(self.index_to_key)
        mode = 'wb' if not append else 'ab'
        keys = self._keys_in_file_order(fvocab, sort_attr)
        if fvocab is not None:
            logger.info("storing vocabulary in %s", fvocab)
            with utils.open(fvocab, mode) as vout:
                for word in keys:
                    vout.write(f"{prefix}{word} {self.get_vecattr(word, sort_attr)}\n".encode('utf8'))
        logger.info("storing %sx%s projection weights into %s", total_vec, self.vector_size, fname)
        if (len(self.index_to_key), self.vector_size) != self.vectors.shape:
            raise ValueError(f"the vectors' shape {self.vectors.shape} is not ({len(self.index_to_key)}, "
                             f"{self.vector_size}), the keys by vector_size")
        # gensim's order: the (possibly empty) leading range of int keys that are their own
        # index (Doc2Vec's plain tags), then every key in `sort_attr` order
        leading = 0
        for i, key in enumerate(self.index_to_key):
            if i != key:
                break
            leading += 1
        order = list(itertools.chain(range(leading), keys))
        vectors = np.ascontiguousarray(self.vectors)
        with utils.open(fname, mode) as fout:
            if write_header:
                fout.write(f"{total_vec} {self.vector_size}\n".encode('utf8'))
            for start in range(0, len(order), ROWS_PER_CHUNK):
                chunk = order[start:start + ROWS_PER_CHUNK]
                rows = np.fromiter((self.get_index(key) for key in chunk), dtype=np.int64, count=len(chunk))
                for key, text in zip(chunk, _text.rows_text(vectors, rows)):
                    fout.write(f"{prefix}{key} ".encode('utf8') + text + b"\n")

    def _keys_in_file_order(self, fvocab, sort_attr):
        if sort_attr in self.expandos:
            return sorted(self.key_to_index.keys(), key=lambda k: -self.get_vecattr(k, sort_attr))
        if fvocab is not None:
            raise ValueError(f"Cannot store vocabulary with '{sort_attr}' because that attribute does not exist")
        logger.warning("attribute %s not present in %s; will store in internal index_to_key order", sort_attr, self)
        return self.index_to_key

    def __reduce_ex__(self, protocol):
        # pickled as gensim's class, so that gensim alone loads a saved KeyedVectors (pickle
        # refuses __newobj__ of another class than the object's; _reconstructor does the same)
        reduced = super().__reduce_ex__(protocol)
        return (copyreg._reconstructor, (self.gensim_class, object, None)) + tuple(reduced[2:])


class KeyedVectors(TextWriterMixin, GensimKeyedVectors):
    """gensim's ``KeyedVectors``, with :meth:`TextWriterMixin.save_word2vec_format`."""

    gensim_class = GensimKeyedVectors


class FastTextKeyedVectors(TextWriterMixin, GensimFastTextKeyedVectors):
    """gensim's ``FastTextKeyedVectors``, with :meth:`TextWriterMixin.save_word2vec_format`."""

    gensim_class = GensimFastTextKeyedVectors


ADOPTED = {cls.gensim_class: cls for cls in (KeyedVectors, FastTextKeyedVectors)}
"""gensim's class -> this package's: only objects of exactly these classes are adopted."""


def adopted(value):
    """`value`, of this package's class if it is exactly a gensim class it extends (in place)."""
    cls = ADOPTED.get(type(value))
    if cls is not None:
        value.__class__ = cls
    return value
