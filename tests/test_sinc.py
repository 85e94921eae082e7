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


@pytest.mark.parametrize("method", ["forward", "reverse", "symbolic"])
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


@pytest.mark.parametrize("k, at_zero",
                         [(1, 0), (2, "-pi**2/3"), (3, 0), (4, "pi**4/5")])
def test_symbolic_derivative_is_exact_at_zero_and_to_30_digits_near_it(k, at_zero):
    # SymPy's own diff(sinc(pi x), x, k) is nan at 0 and cancels badly near it.
    import sympy

    from diffkit.backends.symbolic import evaluate_to_digits

    sym = dk.symbolic(np.sinc, order=k)
    (x,) = sym.variables
    assert sympy.simplify(sym.expr.subs(x, 0) - sympy.sympify(at_zero)) == 0
    for point in [1e-9, -0.3]:
        [value] = evaluate_to_digits([sym.expr], {x: point}, digits=30)
        with mpmath.workdps(60):
            exact = mpmath.diff(lambda t: mpmath.sinc(mpmath.pi * t),
                                mpmath.mpf(point), k)
            assert abs(mpmath.mpf(str(value)) - exact) <= 1e-28 * max(abs(exact), 1e-30)
