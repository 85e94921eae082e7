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

The symbolic method needs the same care: SymPy differentiates ``sinc(u)``
to ``cos(u)/u - sin(u)/u**2``, which is ``nan`` at 0 (and loses every digit
near 0 in double precision).  So the SymPy rules use :func:`sympy_sinc`,
SymPy's ``sinc`` whose derivatives are ``sinc_derivative(k, u)``: a SymPy
function that is exact at 0, evaluates to any number of digits with mpmath,
and compiles to the same NumPy code as ``sinc_slope``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as _np

from diffkit.primitives import Primitive, defjvp, defsympy, defvjp

__all__ = ["sinc_slope", "sympy_sinc", "sinc_derivative_value"]


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


def sinc_derivative_value(k: Any, u: Any) -> Any:
    """``d^k/du^k sin(u)/u`` in double precision (what SymPy's formula compiles to).

    It is ``sinc_slope`` in the variable ``u = pi x``, so the symbolic method
    gets the very numbers -- and, for traced values, the very rules -- that
    forward and reverse mode use.
    """
    return sinc_slope(u / _np.pi, order=int(k)) / _np.pi ** int(k)


@functools.cache
def _sympy_classes() -> tuple[Any, Any]:
    """SymPy's ``sinc`` with exact derivatives, and those derivatives.

    Made on first use, so that ``import diffkit`` does not import SymPy.
    """
    import mpmath
    import sympy as sp
    from sympy.core.function import ArgumentIndexError

    class sinc(sp.sinc):  # noqa: N801 - printed as SymPy's own sinc
        """``sin(u)/u`` (1 at 0), whose derivative is ``sinc_derivative(1, u)``."""

        def fdiff(self, argindex: int = 1) -> Any:
            if argindex != 1:
                raise ArgumentIndexError(self, argindex)
            return sinc_derivative(1, self.args[0])

    class sinc_derivative(sp.Function):  # noqa: N801 - a SymPy function's name
        """``sinc_derivative(k, u)``: the k-th derivative of ``sin(u)/u``.

        Unlike ``diff(sinc(u), u, k)`` it has its limit at ``u = 0``: 0 for
        odd k, ``(-1)**(k/2) / (k + 1)`` for even k (term by term from the
        Maclaurin series), and its own derivative is the next one.
        ``.rewrite(sympy.sin)`` gives the formula away from 0.
        """

        nargs = 2

        @classmethod
        def eval(cls, k: Any, u: Any) -> Any:
            if not (k.is_Integer and k >= 0):
                return None
            if k == 0:
                return sinc(u)
            if u.is_zero:
                return sp.S.Zero if k % 2 else sp.Integer(-1) ** (k // 2) / (k + 1)
            if u.could_extract_minus_sign():  # sin(u)/u is even
                return (-1) ** k * cls(k, -u)
            return None

        def fdiff(self, argindex: int = 2) -> Any:
            if argindex != 2:  # the order is an integer, not a variable
                raise ArgumentIndexError(self, argindex)
            k, u = self.args
            return sinc_derivative(k + 1, u)

        def _eval_is_extended_real(self) -> Any:
            return self.args[1].is_extended_real

        def _eval_rewrite_as_sin(self, k: Any, u: Any, **kwargs: Any) -> Any:
            return sp.diff(sp.sin(u) / u, u, int(k)) if k.is_Integer else None

        def _eval_evalf(self, prec: int) -> Any:
            k, u = self.args
            if not (k.is_Integer and u.is_number):
                return None
            n = int(k)
            value = u._to_mpmath(prec)
            if value == 0:
                return self.func(k, sp.S.Zero)
            # Leibniz's terms are as large as n!/|u|^(n+1) while their sum
            # stays below 1: carry the bits that cancellation will cost.
            lost = (n + 1) * max(0, -int(mpmath.log(abs(value), 2))) + 2 * n
            with mpmath.workprec(prec + lost + 20):
                value = u._to_mpmath(prec + lost + 20)
                total = mpmath.mpf(0)
                for m in range(n + 1):
                    total += (math.comb(n, m)
                              * mpmath.sin(value + (n - m) * mpmath.pi / 2)
                              * (-1) ** m * math.factorial(m) / value ** (m + 1))
            return sp.Expr._from_mpmath(total, prec)

        def _numpycode(self, printer: Any) -> str:
            name = printer._module_format("diffkit.rules._sinc.sinc_derivative_value")
            k, u = (printer._print(a) for a in self.args)
            return f"{name}({k}, {u})"

        def _latex(self, printer: Any) -> str:
            k, u = self.args
            order = ("'" * int(k) if k.is_Integer and 1 <= k <= 3
                     else f"^{{({printer._print(k)})}}")
            return rf"\operatorname{{sinc}}{order}\left({printer._print(u)}\right)"

    return sinc, sinc_derivative


def sympy_sinc(u: Any, order: int = 0) -> Any:
    """The ``order``-th derivative of ``sin(u)/u`` as a SymPy expression of ``u``.

    ``order=0`` is SymPy's ``sinc(u)`` (printed as such) whose derivative is
    exact at 0; higher orders are ``sinc_derivative(order, u)``.

    Examples
    --------
    >>> import sympy
    >>> from diffkit.rules._sinc import sympy_sinc
    >>> x = sympy.Symbol("x", real=True)
    >>> sympy.diff(sympy_sinc(x), x, 2).subs(x, 0)
    -1/3
    """
    sinc, sinc_derivative = _sympy_classes()
    return sinc(u) if order == 0 else sinc_derivative(order, u)


def _sympy_rule(x: Any, order: int = 1) -> Any:
    import sympy as sp

    from diffkit.rules.sympy import _map

    return _map(lambda a: sp.pi ** order * sympy_sinc(sp.pi * a, order))(x)


defsympy(sinc_slope, _sympy_rule)
