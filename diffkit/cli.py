"""The ``diffkit`` command: differentiate from the terminal.

::

    diffkit compare "sin(x)**2*exp(x)" --at 1.5
    diffkit trace "log(x1)+x1*x2-sin(x2)" --at 2 5
    diffkit swell logistic --n 1..8
    diffkit plot secant "x**2" --at 2 -o secant.png
    diffkit tour --out diffkit-tour

Bad input (an expression outside the safe grammar, a point that is not a
number, an unknown family...) prints one line to stderr and exits with
status 2; nothing the user types is ever executed as Python.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from diffkit.examples import FAMILIES

__all__ = ["main", "FAMILIES"]


# --- errors: one line, exit status 2 ------------------------------------------------

class UsageError(Exception):
    """Bad input on the command line: reported in one line, exit status 2."""


class _ParseError(UsageError):
    """A message from argparse, already naming the (sub)command."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line instead of usage + message."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise _ParseError(f"{self.prog}: error: {message} "
                          f"(see '{self.prog} --help')")


def _one_line(err: BaseException) -> str:
    """An exception message squeezed onto one line.

    Expression errors show the text with a caret line under the offending
    part; on one line, a column number does that job.
    """
    lines = [ln.rstrip() for ln in str(err).splitlines() if ln.strip()]
    if len(lines) >= 3 and set(lines[-1].strip()) <= set("^~"):
        text, carets = lines[-2], lines[-1]
        column = carets.index("^") - (len(text) - len(text.lstrip())) + 1
        lines = [*lines[:-2], f"(column {column} of {text.strip()!r})"]
    return " ".join(ln.strip() for ln in lines) or type(err).__name__


# --- parsing values -------------------------------------------------------------------

_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _number(text: str) -> float:
    """A point coordinate: a number, or a constant expression such as ``pi/2``."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        from diffkit.expression import function

        fun = function(text)
        if not getattr(fun, "variables", ("?",)):
            return float(fun())
    except Exception:  # noqa: BLE001 - any failure is the same bad input
        pass
    if text.strip().lower() in _CONSTANTS:
        return _CONSTANTS[text.strip().lower()]
    raise argparse.ArgumentTypeError(
        f"expected a number such as 1.5, -2e-3 or pi/2, got {text!r}")


def _range(text: str) -> list[int]:
    """``--n``: ``8``, ``1..8``, ``2..10..2`` (step 2) or ``1,2,4,8``."""
    try:
        if ".." in text:
            lo, hi, *step = (int(p) for p in text.split(".."))
            values = list(range(lo, hi + 1, *step[:1])) if len(step) < 2 else []
        elif "," in text:
            values = [int(p) for p in text.split(",")]
        else:
            values = list(range(1, int(text) + 1))
    except ValueError:  # not integers, or a step of 0
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected positive sizes such as 8, 1..8, 2..10..2 or 1,2,4, "
            f"got {text!r}")
    if max(values) > 64:
        raise argparse.ArgumentTypeError(
            f"sizes up to 64 only (expression swell grows fast), got {max(values)}")
    return values


# --- the families of functions for ``swell`` (diffkit.examples) ----------------------

def _family(name: str) -> Callable[[int], Callable[..., Any]]:
    key = name.strip().lower().replace("_", "-")
    if key in ("nestedsin", "sin"):
        key = "nested-sin"
    if key not in FAMILIES:
        raise UsageError(
            f"unknown family {name!r}: choose one of {', '.join(FAMILIES)}")
    return FAMILIES[key]


# --- the subcommands ------------------------------------------------------------------

def _function(expr: str, at: Sequence[float] | None = None) -> Any:
    """The expression as a function, checked against the number of --at values."""
    from diffkit.expression import function

    fun = function(expr)
    if at is not None:
        names = list(getattr(fun, "variables", ()))
        if len(at) != len(names):
            raise UsageError(
                f"{expr!r} has {len(names)} variable(s) ({', '.join(names)}) but "
                f"--at gave {len(at)} value(s): give one value per variable")
    return fun


def _cmd_compare(args: argparse.Namespace) -> int:
    import diffkit as dk

    _function(args.expression, args.at)
    x = args.at[0] if len(args.at) == 1 else tuple(args.at)
    methods = args.methods.split(",") if args.methods else None
    reference: Any = args.reference
    try:
        reference = float(reference)
    except ValueError:
        pass
    cmp = dk.compare(args.expression, x, methods=methods,
                     reference=reference)
    print(cmp)
    return 0


def _cmd_trace(args: argparse.Namespace) -> int:
    import diffkit as dk

    _function(args.expression, args.at)
    t = dk.trace(args.expression, *args.at)
    n = len(args.at)
    if not 1 <= args.seed <= n:
        raise UsageError(f"--seed must be between 1 and {n} (one per input)")
    seed = tuple(1.0 if i == args.seed - 1 else 0.0 for i in range(n))
    print("Evaluation trace (Wengert list)")
    print(t)
    print(f"\nForward mode, tangent seed {seed}")
    print(t.forward(seed))
    print("\nReverse mode, adjoint seed y_bar = 1")
    print(t.reverse())
    return 0


def _cmd_swell(args: argparse.Namespace) -> int:
    import diffkit as dk

    family = _family(args.family)
    report = dk.swell(family, n=args.n, at=args.at)
    print(report)
    return 0


PLOT_KINDS = ("secant", "fd-error", "swell", "cost", "graph")


def _cmd_plot(args: argparse.Namespace) -> int:
    kind = args.kind
    fig = _make_plot(kind, args.target, args.at, args.n)
    out = Path(args.output or f"{kind}.png")
    _save(fig, out)
    print(f"wrote {out}")
    return 0


def _make_plot(kind: str, target: str | None, at: Sequence[float] | None,
               n: list[int] | None) -> Any:
    import diffkit as dk

    plots = dk.plots
    if kind == "swell":
        family = _family(target or "logistic")
        return plots.swell(family, n=n or list(range(1, 7)),
                           at=None if not at else at[0])
    if kind == "cost":
        return plots.cost()
    if target is None:
        raise UsageError(f"'plot {kind}' needs an expression, e.g. "
                         f"diffkit plot {kind} \"sin(x)\" --at 1")
    point = list(at) if at else None
    if kind == "graph":
        if point is None:
            raise UsageError("'plot graph' needs --at, one value per variable")
        _function(target, point)
        return plots.graph(target, *point)
    _function(target, point if point else None)
    if point is None:
        raise UsageError(f"'plot {kind}' needs --at, the point to differentiate at")
    if len(point) != 1:
        raise UsageError(f"'plot {kind}' is for functions of one variable")
    if kind == "secant":
        return plots.secant(target, point[0])
    return plots.fd_error(target, point[0])


def _figure(obj: Any) -> Any:
    """A Figure from whatever a drawing helper returned (Figure or Axes)."""
    from matplotlib.figure import Figure

    if isinstance(obj, Figure):
        return obj
    if hasattr(obj, "get_figure"):
        return obj.get_figure()
    import matplotlib.pyplot as plt

    return plt.gcf()


def _save(obj: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig = _figure(obj)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _cmd_tour(args: argparse.Namespace) -> int:
    from diffkit._tour import run

    return run(Path(args.out))


# --- the parser -----------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="diffkit",
        description="Differentiate the same function four ways, side by side: "
                    "finite differences, SymPy, forward- and reverse-mode AD.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("compare", help="every method on one function, one table",
                       description="Differentiate an expression by every method "
                                   "and tabulate value, error, time, cost, size.")
    p.add_argument("expression", help='e.g. "sin(x)**2*exp(x)"')
    p.add_argument("--at", type=_number, nargs="+", required=True, metavar="X",
                   help="the point: one value per variable")
    p.add_argument("--methods", help="comma-separated, e.g. central,symbolic,reverse")
    p.add_argument("--reference", default="symbolic",
                   help="symbolic (default), a method name, or the exact value")
    p.set_defaults(run=_cmd_compare)

    p = sub.add_parser("trace", help="the evaluation trace with forward and "
                                     "reverse tables",
                       description="Print the Wengert list of an expression at a "
                                   "point, its forward tangent table and its "
                                   "reverse adjoint table.")
    p.add_argument("expression", help='e.g. "log(x1)+x1*x2-sin(x2)"')
    p.add_argument("--at", type=_number, nargs="+", required=True, metavar="X")
    p.add_argument("--seed", type=int, default=1,
                   help="which input the forward tangent is seeded on (1-based)")
    p.set_defaults(run=_cmd_trace)

    p = sub.add_parser("swell", help="expression swell of a family of functions",
                       description="Tree size, DAG size after CSE and AD trace "
                                   "length of the derivative as n grows.")
    p.add_argument("family", help=f"one of: {', '.join(FAMILIES)}")
    p.add_argument("--n", type=_range, default=list(range(1, 9)),
                   help="sizes: 8, 1..8, 2..10..2 or 1,2,4 (default 1..8)")
    p.add_argument("--at", type=_number, default=None,
                   help="also time the evaluation at this point")
    p.set_defaults(run=_cmd_swell)

    p = sub.add_parser("plot", help="draw a figure to a PNG file",
                       description="Kinds: secant, fd-error (need an expression "
                                   "and --at), graph (expression, --at), swell "
                                   "(a family and --n), cost.")
    p.add_argument("kind", choices=PLOT_KINDS)
    p.add_argument("target", nargs="?", help="expression, or family for swell")
    p.add_argument("--at", type=_number, nargs="+", metavar="X")
    p.add_argument("--n", type=_range, default=None)
    p.add_argument("-o", "--output", help="PNG file (default: KIND.png)")
    p.set_defaults(run=_cmd_plot)

    p = sub.add_parser("tour", help="a guided walk through the seed examples, "
                                    "writing its figures as PNG files")
    p.add_argument("--out", default="diffkit-tour",
                   help="folder for the figures (default ./diffkit-tour)")
    p.set_defaults(run=_cmd_tour)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``diffkit`` command; returns the exit status."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # files only: never open a window
    parser = _parser()
    command = "diffkit"
    try:
        args = parser.parse_args(argv)
        command = f"diffkit {args.command}"
        started = time.perf_counter()
        status = int(args.run(args))
        if os.environ.get("DIFFKIT_TIMING"):
            print(f"[{time.perf_counter() - started:.2f} s]", file=sys.stderr)
        return status
    except _ParseError as err:
        print(_one_line(err), file=sys.stderr)
        return 2
    except UsageError as err:
        print(f"{command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, ArithmeticError, LookupError) as err:
        # ExpressionError is a ValueError: the bad input of this family.
        print(f"{command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - one line, never a traceback
        from diffkit.errors import DiffkitError

        status = 2 if isinstance(err, DiffkitError) else 1
        print(f"{command}: error: {type(err).__name__}: {_one_line(err)}",
              file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
