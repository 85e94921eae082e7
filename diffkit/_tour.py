"""``diffkit tour``: the seed examples, one after another, in the terminal.

Each stop prints a short explanation and the numbers that make its point,
and saves its picture as a PNG file in the output folder.  The tour is the
lessons in miniature: run it once to see what diffkit is for.
"""

from __future__ import annotations

import math
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import diffkit as dk
import diffkit.numpy as np
from diffkit.examples import (
    baydin,
    chain_by_hand,
    chain_example,
    logistic,
    logistic_regression,
    taylor_sine,
)

WIDTH = 78


# --- printing -----------------------------------------------------------------------

class _Tour:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.figures: list[Path] = []
        self.failures: list[str] = []
        self.stop = 0

    def heading(self, title: str) -> None:
        self.stop += 1
        text = f" {self.stop}. {title} "
        print("\n" + text.center(WIDTH, "="))

    @staticmethod
    def say(text: str) -> None:
        print(textwrap.fill(" ".join(text.split()), WIDTH))

    @staticmethod
    def show(obj: Any) -> None:
        print("\n" + textwrap.indent(str(obj), "  ") + "\n")

    def save(self, name: str, make: Callable[[], Any]) -> None:
        """Draw a figure into ``out/name``; a failure is reported, not raised."""
        from diffkit.cli import _save

        try:
            path = _save(make(), self.out / name)
        except Exception as err:  # noqa: BLE001 - the tour goes on
            self.fail(f"figure {name}", err)
            return
        self.figures.append(path)
        print(f"  -> figure saved: {path}")

    def fail(self, what: str, err: BaseException) -> None:
        from diffkit.cli import _one_line

        line = f"{what}: {type(err).__name__}: {_one_line(err)}"
        self.failures.append(line)
        print(f"  [{line}]")


# --- the stops ----------------------------------------------------------------------

def _slope_of_square(t: _Tour) -> None:
    t.heading("The slope of x^2 at x = 2")
    t.say("A derivative is a limit of slopes, rise over run: (f(x+h) - f(x)) / h "
          "as h -> 0. For f(x) = x^2 that is 2x + h, so the slope at 2 is 4. "
          "In floating point h cannot go all the way to 0: below about 1e-8 "
          "round-off eats the digits that truncation gave back.")
    print()
    print(f"  {'h':>8}  {'secant slope':>22}  {'error':>9}")
    for k in (0, 1, 2, 4, 6, 8, 10, 12, 14):
        h = 10.0**-k
        slope = ((2 + h) ** 2 - 2**2) / h
        print(f"  {h:>8.0e}  {slope:>22.16f}  {abs(slope - 4):>9.1e}")
    t.save("secant.png", lambda: dk.plots.secant("x**2", 2.0))
    t.say("The four methods of diffkit, asked for the same slope:")
    for method in ("finite", "symbolic", "forward", "reverse"):
        value = dk.derivative("x**2", 2.0, method=method)
        print(f"  dk.derivative('x**2', 2, method={method!r:<11}) = {float(value)!r}")


def _finite_differences(t: _Tour) -> None:
    t.heading("Finite differences: truncation against round-off")
    t.say("The Martins-Sturdza-Alonso test function e^x / sqrt(sin^3 x + cos^3 x) "
          "at x = 1.5. Forward differences keep about half the digits, central "
          "about two thirds; the complex step f'(x) ~ Im f(x + ih) / h subtracts "
          "nothing, so it reaches machine precision. Every method, one table:")
    expr = "exp(x)/sqrt(sin(x)**3 + cos(x)**3)"
    cmp = dk.compare(expr, 1.5)
    t.show(cmp)
    t.save("fd-error.png", lambda: dk.plots.fd_error(expr, 1.5))
    t.save("compare.png", cmp.plot)


def _chain_rule(t: _Tour) -> None:
    n, m, x = 2, 3, 0.3
    f = chain_example(n, m)
    t.heading("The chain rule: by hand, by SymPy, by AD")
    t.say(f"f(x) = sin^n((2x^2 + x + 1)^m) with n = {n}, m = {m}. Working from the "
          "outside in, the seed's formula is f'(x) = m n (4x + 1) (2x^2 + x + 1)^(m-1) "
          "sin^(n-1)((2x^2 + x + 1)^m) cos((2x^2 + x + 1)^m).")
    print()
    print(f"  by hand    {chain_by_hand(x, n, m)!r}")
    sym = dk.symbolic(f)
    print(f"  SymPy      f'(x) = {sym.expr}")
    for method in ("symbolic", "forward", "reverse"):
        print(f"  {method:<10} {float(dk.derivative(f, x, method=method))!r}")
    t.say("All agree to the last digit or two. What differs is the work:")
    t.show(dk.compare(f, x, methods=["central", "symbolic", "forward", "reverse"]))


def _baydin_trace(t: _Tour) -> None:
    t.heading("Evaluation traces: forward and reverse mode")
    t.say("AD never builds a formula. It records the program as a list of "
          "primitive steps, the Wengert list, here for f(x1, x2) = ln x1 + x1 x2 "
          "- sin x2 at (2, 5) (Baydin et al. 2018, Tables 2 and 3).")
    tr = dk.trace(baydin, 2.0, 5.0)
    t.show(tr)
    t.say("Forward mode carries a tangent v_dot = dv/dx1 along with each value "
          "(seed x1_dot = 1, x2_dot = 0): one pass per input.")
    t.show(tr.forward((1.0, 0.0)))
    t.say("Reverse mode runs the list backwards with adjoints v_bar = dy/dv "
          "(seed y_bar = 1): one pass gives the whole gradient.")
    t.show(tr.reverse())
    t.save("graph.png", tr.graph)


def _cost(t: _Tour) -> None:
    t.heading("Forward or reverse? Count the passes")
    t.say("A forward pass gives the derivative along one input direction; a "
          "reverse pass gives the gradient of one output. For f: R^n -> R^m the "
          "full Jacobian costs about n passes forward and m passes in reverse. "
          "For a scalar loss of many parameters reverse mode wins by a factor "
          "of n: the whole gradient costs a few evaluations of f (the 'cheap "
          "gradient' bound). Here for x -> tanh(W x + b) as n or m grows:")
    t.save("cost.png", dk.plots.cost)


def _taylor_sine(t: _Tour) -> None:
    t.heading("A real program: taylor_sine's data-dependent loop")
    t.say("How many terms the loop adds depends on the value of x. AD follows "
          "whatever path the program took; symbolic differentiation needs one "
          "formula for every x, and says why it cannot give one.")
    print(f"\n  dk.grad(taylor_sine)(pi) = {float(dk.grad(taylor_sine)(math.pi))!r}"
          "   (cos(pi) = -1)\n")
    t.show(dk.compare(taylor_sine, math.pi))


def _logistic_regression(t: _Tour) -> None:
    t.heading("Training logistic regression with dk.grad")
    _, _, training_loss = logistic_regression()
    training_gradient_fun = dk.grad(training_loss)
    weights = np.array([0.0, 0.0, 0.0])
    losses = [float(training_loss(weights))]
    for _ in range(100):
        weights = weights - training_gradient_fun(weights) * 0.01
        losses.append(float(training_loss(weights)))
    t.say("The seed's negative log-likelihood, its gradient by reverse mode, "
          "100 steps of gradient descent:")
    print(f"\n  initial loss {losses[0]:.6f}\n  trained loss {losses[-1]:.6f}"
          f"\n  weights      {np.round(weights, 4)}")

    def loss_curve() -> Any:
        from diffkit._figures import new_figure

        fig = new_figure((5, 3.2), layout="constrained")
        ax = fig.add_subplot()
        ax.plot(losses)
        ax.set_xlabel("gradient-descent step")
        ax.set_ylabel("training loss")
        ax.set_title("logistic regression, trained with dk.grad")
        return fig

    t.save("loss.png", loss_curve)


def _non_scalar(t: _Tour) -> None:
    t.heading("Non-scalar outputs (the d2l / Zygote examples)")
    x = np.array([1.0, 2.0, 3.0, 4.0])
    rows = [
        ("dk.gradient(x -> 2 x.x, x)", dk.gradient(lambda x: 2 * np.dot(x, x), x)[0]),
        ("dk.gradient(sum, x)", dk.gradient(np.sum, x)[0]),
        ("dk.elementwise_grad(x -> x * x)(x)", dk.elementwise_grad(lambda x: x * x)(x)),
    ]
    print(f"\n  x = {x}")
    for label, value in rows:
        print(f"  {label:<36} = {value}")
    t.say("For a vector output the natural derivative is the Jacobian; "
          "'backward' on a non-scalar y is the gradient of sum(y), which is "
          "what elementwise_grad gives.")
    print("  dk.jacobian(x -> x * x)(x) =")
    t.show(dk.jacobian(lambda x: x * x)(x))


def _swell(t: _Tour) -> None:
    t.heading("Expression swell: the logistic map")
    t.say("l_(n+1) = 4 l_n (1 - l_n), with l_1 = x. Differentiated symbolically, "
          "the expression tree of d l_n / dx grows about threefold with every "
          "step. Common-subexpression elimination (a DAG) tames that to "
          "polynomial growth, but not to linear: SymPy flattens the nested "
          "products, so the product rule expands every level anew and the DAG "
          "still grows like n^3/3. The AD trace, a DAG of two-argument "
          "operations by construction, grows linearly: three operations per "
          "step.")
    report = dk.swell(logistic, n=range(1, 9), at=0.3)
    t.show(report)
    t.save("swell.png", report.plot)


STOPS = (_slope_of_square, _finite_differences, _chain_rule, _baydin_trace, _cost,
         _taylor_sine, _logistic_regression, _non_scalar, _swell)


def run(out: Path) -> int:
    """Walk every stop, write the figures into ``out``; 0 if all went well."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    tour = _Tour(out)
    print("diffkit tour: one function, four ways to differentiate it".center(WIDTH))
    for stop in STOPS:
        try:
            stop(tour)
        except Exception as err:  # noqa: BLE001 - report, then the next stop
            tour.fail(stop.__name__.strip("_").replace("_", " "), err)
    print("\n" + "=" * WIDTH)
    names = ", ".join(p.name for p in tour.figures) or "none"
    print(f"Figures written to {out.resolve()}/ : {names}")
    print(f"(tour took {time.perf_counter() - started:.1f} s)")
    if tour.failures:
        print(f"{len(tour.failures)} part(s) of the tour did not run: "
              + "; ".join(tour.failures), file=sys.stderr)
        return 1
    return 0
