"""sinc's derivatives to any order, at its removable singularity too."""

import math

import mpmath
import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np


def _exact(x: float, k: int) -> float:
    with mpmath.workdps(40):
        return float(mpmath.diff(lambda t: mpmath.sinc(mpmath.pi * t), x, k))


def _nth(f, k, method):
    for _ in range(k):
        f = dk.grad(f, method=method)
    return f


@pytest.mark.parametrize("method", ["forward", "reverse"])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("x", [0.0, 1e-7, 0.3, -0.9, 1.0, 2.5, 7.25])
def test_nth_derivative_matches_mpmath(method, k, x):
    got = _nth(lambda v: np.sinc(v), k, method)(x)
    assert got == pytest.approx(_exact(x, k), rel=1e-10, abs=1e-10)


def test_second_derivative_at_zero_is_minus_pi_squared_over_three():
    # The Maclaurin series 1 - (pi x)^2/6 + ...: a rule that patched the
    # first derivative's 0/0 with a constant gave 0 here.
    expected = -math.pi**2 / 3
    assert dk.grad(dk.grad(np.sinc))(0.0) == pytest.approx(expected, rel=1e-14)
    h = dk.hessian(lambda x: np.sum(np.sinc(x)))(onp.array([0.0, 0.5]))
    onp.testing.assert_allclose(onp.diag(h), [expected, _exact(0.5, 2)], rtol=1e-12)


def test_symbolic_over_the_reverse_rule_agrees_away_from_zero():
    symbolic = dk.grad(dk.grad(np.sinc), method="symbolic")(0.3)
    assert symbolic == pytest.approx(_exact(0.3, 2), rel=1e-12)
