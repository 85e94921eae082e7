"""tanh's slope without overflow, exact to every order (rules/_hyperbolic.py)."""

import mpmath
import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np


def _nth(f, k, method):
    for _ in range(k):
        f = dk.grad(f, method=method)
    return f


@pytest.mark.parametrize("method", ["forward", "reverse"])
@pytest.mark.parametrize("x", [0.0, 0.7, -2.0, 10.0, -19.5])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_derivatives_of_tanh_match_mpmath(method, x, k):
    with mpmath.workdps(40):
        exact = float(mpmath.diff(mpmath.tanh, x, k))
    got = _nth(np.tanh, k, method)(x)
    assert got == pytest.approx(exact, rel=1e-12, abs=1e-12)  # even orders at 0 are 0


@pytest.mark.parametrize("method", ["forward", "reverse"])
def test_far_out_the_slope_is_tiny_not_an_overflow(method):
    # 1/cosh(x)**2 overflowed (a RuntimeWarning, an error under -W error) past 355.
    x = onp.array([-800.0, -400.0, 300.0, 400.0, 800.0])
    g = dk.elementwise_grad(np.tanh, method=method)(x)
    with mpmath.workdps(30):
        exact = [float(mpmath.sech(v) ** 2) for v in x]
    onp.testing.assert_allclose(g, exact, rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", ["forward", "reverse"])
def test_complex_tanh_keeps_its_holomorphic_slope(method):
    z = 0.3 + 0.4j  # tanh is holomorphic: its derivative is sech(z)**2
    assert dk.derivative(np.tanh, z, method=method) == pytest.approx(
        complex(1 / mpmath.cosh(z) ** 2), rel=1e-13)
