"""dk.plots: figures checked for their content (Agg backend, see conftest.py)."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy
import pytest
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from PIL import Image

import diffkit as dk
import diffkit.numpy as np

EPS = numpy.finfo(float).eps


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --- secant -----------------------------------------------------------------------


def test_secant_lines_of_x_squared():
    hs = (2.0, 1.0, 0.5, 0.25)
    fig = dk.plots.secant(lambda x: x ** 2, 2.0, hs=hs)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    # curve, tangent, point of tangency, then a line and a marker per secant
    assert len(ax.get_lines()) == 3 + 2 * len(hs)
    # the secant of x² through 2 and 2 + h has slope 4 + h; the tangent 4
    assert legend_texts(ax) == (["f(x)", "tangent: slope f'(2) = 4"]
                                + [f"h = {h:g}: slope {4 + h:.4g}" for h in hs])
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "f(x)"
    assert "tangent" in ax.get_title()
    secant_line = ax.get_lines()[3]
    x, y = secant_line.get_data()
    slope = (y[-1] - y[0]) / (x[-1] - x[0])
    assert slope == pytest.approx(4 + hs[0])
    tangent = ax.get_lines()[1]
    x, y = tangent.get_data()
    assert (y[-1] - y[0]) / (x[-1] - x[0]) == pytest.approx(4.0)


def test_secant_accepts_strings_scalar_code_and_an_axes():
    fig, ax = plt.subplots()
    assert dk.plots.secant("sin(x)", 0.0, hs=(1.0,), ax=ax) is fig
    assert "tangent: slope f'(0) = 1" in legend_texts(ax)

    def relu_ish(x):  # an `if`: cannot be evaluated on a whole array at once
        return x * x if x > 0 else 0.0 * x

    fig = dk.plots.secant(relu_ish, 1.0, hs=(0.5,))
    assert "h = 0.5: slope 2.5" in legend_texts(fig.axes[0])
    with pytest.raises(ValueError, match="non-zero"):
        dk.plots.secant(np.sin, 0.0, hs=(0.0,))


def test_secant_animation():
    ax = Figure().add_subplot()
    anim = dk.plots.secant(np.sin, 1.0, hs=(1.0, 0.1), animate=True, frames=4, ax=ax)
    assert isinstance(anim, FuncAnimation)
    html = anim.to_jshtml()
    assert "<img" in html or "Animation" in html
    caption = [t.get_text() for t in ax.texts][0]
    # the last frame shows h = 0.1 / 20 and a slope close to cos(1)
    h = 0.1 / 20
    assert caption.startswith(f"h = {h:.3g}")
    slope = float(caption.split("slope = ")[1].split("\n")[0])
    assert slope == pytest.approx((math.sin(1 + h) - math.sin(1)) / h, rel=1e-5)


# --- fd_error ---------------------------------------------------------------------


def test_fd_error_content():
    fig = dk.plots.fd_error(np.exp, 1.0)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "step size h"
    assert "truncation" in ax.get_title() and "round-off" in ax.get_title()
    curves = {line.get_label(): line for line in ax.get_lines()}
    for scheme in ("forward", "central", "complex-step"):
        assert scheme in legend_texts(ax)
    optimum = {str(line.get_gid()): line.get_xdata()[0] for line in ax.get_lines()
               if str(line.get_gid()).startswith("optimum:")}
    assert optimum.keys() == {"optimum:forward", "optimum:central"}
    assert optimum["optimum:forward"] == pytest.approx(math.sqrt(EPS))
    assert optimum["optimum:central"] == pytest.approx(EPS ** (1 / 3))

    # the plotted errors against the Taylor estimates for exp at 1 (f = f' = e):
    h, fwd = curves["forward"].get_data()
    k = numpy.argmin(abs(numpy.log10(h) + 3))  # h = 1e-3
    assert fwd[k] == pytest.approx(math.e * h[k] / 2, rel=0.01)  # h f''/2
    _, cen = curves["central"].get_data()
    assert cen[k] == pytest.approx(math.e * h[k] ** 2 / 6, rel=0.01)  # h² f'''/6
    # the measured minimum of each curve lies near its marked optimal step
    assert abs(math.log10(h[numpy.argmin(fwd)] / math.sqrt(EPS))) < 1.5
    assert abs(math.log10(h[numpy.argmin(cen)] / EPS ** (1 / 3))) < 1.5
    # the complex step reaches machine precision at tiny steps
    _, cs = curves["complex-step"].get_data()
    assert cs[numpy.argmin(abs(numpy.log10(h) + 12))] <= 4 * EPS * math.e
    notes = " ".join(t.get_text() for t in ax.texts)
    assert "slope 1" in notes and "slope 2" in notes and "slope −1" in notes


def test_fd_error_other_schemes_and_errors():
    fig, ax = plt.subplots()
    dk.plots.fd_error(lambda x: x ** 3, 2.0, schemes=("backward", "richardson"),
                      steps=numpy.logspace(-8, -1, 15), ax=ax, reference=12.0)
    curves = {line.get_label(): line.get_data() for line in ax.get_lines()}
    h, back = curves["backward"]
    # (f(x) - f(x - h)) / h for x³ at 2 is 12 - 6h + h²: error 6h - h²
    numpy.testing.assert_allclose(back[-3:], 6 * h[-3:] - h[-3:] ** 2, rtol=1e-6)
    optimum = [line.get_xdata()[0] for line in ax.get_lines()
               if line.get_gid() == "optimum:richardson"]
    assert optimum == [pytest.approx(EPS ** 0.2 * 2.0)]  # scaled by |x0|
    with pytest.raises(ValueError, match="Unknown scheme"):
        dk.plots.fd_error(np.exp, 1.0, schemes=("sideways",))
    with pytest.raises(ValueError, match="positive"):
        dk.plots.fd_error(np.exp, 1.0, steps=[0.0, 1.0])


# --- cost -------------------------------------------------------------------------


def test_cost_operation_counts():
    sizes = (1, 4, 16)
    fig = dk.plots.cost(sizes=sizes, measure=("ops",))
    inputs_ax, outputs_ax = fig.axes
    assert inputs_ax.get_xlabel() == "inputs n (outputs m = 1)"
    assert outputs_ax.get_xlabel() == "outputs m (inputs n = 1)"
    assert inputs_ax.get_ylabel() == "operations / operations of f"
    lines = {line.get_label(): line.get_ydata() for line in inputs_ax.get_lines()}
    assert set(legend_texts(inputs_ax)) == {
        "forward mode", "reverse mode", r"cheap gradient bound: $4\,\mathrm{cost}(f)$"}
    bound = [line for line in inputs_ax.get_lines()
             if line.get_gid() == "cheap-gradient"]
    assert bound[0].get_ydata()[0] == 4.0
    fwd, rev = lines["forward mode"], lines["reverse mode"]
    # gradients: forward mode grows with n, reverse stays under the bound
    assert fwd[-1] / fwd[0] > 5 and all(numpy.diff(fwd) > 0)
    assert max(rev) <= 4.0 and max(rev) / min(rev) < 1.5
    lines = {line.get_label(): line.get_ydata() for line in outputs_ax.get_lines()}
    fwd, rev = lines["forward mode"], lines["reverse mode"]
    # Jacobians of f: R -> R^m: now reverse mode grows with m
    assert rev[-1] / rev[0] > 5 and max(fwd) <= 4.0


def test_cost_time_and_axes_argument():
    fig, ax = plt.subplots()
    assert dk.plots.cost(sizes=(1, 2), vary="inputs", measure="time", repeat=1,
                         ax=ax) is fig
    assert ax.get_ylabel() == "time / time of f"
    assert legend_texts(ax) == ["forward mode", "reverse mode"]
    assert all(numpy.all(line.get_ydata() > 0) for line in ax.get_lines())
    with pytest.raises(ValueError, match="panels"):
        dk.plots.cost(sizes=(1, 2), ax=ax)
    with pytest.raises(ValueError, match="vary"):
        dk.plots.cost(vary="sideways")


def test_cost_of_a_custom_family():
    def family(n, m):
        return (lambda x: np.sum(x ** 2) * np.ones(m)), numpy.arange(1.0, n + 1)

    fig = dk.plots.cost(family, sizes=(1, 8), vary="inputs", measure="ops")
    ys = {line.get_label(): line.get_ydata() for line in fig.axes[0].get_lines()}
    assert ys["forward mode"][1] > ys["forward mode"][0]


# --- graph and swell --------------------------------------------------------------


def test_graph_shortcut():
    fig = dk.plots.graph(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), 2.0, 5.0)
    ax = fig.axes[0]
    nodes = [t for t in ax.texts if str(t.get_gid()).startswith("node:")]
    assert len(nodes) == 7
    assert ax.get_title() == "Computational graph: 2 inputs, 5 primitives"


def test_swell_draws_the_table_of_dk_swell():
    def product(n):  # x**n as n - 1 multiplications: a trace of n - 1 primitives
        def f(x):
            y = x
            for _ in range(n - 1):
                y = y * x
            return y
        return f

    fig = dk.plots.swell(product, n=range(2, 5), at=0.5)
    curves = {line.get_label(): line.get_data() for line in fig.axes[0].get_lines()}
    ns, ops = curves["AD evaluation trace"]
    assert list(ns) == [2, 3, 4] and list(ops) == [1, 2, 3]
    assert fig.axes[0].get_yscale() == "log"


# --- figures belong to the caller, not to pyplot -----------------------------------


def _trace() -> dk.wengert.Trace:
    return dk.trace(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), 2.0, 5.0)


FIGURES: dict[str, Callable[[], Figure]] = {
    "secant": lambda: dk.plots.secant(np.sin, 1.0),
    "fd_error": lambda: dk.plots.fd_error(np.exp, 1.0, schemes="central"),
    "cost": lambda: dk.plots.cost(sizes=(1, 2), measure="ops"),
    "graph": lambda: dk.plots.graph(lambda x: np.sin(x) * x, 1.0),
    "Trace.graph": lambda: _trace().graph(),
    "Swell.plot": lambda: dk.swell(lambda x: 4 * x * (1 - x)).plot(),
    "Comparison.plot": lambda: dk.compare(np.sin, 1.0,
                                          methods=["central", "reverse"]).plot(),
}


@pytest.mark.parametrize("make", FIGURES.values(), ids=FIGURES.keys())
def test_figures_are_not_left_open_in_pyplot(make):
    assert plt.get_fignums() == []
    fig = make()
    assert isinstance(fig, Figure) and fig.axes
    # pyplot never saw it: nothing to close, and Jupyter's inline backend
    # (which shows every open pyplot figure at the end of a cell) does not
    # show it a second time
    assert plt.get_fignums() == []
    png = fig._repr_png_()  # what Jupyter shows before pyplot is first used
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    # a tight bounding box: about the figure's own size in pixels
    w_px, h_px = fig.get_size_inches() * fig.dpi
    assert 0.5 * w_px < width < 1.5 * w_px and 0.5 * h_px < height < 1.5 * h_px


def test_many_figures_do_not_pile_up():
    # pyplot warns (an error here) once more than 20 of its figures are open
    figures = [dk.plots.secant(lambda x: x ** 2, 1.0, hs=(0.5,)) for _ in range(25)]
    assert len({id(f) for f in figures}) == 25 and plt.get_fignums() == []


def test_a_drawn_figure_is_saved_as_png(tmp_path: Path):
    fig = dk.plots.secant(lambda x: x ** 2, 2.0, hs=(1.0,))
    fig.savefig(tmp_path / "secant.png", dpi=50)
    with Image.open(tmp_path / "secant.png") as image:
        assert image.format == "PNG"
        assert image.size == tuple(round(v * 50) for v in fig.get_size_inches())


def test_animation_without_pyplot_plays_and_saves(tmp_path: Path):
    frames = 5
    anim = dk.plots.secant(np.sin, 1.0, hs=(1.0, 0.1), animate=True, frames=frames)
    assert plt.get_fignums() == []
    html = anim.to_jshtml()
    # one embedded PNG per frame in the player
    assert html.count("data:image/png;base64") == frames
    anim.save(tmp_path / "secant.gif", writer="pillow")
    with Image.open(tmp_path / "secant.gif") as gif:
        assert gif.n_frames == frames
    assert plt.get_fignums() == []


# --- in a real Jupyter kernel ------------------------------------------------------


def _images(cell: nbformat.NotebookNode) -> list[bytes]:
    return [base64.b64decode(out["data"]["image/png"]) for out in cell.outputs
            if out.output_type in ("display_data", "execute_result")
            and "image/png" in out.get("data", {})]


def test_a_returned_figure_is_shown_once_in_jupyter(run_notebook):
    cells = [
        "import diffkit as dk\nf = lambda x: x ** 2",
        # before pyplot is used: the figure's own PNG
        "dk.plots.secant(f, 2.0)",
        # once pyplot has drawn (and so switched on IPython's inline
        # backend): IPython's formatter for figures, still one picture
        "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()",
        "dk.plots.secant(f, 2.0)",
        "dk.trace(lambda x: x * x, 3.0).graph()",
        "from IPython.display import HTML\n"
        "HTML(dk.plots.secant(f, 2.0, animate=True, frames=3).to_jshtml())",
        "print(plt.get_fignums())",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    run_notebook(nb, Path(__file__))
    first, after_pyplot, graph = nb.cells[1], nb.cells[3], nb.cells[4]
    for cell in (first, after_pyplot, graph):
        assert len(_images(cell)) == 1, cell.outputs
        assert [out.output_type for out in cell.outputs] == ["execute_result"]
    with Image.open(io.BytesIO(_images(first)[0])) as image:
        assert image.format == "PNG"
    animation = nb.cells[5].outputs
    assert len(animation) == 1 and "text/html" in animation[0]["data"]
    assert _images(nb.cells[5]) == []
    assert nb.cells[6].outputs[0]["text"] == "[]\n"  # no figure left in pyplot


def test_secant_and_fd_error_need_one_output():
    vector = lambda x: np.array([x, x**2])  # noqa: E731
    with pytest.raises(TypeError, match=r"returned an array of shape \(2,\)"):
        dk.plots.secant(vector, 1.0)
    with pytest.raises(TypeError, match="Pick one output"):
        dk.plots.fd_error(vector, 1.0)


def test_fd_error_of_a_plain_python_function_needs_a_reference():
    with pytest.raises(TypeError, match=r"np\.sin rather than math\.sin.*reference="):
        dk.plots.fd_error(math.sin, 1.0, schemes=("central",))
    # with the exact derivative given, plain Python is fine for real steps
    fig = dk.plots.fd_error(math.sin, 1.0, schemes=("central",),
                            reference=math.cos(1.0))
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "central"]
    errors = line.get_ydata()
    assert min(errors) < 1e-10  # the best central difference: ~cbrt(eps)^2


def test_cost_says_what_a_family_is():
    with pytest.raises(TypeError, match=r"family\(n, m\)"):
        dk.plots.cost(lambda x: np.sum(np.sin(x)), sizes=(1, 2))
