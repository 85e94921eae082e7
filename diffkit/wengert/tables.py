"""The forward and reverse interpreters of a trace, and their tables.

Forward mode walks the lines top to bottom, pushing a tangent ``v̇`` through
each primitive's JVP rule (:func:`tangent_of`); reverse mode walks them
bottom to top, handing each line's adjoint ``v̄`` to its arguments through
the VJP rules (:func:`backward`).  :class:`TangentTrace` and
:class:`AdjointTrace` keep what the sweeps computed and print it as Baydin
et al.'s Tables 2 and 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as _np

from diffkit.trees import flatten, unflatten
from diffkit.wengert.recording import Const, Line, plain
from diffkit.wengert.text import (
    bar,
    barname,
    dot,
    dotname,
    fmt,
    html_table,
    join_terms,
    sub,
    text_table,
    times,
    vname,
)

if TYPE_CHECKING:
    from diffkit.wengert.counts import CountingTrace
    from diffkit.wengert.evaluation import Trace

__all__ = ["TangentTrace", "AdjointTrace", "Step", "seed_leaves", "tangent_of",
           "cotangent_leaves", "backward"]


# --- forward mode: tangents ----------------------------------------------------------


def seed_leaves(t: Trace, seed: Any) -> list[Any]:
    """The input tangents ``ẋ`` as one array per input, checked against the inputs."""
    from diffkit.values import as_float

    n = len(t.inputs)
    if seed is None:
        if n == 1 and _np.size(t.inputs[0].value) == 1:
            seed = 1.0
        else:
            raise ValueError(
                "Trace.forward needs a seed, the tangent of the inputs, when "
                f"there are {n} inputs or an array input: for example "
                f"forward({tuple([1.0] + [0.0] * (n - 1))}) for the derivative "
                f"with respect to {t.inputs[0].name}."
            )
    leaves = [seed] if n == 1 else flatten(seed)[0]
    if len(leaves) != n:
        raise ValueError(
            f"The seed must give one tangent per input ({n}: "
            + ", ".join(i.name for i in t.inputs)
            + f"), got {len(leaves)}."
        )
    out = []
    for inp, s in zip(t.inputs, leaves, strict=True):
        s = as_float(s)
        if _np.shape(s) != _np.shape(inp.value):
            try:
                s = _np.broadcast_to(s, _np.shape(inp.value)).copy()
            except ValueError:
                raise ValueError(
                    f"The tangent of {inp.name} has shape {_np.shape(s)} but "
                    f"{inp.name} has shape {_np.shape(inp.value)}."
                ) from None
        out.append(s)
    return out


def _operands(t: Trace, line: Line, counter: CountingTrace | None
              ) -> tuple[list[Any], Any]:
    """A line's argument values and result, as its derivative rules receive them.

    With a ``counter`` the traced ones are boxed by it, so that every
    operation the rules perform on them is counted.
    """
    values = [t.value_of(a) for a in line.args]
    ans = line.value
    if counter is not None:
        values = [v if isinstance(a, Const) else counter.box(v)
                  for a, v in zip(line.args, values, strict=True)]
        ans = counter.box(ans)
    return values, ans


def tangent_of(t: Trace, line: Line, tangents: dict[int, Any],
               counter: CountingTrace | None = None) -> Any:
    """``v̇_i = Σ_j ∂v_i/∂v_j v̇_j`` through the primitive's JVP rules.

    The rules expect a batch axis in front of each tangent; we push a
    batch of one.  With a ``counter`` the rules run on its boxes, so
    every operation they perform is counted.
    """
    values, ans = _operands(t, line, counter)
    out_ndim = _np.ndim(line.value)
    v_dot: Any = None
    for pos, ref in enumerate(line.args):
        if isinstance(ref, Const):
            continue
        tangent = _np.asarray(tangents[ref])
        shape = _np.shape(tangent)
        if line.prim.elementwise:  # line the axes up the way broadcasting does
            shape = (1,) * (out_ndim - len(shape)) + shape
        t_in: Any = _np.reshape(tangent, (1, *shape))
        if counter is not None:
            t_in = counter.box(t_in)
        share = line.prim.jvp(pos, t_in, ans, values, line.kwargs)
        v_dot = share if v_dot is None else v_dot + share
    v_dot = plain(v_dot)
    full = (1, *_np.shape(line.value))
    if _np.shape(v_dot) != full:
        v_dot = _np.broadcast_to(v_dot, full)
    return plain(_np.reshape(v_dot, full[1:]))


class TangentTrace:
    """The forward tangent trace of a :class:`Trace` (Baydin et al., Table 2).

    ``.tangents`` maps each variable index to its tangent ``v̇``;
    ``.tangent`` is the output tangent ``ẏ`` (the directional derivative
    along the seed); ``.rows`` the records.
    """

    def __init__(self, parent: Trace, seeds: list[Any],
                 tangents: dict[int, Any]) -> None:
        self.trace = parent
        self.seed = seeds
        self.tangents = tangents

    @property
    def tangent(self) -> Any:
        outs = [0.0 * _np.asarray(self.trace.value_of(r)) if isinstance(r, Const)
                else self.tangents[r] for r in self.trace.outputs]
        assert self.trace._out_treedef is not None
        return unflatten(self.trace._out_treedef, [plain(o) for o in outs])

    def formula(self, line: Line) -> str:
        """``v̇_i`` in terms of the argument tangents, e.g. ``v̇₋₁/v₋₁``."""
        partials = self.trace.partials(line)
        terms = []
        for pos, ref in enumerate(line.args):
            if isinstance(ref, Const):
                continue
            if partials is not None:
                terms.append(times(dotname(ref), partials[pos]))
            else:
                terms.append(f"∂{vname(line.index)}/∂{vname(ref)} {dotname(ref)}")
        return join_terms(terms)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One record per input, line and output: primal and tangent."""
        t = self.trace
        rows = []
        for inp in t.inputs:
            rows.append({"kind": "input", "index": inp.index, "name": vname(inp.index),
                         "expression": sub(inp.name), "value": inp.value,
                         "tangent_name": dotname(inp.index),
                         "tangent_expression": dot(sub(inp.name)),
                         "tangent": self.tangents[inp.index]})
        for line in t.lines:
            rows.append({"kind": "primitive", "index": line.index,
                         "name": vname(line.index), "expression": t.expression(line),
                         "value": line.value, "tangent_name": dotname(line.index),
                         "tangent_expression": self.formula(line),
                         "tangent": self.tangents[line.index]})
        for name, ref in zip(t.output_names, t.outputs, strict=True):
            formula, tangent = (("0", 0.0) if isinstance(ref, Const)
                                else (dotname(ref), self.tangents[ref]))
            rows.append({"kind": "output", "index": None, "name": sub(name),
                         "expression": t._arg_text(ref), "value": t.value_of(ref),
                         "tangent_name": dot(sub(name)),
                         "tangent_expression": formula, "tangent": tangent})
        return rows

    def _title(self) -> str:
        names = [dot(sub(i.name)) for i in self.trace.inputs]
        vals = [fmt(s) for s in self.seed]
        if len(names) == 1:
            return f"Forward tangent trace, seed {names[0]} = {vals[0]}"
        return (f"Forward tangent trace, seed ({', '.join(names)}) = "
                f"({', '.join(vals)})")

    def _tables(self) -> list[list[tuple[str, str, str]]]:
        rows = self.rows
        return [[(r["name"], r["expression"], fmt(r["value"])) for r in rows],
                [(r["tangent_name"], r["tangent_expression"], fmt(r["tangent"]))
                 for r in rows]]

    def __str__(self) -> str:
        return text_table(self._title(), self._tables())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        primal, tangent = self._tables()
        rows = [p + q for p, q in zip(primal, tangent, strict=True)]
        return html_table(self._title(), ["variable", "primal", "value",
                                           "tangent", "forward step", "value"], rows)


# --- reverse mode: adjoints ----------------------------------------------------------


@dataclass
class Step:
    """One adjoint update ``v̄_target (+)= v̄_line ∂v_line/∂v_target``."""

    target: int
    line: Line | None  # None for the seed ȳ
    position: int | None
    accumulate: bool
    share: Any
    adjoint: Any
    source: str = field(default="")


def cotangent_leaves(t: Trace, cotangent: Any) -> list[Any]:
    """The output adjoints ``ȳ``, one array per output (default: ones)."""
    values = [t.value_of(r) for r in t.outputs]
    if cotangent is None:
        return [plain(_np.ones(_np.shape(v))) for v in values]
    leaves = [cotangent] if len(values) == 1 else flatten(cotangent)[0]
    if len(leaves) != len(values):
        raise ValueError(
            f"The cotangent must give one value per output ({len(values)}), "
            f"got {len(leaves)}."
        )
    return [plain(_np.broadcast_to(_np.asarray(c, dtype=float), _np.shape(v))
                  .copy()) for c, v in zip(leaves, values, strict=True)]


def backward(t: Trace, seeds: list[Any], counter: CountingTrace | None = None
             ) -> tuple[dict[int, Any], list[Step]]:
    """The reverse sweep: adjoints of every variable and the steps taken."""
    from diffkit.backends.reverse import unbroadcast

    adjoints: dict[int, Any] = {}
    steps: list[Step] = []
    for name, ref, s in zip(t.output_names, t.outputs, seeds, strict=True):
        if isinstance(ref, Const):
            continue
        acc = ref in adjoints
        adjoints[ref] = adjoints[ref] + s if acc else s
        steps.append(Step(ref, None, None, acc, s, adjoints[ref],
                          bar(sub(name))))
    if counter is not None:
        adjoints = {k: counter.box(v) for k, v in adjoints.items()}
    for line in reversed(t.lines):
        if line.index not in adjoints:  # the output does not depend on it
            continue
        v_bar = adjoints[line.index]
        values, ans = _operands(t, line, counter)
        for pos, ref in enumerate(line.args):
            if isinstance(ref, Const):
                continue
            share = line.prim.vjp(pos, v_bar, ans, values, line.kwargs)
            if line.prim.elementwise:
                share = unbroadcast(share, values[pos])
            acc = ref in adjoints
            adjoints[ref] = adjoints[ref] + share if acc else share
            if counter is None:
                steps.append(Step(ref, line, pos, acc, plain(share),
                                  plain(adjoints[ref])))
    return {k: plain(v) for k, v in adjoints.items()}, steps


class AdjointTrace:
    """The reverse adjoint trace of a :class:`Trace` (Baydin et al., Table 3).

    ``.steps``/``.rows`` hold every update in the order executed, with
    ``accumulate`` true for the ``v̄ = v̄ + ...`` steps (a variable used
    twice receives two shares); ``.adjoints`` maps each variable index to its
    final adjoint; ``.gradient`` the input adjoints ``x̄`` in the structure of
    the arguments.
    """

    def __init__(self, parent: Trace, seeds: list[Any], adjoints: dict[int, Any],
                 steps: list[Step]) -> None:
        self.trace = parent
        self.seed = seeds
        self.adjoints = adjoints
        self.steps = steps

    @property
    def gradient(self) -> Any:
        t = self.trace
        grads = [self.adjoints.get(inp.index, plain(_np.zeros_like(inp.value)))
                 for inp in t.inputs]
        assert t._in_treedef is not None
        out = unflatten(t._in_treedef, grads)
        return out[0] if len(out) == 1 else out

    def formula(self, step: Step) -> tuple[str, str]:
        """The update in general form and with the partial derivative worked out."""
        if step.line is None:
            return step.source, step.source
        line, target = step.line, step.target
        source = barname(line.index)
        generic = f"{source} ∂{vname(line.index)}/∂{vname(target)}"
        partials = self.trace.partials(line)
        specific = (times(source, partials[step.position])
                    if partials is not None and step.position is not None
                    else generic)
        if step.accumulate:
            generic = join_terms([barname(target), generic])
            specific = join_terms([barname(target), specific])
        return generic, specific

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One record per step, then one per input adjoint ``x̄``."""
        rows = []
        for step in self.steps:
            generic, specific = self.formula(step)
            rows.append({"kind": "seed" if step.line is None else "step",
                         "index": step.target, "name": barname(step.target),
                         "accumulate": step.accumulate,
                         "from": None if step.line is None else step.line.index,
                         "expression": generic, "formula": specific,
                         "share": step.share, "value": step.adjoint})
        for inp in self.trace.inputs:
            g = self.adjoints.get(inp.index, plain(_np.zeros_like(inp.value)))
            rows.append({"kind": "input", "index": inp.index,
                         "name": bar(sub(inp.name)), "accumulate": False,
                         "from": None, "expression": barname(inp.index),
                         "formula": barname(inp.index), "share": None, "value": g})
        return rows

    def _title(self) -> str:
        names = [bar(sub(n)) for n in self.trace.output_names]
        vals = [fmt(s) for s in self.seed]
        seed = (f"{names[0]} = {vals[0]}" if len(names) == 1 else
                f"({', '.join(names)}) = ({', '.join(vals)})")
        return f"Reverse adjoint trace, seed {seed} (executed top to bottom)"

    def _table(self) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for r in self.rows:
            if r["kind"] == "step" and r["formula"] != r["expression"]:
                out.append((r["name"], r["expression"], r["formula"],
                            fmt(r["value"])))
            else:
                out.append((r["name"], r["expression"], fmt(r["value"])))
        return out

    def __str__(self) -> str:
        return text_table(self._title(), [self._table()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = [r if len(r) == 4 else (r[0], r[1], "", r[2]) for r in self._table()]
        return html_table(self._title(), ["adjoint", "update", "worked out",
                                           "value"], rows)
