"""Atomic save and careful load of a model: a save that dies midway leaves the previous model intact.

gensim pickles the model to ``<fname>`` and its large arrays to ``<fname>.<attribute>.npy``,
writing each file in place, so a crash midway leaves a mix of two models. Here the arrays go to
``<fname>.<generation>.<attribute>.npy`` with a fresh generation name, the main file is written
under a temporary name, flushed to disk and renamed over `fname` in one step, and only then
are the previous generation's arrays removed. At every instant `fname` names a complete model.

A saved model is a pickle, as in gensim: loading one can run code. Load only files you trust.

:class:`PersistenceMixin` gives the models ``save`` and ``load`` on these terms.
"""
import logging
import os
import pickle
import re
import secrets

from gensim import utils

from blackout_ext import keyedvectors, output_arrays

logger = logging.getLogger(__name__)

DERIVED_ATTRS = ("noise_logq", "noise_alias")
"""Tables derived from the vocabulary: rebuilt on load, never pickled."""
CACHE_ATTRS = ("_noise_state", "_vocab_hash_cache", "_subword_cache", "_hs_cache")
"""Caches of derived state: never pickled."""
DEFAULTS = (("loss", None), ("nce_normalizer", "fixed"), ("shared_samples", False), ("output_bias", False))
"""What a model saved before an option existed gets: the option off, as it trained then (and None for
each array of :data:`~blackout_ext.output_arrays.OUTPUT_ARRAYS` it lacks)."""


def save_atomically(model, fname, separately=None, sep_limit=10 * 1024**2, ignore=frozenset(),
                    pickle_protocol=utils.PICKLE_PROTOCOL):
    """Save `model` to the path `fname`, atomically; the parameters are those of gensim's ``save``."""
    model.add_lifecycle_event("saving", fname_or_handle=fname, separately=str(separately),
                              sep_limit=sep_limit, ignore=ignore)
    generation = "g" + secrets.token_hex(6)
    compress, subname = utils.SaveLoad._adapt_by_suffix(fname)
    subname = generation_subname(fname, generation, subname)
    written = []

    def recording_subname(*args):
        path = subname(*args)
        written.append(path)
        return path

    model._save_generation = generation
    tmp = f"{fname}.{generation}.tmp"
    restores = []
    try:
        restores = model._save_specials(
            fname, separately, sep_limit, ignore, pickle_protocol, compress, recording_subname)
        utils.pickle(model, tmp, protocol=pickle_protocol)
        for path in written + [tmp]:
            fsync(path)
        os.replace(tmp, fname)
        fsync(os.path.dirname(os.path.abspath(fname)))
    except BaseException:
        for path in written + [tmp]:
            if os.path.exists(path):
                os.unlink(path)
        raise
    finally:
        for obj, asides in restores:
            for attrib, val in asides.items():
                setattr(obj, attrib, val)
    remove_other_generations(fname, generation)
    logger.info("saved %s", fname)


def load_checked(load, cls, fname, mmap=None):
    """Call gensim's `load` for `fname` and turn its failures into errors that name the file.

    Returns the loaded object (the caller adopts a plain gensim model).

    Raises
    ------
    FileNotFoundError
        If the file, or one of its ``.npy`` arrays, is missing.
    AttributeError
        If the file holds another kind of object (as gensim's ``Word2Vec.load`` raises).
    OSError
        If the file, or one of its ``.npy`` arrays, is truncated or not a saved object.
    """
    if not os.path.isfile(fname):
        raise FileNotFoundError(f"no saved model at {fname}")
    try:
        return load(fname, mmap=mmap)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"cannot load model {fname}: missing file {err.filename}") from err
    except AttributeError as err:
        raise AttributeError(f"cannot load model {fname}: {err}") from err
    except (EOFError, pickle.UnpicklingError, ValueError, OSError, ImportError) as err:
        raise OSError(f"cannot load model {fname}: it, or one of its .npy arrays, is truncated or "
                      f"not a saved model ({type(err).__name__}: {err})") from err


def generation_subname(fname, generation, subname):
    """Name a saved array ``<fname>.<generation>.<attribute>.npy`` instead of gensim's ``<fname>.<attribute>.npy``."""
    def named(*args):
        first = args[0]
        if first.startswith(fname):
            first = f"{fname}.{generation}{first[len(fname):]}"
        return subname(first, *args[1:])
    return named


def fsync(path):
    """Flush the file or folder `path` to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_other_generations(fname, keep):
    """Remove the arrays (and leftover temporary files) of earlier or interrupted saves of `fname`."""
    directory = os.path.dirname(os.path.abspath(fname))
    pattern = re.compile(re.escape(os.path.basename(fname)) + r"\.(g[0-9a-f]{12})\.")
    for entry in os.listdir(directory):
        match = pattern.match(entry)
        if match and match.group(1) != keep:
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                logger.warning("could not remove %s", entry)


VECTOR_ATTRS = ("wv", "dv")
"""A model's ``KeyedVectors``: adopted into :mod:`blackout_ext.keyedvectors` when set or loaded."""


def set_missing_defaults(model):
    """Give a model saved by gensim, or before an option existed, every attribute this package
    reads, and its vectors the package's text writer."""
    for name in VECTOR_ATTRS:
        if name in model.__dict__:
            keyedvectors.adopted(model.__dict__[name])
    for name, default in DEFAULTS + tuple((array.name, None) for array in output_arrays.OUTPUT_ARRAYS):
        if not hasattr(model, name):
            setattr(model, name, default)
    for name in DERIVED_ATTRS:
        if not hasattr(model, name):
            setattr(model, name, None)


def model_kind(model):
    """The gensim model class that `model` is, of those this package extends (gensim's ``Word2Vec``,
    ``FastText`` and ``Doc2Vec``): the most derived one it is an instance of, or None."""
    classes, kinds = list(PersistenceMixin.__subclasses__()), []
    while classes:
        sub = classes.pop()
        classes.extend(sub.__subclasses__())
        if getattr(sub, 'gensim_class', None) is not None and isinstance(model, sub.gensim_class):
            kinds.append(sub.gensim_class)
    return max(kinds, key=lambda kind: len(kind.__mro__), default=None)


class PersistenceMixin:
    """Atomic ``save``, careful ``load``, and the adoption of models saved by gensim."""

    def save(self, fname_or_handle, separately=None, sep_limit=10 * 1024**2, ignore=frozenset(),
             pickle_protocol=utils.PICKLE_PROTOCOL):
        """Save the model atomically: a save that dies midway leaves the previous model intact.

        See :mod:`blackout_ext.persistence` for how.

        Parameters
        ----------
        fname_or_handle : str or file-like
            Path to the file (atomic), or an open file handle (pickled in one piece, as gensim).
        separately : list of str or None, optional
            As in gensim: attributes stored in separate files (None: large arrays automatically).
        sep_limit : int, optional
            Don't store arrays smaller than this separately. In bytes.
        ignore : frozenset of str, optional
            Attributes that shouldn't be stored at all.
        pickle_protocol : int, optional
            Protocol number for pickle.
        """
        if not isinstance(fname_or_handle, (str, os.PathLike)):
            return super().save(fname_or_handle, separately=separately, sep_limit=sep_limit, ignore=ignore,
                                pickle_protocol=pickle_protocol)
        save_atomically(self, os.fspath(fname_or_handle), separately=separately, sep_limit=sep_limit,
                                    ignore=ignore, pickle_protocol=pickle_protocol)

    def __setstate__(self, state):
        # every unpickling (load(), pickle.loads, copy.deepcopy) restores the attributes without
        # __setattr__: the vectors get the package's text writer here, and an older pickle the
        # attributes it lacks (before load()'s _load_specials brings back the separate arrays)
        self.__dict__.update(state)
        set_missing_defaults(self)

    def _save_specials(self, fname, separately, sep_limit, ignore, pickle_protocol, compress, subname):
        # derived tables are rebuilt on load, never pickled
        ignore = frozenset(ignore) | frozenset(DERIVED_ATTRS) | frozenset(CACHE_ATTRS) \
            | frozenset(array.name for array in output_arrays.OUTPUT_ARRAYS if not array.saved)
        return super()._save_specials(fname, separately, sep_limit, ignore, pickle_protocol, compress, subname)

    def _load_specials(self, fname, mmap, compress, subname):
        generation = getattr(self, '_save_generation', None)
        if generation:
            subname = generation_subname(fname, generation, subname)
        super()._load_specials(fname, mmap, compress, subname)

    @classmethod
    def load(cls, fname, mmap=None):
        """Load a model saved with :meth:`save`; a plain gensim ``Word2Vec`` model is upgraded.

        Parameters
        ----------
        fname : str or os.PathLike
            Path to the saved file.
        mmap : str, optional
            Memory-map the large arrays (``'r'``: read-only, for querying; Doc2Vec's
            ``infer_vector`` works on such a model too).

        Returns
        -------
        :class:`~blackout_ext.Word2Vec`
            The model. One saved by gensim comes back with ``loss=None`` and trains as it did.

        Raises
        ------
        FileNotFoundError
            If the file, or one of its ``.npy`` arrays, is missing.
        AttributeError
            If the file holds another kind of object (a saved ``KeyedVectors``, or another of the
            three models: ``FastText.load`` of a Word2Vec file, say), as gensim's ``Word2Vec.load``
            raises for an object that is no Word2Vec.
        OSError
            If the file, or one of its ``.npy`` arrays, is truncated or not a saved object.
            Every message names the file.

        Notes
        -----
        A saved model is a pickle, as in gensim: loading one can run code. Load only files you trust.
        """
        fname = os.fspath(fname)
        model = load_checked(super().load, cls, fname, mmap=mmap)
        if isinstance(model, cls):
            return model
        if model_kind(model) is not cls.gensim_class:
            raise AttributeError(f"cannot load {fname} as {cls.__name__}: it holds a {type(model).__name__} model")
        return cls.from_gensim(model)

    @classmethod
    def from_gensim(cls, model):
        """Adopt a model of gensim's class (``gensim_class``) as this class, with ``loss=None``.

        The arrays are shared, not copied: `model` should not be used afterwards.
        """
        if not isinstance(model, cls.gensim_class):
            raise TypeError(f"expected a gensim {cls.gensim_class.__name__} model, got {type(model).__name__}")
        model.__class__ = cls
        set_missing_defaults(model)
        return model
