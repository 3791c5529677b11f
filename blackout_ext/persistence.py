"""Atomic save and careful load of a model: a save that dies midway leaves the previous model intact.

gensim pickles the model to ``<fname>`` and its large arrays to ``<fname>.<attribute>.npy``,
writing each file in place, so a crash midway leaves a mix of two models. Here the arrays go to
``<fname>.<generation>.<attribute>.npy`` with a fresh generation name, the main file is written
under a temporary name, flushed to disk and renamed over `fname` in one step, and only then
are the previous generation's arrays removed. At every instant `fname` names a complete model.

A saved model is a pickle, as in gensim: loading one can run code. Load only files you trust.
"""
import logging
import os
import pickle
import re
import secrets

from gensim import utils

logger = logging.getLogger(__name__)

DERIVED_ATTRS = ("noise_logq", "noise_alias")
"""Tables derived from the vocabulary: rebuilt on load, never pickled."""
CACHE_ATTRS = ("_noise_state", "_vocab_hash_cache", "_subword_cache", "_hs_cache")
"""Caches of derived state: never pickled."""
DEFAULTS = (("loss", None), ("nce_normalizer", "fixed"), ("nce_log_z", None), ("shared_samples", False),
            ("output_bias", False), ("syn1neg_bias", None))
"""What a model saved before an option existed gets: the option off, as it trained then."""


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


def set_missing_defaults(model):
    """Give a model saved by gensim, or before an option existed, every attribute this package reads."""
    for name, default in DEFAULTS:
        if not hasattr(model, name):
            setattr(model, name, default)
    for name in DERIVED_ATTRS:
        if not hasattr(model, name):
            setattr(model, name, None)
