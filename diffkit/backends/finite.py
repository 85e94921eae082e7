"""Finite differences: derivatives from function values alone.

The derivative is the limit of a slope,
``f'(x) = lim (f(x + h) - f(x)) / h`` as ``h -> 0``.  A finite-difference
method stops short of the limit: it evaluates ``f`` at a few points near
``x`` and combines the values with weights (from :mod:`diffkit.stencils`).
It needs nothing but the ability to *run* ``f``, which makes it the
reference every other method is checked against -- and it is only ever
approximate.  Two errors compete:

* **truncation error**, from stopping short of the limit.  Taylor's theorem
  gives ``(f(x+h) - f(x)) / h = f'(x) + h f''(x)/2 + ...``: the *forward*
  difference is wrong by about ``h |f''| / 2``, first order in ``h``.  The
  *central* difference ``(f(x+h) - f(x-h)) / 2h`` cancels the ``h`` term by
  symmetry and is wrong by about ``h**2 |f'''| / 6``.
* **round-off error**, from subtracting two nearly equal numbers.  Each
  value of ``f`` carries a relative error of about ``eps`` (``2.2e-16`` in
  float64), so the difference ``f(x+h) - f(x)`` carries an absolute error of
  about ``eps |f|`` -- which dividing by a small ``h`` magnifies to
  ``eps |f| / h``.

Shrinking ``h`` trades one error for the other.  The total for the forward
difference, ``h |f''|/2 + 2 eps |f| / h``, is smallest at
``h ~ sqrt(eps) ~ 1.5e-8`` (for ``f`` and its derivatives of size one), where
the derivative has only about half the digits of ``f``.  For the central
difference, ``h**2 |f'''|/6 + eps |f| / h`` is smallest at
``h ~ cbrt(eps) ~ 6e-6``, with an error near ``eps**(2/3) ~ 4e-11``.  A second
difference divides by ``h**2`` and balances at ``h ~ eps**(1/4)``.  Those are
the default steps here, scaled by ``max(1, |x|)`` because a float ``x`` is
only known to a relative ``eps``: the step must be large compared with the
spacing of the floats near ``x``.  Each default step is then rounded to a power
of two so that ``x + h`` is (almost always) exactly representable, and the
``h`` we divide by is the ``h`` we actually moved.

The **complex step** escapes the trade-off.  For ``f`` analytic and real on
the real axis, ``f(x + ih) = f(x) + ih f'(x) - h**2 f''(x)/2 + ...``, so
``f'(x) = Im f(x + ih) / h + O(h**2)``.  No two values are subtracted, so
there is nothing to cancel: ``h = 1e-20`` is fine and the result is good to
machine precision.  It needs ``f`` to accept complex numbers and to be
complex-analytic (no ``abs``, ``real``, ``conj``...).

**Richardson extrapolation** runs the central difference at ``h, h/2,
h/4, ...`` and combines the results to cancel the ``h**2``, ``h**4``...
terms one after another (Ridders' method); the change from one level to the
next estimates the error that remains.  That reasoning only holds once ``h``
is small compared with the scale on which ``f`` varies, which nobody tells
us: so the step keeps halving until the differences shrink the way the
Taylor series says they must (checked at steps off the halving grid too),
and the round-off of ``f`` is measured rather than assumed.  If they never
do, the method raises :class:`~diffkit.errors.NotApplicable` -- it does not
return a number with an error estimate that would be a guess.

Cost: the gradient of ``f`` of ``n`` inputs needs ``n + 1`` evaluations of
``f`` (forward/backward), ``2n`` (central), ``n`` complex ones (complex step),
``2n`` per level and about ``10n`` for the checks (Richardson).  Reverse-mode
AD needs about one.

Every function here evaluates ``f`` on ordinary floats (and NumPy arrays), so
any code that NumPy can run works; if ``x`` is being traced by an outer
derivative, the arithmetic of the difference formula is traced with it.

Examples
--------
>>> import diffkit as dk
>>> import diffkit.numpy as np
>>> f = lambda x: np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)
>>> float(dk.derivative(f, 1.5, method="finite", scheme="complex-step"))
4.053427893898621
"""

from __future__ import annotations

import contextvars
import functools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as _np

from diffkit import numpy as dnp
from diffkit.errors import NotApplicable, TracedValueError
from diffkit.primitives import Primitive
from diffkit.stencils import accuracy_order, weights
from diffkit.tracer import Box, Trace, call_traced, unbox
from diffkit.trees import flatten, tree_map, unflatten
from diffkit.values import as_float

__all__ = [
    "SCHEMES", "FiniteDifference", "estimate", "value_and_jacobian", "hessian",
    "default_step", "directional",
]

#: The schemes ``method="finite"`` understands, in the order lessons teach them.
SCHEMES = ("forward", "backward", "central", "complex-step", "richardson")

EPS = float(_np.finfo(float).eps)

#: Grid points of each first-derivative scheme, in units of the step.
_OFFSETS: dict[str, tuple[int, ...]] = {
    "forward": (0, 1),
    "backward": (-1, 0),
    "central": (-1, 1),
}

#: Relative steps (times ``max(1, |x|)``): where truncation meets round-off.
_RELATIVE_STEP = {
    "forward": EPS ** (1 / 2),
    "backward": EPS ** (1 / 2),
    "central": EPS ** (1 / 3),
    "second": EPS ** (1 / 4),  # second differences (Hessians)
}

#: The complex step is absolute: nothing cancels, so it can be tiny (but the
#: ``h**2`` term must fall far below ``eps``).
COMPLEX_STEP = 1e-20

#: Richardson's first step: ``_RICHARDSON_FIRST_STEP``, or ``2**_RICHARDSON_SPAN``
#: central steps for large ``|x|``.  Each level halves the step, at most
#: down to ``_RICHARDSON_SMALLEST * max(1, |x|)`` (where even a smooth function
#: of unit scale has lost half its digits to round-off), and never fewer than
#: ``_RICHARDSON_MIN_LEVELS`` levels.
_RICHARDSON_FIRST_STEP = 2.0 ** -3
_RICHARDSON_SPAN = 9
_RICHARDSON_SMALLEST = EPS ** (1 / 2)
_RICHARDSON_MIN_LEVELS = 6
#: A tableau entry is trusted once this many consecutive central differences
#: (so two ratios of successive differences) look like a power series in h.
_RICHARDSON_WINDOW = 4
#: How far a ratio of successive differences may be from ``4**m``, relatively.
_RICHARDSON_RATIO_TOLERANCE = 0.4
#: How far a central difference off the halving grid may be from the window's
#: power series, relative to the window's first change.
_PROBE_TOLERANCE = 0.05
#: The measured round-off of f (a few samples of it) times this bounds it.
_NOISE_SAFETY = 4.0
#: Round-off of one evaluation of ``f``, in units of ``eps |f|``: a few
#: roundings of a short chain of operations.
_ROUNDOFF = 4.0


@dataclass(frozen=True)
class FiniteDifference:
    """A finite-difference estimate and what it cost.

    Attributes
    ----------
    value
        ``f(x)``.
    derivative
        The Jacobian, in the structure of ``x`` (per input leaf an array of
        shape ``f(x).shape + leaf.shape``; a float for scalar ``x`` and ``f``).
    scheme
        The scheme used (one of :data:`SCHEMES`).
    step
        The step ``h`` in the structure of ``x`` (for Richardson: the first,
        largest step).
    evaluations
        Function evaluations the derivative cost: the points of the stencil,
        ``n + 1`` for forward and backward differences of ``n`` inputs (they
        reuse ``f(x)``), ``2n`` for central, ``n`` for complex step; for
        Richardson ``2n`` per level, plus ten per input when all goes well
        (four for the steps off the halving grid, six to measure the noise of
        ``f``).  The schemes whose stencil skips ``x`` itself spend one more
        call on ``value``, not counted here.
    error_estimate
        For Richardson, a bound on the largest absolute error of any entry of
        the derivative: the last correction the tableau made plus the
        round-off that ``f``'s measured noise can cause (``inf`` where ``f``
        is NaN near ``x``); ``None`` for the other schemes.
    """

    value: Any
    derivative: Any
    scheme: str
    step: Any
    evaluations: int
    error_estimate: float | None = None


# --- checking the options ----------------------------------------------------------


def _check_scheme(scheme: Any) -> str:
    if scheme not in SCHEMES:
        raise ValueError(
            f"Unknown finite-difference scheme {scheme!r}: choose one of "
            + ", ".join(repr(s) for s in SCHEMES) + "."
        )
    return str(scheme)


def _check_step(step: Any) -> float | None:
    if step is None:
        return None
    if (isinstance(step, bool) or not isinstance(step, numbers.Real)
            or isinstance(step, Box)):
        raise TypeError(
            f"step must be a positive number such as 1e-6 (one step for every "
            f"input), got {step!r:.60}. Leave it out for the near-optimal "
            "default step of the scheme."
        )
    h = float(step)
    if not math.isfinite(h) or h <= 0:
        raise ValueError(
            f"step must be positive and finite, got {h!r}. Leave it out for the "
            "near-optimal default step of the scheme."
        )
    return h


def default_step(scheme: str, x: Any) -> Any:
    """The default step of ``scheme`` at ``x`` (elementwise for an array).

    ``sqrt(eps)`` (forward, backward), ``cbrt(eps)`` (central) or
    ``eps**(1/4)`` (``scheme="second"``: second differences), times
    ``max(1, |x|)``, rounded to a power of two; ``1e-20`` for the complex
    step; for Richardson's first step ``1/8``, or ``2**9`` central steps for
    large ``|x|`` (a step relative to ``x``, as for the other schemes).

    Examples
    --------
    >>> from diffkit.backends.finite import default_step
    >>> float(default_step("forward", 1.0)), 2.0 ** -26   # sqrt(eps) = 2**-26
    (1.4901161193847656e-08, 1.4901161193847656e-08)
    >>> float(default_step("central", 1.5))                # cbrt(eps) * 1.5
    7.62939453125e-06
    >>> default_step("central", [0.0, 100.0])
    array([7.62939453e-06, 4.88281250e-04])
    """
    if scheme == "complex-step":
        return _np.full(_np.shape(x), COMPLEX_STEP)[()]
    if scheme == "richardson":
        # Start where a function of unit scale has room to curve; the levels
        # halve the step until the differences behave (see _richardson).
        first = default_step("central", x) * 2.0 ** _RICHARDSON_SPAN
        return _np.maximum(_RICHARDSON_FIRST_STEP, first)
    if scheme not in _RELATIVE_STEP:
        _check_scheme(scheme)
    h = _RELATIVE_STEP[scheme] * _np.maximum(1.0, _np.abs(unbox(x)))
    return 2.0 ** _np.round(_np.log2(h))


# --- moving along one input direction ----------------------------------------------


class _Direction:
    """One real input direction: component ``index`` of leaf ``leaf``, moved
    along ``unit`` (1, or 1j for the imaginary part of a complex input)."""

    __slots__ = ("leaf", "index", "unit", "step")

    def __init__(self, leaf: int, index: int, unit: complex, step: float) -> None:
        self.leaf, self.index, self.unit, self.step = leaf, index, unit, step


class _Frozen:
    """The values ``dk.stop_gradient`` returned in ``f(x)``, replayed near ``x``.

    ``stop_gradient(v)`` promises that ``v`` is a constant to every method.
    AD and SymPy see the call; a difference quotient only sees ``f``, so
    ``f(x + h)`` would use the moved ``v`` and differentiate through it.  So
    the evaluation at ``x`` itself records the value of each call, in order,
    and every evaluation at a moved point gets those values back.  Inside
    another finite difference, the recorded values are the outer one's.
    """

    def __init__(self, parent: _Frozen | None) -> None:
        self.parent = parent
        self.values: list[Any] = []
        self.replaying = False
        self.count = 0

    def start(self, record: bool) -> None:
        if record:
            self.values = []
        self.replaying, self.count = not record, 0

    def __call__(self, value: Any) -> Any:
        if not self.replaying:
            if self.parent is not None:
                value = self.parent(value)
            self.values.append(value)
            return value
        if self.count >= len(self.values) or (
                _np.shape(self.values[self.count]) != _np.shape(value)):
            raise self.mismatch()
        self.count += 1
        return self.values[self.count - 1]

    def finish(self) -> None:
        if self.replaying and self.count != len(self.values):
            raise self.mismatch()

    @staticmethod
    def mismatch() -> NotApplicable:
        return NotApplicable(
            "Finite differences hold the values of dk.stop_gradient fixed at x, "
            "but f calls dk.stop_gradient differently at x and at x + h (its "
            "control flow depends on the value there). Use method='forward' or "
            "'reverse', or a smaller step=."
        )


_FROZEN: contextvars.ContextVar[_Frozen | None] = contextvars.ContextVar(
    "diffkit_finite_frozen", default=None)


def stopped(value: Any) -> Any:
    """What ``dk.stop_gradient`` returns for ``value``.

    ``value`` itself, except while a finite difference evaluates ``f`` near
    ``x``: then the value the same call returned at ``x``.
    """
    frozen = _FROZEN.get()
    if frozen is None or not _numeric(value):
        return value  # SymPy expressions of an inner symbolic trace: its own
    return frozen(value)


def _numeric(tree: Any) -> bool:
    leaves, _ = flatten(tree)
    return all(isinstance(leaf, numbers.Number | _np.ndarray | _np.generic)
               and _np.asarray(leaf).dtype.kind in "biufc" for leaf in leaves)


def directional(fun: Callable[[Any], Any], x: Any, v: Any, eps: float) -> Any:
    """``(fun(x + eps v) - fun(x - eps v)) / (2 eps)``, the slope along ``v``.

    What :func:`dk.check_grads` compares AD with.  Like every difference here
    it holds the values of ``dk.stop_gradient`` at what they are at ``x``,
    which costs one more evaluation, at ``x`` itself.

    Examples
    --------
    >>> import diffkit as dk
    >>> from diffkit.backends.finite import directional
    >>> f = lambda x: x * dk.stop_gradient(x)       # x times a constant 3
    >>> round(float(directional(f, 3.0, 1.0, 1e-6)), 6)
    3.0
    """
    point = _Point(fun, x)
    point.evaluate(x, at_x=True)
    ahead, behind = (
        _np.asarray(point.evaluate(tree_map(lambda xi, vi: xi + s * eps * vi, x, v),
                                   at_x=False))
        for s in (1, -1))
    return (ahead - behind) / (2 * eps)


class _Point:
    """``x`` as a flat list of leaves, and ``f`` evaluated near it (counted)."""

    def __init__(self, fun: Callable[..., Any], x: Any) -> None:
        leaves, self.treedef = flatten(x)
        self.leaves = [as_float(leaf) for leaf in leaves]
        self.fun = fun
        self.evaluations = 0
        self.frozen = _Frozen(_FROZEN.get())

    def evaluate(self, x: Any, at_x: bool) -> Any:
        """f at ``x``: recording the stop_gradient values (at_x), else replaying."""
        self.frozen.start(record=at_x)
        token = _FROZEN.set(self.frozen)
        try:
            out = self.fun(x)
        finally:
            _FROZEN.reset(token)
        self.frozen.finish()
        return out

    def moved(self, moves: Sequence[tuple[_Direction, complex]]) -> Any:
        """The tree ``x`` with each direction's component moved by ``amount``."""
        leaves = list(self.leaves)
        for d, amount in moves:
            leaf = leaves[d.leaf]
            shift = amount * d.unit
            if _np.ndim(leaf) == 0:
                leaves[d.leaf] = leaf + shift
            else:
                # Adding a one-hot array (rather than assigning into a copy)
                # also works when the leaf is traced by an outer derivative.
                delta = _np.zeros(_np.shape(leaf), dtype=_np.result_type(shift, float))
                delta.flat[d.index] = shift
                leaves[d.leaf] = leaf + delta
        return unflatten(self.treedef, leaves)

    def __call__(self, moves: Sequence[tuple[_Direction, complex]] = ()) -> Any:
        self.evaluations += 1
        return _check_output(self.evaluate(self.moved(moves), at_x=not moves))

    def directions(self, steps: Any, complex_inputs: bool = True) -> list[_Direction]:
        """Every real direction of the input space, with its step."""
        out: list[_Direction] = []
        for k, (leaf, h) in enumerate(zip(self.leaves, steps, strict=True)):
            h = _np.broadcast_to(h, _np.shape(leaf)).ravel()
            is_complex = complex_inputs and _np.iscomplexobj(unbox(leaf))
            units = (1, 1j) if is_complex else (1,)
            for i in range(int(_np.size(unbox(leaf)))):
                out.extend(_Direction(k, i, u, float(h[i])) for u in units)
        return out

    def steps(self, scheme: str, step: float | None) -> list[Any]:
        if step is not None:
            return [_np.full(_np.shape(leaf), step)[()] for leaf in self.leaves]
        return [default_step(scheme, leaf) for leaf in self.leaves]


def _check_output(out: Any) -> Any:
    if isinstance(out, list | tuple):
        out = dnp.array(out)  # [f1, f2] means the vector (f1, f2)
    kind = "f" if isinstance(out, Box) else _np.asarray(out).dtype.kind
    if kind not in "biufc":
        raise TypeError(
            f"Finite differences need a function that returns a number or an array "
            f"of numbers, but it returned {type(out).__name__} ({out!r:.60})."
        )
    if isinstance(out, Box):
        return out
    # f may compute in float32 (or return integers): the differences, and so
    # the derivative, are taken in double precision -- results are float64.
    wide = _np.asarray(out).astype(_np.complex128 if kind == "c" else _np.float64,
                                   copy=False)
    return wide[()] if wide.ndim == 0 else wide


def _assemble(point: _Point, dirs: list[_Direction], columns: list[Any],
              value: Any) -> Any:
    """Stack directional derivatives into the Jacobian tree.

    A complex input ``z = a + ib`` has two real directions, giving ``f_a`` and
    ``f_b``.  diffkit follows autograd's convention: the entry is
    ``(f_a - i f_b + conj(f_a + i f_b)) / 2`` -- the conjugate gradient
    ``f_a - i f_b`` for real ``f`` (so ``|z|**2`` gives ``2 conj(z)``), and
    ``f'(z)`` for holomorphic ``f``.
    """
    out_shape = tuple(dnp.shape(value))
    by_leaf: dict[int, dict[complex, list[Any]]] = {}
    for d, col in zip(dirs, columns, strict=True):
        by_leaf.setdefault(d.leaf, {}).setdefault(d.unit, []).append(col)
    jac = []
    for k, leaf in enumerate(point.leaves):
        shape = out_shape + tuple(_np.shape(leaf))
        cols = by_leaf.get(k)
        if cols is None:  # an empty leaf
            jac.append(_np.zeros(shape, dtype=_np.result_type(unbox(value), float)))
            continue
        block = dnp.stack(cols[1], axis=-1)
        if 1j in cols:
            f_a, f_b = block, dnp.stack(cols[1j], axis=-1)
            block = (f_a - 1j * f_b + dnp.conj(f_a + 1j * f_b)) / 2
        block = dnp.reshape(block, shape)
        jac.append(block[()] if isinstance(block, _np.ndarray) and not shape
                   else block)
    return unflatten(point.treedef, jac)


# --- the schemes --------------------------------------------------------------


def _stencil_derivative(point: _Point, d: _Direction, scheme: str, h: float,
                        value: Any) -> Any:
    """``sum_i w_i f(x + s_i h u) / h`` for the stencil of ``scheme``."""
    offsets = _OFFSETS[scheme]
    total: Any = 0.0
    for s, w in zip(offsets, _weights(offsets), strict=True):
        if w == 0:
            continue
        f_s = value if s == 0 else point([(d, s * h)])
        total = total + w * f_s
    return total / h


@functools.lru_cache
def _weights(offsets: tuple[int, ...], derivative: int = 1) -> tuple[float, ...]:
    """Fornberg's (exact) weights, as floats, computed once per stencil."""
    return tuple(float(w) for w in weights(offsets, derivative))


def _richardson(point: _Point, d: _Direction, value: Any) -> tuple[Any, Any]:
    """Ridders' method: central differences at ``h, h/2, h/4...``, extrapolated.

    The central difference has the error expansion ``D(h) = f' + c1 h**2 +
    c2 h**4 + ...``.  Halving ``h`` divides the ``h**2`` term by 4, so
    ``(4 D(h/2) - D(h)) / 3`` cancels it, leaving ``O(h**4)``; repeating the
    trick on those columns cancels ``h**4``, and so on (Neville's tableau).

    The expansion only describes ``D(h)`` once ``h`` is small compared with
    the scale on which ``f`` varies -- a scale we do not know
    (``cos(exp(sqrt(1 + x**4))**4)**2`` oscillates with period 0.003 near
    ``x = -0.95``).  Extrapolating from steps that are too large gives
    garbage, and two garbage entries can agree by chance, which the error
    estimate below would take for convergence.  So three safeguards come
    before any entry is trusted:

    * *the pattern*: in the regime of the expansion, each change
      ``D(h) - D(h/2)`` is about a quarter of the one before (a sixteenth if
      ``c1`` is zero, ...), or lost in round-off.  Only a window of
      ``_RICHARDSON_WINDOW`` steps in a row that follow it feeds the tableau;
      a break starts a new window at the smaller step.
    * *off the grid*: a function oscillating in step with the halvings (a
      period that divides ``h`` a power-of-two number of times) aliases:
      its differences follow the pattern, towards the wrong limit.  So the
      window's power series must also predict the central difference at
      two steps off the grid (``h/sqrt(2)``, ``h/2**(4/3)``).
    * *measured noise*: round-off is not always ``eps |f|`` -- ``sin(1000 x)``
      is computed from a rounded ``1000 x``, a thousand times noisier.  So
      once a window holds, the noise of ``f`` is measured
      (:func:`_noise_level`), and from then on bounds the round-off.

    The step keeps halving until a window is found -- or becomes too small
    to be useful, and then the method says that it did not converge rather
    than return a number with an estimate that would be a guess.

    Each trusted entry's error is estimated as the sum of two parts.
    Truncation: how far the entry moved from its two neighbours in the
    tableau (the last correction made, which is larger than what remains).
    Round-off: every value of ``f`` is off by at most the noise level, and we
    carry a bound on what that does through the same tableau arithmetic --
    it grows as ``h`` shrinks.  We keep the entry with the smallest estimate,
    and stop once round-off alone exceeds it: smaller steps cannot do better.

    Returns the derivative along ``d`` and the error estimate of each of its
    entries.  Where ``f`` is undefined (NaN) at every step, the derivative is
    NaN and its estimate infinite; anything else that never settles raises
    NotApplicable.
    """
    offsets = _OFFSETS["central"]
    w = _weights(offsets)
    order = accuracy_order(offsets)  # 2: the errors go as h**2, h**4, ...
    ratio = 2.0

    def central(h: float) -> tuple[Any, Any, Any]:
        """D(h) (traced if x is), as a plain array, and its round-off bound
        for an ``f`` good to a few ``eps``."""
        values = [point([(d, s * h)]) for s in offsets]
        diff = sum(wi * f for wi, f in zip(w, values, strict=True)) / h
        noise = _ROUNDOFF * EPS * sum(abs(wi) * _np.abs(_np.asarray(unbox(f)))
                                      for wi, f in zip(w, values, strict=True)) / h
        return diff, _np.asarray(unbox(diff)), noise

    steps: list[float] = []
    firsts: list[Any] = []  # the central differences D(h), traced if x is...
    plain: list[Any] = []   # ...as plain arrays, for the decisions...
    rounding: list[Any] = []  # ...and their round-off for an f good to eps
    sigma: Any = 0.0        # the measured noise of one value of f, once known

    def noise_of(k: int) -> Any:
        """The round-off bound of D at level k (the central weights sum to 1)."""
        return _np.fmax(rounding[k], sigma / steps[k])

    start = 0               # the first level of the window
    previous: list[Any] = []  # the tableau's previous row
    best, best_err = None, _np.inf
    best_err_array: Any = _np.inf
    h = d.step
    for level in range(_richardson_levels(point, d)):
        for seq, item in zip((steps, firsts, plain, rounding), (h, *central(h)),
                             strict=True):
            seq.append(item)
        if level - start >= 2 and not _settled(
                plain[-3:], [noise_of(k) for k in range(level - 2, level + 1)]):
            start = level - 1  # the pattern broke: a new window, a new tableau
            previous = [firsts[start]]
        if level - start == _RICHARDSON_WINDOW - 1:
            window = range(start, level + 1)
            if _on_the_curve(central, [steps[k] for k in window],
                             [plain[k] for k in window],
                             [noise_of(k) for k in window]):
                sigma = _np.fmax(sigma, _noise_level(point, d, value, steps[start]))
            else:
                start = level  # aliased: start afresh below
        row = [firsts[-1]]
        for j in range(1, level - start + 1):
            factor = ratio ** (order * j)
            row.append(row[j - 1] + (row[j - 1] - previous[j - 1]) / (factor - 1))
        if level - start >= _RICHARDSON_WINDOW - 1:  # trusted
            noise, noise_up = _tableau_noise([noise_of(k)
                                              for k in range(start, level + 1)])
            for j in range(1, len(row)):
                new, left, up = (_np.asarray(unbox(v)) for v in (
                    row[j], row[j - 1], previous[j - 1]))
                err = (_np.maximum(_np.abs(new - left), _np.abs(new - up))
                       + noise[j] + EPS * _np.abs(new))
                worst = _worst(err)
                if worst <= best_err:
                    best, best_err, best_err_array = row[j], worst, err
            if best_err < _np.inf and _worst(noise[-1]) >= best_err:
                break  # round-off alone now exceeds the best estimate: stop
        previous = row
        h /= ratio
    if best is not None:
        return best, best_err_array
    if _np.any(_np.isnan(plain[-1])):
        return firsts[-1], _np.inf  # a failed evaluation: NaN, as other schemes
    raise NotApplicable(
        f"Richardson extrapolation did not converge: from step {d.step:.2g} "
        f"down to {steps[-1]:.2g} the central differences never settled into "
        "the pattern it relies on (each change a quarter of the previous "
        "one), so its error estimate would be a guess. f varies too fast on "
        "those scales, or is not smooth (or too noisy) near x. Use "
        "method='forward' or 'reverse', or scheme='central' with a step= "
        "well below the scale on which f varies."
    )


def _tableau_noise(noises: list[Any]) -> tuple[list[Any], list[Any]]:
    """Round-off bounds of the last two rows of a tableau whose first column
    has the bounds ``noises``: each entry ``(4**j a - b) / (4**j - 1)`` has at
    most ``(4**j |a| + |b|) / (4**j - 1)``."""
    last: list[Any] = []
    row: list[Any] = []
    for n in noises:
        last, row = row, [n]
        for j in range(1, len(last) + 1):
            factor = 4.0 ** j
            row.append((factor * row[j - 1] + last[j - 1]) / (factor - 1))
    return row, last


def _richardson_levels(point: _Point, d: _Direction) -> int:
    """How many steps Richardson may take, halving ``d.step`` (see the constants)."""
    smallest = _RICHARDSON_SMALLEST * max(1.0, _coordinate(point, d))
    return max(_RICHARDSON_MIN_LEVELS, 1 + int(math.log2(d.step / smallest)))


def _coordinate(point: _Point, d: _Direction) -> float:
    """``|x|`` along the direction ``d``."""
    return float(abs(_np.ravel(_np.asarray(unbox(point.leaves[d.leaf])))[d.index]))


#: Where :func:`_noise_level` evaluates f, in units of a tiny power of two:
#: irregular gaps (large, unrelated integers), so that the rounding errors of
#: the points follow no pattern (see there).
_NOISE_NODES = (-48131, -29717, -11243, 0, 13127, 31469, 53591)


def _noise_level(point: _Point, d: _Direction, value: Any, scale: float) -> Any:
    """The round-off noise of ``f`` near ``x`` along ``d``, measured.

    ``f`` at seven points near ``x``, all within ``scale / 5000`` of it
    (``scale``, a step at which f is known to be smooth): there, ``f`` is as
    good as a cubic, so its fourth divided differences (over five of the
    points) are nothing -- except for the rounding errors of the five values,
    which do not cancel.  The largest of the three differences, over the
    size a unit error would give them, times ``_NOISE_SAFETY``, bounds the
    round-off of one evaluation (per output entry; 0 where f is exact).

    The gaps between the points are large, unrelated multiples of a tiny
    step.  At equal gaps (or small multiples of one) the rounding errors of
    an intermediate such as ``a * x**6`` creep along in a straight line from
    one point to the next whenever the change between points happens to be
    close to a whole number of units in the last place -- and a straight
    line is just what differences cancel.
    """
    q = 2.0 ** (math.floor(math.log2(scale)) - 29)
    q = max(q, float(_np.spacing(_coordinate(point, d))))  # x + k q stays exact
    f = [_np.asarray(unbox(value if k == 0 else point([(d, k * q)])))
         for k in _NOISE_NODES]
    sigma: Any = 0.0
    for i in range(len(_NOISE_NODES) - 4):
        nodes = [float(k) for k in _NOISE_NODES[i:i + 5]]
        w = [1.0 / math.prod(a - b for b in nodes if b != a) for a in nodes]
        total = sum(wi * fi for wi, fi in zip(w, f[i:i + 5], strict=True))
        sigma = _np.fmax(sigma, _np.abs(total) / math.hypot(*w))
    return _NOISE_SAFETY * sigma


def _settled(firsts: list[Any], noises: list[Any]) -> bool:
    """Whether three central differences, halving ``h``, follow ``D(h) = f' +
    c h**(2m) + ...``: the second change ``4**m`` times smaller than the first
    (within ``_RICHARDSON_RATIO_TOLERANCE``, for m = 1, 2 or 3), or the second
    change lost in round-off.  Entries that are NaN at all three steps are
    left out (they come back NaN)."""
    a, b, c = firsts
    na, nb, nc = noises
    first, second = a - b, b - c
    quiet_first = _np.abs(first) <= 2 * (na + nb)
    quiet_second = _np.abs(second) <= 2 * (nb + nc)
    with _np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = first / _np.where(quiet_second, 1.0, second)
        geometric = _np.zeros(_np.shape(r), dtype=bool)
        for m in (1, 2, 3):
            geometric |= (_np.abs(r / 4.0 ** m - 1)
                          <= _RICHARDSON_RATIO_TOLERANCE)
    undefined = _np.isnan(a) & _np.isnan(b) & _np.isnan(c)
    return bool(_np.all(undefined | quiet_second | (geometric & ~quiet_first)))


def _on_the_curve(central: Callable[[float], tuple[Any, Any, Any]],
                  steps: list[float], firsts: list[Any], noises: list[Any]) -> bool:
    """Whether central differences at steps off the halving grid agree with
    the window's power series (the polynomial in ``h**2`` through its
    differences), to ``_PROBE_TOLERANCE`` of its first change plus round-off.
    """
    nodes = [h * h for h in steps]
    scale = _np.abs(firsts[0] - firsts[1])
    for probe in (steps[0] * 2 ** -0.5, steps[1] * 2 ** (-1 / 3)):
        _, got, got_noise = central(probe)
        t = probe * probe
        lagrange = [math.prod((t - nodes[j]) / (nodes[i] - nodes[j])
                              for j in range(len(nodes)) if j != i)
                    for i in range(len(nodes))]
        model = sum(li * fi for li, fi in zip(lagrange, firsts, strict=True))
        model_noise = sum(abs(li) * ni for li, ni in zip(lagrange, noises,
                                                         strict=True))
        with _np.errstate(invalid="ignore"):
            ok = (_np.abs(got - model) <= _PROBE_TOLERANCE * scale
                  + 2 * _np.fmax(got_noise, noises[0]) + model_noise)
        undefined = _np.isnan(got) & _np.isnan(model)
        if not _np.all(ok | undefined):
            return False
    return True


def _worst(err: Any) -> float:
    """Largest entry, counting NaN (a failed evaluation) as infinitely bad."""
    err = _np.where(_np.isnan(err), _np.inf, err)
    return float(_np.max(err)) if _np.size(err) else 0.0


def estimate(fun: Callable[..., Any], x: Any, scheme: str = "central",
             step: float | None = None) -> FiniteDifference:
    """Estimate the Jacobian of ``fun`` at ``x`` by finite differences.

    Parameters
    ----------
    fun
        A function of one argument (a number, an array, or a tuple/list/dict
        of arrays) returning a number or an array.
    x
        Where to differentiate.
    scheme
        ``"forward"``, ``"backward"``, ``"central"`` (default),
        ``"complex-step"`` or ``"richardson"``.
    step
        The step ``h`` for every input (for Richardson, the first step).  By
        default, near the step that balances truncation and round-off
        error (see :func:`default_step`).

    Returns
    -------
    FiniteDifference
        The value, the derivative, the step, the number of evaluations and
        (Richardson) an error estimate.

    Raises
    ------
    ValueError, TypeError
        For an unknown scheme or a step that is not a positive finite number.
    NotApplicable
        For the complex step on a complex ``x``, or on a function that is not
        complex-analytic or cannot take complex input; for Richardson when
        the differences never settle down to the pattern it relies on (``f``
        varies too fast, or is not smooth, near ``x``).

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> from diffkit.backends.finite import estimate
    >>> est = estimate(np.sin, 0.0, scheme="forward")
    >>> float(est.derivative), est.evaluations       # cos(0) = 1
    (1.0, 2)
    >>> est = estimate(lambda x: np.sum(x ** 2), np.array([1.0, 2.0, 3.0]))
    >>> est.derivative, est.evaluations              # 2x, from 2n evaluations
    (array([2., 4., 6.]), 6)
    >>> est = estimate(np.exp, 1.0, scheme="richardson")
    >>> abs(float(est.derivative) - np.e) <= est.error_estimate < 1e-11
    True

    Richardson halves its step until the differences behave, here down to
    ``h ~ 1e-4`` for a function that oscillates with period 0.003:

    >>> import diffkit as dk
    >>> fast = lambda x: np.cos(np.exp(np.sqrt(1 + x ** 4)) ** 4) ** 2
    >>> est = estimate(fast, -0.954, scheme="richardson")
    >>> exact = dk.derivative(fast, -0.954)              # reverse mode: 582.2...
    >>> abs(est.derivative - exact) <= est.error_estimate < 1e-6
    True
    """
    scheme = _check_scheme(scheme)
    h_user = _check_step(step)
    point = _Point(fun, x)
    steps = point.steps(scheme, h_user)
    if scheme == "complex-step":
        return _complex_step(point, steps)
    dirs = point.directions(steps)
    value = point()
    evaluations = 1 if scheme in ("forward", "backward") else 0
    errors: list[Any] = []
    columns = []
    with _np.errstate(invalid="ignore", over="ignore"):
        for d in dirs:
            if scheme == "richardson":
                col, err = _richardson(point, d, value)
                errors.append(err)
            else:
                col = _stencil_derivative(point, d, scheme, d.step, value)
            columns.append(col)
    evaluations += point.evaluations - 1
    error_estimate = None
    if scheme == "richardson":
        error_estimate = max((_worst(e) for e in errors), default=0.0)
    return FiniteDifference(
        value=value, derivative=_assemble(point, dirs, columns, value),
        scheme=scheme, step=unflatten(point.treedef, steps),
        evaluations=evaluations, error_estimate=error_estimate,
    )


def value_and_jacobian(fun: Callable[..., Any], x: Any, scheme: str = "central",
                       step: float | None = None, **other: Any) -> tuple[Any, Any]:
    """``(fun(x), J)`` by finite differences: the backend interface.

    ``J`` has, per leaf of ``x``, the shape ``fun(x).shape + leaf.shape``.
    See :func:`estimate` for the options (``other`` only catches misspelt
    ones, to say which exist).

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> from diffkit.backends.finite import value_and_jacobian
    >>> value, jac = value_and_jacobian(lambda x: x[0] * x[1],
    ...                                 np.array([2.0, 3.0]), scheme="complex-step")
    >>> float(value), jac
    (6.0, array([3., 2.]))
    """
    if other:
        raise TypeError(
            f"method='finite' takes the options scheme= and step=, got "
            f"{', '.join(sorted(other))}."
        )
    est = estimate(fun, x, scheme=scheme, step=step)
    return est.value, est.derivative


# --- the complex step ----------------------------------------------------------

#: Primitives that are not complex-analytic: on complex input they do not
#: extend the real function analytically (``abs(x + ih)`` has no ``ih`` term),
#: so the complex step would silently give a wrong derivative.  (NumPy
#: functions that reject complex input, such as ``cbrt``, fail on their own;
#: primitives without a derivative, such as ``sign``, are refused when their
#: result carries the step: see ``_ComplexStepTrace.process_constant``.)
NON_ANALYTIC = frozenset({
    "abs", "fabs", "real", "imag", "conj", "angle", "hypot", "vdot", "var",
    "std", "norm", "logabsdet", "eigh_values", "eigh_vectors", "cholesky", "pinv",
    # Decompositions normalised with |.| or a conjugate transpose: singular
    # values and vectors, eigenvectors scaled to unit length, QR.
    "svd_values", "svd_u", "svd_vh", "eig_vectors", "qr_q", "qr_r",
    # The inverse real FFTs read a half spectrum as Hermitian, filling in the
    # other half with its conjugate: irfft(fft(x)[:3], 4) gave a gradient of 0.
    "irfft", "irfft2", "irfftn",
})

#: Primitives that are analytic but whose NumPy computation is not
#: complex-step safe, with the reason.
UNSAFE_FOR_THE_COMPLEX_STEP = {
    # Measured: on random real 3x3 matrices with real distinct eigenvalues,
    # 1 in 10 complex-step gradients of an eigenvalue were off by up to 1e4,
    # even with each eigenvalue matched to its own (LAPACK also reorders
    # them).  LU-based det, inv and solve are exact to round-off there.
    "eig_values": (
        "whose values are analytic where they are distinct, but LAPACK "
        "reduces a complex matrix with unitary transformations built from "
        "norms and phases, which leave rounding errors of size eps*|A| in the "
        "imaginary parts (and may list the eigenvalues in another order); "
        "divided by the step h, they swamp f'(x)"
    ),
}


class _ComplexStepTrace(Trace):
    """Runs ``f`` on complex values, refusing primitives that are not analytic.

    It computes nothing of its own: every primitive is applied to the plain
    (complex) values underneath.  It exists so that a call such as
    ``np.abs(x + ih)`` is caught instead of quietly dropping the ``ih``, and
    ``np.sign(x + ih)``, which has no derivative, instead of leaking it.
    """

    __slots__ = ()

    def process_primitive(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        if prim.name in NON_ANALYTIC:
            why = ("which is not complex-analytic, so f(x + ih) does not carry "
                   "h*f'(x) in its imaginary part")
        elif prim.name.startswith("linalg."):
            # numpy.linalg's other functions (cond, matrix_rank...) pass
            # through diffkit untouched, and most are built on the SVD.
            why = (f"numpy.{prim.name}, which diffkit passes through without "
                   "derivative rules: nothing says it is complex-analytic")
        elif prim.name in UNSAFE_FOR_THE_COMPLEX_STEP:
            why = UNSAFE_FOR_THE_COMPLEX_STEP[prim.name]
        else:
            values = [a._value if type(a) is Box and a._trace is self else a
                      for a in args]
            return Box(prim(*values, **kwargs), self, None)
        raise NotApplicable(
            f"The complex step cannot differentiate this function: it uses "
            f"{prim.name!r}, {why}. Use another scheme (scheme='central' or "
            "'richardson'), or method='forward' / 'reverse'."
        )

    def process_constant(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        # A primitive with no derivative must give a result that does not
        # move with x.  Comparisons, argmax, round... read the real part (or
        # drop the 1e-20 step), but NumPy's sign(z) = z/|z| and unique(z)
        # return the step itself, and f'(x) would be read off it.
        out = super().process_constant(prim, args, kwargs)
        leaves = out if isinstance(out, tuple) else (out,)
        if any(_np.iscomplexobj(v) and _np.any(_np.imag(v)) for v in leaves):
            raise NotApplicable(
                f"The complex step cannot differentiate this function: it uses "
                f"{prim.name!r}, which has no derivative, yet its result at "
                "the complex point x + ih carries an imaginary part, so f'(x) "
                "read off Im f(x + ih) would be wrong. Use another scheme "
                "(scheme='central' or 'richardson'), or method='forward' / "
                "'reverse'."
            )
        return out


def _complex_step(point: _Point, steps: list[Any]) -> FiniteDifference:
    for leaf in point.leaves:
        if _np.iscomplexobj(unbox(leaf)):
            raise NotApplicable(
                "The complex step needs a real input x: it moves x along the "
                "imaginary axis (x + ih) to read f'(x) off the imaginary part, "
                "and a complex x already uses that axis. Use scheme='central' "
                "(or method='forward' / 'reverse') for complex inputs."
            )
    value = point()
    if _np.iscomplexobj(unbox(value)):
        raise NotApplicable(
            "The complex step needs a function that is real for real x (it "
            "reads f'(x) off the imaginary part of f(x + ih)), but f(x) is "
            "complex here. Use scheme='central' or method='forward'."
        )
    dirs = point.directions(steps, complex_inputs=False)
    trace = _ComplexStepTrace()
    columns = []
    for d in dirs:
        moved = point.moved([(d, 1j * d.step)])
        leaves, treedef = flatten(moved)
        boxed = unflatten(treedef, [Box(leaf, trace, None) for leaf in leaves])
        try:
            out = call_traced(lambda b: point.evaluate(b, at_x=False), boxed)
        except TracedValueError as err:
            raise NotApplicable(
                "The complex step evaluates f at complex points x + ih, but f "
                "turns its input into a plain Python number (float(x), "
                "math.sin(x), x.item()...) or stores it into a plain NumPy "
                "array (y[i] = ...), which cannot carry the imaginary part. "
                "Write f with diffkit.numpy functions (np.stack builds an array "
                "from its items), or use scheme='central'."
            ) from err
        except TypeError as err:
            raise NotApplicable(
                f"The complex step evaluates f at complex points x + ih, and f "
                f"failed there ({err}). Write f with diffkit.numpy functions "
                "that accept complex numbers, or use scheme='central'."
            ) from err
        if isinstance(out, list | tuple):
            out = dnp.array(out)
        if type(out) is Box and out._trace is trace:
            out = out._value
        columns.append(dnp.imag(_check_output(out)) / d.step)
    return FiniteDifference(
        value=value, derivative=_assemble(point, dirs, columns, value),
        scheme="complex-step", step=unflatten(point.treedef, steps),
        evaluations=len(dirs),
    )


# --- second derivatives -------------------------------------------------------------


def hessian(fun: Callable[..., Any], x: Any, step: float | None = None) -> Any:
    """The Hessian of a scalar ``fun`` by second-difference stencils.

    Not finite differences of finite differences: each entry comes from one
    stencil.  The diagonal uses the second difference
    ``(f(x+h) - 2 f(x) + f(x-h)) / h**2`` (weights ``[1, -2, 1]``); an
    off-diagonal entry the product of two central differences,
    ``(f(++) - f(+-) - f(-+) + f(--)) / 4 h_i h_j``.  Both are second-order
    accurate; dividing by ``h**2`` magnifies round-off to ``eps |f| / h**2``,
    so the step balances at ``h ~ eps**(1/4)``.  Cost: ``2 n**2 + 1``
    evaluations for ``n`` inputs.

    Parameters
    ----------
    fun
        A scalar-valued function of one argument.
    x
        A real number or array, or a tuple/list/dict of them.
    step
        The step for every input; default ``eps**(1/4) * max(1, |x|)``
        rounded to a power of two.

    Returns
    -------
    array or tree
        Shape ``x.shape + x.shape`` for an array ``x``; for a tree, a tree of
        trees: ``H[a][b]`` has shape ``a.shape + b.shape``.

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> from diffkit.backends.finite import hessian
    >>> H = hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 3.0]))
    >>> np.round(H, 6)                                 # [[2 x1, 2 x0], [2 x0, 0]]
    array([[6., 2.],
           [2., 0.]])
    """
    h_user = _check_step(step)
    point = _Point(fun, x)
    for leaf in point.leaves:
        if _np.iscomplexobj(unbox(leaf)):
            raise TypeError(
                "The finite-difference Hessian takes real inputs only. For a "
                "complex x use dk.hessian(f, method='forward-over-reverse')."
            )
    dirs = point.directions(point.steps("second", h_user))
    value = point()
    if dnp.ndim(value) != 0:
        raise TypeError(
            f"A Hessian needs a function with a scalar output, but this one "
            f"returned an array of shape {dnp.shape(value)}. Use dk.jacobian of "
            "dk.jacobian for every second derivative of every output."
        )
    curvature = list(zip((-1, 0, 1), _weights((-1, 0, 1), 2), strict=True))
    slope = list(zip((-1, 1), _weights((-1, 1)), strict=True))
    n = len(dirs)
    rows: list[list[Any]] = [[None] * n for _ in range(n)]
    with _np.errstate(invalid="ignore", over="ignore"):
        for i, di in enumerate(dirs):
            total: Any = 0.0
            for s, w in curvature:
                total = total + w * (value if s == 0
                                            else point([(di, s * di.step)]))
            rows[i][i] = total / di.step ** 2
            for j in range(i):
                dj = dirs[j]
                total = 0.0
                for si, wi in slope:
                    for sj, wj in slope:
                        f_ij = point([(di, si * di.step), (dj, sj * dj.step)])
                        total = total + wi * wj * f_ij
                rows[i][j] = rows[j][i] = total / (di.step * dj.step)
    return _assemble_hessian(point, rows)


def _assemble_hessian(point: _Point, rows: list[list[Any]]) -> Any:
    n = len(rows)
    full = (dnp.stack([dnp.stack(r) for r in rows]) if n
            else _np.zeros((0, 0)))
    sizes = [int(_np.size(unbox(leaf))) for leaf in point.leaves]
    starts = _np.concatenate([[0], _np.cumsum(sizes)]).astype(int)
    shapes = [tuple(_np.shape(leaf)) for leaf in point.leaves]

    def block(a: int, b: int) -> Any:
        piece = full[starts[a]:starts[a + 1], starts[b]:starts[b + 1]]
        return dnp.reshape(piece, shapes[a] + shapes[b])

    if len(point.leaves) == 1 and point.treedef.kind is None:
        return block(0, 0)
    count = len(point.leaves)
    return unflatten(point.treedef, [
        unflatten(point.treedef, [block(a, b) for b in range(count)])
        for a in range(count)
    ])
