"""The derivatives of ``sinc`` to any order, exact at 0 too.

``sinc(x) = sin(pi x) / (pi x)`` is 0/0 at ``x = 0``, where NumPy defines it
as 1, its limit.  Its derivative written the obvious way,
``(cos(pi x) - sinc(x)) / x``, is 0/0 there again: a rule that patches the
value with ``where(x == 0, 0, ...)`` gets the first derivative right but
differentiates the patch, a constant, to 0 -- so ``sinc''(0)`` came out 0
instead of ``-pi**2 / 3`` (autograd has the same flaw).

Here the k-th derivative is a primitive of its own, ``sinc_slope(x, k)``,
whose derivative is ``sinc_slope(x, k + 1)``: every order has the right
value at 0 and everywhere else.  With ``u = pi x`` it is ``pi**k`` times the
k-th derivative of ``sin(u) / u``, computed two ways:

* near 0 from the Maclaurin series ``sin(u)/u = sum_n (-1)^n u^2n / (2n+1)!``,
  differentiated term by term (no division by u);
* elsewhere from Leibniz's rule for the product ``sin(u) * (1/u)``, whose
  terms cancel badly only near 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as _np

from diffkit.primitives import Primitive, defjvp, defsympy, defvjp

__all__ = ["sinc_slope"]


def _series(u: _np.ndarray, k: int) -> _np.ndarray:
    """d^k/du^k sin(u)/u from its Maclaurin series (accurate for |u| <~ 1 + k/2)."""
    total = _np.zeros_like(u)
    for n in range((k + 1) // 2, (k + 1) // 2 + 40):
        # d^k/du^k u^2n = (2n)! / (2n - k)! u^(2n - k)
        coefficient = (-1) ** n * math.factorial(2 * n) / (
            math.factorial(2 * n - k) * math.factorial(2 * n + 1))
        total = total + coefficient * u ** (2 * n - k)
    return total


def _leibniz(u: _np.ndarray, k: int) -> _np.ndarray:
    """d^k/du^k [sin(u) * u**-1]: sum over m of C(k, m) sin^(k-m)(u) (u^-1)^(m)."""
    total = _np.zeros_like(u)
    for m in range(k + 1):
        # the j-th derivative of sin is sin(u + j pi/2); of 1/u, (-1)^m m!/u^(m+1)
        total = total + (math.comb(k, m) * _np.sin(u + (k - m) * _np.pi / 2)
                         * (-1) ** m * math.factorial(m) / u ** (m + 1))
    return total


def _sinc_slope(x: Any, order: int = 1) -> Any:
    x = _np.asarray(x, dtype=_np.result_type(x, float))
    u = _np.pi * x
    near_zero = _np.abs(u) < 1 + order / 2
    with _np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        far = _leibniz(_np.where(near_zero, 1.0, u), order)
    slope = _np.where(near_zero, _series(_np.where(near_zero, u, 0.0), order), far)
    slope = slope * _np.pi**order
    return slope[()] if slope.ndim == 0 else slope


sinc_slope = Primitive(_sinc_slope, "sinc_slope", elementwise=True,
                       latex=r"\operatorname{sinc}^{(k)}")

defvjp(sinc_slope, lambda g, ans, x, order=1: g * sinc_slope(x, order=order + 1))
defjvp(sinc_slope, lambda t, ans, x, order=1: t * sinc_slope(x, order=order + 1))


def _sympy_rule(x: Any, order: int = 1) -> Any:
    import sympy as sp

    from diffkit.rules.sympy import _map

    u = sp.Dummy("u", real=True)
    slope = sp.diff(sp.sinc(sp.pi * u), u, order)
    return _map(lambda a: slope.xreplace({u: a}))(x)


defsympy(sinc_slope, _sympy_rule)
