"""Primitives: the operations every backend understands, each defined once.

A :class:`Primitive` bundles everything the four methods need about one
operation:

========================  ==============================================
``impl``                  the NumPy implementation (plain evaluation,
                          finite differences)
``jvps[i]``               forward mode: tangent of argument ``i`` in,
                          tangent of the output out
``vjps[i]``               reverse mode: cotangent of the output in,
                          cotangent of argument ``i`` out
``sympy``                 the symbolic backend: the same operation on
                          SymPy expressions
``name``/``latex``/cost   traces, tables, graphs and cost counts
========================  ==============================================

The rules themselves live in :mod:`diffkit.rules` (one short line per
primitive, in parallel files) and are written with diffkit's own
primitives, so a derivative rule can be differentiated again.

Rule signatures (the autograd convention)::

    vjp(g, ans, *args, **kwargs)  -> cotangent for one argument
    jvp(t, ans, *args, **kwargs)  -> tangent of the output

In forward mode ``t`` carries a *batch* of tangents on a leading axis:
``t.shape == (B,) + np.shape(arg)``.  Elementwise rules need not care
(``t * cos(x)`` broadcasts); structural rules address axes from the right.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from diffkit.errors import MissingRuleError, TracedValueError
from diffkit.tracer import Box

__all__ = [
    "Primitive",
    "primitive",
    "defvjp",
    "defjvp",
    "defsympy",
    "deftape",
    "def_linear",
    "registry",
]

#: Every primitive by name: what ``dk.trace`` tables and error messages show.
registry: dict[str, Primitive] = {}


class Primitive:
    """A function every backend can interpret.

    Parameters
    ----------
    impl
        The NumPy-level implementation, called on plain values.
    name
        Display name (``"sin"``, ``"multiply"``); defaults to ``impl``'s name.
    elementwise
        True for broadcasting elementwise operations: their rules are applied
        to broadcast-aligned arguments and their cotangents are summed back to
        each argument's shape automatically.
    differentiable
        False for operations whose output carries no derivative (comparisons,
        ``floor``, ``argmax``...): they run on the plain values underneath.
    latex, cost
        How traces and cost tables show the operation.
    """

    def __init__(
        self,
        impl: Callable[..., Any],
        name: str | None = None,
        *,
        elementwise: bool = False,
        differentiable: bool = True,
        latex: str | None = None,
        cost: int = 1,
    ) -> None:
        self.impl = impl
        self.name: str = name or str(getattr(impl, "__name__", "primitive"))
        self.elementwise = elementwise
        self.differentiable = differentiable
        self.latex = latex or rf"\operatorname{{{self.name}}}"
        self.cost = cost
        self.vjps: dict[int, Callable[..., Any]] = {}
        self.jvps: dict[int, Callable[..., Any]] = {}
        self.sympy: Callable[..., Any] | None = None
        # What the VJP of each argument reads, so the tape can let go of the
        # rest (see deftape): None means "everything", the safe default.
        self.tape_reads: dict[int, frozenset[int]] | None = None
        functools.update_wrapper(self, impl, updated=())
        registry.setdefault(self.name, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Find the innermost trace among the arguments (the highest level), or
        # None for plain values.  Every operation of every traced function and
        # of every derivative rule comes through here, so the loop is inline.
        trace = None
        for a in args:
            if isinstance(a, Box):
                t = a._trace
                if trace is None or t.level > trace.level:
                    trace = t
        if trace is None:
            return self.impl(*args, **kwargs)
        if "out" in kwargs and kwargs["out"] is not None:
            raise TracedValueError(
                f"{self.name}(..., out=...) was given a value that is being "
                "differentiated: writing the result into an existing array "
                "would hide it from the derivative. Use the returned value "
                f"instead, e.g. y = np.{self.name}(x)."
            )
        if not self.differentiable:
            return trace.process_constant(self, args, kwargs)
        return trace.process_primitive(self, args, kwargs)

    # The rules, looked up with an error that says how to add a missing one.
    def vjp(self, argnum: int, g: Any, ans: Any, args: Sequence[Any],
            kwargs: dict) -> Any:
        try:
            rule = self.vjps[argnum]
        except KeyError:
            raise MissingRuleError(self._missing("VJP", "defvjp", argnum)) from None
        return rule(g, ans, *args, **kwargs)

    def jvp(self, argnum: int, t: Any, ans: Any, args: Sequence[Any],
            kwargs: dict) -> Any:
        try:
            rule = self.jvps[argnum]
        except KeyError:
            raise MissingRuleError(self._missing("JVP", "defjvp", argnum)) from None
        return rule(t, ans, *args, **kwargs)

    def _missing(self, kind: str, definer: str, argnum: int) -> str:
        rules = ", ".join(
            "None" if i != argnum else "lambda g, ans, *args: ..."
            for i in range(argnum + 1)
        )
        return (
            f"diffkit has no {kind} rule for {self.name!r} with respect to "
            f"argument {argnum}, so it cannot be differentiated there. "
            f"Add one with dk.{definer}({self.name}, {rules}) "
            f"(see the 'Extending' section of the docs)."
        )

    def __repr__(self) -> str:
        return f"<diffkit primitive {self.name}>"

    def __reduce__(self) -> str:
        return self.name


def primitive(
    fun: Callable[..., Any] | None = None, **options: Any
) -> Any:
    """Turn a NumPy-level function into a diffkit primitive.

    The function then runs on plain values only; give it derivative rules with
    :func:`defvjp` / :func:`defjvp` so the AD methods can pass through it.

    Examples
    --------
    >>> import diffkit as dk
    >>> import numpy
    >>> @dk.primitive
    ... def cube(x):
    ...     return x ** 3
    >>> dk.defvjp(cube, lambda g, ans, x: g * 3 * x ** 2)
    >>> dk.defjvp(cube, lambda t, ans, x: t * 3 * x ** 2)
    >>> float(dk.grad(cube)(2.0))
    12.0
    >>> float(dk.derivative(cube, 2.0, method="forward"))
    12.0
    """
    if fun is None:
        return lambda f: Primitive(f, **options)
    return Primitive(fun, **options)


def defvjp(prim: Primitive, *rules: Callable[..., Any] | None) -> None:
    """Give ``prim`` its reverse-mode rules, one per argument (``None`` to skip).

    Each rule is ``rule(g, ans, *args, **kwargs)`` and returns the cotangent
    of its argument given the cotangent ``g`` of the output ``ans``.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> @dk.primitive
    ... def softplus(x):
    ...     return np.log1p(np.exp(x))
    >>> dk.defvjp(softplus, lambda g, ans, x: g / (1 + np.exp(-x)))
    >>> round(float(dk.grad(softplus)(0.0)), 6)
    0.5
    """
    _check_primitive(prim, "defvjp")
    _check_rules(prim, rules, "defvjp", "g")
    for i, rule in enumerate(rules):
        if rule is not None:
            prim.vjps[i] = rule


def defjvp(prim: Primitive, *rules: Callable[..., Any] | None) -> None:
    """Give ``prim`` its forward-mode rules, one per argument (``None`` to skip).

    Each rule is ``rule(t, ans, *args, **kwargs)`` and returns the tangent of
    the output given the tangent ``t`` of its argument.  ``t`` may carry a
    batch of directions on a leading axis; elementwise expressions such as
    ``t * cos(x)`` handle that by broadcasting.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> @dk.primitive
    ... def softplus(x):
    ...     return np.log1p(np.exp(x))
    >>> dk.defjvp(softplus, lambda t, ans, x: t / (1 + np.exp(-x)))
    >>> round(float(dk.derivative(softplus, 0.0, method="forward")), 6)
    0.5
    """
    _check_primitive(prim, "defjvp")
    _check_rules(prim, rules, "defjvp", "t")
    for i, rule in enumerate(rules):
        if rule is not None:
            prim.jvps[i] = rule


def deftape(prim: Primitive, reads: dict[int, tuple[int | str, ...]] | str,
            ans: bool = False) -> None:
    """Declare which values the VJP rules of ``prim`` read.

    ``reads[i]`` lists what the VJP of argument ``i`` reads beyond shapes and
    dtypes: positions of arguments, and ``"ans"`` for the output.  ``"shapes"``
    says no rule reads any value; ``ans=True`` adds the output to every rule.
    Reverse mode then keeps only those values on its tape and lets NumPy
    reuse the memory of the others -- the tape records as little as the
    backward pass needs.
    """
    _check_primitive(prim, "deftape")
    if reads == "shapes":
        prim.tape_reads = _ShapesOnly(frozenset([ANS] if ans else []))
        return
    assert isinstance(reads, dict)
    prim.tape_reads = {
        i: frozenset([ANS if r == "ans" else int(r) for r in read]
                     + ([ANS] if ans else []))
        for i, read in reads.items()
    }


#: Stands for the output in ``Primitive.tape_reads``.
ANS = -1


class _ShapesOnly(dict):
    """``tape_reads`` of a primitive whose rules read no argument's values."""

    def __init__(self, reads: frozenset[int]) -> None:
        super().__init__()
        self.reads = reads

    def __missing__(self, i: int) -> frozenset[int]:
        return self.reads


def defsympy(prim: Primitive, rule: Callable[..., Any]) -> None:
    """Tell the symbolic backend which SymPy operation ``prim`` becomes."""
    _check_primitive(prim, "defsympy")
    prim.sympy = rule


def def_linear(prim: Primitive, nargs: int = 1) -> None:
    """Rules for a primitive that is linear in each of its first ``nargs`` arguments.

    The VJP then still needs writing, but the JVP is the primitive itself
    applied to the tangent, one direction of the batch at a time.  Rules
    that know how to address axes from the right replace this for speed.
    """

    def make(i: int) -> Callable[..., Any]:
        def jvp(t: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
            from diffkit import numpy as dnp

            def one(ti: Any) -> Any:
                a = [dnp.zeros_like(x) if j != i and j < nargs else x
                     for j, x in enumerate(args)]
                a[i] = ti
                return prim(*a, **kwargs)

            return dnp.stack([one(t[b]) for b in range(len(t))])

        return jvp

    defjvp(prim, *[make(i) for i in range(nargs)])


class VariadicRules(dict):
    """Rules for a primitive with any number of arguments (``concatenate``,
    ``einsum``): ``make(i)`` builds the rule of argument ``i`` on first use.
    ``first`` is the first argument that has a derivative."""

    def __init__(self, make: Callable[[int], Callable[..., Any]], first: int = 1):
        super().__init__()
        self.make = make
        self.first = first

    def __missing__(self, i: int) -> Callable[..., Any]:
        if i < self.first:
            raise KeyError(i)
        self[i] = rule = self.make(i)
        return rule


def _check_primitive(prim: Any, caller: str) -> None:
    if not isinstance(prim, Primitive):
        raise TypeError(
            f"dk.{caller} expects a diffkit primitive, got {prim!r}. "
            "Make one first with the @dk.primitive decorator."
        )


def _check_rules(prim: Primitive, rules: tuple, caller: str, seed: str) -> None:
    """Refuse rules that could only fail later, far from where they were given.

    A rule is called as ``rule(seed, ans, *args)``.  autograd writes its
    VJPs the other way round, ``lambda ans, x: lambda g: ...``: that shape
    is caught here by its signature, before it returns a function where a
    gradient belongs.
    """
    example = f"dk.{caller}({prim.name}, lambda {seed}, ans, x: ...)"
    if not rules:
        raise TypeError(f"dk.{caller} needs at least one rule, as in {example}.")
    required, most = _positional_arity(prim.impl)
    if most is not None and len(rules) > most:
        raise TypeError(
            f"dk.{caller} got {len(rules)} rules for {prim.name}, which takes "
            f"{most} positional argument(s): give one rule per argument, "
            "None for an argument without one."
        )
    for i, rule in enumerate(rules):
        if rule is None or isinstance(rule, VariadicRules):
            continue
        if not callable(rule):
            raise TypeError(
                f"dk.{caller}: the rule for argument {i} of {prim.name} is "
                f"{rule!r}, not a function; write it as {example}."
            )
        # Called with the primitive's positional arguments: at least up to
        # argument i, at most all it takes.
        fewest = 2 + max(required or 0, i + 1)
        counts = range(fewest, 2 + most + 1) if most is not None else (fewest,)
        if required is not None and not any(_accepts(rule, n) for n in counts):
            raise TypeError(
                f"dk.{caller}: the rule for argument {i} of {prim.name} cannot be "
                f"called as rule({seed}, ans, *args) with {fewest} "
                f"arguments. diffkit's rules take the incoming {seed} first: "
                f"{example} (autograd's `lambda ans, x: lambda g: ...` becomes "
                "`lambda g, ans, x: ...`)."
            )


def _positional_arity(fun: Callable[..., Any]) -> tuple[int | None, int | None]:
    """How many positional arguments ``fun`` requires, and takes at most
    (``None``: unknown, as for NumPy's ufuncs, or unlimited)."""
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None, None
    positional = [p for p in params
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(p.default is p.empty for p in positional)
    variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
    return required, None if variadic else len(positional)


def _accepts(rule: Callable[..., Any], nargs: int) -> bool:
    try:
        inspect.signature(rule).bind(*[None] * nargs)
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): assume it fits
        return True
    return True


def is_box(x: Any) -> bool:
    return isinstance(x, Box)
