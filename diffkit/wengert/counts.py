"""Counting the arithmetic of a function and of its two derivative sweeps.

One more interpreter: :class:`CountingTrace` runs primitives on numbers and
adds up their work.  Running diffkit's own JVP and VJP rules on its boxes
counts what forward and reverse mode really execute, which is what
:class:`OperationCounts` reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as _np

from diffkit.primitives import Primitive
from diffkit.tracer import Box
from diffkit.tracer import Trace as _InterpreterTrace
from diffkit.wengert.recording import plain
from diffkit.wengert.tables import backward, cotangent_leaves, tangent_of

if TYPE_CHECKING:
    from diffkit.wengert.evaluation import Trace

__all__ = ["OperationCounts", "CountingTrace", "count_operations", "work"]

#: Primitives that contract their arguments (multiply-add over a shared axis).
CONTRACTIONS = {"dot", "matmul", "tensordot", "inner", "vdot", "outer", "einsum",
               "kron"}


def work(prim: Primitive, args: Sequence[Any], ans: Any) -> int:
    """Arithmetic done by one primitive application (see count_operations).

    Its output size (its largest argument's for reductions) times the
    primitive's cost weight; a contraction does ``sqrt(|a| |b| |out|)``
    multiply-adds, ``m·k·n`` for a matrix product.
    """
    sizes = [int(_np.size(plain(a))) for a in args
             if isinstance(plain(a), _np.ndarray | int | float | complex | _np.number)]
    out = int(_np.size(plain(ans)))
    if prim.name in CONTRACTIONS and len(sizes) == 2:
        return max(1, round(math.sqrt(sizes[0] * sizes[1] * out)))
    return prim.cost * max([out, *sizes])


class CountingTrace(_InterpreterTrace):
    """Runs primitives and adds up their work: an interpreter that only counts."""

    __slots__ = ("ops",)

    def __init__(self) -> None:
        super().__init__()
        self.ops = 0

    def box(self, value: Any) -> Box:
        return Box(value, self, None)

    def process_primitive(self, prim: Primitive, args: tuple, kwargs: dict) -> Box:
        values = [a._value if type(a) is Box and a._trace is self else a
                  for a in args]
        ans = prim(*values, **kwargs)
        self.ops += work(prim, values, ans)
        return Box(ans, self, None)


@dataclass(frozen=True)
class OperationCounts:
    """Arithmetic operations of f, of one tangent sweep and of one adjoint sweep.

    A full Jacobian costs ``function + n_inputs · tangent`` by forward mode
    (one sweep per input direction) and ``function + n_outputs · adjoint``
    by reverse mode (one sweep per output).
    """

    function: int
    tangent: int
    adjoint: int
    n_inputs: int
    n_outputs: int

    @property
    def forward_jacobian(self) -> int:
        return self.function + self.n_inputs * self.tangent

    @property
    def reverse_jacobian(self) -> int:
        return self.function + self.n_outputs * self.adjoint

    @property
    def gradient_ratio(self) -> float:
        """Cost of f and its gradient (one reverse sweep) over the cost of f."""
        return (self.function + self.adjoint) / max(self.function, 1)


def count_operations(t: Trace) -> OperationCounts:
    """The work of ``t``'s function, of one tangent and of one adjoint sweep."""
    function = sum(work(line.prim, [t.value_of(a) for a in line.args], line.value)
                   for line in t.lines)
    counter = CountingTrace()
    seeds = []
    for k, inp in enumerate(t.inputs):
        # one direction: the cost of a sweep does not depend on the seed
        seeds.append(_np.ones_like(inp.value) if k == 0
                     else _np.zeros_like(inp.value))
    tangents = dict(zip((i.index for i in t.inputs), seeds, strict=True))
    for line in t.lines:
        tangents[line.index] = tangent_of(t, line, tangents, counter)
    tangent = counter.ops
    counter.ops = 0
    backward(t, cotangent_leaves(t, None), counter)
    adjoint = counter.ops
    n_in = sum(int(_np.size(i.value)) for i in t.inputs)
    n_out = sum(int(_np.size(t.value_of(r))) for r in t.outputs)
    return OperationCounts(function, tangent, adjoint, n_in, n_out)
