"""Boxes and trace levels: the machinery every AD mode shares.

How can ordinary Python code be differentiated?  We run it on values that
remember where they came from.  Each call of a derivative operator (``grad``,
``jvp``, ...) starts a new :class:`Trace` and wraps its inputs in a
:class:`Box` that belongs to that trace.  Every primitive (``np.sin``,
``np.dot``, ``+``, ...) looks at its arguments, picks the box of the
*innermost* trace -- the one with the highest ``level`` -- and hands the call
to that trace's :meth:`Trace.process_primitive`:

* a reverse trace records a node on its tape (to replay backwards later);
* a forward trace pushes a tangent through the primitive's JVP rule;
* a symbolic trace applies the primitive's SymPy rule.

The interpreter unboxes *only its own* boxes before calling the primitive
again, so boxes of outer traces flow on to be handled by their own traces.
That is why ``grad(grad(f))`` works and why two nested derivatives never
confuse their perturbations: each derivative only ever sees its own boxes,
and a box from an outer ``grad`` is just a constant to an inner one.
"""

from __future__ import annotations

import itertools
from typing import Any

__all__ = ["Box", "Trace", "new_level", "unbox", "is_traced", "call_traced"]

_levels = itertools.count(1)


def new_level() -> int:
    """Return a level higher than every level handed out before."""
    return next(_levels)


class Trace:
    """One differentiation (or symbolic run) in progress.

    Subclasses implement :meth:`process_primitive`; ``level`` orders nested
    traces so that the most recently started one is handled first.
    """

    __slots__ = ("level",)

    def __init__(self) -> None:
        self.level = new_level()

    def process_primitive(self, prim: Any, args: tuple, kwargs: dict) -> Any:
        raise NotImplementedError

    def process_constant(self, prim: Any, args: tuple, kwargs: dict) -> Any:
        """A primitive with no derivative (``x > 0``, ``floor``, ``argmax``...).

        Its result is a plain value, so no trace records it; this trace only
        lets go of its own boxes, and the primitive runs again for the traces
        below, any of which may still need a say (the complex step refuses a
        result that carries its imaginary step).
        """
        return prim(*[a._value if isinstance(a, Box) and a._trace is self else a
                      for a in args], **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} level={self.level}>"


class Box:
    """A value being traced.

    ``_value`` is the primal (itself possibly a box of an outer trace),
    ``_trace`` the trace it belongs to, and ``_node`` whatever that trace
    keeps per value: a tape node in reverse mode, the tangent in forward
    mode.  Operators and array methods are attached by
    :mod:`diffkit.numpy`, so a box behaves like the array it stands for.
    """

    __slots__ = ("_value", "_trace", "_node", "__weakref__")
    # Make ``ndarray <op> box`` defer to the box (see diffkit.numpy._boxes).
    __array_priority__ = 1000.0

    def __init__(self, value: Any, trace: Trace, node: Any) -> None:
        self._value = value
        self._trace = trace
        self._node = node

    def __repr__(self) -> str:
        return f"Box({self._value!r}, level={self._trace.level})"


def unbox(x: Any) -> Any:
    """Strip every level of boxing: the plain value underneath."""
    while isinstance(x, Box):
        x = x._value
    return x


def is_traced(x: Any) -> bool:
    """True if ``x`` is a value being traced by some derivative."""
    return isinstance(x, Box)


def call_traced(fun: Any, x: Any) -> Any:
    """``fun(x)`` on traced inputs, with NumPy's most puzzling refusal explained.

    ``y = numpy.zeros(3); y[0] = x[0] ** 2`` stores a traced value into a
    plain NumPy array.  NumPy asks the box for a float, diffkit refuses
    (the derivative would be lost), and NumPy reports the refusal as
    "setting an array element with a sequence" -- true only to NumPy, since a
    box can be indexed.  The refusal travels along as the error's cause;
    this raises it in NumPy's place, saying what to write instead.
    """
    try:
        return fun(x)
    except ValueError as err:
        from diffkit.errors import NotApplicable, TracedValueError

        instead = ("Build the array from its parts instead: collect the items in "
                   "a list and use np.stack(items) or np.array(items), or use "
                   "np.where(mask, new, old), with np from diffkit.numpy.")
        if isinstance(err.__cause__, NotApplicable):  # the symbolic method's refusal
            raise NotApplicable(
                f"{err.__cause__} (It was being stored into a plain NumPy array, "
                f"as in y[i] = ... with y = numpy.zeros(...). {instead})"
            ) from err
        if not isinstance(err.__cause__, TracedValueError):
            raise
        raise TracedValueError(
            "A value being differentiated was stored into a plain NumPy array "
            "(as in y[i] = ... with y = numpy.zeros(...)), which would drop its "
            f"derivative. {instead}"
        ) from err
