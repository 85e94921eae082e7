"""Forward-mode AD: push tangents along with values, one primitive at a time.

Each traced value carries its tangent ``v_dot = dv/dx . seed`` next to its
value, like a dual number ``v + v_dot * eps`` with ``eps**2 = 0``.  When a
primitive runs, its JVP (Jacobian-vector product) rule turns the tangents of
the arguments into the tangent of the output -- the chain rule applied in
the same order as the program itself.

To get a whole Jacobian in one pass, diffkit carries a *batch* of tangents:
``v_dot`` has a leading axis with one entry per seed direction, so
``jacobian(f, method="forward")`` pushes all n unit vectors through
vectorised NumPy at once rather than running f n times.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

# diffkit.numpy is complete before this module is first imported (its own
# import chain never reaches the forward backend), so the module-level
# import is safe and keeps imports out of the per-operation path.
from diffkit import numpy as dnp
from diffkit.primitives import Primitive
from diffkit.tracer import Box, Trace, call_traced
from diffkit.trees import conform, flatten, numeric_leaves, unflatten
from diffkit.values import as_float

__all__ = ["ForwardTrace"]


class ForwardTrace(Trace):
    """Carries ``batch`` tangent directions alongside every traced value."""

    __slots__ = ("batch",)

    def __init__(self, batch: int) -> None:
        super().__init__()
        self.batch = batch

    def new_input(self, value: Any, tangent: Any) -> Box:
        """Wrap an input with its tangents (shape ``(batch,) + shape(value)``)."""
        return Box(value, self, tangent)

    def process_primitive(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        values = list(args)
        traced = []
        outer = False
        for i, a in enumerate(args):
            if type(a) is Box:
                if a._trace is self:
                    value = values[i] = a._value
                    traced.append(i)
                    outer = outer or type(value) is Box
                else:
                    outer = True
        # As in reverse mode: only boxes of outer traces need the primitive's
        # dispatch again; plain values go straight to NumPy.
        ans = prim(*values, **kwargs) if outer else prim.impl(*values, **kwargs)
        out_shape = _shape(ans)
        v_dot = None
        for i in traced:
            t = args[i]._node
            if prim.elementwise:
                t = _align(t, len(_shape(values[i])), len(out_shape))
            share = prim.jvp(i, t, ans, values, kwargs)
            v_dot = share if v_dot is None else v_dot + share
        if prim.elementwise:
            # An untraced argument can make ``ans`` bigger than every traced
            # one: in x + c with x of shape (3,) and c of shape (2, 3), the
            # tangent is x's, (B, 1, 3), and must be copied out to (B, 2, 3).
            full = (self.batch, *out_shape)
            if _shape(v_dot) != full:
                v_dot = dnp.broadcast_to(v_dot, full)
        return Box(ans, self, v_dot)


def _shape(x: Any) -> tuple[int, ...]:
    """The shape of ``x``, looking through any boxes (cheaper than np.shape)."""
    while type(x) is Box:
        x = x._value
    shape = getattr(x, "shape", None)
    return _np.shape(x) if shape is None else shape


def _align(t: Any, ndim: int, out_ndim: int) -> Any:
    """Give a batched tangent the rank of the output by inserting length-1 axes.

    An argument of shape (3,) broadcast into an output of shape (2, 3) has
    tangents of shape (B, 3); they must become (B, 1, 3) -- the new axes go
    after the batch axis, not before it.
    """
    if ndim == out_ndim:
        return t
    shape = _shape(t)
    return dnp.reshape(t, (shape[0],) + (1,) * (out_ndim - ndim) + shape[1:])


# --- the transformations built on tangents ----------------------------------------

#: Upper bound on (tangent directions) x (input size) pushed in one pass, so a
#: large Jacobian is computed in chunks instead of one huge identity matrix.
CHUNK_ELEMENTS = 2**22


def jvp(fun: Any, x: Any, v: Any,
        names: tuple[str, str] = ("tangent", "primal")) -> tuple[Any, Any]:
    """``fun(x)`` and its directional derivative along the tree ``v``.

    ``v`` must have the structure of ``x`` and, leaf by leaf, its shape;
    ``names`` says what to call the two in the error if it does not.  The
    output may be a tree too: the tangent then comes back in its structure,
    with zeros for any output that does not depend on ``x``.
    """
    trace = ForwardTrace(batch=1)
    leaves, treedef = flatten(x)
    tangents = conform(v, x, *names)
    inputs = []
    for leaf, t in zip(leaves, tangents, strict=True):
        leaf = as_float(leaf)
        t = dnp.reshape(t, (1,) + dnp.shape(leaf))  # a batch of one direction
        inputs.append(trace.new_input(leaf, t))
    outs, out_def = numeric_leaves(call_traced(fun, unflatten(treedef, inputs)))
    values, out_tangents = [], []
    for out in outs:
        if type(out) is Box and out._trace is trace:
            values.append(out._value)
            out_tangents.append(dnp.reshape(out._node, dnp.shape(out._value)))
        else:  # computed without x: a constant
            values.append(out)
            out_tangents.append(dnp.zeros_like(out, dtype=float))
    return unflatten(out_def, values), unflatten(out_def, out_tangents)


def value_and_jacobian(fun: Any, x: Any) -> tuple[Any, Any]:
    """The Jacobian by forward mode: all n input directions pushed as one batch.

    A complex input element needs two directions, 1 and i.  Its column is
    ``Re(y_dot(1)) - i Re(y_dot(i))``: the same convention as reverse mode
    (and autograd/JAX), so that the gradient of ``|z|**2`` is ``2 conj(z)``.
    Likewise the derivative with respect to a real input is real.
    """
    leaves, treedef = flatten(x)
    leaves = [as_float(leaf) for leaf in leaves]
    sizes = [int(_np.size(leaf)) for leaf in leaves]
    complex_leaf = [bool(dnp.iscomplexobj(leaf)) for leaf in leaves]
    widths = [size * (2 if c else 1) for size, c in zip(sizes, complex_leaf,
                                                        strict=True)]
    n = sum(widths)
    chunk = max(1, min(n, CHUNK_ELEMENTS // max(n, 1)))
    value = None
    columns = []
    for start in range(0, max(n, 1), chunk):
        stop = min(n, start + chunk)
        trace = ForwardTrace(batch=stop - start)
        inputs, offset = [], 0
        for leaf, size, width, is_complex in zip(leaves, sizes, widths,
                                                 complex_leaf, strict=True):
            seed = _seed_block(start, stop, offset, size, width, is_complex)
            inputs.append(trace.new_input(
                leaf, seed.reshape((stop - start,) + _np.shape(leaf))))
            offset += width
        out = call_traced(fun, unflatten(treedef, inputs))
        if type(out) is Box and out._trace is trace:
            value, block = out._value, out._node
        else:
            value = out
            block = dnp.zeros((stop - start, *dnp.shape(out)))
        columns.append(block)
    out_shape = dnp.shape(value)
    full = columns[0] if len(columns) == 1 else dnp.concatenate(columns, axis=0)
    full = dnp.moveaxis(full, 0, -1)  # out_shape + (n,)
    jac, offset = [], 0
    for leaf, size, width, is_complex in zip(leaves, sizes, widths, complex_leaf,
                                             strict=True):
        piece = full[..., offset:offset + width]
        if is_complex:
            piece = (dnp.real(piece[..., :size])
                     - 1j * dnp.real(piece[..., size:]))
        elif dnp.iscomplexobj(piece):
            piece = dnp.real(piece)
        jac.append(dnp.reshape(piece, out_shape + dnp.shape(leaf)))
        offset += width
    return value, unflatten(treedef, jac)


def _seed_block(start: int, stop: int, offset: int, size: int, width: int,
                is_complex: bool) -> Any:
    """Rows ``start..stop`` of the identity, restricted to one input's columns.

    Directions ``offset .. offset + width`` belong to this input: unit vectors
    along its elements (then, for a complex input, along ``i`` times them).
    """
    seeds = _np.zeros((stop - start, size), dtype=complex if is_complex else float)
    lo, hi = max(start, offset), min(stop, offset + width)
    if lo < hi:
        local = _np.arange(lo, hi) - offset
        units = _np.where(local < size, 1.0, 1j) if is_complex else 1.0
        seeds[_np.arange(lo, hi) - start, local % size] = units
    return seeds
