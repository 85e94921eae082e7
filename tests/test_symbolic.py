"""The symbolic method against independent sources.

References: SymPy's own ``sympy.diff`` of the same formula written directly
in SymPy, closed forms from the literature (Baydin et al. 2018, Table 1),
the seed's hand-derived chain rule, and reverse-mode AD on a table of
functions.
"""

import inspect
import linecache
import math
import time
from pathlib import Path

import nbformat
import numpy as onp
import pytest
import sympy

import diffkit as dk
import diffkit.numpy as np
from diffkit.backends import reverse
from diffkit.backends import symbolic as sym
from diffkit.errors import MissingRuleError, NotApplicable
from diffkit.examples import logistic, taylor_sine

X = sympy.Symbol("x", real=True)


def same(a, b):
    """SymPy proves a == b (for x > 0, where every formula here is defined)."""
    positive = sympy.Symbol("p", positive=True)
    return sympy.simplify((a - b).subs(X, positive)) == 0


# --- SymPy's own derivative of the same formula -------------------------------------

FORMULAS = [
    (lambda x: np.sin(x) ** 2 * np.exp(x), sympy.sin(X) ** 2 * sympy.exp(X)),
    (lambda x: np.log(1 + x**2) / np.cosh(x),
     sympy.log(1 + X**2) / sympy.cosh(X)),
    (lambda x: np.arctan(np.sqrt(x)) * np.tanh(3 * x),
     sympy.atan(sympy.sqrt(X)) * sympy.tanh(3 * X)),
    (lambda x: np.exp(-x / 2.0) * np.cos(x**3), sympy.exp(-X / 2) * sympy.cos(X**3)),
    (lambda x: x**x, X**X),
]


@pytest.mark.parametrize("f,formula", FORMULAS)
def test_derivative_equals_sympy_diff_of_the_formula(f, formula):
    assert same(dk.symbolic(f).expr, sympy.diff(formula, X))
    assert dk.symbolic(f, order=0).expr == formula
    assert same(dk.symbolic(f, order=2).expr, sympy.diff(formula, X, 2))


def test_gradient_of_two_scalar_arguments_equals_sympy():
    x1, x2 = sympy.symbols("x1 x2", real=True)
    formula = sympy.log(x1) + x1 * x2 - sympy.sin(x2)  # Baydin et al., Table 2
    got = dk.symbolic(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2)).expr
    assert got == sympy.Matrix([sympy.diff(formula, x1), sympy.diff(formula, x2)])
    value = dk.gradient(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), 2.0, 5.0,
                        method="symbolic")
    assert value[0] == pytest.approx(5.5, rel=1e-15)
    assert value[1] == pytest.approx(2 - math.cos(5.0), rel=1e-15)


# --- the logistic map: closed forms of Baydin et al. 2018, Table 1 --------------------


def test_logistic_map_closed_forms_of_table_1():
    x = sympy.Symbol("x", real=True)
    l3 = dk.symbolic(logistic(3), order=0).expr
    d3 = dk.symbolic(logistic(3)).expr
    assert sympy.expand(l3 - 16 * x * (1 - x) * (1 - 2 * x) ** 2) == 0
    assert sympy.expand(d3 - 16 * (1 - 10 * x + 24 * x**2 - 16 * x**3)) == 0
    l4 = 64 * x * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x**2) ** 2
    assert sympy.expand(dk.symbolic(logistic(4), order=0).expr - l4) == 0
    assert sympy.expand(dk.symbolic(logistic(4)).expr - sympy.diff(l4, x)) == 0


def test_logistic_map_n20_comes_back_quickly_and_agrees_with_reverse_mode():
    start = time.perf_counter()
    d = dk.derivative(logistic(20), 0.3, method="symbolic")
    assert time.perf_counter() - start < 10.0
    assert d == pytest.approx(dk.derivative(logistic(20), 0.3), rel=1e-8)


def test_a_derivative_past_the_budget_is_not_applicable_and_fast():
    start = time.perf_counter()
    with pytest.raises(NotApplicable, match="too large"):
        dk.derivative(logistic(40), 0.3, method="symbolic",
                      budget=sym.Budget(max_ops=500))
    with pytest.raises(NotApplicable, match="too large"):
        dk.derivative(logistic(40), 0.3, method="symbolic", budget={"seconds": 0.0})
    assert time.perf_counter() - start < 10.0


# --- the seed's chain-rule example ----------------------------------------------------

@pytest.mark.parametrize("n,m", [(1, 1), (2, 3), (3, 2)])
def test_chain_rule_example_matches_the_seed_formula(n, m):
    def f(x):
        return np.sin((2 * x**2 + x + 1) ** m) ** n

    u = 2 * X**2 + X + 1
    by_hand = (m * n * (4 * X + 1) * u ** (m - 1) * sympy.sin(u**m) ** (n - 1)
               * sympy.cos(u**m))
    assert same(dk.symbolic(f).expr, by_hand)
    for x in (-0.7, 0.3, 1.1):
        exact = float(by_hand.subs(X, x))
        assert dk.derivative(f, x, method="symbolic") == pytest.approx(exact,
                                                                       rel=1e-12)


# --- symbolic against reverse mode, on a table of functions ---------------------------

A = onp.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30],
               [0.74, -2.49, 1.39]])
V3 = onp.array([0.3, -0.7, 1.2])
M23 = onp.array([[0.3, -0.7, 1.2], [0.5, 0.9, -0.4]])
SPD = onp.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])
TARGETS = onp.array([True, True, False, True])


def _loss(w):  # the seed's logistic regression
    preds = 0.5 * (np.tanh(np.dot(A, w) / 2.0) + 1)
    probabilities = preds * TARGETS + (1 - preds) * (1 - TARGETS)
    return -np.sum(np.log(probabilities))


TABLE = {
    # elementwise, one argument (each at a point inside its domain)
    "unary": (lambda x: np.stack([
        np.sin(x), np.cos(x), np.tan(x), np.arcsin(x / 2), np.arccos(x / 2),
        np.arctan(x), np.sinh(x), np.cosh(x), np.tanh(x), np.arcsinh(x),
        np.arccosh(x + 2), np.arctanh(x / 2), np.exp(x), np.exp2(x), np.expm1(x),
        np.log(x + 2), np.log2(x + 2), np.log10(x + 2), np.log1p(x + 1),
        np.sqrt(x + 2), np.cbrt(x), np.square(x), np.reciprocal(x), np.abs(x),
        np.fabs(x), np.negative(x), np.positive(x), np.sinc(x), np.deg2rad(x),
        np.rad2deg(x), np.real(x), np.conj(x)]), V3),
    "binary": (lambda x: np.stack([
        x + 2 * x[::-1], x - x**2, x * x[::-1], x / (3 + x[::-1]), (x + 2) ** x,
        np.float_power(x + 2, 1.5), np.maximum(x, x[::-1]), np.minimum(x, 0.5),
        np.fmax(x, 0.1), np.fmin(x, 0.1), np.arctan2(x, x[::-1] + 2),
        np.hypot(x, 2.0), np.logaddexp(x, 2 * x), np.logaddexp2(x, 1.0),
        np.remainder(x + 3, 2.0), np.fmod(x, 0.5), x % 0.4]), V3),
    "reductions": (lambda x: np.stack([
        np.sum(x), np.mean(x), np.prod(x), np.max(x), np.min(x), np.var(x),
        np.std(x), np.sum(np.cumsum(x) ** 2), np.sum(np.cumprod(x)),
        np.sum(np.mean(x, axis=0) ** 2), np.sum(np.max(x, axis=1, keepdims=True)),
        np.sum(np.var(x, axis=0, ddof=1))]), M23),
    "shapes": (lambda x: np.concatenate([
        np.ravel(np.reshape(x, (3, 2)) ** 2), np.ravel(np.transpose(x) * M23.T),
        np.ravel(np.moveaxis(x, 0, 1)), np.ravel(np.swapaxes(x, 0, 1)),
        np.ravel(np.broadcast_to(x[0], (2, 3)) * x), np.ravel(np.expand_dims(x, 0)),
        np.squeeze(x[:1]), np.ravel(np.flip(x, 1)), np.ravel(np.roll(x, 1)),
        np.ravel(np.tile(x[0], 2)), np.repeat(x[1], 2), np.diagonal(x),
        np.diag(x[0]).ravel(), np.ravel(np.triu(x)), np.ravel(np.tril(x)),
        np.atleast_1d(np.trace(x)), np.take(x, [0, 4, 4]),
        np.ravel(np.take_along_axis(x, onp.array([[2, 0, 1]]), axis=1)),
        np.ravel(np.rot90(x)), np.ravel(np.pad(x, 1)), x[1, ::-2], x[:, 1],
        x[[0, 1], [2, 2]], np.ravel(np.stack([x[0], x[1]], axis=1)),
        np.hstack([x[0], x[1]]), np.ravel(np.vstack([x, x])),
        np.ravel(np.atleast_2d(x[0])), np.ravel(np.atleast_3d(x))]), M23),
    "choices": (lambda x: np.concatenate([
        np.where(x > 0, x**2, -x), np.clip(x, -0.5, 0.5), np.clip(x, None, 0.2),
        np.where(np.abs(x) < 1, np.sin(x), 1.0), np.nan_to_num(x) * x,
        np.where(np.logical_and(x > -1, x < 1), x, 2 * x),
        np.heaviside(x, 0.5) * x]), V3),
    "products": (lambda x: np.concatenate([
        np.atleast_1d(np.dot(x[0], x[1])), np.ravel(np.matmul(x, x.T)),
        np.ravel(x @ SPD), np.ravel(np.tensordot(x, x, axes=([1], [1]))),
        np.ravel(np.einsum("ij,kj->ik", x, x)), np.atleast_1d(np.vdot(x, x)),
        np.atleast_1d(np.inner(x[0], x[1])), np.ravel(np.outer(x[0], x[1])),
        np.ravel(np.kron(x[0], x[1])), np.cross(x[0], x[1])]), M23),
    "linalg": (lambda x: np.concatenate([
        np.ravel(np.linalg.inv(SPD + np.outer(x, x))),
        np.atleast_1d(np.linalg.det(SPD * x)),
        np.linalg.solve(SPD + np.diag(x), x),
        np.atleast_1d(np.linalg.slogdet(SPD + np.diag(x))[1]),
        np.atleast_1d(np.linalg.norm(x)), np.atleast_1d(np.linalg.norm(x, 1)),
        np.ravel(np.linalg.cholesky(SPD + np.diag(x**2)))]), V3),
    "stop_gradient": (lambda x: np.concatenate([
        x * dk.stop_gradient(x), np.atleast_1d(np.logsumexp(x)),
        np.sin(dk.stop_gradient(x) * 2) * x]), V3),
    "logistic regression": (_loss, onp.array([0.1, -0.2, 0.3])),
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_jacobian_agrees_with_reverse_mode(name):
    f, x = TABLE[name]
    value, jac = sym.value_and_jacobian(f, x)
    ref_value, ref_jac = reverse.value_and_jacobian(f, x)
    assert onp.shape(jac) == onp.shape(ref_jac)
    onp.testing.assert_allclose(value, ref_value, rtol=1e-12, atol=1e-14)
    onp.testing.assert_allclose(jac, ref_jac, rtol=1e-10, atol=1e-12)


# Every case of every primitive from the engine's own table (tests/test_primitives).
PRIMITIVE_CASES = getattr(pytest.importorskip("test_primitives"), "ALL_CASES", [])
NO_FORMULA = {"sort", "partition", "eigh_values", "eigh_vectors", "svd_values", "svd_u",
              "svd_vh", "eig_values", "eig_vectors", "qr_q", "qr_r"}


@pytest.mark.parametrize("case", PRIMITIVE_CASES, ids=repr)
def test_every_primitive_case_agrees_with_reverse_mode(case):
    def f(args):
        return case.fun(*args)

    try:
        value, jac = sym.value_and_jacobian(f, tuple(case.args))
    except NotApplicable as err:
        # Only value-dependent primitives, and |z| of a complex z (not
        # complex-differentiable), have no symbolic derivative.
        assert case.name in NO_FORMULA or "not complex-differentiable" in str(err) \
            or ("eigenvalues" in str(err) and case.name == "norm"), str(err)
        return
    ref_value, ref_jac = reverse.value_and_jacobian(f, tuple(case.args))
    onp.testing.assert_allclose(value, ref_value, rtol=1e-10, atol=1e-12)
    for got, expected in zip(jac, ref_jac, strict=True):
        onp.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


def test_determinant_by_jacobis_formula_and_its_budget():
    a = onp.eye(6) * 3 + onp.cos(onp.arange(36.0)).reshape(6, 6)
    start = time.perf_counter()
    got = dk.grad(np.linalg.det, method="symbolic")(a)
    assert time.perf_counter() - start < 20.0
    jacobi = onp.linalg.det(a) * onp.linalg.inv(a).T  # d det(A) / dA
    onp.testing.assert_allclose(got, jacobi, rtol=1e-10)
    start = time.perf_counter()
    with pytest.raises(NotApplicable, match="too large"):
        sym.value_and_jacobian(np.linalg.det, onp.eye(14), budget={"seconds": 0.5})
    assert time.perf_counter() - start < 5.0


def test_tree_inputs_get_jacobians_in_the_same_structure():
    def f(p):
        return np.sum(np.tanh(np.dot(A, p["w"]) + p["b"]) ** 2)

    p = {"w": onp.array([0.1, -0.2, 0.3]), "b": 0.4}
    got = dk.grad(f, method="symbolic")(p)
    expected = dk.grad(f)(p)
    assert set(got) == {"w", "b"}
    onp.testing.assert_allclose(got["w"], expected["w"], rtol=1e-12)
    assert got["b"] == pytest.approx(expected["b"], rel=1e-12)


def test_hessian_agrees_with_forward_over_reverse():
    def f(x):
        return np.sum(np.sin(x) * x[::-1] ** 2) + np.prod(x)

    x = onp.array([0.3, -0.7, 1.2])
    onp.testing.assert_allclose(dk.hessian(f, method="symbolic")(x),
                                dk.hessian(f)(x), rtol=1e-11, atol=1e-13)
    onp.testing.assert_allclose(dk.hessian(_loss, method="symbolic")(V3),
                                dk.hessian(_loss)(V3), rtol=1e-10)


def test_several_arguments_and_argnums():
    def f(x, y, z):
        return x * np.sin(y) + z**2 * y

    args = (0.4, 1.3, -0.6)
    for argnum in (0, 1, (0, 2)):
        got = dk.grad(f, argnum=argnum, method="symbolic")(*args)
        expected = dk.grad(f, argnum=argnum)(*args)
        onp.testing.assert_allclose(got, expected, rtol=1e-14)


def test_elementwise_grad_and_jacobian_of_the_d2l_examples():
    x = onp.array([1.0, 2.0, 3.0, 4.0])
    g = dk.gradient(lambda x: 2 * np.dot(x, x), x, method="symbolic")[0]
    onp.testing.assert_array_equal(g, [4.0, 8.0, 12.0, 16.0])
    ew = dk.elementwise_grad(lambda x: x * x, method="symbolic")(x)
    onp.testing.assert_array_equal(ew, [2.0, 4.0, 6.0, 8.0])
    onp.testing.assert_array_equal(dk.jacobian(lambda x: x * x, method="symbolic")(x),
                                   onp.diag(2 * x))


def test_holomorphic_function_of_a_complex_input():
    z = 1 + 2j
    got = dk.derivative(lambda z: z**2 * np.exp(z), z, method="symbolic")
    assert got == pytest.approx((2 * z + z**2) * onp.exp(z), rel=1e-14)
    with pytest.raises(NotApplicable, match="not complex-differentiable"):
        dk.derivative(lambda z: np.abs(z) ** 2, z, method="symbolic")


def test_negated_sums_inside_functions():
    # SymPy pulls minus signs out of function arguments; with sums kept as
    # written that once recursed forever.
    f = lambda x: np.cos(-(-x - x**3)) + np.tanh(-(x - 2 * x**2))  # noqa: E731
    x = 0.3
    exact = (-math.sin(x + x**3) * (1 + 3 * x**2)
             + (1 - math.tanh(2 * x**2 - x) ** 2) * (4 * x - 1))
    assert dk.derivative(f, x, method="symbolic") == pytest.approx(exact, rel=1e-14)


def test_stop_gradient_is_a_constant():
    assert dk.grad(lambda x: x * dk.stop_gradient(x), method="symbolic")(3.0) == 3.0
    assert dk.grad(lambda x: dk.stop_gradient(x**2), method="symbolic")(3.0) == 0.0
    expr = dk.symbolic(lambda x: x * dk.stop_gradient(np.sin(x))).expr
    assert expr == sympy.sin(X)


def test_nested_symbolic_derivatives():
    d2 = dk.grad(dk.grad(np.sin, method="symbolic"), method="symbolic")
    assert d2(0.5) == pytest.approx(-math.sin(0.5), rel=1e-15)
    mixed = dk.grad(dk.grad(lambda x: x**3 * np.exp(x), method="symbolic"))
    assert mixed(0.5) == pytest.approx((6 * 0.5 + 6 * 0.25 + 0.125) * math.exp(0.5),
                                       rel=1e-14)


def test_compiled_derivatives_are_cached_by_trace():
    f = lambda x: np.sin(x) ** 3 + np.cos(x) * x  # noqa: E731
    sym._CACHE.clear()
    first = dk.derivative(f, 0.2, method="symbolic")
    (key, compiled), = sym._CACHE.items()
    second = dk.derivative(f, 1.7, method="symbolic")
    assert list(sym._CACHE.items()) == [(key, compiled)]
    assert first == pytest.approx(3 * math.sin(0.2) ** 2 * math.cos(0.2)
                                  - math.sin(0.2) * 0.2 + math.cos(0.2), rel=1e-14)
    assert second == pytest.approx(3 * math.sin(1.7) ** 2 * math.cos(1.7)
                                   - math.sin(1.7) * 1.7 + math.cos(1.7), rel=1e-14)
    # A different constant is a different trace, hence a different formula.
    dk.derivative(lambda x: np.sin(x) ** 3 + np.cos(x) * 2 * x, 0.2, method="symbolic")
    assert len(sym._CACHE) == 2


# --- where the symbolic method does not apply -----------------------------------------

def _line_of(fun, text):
    lines, first = inspect.getsourcelines(fun)
    return first + next(i for i, line in enumerate(lines) if text in line)


def test_taylor_sine_is_not_applicable_and_the_message_names_the_loop():
    with pytest.raises(NotApplicable) as info:
        dk.derivative(taylor_sine, math.pi, method="symbolic")
    line = _line_of(taylor_sine, "while np.abs(currterm)")
    message = str(info.value)
    assert f"examples.py:{line}" in message  # a branch in diffkit.examples too
    assert "closed-form" in message and "while np.abs(currterm) > 0.001" in message


def test_an_if_on_the_value_is_not_applicable():
    def relu_ish(x):
        if x > 0:
            return x**2
        return -x

    with pytest.raises(NotApplicable) as info:
        dk.symbolic(relu_ish)
    assert f"test_symbolic.py:{_line_of(relu_ish, 'if x > 0')}" in str(info.value)
    # A condition SymPy can decide for every real x is no branch at all.
    assert dk.symbolic(lambda x: x if x**2 + 1 > 0 else -x).expr == 1


@pytest.mark.parametrize("convert", [float, int, complex, lambda x: math.sin(x),
                                     lambda x: x.item(), lambda x: range(x)])
def test_asking_for_a_number_is_not_applicable(convert):
    with pytest.raises(NotApplicable, match="test_symbolic.py"):
        dk.derivative(lambda x: convert(x) * x, 0.5, method="symbolic")
    # The AD methods keep their own error for the same mistake.
    with pytest.raises(dk.TracedValueError):
        dk.derivative(lambda x: convert(x) * x, 0.5)


def test_bool_of_a_symbolic_value_is_not_applicable():
    with pytest.raises(NotApplicable, match=r"test_symbolic.py:\d+ \(`.*bool\(x\)"):
        dk.derivative(lambda x: x if bool(x) else -x, 0.5, method="symbolic")


# --- where the message points: notebook cells ---------------------------------------

BRANCHING_CELL = """\
def branching(x):
    y = 2 * x
    if y > 1:
        return y
    return -y
"""


@pytest.mark.parametrize("filename", [
    "/tmp/ipykernel_4242/2990437.py",                               # ipykernel >= 6
    r"C:\Users\ada\AppData\Local\Temp\ipykernel_4242\2990437.py",   # on Windows
    "<ipython-input-7-5f2d8a1c3b7e>",                               # older IPython
])
def test_a_branch_in_a_notebook_cell_is_named_by_its_line_in_the_cell(filename):
    # What a Jupyter kernel does with a cell: compile it under a temporary
    # file name and put its source in linecache.
    linecache.cache[filename] = (len(BRANCHING_CELL), None,
                                 BRANCHING_CELL.splitlines(True), filename)
    try:
        scope: dict = {}
        exec(compile(BRANCHING_CELL, filename, "exec"), scope)
        with pytest.raises(NotApplicable) as info:
            dk.derivative(scope["branching"], 1.0, method="symbolic")
    finally:
        del linecache.cache[filename]
    message = str(info.value)
    assert "at line 3 of the notebook cell (`if y > 1:`)" in message
    assert "ipykernel" not in message and "ipython-input" not in message


def test_a_branch_in_a_real_file_keeps_file_and_line(tmp_path):
    path = tmp_path / "ipykernel_notes.py"  # a real file, whatever its name
    path.write_text(BRANCHING_CELL)
    scope: dict = {}
    exec(compile(BRANCHING_CELL, str(path), "exec"), scope)
    with pytest.raises(NotApplicable) as info:
        dk.derivative(scope["branching"], 1.0, method="symbolic")
    assert "ipykernel_notes.py:3 (`if y > 1:`)" in str(info.value)
    assert "notebook cell" not in str(info.value)


def test_messages_in_a_real_jupyter_kernel(run_notebook):
    cells = [
        "import diffkit as dk\nimport diffkit.numpy as np",
        BRANCHING_CELL + "try:\n    dk.derivative(branching, 1.0, method='symbolic')\n"
        "except dk.NotApplicable as err:\n    print(err)",
        "inner = lambda x: dk.derivative(np.sin, x, method='finite')\n"
        "try:\n    dk.derivative(inner, 1.0, method='symbolic')\n"
        "except dk.NotApplicable as err:\n    print(err)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    run_notebook(nb, Path(__file__))
    branch, finite = ("".join(out.get("text", "") for out in cell.outputs)
                      for cell in nb.cells[1:])
    assert "at line 3 of the notebook cell (`if y > 1:`)" in branch
    assert ("at line 1 of the notebook cell (`inner = lambda x: "
            "dk.derivative(np.sin, x, method='finite')`)") in finite
    assert "cannot be differentiated symbolically" in finite
    assert "ipykernel" not in branch + finite


# --- symbolic over finite differences -----------------------------------------------


@pytest.mark.parametrize("inner", [
    lambda x: dk.derivative(np.sin, x, method="finite"),
    lambda x: dk.derivative(np.sin, x, method="finite", scheme="forward"),
    lambda x: dk.derivative(np.sin, x, method="finite", scheme="richardson"),
    lambda x: dk.derivative(np.sin, x, method="finite", scheme="richardson",
                            step=0.1),
    lambda x: dk.hessian(lambda y: np.sin(y) * y, method="finite")(x),
    lambda x: dk.grad(lambda y: np.sum(np.sin(y)), method="finite")(x)[0],
])
def test_symbolic_over_finite_says_what_cannot_be_done(inner):
    x = onp.array([1.0, 2.0]) if "dk.grad" in inspect.getsource(inner) else 1.0
    with pytest.raises(NotApplicable) as info:
        dk.derivative(lambda v: np.sum(inner(v)), x, method="symbolic")
    message = str(info.value)
    assert "a finite-difference derivative cannot be differentiated " \
        "symbolically" in message
    assert "np.round" not in message and "numpy.asarray" not in message
    # The line named is the user's, where the finite derivative is taken.
    assert f"test_symbolic.py:{inspect.getsourcelines(inner)[1]}" in message


def test_symbolic_over_a_fixed_difference_formula_differentiates_the_formula():
    # With a step given (or the complex step's fixed one) nothing depends on
    # the value of x: the symbolic method differentiates the formula itself,
    # as forward and reverse mode do.  d/dx (sin(x+h) - sin(x-h)) / 2h is
    # -sin(x) sin(h) / h.
    h, x = 0.25, 1.0
    central = dk.derivative(lambda v: dk.derivative(np.sin, v, method="finite",
                                                    step=h), x, method="symbolic")
    assert central == pytest.approx(-math.sin(x) * math.sin(h) / h, rel=1e-13)
    complex_step = dk.derivative(lambda v: dk.derivative(
        np.sin, v, method="finite", scheme="complex-step"), x, method="symbolic")
    assert complex_step == pytest.approx(-math.sin(x), rel=1e-13)


def test_a_users_branch_inside_a_finite_difference_is_still_named():
    def inner(y):
        if y > 0:
            return y ** 2
        return -y

    with pytest.raises(NotApplicable) as info:
        dk.derivative(lambda v: dk.derivative(inner, v, method="finite", step=0.1),
                      1.0, method="symbolic")
    assert f"test_symbolic.py:{_line_of(inner, 'if y > 0')}" in str(info.value)
    assert "finite-difference" not in str(info.value)


@pytest.mark.parametrize("fun", [lambda x: x[np.argmax(x)], lambda x: np.sort(x),
                                 lambda x: np.unique(x)])
def test_value_dependent_functions_are_not_applicable(fun):
    with pytest.raises(NotApplicable, match="symbolic"):
        dk.jacobian(fun, method="symbolic")(V3)


def test_a_primitive_without_a_sympy_rule_says_how_to_add_one():
    @dk.primitive
    def cube(x):
        return x**3

    dk.defvjp(cube, lambda g, ans, x: 3 * g * x**2)
    with pytest.raises(NotApplicable, match="defsympy") as info:
        dk.derivative(lambda x: cube(x) + 1, 2.0, method="symbolic")
    assert isinstance(info.value, MissingRuleError)
    assert "'cube'" in str(info.value)


def test_bad_budget_and_bad_outputs_are_clear_errors():
    with pytest.raises(TypeError, match="seconds, max_ops"):
        dk.derivative(np.sin, 0.5, method="symbolic", budget={"secs": 1})
    with pytest.raises(TypeError, match="return one array"):
        sym.value_and_jacobian(lambda x: (x, x), 0.5)


def test_constant_function_has_zero_derivative():
    value, jac = sym.value_and_jacobian(lambda x: 3.0 + 0 * np.sum(x) * 0, V3)
    assert value == 3.0
    onp.testing.assert_array_equal(jac, onp.zeros(3))
    assert dk.derivative(lambda x: 2.5, 1.0, method="symbolic") == 0.0

