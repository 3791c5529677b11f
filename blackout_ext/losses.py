"""The table of output layers: one row per loss, the one place where its facts live.

Every check, constant, help text, docstring and test list in the package derives from
:data:`LOSS_TABLE`, and so does the kernels' code of each loss: ``setup.py`` writes the
kernel's ``LossMode`` enum and its gammas dispatch from this table (:func:`kernel_sources`),
and the kernel refuses to import if its build and the table disagree. Adding a sampled loss
``foo`` means one row here, one function ``gammas_foo`` in ``_loss_steps.pxi`` and one reference
function in ``tests/reference.py``; see ``ARCHITECTURE.md``.

This module imports nothing of the package, so that ``setup.py`` can run it before the build.
"""
import string
from dataclasses import dataclass

STEPS = ("sampled", "dense", "tree")
STEP_COST = {"sampled": "O(k d)", "dense": "O(V d)", "tree": "O(d log V)"}
"""The cost of one prediction, by step."""
"""How the kernel trains a loss: k sampled candidates through its gammas function
(``gammas_<name>``), the whole vocabulary (the full softmax's BLAS step), or the Huffman tree
(the hierarchical softmax's step)."""


@dataclass(frozen=True)
class Loss:
    """What the package needs to know about one output layer.

    Attributes
    ----------
    name : str
        The value of ``Word2Vec(loss=...)``.
    code : int
        The kernel's code for it (``LOSS_<NAME>`` of the kernel's ``LossMode``, which is written
        from this table); 0 for gensim's own kernels.
    step : str
        One of :data:`STEPS`: how the kernel trains it. A ``"sampled"`` loss has a gammas
        function ``gammas_<name>``.
    keeps_hits : bool
        A noise draw equal to the target stays a candidate (False: it is redrawn).
    learned_normalizer : bool
        ``nce_normalizer='learned'`` applies.
    shared_samples : bool
        ``shared_samples=True`` applies (skip-gram).
    output_bias : bool
        The scores carry an output bias ``b_w`` (``syn1neg_bias``).
    tuned_defaults : bool
        Word2Vec with this loss takes :data:`TUNED_DEFAULTS` for the parameters it is not given
        (measured for time to quality); otherwise gensim's defaults.
    reporting_code : int
        For gensim's own losses: the code of this package's kernel step that trains the same
        loss and reports it. FastText and Doc2Vec use it when ``compute_loss=True``, since
        gensim's kernels for those models compute no loss; 0 for none.
    summary : str
        One line for docs and the command line.
    """

    name: str
    code: int
    step: str = "sampled"
    keeps_hits: bool = True
    learned_normalizer: bool = False
    shared_samples: bool = False
    output_bias: bool = False
    tuned_defaults: bool = False
    reporting_code: int = 0
    summary: str = ""

    def __post_init__(self):
        if self.step not in STEPS:
            raise ValueError(f"loss {self.name!r}: step must be one of {STEPS}, not {self.step!r}")

    @property
    def own_kernel(self):
        """bool: trained by this package's kernels (on ``syn1neg``), not gensim's."""
        return self.code != 0

    @property
    def dense(self):
        """bool: scores the whole vocabulary (O(|V| d) per prediction), not k sampled candidates."""
        return self.step == "dense"

    @property
    def kernel_code(self):
        """int: the code of the kernel step that trains it (its own, or its reporting step's); 0 for none."""
        return self.code or self.reporting_code

    @property
    def enum_name(self):
        """str: its name in the kernel's ``LossMode``."""
        return "LOSS_" + self.name.upper()


LOSS_TABLE = (
    Loss("ns", 5, keeps_hits=False, shared_samples=True,
         summary="negative sampling on this package's kernel (without loss=, gensim's own)"),
    Loss("hs", 0, step="tree", reporting_code=6,
         summary="hierarchical softmax, gensim's kernel (leave negative unset)"),
    Loss("nce", 1, learned_normalizer=True, shared_samples=True, output_bias=True, tuned_defaults=True,
         summary="noise-contrastive estimation, D = s - c - log(k q), with c = 0 or learned (nce_normalizer)"),
    Loss("sampled_softmax", 2, shared_samples=True, output_bias=True, tuned_defaults=True,
         summary="softmax over the target and k draws, logits s - log q"),
    Loss("blackout", 3, keeps_hits=False, shared_samples=True, output_bias=True, tuned_defaults=True,
         summary="BlackOut (Ji et al., 2016): the same weighted softmax plus sum log(1 - p_j)"),
    Loss("softmax", 4, step="dense", output_bias=True, summary="the exact full softmax over the vocabulary"),
)

LOSS_SPECS = {loss.name: loss for loss in LOSS_TABLE}
"""dict of str to :class:`Loss`: the table by name."""
LOSSES = tuple(LOSS_SPECS)
"""Every value ``Word2Vec(loss=...)`` accepts (besides None, gensim's own choice)."""
GENSIM_LOSSES = tuple(loss.name for loss in LOSS_TABLE if not loss.own_kernel)
"""Output layers trained by gensim's own kernels."""
KERNEL_LOSSES = tuple(loss.name for loss in LOSS_TABLE if loss.own_kernel)
"""Output layers trained by this package's kernels, all on ``syn1neg``."""
NEW_LOSSES = KERNEL_LOSSES
"""The same as :data:`KERNEL_LOSSES`, by the name the first release exported."""
SAMPLED_LOSSES = tuple(loss.name for loss in LOSS_TABLE if loss.own_kernel and not loss.dense)
"""This package's losses that draw k noise samples per prediction."""
SHARED_SAMPLE_LOSSES = tuple(loss.name for loss in LOSS_TABLE if loss.shared_samples)
"""The losses that take ``shared_samples=True``."""
BIAS_LOSSES = tuple(loss.name for loss in LOSS_TABLE if loss.output_bias)
"""The losses whose scores carry an output bias."""


GENSIM_DEFAULTS = dict(alpha=0.025, shared_samples=False)
"""What Word2Vec takes for these parameters when not given, without a tuned loss: gensim's."""
TUNED_DEFAULTS = {"sg": dict(alpha=0.05, shared_samples=True), "cbow": dict(alpha=0.075, shared_samples=False)}
"""What Word2Vec with a loss whose row has ``tuned_defaults`` takes for the parameters it is not
given, by architecture: the settings that reached gensim ns's 10-epoch quality soonest
(``benchmarks/bench_time_to_quality.py``; the README's "Defaults" gives the measurement)."""


def trained_loss(loss, hs, negative):
    """The name of the loss that trains a model with these parameters: `loss` if given; for
    ``loss=None``, gensim's choice, ``'hs'`` (``hs=1, negative=0``) or ``'ns'`` (``negative > 0,
    hs=0``), or None when gensim trains both at once (or neither)."""
    if loss is not None:
        return loss
    if hs and not negative:
        return "hs"
    if negative and not hs:
        return "ns"
    return None


def default_parameters(loss, sg):
    """The defaults of the parameters :data:`GENSIM_DEFAULTS` names, for `loss` and architecture `sg`.

    Raises
    ------
    ValueError
        If `loss` is not a loss of the table.
    """
    spec = loss_spec(loss)
    if spec is None or not spec.tuned_defaults:
        return dict(GENSIM_DEFAULTS)
    return dict(TUNED_DEFAULTS["sg" if sg == 1 else "cbow"])


def loss_spec(name):
    """The :class:`Loss` row of `name`, or None for ``loss=None`` (gensim's own choice).

    Raises
    ------
    ValueError
        If `name` is not a loss of the table; the message lists them.
    """
    if name is None:
        return None
    try:
        return LOSS_SPECS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(map(repr, LOSSES))}") from None


def loss_list(names):
    """`names` as reST literals for a docstring: ``'nce'``, ``'blackout'`` and ``'softmax'``."""
    quoted = [f"``{name!r}``" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


GENERATED = "# Written by setup.py from LOSS_TABLE in blackout_ext/losses.py; do not edit, edit the table.\n"


def kernel_sources(table=LOSS_TABLE):
    """The kernel's code that the loss table determines, as Cython source.

    Returns
    -------
    dict of str to str
        ``"_loss_codes.pxi"``: the ``LossMode`` enum (``LOSS_<NAME> = code``), included by
        ``_inner.pxd``; ``"_loss_dispatch.pxi"``: ``gamma_function``, the gammas function of each
        sampled loss's code, included by ``_inner.pyx`` after the gammas functions.

    Raises
    ------
    ValueError
        If two rows share a kernel code.
    """
    rows = sorted((loss for loss in table if loss.kernel_code), key=lambda loss: loss.kernel_code)
    codes = [loss.kernel_code for loss in rows]
    if len(set(codes)) != len(codes):
        raise ValueError(f"the loss table gives two losses one kernel code: {codes}")
    enum = ["cpdef enum LossMode:    # the kernel code of each loss (Loss.kernel_code)"]
    enum += [f"    {loss.enum_name} = {loss.kernel_code}" for loss in rows]
    dispatch = [
        "cdef inline gamma_fn gamma_function(int loss) noexcept nogil:",
        "    # the gammas function of each sampled loss; init_config accepts no other code",
    ]
    for loss in rows:
        if loss.step == "sampled":
            dispatch += [f"    if loss == {loss.enum_name}:", f"        return gammas_{loss.name}"]
    dispatch.append("    return NULL")
    return {"_loss_codes.pxi": GENERATED + "\n".join(enum) + "\n",
            "_loss_dispatch.pxi": GENERATED + "\n".join(dispatch) + "\n"}


def doc_fields():
    """The texts that docstrings take from the table, by the ``$name`` they replace (:func:`fill_docs`).

    ``$loss_choices`` (numpydoc's ``{None, 'ns', ...}``), ``$loss_items`` (one bullet per loss),
    ``$own_losses``, ``$sampled_losses``, ``$tuned_losses``, ``$shared_losses``, ``$bias_losses``,
    ``$keeps_hits_losses``, ``$redraws_losses`` (quoted lists), ``$tuned_sg_alpha``, ``$tuned_cbow_alpha``.
    """
    def listed(names):
        return loss_list(names) if names else "none"

    def either(names):
        return listed(names).replace(" and ", " or ")

    items = ["* None (default): exactly gensim's behaviour, chosen by `hs` and `negative`."]
    items += [f"* ``{loss.name!r}``: {loss.summary}." for loss in LOSS_TABLE]
    return dict(
        loss_choices="{" + ", ".join(["None"] + [repr(name) for name in LOSSES]) + "}",
        loss_items="\n".join(items),
        own_losses=listed(KERNEL_LOSSES),
        sampled_losses=listed(SAMPLED_LOSSES),
        tuned_losses=either([loss.name for loss in LOSS_TABLE if loss.tuned_defaults]),
        shared_losses=either(SHARED_SAMPLE_LOSSES),
        bias_losses=listed(BIAS_LOSSES),
        keeps_hits_losses=listed([loss.name for loss in LOSS_TABLE if loss.own_kernel and loss.keeps_hits
                                     and not loss.dense]),
        redraws_losses=listed([loss.name for loss in LOSS_TABLE if loss.own_kernel and not loss.keeps_hits]),
        tuned_sg_alpha=str(TUNED_DEFAULTS["sg"]["alpha"]),
        tuned_cbow_alpha=str(TUNED_DEFAULTS["cbow"]["alpha"]),
    )


def fill_docs(text):
    """`text` (a docstring) with its ``$name`` fields filled from the table (:func:`doc_fields`).

    A bullet list field (``$loss_items``) takes the indentation of the line it stands on. Used as
    a decorator, it fills the function's docstring.

    Raises
    ------
    KeyError
        If `text` names a field that :func:`doc_fields` does not have.
    """
    if callable(text):
        text.__doc__ = fill_docs(text.__doc__)
        return text
    if text is None:
        return None
    fields = doc_fields()
    lines = []
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith("$") and stripped[1:] in fields:
            indent = line[:len(line) - len(stripped)]
            lines.extend(indent + item for item in fields[stripped[1:]].split("\n"))
        else:
            lines.append(line)
    return string.Template("\n".join(lines)).substitute(fields)


README_BEGIN = "<!-- the loss table: written by `python -m blackout_ext.losses --readme README.md`; edit LOSS_TABLE -->"
README_END = "<!-- end of the loss table -->"


def markdown_table(table=LOSS_TABLE):
    """The README's table of losses: each row's name, summary and cost per prediction."""
    rows = ["| `loss` | what it trains | per prediction |", "|---|---|---|",
            "| `None` | gensim's choice by `hs` / `negative` | |"]
    rows += [f'| `"{loss.name}"` | {loss.summary} | {STEP_COST[loss.step]} |' for loss in table]
    return "\n".join([README_BEGIN] + rows + [README_END])


def rewrite_readme(path, table=LOSS_TABLE):
    """Replace the block between :data:`README_BEGIN` and :data:`README_END` of `path` with
    :func:`markdown_table` of `table`; returns whether the file changed."""
    with open(path, encoding="utf8") as fin:
        text = fin.read()
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    new = text[:start] + markdown_table(table) + text[end:]
    if new != text:
        with open(path, "w", encoding="utf8") as fout:
            fout.write(new)
    return new != text


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    import sys

    if sys.argv[1:2] == ["--readme"] and len(sys.argv) == 3:
        print("rewrote" if rewrite_readme(sys.argv[2]) else "unchanged", sys.argv[2])
    else:
        print(markdown_table())
