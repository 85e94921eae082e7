"""``check_grads``: test AD against finite differences, to any order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as _np

from diffkit.backends import finite as _finite
from diffkit.backends import forward as _forward
from diffkit.backends import reverse as _reverse
from diffkit.tracer import unbox
from diffkit.trees import flatten, numeric_leaves, tree_map, unflatten
from diffkit.values import as_float

__all__ = ["check_grads"]

_MODES = {"forward": "forward", "fwd": "forward", "reverse": "reverse",
          "rev": "reverse"}


def check_grads(
    f: Callable[..., Any] | str,
    *args: Any,
    order: int = 2,
    modes: str | Sequence[str] = ("forward", "reverse"),
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> None:
    """Check AD derivatives of ``f`` at ``args`` against finite differences.

    Along a random direction, the directional derivative from forward mode
    (a JVP) and the one implied by reverse mode (a VJP, dotted with the
    direction) are compared with a central difference of ``f``.  With
    ``order=2`` the derivative functions themselves are checked the same way,
    and so on.

    Parameters
    ----------
    f
        A function written with ``diffkit.numpy``, or an expression string
        such as ``"sin(x)*y"`` (one argument per variable).
    *args
        The point: one value per argument of ``f`` (numbers, arrays, or
        tuples/lists/dicts of them); at least one number to differentiate.
    order
        Check derivatives up to this order: 1, 2, 3...
    modes
        ``"forward"`` (or ``"fwd"``), ``"reverse"`` (or ``"rev"``), or a list
        of them.
    eps
        The step of the central difference.
    rtol, atol
        Relative and absolute tolerance of the comparison.

    Raises
    ------
    AssertionError
        With the worst mismatch found, if any derivative disagrees.
    ValueError
        For an unknown mode, an order that is not a positive integer, or no
        input to differentiate.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.check_grads(lambda x: np.sin(x) * np.exp(x), np.array([0.3, 1.2]))
    >>> bad = dk.primitive(lambda x: x ** 2)
    >>> dk.defvjp(bad, lambda g, ans, x: g * x)      # wrong: should be 2 * x
    >>> dk.check_grads(bad, 1.5, modes=["rev"])
    Traceback (most recent call last):
    ...
    AssertionError: reverse-mode derivative of order 1 ...
    """
    from diffkit.transforms import _callable

    f = _callable(f)  # an expression string is a function too
    if isinstance(modes, str):  # one mode, not a sequence of letters
        modes = (modes,)
    unknown = [m for m in modes if m not in _MODES]
    if unknown:
        raise ValueError(f"Unknown mode(s) {unknown}: use 'forward'/'fwd' or "
                         "'reverse'/'rev'.")
    if isinstance(order, bool) or not isinstance(order, int | _np.integer) \
            or order < 1:
        raise ValueError(f"order must be a positive integer (1, 2, ...), got "
                         f"{order!r}.")
    args = tuple(tree_map(as_float, a) for a in args)
    if sum(_np.size(leaf) for leaf in flatten(args)[0]) == 0:
        raise ValueError(
            "Nothing to differentiate: check_grads needs the point, one value "
            "per argument of f, e.g. dk.check_grads(f, 1.5), and at least one "
            "number among them.")
    f = _one_array(f)
    rng = _np.random.default_rng(0)
    for mode in dict.fromkeys(_MODES[m] for m in modes):
        _check(f, args, mode, order, 1, rng, eps, rtol, atol)


def _one_array(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` with a tuple/list/dict output raveled into one vector.

    Every output is then checked, element by element, like an array output;
    ``None`` or a string is refused with a message saying so.
    """
    def one_array(*xs: Any) -> Any:
        leaves, treedef = numeric_leaves(f(*xs), "dk.check_grads: the function")
        return leaves[0] if treedef.kind is None else _stack_leaves(leaves)

    return one_array


def _random_like(tree: Any, rng: _np.random.Generator) -> Any:
    def draw(x: Any) -> Any:
        x = unbox(x)
        shape = _np.shape(x)
        v = rng.standard_normal(shape)
        if _np.iscomplexobj(x):
            v = v + 1j * rng.standard_normal(shape)
        return v[()] if v.ndim == 0 else v

    return tree_map(draw, tree)


def _vdot(a: Any, b: Any) -> Any:
    # Re(sum(a * b)), without conjugating: diffkit's convention for complex
    # inputs is df = Re(grad * dz) (the gradient of |z|^2 is 2 conj(z)).
    la, _ = flatten(a)
    lb, _ = flatten(b)
    return sum(_np.real(_np.sum(_np.asarray(x) * _np.asarray(y)))
               for x, y in zip(la, lb, strict=True))


def _check(f: Callable[..., Any], args: tuple, mode: str, order: int, level: int,
           rng: _np.random.Generator, eps: float, rtol: float, atol: float) -> None:
    v = _random_like(args, rng)
    numeric = _finite.directional(lambda xs: f(*xs), args, v, eps)
    if mode == "forward":
        _, analytic = _forward.jvp(lambda xs: f(*xs), args, v)
        analytic = _np.asarray(analytic)
        what = "J @ v"
    else:
        value, pullback = _reverse.vjp(lambda xs: f(*xs), args)
        u = _random_like(value, rng)
        analytic = _np.asarray(_vdot(pullback(u), v))
        numeric = _np.asarray(_vdot(u, numeric))
        what = "u @ J @ v"
    _compare(analytic, numeric, f"{mode}-mode derivative of order {level} ({what})",
             rtol, atol)
    if order > 1:
        if mode == "forward":
            def derived(*xs: Any) -> Any:
                return _forward.jvp(lambda ys: f(*ys), xs, v)[1]
        else:
            u = _random_like(_reverse.vjp(lambda xs: f(*xs), args)[0], rng)

            def derived(*xs: Any) -> Any:
                leaves, _ = flatten(_reverse.vjp(lambda ys: f(*ys), xs)[1](u))
                return _stack_leaves(leaves)
        _check(derived, args, mode, order - 1, level + 1, rng, eps, rtol, atol)


def _stack_leaves(leaves: list) -> Any:
    from diffkit import numpy as dnp

    return dnp.concatenate([dnp.ravel(dnp.asarray(x)) for x in leaves])


def _compare(analytic: Any, numeric: Any, what: str, rtol: float, atol: float):
    analytic, numeric = _np.atleast_1d(analytic), _np.atleast_1d(numeric)
    err = _np.abs(analytic - numeric)
    excess = err - (atol + rtol * _np.abs(numeric))
    if _np.all(excess <= 0):
        return
    worst = int(_np.argmax(_np.ravel(excess)))
    raise AssertionError(
        f"{what} disagrees with finite differences: AD gives "
        f"{_np.ravel(analytic)[worst]!r}, finite differences give "
        f"{_np.ravel(numeric)[worst]!r} (absolute error "
        f"{_np.ravel(err)[worst]:.3g}; tolerance atol={atol:g} + "
        f"rtol={rtol:g} * |value|)."
    )
_ = unflatten
