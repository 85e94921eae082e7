"""Replaying a trace on SymPy symbols.

Each primitive already knows which SymPy operation it becomes: its SymPy
rule (:attr:`diffkit.primitives.Primitive.sympy`, see
:mod:`diffkit.rules.sympy`).  Running the lines on symbols instead of numbers
therefore gives back the formula the function computed (:func:`to_sympy`),
and differentiating one line's rule gives the partial derivatives that the
tangent and adjoint tables write out (:func:`line_partials`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as _np

from diffkit.primitives import Primitive
from diffkit.trees import unflatten
from diffkit.wengert.recording import Const, Line, plain
from diffkit.wengert.text import fmt, vname

if TYPE_CHECKING:
    from diffkit.wengert.evaluation import Trace

__all__ = ["to_sympy", "line_partials", "sympy_literal"]


def sympy_literal(c: Any) -> Any:
    """A constant as SymPy: integers stay exact, other floats keep their digits."""
    import sympy

    c = plain(c)
    if isinstance(c, _np.ndarray):
        return sympy.Symbol(fmt(c))
    if isinstance(c, bool | _np.bool_):
        return sympy.true if c else sympy.false
    if isinstance(c, int | _np.integer):
        return sympy.Integer(int(c))
    if isinstance(c, float | _np.floating):
        x = float(c)
        if x.is_integer():
            return sympy.Integer(int(x))
        return sympy.Float(repr(x), "")
    if isinstance(c, complex | _np.complexfloating):
        z = complex(c)
        return sympy_literal(z.real) + sympy.I * sympy_literal(z.imag)
    return c


def _sympy_const(c: Any) -> Any:
    """A constant argument for the replay: arrays become object arrays of literals."""
    c = plain(c)
    if isinstance(c, _np.ndarray) and c.dtype != object:
        out = _np.empty(c.shape, dtype=object)
        for k, x in _np.ndenumerate(c):
            out[k] = sympy_literal(x)
        return out
    if isinstance(c, int | float | complex | _np.number):
        return sympy_literal(c)
    return c


def _sympy_input(name: str, value: Any) -> Any:
    """An input as a symbol (``x1``), or an array of them (``x_0, x_1, ...``)."""
    import sympy

    clean = name.replace("[", "_").replace("]", "").replace("'", "")
    if _np.ndim(value) == 0:
        return sympy.Symbol(clean)
    out = _np.empty(_np.shape(value), dtype=object)
    for k in _np.ndindex(*_np.shape(value)):
        out[k] = sympy.Symbol(clean + "_" + "_".join(str(i) for i in k))
    return out


def _sympy_apply(prim: Primitive, args: list[Any], kwargs: dict) -> Any:
    """Apply ``prim`` to SymPy values (scalars or object arrays of expressions)."""
    from diffkit.errors import NotApplicable

    rule = prim.sympy
    if prim.elementwise and rule is not None and not kwargs:
        if any(isinstance(a, _np.ndarray) for a in args):
            return _np.frompyfunc(rule, len(args), 1)(*args)
        return rule(*args)
    if (prim.name in ("max", "min") and rule is not None
            and isinstance(args[0], _np.ndarray)):
        # NumPy cannot order expressions: SymPy's Max and Min do the comparing.
        out = rule(*args, **kwargs)
    else:
        # Structural operations (sum, reshape, dot, indexing...) do the same thing
        # to an object array of expressions as to numbers: let NumPy do it.
        try:
            with _np.errstate(all="ignore"):
                out = prim.impl(*args, **kwargs)
        except Exception as err:
            raise NotApplicable(
                f"Trace.to_sympy cannot replay {prim.name!r} on SymPy expressions "
                f"({type(err).__name__}: {err}). Give it a SymPy rule with "
                "diffkit.primitives.defsympy."
            ) from None
    if isinstance(out, _np.ndarray) and out.ndim == 0:
        out = out[()]
    return out


def to_sympy(t: Trace) -> Any:
    """The lines of ``t`` run on SymPy symbols (see :meth:`Trace.to_sympy`)."""
    from diffkit.backends.symbolic import too_deep

    with too_deep("the traced formula"):
        return _replay(t)


def _replay(t: Trace) -> Any:
    import sympy

    env: dict[int, Any] = {}
    for inp in t.inputs:
        env[inp.index] = _sympy_input(inp.name, inp.value)
    for line in t.lines:
        args = [_sympy_const(a.value) if isinstance(a, Const) else env[a]
                for a in line.args]
        env[line.index] = _sympy_apply(line.prim, args, line.kwargs)
    outs = []
    for ref in t.outputs:
        v = _sympy_const(ref.value) if isinstance(ref, Const) else env[ref]
        if isinstance(v, _np.ndarray):
            v = (sympy.Matrix(v.tolist()) if v.ndim in (1, 2)
                 else sympy.Array(v.tolist()))
        outs.append(v)
    assert t._out_treedef is not None
    return unflatten(t._out_treedef, outs)


def line_partials(line: Line) -> list[Any] | None:
    """``∂v_i/∂(argument k)`` of one line, as SymPy expressions in the ``v`` symbols.

    Only for elementwise primitives that have a SymPy rule (there the scalar
    formula holds entry by entry); ``None`` otherwise.  Constant arguments
    get ``None`` in their place.
    """
    rule = line.prim.sympy if line.prim.elementwise else None
    if rule is None:
        return None
    import sympy

    dummies = [sympy.Dummy(f"a{k}") for k in range(len(line.args))]
    actual = [
        sympy_literal(a.value) if isinstance(a, Const)
        else sympy.Symbol(vname(a)) for a in line.args
    ]
    try:
        expr = rule(*[d if not isinstance(a, Const) else lit
                      for d, a, lit in zip(dummies, line.args, actual, strict=True)],
                    **line.kwargs)
        subs = dict(zip(dummies, actual, strict=True))
        return [
            None if isinstance(a, Const)
            else sympy.diff(expr, d).xreplace(subs)
            for d, a in zip(dummies, line.args, strict=True)
        ]
    except Exception:  # no formula: the generic ∂v_i/∂v_j notation
        return None
