"""dk.symbolic and dk.swell: expressions, sizes and the swell report.

Sizes are checked against independent counts: a plain (unmemoised) walk of
the expression tree, SymPy's own ``cse``, the length of ``dk.trace``'s
Wengert list, and hand counts for the logistic map.
"""

import inspect
import time

import matplotlib
import matplotlib.pyplot as plt
import numpy as onp
import pytest
import sympy

import diffkit as dk
import diffkit.numpy as np
from diffkit.backends import symbolic as sym
from diffkit.errors import NotApplicable
from diffkit.examples import logistic, taylor_sine
from diffkit.sizes import Size, ad_counts

x, y = sympy.symbols("x y", real=True)



def tree_walk(expr):
    """Operations of the expression tree by brute force: visit every node."""
    ops = 0
    for node in sympy.preorder_traversal(expr):
        ops += sym._weight(node)
    return ops


# --- dk.symbolic: the expression ------------------------------------------------------

def test_one_scalar_argument_gives_an_expression():
    result = dk.symbolic(lambda x: np.sin(x) ** 2 * np.exp(x))
    expected = sympy.diff(sympy.sin(x) ** 2 * sympy.exp(x), x)
    assert result.expr == expected
    assert result.order == 1 and result.variables == (x,)
    assert result._repr_latex_() == rf"$\displaystyle {sympy.latex(expected)}$"
    assert dk.symbolic(lambda x: np.sin(x) ** 2, order=0).expr == sympy.sin(x) ** 2


def test_several_scalar_arguments_give_a_gradient_and_a_hessian():
    f = lambda x, y: x * y**2 + np.exp(x)  # noqa: E731
    formula = x * y**2 + sympy.exp(x)
    assert dk.symbolic(f).expr == sympy.Matrix([formula.diff(x), formula.diff(y)])
    assert dk.symbolic(f, order=2).expr == sympy.hessian(formula, (x, y))


def test_an_expression_string_is_parsed_safely():
    result = dk.symbolic("x*y + ln(y)")
    assert result.expr == sympy.Matrix([y, x + 1 / y])
    with pytest.raises(dk.ExpressionError):
        dk.symbolic("__import__('os').system('true')")


def test_array_arguments_by_point_or_by_shape():
    by_point = dk.symbolic(lambda v: np.sum(v**3), at=onp.ones(3))
    by_shape = dk.symbolic(lambda v: np.sum(v**3), shape=3)
    v = sympy.symbols("v_0 v_1 v_2", real=True)
    assert by_point.expr == by_shape.expr == sympy.Matrix([3 * s**2 for s in v])
    assert list(by_shape.variables[0]) == list(v)
    jac = dk.symbolic(lambda v: v[::-1] * v[0], shape=(2,)).expr  # 2 x 2 Jacobian
    v0, v1 = v[:2]
    assert jac == sympy.Matrix([[v1, v0], [2 * v0, 0]])
    hess = dk.symbolic(lambda v: v[0] ** 2 * v[1], shape=2, order=2).expr
    assert hess == sympy.Matrix([[2 * v1, 2 * v0], [2 * v0, 0]])


def test_several_array_arguments_give_a_tuple():
    w = sympy.symbols("w_0 w_1", real=True)
    b = sympy.Symbol("b", real=True)
    grad = dk.symbolic(lambda w, b: np.sum(w) * b, shape=((2,), ())).expr
    assert grad == (sympy.Matrix([b, b]), w[0] + w[1])
    hess = dk.symbolic(lambda w, b: np.sum(w) * b, shape=((2,), ()), order=2).expr
    assert hess[0][1] == sympy.Matrix([1, 1]) and hess[1][1] == 0


def test_a_function_of_args_needs_a_point_or_shapes():
    with pytest.raises(TypeError, match=r"at=\(x1, x2, ...\)"):
        dk.symbolic(lambda *xs: xs[0] * xs[1])
    assert dk.symbolic(lambda *xs: xs[0] * xs[1], at=(1.0, 2.0)).expr.shape == (2, 1)
    with pytest.raises(TypeError, match="one per argument"):
        dk.symbolic(lambda x, y: x * y, shape=((), (), ()))
    with pytest.raises(TypeError, match="not both"):
        dk.symbolic(np.sin, at=1.0, shape=())
    with pytest.raises(ValueError, match="order"):
        dk.symbolic(np.sin, order=-1)


def test_a_branch_on_the_value_is_not_applicable():
    def step(x):
        return x if x > 0 else 0 * x

    with pytest.raises(NotApplicable, match="test_sizes.py"):
        dk.symbolic(step)


# --- dk.symbolic: the sizes -----------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_tree_ops_equal_a_plain_walk_of_the_tree(n):
    result = dk.symbolic(logistic(n))
    assert result.size.tree_ops == tree_walk(result.expr)


def test_dag_ops_equal_sympy_cse_on_a_small_expression():
    result = dk.symbolic(lambda x: np.sin(np.exp(x) + 1) * (np.exp(x) + 1))
    replacements, reduced = sympy.cse(result.expr, optimizations=[])
    expected = sum(tree_walk(e) for _, e in replacements) + tree_walk(reduced[0])
    assert result.size.dag_ops == expected
    assert result.size.dag_ops < result.size.tree_ops


def test_trace_ops_equal_the_length_of_the_wengert_list():
    f = lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2)  # noqa: E731
    size = dk.symbolic(f, at=(2.0, 5.0)).size
    assert size.trace_ops == len(dk.trace(f, 2.0, 5.0)) == 5
    # Reverse mode: the 5 primitives forward, then their VJP rules backward.
    assert size.trace_ops < size.grad_ops <= 4 * size.trace_ops


def test_size_is_a_named_tuple():
    size = dk.symbolic(logistic(3), order=0).size
    assert isinstance(size, Size)
    assert size._fields == ("tree_ops", "dag_ops", "trace_ops", "grad_ops")
    assert size.trace_ops == 6  # multiply, subtract, multiply per step


def test_ad_counts_of_a_vector_function():
    trace_ops, grad_ops = ad_counts(lambda v: np.sum(np.sin(v) * v), onp.ones(4))
    assert trace_ops == 3
    assert grad_ops > trace_ops


def test_a_huge_expression_is_summarised_not_printed():
    start = time.perf_counter()
    result = dk.symbolic(logistic(30))
    assert result.size.tree_ops > 10**11
    assert "too large" in str(result) and "too large" in result._repr_latex_()
    assert result.size.dag_ops < 20_000
    assert time.perf_counter() - start < 10.0


# --- dk.swell -------------------------------------------------------------------------

def test_swell_of_the_logistic_map():
    report = dk.swell(logistic, n=range(1, 9), at=0.3)
    rows = report.rows
    assert [r["n"] for r in rows] == list(range(1, 9))
    assert [r["trace_ops"] for r in rows] == [3 * (n - 1) for n in range(1, 9)]
    for key in ("tree_ops", "dag_ops", "trace_ops", "grad_ops"):
        values = [r[key] for r in rows[1:]]
        assert values == sorted(values) and len(set(values)) == len(values), key
    ratios = [r["tree_ops"] / r["dag_ops"] for r in rows[3:]]
    assert all(ratio > 2 for ratio in ratios)
    assert ratios == sorted(ratios)  # the tree outgrows the DAG
    assert rows[-1]["tree_ops"] > 20 * rows[-1]["dag_ops"]
    for r in rows:
        assert r["eval_s"] is not None and r["diff_s"] is not None
        assert r["sympy_diff_s"] is not None and r["note"] == ""


def test_swell_rows_are_the_sizes_of_dk_symbolic():
    report = dk.swell(logistic, n=[5])
    size = dk.symbolic(logistic(5)).size
    row = report.rows[0]
    assert (row["tree_ops"], row["dag_ops"], row["trace_ops"], row["grad_ops"]) \
        == tuple(size)
    assert row["eval_s"] is None  # no point, no evaluation


def test_swell_stays_fast_where_the_tree_is_astronomical():
    start = time.perf_counter()
    report = dk.swell(logistic, n=[20, 25])
    assert time.perf_counter() - start < 20.0
    assert all(r["sympy_diff_s"] is None for r in report.rows)
    assert all("tree too large" in r["note"] for r in report.rows)
    assert report.rows[1]["tree_ops"] > 10**9


def test_a_family_is_recognised_by_its_parameter_n():
    report = dk.swell(logistic)
    assert [r["n"] for r in report.rows] == list(range(1, 9))
    single = dk.swell(lambda x: np.exp(np.sin(x)), at=0.5)
    assert len(single.rows) == 1 and single.rows[0]["n"] is None
    assert single.rows[0]["tree_ops"] == 4  # cos(x) * exp(sin(x))


def test_a_function_symbolic_cannot_handle_is_a_row_with_a_reason():
    (row,) = dk.swell(taylor_sine, at=3.14159).rows
    assert row["tree_ops"] is None and "closed-form" in row["note"]
    assert row["trace_ops"] == len(dk.trace(taylor_sine, 3.14159))


def test_a_family_of_functions_of_n_arguments():
    def product(n):  # x1 * x2 * ... * xn, a function of n parameters
        def prod(*xs):
            out = xs[0]
            for v in xs[1:]:
                out = out * v
            return out

        prod.__signature__ = inspect.Signature(
            [inspect.Parameter(f"x{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD)
             for i in range(1, n + 1)])
        return prod

    report = dk.swell(product, n=[2, 3, 4], at=0.5)  # 0.5 for every argument
    # The gradient has n entries, each a product of n - 1 symbols.
    assert [r["tree_ops"] for r in report.rows] == [0, 3, 8]
    assert [r["trace_ops"] for r in report.rows] == [1, 2, 3]
    vector = dk.swell(lambda v: v[0] * v[1] * v[2], at=onp.array([1.0, 2.0, 3.0]))
    assert vector.rows[0]["tree_ops"] == 3  # v1*v2, v0*v2, v0*v1
    assert vector.rows[0]["trace_ops"] == 5  # three getitems, two multiplies


def test_swell_table_html_and_plot():
    report = dk.swell(logistic, n=range(1, 5))
    lines = str(report).splitlines()
    assert lines[0] == "expression swell of the derivative: logistic"
    assert lines[1].split()[:3] == ["n", "tree", "ops"]
    assert len(lines) == 3 + 4
    widths = [len(dashes) for dashes in lines[2].split()]
    for row in lines[3:]:  # right-aligned columns end where the dashes end
        ends = [sum(widths[:k + 1]) + 2 * k for k in range(len(widths) - 1)]
        assert all(row[end - 1] != " " for end in ends)
        assert len(row) == ends[-1]  # no note
    html = report._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == 5
    fig = report.plot()
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        (ax,) = fig.axes
        assert ax.get_yscale() == "log"
        assert len(ax.get_lines()) == 4
    finally:
        plt.close(fig)
    fig, ax = plt.subplots()
    try:
        assert report.plot(ax=ax) is fig
    finally:
        plt.close(fig)


@pytest.mark.parametrize("n, error, message", [
    (0, TypeError, r"n is the sizes to tabulate, such as n=range\(1, 9\)"),
    ([0, 1], ValueError, "positive integer sizes"),
    ([], ValueError, "positive integer sizes"),
])
def test_swell_sizes_are_checked(n, error, message):
    with pytest.raises(error, match=message):
        dk.swell(lambda n: (lambda x: x**n), n=n)
