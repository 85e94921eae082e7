"""Einstein summation, spelled out: the bookkeeping behind the ``einsum`` rules.

``einsum`` is linear in each operand, so both derivative rules are einsums
again:

* the JVP with respect to operand ``k`` is the same einsum with the tangent in
  place of operand ``k``, and a new label for the tangent's batch axis that is
  carried to the output;
* the VJP runs the einsum "backwards": the cotangent of the output, contracted
  with every *other* operand, gives an array labelled like operand ``k``.

Two things make the VJP less than a one-liner, and both are handled by first
rewriting the subscripts in an *explicit* form (:func:`explicit`):

``...`` and broadcasting
    Each ellipsis becomes named labels.  An axis of length 1 that NumPy
    broadcasts against a longer one gets a label of its own, used nowhere
    else: summing over a length-1 axis is exactly what broadcasting means.
labels used only by operand ``k`` (``"ij->i"``, ``"ii->"``)
    The forward einsum sums them away; backwards, the cotangent is copied
    along them -- a contraction with ones.  A label repeated inside one
    operand (``"ii"``, a diagonal) sends the cotangent to the diagonal only,
    which is a contraction with the identity matrix.

The rules are built from the ``einsum`` primitive itself, so they can be
differentiated again.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as _np

LABELS = string.ascii_letters


def explicit(subscripts: str, shapes: Sequence[tuple[int, ...]]
             ) -> tuple[list[str], str]:
    """``subscripts`` with every ellipsis, broadcast and implicit output spelled out.

    Returns one label string per operand and the output's label string; the
    einsum they describe computes exactly what ``subscripts`` does.

    Examples
    --------
    >>> explicit("...ij,...jk", [(5, 2, 3), (3, 4)])  # '...' becomes 'a'
    (['aij', 'jk'], 'aik')
    >>> explicit("ij,ij->i", [(1, 3), (4, 3)])  # the length-1 axis is broadcast
    (['aj', 'ij'], 'i')
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum subscripts must be a string, got {subscripts!r}.")
    spec = subscripts.replace(" ", "")
    bad = sorted(set(spec) - set(LABELS + ",.->"))
    if bad:
        raise ValueError(
            f"einsum subscripts {subscripts!r} contain {''.join(bad)!r}; only "
            "letters, ',', '...' and '->' are allowed."
        )
    lhs, arrow, rhs = spec.partition("->")
    if any(c in lhs + rhs for c in "->"):
        raise ValueError(f"einsum subscripts {subscripts!r}: misplaced '->'.")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum subscripts {subscripts!r} name {len(terms)} operand(s) but "
            f"{len(shapes)} were given."
        )
    fresh = _fresh(set(spec))

    # Split each term into the labels before and after its ellipsis and find
    # how many axes each ellipsis stands for.
    parts = []
    for term, shape in zip(terms, shapes, strict=True):
        head, dots, tail = term.partition("...")
        if "." in head + tail:
            raise ValueError(
                f"einsum subscripts {subscripts!r}: '.' must come as '...'."
            )
        width = len(shape) - len(head) - len(tail)
        if width < 0 or (width > 0 and not dots):
            raise ValueError(
                f"einsum subscripts {term!r} do not match an operand with "
                f"{len(shape)} axes."
            )
        parts.append((head, width, tail))
    ellipsis_ndim = max((w for _, w, _ in parts), default=0)
    ellipsis = "".join(next(fresh) for _ in range(ellipsis_ndim))

    named = []
    for head, width, tail in parts:
        named.append(head + ellipsis[ellipsis_ndim - width:] + tail)
    sizes: dict[str, int] = {}
    for labels, shape in zip(named, shapes, strict=True):
        for label, n in zip(labels, shape, strict=True):
            sizes[label] = max(sizes.get(label, 1), n)

    if arrow:
        head, dots, tail = rhs.partition("...")
        out = head + (ellipsis if dots else "") + tail
    else:  # NumPy's implicit output: ellipsis axes, then labels used once, sorted
        counts = "".join(terms).replace(".", "")
        out = ellipsis + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))

    # Broadcast length-1 axes get labels of their own.
    ins = []
    for labels, shape in zip(named, shapes, strict=True):
        ins.append("".join(
            next(fresh) if n == 1 and sizes[label] != 1 else label
            for label, n in zip(labels, shape, strict=True)
        ))
    return ins, out


def tensordot_labels(nda: int, ndb: int, axes: Any) -> tuple[list[str], str]:
    """``tensordot(a, b, axes)`` as explicit einsum labels.

    Examples
    --------
    >>> tensordot_labels(3, 2, 1)
    (['abc', 'ce'], 'abe')
    >>> tensordot_labels(2, 2, ([0], [1]))
    (['ab', 'ca'], 'bc')
    """
    if _np.ndim(axes) == 0:
        n = int(axes)
        ca, cb = list(range(nda - n, nda)), list(range(n))
    else:
        ca_, cb_ = axes
        ca = [int(a) % nda for a in _np.atleast_1d(ca_)]
        cb = [int(b) % ndb for b in _np.atleast_1d(cb_)]
    a = LABELS[:nda]
    b = list(LABELS[nda:nda + ndb])
    for p, q in zip(ca, cb, strict=True):
        b[q] = a[p]
    out = [a[p] for p in range(nda) if p not in ca]
    out += [b[q] for q in range(ndb) if q not in cb]
    return [a, "".join(b)], "".join(out)


def tangent(ins: list[str], out: str, operands: Sequence[Any], k: int, t: Any,
            **options: Any) -> Any:
    """JVP: the einsum with ``t`` (batch axis first) in place of operand ``k``."""
    from diffkit import numpy as dnp

    batch = next(_fresh(set("".join(ins) + out)))
    terms = list(ins)
    terms[k] = batch + ins[k]
    args = list(operands)
    args[k] = t
    return dnp.einsum(",".join(terms) + "->" + batch + out, *args, **options)


def cotangent(ins: list[str], out: str, operands: Sequence[Any], k: int, g: Any,
              **options: Any) -> Any:
    """VJP: the cotangent ``g`` of the output carried back to operand ``k``."""
    from diffkit import numpy as dnp

    target = ins[k]
    shape = dnp.shape(operands[k])
    terms = [out] + [s for j, s in enumerate(ins) if j != k]
    args = [g] + [a for j, a in enumerate(operands) if j != k]
    elsewhere = set("".join(terms))
    fresh = _fresh(set("".join(ins) + out))
    result = ""
    for label, n in zip(target, shape, strict=True):
        if label in result:  # a repeated label: only the diagonal is used
            twin = next(fresh)
            terms.append(label + twin)
            args.append(_np.eye(n))
            result += twin
            continue
        result += label
        if label not in elsewhere:  # summed away forwards: copied backwards
            terms.append(label)
            args.append(_np.ones(n))
    return dnp.einsum(",".join(terms) + "->" + result, *args, **options)


def _fresh(used: set[str]) -> Iterator[str]:
    for label in LABELS:
        if label not in used:
            used.add(label)
            yield label
    raise ValueError(
        "einsum ran out of subscript letters: NumPy allows 52 labels (a-z, A-Z) "
        "and differentiating needs a few spare ones. Use fewer distinct labels."
    )
