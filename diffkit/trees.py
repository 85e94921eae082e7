"""Nested tuples, lists and dicts of arrays, in and out.

A function may take ``(weights, biases)`` or ``{"w": w, "b": b}``; its
gradient comes back in the same structure.  We flatten such a *tree* into a
list of leaves, differentiate with respect to the leaves, and rebuild.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["flatten", "unflatten", "tree_map", "TreeDef"]


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
