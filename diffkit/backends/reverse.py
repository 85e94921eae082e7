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

Numbers and small arrays take exactly that path.  Big arrays take the same
path with less memory traffic: the tape keeps only the values the rules will
read, and :mod:`diffkit.backends.adjoints` sums and scales the shares in as
few passes as it can.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as _np

from diffkit.backends.adjoints import (
    Adjoints,
    Scaled,
    Scatter,
    scaled,
    split,
    spread,
    written,
)
from diffkit.primitives import ANS, Primitive
from diffkit.tracer import Box, Trace, call_traced, unbox
from diffkit.trees import conform, flatten, numeric_leaves, unflatten
from diffkit.values import as_float

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
    """Records a tape of nodes while the function runs.

    ``tape`` lists the nodes in the order the primitives ran.  A value is
    always computed before anything that uses it, so the tape is already a
    topological order of the computational graph: walked backwards, it
    reaches every node after all of the nodes that consumed it.
    """

    __slots__ = ("tape",)

    def __init__(self) -> None:
        super().__init__()
        self.tape: list[Node] = []

    def new_input(self, value: Any) -> Box:
        """Wrap an input: a leaf of the graph, with no parents (not on the tape)."""
        return Box(value, self, Node(None, value, (), {}, []))

    def process_primitive(self, prim: Primitive, args: tuple, kwargs: dict) -> Box:
        values = list(args)
        parents = []
        outer = False
        for i, a in enumerate(args):
            if type(a) is Box:
                if a._trace is self:
                    value = values[i] = a._value
                    parents.append((i, a._node))
                    outer = outer or type(value) is Box
                else:
                    outer = True
        # Boxes of outer traces (grad of grad) must meet their own traces, so
        # they go through the primitive again; plain values go straight to
        # NumPy, which saves a second look at the arguments on the hot path.
        if outer:
            ans = prim(*values, **kwargs)
        else:
            ans = prim.impl(*values, **kwargs)
        reads = prim.tape_reads
        # (An elementwise result is as big as its biggest argument.)
        if reads is not None and (
                type(ans) is _np.ndarray and ans.size >= BIG_ARRAY_SIZE
                if prim.elementwise else _holds_a_big_array(ans, values)):
            # Big arrays: keep only what the VJP rules will read.  (Small ones
            # skip this bookkeeping, which would cost more than it saves.)
            needed = _needed(parents, reads)
            node = Node(prim, ans if ANS in needed else _stand_in(ans),
                        [v if j in needed else _stand_in(v)
                         for j, v in enumerate(values)], kwargs, parents)
        else:
            node = Node(prim, ans, values, kwargs, parents)
        self.tape.append(node)
        return Box(ans, self, node)


#: From this size on, arrays get the memory-saving treatment: zero-memory
#: stand-ins on the tape for values no rule reads, and adjoints summed and
#: scaled with as few passes over memory as possible
#: (:mod:`diffkit.backends.adjoints`).  For smaller arrays the bookkeeping
#: would cost more than it saves.
BIG_ARRAY_SIZE = 4096


def _holds_a_big_array(ans: Any, values: list) -> bool:
    """Whether the output or an argument is an array of BIG_ARRAY_SIZE or more."""
    if type(ans) is _np.ndarray:
        return ans.size >= BIG_ARRAY_SIZE
    for v in values:  # a reduction: a number out of a big array
        if type(v) is _np.ndarray and v.size >= BIG_ARRAY_SIZE:
            return True
    return False


def _stand_in(a: Any) -> Any:
    """A zero-memory array with ``a``'s shape and dtype, or ``a`` itself.

    Rules that only need an argument's shape (``sum``, ``reshape``, ``add``
    with broadcasting...) read it from the stand-in, and the real array can be
    freed as soon as the program drops it.
    """
    if type(a) is _np.ndarray and a.size >= BIG_ARRAY_SIZE:
        return _np.broadcast_to(_np.zeros((), dtype=a.dtype), a.shape)
    return a


def _needed(parents: list[tuple[int, Node]],
            reads: dict[int, frozenset[int]]) -> set[int]:
    """What the VJPs of the traced arguments will read (ANS: the output)."""
    needed: set[int] = set()
    for i, _ in parents:
        needed |= reads[i]
    return needed


def backward(output: Node, output_bar: Any, tape: list[Node],
             retain: bool = True) -> dict[Node, Any]:
    """Backpropagate ``output_bar`` from ``output`` along ``tape``, backwards.

    Returns the adjoints of the inputs reached (the nodes not on the tape);
    look up an input's node to get its gradient.  With ``retain=False`` the
    tape can be walked only once: each node lets go of its values as soon as
    its rules have run (PyTorch's ``retain_graph=False``).
    """
    adjoints = Adjoints({output: output_bar})  # node -> sum of its shares so far
    for node in reversed(tape):
        # Popping frees each adjoint as soon as it has been passed on.
        v_bar = adjoints.pop(node, None)
        if type(v_bar) is Scatter:  # the adjoint of an indexed value
            v_bar = v_bar.dense()
        prim = node.prim
        if v_bar is not None and prim is not None:  # else: no path to the output
            for i, parent in node.parents:
                if type(v_bar) is Scaled or (type(v_bar) is _np.ndarray
                                             and v_bar.size >= BIG_ARRAY_SIZE):
                    share = _big_array_share(prim, i, v_bar, node)
                else:  # small, or traced (higher order): the rule as it is
                    share = prim.vjp(i, v_bar, node.ans, node.args, node.kwargs)
                    if prim.elementwise:
                        share = unbroadcast(share, node.args[i])
                if not prim.elementwise and type(share) is not Scatter:
                    # A real argument of a complex result (concatenate, matmul
                    # ...) gets a real cotangent, as unbroadcast gives the
                    # elementwise ones: rules such as abs(z)'s read it as real.
                    share = real_for_real(share, node.args[i])
                if parent in adjoints:  # a value used again: its shares add up
                    adjoints.accumulate(parent, share)
                else:
                    adjoints[parent] = share
        if not retain:
            # Everything that used this node's values came later on the tape
            # and is done: freeing them now lets the adjoints still to come
            # reuse the memory (a third less at the peak for big arrays).
            node.ans, node.args = None, ()
    return adjoints.written_out()


def _big_array_share(prim: Primitive, i: int, v_bar: Any, node: Node) -> Any:
    """The share of argument ``i``, ``v_bar`` times d(node)/d(argument ``i``),
    for a big array ``v_bar``: the primitive's VJP rule, applied so that big
    arrays are written as seldom as possible (see
    :mod:`diffkit.backends.adjoints`).
    """
    if prim.elementwise:
        share = _elementwise_share(prim, i, v_bar, node)
        if type(share) is Scaled and share.shape == _np.shape(node.args[i]):
            return share
        return unbroadcast(written(share), node.args[i])
    if prim is _indexing():
        # The adjoint of x[index]: zeros with v_bar at index, added straight
        # into the sum of x's shares rather than written out on its own.
        x, index = node.args
        return Scatter(v_bar, index, _np.shape(x))
    return prim.vjp(i, written(v_bar), node.ans, node.args, node.kwargs)


def _elementwise_share(prim: Primitive, i: int, v_bar: Any, node: Node) -> Any:
    """An elementwise rule's share, with the numbers in ``v_bar`` kept apart.

    An elementwise VJP multiplies ``v_bar`` by the local slope, element by
    element, so when ``v_bar = factor * base`` the rule can be applied to the
    number ``factor`` and the product with ``base`` taken last -- or never,
    when the slope is itself a number (``a - b``, ``3 * a``).
    """
    factor, base = split(v_bar, BIG_ARRAY_SIZE)
    if factor is None:
        return prim.vjp(i, v_bar, node.ans, node.args, node.kwargs)
    if base is None:  # one number everywhere: so is the share, if the slope is
        return spread(prim.vjp(i, factor, node.ans, node.args, node.kwargs),
                      _np.shape(node.ans))
    if factor == 1 and not _slope_is_a_number(prim, i, node):
        return prim.vjp(i, base, node.ans, node.args, node.kwargs)
    return scaled(prim.vjp(i, factor, node.ans, node.args, node.kwargs), base)


def _slope_is_a_number(prim: Primitive, i: int, node: Node) -> bool:
    """Whether the rule for argument ``i`` reads numbers only (``tape_reads``)."""
    reads = prim.tape_reads
    if reads is None:
        return False
    return all(_np.ndim(node.ans if j == ANS else node.args[j]) == 0
               for j in reads[i])


@functools.cache
def _indexing() -> Primitive:
    from diffkit.numpy import getitem  # diffkit.numpy's rules import this module

    return getitem


def unbroadcast(g: Any, target: Any) -> Any:
    """Sum a cotangent back down to the shape of the argument it belongs to.

    Broadcasting copies an argument along new or length-1 axes; the adjoint
    of copying is summing.  A real argument gets the real part of a complex
    cotangent (the autograd/JAX convention).
    """
    if type(g) in _REAL_NUMBERS and type(target) in _REAL_NUMBERS:
        return g  # scalar code: nothing to sum, nothing complex
    shape, complex_target = _shape_and_complex(target)
    gshape, complex_g = _shape_and_complex(g)
    to_real = complex_g and not complex_target
    if gshape == shape and not to_real:
        return g  # the common case: nothing was broadcast

    from diffkit import numpy as dnp  # g may be traced (higher order derivatives)

    if gshape != shape:
        extra = len(gshape) - len(shape)
        if extra > 0:
            g = dnp.sum(g, axis=tuple(range(extra)))
            gshape = gshape[extra:]
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and gshape[i] != 1)
        if axes:
            g = dnp.sum(g, axis=axes, keepdims=True)
    if to_real:
        g = dnp.real(g)
    return g


_REAL_NUMBERS = (float, _np.float64, int)


def real_for_real(g: Any, target: Any) -> Any:
    """``g`` as the cotangent of ``target``: its real part if ``target`` is real.

    A complex cotangent's imaginary part pairs with the imaginary part of the
    argument; a real argument has none (the autograd/JAX convention).
    """
    if type(g) in _REAL_NUMBERS:
        return g
    complex_g = _shape_and_complex(g)[1]
    if complex_g and not _shape_and_complex(target)[1]:
        from diffkit import numpy as dnp  # g may be traced

        return dnp.real(g)
    return g


def _shape_and_complex(x: Any) -> tuple[tuple[int, ...], bool]:
    """``x``'s shape, and whether it is complex, looking through any boxes."""
    while type(x) is Box:
        x = x._value
    dtype = getattr(x, "dtype", None)
    if dtype is None:  # a Python number, or a list
        return _np.shape(x), bool(_np.iscomplexobj(x))
    return x.shape, dtype.kind == "c"


# --- the transformations built on the tape ------------------------------------------


def vjp(fun: Any, x: Any, retain: bool = True) -> tuple[Any, Any]:
    """Run ``fun`` on the tree ``x`` once, recording; return its value and a
    function mapping an output cotangent to the cotangent tree of ``x``.

    The output may be a tree (a tuple, list or dict of arrays); the value
    comes back in its structure, and the cotangent must have that structure
    too, with an array of each output's shape.  ``retain=False`` gives a
    pullback that can be called only once, and frees the tape as it goes:
    what a gradient needs.
    """
    from diffkit import numpy as dnp

    trace = ReverseTrace()
    leaves, treedef = flatten(x)
    leaves = [as_float(leaf) for leaf in leaves]
    inputs = [trace.new_input(leaf) for leaf in leaves]
    outs, out_def = numeric_leaves(call_traced(fun, unflatten(treedef, inputs)))
    # The outputs that depend on x (the others are constants: no adjoint).
    mine = [k for k, out in enumerate(outs)
            if type(out) is Box and out._trace is trace]
    traced = set(mine)
    value = unflatten(out_def, [out._value if k in traced else out
                                for k, out in enumerate(outs)])
    if len(mine) > 1:
        # Backpropagation starts from one node.  Several outputs become one by
        # recording their concatenation on the tape; its adjoint is then the
        # outputs' cotangents, concatenated the same way, and one backward
        # pass gives the whole vector-Jacobian product.
        root = dnp.concatenate([dnp.ravel(outs[k]) for k in mine])._node
    elif mine:
        root = outs[mine[0]]._node

    spent = False

    def pullback(out_bar: Any) -> Any:
        nonlocal spent
        bars = conform(out_bar, value, "cotangent", "output")
        if not mine:
            return unflatten(treedef, [dnp.zeros_like(leaf) for leaf in leaves])
        if spent:
            raise RuntimeError(
                "This pullback was made with retain=False and has already been "
                "used: its tape is freed. Record again with vjp(...), or pass "
                "retain=True to call the pullback more than once."
            )
        spent = not retain
        if len(mine) > 1:
            root_bar = dnp.concatenate([dnp.ravel(bars[k]) for k in mine])
        else:
            root_bar = bars[mine[0]]
        adjoints = backward(root, root_bar, trace.tape, retain)
        grads = []
        for box, leaf in zip(inputs, leaves, strict=True):
            g = adjoints.get(box._node)
            if g is None:  # an input the output does not depend on
                g = dnp.zeros_like(leaf)
            else:  # a real input gets the real part of a complex adjoint
                g = unbroadcast(g, leaf)
                if dnp.iscomplexobj(leaf) and not dnp.iscomplexobj(g):
                    g = g + 0j  # and a complex input a complex one, always
                elif type(g) is _np.ndarray and not g.flags.writeable:
                    g = g.copy()  # a broadcast view: give the caller a real array
            grads.append(g)
        return unflatten(treedef, grads)

    return value, pullback


def value_and_jacobian(fun: Any, x: Any) -> tuple[Any, Any]:
    """The Jacobian by reverse mode: one backward pass per output element."""
    from diffkit import numpy as dnp

    value, pullback = vjp(fun, x)
    out_shape = dnp.shape(value)
    m = 1
    for n in out_shape:
        m *= n
    leaves, treedef = flatten(x)
    if m == 0:
        # No output element, no backward pass, and nothing to stack: the
        # Jacobian is empty, of shape out_shape + leaf shape, as in forward mode.
        return value, unflatten(treedef, [
            _np.zeros(out_shape + _np.shape(unbox(leaf)),
                      dtype=complex if _np.iscomplexobj(unbox(leaf)) else float)
            for leaf in leaves])
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
