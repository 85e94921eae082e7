"""Derivatives of ``prod`` and ``cumprod`` where the input has zeros.

The slope of ``x_1 x_2 ... x_n`` in ``x_i`` is the product of the *other*
entries; dividing the product by ``x_i`` gets it right everywhere except
where it matters most, at ``x_i = 0``.  Every expected value here is worked
out independently of diffkit's rules: by multiplying the other entries one
by one in Python (the closed forms below), or by SymPy differentiating a
product of symbols and substituting a point with zeros.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as onp
import pytest
import sympy as sp

import diffkit as dk
import diffkit.numpy as np

SECOND_ORDER = ("forward", "reverse", "forward-over-reverse")


def product(values: Any) -> Any:
    """The product of an iterable, multiplied out left to right (never divided)."""
    out: Any = 1.0
    for v in values:
        out = out * v
    return out


def lines(shape: tuple, axis: Any) -> Any:
    """Flat indices of ``x``, one row per output of ``prod(x, axis)`` (or per
    running product of ``cumprod(x, axis)``), in the order the entries are
    reduced.  Rows follow the C order of the axes that are kept."""
    index = onp.arange(math.prod(shape)).reshape(shape)
    if axis is None:
        return index.reshape(1, -1)
    reduced = [a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)]
    last = list(range(len(shape) - len(reduced), len(shape)))
    n = math.prod(shape[a] for a in reduced)
    return onp.moveaxis(index, reduced, last).reshape(-1, n)


def prod_jacobian(x: Any, axis: Any = None) -> Any:
    """``d prod(x, axis)[o] / d x[i]``: the product of the other entries of o's row."""
    x = onp.asarray(x)
    rows = lines(x.shape, axis)
    flat = x.ravel()
    J = onp.zeros((len(rows), flat.size), dtype=x.dtype)
    for o, row in enumerate(rows):
        for i in row:
            J[o, i] = product(flat[k] for k in row if k != i)
    return J


def prod_hessian(x: Any, axis: Any, w: Any) -> Any:
    """The Hessian of ``sum(w * prod(x, axis))``: entries i != j of one row give
    ``w[row]`` times the product of the row without both of them."""
    x = onp.asarray(x)
    rows = lines(x.shape, axis)
    flat, w = x.ravel(), onp.ravel(w)
    H = onp.zeros((flat.size, flat.size), dtype=x.dtype)
    for o, row in enumerate(rows):
        for i in row:
            for j in row:
                if i != j:
                    H[i, j] = w[o] * product(flat[k] for k in row if k not in (i, j))
    return H.reshape(x.shape + x.shape)


def cumprod_jacobian(x: Any, axis: Any = None) -> Any:
    """``d cumprod(x, axis)[j] / d x[i]``, both flattened: the product of the
    entries up to j other than i, for i at or before j on j's line."""
    x = onp.asarray(x)
    flat = x.ravel()
    J = onp.zeros((flat.size, flat.size), dtype=x.dtype)
    for row in lines(x.shape, axis):
        for p, j in enumerate(row):
            for i in row[:p + 1]:
                J[j, i] = product(flat[k] for k in row[:p + 1] if k != i)
    return J


def cumprod_hessian(x: Any, axis: Any, w: Any) -> Any:
    """The Hessian of ``sum(w * cumprod(x, axis))``: for i != l on one line,
    the sum over j at or after both of ``w[j]`` times the product of the
    entries up to j other than i and l."""
    x = onp.asarray(x)
    flat, w = x.ravel(), onp.ravel(w)
    H = onp.zeros((flat.size, flat.size), dtype=x.dtype)
    for row in lines(x.shape, axis):
        for p, j in enumerate(row):
            upto = row[:p + 1]
            for i in upto:
                for m in upto:
                    if i != m:
                        H[i, m] += w[j] * product(flat[k] for k in upto
                                                  if k not in (i, m))
    return H.reshape(x.shape + x.shape)


def close(actual: Any, expected: Any) -> None:
    onp.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


# Points: no zeros, one zero, two zeros (in one row, and spread over rows).
VECTORS = {
    "no zeros": onp.array([1.5, -0.5, 2.0, 0.75, -1.25]),
    "one zero": onp.array([1.5, -0.5, 0.0, 0.75, -1.25]),
    "two zeros": onp.array([1.5, 0.0, 2.0, 0.0, -1.25]),
    "all zeros": onp.zeros(4),
}
MATRICES = {
    "no zeros": onp.array([[1.5, -0.5, 2.0], [0.75, -1.25, 3.0]]),
    "one zero": onp.array([[1.5, -0.5, 2.0], [0.75, 0.0, 3.0]]),
    "two zeros": onp.array([[0.0, -0.5, 0.0], [0.75, 0.0, 3.0]]),
}
AXES = [None, 0, 1, -1, (0, 1), (1, 0)]


# --- prod ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["reverse", "forward"])
@pytest.mark.parametrize("point", VECTORS)
def test_prod_gradient_of_a_vector_is_the_product_of_the_others(point, method):
    x = VECTORS[point]
    close(dk.grad(np.prod, method=method)(x), prod_jacobian(x)[0])


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("method", ["reverse", "forward"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("point", MATRICES)
def test_prod_jacobian_along_axes(point, axis, method, keepdims):
    x = MATRICES[point]
    f = lambda x: np.prod(x, axis=axis, keepdims=keepdims)  # noqa: E731
    out_shape = onp.shape(onp.prod(x, axis=axis, keepdims=keepdims))
    J = dk.jacobian(f, method=method)(x)
    close(J, prod_jacobian(x, axis).reshape(out_shape + x.shape))


@pytest.mark.parametrize("axis", [None, 0, 2, (0, 2), (2, 1), -2])
def test_prod_jacobian_of_a_3d_array_with_zeros(axis):
    x = onp.arange(24, dtype=float).reshape(2, 3, 4) % 5 - 1.5
    x[0, 1, 2] = x[1, 1, 1] = x[1, 2, 1] = 0.0  # one zero in some rows, two in others
    out_shape = onp.shape(onp.prod(x, axis=axis))
    expected = prod_jacobian(x, axis).reshape(out_shape + x.shape)
    for method in ("reverse", "forward"):
        close(dk.jacobian(lambda x: np.prod(x, axis=axis), method=method)(x), expected)


@pytest.mark.parametrize("method", SECOND_ORDER)
@pytest.mark.parametrize("point", VECTORS)
def test_prod_hessian_of_a_vector(point, method):
    x = VECTORS[point]
    close(dk.hessian(np.prod, method=method)(x), prod_hessian(x, None, [1.0]))


@pytest.mark.parametrize("method", SECOND_ORDER)
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("point", MATRICES)
def test_prod_hessian_along_axes(point, axis, method):
    x = MATRICES[point]
    w = onp.linspace(0.5, 1.5, onp.size(onp.prod(x, axis=axis)))
    f = lambda x: np.sum(np.ravel(np.prod(x, axis=axis, keepdims=True)) * w)  # noqa: E731
    close(dk.hessian(f, method=method)(x), prod_hessian(x, axis, w))


def test_prod_third_derivative_at_two_zeros():
    # d^3 (a b c d) / da db dc = d, whatever a, b, c are -- zeros included.
    x = onp.array([0.0, 0.0, 2.0, 3.0])
    third = dk.jacobian(dk.hessian(np.prod), method="forward")(x)
    close(third[0, 1, 2], 3.0)
    close(third[0, 1, 3], 2.0)
    close(third[0, 2, 3], 0.0)  # b = 0 is still a factor
    close(third[2, 3, 0], 0.0)


@pytest.mark.parametrize("point", [[1.5, -2.0, 0.5, 3.0], [1.5, 0.0, 0.5, 3.0],
                                   [0.0, -2.0, 0.0, 3.0], [0.0, 0.0, 0.0, 3.0]])
def test_prod_derivatives_agree_with_sympy(point):
    symbols = sp.symbols("a b c d")
    f = sp.Mul(*symbols)
    at = dict(zip(symbols, point, strict=True))
    grad = [float(sp.diff(f, s).subs(at)) for s in symbols]
    hess = [[float(sp.diff(f, s, t).subs(at)) for t in symbols] for s in symbols]
    x = onp.array(point)
    for method in ("reverse", "forward"):
        close(dk.grad(np.prod, method=method)(x), grad)
    for method in SECOND_ORDER:
        close(dk.hessian(np.prod, method=method)(x), hess)


def test_prod_of_complex_entries_with_a_zero():
    # A holomorphic function: the derivative is the product of the other
    # entries (no conjugate), by both modes and at second order.
    z = onp.array([1 + 2j, 0j, 3 - 1j, 0.5j])
    expected = prod_jacobian(z)[0]
    close(expected[1], (1 + 2j) * (3 - 1j) * 0.5j)
    for method in ("reverse", "forward"):
        close(dk.jacobian(np.prod, method=method)(z), expected)
    for method in SECOND_ORDER:
        close(dk.hessian(np.prod, method=method)(z), prod_hessian(z, None, [1.0]))


def test_prod_of_complex_matrix_along_an_axis():
    z = MATRICES["one zero"] * (1 - 0.5j) + 0.25j * MATRICES["two zeros"]
    for method in ("reverse", "forward"):
        close(dk.jacobian(lambda z: np.prod(z, axis=1), method=method)(z),
              prod_jacobian(z, 1).reshape((2,) + z.shape))


# --- cumprod ------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["reverse", "forward"])
@pytest.mark.parametrize("point", VECTORS)
def test_cumprod_jacobian_of_a_vector(point, method):
    x = VECTORS[point]
    close(dk.jacobian(np.cumprod, method=method)(x), cumprod_jacobian(x))


@pytest.mark.parametrize("method", ["reverse", "forward"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("point", MATRICES)
def test_cumprod_jacobian_along_axes(point, axis, method):
    x = MATRICES[point]
    J = dk.jacobian(lambda x: np.cumprod(x, axis=axis), method=method)(x)
    expected = cumprod_jacobian(x, axis)
    close(J, expected.reshape(onp.shape(onp.cumprod(x, axis=axis)) + x.shape))


@pytest.mark.parametrize("method", ["reverse", "forward"])
@pytest.mark.parametrize("axis", [None, 0, 1, 2, -2])
def test_cumprod_jacobian_of_a_3d_array_with_zeros(axis, method):
    # Lines of odd and even lengths (3, 5, 2, 30 entries) with zeros here and there.
    x = onp.arange(30, dtype=float).reshape(3, 5, 2) % 7 / 3 - 1.0
    x[0, 1, 0] = 0.0
    J = dk.jacobian(lambda x: np.cumprod(x, axis=axis), method=method)(x)
    expected = cumprod_jacobian(x, axis)
    close(J, expected.reshape(onp.shape(onp.cumprod(x, axis=axis)) + x.shape))


@pytest.mark.parametrize("method", SECOND_ORDER)
@pytest.mark.parametrize("point", VECTORS)
def test_cumprod_hessian_of_a_vector(point, method):
    x = VECTORS[point]
    w = onp.linspace(1.0, 2.0, x.size)
    f = lambda x: np.sum(np.cumprod(x) * w)  # noqa: E731
    close(dk.hessian(f, method=method)(x), cumprod_hessian(x, None, w))


@pytest.mark.parametrize("method", SECOND_ORDER)
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("point", MATRICES)
def test_cumprod_hessian_along_axes(point, axis, method):
    x = MATRICES[point]
    w = onp.linspace(-1.0, 2.0, x.size).reshape(onp.shape(onp.cumprod(x, axis=axis)))
    f = lambda x: np.sum(np.cumprod(x, axis=axis) * w)  # noqa: E731
    close(dk.hessian(f, method=method)(x), cumprod_hessian(x, axis, w))


@pytest.mark.parametrize("point", [[1.5, -2.0, 0.5, 3.0, 0.5],
                                   [1.5, 0.0, 0.5, 3.0, 2.0],
                                   [0.0, -2.0, 0.0, 3.0, 2.0]])
def test_cumprod_derivatives_agree_with_sympy(point):
    symbols = sp.symbols("a b c d e")
    w = [1.0, -2.0, 0.5, 3.0, 1.5]
    f = sum(wj * sp.Mul(*symbols[:j + 1]) for j, wj in enumerate(w))
    at = dict(zip(symbols, point, strict=True))
    grad = [float(sp.diff(f, s).subs(at)) for s in symbols]
    hess = [[float(sp.diff(f, s, t).subs(at)) for t in symbols] for s in symbols]
    x = onp.array(point)
    fun = lambda x: np.sum(np.cumprod(x) * onp.array(w))  # noqa: E731
    for method in ("reverse", "forward"):
        close(dk.grad(fun, method=method)(x), grad)
    for method in SECOND_ORDER:
        close(dk.hessian(fun, method=method)(x), hess)


def test_cumprod_of_complex_entries_with_a_zero():
    z = onp.array([1 + 2j, -0.5j, 0j, 3 - 1j, 0.5 + 0.5j])
    w = onp.array([1.0, 2j, -1.0, 0.5, 1 - 1j])
    for method in ("reverse", "forward"):
        close(dk.jacobian(np.cumprod, method=method)(z), cumprod_jacobian(z))
    f = lambda z: np.sum(np.cumprod(z) * w)  # noqa: E731
    for method in SECOND_ORDER:
        close(dk.hessian(f, method=method)(z), cumprod_hessian(z, None, w))


def test_cumprod_gradient_on_a_long_vector_with_two_zeros():
    # Entries +-1 except zeros at a and b (a < b), so the closed form is a
    # running sum: for i < a the slope of y[j] (j >= i) is y[j] / x[i] up to
    # j < a; x[a] gets the products of the others for every j >= a, which
    # vanish from b on; every later entry has a zero among its others.
    n, a, b = 200_001, 70_000, 150_000  # odd length: the recurrence pads once
    rng = onp.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], size=n)
    x[a] = x[b] = 0.0
    w = rng.uniform(-1.0, 1.0, size=n)
    f = lambda x: np.sum(np.cumprod(x) * w)  # noqa: E731
    expected = onp.zeros(n)
    y = onp.cumprod(x[:a])  # the running products before the first zero
    tail = onp.cumsum((w[:a] * y)[::-1])[::-1]  # sum over j >= i of w[j] y[j]
    expected[:a] = tail * x[:a]  # y[j] / x[i] = y[j] * x[i] for x[i] = +-1
    prefix = product(x[:a]) if a else 1.0
    others = prefix * onp.cumprod(onp.concatenate([[1.0], x[a + 1:b]]))
    expected[a] = onp.sum(w[a:b] * others)
    for method in ("reverse", "forward"):
        if method == "forward":  # one tangent per entry: check a few directions
            for i in (0, a - 1, a, a + 1, b, n - 1):
                e = onp.zeros(n)
                e[i] = 1.0
                _, slope = dk.jvp(f, (x,), (e,))
                onp.testing.assert_allclose(slope, expected[i], rtol=1e-9, atol=1e-9)
        else:
            onp.testing.assert_allclose(dk.grad(f)(x), expected, rtol=1e-9, atol=1e-9)


def test_prod_gradient_on_a_long_vector():
    n = 100_001
    x = onp.ones(n)
    x[::2] = -1.0
    expected = onp.full(n, product(x))  # x[i] = +-1: the others' product is prod * x[i]
    expected *= x
    close(dk.grad(np.prod)(x), expected)
    x[17] = 0.0
    expected = onp.zeros(n)
    expected[17] = product(onp.delete(x, 17))
    close(dk.grad(np.prod)(x), expected)
