"""Every operator with method= takes that method's options (scheme=, step=, budget=)."""

import math

import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np

SCHEMES = ["forward", "backward", "central", "complex-step", "richardson"]
# Loose enough for the one-sided schemes' sqrt(eps) accuracy, far below any real error.
TOL = {"forward": 1e-6, "backward": 1e-6, "central": 1e-9, "complex-step": 1e-14,
       "richardson": 1e-11}

X = onp.array([0.3, -1.2, 2.0])


def f(x):
    return np.sum(np.sin(x) * x**2)


def df(x):  # closed form
    return onp.cos(x) * x**2 + 2 * x * onp.sin(x)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_gradients_by_every_scheme_match_the_closed_form(scheme):
    tol = TOL[scheme]
    onp.testing.assert_allclose(dk.grad(f, method="finite", scheme=scheme)(X), df(X),
                                rtol=tol, atol=tol)
    value, g = dk.value_and_grad(f, method="finite", scheme=scheme)(X)
    assert value == pytest.approx(float(onp.sum(onp.sin(X) * X**2)))
    onp.testing.assert_allclose(g, df(X), rtol=tol, atol=tol)
    (g,) = dk.gradient(f, X, method="finite", scheme=scheme)
    onp.testing.assert_allclose(g, df(X), rtol=tol, atol=tol)
    onp.testing.assert_allclose(
        dk.elementwise_grad(lambda x: np.sin(x) * x**2, method="finite",
                            scheme=scheme)(X), df(X), rtol=tol, atol=tol)
    onp.testing.assert_allclose(
        dk.jacobian(lambda x: np.sin(x) * x**2, method="finite", scheme=scheme)(X),
        onp.diag(df(X)), rtol=tol, atol=tol)


def test_the_step_is_the_one_given():
    # A forward difference of exp at 0 with step h is (e^h - 1)/h exactly:
    # its O(h) error shows the step was used, not the default.
    for h in (0.5, 0.125, 2.0**-10):
        got = dk.grad(np.exp, method="finite", scheme="forward", step=h)(0.0)
        assert got == pytest.approx(math.expm1(h) / h, rel=1e-12)
        assert got - 1 == pytest.approx(h / 2 + h**2 / 6, rel=h)  # the O(h) error


# Each scheme's derivative of exp at 0 with step h, in closed form.
TRUNCATED = {
    "forward": lambda h: math.expm1(h) / h,
    "backward": lambda h: -math.expm1(-h) / h,
    "central": lambda h: math.sinh(h) / h,
    "complex-step": lambda h: math.sin(h) / h,  # Im e^{ih} / h
}


@pytest.mark.parametrize("scheme", TRUNCATED)
def test_every_operator_uses_the_step_given(scheme):
    h = 0.25
    want = TRUNCATED[scheme](h)
    x = onp.zeros(2)
    opts = {"method": "finite", "scheme": scheme, "step": h}
    assert dk.grad(np.exp, **opts)(0.0) == pytest.approx(want, rel=1e-13)
    assert dk.value_and_grad(np.exp, **opts)(0.0)[1] == pytest.approx(want, rel=1e-13)
    assert dk.gradient(np.exp, 0.0, **opts)[0] == pytest.approx(want, rel=1e-13)
    onp.testing.assert_allclose(dk.elementwise_grad(np.exp, **opts)(x), [want] * 2,
                                rtol=1e-13)
    onp.testing.assert_allclose(dk.jacobian(np.exp, **opts)(x), want * onp.eye(2),
                                rtol=1e-13)


def test_richardson_starts_from_the_step_given_and_still_converges():
    # From a first step of 1 or 1/64, the extrapolation reaches exp'(0) = 1.
    for h in (1.0, 2.0**-6):
        got = dk.grad(np.exp, method="finite", scheme="richardson", step=h)(0.0)
        assert got == pytest.approx(1.0, abs=1e-12)


def test_a_finite_hessian_takes_a_step():
    # The central second difference of x^4 at 1 is (f(1+h) - 2f(1) + f(1-h))/h^2
    # = 12 + 2 h^2 exactly: the h^2 term shows the step.
    h = 0.25
    H = dk.hessian(lambda x: np.sum(x**4), method="finite", step=h)(onp.array([1.0]))
    assert H[0, 0] == pytest.approx(12 + 2 * h**2, rel=1e-12)


def cubic(x):
    return x[0] ** 3 + 2 * x[0] ** 2 * x[1] - x[1] ** 3 + x[0] * x[1]


def cubic_hessian(x):  # closed form
    return onp.array([[6 * x[0] + 4 * x[1], 4 * x[0] + 1],
                      [4 * x[0] + 1, -6 * x[1]]])


@pytest.mark.parametrize("step", [None, 0.5, 2.0**-8])
def test_a_finite_hessian_of_a_cubic(step):
    # Both stencils are exact for a cubic (their error terms are fourth
    # derivatives), so any step gives the Hessian up to round-off.
    x = onp.array([0.7, -1.3])
    opts = {} if step is None else {"step": step}
    onp.testing.assert_allclose(dk.hessian(cubic, method="finite", **opts)(x),
                                cubic_hessian(x), rtol=1e-7, atol=1e-7)


def test_a_symbolic_hessian_takes_a_budget():
    x = onp.array([0.7, -1.3])
    onp.testing.assert_allclose(
        dk.hessian(cubic, method="symbolic", budget={"seconds": 5.0})(x),
        cubic_hessian(x), rtol=1e-14)


def test_symbolic_budget_reaches_the_backend():
    with pytest.raises(dk.NotApplicable, match="too large|budget"):
        dk.grad(lambda x: np.sum(np.exp(np.sin(x) ** 3) ** 5), method="symbolic",
                budget={"max_ops": 3})(X)
    assert dk.grad(lambda x: x**3, method="symbolic", budget={"seconds": 5.0})(2.0) \
        == 12.0


@pytest.mark.parametrize("make, message", [
    (lambda: dk.grad(f, scheme="central"),
     r"method='reverse' takes no options, got scheme= \(scheme= belongs to "
     r"method='finite'\)"),
    (lambda: dk.jacobian(f, method="forward", step=0.1), "takes no options"),
    (lambda: dk.grad(f, method="finite", schem="central"),
     "takes scheme= and step= only, got schem="),
    (lambda: dk.elementwise_grad(f, method="symbolic", scheme="central"),
     "scheme= belongs to method='finite'"),
    (lambda: dk.hessian(f, method="finite", scheme="central"),
     "step= only.*fixed second-difference stencils"),
    (lambda: dk.hessian(f, budget={}), "forward-over-reverse' takes no options"),
    (lambda: dk.value_and_grad(f, method="finite", budget={}),
     "budget= belongs to method='symbolic'"),
])
def test_options_that_do_not_apply_are_refused_where_written(make, message):
    with pytest.raises(TypeError, match=message):
        make()  # the operator itself, before it is called


def test_a_bad_scheme_step_or_budget_is_refused_where_written():
    with pytest.raises(ValueError, match="Unknown finite-difference scheme 'centre'"):
        dk.grad(f, method="finite", scheme="centre")
    with pytest.raises(ValueError, match="step must be positive"):
        dk.jacobian(f, method="finite", step=-1.0)
    with pytest.raises(TypeError, match="step must be a positive number"):
        dk.hessian(f, method="finite", step="small")
    with pytest.raises(TypeError, match="budget must be a .*Budget or a dict"):
        dk.value_and_grad(f, method="symbolic", budget="fast")
    with pytest.raises(TypeError, match="Unknown budget field.*secs"):
        dk.elementwise_grad(f, method="symbolic", budget={"secs": 1})
