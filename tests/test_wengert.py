"""dk.trace: the Wengert list and its forward, reverse, SymPy and graph readers.

The reference numbers are closed forms (and Baydin et al. 2018, Tables 2-3,
for f(x1, x2) = ln x1 + x1 x2 - sin x2 at (2, 5)), never diffkit's output.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy
import pytest
import sympy

import diffkit as dk
import diffkit.numpy as np


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def baydin(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


X1, X2 = 2.0, 5.0


# --- Baydin et al. 2018, Tables 2 and 3 ------------------------------------------


def test_baydin_primal_trace():
    t = dk.trace(baydin, X1, X2)
    assert len(t) == 5
    rows = t.rows
    assert [r["kind"] for r in rows] == ["input"] * 2 + ["primitive"] * 5 + ["output"]
    assert [r["index"] for r in rows[:7]] == [-1, 0, 1, 2, 3, 4, 5]
    assert [r["op"] for r in rows[2:7]] == ["log", "multiply", "sin", "add",
                                           "subtract"]
    assert [r["args"] for r in rows[2:7]] == [[-1], [-1, 0], [0], [1, 2], [4, 3]]
    expected = [X1, X2, math.log(X1), X1 * X2, math.sin(X2),
                math.log(X1) + X1 * X2, math.log(X1) + X1 * X2 - math.sin(X2)]
    numpy.testing.assert_allclose([r["value"] for r in rows[:7]], expected,
                                  rtol=1e-15)
    assert rows[-1]["value"] == pytest.approx(11.652, abs=5e-4)
    text = str(t)
    for piece in ["v₋₁ = x₁", "ln v₋₁", "v₋₁ × v₀", "sin v₀", "v₁ + v₂",
                  "v₄ - v₃", "0.693", "-0.959", "10.693", "11.652", "y   = v₅"]:
        assert piece in text, piece
    assert text.count("\n") == 8  # title + 2 inputs + 5 lines + output
    assert "<table" in t._repr_html_() and t._repr_html_().count("<tr>") == 9


def test_baydin_forward_tangent_trace():
    tan = dk.trace(baydin, X1, X2).forward((1.0, 0.0))
    # Table 2: v̇ for every line; ẏ = 1/x1 + x2 = 5.5
    expected = {-1: 1.0, 0: 0.0, 1: 1 / X1, 2: X2, 3: 0.0, 4: 1 / X1 + X2,
                5: 1 / X1 + X2}
    for index, value in expected.items():
        assert tan.tangents[index] == pytest.approx(value, abs=1e-15)
    assert tan.tangent == pytest.approx(5.5)
    text = str(tan)
    for piece in ["(ẋ₁, ẋ₂) = (1, 0)", "v̇₋₁ = ẋ₁", "v̇₋₁/v₋₁", "v̇₋₁ × v₀ + v̇₀ × v₋₁",
                  "v̇₀ × cos(v₀)", "v̇₁ + v̇₂", "v̇₄ - v̇₃", "ẏ   = v̇₅", "5.5"]:
        assert piece in text, piece
    # seed (0, 1): ∂y/∂x2 = x1 - cos x2
    other = dk.trace(baydin, X1, X2).forward((0.0, 1.0)).tangent
    assert other == pytest.approx(X1 - math.cos(X2), rel=1e-15)


def test_baydin_reverse_adjoint_trace():
    adj = dk.trace(baydin, X1, X2).reverse()
    # Table 3, in the order executed (the paper prints it bottom-up).
    steps = [(r["index"], r["accumulate"], r["value"]) for r in adj.rows
             if r["kind"] in ("seed", "step")]
    c = math.cos(X2)
    expected = [(5, False, 1.0), (4, False, 1.0), (3, False, -1.0),
                (1, False, 1.0), (2, False, 1.0), (0, False, -c),
                (-1, False, X2), (0, True, -c + X1), (-1, True, X2 + 1 / X1)]
    assert [(i, a) for i, a, _ in steps] == [(i, a) for i, a, _ in expected]
    numpy.testing.assert_allclose([v for *_, v in steps],
                                  [v for *_, v in expected], rtol=1e-15)
    x1_bar, x2_bar = adj.gradient
    assert x1_bar == pytest.approx(5.5)
    assert x2_bar == pytest.approx(1.716, abs=5e-4)
    text = str(adj)
    for piece in ["v̄₅  = ȳ", "v̄₃ × cos(v₀)", "-v̄₅", "v̄₀ + v̄₂ ∂v₂/∂v₀",
                  "v̄₋₁ + v̄₁/v₋₁", "x̄₁  = v̄₋₁", "x̄₂  = v̄₀", "1.716", "-0.284",
                  "5.5"]:
        assert piece in text, piece


def test_program_order_keeps_python_order():
    t = dk.trace(baydin, X1, X2, order="program")
    assert [line.prim.name for line in t] == ["log", "multiply", "add", "sin",
                                              "subtract"]
    assert t.reverse().gradient[0] == pytest.approx(5.5)


def test_to_sympy_rebuilds_the_formula():
    x1, x2 = sympy.symbols("x1 x2")
    expr = dk.trace(baydin, X1, X2).to_sympy()
    assert sympy.simplify(expr - (sympy.log(x1) + x1 * x2 - sympy.sin(x2))) == 0

    x, y = sympy.symbols("x y")
    got = dk.trace(lambda x, y: 3 * np.exp(x) / y ** 2 - np.sqrt(x), 0.5, 2.0)
    assert sympy.simplify(got.to_sympy()
                          - (3 * sympy.exp(x) / y**2 - sympy.sqrt(x))) == 0
    # constants stay literals: the integer 3 and the exponent 2 are exact
    assert sympy.Integer(3) in got.to_sympy().atoms(sympy.Integer)


def test_to_sympy_on_arrays():
    w = numpy.array([[1.0, 2.0], [3.0, 4.0]])
    got = dk.trace(lambda x: np.tanh(np.dot(w, x)) * np.sum(x), numpy.ones(2))
    x0, x1 = sympy.symbols("x_0 x_1")
    expected = sympy.Matrix([sympy.tanh(x0 + 2 * x1), sympy.tanh(3 * x0 + 4 * x1)]
                            ) * (x0 + x1)
    assert sympy.simplify(got.to_sympy() - expected) == sympy.zeros(2, 1)


# --- other functions: tables against closed forms and dk.jvp / dk.vjp ---------------


def g(x, y):
    return np.exp(x) * np.cos(y) + x ** 3 / y


def g_grad(x, y):
    return (math.exp(x) * math.cos(y) + 3 * x**2 / y,
            -math.exp(x) * math.sin(y) - x**3 / y**2)


@pytest.mark.parametrize("point", [(0.7, -1.3), (-2.0, 0.25)])
def test_forward_and_reverse_match_closed_forms(point):
    t = dk.trace(g, *point)
    gx, gy = g_grad(*point)
    seed = (0.3, -1.7)
    tangent = t.forward(seed).tangent
    assert tangent == pytest.approx(gx * seed[0] + gy * seed[1], rel=1e-13)
    _, jvp_value = dk.jvp(g, point, seed)
    assert tangent == pytest.approx(float(jvp_value), rel=1e-13)
    grad = t.reverse(2.0).gradient
    numpy.testing.assert_allclose(grad, (2 * gx, 2 * gy), rtol=1e-13)
    _, pullback = dk.vjp(g, *point)
    numpy.testing.assert_allclose(grad, pullback(2.0), rtol=1e-13)
    assert t.value == pytest.approx(math.exp(point[0]) * math.cos(point[1])
                                    + point[0] ** 3 / point[1])


def test_array_function_tables():
    # f(x) = sin(x) * sum(x**2): J = diag(cos x) s + outer(sin x, 2x)
    x = numpy.array([0.5, -1.0, 2.0])
    v = numpy.array([1.0, 2.0, -0.5])
    w = numpy.array([0.2, -0.4, 1.5])
    jac = numpy.diag(numpy.cos(x)) * numpy.sum(x**2) + numpy.outer(numpy.sin(x), 2 * x)
    t = dk.trace(lambda x: np.sin(x) * np.sum(x ** 2), x)
    numpy.testing.assert_allclose(t.forward(v).tangent, jac @ v, rtol=1e-13)
    numpy.testing.assert_allclose(t.reverse(w).gradient, jac.T @ w, rtol=1e-13)
    numpy.testing.assert_allclose(t.reverse().gradient, jac.T @ numpy.ones(3),
                                  rtol=1e-13)
    # arrays are shown compactly, each table row on one line
    assert "[0.5, -1, 2]" in str(t)
    assert all("\n" not in r["expression"] for r in t.rows)
    big = dk.trace(lambda x: np.sum(np.exp(x)), numpy.arange(100.0))
    assert "(100)" in str(big) and len(str(big).splitlines()) == 5


def test_trees_broadcasting_and_several_outputs():
    params = {"a": 2.0, "b": numpy.array([1.0, 3.0])}

    def f(p, c):
        return p["a"] * p["b"], np.sum(p["b"] ** 2) + c

    t = dk.trace(f, params, 4.0)
    assert [i.name for i in t.inputs] == ["p['a']", "p['b']", "c"]
    assert t.output_names == ["y1", "y2"]
    out1, out2 = t.value
    numpy.testing.assert_allclose(out1, [2.0, 6.0])
    # seed along a only: d(a b)/da = b, d(sum b² + c)/da = 0
    tan1, tan2 = t.forward(({"a": 1.0, "b": numpy.zeros(2)}, 0.0)).tangent
    numpy.testing.assert_allclose(tan1, [1.0, 3.0])
    assert tan2 == 0.0
    # cotangent (1, 1) per output: gradient of sum(a b) + sum(b²) + c
    grads = t.reverse().gradient
    assert grads[0]["a"] == pytest.approx(4.0)
    numpy.testing.assert_allclose(grads[0]["b"], [2.0 + 2.0, 2.0 + 6.0])
    assert grads[1] == pytest.approx(1.0)


def test_constants_unused_inputs_and_dead_code():
    def f(x, y):
        np.cos(y)  # evaluated, then thrown away
        return 2.5 * x

    t = dk.trace(f, 1.0, 3.0)
    assert len(t) == 2
    assert "2.5 × v₋₁" in str(t)
    assert t.reverse().gradient == (2.5, 0.0)
    const = dk.trace(lambda x: 7.0, 1.0)
    assert len(const) == 0 and const.value == 7.0
    assert const.reverse().gradient == 0.0


def test_trace_through_a_derivative():
    # dk.grad inside the traced function: the recorded lines are the VJP rule's
    t = dk.trace(lambda x: dk.grad(np.sin)(x) * x, 0.5)
    assert t.value == pytest.approx(math.cos(0.5) * 0.5)
    assert t.forward().tangent == pytest.approx(math.cos(0.5) - 0.5 * math.sin(0.5))
    assert "cos" in [line.prim.name for line in t]


def test_operation_counts():
    counts = dk.trace(baydin, X1, X2).operation_counts()
    assert counts.function == 5
    assert counts.n_inputs == 2 and counts.n_outputs == 1
    assert counts.gradient_ratio <= 4  # Griewank's cheap gradient principle
    # tanh(W x + b), W m x n: a matrix-vector product costs m n multiply-adds
    n, m = 6, 3
    w = numpy.ones((m, n))
    layer = dk.trace(lambda x: np.tanh(np.matmul(w, x) + 1.0), numpy.ones(n))
    c = layer.operation_counts()
    assert c.function == m * n + m + m
    assert c.forward_jacobian == c.function + n * c.tangent
    assert c.reverse_jacobian == c.function + m * c.adjoint


def test_graph_draws_every_variable():
    t = dk.trace(baydin, X1, X2)
    fig = t.graph()
    ax = fig.axes[0]
    nodes = [a for a in ax.texts if str(a.get_gid()).startswith("node:")]
    assert len(nodes) == 2 + 5
    edges = [a for a in ax.texts if str(a.get_gid()).startswith("edge:")]
    assert len(edges) == 1 + 2 + 1 + 2 + 2
    assert ax.get_title() == "Computational graph: 2 inputs, 5 primitives"
    labels = " ".join(a.get_text() for a in nodes)
    assert "11.652" in labels and r"\bar" not in labels
    t.reverse()
    fig2, ax2 = plt.subplots()
    assert t.graph(ax=ax2) is fig2
    labels = [a.get_text() for a in ax2.texts if str(a.get_gid()) == "node:-1"]
    assert r"$\bar{v}_{-1}$ = 5.5" in labels[0]


def test_bad_input_is_explained():
    t = dk.trace(baydin, X1, X2)
    with pytest.raises(ValueError, match="needs a seed"):
        t.forward()
    with pytest.raises(ValueError, match="one tangent per input"):
        t.forward((1.0, 0.0, 0.0))
    with pytest.raises(TypeError, match="point to evaluate"):
        dk.trace(baydin)
    with pytest.raises(ValueError, match="order"):
        dk.trace(baydin, 1.0, 2.0, order="alphabetical")
    with pytest.raises(TypeError, match="numbers"):
        dk.trace(baydin, "two", 5.0)
    with pytest.raises(ValueError, match="first"):
        t.graph(tangents=True)


def test_expression_strings_and_html_tables():
    t = dk.trace("sin(x)*y + x**2", 2.0, 3.0)
    assert [i.name for i in t.inputs] == ["x", "y"]
    assert t.output_names == ["f"]  # "y" is taken by an input
    x, y = sympy.symbols("x y")
    assert sympy.simplify(t.to_sympy() - (sympy.sin(x) * y + x**2)) == 0
    grad = t.reverse().gradient
    numpy.testing.assert_allclose(grad, (3 * math.cos(2.0) + 4.0, math.sin(2.0)))
    fwd_html = t.forward((1.0, 0.0))._repr_html_()
    rev_html = t.reverse()._repr_html_()
    assert fwd_html.count("<tr>") == 1 + 2 + 4 + 1
    assert "forward step" in fwd_html and "worked out" in rev_html
    assert "v̄₄  = f̄" in str(t.reverse())


def test_structural_operations_read_naturally():
    def f(x):
        pair = np.concatenate([x[:2], x[::-1]])
        return np.max(pair) + x.reshape(2, 2)[1, 0] * np.where(x > 2, x, 0.0)[3]

    x = numpy.array([1.0, 2.0, 3.0, 4.0])
    t = dk.trace(f, x)
    text = str(t)
    for piece in ["v₀[:2]", "v₀[::-1]", "reshape(v₀, (2, 2))", "[1, 0]",
                  "where([False, False, True, True], v₀, 0)", "axis=0)"]:
        assert piece in text, piece
    xs = sympy.symbols("x_0:4")
    expected = sympy.Max(*xs) + xs[2] * xs[3]
    assert sympy.simplify(t.to_sympy() - expected) == 0
    # d/dx: max picks x_3 (=4); product rule on x_2 x_3
    numpy.testing.assert_allclose(t.reverse().gradient, [0.0, 0.0, 4.0, 1.0 + 3.0])
