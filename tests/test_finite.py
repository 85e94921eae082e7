"""Finite differences (``method="finite"``) and the stencils behind them.

Independent sources: SymPy's ``finite_diff_weights`` and polynomial exactness
for the weights; mpmath at 40 digits, closed forms, and reverse-mode AD for
the derivatives.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import mpmath
import numpy
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import diffkit as dk
import diffkit.numpy as np
from diffkit.backends import finite
from diffkit.backends.finite import SCHEMES, default_step, estimate, hessian
from diffkit.errors import NotApplicable
from diffkit.numpy import linalg as dlinalg
from diffkit.stencils import accuracy_order, weights, weights_table

EPS = numpy.finfo(float).eps


def _fractions(seq):
    return tuple(Fraction(int(r.p), int(r.q)) for r in seq)


# --- stencils ------------------------------------------------------------------------


@pytest.mark.parametrize("offsets, derivative, expected", [
    ([-1, 0, 1], 1, ["-1/2", "0", "1/2"]),
    ([-2, -1, 0, 1, 2], 1, ["1/12", "-2/3", "0", "2/3", "-1/12"]),
    ([-1, 0, 1], 2, ["1", "-2", "1"]),
    ([0, 1], 1, ["-1", "1"]),
    ([-1, 0], 1, ["-1", "1"]),
    ([-2, -1, 0, 1, 2], 2, ["-1/12", "4/3", "-5/2", "4/3", "-1/12"]),
])
def test_known_stencils(offsets, derivative, expected):
    assert weights(offsets, derivative) == tuple(Fraction(e) for e in expected)


@pytest.mark.parametrize("offsets, at", [
    ([-3, -1, 0, 2, 5], 0),
    ([Fraction(-3, 2), 0, Fraction(1, 3), 1, Fraction(5, 2)], Fraction(1, 7)),
    ([0, 1, 2, 3, 4, 5, 6], 0),
    ([-1, 1], Fraction(1, 2)),
])
def test_weights_match_sympy_exactly(offsets, at):
    m = min(4, len(offsets) - 1)
    ours = weights_table(offsets, m, at)
    theirs = sympy.finite_diff_weights(
        m, [sympy.Rational(str(s)) for s in offsets], sympy.Rational(str(at)))
    for k in range(m + 1):
        assert ours[k] == _fractions(theirs[k][-1])
        assert all(isinstance(w, Fraction) for w in ours[k])


@settings(max_examples=30, deadline=None)
@given(st.sets(st.fractions(min_value=-4, max_value=4, max_denominator=6),
               min_size=2, max_size=6),
       st.integers(min_value=0, max_value=3))
def test_weights_match_sympy_on_random_grids(points, m):
    offsets = sorted(points)
    m = min(m, len(offsets) - 1)
    theirs = sympy.finite_diff_weights(
        m, [sympy.Rational(s.numerator, s.denominator) for s in offsets], 0)
    assert weights(offsets, m) == _fractions(theirs[m][-1])


def test_float_weights_match_sympy():
    offsets = [-1.3, -0.2, 0.4, 1.1, 2.5]
    ours = weights(offsets, 2, at=0.1)
    theirs = sympy.finite_diff_weights(2, offsets, 0.1)[2][-1]
    assert all(isinstance(w, float) for w in ours)
    numpy.testing.assert_allclose(ours, [float(t) for t in theirs], rtol=1e-12)


@pytest.mark.parametrize("offsets", [[-2, -1, 0, 1, 2], [0, 1, 3, 4], [-1, 2, 3]])
def test_weights_are_exact_on_polynomials(offsets):
    # sum w_i p(s_i) = p^(m)(0) for every monomial p = s^q, q < len(offsets).
    for m in range(len(offsets)):
        w = weights(offsets, m)
        for q in range(len(offsets)):
            got = sum(wi * Fraction(s) ** q for wi, s in zip(w, offsets, strict=True))
            assert got == (math.factorial(q) if q == m else 0)


def test_accuracy_order():
    assert accuracy_order([0, 1]) == 1          # forward
    assert accuracy_order([-1, 1]) == 2         # central: symmetry cancels h
    assert accuracy_order([-2, -1, 1, 2]) == 4
    assert accuracy_order([-1, 0, 1], 2) == 2
    assert accuracy_order([0, 1, 2]) == 2
    assert accuracy_order([-1.0, 1.0]) == 2


@pytest.mark.parametrize("call, error, words", [
    (lambda: weights([0, 1, 1]), ValueError, "distinct"),
    (lambda: weights([0, 1], 2), ValueError, "at least 3 points"),
    (lambda: weights([0, 1], -1), ValueError, "0 or more"),
    (lambda: weights([0, 1], 1.5), TypeError, "int"),
    (lambda: weights([0, "1"]), TypeError, "real numbers"),
    (lambda: weights([0, math.inf]), ValueError, "finite"),
    (lambda: weights(3), TypeError, "sequence"),
])
def test_stencil_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


# --- the Martins-Sturdza-Alonso test function --------------------------------------


def martins(x):
    return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)


def _exact_martins_derivative(x):
    with mpmath.workdps(40):
        return float(mpmath.diff(
            lambda t: mpmath.exp(t) / mpmath.sqrt(mpmath.sin(t) ** 3
                                                  + mpmath.cos(t) ** 3),
            mpmath.mpf(x)))


@pytest.mark.parametrize("scheme, bound", [
    ("complex-step", 1e-15), ("richardson", 1e-12), ("central", 1e-10),
    ("forward", 1e-7), ("backward", 1e-7),
])
def test_martins_function_accuracy(scheme, bound):
    exact = _exact_martins_derivative(1.5)
    got = dk.derivative(martins, 1.5, method="finite", scheme=scheme)
    assert abs(got - exact) / abs(exact) < bound


def test_complex_step_does_not_care_how_small_the_step_is():
    exact = _exact_martins_derivative(1.5)
    for h in [1e-8, 1e-20, 1e-100, 1e-300]:
        got = estimate(martins, 1.5, scheme="complex-step", step=h).derivative
        assert abs(got - exact) / abs(exact) < 1e-15, h
    # ...while the central difference falls apart once round-off dominates.
    got = estimate(martins, 1.5, scheme="central", step=1e-13).derivative
    assert abs(got - exact) / abs(exact) > 1e-5


# --- error versus step ---------------------------------------------------------------


def _slope(scheme):
    x, exact = 0.7, math.exp(0.7) * (1 + 0.7)   # d/dx x e^x
    hs = 2.0 ** -numpy.arange(4, 10)
    errors = [abs(estimate(lambda t: t * np.exp(t), x, scheme=scheme,
                           step=float(h)).derivative - exact) for h in hs]
    return numpy.polyfit(numpy.log(hs), numpy.log(errors), 1)[0]


def test_truncation_error_falls_like_h_forward_and_h2_central():
    assert 0.95 < _slope("forward") < 1.05
    assert 0.95 < _slope("backward") < 1.05
    assert 1.95 < _slope("central") < 2.05


@pytest.mark.parametrize("scheme", ["forward", "central"])
@pytest.mark.parametrize("f, df, x", [
    (martins, _exact_martins_derivative, 1.5),
    (np.exp, math.exp, 1.0),
    (np.sin, math.cos, 0.5),
])
def test_default_step_sits_at_the_bottom_of_the_error_curve(scheme, f, df, x):
    # 256 times larger, truncation error wins; 256 times smaller, round-off does.
    h = default_step(scheme, x)
    error = {k: abs(estimate(f, x, scheme=scheme, step=h * 2.0 ** k).derivative
                    - df(x)) for k in (-8, 0, 8)}
    assert error[0] < error[8] and error[0] < error[-8]


def test_default_steps():
    assert default_step("forward", 1.0) == pytest.approx(math.sqrt(EPS), rel=0.5)
    assert default_step("central", 1.0) == pytest.approx(EPS ** (1 / 3), rel=0.5)
    assert default_step("second", 1.0) == pytest.approx(EPS ** (1 / 4), rel=0.5)
    assert default_step("complex-step", 3.0) == 1e-20
    big = default_step("central", [0.5, 1000.0])
    assert big[0] == default_step("central", 1.0)
    assert big[1] == pytest.approx(1000 * EPS ** (1 / 3), rel=0.5)
    for h in [*big, default_step("forward", 7.3)]:
        assert math.log2(h) == round(math.log2(h))  # x + h exactly representable


def test_given_step_is_used_as_is():
    f, x, h = np.sin, 0.4, 1e-3
    est = estimate(f, x, scheme="central", step=h)
    assert est.step == h
    assert est.derivative == (math.sin(x + h) - math.sin(x - h)) / (2 * h)
    est = estimate(f, x, scheme="backward", step=h)
    assert est.derivative == (math.sin(x) - math.sin(x - h)) / h


# --- Richardson ---------------------------------------------------------------------

RICHARDSON_CASES = [
    (martins, lambda t: mpmath.exp(t) / mpmath.sqrt(mpmath.sin(t) ** 3
                                                    + mpmath.cos(t) ** 3), 1.5),
    (np.exp, mpmath.exp, 10.0),
    (np.sin, mpmath.sin, 100.0),
    (np.log, mpmath.log, 0.5),
    (lambda x: 1 / (1 + 25 * x ** 2), lambda x: 1 / (1 + 25 * x ** 2), 0.2),
    (np.arctan, mpmath.atan, 5.0),
    (lambda x: x ** 5 - 3 * x ** 2, lambda x: x ** 5 - 3 * x ** 2, 1.1),
]


@pytest.mark.parametrize("f, f_mp, x", RICHARDSON_CASES)
def test_richardson_error_estimate_bounds_true_error(f, f_mp, x):
    with mpmath.workdps(40):
        exact = float(mpmath.diff(f_mp, mpmath.mpf(x)))
    est = estimate(f, x, scheme="richardson")
    error = abs(est.derivative - exact)
    assert error <= est.error_estimate
    assert est.error_estimate < 1e-10 * max(1.0, abs(exact))  # and it is useful


def test_richardson_on_arrays_and_failed_evaluations():
    x = numpy.array([0.3, 1.0, 2.0])
    est = estimate(lambda v: np.sum(np.sin(v) * v), x, scheme="richardson")
    exact = numpy.sin(x) + x * numpy.cos(x)
    assert numpy.max(numpy.abs(est.derivative - exact)) <= est.error_estimate < 1e-10
    # sqrt at 0: the left points are NaN; the result says so instead of lying.
    with numpy.errstate(invalid="ignore"):
        bad = estimate(np.sqrt, 0.0, scheme="richardson")
    assert math.isnan(bad.derivative) and bad.error_estimate == math.inf


# Richardson on functions that vary fast.  Each family is written once for
# diffkit.numpy and once for mpmath (40 digits: the independent truth).
class _Mp:
    sin, cos, exp, sqrt, log, tanh = (mpmath.sin, mpmath.cos, mpmath.exp,
                                      mpmath.sqrt, mpmath.log, mpmath.tanh)


FAST_FAMILIES = {
    "sin(a x)": lambda m, a: lambda x: m.sin(a * x),
    "cos(a x**6)": lambda m, a: lambda x: m.cos(a * x ** 6),
    "cos(exp(sqrt(1 + x**4))**4)**2": lambda m, a: lambda x: m.cos(
        m.exp(m.sqrt(1 + x ** 4)) ** 4) ** 2,
    "Runge 1/(1 + a**2 x**2)": lambda m, a: lambda x: 1 / (1 + a * a * x ** 2),
    "tanh(a (x - 0.3))": lambda m, a: lambda x: m.tanh(a * (x - 0.3)),
    "exp(sin(a x))": lambda m, a: lambda x: m.exp(m.sin(a * x)),
    "chirp sin(a exp(2x))": lambda m, a: lambda x: m.sin(a * m.exp(2 * x)),
    "sin(a x) / (1.1 + cos x)": lambda m, a: lambda x: m.sin(a * x) / (1.1 + m.cos(x)),
    "log(1 + a x**2)": lambda m, a: lambda x: m.log(1 + a * x ** 2),
}


def _exact_derivative(family, a, x):
    with mpmath.workdps(40):
        return float(mpmath.diff(FAST_FAMILIES[family](_Mp, a), mpmath.mpf(x)))


def _richardson_is_honest(family, a, x):
    """Richardson's error estimate bounds its true error, or it says it failed."""
    f = FAST_FAMILIES[family](np, a)
    try:
        est = estimate(f, x, scheme="richardson")
    except NotApplicable as err:
        assert "did not converge" in str(err)
        return None
    error = abs(est.derivative - _exact_derivative(family, a, x))
    assert error <= est.error_estimate, (
        f"{family}, a = {a!r}, x = {x!r}: error {error:.3g} > estimate "
        f"{est.error_estimate:.3g}")
    return est


@pytest.mark.parametrize("family, a, x", [
    # The original report: Richardson said -1.0 +- 1.7 (its first steps are
    # 40 periods wide); the derivative is 582.2.
    ("cos(exp(sqrt(1 + x**4))**4)**2", 1.0, -0.954),
    # Aliasing: the period divides the first step 31.75 times, so the halved
    # steps all land near the same phase and the differences converge, to
    # the wrong limit (it said -3.88 +- 9e-12 for 493.2, 6.73 +- 4e-12 for
    # -890.1).
    ("sin(a x)", 16 * math.pi * 31.75, 0.3),
    ("sin(a x) / (1.1 + cos x)", 1596.2, 1.006),
    # Noisy: a * exp(2x) and a * x**6 are rounded before cos or sin sees
    # them, so f is a thousand times noisier than eps |f| (it said 4e-11
    # for an error of 3e-9, and 4.7 for an error of 7e4).
    ("chirp sin(a exp(2x))", 1095.2393541018355, -0.736),
    ("cos(a x**6)", 1785.931398952155, -1.736),
])
def test_richardson_regressions(family, a, x):
    est = _richardson_is_honest(family, a, x)
    assert est is not None  # these converge...
    exact = _exact_derivative(family, a, x)
    assert est.error_estimate < 1e-8 * abs(exact)  # ...to a useful accuracy


def test_richardson_reproducer_against_reverse_mode():
    f = FAST_FAMILIES["cos(exp(sqrt(1 + x**4))**4)**2"](np, 1.0)
    est = estimate(f, -0.954, scheme="richardson")
    exact = dk.derivative(f, -0.954)  # reverse mode
    assert exact == pytest.approx(582.2054588788, rel=1e-10)
    assert abs(est.derivative - exact) <= est.error_estimate < 1e-9 * abs(exact)
    # It halved its way down to steps near 1e-4, and says what that cost:
    # two evaluations per step, plus the probes off the grid and the noise.
    f_counted = Counting(f)
    assert estimate(f_counted, -0.954, scheme="richardson").evaluations == (
        f_counted.calls - 1)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(FAST_FAMILIES)),
       st.floats(0.0, 3.5).map(lambda u: round(10 ** u, 3)),
       st.integers(-2000, 2000).map(lambda k: k / 1000))
def test_richardson_error_estimate_is_honest_on_fast_functions(family, a, x):
    _richardson_is_honest(family, a, x)


@pytest.mark.parametrize("f, x", [
    # A jump at x: the differences grow like 1/h and never settle.
    (lambda x: np.where(x > 0.3, 1.0, 0.0) + x, 0.3),
    # Period ~6e-8 at x = 1.955: below the smallest step Richardson takes.
    # (It used to return 0.74 +- 2.3 for a derivative of 1.1e8.)
    (FAST_FAMILIES["cos(exp(sqrt(1 + x**4))**4)**2"](np, 1.0), 1.955),
])
def test_richardson_says_when_it_did_not_converge(f, x):
    with pytest.raises(NotApplicable, match="did not converge"):
        estimate(f, x, scheme="richardson")
    with pytest.raises(NotApplicable, match="did not converge"):
        dk.derivative(f, x, method="finite", scheme="richardson")


def test_richardson_from_a_tiny_user_step_reports_round_off():
    # From h = 1e-9 round-off dominates: the answer has only ~6 digits and
    # the estimate says so instead of claiming 1e-13.
    est = estimate(np.exp, 1.0, scheme="richardson", step=1e-9)
    error = abs(est.derivative - math.e)
    assert error <= est.error_estimate < 1e-3
    assert est.error_estimate > 1e-8


# --- evaluation counts -------------------------------------------------------------


class Counting:
    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, x):
        self.calls += 1
        return self.f(x)


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("scheme, cost, extra", [
    ("forward", lambda n: n + 1, 0), ("backward", lambda n: n + 1, 0),
    ("central", lambda n: 2 * n, 1), ("complex-step", lambda n: n, 1),
])
def test_evaluation_counts(scheme, cost, extra, n):
    f = Counting(lambda x: np.sum(np.exp(x) * x))
    est = estimate(f, numpy.linspace(0.1, 1.0, n), scheme=scheme)
    assert est.evaluations == cost(n)
    assert f.calls == est.evaluations + extra  # the value f(x), when not in the stencil


def test_richardson_counts_two_per_input_per_level():
    f = Counting(lambda x: np.sum(np.sin(x)))
    est = estimate(f, numpy.array([0.2, 0.9]), scheme="richardson")
    assert f.calls == est.evaluations + 1
    assert est.evaluations % 2 == 0 and est.evaluations >= 2 * 2 * 3


def test_hessian_is_one_stencil_not_differences_of_differences():
    for n in (1, 2, 4):
        f = Counting(lambda x: np.sum(x ** 3) * np.sum(x))
        hessian(f, numpy.linspace(0.5, 1.0, n))
        assert f.calls == 2 * n * n + 1


# --- multivariate derivatives against closed forms ---------------------------------


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = numpy.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hessian(x):
    n = len(x)
    H = numpy.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] = H[i + 1, i] = -400 * x[i]
    return H


X = numpy.array([-1.2, 1.0, 0.5, 2.0])


@pytest.mark.parametrize("scheme, rtol", [
    ("forward", 1e-6), ("backward", 1e-6), ("central", 1e-9),
    ("complex-step", 1e-14), ("richardson", 1e-11),
])
def test_rosenbrock_gradient(scheme, rtol):
    got = dk.grad(rosenbrock, method="finite")(X) if scheme == "central" else \
        estimate(rosenbrock, X, scheme=scheme).derivative
    numpy.testing.assert_allclose(got, rosenbrock_grad(X), rtol=rtol, atol=rtol)


def test_rosenbrock_hessian():
    numpy.testing.assert_allclose(dk.hessian(rosenbrock, method="finite")(X),
                                  rosenbrock_hessian(X), rtol=1e-7, atol=1e-5)


def test_quadratic_form_gradient_and_hessian():
    A = numpy.array([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0], [1.5, 0.2, 1.0]])
    f = lambda x: np.dot(x, np.dot(A, x))
    x = numpy.array([0.3, -0.8, 1.7])
    numpy.testing.assert_allclose(dk.grad(f, method="finite")(x), (A + A.T) @ x,
                                  rtol=1e-9)
    numpy.testing.assert_allclose(hessian(f, x), A + A.T, rtol=1e-7, atol=1e-7)


def test_jacobian_of_polar_coordinates():
    f = lambda p: np.array([p[0] * np.cos(p[1]), p[0] * np.sin(p[1])])
    r, t = 2.0, 0.3
    exact = numpy.array([[math.cos(t), -r * math.sin(t)],
                         [math.sin(t), r * math.cos(t)]])
    for scheme in SCHEMES:
        J = estimate(f, numpy.array([r, t]), scheme=scheme).derivative
        assert J.shape == (2, 2)
        numpy.testing.assert_allclose(J, exact, rtol=1e-6, atol=1e-7)
    numpy.testing.assert_allclose(dk.jacobian(f, method="finite")(numpy.array([r, t])),
                                  exact, rtol=1e-9)


def test_jacobian_shape_for_matrix_input_and_output():
    W = numpy.arange(6.0).reshape(2, 3) / 5
    f = lambda w: np.tanh(w) * 2
    J = dk.jacobian(f, method="finite")(W)
    assert J.shape == (2, 3, 2, 3)
    expected = numpy.einsum("ij,ik,jl->ijkl", 2 / numpy.cosh(W) ** 2,
                            numpy.eye(2), numpy.eye(3))
    numpy.testing.assert_allclose(J, expected, atol=1e-9)


def test_tree_inputs_keep_their_structure():
    f = lambda p: p["w"] ** 2 * np.sum(p["b"] ** 3)
    params = {"w": 1.5, "b": numpy.array([1.0, 2.0])}
    for scheme in ("central", "complex-step"):
        g = estimate(f, params, scheme=scheme).derivative
        assert set(g) == {"w", "b"} and numpy.shape(g["w"]) == ()
        assert g["w"] == pytest.approx(2 * 1.5 * 9.0, rel=1e-9)
        numpy.testing.assert_allclose(g["b"], 1.5 ** 2 * 3 * params["b"] ** 2,
                                      rtol=1e-9)
    H = hessian(lambda t: t[0] ** 2 * np.sum(t[1] ** 3), (2.0, numpy.array([1.0, 2.0])))
    (Haa, Hab), (Hba, Hbb) = H
    assert Haa == pytest.approx(2 * 9.0, rel=1e-7)
    numpy.testing.assert_allclose(Hab, 2 * 2.0 * 3 * numpy.array([1.0, 4.0]), rtol=1e-7)
    numpy.testing.assert_allclose(Hba, Hab)
    numpy.testing.assert_allclose(Hbb, 4.0 * numpy.diag([6.0, 12.0]), rtol=1e-7)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_list_of_outputs_is_a_vector(scheme):
    f = lambda p: [p[0] * p[1], np.sin(p[0])]
    J = estimate(f, numpy.array([1.0, 2.0]), scheme=scheme).derivative
    numpy.testing.assert_allclose(J, [[2.0, 1.0], [math.cos(1.0), 0.0]],
                                  rtol=1e-6, atol=1e-9)


def test_an_unused_input_gets_zeros():
    g = estimate(lambda t: np.sin(t[0]), (0.5, numpy.ones(3))).derivative
    assert g[0] == pytest.approx(math.cos(0.5), rel=1e-10)
    assert numpy.array_equal(g[1], numpy.zeros(3))


# --- finite differences agree with reverse-mode AD ---------------------------------

TABLE = [
    (lambda x: np.sin(x) ** 2 * np.exp(x), 1.5),
    (lambda x: np.log1p(x ** 2) / (1 + x), 0.8),
    (lambda x: np.sum(np.tanh(x) * np.cos(x)), numpy.array([0.1, -0.5, 2.0])),
    (lambda x: np.prod(x) + np.dot(x, x), numpy.array([1.5, -0.4, 0.9])),
    (lambda x: np.sum(np.sqrt(x) * np.arctan(x)), numpy.array([0.3, 2.0])),
    (lambda x: np.sum(np.dot(x, x.T) ** 2), numpy.array([[2.0, 1.0], [0.5, 3.0]])),
    (lambda x: np.mean(np.exp(x) / np.sum(np.exp(x))), numpy.array([0.1, 0.7, -1.0])),
    (lambda x: np.max(np.exp(-x) * x), numpy.array([0.2, 1.1, 3.0])),
]


@pytest.mark.parametrize("f, x", TABLE)
@pytest.mark.parametrize("scheme, rtol", [
    ("forward", 1e-6), ("central", 1e-9), ("complex-step", 1e-13),
    ("richardson", 1e-11),
])
def test_finite_agrees_with_reverse_mode(f, x, scheme, rtol):
    expected = dk.grad(f)(x)
    got = dk.derivative(f, x, method="finite", scheme=scheme)
    numpy.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


# --- the derivative operators with method="finite" ---------------------------------


def test_every_operator_accepts_method_finite():
    f = lambda x: np.sum(x ** 3) / 3
    x = numpy.array([1.0, 2.0, -1.0])
    numpy.testing.assert_allclose(dk.grad(f, method="finite")(x), x ** 2, rtol=1e-9)
    value, g = dk.value_and_grad(f, method="finite")(x)
    assert value == pytest.approx(8 / 3)
    numpy.testing.assert_allclose(g, x ** 2, rtol=1e-9)
    numpy.testing.assert_allclose(dk.jacobian(lambda v: v ** 3, method="finite")(x),
                                  numpy.diag(3 * x ** 2), rtol=1e-9, atol=1e-9)
    numpy.testing.assert_allclose(dk.elementwise_grad(np.sin, method="finite")(x),
                                  numpy.cos(x), rtol=1e-9)
    numpy.testing.assert_allclose(dk.hessian(f, method="finite")(x),
                                  numpy.diag(2 * x), atol=1e-6)
    ga, gb = dk.gradient(lambda a, b: a * np.sum(b ** 2), 2.0, x, method="finite")
    assert ga == pytest.approx(6.0, rel=1e-9)
    numpy.testing.assert_allclose(gb, 4 * x, rtol=1e-9)
    d = dk.derivative(martins, 1.5, method="finite", scheme="complex-step")
    assert isinstance(d, float) and d == pytest.approx(4.053427893898621, rel=1e-14)


def test_complex_inputs_follow_the_autograd_convention():
    z = 1 + 2j
    abs2 = lambda z: np.real(z * np.conj(z))
    assert dk.derivative(abs2, z, method="finite") == pytest.approx(2 - 4j)
    assert dk.derivative(abs2, z, method="finite") == pytest.approx(dk.grad(abs2)(z))
    square = lambda z: z ** 2   # holomorphic: f'(z)
    assert dk.derivative(square, z, method="finite") == pytest.approx(2 * z)
    assert dk.derivative(square, z, method="finite") == pytest.approx(
        dk.grad(square)(z))


def test_finite_inside_another_derivative():
    g = lambda x: np.sin(x) * x
    g2 = lambda x: 2 * math.cos(x) - x * math.sin(x)
    for scheme in ("central", "complex-step", "richardson"):
        inner = lambda x: dk.derivative(g, x, method="finite", scheme=scheme)
        assert dk.grad(inner)(0.7) == pytest.approx(g2(0.7), rel=1e-8)
        assert dk.derivative(inner, 0.7, method="forward") == pytest.approx(
            g2(0.7), rel=1e-8)
    # finite over finite: differences of differences, accurate to about 1e-5.
    outer = dk.derivative(lambda x: dk.derivative(g, x, method="finite"), 0.7,
                          method="finite")
    assert outer == pytest.approx(g2(0.7), rel=1e-4)


def test_plain_python_code_works_with_real_schemes():
    f = lambda x: math.sin(float(x)) * 2    # no diffkit in sight
    for scheme in ("forward", "backward", "central", "richardson"):
        assert estimate(f, 0.3, scheme=scheme).derivative == pytest.approx(
            2 * math.cos(0.3), rel=1e-6)


def test_result_object():
    est = estimate(np.exp, 0.0)
    assert est.value == 1.0 and est.scheme == "central" and est.error_estimate is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.step = 1.0  # type: ignore[misc]


# --- errors that say what went wrong ------------------------------------------------


def test_unknown_scheme_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'centered'") as info:
        dk.derivative(np.sin, 1.0, method="finite", scheme="centered")
    for scheme in SCHEMES:
        assert repr(scheme) in str(info.value)


@pytest.mark.parametrize("step, error", [
    (0.0, ValueError), (-1e-3, ValueError), (math.nan, ValueError),
    (math.inf, ValueError), ("1e-3", TypeError), (numpy.array([1e-3]), TypeError),
    (True, TypeError),
])
def test_bad_steps(step, error):
    with pytest.raises(error, match="step"):
        estimate(np.sin, 1.0, step=step)
    with pytest.raises(error, match="step"):
        hessian(np.sin, 1.0, step=step)


def test_misspelt_option():
    with pytest.raises(TypeError, match="scheme= and step="):
        dk.derivative(np.sin, 1.0, method="finite", order=4)


@pytest.mark.parametrize("f, x, words", [
    (lambda x: np.abs(x) ** 3, X, "'abs', which is not complex-analytic"),
    (lambda x: abs(x) ** 3, 1.0, "'abs'"),
    (lambda x: np.real(x) * x, X, "'real'"),
    (lambda x: np.conj(x) * x, X, "'conj'"),
    (lambda x: np.linalg.norm(x), X, "'norm'"),
    (lambda x: float(x) ** 2, 1.0, "plain Python number"),
    (lambda x: math.sin(x), 1.0, "plain Python number"),
    (lambda x: np.cbrt(x), X, "complex"),
    (lambda x: np.exp(1j * x), X, "real for real x"),
])
def test_complex_step_refuses_what_it_cannot_do(f, x, words):
    with pytest.raises(NotApplicable, match=words):
        estimate(f, x, scheme="complex-step")


def test_complex_step_needs_real_input():
    with pytest.raises(NotApplicable, match="real input"):
        dk.derivative(np.sin, 1 + 1j, method="finite", scheme="complex-step")


def test_other_bad_input():
    with pytest.raises(TypeError, match="returns a number"):
        estimate(lambda x: "slope", 1.0)
    with pytest.raises(TypeError, match="scalar output"):
        hessian(lambda x: x * 2, numpy.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="real inputs"):
        hessian(lambda z: np.real(z * z), 1 + 1j)
    with pytest.raises(TypeError, match="dk.elementwise_grad"):
        dk.grad(lambda x: x * 2, method="finite")(numpy.array([1.0, 2.0]))


def test_module_constants():
    assert finite.SCHEMES == ("forward", "backward", "central", "complex-step",
                              "richardson")


# --- the complex step and matrix decompositions ---------------------------------------

_A = numpy.array([[2.0, 1.0], [0.5, 3.0]])


def _complex_step_grad(f, x):
    return dk.grad(f, method="finite", scheme="complex-step")(x)


@pytest.mark.parametrize("f, name", [
    (lambda a: np.sum(np.linalg.svdvals(a)), "svd_values"),
    (lambda a: np.sum(np.linalg.svd(a, compute_uv=False)), "svd_values"),
    # svd, qr and eig reach their primitives in turn: each one on its own.
    (lambda a: np.sum(dlinalg.svd_u(a)), "svd_u"),
    (lambda a: np.sum(dlinalg.svd_vh(a)), "svd_vh"),
    (lambda a: np.sum(np.linalg.qr(a)[0]), "qr_q"),
    (lambda a: np.sum(dlinalg.qr_r(a)), "qr_r"),
    (lambda a: np.sum(np.real(dlinalg.eig_vectors(a))), "eig_vectors"),
    (lambda a: np.sum(np.fft.irfft(np.fft.fft(a[0]), n=2)), "irfft"),
    (lambda a: np.sum(np.fft.irfft2(np.fft.fft2(a))), "irfft2"),
    (lambda a: np.sum(np.real(np.fft.fft(a[0]))), "real"),
])
def test_complex_step_refuses_functions_that_are_not_analytic(f, name):
    # Each would return a wrong derivative (often 0) without a word.
    with pytest.raises(NotApplicable, match=f"uses '{name}', which is not complex-an"):
        _complex_step_grad(f, _A)


@pytest.mark.parametrize("f, name", [
    (lambda a: np.linalg.cond(a), "linalg.cond"),
    (lambda a: np.linalg.matrix_rank(a) * np.sum(a), "linalg.matrix_rank"),
])
def test_complex_step_refuses_numpy_linalg_pass_throughs(f, name):
    with pytest.raises(NotApplicable, match=f"'{name}', numpy.{name}, which diffkit"):
        _complex_step_grad(f, _A)


def test_complex_step_refuses_eigenvalues_whose_computation_is_not_safe():
    # Eigenvalues are analytic where distinct, but at this matrix (real,
    # distinct eigenvalues -2.19, 1.20, 0.08) LAPACK's complex eigensolver
    # lists them in another order, and even matched to the right one it puts
    # rounding errors of 1.6e-16 into the imaginary parts: divided by
    # h = 1e-20, a gradient off by 1.6e4.  Other schemes agree with AD.
    a = numpy.array([[-0.51062247, -0.01153306, -1.48537518],
                     [0.30068511, -0.10607225, -1.18571981],
                     [-2.39823287, 0.51305213, -0.29758404]])

    def f(a):
        return np.linalg.eigvals(a)[0]

    with pytest.raises(NotApplicable, match="'eig_values', whose values are analytic"
                       ".*rounding errors"):
        _complex_step_grad(f, a)
    exact = dk.grad(f)(a)
    numpy.testing.assert_allclose(
        dk.grad(f, method="finite", scheme="richardson")(a), exact, atol=1e-9)
    # The closed form: d lambda = u^T dA v / u^T v with the left eigenvector u.
    w, v = numpy.linalg.eig(a)
    u = numpy.linalg.inv(v)[0]
    numpy.testing.assert_allclose(exact, numpy.outer(u, v[:, 0]), atol=1e-12)


@pytest.mark.parametrize("f", [
    lambda a: np.linalg.det(a),
    lambda a: np.sum(np.linalg.inv(a) * numpy.arange(4.0).reshape(2, 2)),
    lambda a: np.sum(np.linalg.solve(a, numpy.array([1.0, -2.0])) ** 2),
])
def test_complex_step_differentiates_lu_based_linear_algebra(f):
    # LU with partial pivoting is rational arithmetic in the entries: analytic,
    # and complex-step safe (the pivots are chosen on magnitudes, not moved).
    numpy.testing.assert_allclose(_complex_step_grad(f, _A), dk.grad(f)(_A),
                                  rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("f, name", [
    (lambda x: np.sum(np.sign(x) * x ** 2), "sign"),
    (lambda x: np.sum(np.unique(x) ** 2), "unique"),
])
def test_complex_step_refuses_a_constant_that_carries_the_step(f, name):
    # NumPy's sign(z) = z/|z| and unique(z) keep the imaginary step, so the
    # gradient of sign(x) x^2 came out 3 sign(x) x instead of 2 sign(x) x.
    with pytest.raises(NotApplicable, match=f"'{name}', which has no derivative"):
        _complex_step_grad(f, numpy.array([0.5, -2.0]))


def test_complex_step_refuses_a_leaking_constant_under_an_inner_gradient():
    # The complex step of a reverse-mode gradient (a Hessian): sign runs on
    # reverse boxes wrapping complex-step boxes, and gave 4 sign(x) for 2 sign(x).
    x = numpy.array([0.5, -2.0])
    g = dk.grad(lambda x: np.sum(np.sign(x) * x ** 2))
    with pytest.raises(NotApplicable, match="'sign', which has no derivative"):
        dk.jacobian(g, method="finite", scheme="complex-step")(x)
    numpy.testing.assert_allclose(dk.jacobian(g, method="finite")(x),
                                  numpy.diag(2 * numpy.sign(x)), rtol=1e-9)


def test_complex_step_takes_comparisons_rounding_and_indices():
    # Constants that do not carry the step are fine: comparisons read the real
    # part, round drops the 1e-20, argmax and where choose as for real x.
    x = numpy.array([0.5, -2.0, 1.5])

    def f(x):
        y = np.where(x > 0, x ** 3, np.round(x) * x)
        return np.sum(y) + x[np.argmax(x)] ** 2 if np.all(x < 10) else 0.0

    expected = numpy.where(x > 0, 3 * x ** 2, numpy.round(x)) \
        + numpy.array([0.0, 0.0, 2 * 1.5])
    numpy.testing.assert_allclose(_complex_step_grad(f, x), expected, rtol=1e-15)


def test_complex_step_says_why_a_value_stored_into_an_array_fails():
    def f(x):
        y = numpy.zeros(2)
        y[0] = x[0] ** 2
        return np.sum(y)

    with pytest.raises(dk.NotApplicable, match=r"plain NumPy array.*np\.stack"):
        dk.grad(f, method="finite", scheme="complex-step")(numpy.array([1.0, 2.0]))
