"""Derivatives worked out by hand: the independent source tests check against."""

import numpy as onp


def rosenbrock_gradient(x):
    """The gradient of ``sum(100 (x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2)``."""
    g = onp.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hessian(x):
    """Its Hessian: tridiagonal."""
    n = len(x)
    h = onp.zeros((n, n))
    i = onp.arange(n - 1)
    h[i, i] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    h[i + 1, i + 1] += 200.0
    h[i, i + 1] = h[i + 1, i] = -400.0 * x[:-1]
    return h
