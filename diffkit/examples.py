"""The worked examples diffkit was conceived from, ready to differentiate.

Every function here is written with ``diffkit.numpy`` exactly as a student
would write it, so every method applies (or says why it cannot).  The tour,
the command line and the lessons use them; instructors can too.

Examples
--------
>>> import diffkit as dk
>>> from diffkit import examples
>>> float(dk.grad(examples.baydin)(2.0, 5.0))
5.5
>>> round(float(dk.grad(examples.taylor_sine)(3.141592653589793)), 4)
-0.9999
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as _np

import diffkit.numpy as np

__all__ = [
    "taylor_sine", "chain_example", "chain_by_hand", "baydin", "martins",
    "logistic_regression", "logistic", "nested_sin", "product", "FAMILIES",
]


def taylor_sine(x: Any) -> Any:
    """The autograd README's Taylor series of sine: a loop whose length depends on x.

    AD differentiates the path the program took; symbolic differentiation
    cannot, because the number of terms is decided by comparing values.
    """
    ans = currterm = x
    i = 0
    while np.abs(currterm) > 0.001:
        currterm = -currterm * x**2 / ((2 * i + 3) * (2 * i + 2))
        ans = ans + currterm
        i += 1
    return ans


def chain_example(n: int = 2, m: int = 3) -> Callable[[Any], Any]:
    """The chain-rule example f(x) = sin^n((2x^2 + x + 1)^m) for given n, m."""

    def f(x: Any) -> Any:
        return np.sin((2 * x**2 + x + 1) ** m) ** n

    f.__name__ = f"sin^{n}((2x^2+x+1)^{m})"
    return f


def chain_by_hand(x: float, n: int = 2, m: int = 3) -> float:
    """The hand-derived derivative of :func:`chain_example`, outermost rule first.

    f'(x) = m n (4x + 1) (2x^2 + x + 1)^(m-1) sin^(n-1)(u^m) cos(u^m).

    >>> import diffkit as dk
    >>> abs(dk.derivative(chain_example(2, 3), 0.3) - chain_by_hand(0.3)) < 1e-9
    True
    """
    u = 2 * x**2 + x + 1
    return (m * n * (4 * x + 1) * u ** (m - 1) * math.sin(u**m) ** (n - 1)
            * math.cos(u**m))


def baydin(x1: Any, x2: Any) -> Any:
    """Baydin et al. (2018), Tables 2 and 3: f(x1, x2) = ln x1 + x1 x2 - sin x2."""
    return np.log(x1) + x1 * x2 - np.sin(x2)


def martins(x: Any) -> Any:
    """Martins, Sturdza & Alonso (2003): e^x / sqrt(sin^3 x + cos^3 x).

    Their test function for the complex-step method, usually taken at x = 1.5.
    """
    return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)


def logistic_regression() -> tuple[Any, Any, Callable[[Any], Any]]:
    """The autograd README's logistic regression: ``(inputs, targets, training_loss)``.

    >>> import diffkit as dk
    >>> inputs, targets, training_loss = logistic_regression()
    >>> round(float(training_loss(_np.zeros(3))), 6)   # 4 log 2
    2.772589
    """
    inputs = _np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15],
                        [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
    targets = _np.array([True, True, False, True])

    def sigmoid(x: Any) -> Any:
        return 0.5 * (np.tanh(x / 2.0) + 1)

    def training_loss(weights: Any) -> Any:
        preds = sigmoid(np.dot(inputs, weights))
        label_probabilities = preds * targets + (1 - preds) * (1 - targets)
        return -np.sum(np.log(label_probabilities))

    return inputs, targets, training_loss


# --- families f_n, for expression swell ---------------------------------------


def logistic(n: int) -> Callable[[Any], Any]:
    """The logistic map iterated: l_1 = x, l_(k+1) = 4 l_k (1 - l_k); returns l_n."""

    def logistic_map(x: Any) -> Any:
        for _ in range(n - 1):
            x = 4 * x * (1 - x)
        return x

    logistic_map.__name__ = f"logistic_{n}"
    return logistic_map


def nested_sin(n: int) -> Callable[[Any], Any]:
    """sin(sin(...sin(x))), n times."""

    def nested(x: Any) -> Any:
        for _ in range(n):
            x = np.sin(x)
        return x

    nested.__name__ = f"nested_sin_{n}"
    return nested


def product(n: int) -> Callable[..., Any]:
    """x_1 * x_2 * ... * x_n: a function of n inputs (each output depends on all)."""

    def prod(*xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out

    # A real signature of n parameters: symbolic differentiation and traces
    # need to know how many inputs there are.
    prod.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"x{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD)
         for i in range(1, n + 1)])
    prod.__name__ = f"product_{n}"
    return prod


#: Name -> family (``family(n)`` returns the n-th function).
FAMILIES: dict[str, Callable[[int], Callable[..., Any]]] = {
    "logistic": logistic,
    "nested-sin": nested_sin,
    "product": product,
}
