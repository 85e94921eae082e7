"""Robustness: inputs that used to hang, crash inside diffkit, or be misread.

Each test pins one promise of the public API (``API.md``): ``dk.compare``
always comes back, with a row that says why instead of an exception; a
string expression is accepted wherever a function is; results are float64;
a method that cannot apply raises ``dk.NotApplicable`` naming the user's
line.  Values are checked against independent sources: recurrences run in
mpmath at high precision, and closed forms.
"""

from __future__ import annotations

import contextlib
import math
import sys

import mpmath
import numpy as onp
import pytest
import sympy

import diffkit as dk
import diffkit.numpy as np
from diffkit.backends import symbolic as sym
from diffkit.examples import logistic


def logistic_derivative(n: int, x: float, dps: int = 200) -> mpmath.mpf:
    """d l_n / dx for l_1 = x, l_(k+1) = 4 l_k (1 - l_k), by forward recurrence.

    Run in mpmath at ``dps`` digits from the binary value of ``x`` -- the
    point the double-precision methods see -- so it is independent of SymPy.
    """
    with mpmath.workdps(dps):
        l, d = mpmath.mpf(x), mpmath.mpf(1)
        for _ in range(n - 1):
            l, d = 4 * l * (1 - l), 4 * (1 - 2 * l) * d
        return +d


# --- 1. compare's 30-digit reference is computed on the DAG ---------------------------


def test_compare_reference_for_a_swollen_derivative_is_exact():
    # The derivative's tree has 164 million operations; walking it took
    # minutes.  On the DAG (3,230 operations after CSE) it is instant.
    cmp = dk.compare(logistic(20), 0.3, methods=["symbolic", "reverse"])
    assert cmp.reference == "symbolic (SymPy's derivative evaluated to 30 digits)"
    exact = logistic_derivative(20, 0.3)
    assert cmp.exact == pytest.approx(float(exact), rel=1e-15)
    assert cmp["symbolic"].size > 10**8 > 10**4 > cmp["symbolic"].cost
    # Reverse mode's error is measured against the true value (to the last
    # bit of the reference in double precision).
    reverse = cmp["reverse"]
    assert reverse.abs_error == pytest.approx(float(abs(reverse.value - exact)),
                                              abs=2**-52 * abs(float(exact)))


def test_evaluate_to_digits_walks_the_dag_not_the_tree():
    # u -> sin(u) cos(u) uses u twice: the tree doubles at every step.
    def f(x):
        for _ in range(100):
            x = np.sin(x) * np.cos(x)
        return x

    d = dk.symbolic(f)
    assert sym.count_ops([d.expr]) > 10**30 > 10**3 > sym.dag_size([d.expr])
    [value] = sym.evaluate_to_digits([d.expr], {d.variables[0]: 0.3})
    with mpmath.workdps(60):
        u, du = mpmath.mpf(0.3), mpmath.mpf(1)
        for _ in range(100):
            u, du = mpmath.sin(u) * mpmath.cos(u), mpmath.cos(2 * u) * du
        assert abs(mpmath.mpf(value) - du) <= abs(du) * mpmath.mpf(10) ** -30


def test_evaluate_to_digits_raises_its_precision_when_rounding_errors_grow():
    # u -> 1 - 2 u**2 is chaotic on [-1, 1]: every step doubles the rounding
    # error, so after 60 steps 40 working digits keep only about 26 correct;
    # 30 correct digits need the evaluation to raise its precision by itself.
    x = sympy.Symbol("x", real=True)
    u, du = x, sympy.S.One
    with sympy.evaluate(False):  # as written: du is a product nested 60 deep
        for _ in range(60):  # the chain rule, step by step
            u, du = 1 - 2 * u**2, -4 * u * du
    [value] = sym.evaluate_to_digits([du], {x: 0.3}, digits=30)
    with mpmath.workdps(200):
        u, du = mpmath.mpf(0.3), mpmath.mpf(1)
        for _ in range(60):
            u, du = 1 - 2 * u * u, -4 * u * du
        assert abs(mpmath.mpf(value) - du) <= abs(du) * mpmath.mpf(10) ** -30


def test_evaluate_to_digits_respects_the_time_budget():
    x = sympy.Symbol("x")
    with pytest.raises(dk.NotApplicable, match="too large"):
        sym.evaluate_to_digits([sympy.sin(x)], {x: 1.0},
                               budget=sym.Budget(seconds=0.0))


def test_evaluate_to_digits_refuses_values_that_are_not_finite():
    x = sympy.Symbol("x")
    with pytest.raises(dk.NotApplicable, match="ZeroDivisionError|not a finite"):
        sym.evaluate_to_digits([1 / x], {x: 0.0})


def test_compare_reference_for_a_complex_input_is_the_complex_derivative():
    # f(z) = z**2 at 1 + 2j: f'(z) = 2z = 2 + 4j, which every method returns.
    cmp = dk.compare(lambda z: z**2, 1 + 2j, methods=["symbolic", "forward"])
    assert cmp.exact == 2 + 4j
    assert cmp["forward"].abs_error == 0 and cmp["symbolic"].abs_error == 0


def test_compare_reference_falls_back_to_double_precision_and_says_why():
    x = onp.array([1.0, 2.0])
    cmp = dk.compare(lambda x: x**2 * np.sin(x), x, methods=["symbolic", "reverse"])
    assert cmp.reference.startswith("symbolic (SymPy, in double precision: ")
    exact = onp.diag(2 * x * onp.sin(x) + x**2 * onp.cos(x))
    onp.testing.assert_allclose(cmp.exact, exact, rtol=1e-15)
    assert cmp["reverse"].abs_error <= 1e-15


# --- 2. check_grads -------------------------------------------------------------------


def test_check_grads_accepts_an_expression_string():
    dk.check_grads("x**2", 1.0)
    dk.check_grads("sin(x)*y + exp(y)", 0.3, 1.2, order=3)


def test_check_grads_takes_one_mode_as_a_string():
    for mode in ("fwd", "rev", "forward", "reverse"):
        dk.check_grads(lambda x: np.sin(x) * x, 0.7, modes=mode)
    with pytest.raises(ValueError, match=r"Unknown mode\(s\) \['sideways'\]"):
        dk.check_grads(lambda x: x, 1.0, modes="sideways")


def test_check_grads_still_finds_a_wrong_rule_in_the_mode_asked_for():
    square = dk.primitive(lambda x: x**2)
    dk.defvjp(square, lambda g, ans, x: g * x)  # wrong: should be 2 x
    dk.defjvp(square, lambda t, ans, x: 2 * x * t)  # right
    dk.check_grads(square, 1.5, modes="fwd", order=1)
    with pytest.raises(AssertionError, match="reverse-mode derivative of order 1"):
        dk.check_grads(square, 1.5, modes="rev", order=1)


@pytest.mark.parametrize("order", [1.5, 0, -1, True, "2"])
def test_check_grads_refuses_an_order_that_is_not_a_positive_integer(order):
    with pytest.raises(ValueError, match="order must be a positive integer"):
        dk.check_grads(lambda x: x**2, 1.0, order=order)


@pytest.mark.parametrize("args", [(), (onp.zeros(0),), ({"a": onp.zeros((2, 0))},)])
def test_check_grads_with_nothing_to_differentiate_says_so(args):
    with pytest.raises(ValueError, match="Nothing to differentiate"):
        dk.check_grads(lambda *xs: 1.0, *args)


# --- 3. compare's arguments -----------------------------------------------------------


def test_compare_takes_one_method_name_as_a_string():
    cmp = dk.compare(lambda x: x**3, 2.0, methods="reverse")
    assert [row.method for row in cmp.rows] == ["reverse"]
    assert cmp["reverse"].value == 12.0
    assert [r.method for r in dk.compare("x**3", 2.0, methods="central")] == [
        "finite:central"]


@pytest.mark.parametrize("reference, message", [
    (onp.ones(3), r"shape \(3,\), but the derivative .* has shape \(2,\)"),
    (onp.ones((2, 2)), r"shape \(2, 2\), but .* shape \(2,\)"),
    (4.0, r"shape \(\), but .* shape \(2,\)"),
])
def test_compare_refuses_a_reference_of_the_wrong_shape(reference, message):
    with pytest.raises(ValueError, match=message):
        dk.compare(lambda x: np.sum(x**2), onp.ones(2), reference=reference)


def test_compare_refuses_a_reference_that_is_not_a_derivative():
    with pytest.raises(ValueError, match="Unknown method 'exact'"):
        dk.compare(lambda x: x**2, 1.0, reference="exact")
    with pytest.raises(TypeError, match="reference must be a method name"):
        dk.compare(lambda x: x**2, 1.0, reference=object())
    with pytest.raises(ValueError, match="reference has 3 values, but .* has 2"):
        dk.compare(lambda p: p["a"] * p["b"], {"a": 1.0, "b": 2.0},
                   reference=[1.0, 2.0, 3.0])


def test_compare_accepts_references_shaped_like_the_rows():
    # d/dx x**2 elementwise: the Jacobian 2 diag(x), shape out.shape + x.shape.
    x = onp.array([1.0, 3.0])
    cmp = dk.compare(lambda x: x**2, x, methods="reverse", reference=2 * onp.diag(x))
    assert cmp["reverse"].abs_error == 0
    # A list for a vector, and a dict for a dict of inputs.
    cmp = dk.compare(lambda x: np.sum(x**2), x, methods="reverse",
                     reference=[2.0, 6.0])
    assert cmp["reverse"].abs_error == 0
    cmp = dk.compare(lambda p: p["a"] * p["b"], {"a": 1.0, "b": 2.0},
                     methods="reverse", reference={"a": 2.0, "b": 1.0})
    assert cmp["reverse"].abs_error == 0


# --- 4. finite differences return float64 ---------------------------------------------


@pytest.mark.parametrize("dtype", [onp.float32, onp.float16, onp.int64])
def test_finite_differences_are_float64_whatever_f_computes_in(dtype):
    v = onp.array([1.0, 2.0, 3.0])
    g = dk.grad(lambda x: np.sum(x.astype(dtype) ** 2), method="finite")(v)
    assert g.dtype == onp.float64
    jac = dk.jacobian(lambda x: (x**2).astype(dtype), method="finite")(v)
    assert jac.dtype == onp.float64
    hess = dk.hessian(lambda x: np.sum(x.astype(dtype) ** 2), method="finite")(v)
    assert hess.dtype == onp.float64


def test_finite_differences_of_a_float32_function_are_accurate_to_float32():
    v = onp.array([1.0, 2.0, 3.0])
    g = dk.grad(lambda x: np.sum(x.astype(onp.float32) ** 2), method="finite")(v)
    onp.testing.assert_allclose(g, 2 * v, rtol=1e-2)  # float32 round-off / h
    d = dk.derivative(lambda x: onp.float32(2.0) * x, 1.5, method="finite")
    assert type(d) is float and d == pytest.approx(2.0, rel=1e-9)
    z = dk.derivative(lambda x: np.real(x.astype(onp.complex64) ** 2), 1.5,
                      method="finite")
    assert type(z) is float and z == pytest.approx(3.0, rel=1e-2)


# --- 5. the symbolic method: NotApplicable, never an internal error -------------------

V = onp.array([1.0, -2.0, 3.0])


@pytest.mark.parametrize("f, says", [
    (lambda x: np.sum(x[x > 0]), "the index"),
    (lambda x: np.sum(x[np.where(x > 0)]), "np.where(condition) without a and b"),
])
def test_symbolic_refuses_indices_that_depend_on_x_naming_the_line(f, says):
    with pytest.raises(dk.NotApplicable, match="depends on the values") as info:
        dk.grad(f, method="symbolic")(V)
    message = str(info.value)
    assert says in message
    assert "test_robustness.py:" in message and "x > 0" in message  # the user's line
    assert "method='forward' or 'reverse'" in message
    row = dk.compare(f, V, methods=["symbolic", "reverse"])["symbolic"]
    assert row.value is None and row.note.startswith("not applicable:")


@pytest.mark.parametrize("f, gradient", [
    # A condition used as a number counts 1 where it holds, 0 elsewhere, as
    # NumPy's booleans do.  At x = (1, -2, 3), x > 0 is (1, 0, 1).
    (lambda x: np.sum(np.cumsum(x > 0) * x), [1.0, 1.0, 2.0]),  # cumsum = 1, 1, 2
    (lambda x: np.sum((x > 0) * x), [1.0, 0.0, 1.0]),
    (lambda x: np.sum(x > 0) * np.sum(x), [2.0, 2.0, 2.0]),
    (lambda x: np.sum((x > 0).astype(float) * x**2), [2.0, 0.0, 6.0]),
])
def test_symbolic_counts_conditions_used_as_numbers_like_numpy(f, gradient):
    onp.testing.assert_array_equal(dk.grad(f, method="symbolic")(V), gradient)
    onp.testing.assert_array_equal(dk.grad(f, method="reverse")(V), gradient)


def test_symbolic_mean_over_an_empty_axis_is_empty_like_numpy():
    x = onp.ones((2, 0))
    g = dk.grad(lambda x: np.sum(np.mean(x, axis=0)), method="symbolic")(x)
    assert g.shape == (2, 0) and g.dtype == onp.float64


def nested(depth):
    def f(x):
        for _ in range(depth):
            x = np.sin(x)
        return x

    return f


@contextlib.contextmanager
def recursion_room(frames):
    """Python's recursion limit ``frames`` calls above the caller's depth.

    SymPy recurses through the levels of an expression; with little room it
    runs out after a few dozen levels instead of a few hundred, quickly.
    """
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def test_an_expression_too_deep_for_sympy_is_not_applicable():
    # At Python's usual limit, a few hundred levels are too many for SymPy.
    with pytest.raises(dk.NotApplicable, match="too deep: .* nested more deeply"):
        dk.grad(nested(500), method="symbolic")(0.5)
    f = nested(100)
    with recursion_room(250):  # every entry point, quickly
        for call in (lambda: dk.grad(f, method="symbolic")(0.5),
                     lambda: dk.symbolic(f),
                     lambda: dk.trace(f, 0.5).to_sympy()):
            with pytest.raises(dk.NotApplicable, match="too deep"):
                call()
        cmp = dk.compare(f, 0.5, methods=["symbolic", "reverse"])
    assert cmp["symbolic"].note.startswith("not applicable: too deep")
    exact = mpmath.mpf(1)
    with mpmath.workdps(30):  # d/dx sin^100(x) = product of cos(sin^k(x))
        u = mpmath.mpf(0.5)
        for _ in range(100):
            exact, u = exact * mpmath.cos(u), mpmath.sin(u)
    assert cmp.exact == pytest.approx(float(exact), rel=1e-13)  # reverse mode


def test_options_of_another_method_are_a_clear_type_error():
    with pytest.raises(TypeError, match="scheme= belongs to method='finite'"):
        dk.derivative(lambda x: x**2, 1.0, method="symbolic", scheme="central")
    with pytest.raises(TypeError,
                       match="scheme= and step= belong to method='finite'"):
        dk.derivative(lambda x: x**2, 1.0, method="symbolic", scheme="central",
                      step=1e-3)
    with pytest.raises(TypeError, match="budget= only, got bugdet"):
        dk.derivative(lambda x: x**2, 1.0, method="symbolic", bugdet=None)
    assert dk.derivative(lambda x: x**3, 2.0, method="symbolic",
                         budget={"seconds": 5.0}) == 12.0


@pytest.mark.parametrize("method", ["symbolic", "finite", "forward", "reverse"])
def test_hessian_of_a_vector_output_is_a_type_error_for_every_method(method):
    with pytest.raises(TypeError, match="scalar output"):
        dk.hessian(lambda x: x**2, method=method)(onp.array([1.0, 2.0]))


def test_symbolic_backend_hessian_needs_a_scalar_output():
    with pytest.raises(TypeError, match="scalar output.*shape \\(2,\\)"):
        sym.hessian(lambda x: x**2, onp.array([1.0, 2.0]))
    onp.testing.assert_array_equal(  # d2/dx2 sum(x**3) = diag(6 x)
        sym.hessian(lambda x: np.sum(x**3), onp.array([1.0, 2.0])),
        [[6.0, 0.0], [0.0, 12.0]])


# --- 6. expression strings ------------------------------------------------------------


@pytest.mark.parametrize("op, derivative", [
    ("+", 499.0),                 # d/dx (x + x + ... + x) = 499
    ("-", -497.0),                # x - x - ... - x = (2 - 499) x
    ("*", 499.0),                 # x**499 at 1: 499
])
def test_a_long_flat_chain_is_not_deep(op, derivative):
    text = op.join(["x"] * 499)
    assert len(text) == 997 < dk.expression.MAX_LENGTH
    assert dk.derivative(text, 1.0) == derivative
    assert dk.derivative(text, 1.0, method="forward") == derivative


def test_a_mixed_chain_keeps_python_precedence_and_order():
    f = dk.function("x/2/2*8 - x*3 + 1 - 2")    # ((x/2)/2)*8 - 3x + 1 - 2 = -x - 1
    assert f(5.0) == -6.0
    assert dk.derivative(f, 5.0) == -1.0
    assert dk.function("1 + 2 + x")._constants[-1] == 3  # folded left to right


@pytest.mark.parametrize("text", [
    "sin(" * 150 + "x" + ")" * 150,
    "x**" * 150 + "x",
    "(x+" * 120 + "x" + ")" * 120,
    "-" * 150 + "x",
])
def test_genuinely_nested_input_is_still_refused(text):
    with pytest.raises(dk.ExpressionError, match="nested more than 100 levels"):
        dk.function(text)


@pytest.mark.parametrize("text, name", [
    ("inf*x", "inf"), ("x + nan", "nan"), ("exp(-x)*Inf", "Inf"),
    ("NaN", "NaN"), ("x/infinity", "infinity"),
])
def test_inf_and_nan_are_refused_not_made_variables(text, name):
    with pytest.raises(dk.ExpressionError,
                       match=f"'{name}' is not allowed: constants .* finite") as info:
        dk.function(text)
    assert str(info.value).splitlines()[-1].strip() == "^" * len(name)
    with pytest.raises(dk.ExpressionError, match="not a finite number"):
        dk.function("x", vars=["x", name])


def test_pi_and_e_are_the_constants():
    f = dk.function("pi*x + e")
    assert f.variables == ("x",)
    assert f(2.0) == 2 * math.pi + math.e


def test_an_expression_without_variables_says_to_name_one():
    with pytest.raises(TypeError, match="'2' has no variables.*vars='x'"):
        dk.derivative("2", 1.0)
    assert dk.derivative(dk.function("2", vars="x"), 1.0) == 0.0
    assert dk.function("2*pi")() == 2 * math.pi  # called with nothing, it is the value
