"""Reverse-mode AD: record a tape on the way forward, backpropagate on the way back.

While ``f`` runs, every primitive applied to a box of this trace adds one
:class:`Node` to the tape: which primitive ran, its output (``ans``), its
inputs and which of them were traced (``parents``).  That is the evaluation
trace -- the Wengert list -- of the function.

Then :func:`backward` walks the tape from the output back to the inputs.
Each node receives the *adjoint* ``v_bar = dy/dv`` of its output and hands
every parent the share the chain rule gives it, ``v_bar * dv/dparent``,
computed by the primitive's VJP (vector-Jacobian product) rule.  A value
used twice receives two shares, which add up: that is the ``+=`` of
backpropagation.  One backward pass gives the derivative of one output with
respect to *all* inputs at once -- the "cheap gradient".
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit.primitives import Primitive
from diffkit.tracer import Box, Trace

__all__ = ["Node", "ReverseTrace", "backward"]


class Node:
    """One entry of the tape: ``ans = prim(*args, **kwargs)``."""

    __slots__ = ("prim", "ans", "args", "kwargs", "parents")

    def __init__(
        self,
        prim: Primitive | None,
        ans: Any,
        args: tuple | list,
        kwargs: dict,
        parents: list[tuple[int, Node]],
    ) -> None:
        self.prim = prim
        self.ans = ans
        self.args = args
        self.kwargs = kwargs
        self.parents = parents  # (argument position, node that produced it)


class ReverseTrace(Trace):
    """Records a tape of nodes while the function runs."""

    __slots__ = ()

    def new_input(self, value: Any) -> Box:
        """Wrap an input: a leaf of the tape, with no parents."""
        return Box(value, self, Node(None, value, (), {}, []))

    def process_primitive(self, prim: Primitive, args: tuple, kwargs: dict) -> Box:
        values = list(args)
        parents = []
        for i, a in enumerate(args):
            if type(a) is Box and a._trace is self:
                values[i] = a._value
                parents.append((i, a._node))
        ans = prim(*values, **kwargs)  # outer traces, if any, see their own boxes
        return Box(ans, self, Node(prim, ans, values, kwargs, parents))


def backward(output: Node, output_bar: Any) -> dict[Node, Any]:
    """Backpropagate ``output_bar`` through the tape ending at ``output``.

    Returns the adjoint of every node reached; look up an input's node to
    get its gradient.
    """
    adjoints: dict[Node, Any] = {output: output_bar}
    for node in _reverse_topological_order(output):
        v_bar = adjoints[node]
        prim = node.prim
        if prim is None:  # an input: nothing further back
            continue
        for i, parent in node.parents:
            share = prim.vjp(i, v_bar, node.ans, node.args, node.kwargs)
            if prim.elementwise:
                share = unbroadcast(share, node.args[i])
            if parent in adjoints:
                adjoints[parent] = adjoints[parent] + share
            else:
                adjoints[parent] = share
    return adjoints


def _reverse_topological_order(output: Node) -> list[Node]:
    """Nodes from ``output`` back to the inputs, each after all its consumers.

    A node may only pass its adjoint on once every node that used it has
    contributed, so we count each node's consumers first (Kahn's algorithm).
    """
    consumers: dict[Node, int] = {}
    stack = [output]
    while stack:
        node = stack.pop()
        for _, parent in node.parents:
            if parent in consumers:
                consumers[parent] += 1
            else:
                consumers[parent] = 1
                stack.append(parent)
    order = []
    ready = [output]
    while ready:
        node = ready.pop()
        order.append(node)
        for _, parent in node.parents:
            consumers[parent] -= 1
            if consumers[parent] == 0:
                ready.append(parent)
    return order


def unbroadcast(g: Any, target: Any) -> Any:
    """Sum a cotangent back down to the shape of the argument it belongs to.

    Broadcasting copies an argument along new or length-1 axes; the adjoint
    of copying is summing.  A real argument gets the real part of a complex
    cotangent (the autograd/JAX convention).
    """
    from diffkit import numpy as dnp

    shape = dnp.shape(target)
    gshape = dnp.shape(g)
    if gshape != shape:
        extra = len(gshape) - len(shape)
        if extra > 0:
            g = dnp.sum(g, axis=tuple(range(extra)))
        axes = tuple(
            i for i, n in enumerate(shape) if n == 1 and dnp.shape(g)[i] != 1
        )
        if axes:
            g = dnp.sum(g, axis=axes, keepdims=True)
    if dnp.iscomplexobj(g) and not dnp.iscomplexobj(target):
        g = dnp.real(g)
    return g


# --- the transformations built on the tape ------------------------------------------


def vjp(fun: Any, x: Any) -> tuple[Any, Any]:
    """Run ``fun`` on the tree ``x`` once, recording; return its value and a
    function mapping an output cotangent to the cotangent tree of ``x``."""
    from diffkit import numpy as dnp
    from diffkit.trees import flatten, unflatten
    from diffkit.values import as_float

    trace = ReverseTrace()
    leaves, treedef = flatten(x)
    leaves = [as_float(leaf) for leaf in leaves]
    inputs = [trace.new_input(leaf) for leaf in leaves]
    out = fun(unflatten(treedef, inputs))
    traced = type(out) is Box and out._trace is trace
    value = out._value if traced else out

    def pullback(out_bar: Any) -> Any:
        if not traced:
            return unflatten(treedef, [dnp.zeros_like(leaf) for leaf in leaves])
        adjoints = backward(out._node, out_bar)
        grads = []
        for box, leaf in zip(inputs, leaves, strict=True):
            g = adjoints.get(box._node)
            if g is None:  # an input the output does not depend on
                g = dnp.zeros_like(leaf)
            elif dnp.iscomplexobj(g) and not dnp.iscomplexobj(leaf):
                g = dnp.real(g)
            grads.append(g)
        return unflatten(treedef, grads)

    return value, pullback


def value_and_jacobian(fun: Any, x: Any) -> tuple[Any, Any]:
    """The Jacobian by reverse mode: one backward pass per output element."""
    from diffkit import numpy as dnp
    from diffkit.trees import flatten, unflatten

    value, pullback = vjp(fun, x)
    out_shape = dnp.shape(value)
    m = 1
    for n in out_shape:
        m *= n
    leaves, treedef = flatten(x)
    rows = []
    for i in range(m):
        seed = _np.zeros(m)
        seed[i] = 1.0
        rows.append(flatten(pullback(seed.reshape(out_shape)))[0])
    jac = [
        dnp.reshape(dnp.stack([row[k] for row in rows]),
                    out_shape + dnp.shape(leaf))
        for k, leaf in enumerate(leaves)
    ]
    return value, unflatten(treedef, jac)
