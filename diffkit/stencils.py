"""Finite-difference weights on any grid: Fornberg's algorithm.

A finite-difference formula approximates a derivative by a weighted sum of
function values at nearby points,

.. math::

    f^{(m)}(x_0) \\approx \\frac{1}{h^m} \\sum_i w_i \\, f(x_0 + s_i h),

where the *offsets* :math:`s_i` say where the points are, in units of the
step :math:`h`.  The weights :math:`w_i` are those that make the formula
exact for every polynomial of degree below the number of points: expand each
:math:`f(x_0 + s_i h)` as a Taylor series and ask that the terms in
:math:`f, f', f'', \\ldots` cancel except the one for :math:`f^{(m)}`.  That
is a small Vandermonde system, but solving it directly is badly conditioned.

Fornberg (1988) found a recursion instead: it differentiates the Lagrange
interpolating polynomial through the points, adding one point at a time, and
produces the weights of every derivative order ``0..m`` in ``O(n^2 m)``
operations, for any (even non-uniform) set of offsets.  Every stencil diffkit
uses comes from here; none is typed in by hand.

With integer or :class:`fractions.Fraction` offsets the arithmetic is exact,
so the familiar stencils come out as exact fractions:

>>> from diffkit.stencils import weights
>>> weights([-1, 0, 1])                 # central difference
(Fraction(-1, 2), Fraction(0, 1), Fraction(1, 2))
>>> weights([-1, 0, 1], derivative=2)   # the second difference [1, -2, 1]
(Fraction(1, 1), Fraction(-2, 1), Fraction(1, 1))

References
----------
B. Fornberg, "Generation of finite difference formulas on arbitrarily spaced
grids", Mathematics of Computation 51 (1988), 699-706.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

__all__ = ["weights", "weights_table", "accuracy_order"]

#: A weight: an exact fraction for rational offsets, a float otherwise.
Weight = Fraction | float


def _as_numbers(offsets: Sequence[Any], at: Any) -> tuple[list[Any], Any, bool]:
    """The offsets and expansion point, all Fractions (exact) or all floats."""
    try:
        points = list(offsets)
    except TypeError:
        raise TypeError(
            f"offsets must be a sequence of numbers such as [-1, 0, 1], got "
            f"{offsets!r}."
        ) from None
    for s in [*points, at]:
        if isinstance(s, bool) or not isinstance(s, numbers.Real):
            raise TypeError(
                f"offsets (and at=) must be real numbers, got {s!r}. Use ints or "
                "fractions.Fraction for exact weights, floats otherwise."
            )
        if not math.isfinite(s):
            raise ValueError(f"offsets (and at=) must be finite, got {s!r}.")
    exact = all(isinstance(s, numbers.Rational) for s in [*points, at])
    convert = Fraction if exact else float
    points = [convert(s) for s in points]
    if len(set(points)) != len(points):
        raise ValueError(
            f"offsets must be distinct, got {list(offsets)!r}: a point used twice "
            "adds no information about the function."
        )
    return points, convert(at), exact


def weights_table(offsets: Sequence[Any], max_derivative: int,
                  at: Any = 0) -> list[tuple[Weight, ...]]:
    """Weights of every derivative order from 0 to ``max_derivative`` at once.

    Parameters
    ----------
    offsets
        Distinct grid points ``s_i`` (in units of the step ``h``).  Ints and
        :class:`~fractions.Fraction` give exact weights, floats give floats.
    max_derivative
        The highest derivative order wanted; needs at least
        ``max_derivative + 1`` points.
    at
        Where the derivatives are approximated (default 0, the point the
        offsets are measured from).

    Returns
    -------
    list of tuple
        ``table[m][i]`` is the weight of ``f(at + s_i h)`` in the formula for
        the ``m``-th derivative (``table[0]`` interpolates ``f`` itself).

    Examples
    --------
    >>> from diffkit.stencils import weights_table
    >>> value, slope, curvature = weights_table([0, 1, 2], 2)
    >>> [str(w) for w in slope]          # one-sided, second-order accurate
    ['-3/2', '2', '-1/2']
    >>> [str(w) for w in curvature]
    ['1', '-2', '1']
    """
    if isinstance(max_derivative, bool) or not isinstance(max_derivative,
                                                          numbers.Integral):
        raise TypeError(f"The derivative order must be an int, got {max_derivative!r}.")
    m = int(max_derivative)
    if m < 0:
        raise ValueError(f"The derivative order must be 0 or more, got {m}.")
    s, x0, exact = _as_numbers(offsets, at)
    n = len(s)
    if n < m + 1:
        raise ValueError(
            f"A derivative of order {m} needs at least {m + 1} points, got {n} "
            f"({list(offsets)!r}): with fewer, no weights can be exact even for "
            f"x**{m}."
        )
    zero, one = (Fraction(0), Fraction(1)) if exact else (0.0, 1.0)
    # c[i][k]: weight of point i in the formula for the k-th derivative, using
    # the points seen so far.  Adding point i updates the old points' weights
    # and gives the new one its own: the Lagrange polynomial through points
    # 0..i is the one through 0..i-1 times (x - s_i), plus a new term.
    c = [[zero] * (m + 1) for _ in range(n)]
    c[0][0] = one
    prod_old = one          # prod_{j<i-1} (s_{i-1} - s_j)
    dist_new = s[0] - x0    # s_i - x0 for the point being added
    for i in range(1, n):
        prod_new = one
        dist_prev, dist_new = dist_new, s[i] - x0
        for j in range(i):
            gap = s[i] - s[j]
            prod_new *= gap
            if j == i - 1:
                # The new point's weights, from the previous point's.
                for k in range(min(i, m), 0, -1):
                    c[i][k] = prod_old * (k * c[i - 1][k - 1]
                                          - dist_prev * c[i - 1][k]) / prod_new
                c[i][0] = -prod_old * dist_prev * c[i - 1][0] / prod_new
            # The old points' weights, rescaled for the extra factor (x - s_i).
            for k in range(min(i, m), 0, -1):
                c[j][k] = (dist_new * c[j][k] - k * c[j][k - 1]) / gap
            c[j][0] = dist_new * c[j][0] / gap
        prod_old = prod_new
    return [tuple(c[i][k] for i in range(n)) for k in range(m + 1)]


def weights(offsets: Sequence[Any], derivative: int = 1,
            at: Any = 0) -> tuple[Weight, ...]:
    """Finite-difference weights for one derivative on the grid ``offsets``.

    ``f^(m)(at) ~ sum(w_i * f(s_i * h)) / h**m`` with ``m = derivative``.
    The formula is exact for polynomials of degree below ``len(offsets)``, so
    its error is ``O(h**p)`` with ``p >= len(offsets) - derivative`` (see
    :func:`accuracy_order`).

    Parameters
    ----------
    offsets
        Distinct grid points ``s_i`` in units of the step.  Ints and
        :class:`~fractions.Fraction` give exact :class:`~fractions.Fraction`
        weights; any float makes every weight a float.
    derivative
        The derivative order ``m`` (default 1).
    at
        Where the derivative is approximated, in the same units (default 0).

    Returns
    -------
    tuple
        One weight per offset, in the same order.

    Examples
    --------
    >>> from fractions import Fraction
    >>> from diffkit.stencils import weights
    >>> [str(w) for w in weights([-2, -1, 0, 1, 2])]   # fourth-order central
    ['1/12', '-2/3', '0', '2/3', '-1/12']
    >>> weights([0, 1])                                # forward difference
    (Fraction(-1, 1), Fraction(1, 1))
    >>> [str(w) for w in weights([-1, Fraction(1, 2)])]  # uneven grid
    ['-2/3', '2/3']
    >>> weights([-0.5, 0.5])                           # floats in, floats out
    (-1.0, 1.0)
    """
    return weights_table(offsets, derivative, at)[-1]


def accuracy_order(offsets: Sequence[Any], derivative: int = 1) -> int:
    """The order ``p`` of the truncation error ``O(h**p)`` of a stencil.

    Taylor-expand ``sum(w_i f(s_i h)) / h**m``: the term in ``f^(q)`` has
    coefficient ``sum(w_i s_i**q) / q!`` times ``h**(q - m)``.  The weights
    make the terms ``q < len(offsets)`` right; symmetry can cancel more (the
    central difference gets ``q = 2`` free).  ``p = q - m`` for the first
    ``q > m`` whose coefficient does not vanish.  Computed exactly for
    rational offsets, to a relative tolerance for floats.

    Examples
    --------
    >>> from diffkit.stencils import accuracy_order
    >>> accuracy_order([0, 1]), accuracy_order([-1, 1]), accuracy_order([-2, -1, 1, 2])
    (1, 2, 4)
    >>> accuracy_order([-1, 0, 1], derivative=2)
    2
    """
    w = weights(offsets, derivative)
    s, _, exact = _as_numbers(offsets, 0)
    scale = max(abs(x) for x in s)
    for q in range(derivative + 1, 2 * len(s) + derivative + 2):
        moment = sum(wi * si ** q for wi, si in zip(w, s, strict=True))
        size = sum(abs(wi) * scale ** q for wi in w)
        if (moment != 0) if exact else abs(moment) > 1e-12 * size:
            return q - derivative
    raise AssertionError("unreachable: a finite stencil cannot be exact for all q")
