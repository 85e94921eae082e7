"""dk.compare: every method on one function, checked against closed forms."""

import math
import time

import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np
from diffkit.examples import taylor_sine

KEYS = ["method", "value", "abs_error", "rel_error", "time", "cost", "size", "note"]


def f(x):
    return np.sin(x) ** 2 * np.exp(x)


def df_exact(x):  # product and chain rule by hand
    return (2 * math.sin(x) * math.cos(x) + math.sin(x) ** 2) * math.exp(x)


def taylor_sine_derivative(x):
    """The same truncated series differentiated term by term (independent)."""
    k, term, terms = 0, x, []
    while abs(term) > 0.001:
        terms.append(k)
        term = -term * x**2 / ((2 * k + 3) * (2 * k + 2))
        k += 1
    terms.append(k)
    return sum((-1) ** j * x ** (2 * j) / math.factorial(2 * j) for j in terms)


@pytest.fixture(scope="module")
def cmp():
    return dk.compare(f, 1.5)


def test_default_rows_in_lesson_order(cmp):
    assert [r.method for r in cmp.rows] == list(dk.comparison.METHODS)
    assert all(list(r.as_dict()) == KEYS for r in cmp.rows)


@pytest.mark.parametrize("method", ["forward", "reverse"])
def test_ad_rows_are_exact(cmp, method):
    row = cmp[method]
    assert isinstance(row.value, float)
    assert row.value == pytest.approx(df_exact(1.5), abs=1e-12)
    assert row.abs_error <= 1e-12 and row.rel_error <= 1e-12
    assert row.time > 0


def test_symbolic_row_and_reference(cmp):
    assert cmp["symbolic"].value == pytest.approx(df_exact(1.5), abs=1e-12)
    assert cmp.reference.startswith("symbolic")
    assert cmp.exact == pytest.approx(df_exact(1.5), abs=1e-14)
    # The size of the derivative expression: positive, and the CSE'd DAG is
    # never bigger than the tree.
    assert cmp["symbolic"].size >= cmp["symbolic"].cost > 0


def test_finite_rows(cmp):
    exact = df_exact(1.5)
    assert cmp["finite:central"].value == pytest.approx(exact, abs=1e-6)
    assert cmp["finite:forward"].value == pytest.approx(exact, abs=1e-5)
    assert cmp["finite:complex-step"].value == pytest.approx(exact, abs=1e-12)
    assert cmp["finite:richardson"].value == pytest.approx(exact, abs=1e-8)
    # Forward differences lose more digits than central ones.
    assert cmp["finite:forward"].abs_error > cmp["finite:central"].abs_error
    # Cost is counted in evaluations of f: a central difference of one input
    # needs f(x + h) and f(x - h).
    assert cmp["finite:central"].cost == 2
    assert cmp["finite:central"].size is None


def test_errors_are_measured_against_the_reference(cmp):
    for row in cmp.rows:
        if row.ok:
            assert row.abs_error == pytest.approx(abs(row.value - cmp.exact),
                                                  abs=1e-300)
            assert row.rel_error == pytest.approx(row.abs_error / abs(cmp.exact))


def test_ad_cost_counts_sweeps_over_the_trace(cmp):
    counts = dk.trace(f, 1.5).operation_counts()
    assert cmp["forward"].size == cmp["reverse"].size == len(dk.trace(f, 1.5)) >= 4
    # f once, then one tangent sweep (one input) / one adjoint sweep (one output)
    assert cmp["forward"].cost == counts.function + counts.tangent
    assert cmp["reverse"].cost == counts.function + counts.adjoint
    # Griewank's cheap-gradient bound: f and its gradient within 4 cost(f) + f.
    assert cmp["reverse"].cost <= 5 * counts.function


def test_taylor_sine_symbolic_row_says_why():
    cmp = dk.compare(taylor_sine, math.pi)
    row = cmp["symbolic"]
    assert not row.ok and row.value is None and row.abs_error is None
    assert row.note  # the reason, in words
    assert row.note.startswith("not applicable")
    assert "branches on a value" in row.note
    assert cmp.reference.startswith("reverse-mode AD")
    exact = taylor_sine_derivative(math.pi)
    for method in ("forward", "reverse"):
        assert cmp[method].value == pytest.approx(exact, rel=1e-13)


def test_array_input_gives_gradients_and_norm_errors():
    x = onp.array([1.0, -2.0, 0.5])
    exact = 3 * x**2 + onp.cos(x)
    cmp = dk.compare(lambda x: np.sum(x**3 + np.sin(x)), x,
                     methods=["central", "forward", "reverse"], reference=exact)
    assert cmp.reference == "given by the caller"
    for method in ("forward", "reverse"):
        row = cmp[method]
        assert isinstance(row.value, onp.ndarray) and row.value.shape == (3,)
        onp.testing.assert_allclose(row.value, exact, rtol=1e-14)
        assert row.abs_error == pytest.approx(onp.linalg.norm(row.value - exact),
                                              abs=1e-300)
    # Three inputs: three tangent sweeps forward, still one adjoint sweep back.
    counts = dk.trace(lambda x: np.sum(x**3 + np.sin(x)), x).operation_counts()
    assert cmp["forward"].cost == counts.function + 3 * counts.tangent
    assert cmp["reverse"].cost == counts.function + counts.adjoint
    assert cmp["reverse"].cost < cmp["forward"].cost
    onp.testing.assert_allclose(cmp["finite:central"].value, exact, atol=1e-6)
    assert cmp["finite:central"].abs_error < 1e-6


def test_expression_string_in_two_variables():
    cmp = dk.compare("log(x1) + x1*x2 - sin(x2)", (2.0, 5.0),
                     methods=["forward", "reverse"])
    exact = onp.array([1 / 2 + 5, 2 - math.cos(5)])  # Baydin et al., by hand
    for method in ("forward", "reverse"):
        onp.testing.assert_allclose(cmp[method].value, exact, rtol=1e-14)
    assert "x1 = 2, x2 = 5" in str(cmp)


def test_a_method_that_fails_is_a_row_not_an_exception():
    @dk.primitive
    def no_rules(x):
        return onp.sinh(x)

    cmp = dk.compare(lambda x: no_rules(x) * 2.0, 0.5,
                     methods=["forward", "reverse"], reference=2 * math.cosh(0.5))
    for method in ("forward", "reverse"):
        row = cmp[method]
        assert row.value is None and row.abs_error is None
        assert "no_rules" in row.note and "MissingRuleError" in row.note


def test_bad_input_still_raises():
    with pytest.raises(ValueError, match="Unknown method 'newton'"):
        dk.compare(f, 1.0, methods=["newton"])
    with pytest.raises(dk.ExpressionError):
        dk.compare("sin(x", 1.0)
    with pytest.raises(TypeError):
        dk.compare(f, "one")


def test_text_table(cmp):
    text = str(cmp)
    lines = text.splitlines()
    assert lines[0] == "d/dx f at x = 1.5"
    assert lines[1].startswith("reference: ")
    header = lines[3]
    for column in ("method", "derivative", "abs error", "rel error", "time",
                   "cost", "size", "note"):
        assert column in header
    body = lines[5:5 + len(cmp.rows)]
    assert [ln.split()[0] for ln in body] == [r.method for r in cmp.rows]
    assert lines[-1].startswith("cost: evaluations of f")
    # Aligned: every row's value column ends where the header's does.
    end = header.index("derivative") + len("derivative")
    for ln, row in zip(body, cmp.rows, strict=True):
        if row.ok:
            assert ln[:end].rstrip().endswith(f"{row.value:.16g}")


def test_html_table(cmp):
    html = cmp._repr_html_()
    assert html.startswith("<table>") and html.endswith("</table>")
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    assert body.count("<tr>") == len(cmp.rows)
    assert "<tfoot>" in html and "primitive operations" in html
    for row in cmp.rows:
        assert f">{row.method}<" in html
    lam = dk.compare(lambda x: x * x, 1.0, methods=["reverse"], reference=2.0)
    assert "&lt;lambda&gt;" in lam._repr_html_()


def test_plot_draws_errors_and_costs(cmp):
    import matplotlib.pyplot as plt

    fig = cmp.plot()
    try:
        err_ax, cost_ax = fig.axes
        assert err_ax.get_yscale() == "log" and cost_ax.get_yscale() == "log"
        ok = [r for r in cmp.rows if r.ok]
        assert [t.get_text() for t in err_ax.get_xticklabels()] == [
            r.method for r in ok]
        heights = [p.get_height() for p in cost_ax.patches]
        assert heights == [r.cost for r in ok if r.cost is not None]
    finally:
        plt.close(fig)


def test_compare_is_quick_for_a_simple_function():
    start = time.perf_counter()
    dk.compare("sin(x)**2*exp(x)", 0.7)
    assert time.perf_counter() - start < 1.5


def test_a_formula_that_is_nan_at_the_point_is_not_the_reference():
    # A user's SymPy rule sin(u)/u has the derivative cos(u)/u - sin(u)/u**2:
    # 0/0 at 0, where the derivative is 0 (diffkit's own sinc is exact there).
    # The reference falls back to reverse mode and says why.
    import sympy

    from diffkit.primitives import defsympy
    from diffkit.rules._sinc import sinc_slope

    sin_over = dk.primitive(lambda u: np.sinc(u / np.pi))
    dk.defvjp(sin_over, lambda g, ans, u: g * sinc_slope(u / np.pi) / np.pi)
    dk.defjvp(sin_over, lambda t, ans, u: t * sinc_slope(u / np.pi) / np.pi)
    defsympy(sin_over, onp.frompyfunc(lambda u: sympy.sin(u) / u, 1, 1))
    table = dk.compare(lambda x: sin_over(x), 0.0)
    assert table.reference.startswith("reverse-mode AD, as SymPy's formula is not")
    errors = {row.method: row.abs_error for row in table.rows}
    assert errors["finite:central"] == pytest.approx(0.0, abs=1e-12)
    assert errors["forward"] == errors["reverse"] == 0.0


def test_an_infinite_derivative_is_compared_without_warnings():
    # d/dx log(x) at 0 is +inf: methods that find it have no error, the
    # table is made without a RuntimeWarning (pytest runs with -W error).
    table = dk.compare(np.log, 0.0)
    errors = {row.method: row.abs_error for row in table.rows}
    values = {row.method: row.value for row in table.rows}
    assert values["reverse"] == values["forward"] == math.inf
    assert errors["forward"] == errors["finite:forward"] == 0.0
    assert math.isnan(errors["finite:central"])  # (inf - inf) / 2h: not a number
