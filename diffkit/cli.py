"""The ``diffkit`` command line: ``diffkit tour`` walks through the seed examples."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _tour() -> int:
    import diffkit as dk
    import diffkit.numpy as np

    def taylor_sine(x):
        ans = currterm = x
        i = 0
        while np.abs(currterm) > 0.001:
            currterm = -currterm * x**2 / ((2 * i + 3) * (2 * i + 2))
            ans = ans + currterm
            i += 1
        return ans

    def baydin(x1, x2):
        return np.log(x1) + x1 * x2 - np.sin(x2)

    rows = [
        ("d/dx x^2 at x = 2", dk.grad(lambda x: x**2)(2.0), 4.0),
        ("d/dx taylor_sine(x) at pi", dk.grad(taylor_sine)(np.pi), np.cos(np.pi)),
        ("d/dx1 ln x1 + x1 x2 - sin x2 at (2, 5)",
         dk.grad(baydin)(2.0, 5.0), 5.5),
        ("d/dx2 ln x1 + x1 x2 - sin x2 at (2, 5)",
         dk.grad(baydin, 1)(2.0, 5.0), 2.0 - np.cos(5.0)),
    ]
    print("diffkit tour: the seed examples through dk.grad (reverse mode)\n")
    print(f"{'derivative':<42} {'dk.grad':>14} {'by hand':>14}")
    for name, got, expected in rows:
        print(f"{name:<42} {float(got):>14.10f} {float(expected):>14.10f}")
    x = np.array([1.0, 2.0, 3.0, 4.0])
    print("\ngradient of y(x) = 2 x.x at [1, 2, 3, 4]:",
          dk.gradient(lambda x: 2 * np.dot(x, x), x)[0])
    print("gradient of sum(x):                     ", dk.gradient(np.sum, x)[0])
    print("elementwise_grad of x * x:              ",
          dk.elementwise_grad(lambda x: x * x)(x))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``diffkit`` command."""
    parser = argparse.ArgumentParser(
        prog="diffkit",
        description="Differentiate the same function four ways, side by side.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tour", help="a guided walk through the seed examples")
    args = parser.parse_args(argv)
    if args.command == "tour":
        return _tour()
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
