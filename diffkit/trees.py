"""Nested tuples, lists and dicts of arrays, in and out.

A function may take ``(weights, biases)`` or ``{"w": w, "b": b}``; its
gradient comes back in the same structure.  We flatten such a *tree* into a
list of leaves, differentiate with respect to the leaves, and rebuild.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as _np

from diffkit.tracer import Box, unbox
from diffkit.values import as_float

__all__ = ["flatten", "unflatten", "tree_map", "TreeDef", "paths", "numeric_leaves",
           "conform"]


class TreeDef:
    """The shape of a tree without its leaves: how to rebuild it."""

    __slots__ = ("kind", "keys", "children")

    def __init__(self, kind: type | None, keys: Any, children: list[TreeDef]):
        self.kind = kind  # None for a leaf
        self.keys = keys
        self.children = children

    @property
    def num_leaves(self) -> int:
        if self.kind is None:
            return 1
        return sum(c.num_leaves for c in self.children)


def flatten(tree: Any) -> tuple[list[Any], TreeDef]:
    """Leaves of ``tree`` in a fixed order, and the structure to rebuild it."""
    leaves: list[Any] = []

    def walk(node: Any) -> TreeDef:
        if isinstance(node, tuple | list):
            return TreeDef(type(node), None, [walk(c) for c in node])
        if isinstance(node, dict):
            keys = list(node)
            return TreeDef(dict, keys, [walk(node[k]) for k in keys])
        leaves.append(node)
        return TreeDef(None, None, [])

    return leaves, walk(tree)


def unflatten(treedef: TreeDef, leaves: list[Any]) -> Any:
    """Rebuild a tree of ``treedef``'s structure from ``leaves``."""
    it = iter(leaves)

    def build(td: TreeDef) -> Any:
        if td.kind is None:
            return next(it)
        children = [build(c) for c in td.children]
        if td.kind is dict:
            return dict(zip(td.keys, children, strict=True))
        if td.kind is tuple or td.kind is list:
            return td.kind(children)
        return td.kind(*children)  # namedtuple

    return build(treedef)


def tree_map(fun: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """Apply ``fun`` to every leaf (and the matching leaves of ``rest``)."""
    leaves, td = flatten(tree)
    others = [flatten(r)[0] for r in rest]
    return unflatten(td, [fun(*xs) for xs in zip(leaves, *others, strict=True)])


# --- checking trees: what a function returned, what a caller passed in --------------


def paths(treedef: TreeDef) -> list[str]:
    """Where each leaf sits, as it would be indexed: ``"[1]['w']"`` (``""`` for a leaf).

    Error messages use these to point at one array inside a nested argument.
    """
    out: list[str] = []

    def walk(td: TreeDef, path: str) -> None:
        if td.kind is None:
            out.append(path)
        elif td.kind is dict:
            for key, child in zip(td.keys, td.children, strict=True):
                walk(child, f"{path}[{key!r}]")
        else:
            for i, child in enumerate(td.children):
                walk(child, f"{path}[{i}]")

    walk(treedef, "")
    return out


def is_numeric(leaf: Any) -> bool:
    """Whether ``leaf`` can be a number or an array of numbers.

    Traced values and array-likes that know their shape (a symbolic value)
    count; ``None``, strings, and arrays of strings do not.  Object arrays
    pass: the backends judge their elements.
    """
    if isinstance(leaf, Box | numbers.Number):
        return True
    dtype = getattr(leaf, "dtype", None)
    if dtype is not None:
        return dtype.kind in "biufcO"
    return hasattr(leaf, "shape")


def numeric_leaves(tree: Any, who: str = "The function") -> tuple[list[Any], TreeDef]:
    """:func:`flatten` a function's output, checking every leaf is numeric.

    Without this check, reverse and forward mode would see an output that
    does not depend on the input (``None`` has no derivative to follow) and
    quietly report a zero derivative.
    """
    leaves, treedef = flatten(tree)
    for leaf, path in zip(leaves, paths(treedef), strict=True):
        if not is_numeric(leaf):
            what = "None" if leaf is None else f"{leaf!r:.40} (a {type(leaf).__name__})"
            if path:
                found = f"{who}'s output holds {what} at {path}"
            elif leaf is None:
                found = f"{who} returned None (a missing return statement?)"
            else:
                found = f"{who} returned {what}"
            raise TypeError(f"{found}, but derivatives need numbers or arrays of "
                            "numbers (or tuples/lists/dicts of them).")
    return leaves, treedef


def conform(tree: Any, like: Any, name: str, like_name: str) -> list[Any]:
    """The leaves of ``tree``, in ``like``'s order, once ``tree`` is known to match.

    A tangent must have the structure of its primal and a cotangent that of
    the output, with an array of the same shape in each place.  Checking that
    up front turns NumPy's "cannot reshape array of size 2" (or, worse, a
    silently broadcast result) into a message naming the array at fault:
    ``name`` and ``like_name`` say what the two trees are (``"tangents"``,
    ``"primals"``).  Leaves come back as float64 or complex128 arrays; a
    list where ``like`` has an array is read as that array.
    """
    leaves: list[Any] = []
    hint = (f"{name} must have the structure of {like_name}, with an array of "
            "the same shape in each place.")

    def mismatch(path: str, got: str, expected: str) -> ValueError:
        return ValueError(f"{name}{path} {got}, but {like_name}{path} {expected}: "
                          f"{hint}")

    def walk(node: Any, ref: Any, path: str) -> None:
        if isinstance(ref, dict):
            if not isinstance(node, dict):
                raise mismatch(path, f"is {_kind(node)}", "is a dict")
            if set(node) != set(ref):
                missing = [k for k in ref if k not in node]
                extra = [k for k in node if k not in ref]
                detail = "".join(f" ({what}: {', '.join(map(repr, keys))})"
                                 for what, keys in (("missing", missing),
                                                    ("unexpected", extra)) if keys)
                raise mismatch(path, f"has the keys {list(node)}",
                               f"has the keys {list(ref)}{detail}")
            for key in ref:
                walk(node[key], ref[key], f"{path}[{key!r}]")
        elif isinstance(ref, tuple | list):
            if not isinstance(node, tuple | list) or len(node) != len(ref):
                raise mismatch(path, f"is {_kind(node)}", f"is {_kind(ref)}")
            for i, (child, child_ref) in enumerate(zip(node, ref, strict=True)):
                walk(child, child_ref, f"{path}[{i}]")
        else:
            try:
                if isinstance(node, dict) or node is None:
                    raise TypeError
                leaf = as_float(node)
            except (TypeError, ValueError):  # None, a string, a ragged list...
                raise TypeError(
                    f"{name}{path} is {_kind(node)}, not a number or an array of "
                    f"numbers ({like_name}{path} has shape {_shape(ref)}): "
                    f"{hint}") from None
            if _shape(leaf) != _shape(ref):
                raise mismatch(path, f"has shape {_shape(leaf)}",
                               f"has shape {_shape(ref)}")
            leaves.append(leaf)

    walk(tree, like, "")
    return leaves


def _kind(node: Any) -> str:
    """A few words for what ``node`` is, for error messages."""
    if isinstance(node, tuple | list | dict):
        return f"a {type(node).__name__} of length {len(node)}"
    if node is None:
        return "None"
    if is_numeric(node):
        return f"an array of shape {_shape(node)}"
    return f"a {type(node).__name__}"


def _shape(x: Any) -> tuple[int, ...]:
    return _np.shape(unbox(x))
