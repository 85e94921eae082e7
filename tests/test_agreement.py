"""The four methods agree: the strongest evidence that diffkit is correct.

Finite differences, SymPy, forward mode and reverse mode share nothing but
the primitives' NumPy implementations: finite differences only *run* the
function, the symbolic method asks SymPy for derivatives of the formula it
traced, and the two AD modes use the JVP and VJP rule tables, which were
written independently of each other.  A bug in any one of them shows up as a
disagreement with the other three.  This file checks that they agree

1. on random expression trees (hypothesis), for values, gradients and
   Hessians, and for the same tree written as a string and parsed by
   :func:`dk.function`;
2. on a table of named functions of arrays (Rosenbrock, logsumexp, softmax
   cross-entropy, an MLP with dict parameters, quadratic forms, det/inv,
   norms, ``where``/``maximum``, indexing and stacking), and with closed
   forms written out by hand;
3. when derivatives are nested, method over method, including the classic
   perturbation-confusion traps;
4. with :func:`dk.check_grads` to order 2 on everything in (2).

Tolerances follow the method: the AD modes and SymPy evaluate the same exact
derivative in different orders of floating-point operations (agreement to
~1e-10 relative to the size of the numbers involved); the complex step is
exact to rounding (~1e-10); Richardson extrapolation is good to ~1e-8 on the
named functions and, on random trees, within its own error estimate (which
must bound its error, or it must say it did not converge); the central
difference to ~1e-5 (its truncation and round-off errors are both
near ``eps**(2/3)`` relative); the second-difference Hessian to ~1e-4.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as onp
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import diffkit as dk
import diffkit.numpy as np
from diffkit.backends import finite
from diffkit.trees import flatten

AD = ("forward", "reverse")
METHODS = ("symbolic", "forward", "reverse")
ALL_METHODS = ("finite", *METHODS)
SCHEMES = {"central": 1e-5, "complex-step": 1e-10, "richardson": 1e-8}


def leaves(tree: Any) -> onp.ndarray:
    """All numbers of a result (array, tuple, dict, nested blocks), flattened.

    A complex number counts as its real and imaginary parts.
    """
    flat, _ = flatten(tree)
    parts = []
    for leaf in flat:
        if isinstance(leaf, tuple | list | dict):
            parts.append(leaves(leaf))
        else:
            values = onp.asarray(leaf)
            if onp.iscomplexobj(values):
                values = onp.stack([values.real, values.imag])
            parts.append(onp.ravel(values.astype(float)))
    return onp.concatenate(parts) if parts else onp.zeros(0)


def assert_agree(actual: Any, expected: Any, tol: float, what: str,
                 scale: float = 0.0, slack: float = 0.0) -> None:
    """``|actual - expected| <= tol * (1 + scale + max|expected|) + slack``.

    The bound is relative to the size of the numbers involved (``scale`` for
    the size of intermediate results, such as ``|f|`` for a finite
    difference, whose round-off error grows with it) and absolute near zero.
    ``slack`` is an error a finite difference estimates for itself.
    """
    a, e = leaves(actual), leaves(expected)
    assert a.shape == e.shape, f"{what}: shapes {a.shape} != {e.shape}"
    bound = tol * (1.0 + scale + (onp.max(onp.abs(e)) if e.size else 0.0)) + slack
    err = onp.max(onp.abs(a - e)) if e.size else 0.0
    assert err <= bound, (
        f"{what}: max error {err:.3g} exceeds {bound:.3g}\n"
        f"  got      {a}\n  expected {e}")


def size_of(value: Any) -> float:
    """The largest absolute value in a result."""
    return float(onp.max(onp.abs(leaves(value)), initial=0.0))


# --- 1. random expression trees -------------------------------------------------------
#
# A tree is a nested tuple: ("var", i), ("const", c), (unary, child),
# ("**", child, k) or (binary, left, right).  Three interpreters read it:
# `build` makes a Python function of diffkit.numpy primitives (what a user
# writes), `render` the expression string for dk.function, and `reference`
# evaluates it with the `math` module, refusing a point that is not
# well-conditioned (a denominator near zero, a huge intermediate value).

VARS = ("x", "y", "z")
CONSTANTS = (0.5, 1.0, 2.0, 3.0, -1.5, 0.25)
POWERS = (2, 3, -1, -2)

# name -> (diffkit function, math function, string template)
UNARY: dict[str, tuple[Callable, Callable, str]] = {
    "sin": (np.sin, math.sin, "sin({})"),
    "cos": (np.cos, math.cos, "cos({})"),
    "exp": (np.exp, math.exp, "exp({})"),
    "tanh": (np.tanh, math.tanh, "tanh({})"),
    "arctan": (np.arctan, math.atan, "arctan({})"),
    # log and sqrt of arguments that are positive by construction.
    "log1sq": (lambda u: np.log(1 + u ** 2), lambda u: math.log(1 + u * u),
               "log(1 + ({})**2)"),
    "sqrt1sq": (lambda u: np.sqrt(1 + u ** 2), lambda u: math.sqrt(1 + u * u),
                "sqrt(1 + ({})**2)"),
    "neg": (lambda u: -u, lambda u: -u, "-({})"),
}
BINARY: dict[str, tuple[Callable, str]] = {
    "+": (lambda a, b: a + b, "({}) + ({})"),
    "-": (lambda a, b: a - b, "({}) - ({})"),
    "*": (lambda a, b: a * b, "({}) * ({})"),
    "/": (lambda a, b: a / b, "({}) / ({})"),
}


@st.composite
def trees(draw: Callable[..., Any], size: int | None = None) -> tuple:
    """A random tree of ``size`` nodes (drawn between 1 and 12 by default).

    Drawing the size first, then splitting it between the children, gives
    trees of every shape up to that size, not mostly leaves.
    """
    if size is None:
        size = draw(st.integers(1, 12))
    if size == 1:
        if draw(st.integers(0, 4)) < 3:  # variables more often than constants
            return ("var", draw(st.integers(0, len(VARS) - 1)))
        return ("const", draw(st.sampled_from(CONSTANTS)))
    kind = draw(st.sampled_from(["unary", "power", "binary"] if size > 2
                                else ["unary", "power"]))
    if kind == "unary":
        return (draw(st.sampled_from(sorted(UNARY))), draw(trees(size - 1)))
    if kind == "power":
        return ("**", draw(trees(size - 1)), draw(st.sampled_from(POWERS)))
    left = draw(st.integers(1, size - 2))
    return (draw(st.sampled_from(sorted(BINARY))), draw(trees(left)),
            draw(trees(size - 1 - left)))


# Random points in [-2, 2]^3, rounded to three decimals so that a failing
# example reads well.  Drawn from a seed: hypothesis's own float draws favour
# 0 and tiny values, and the trees already probe those through constants.
points = st.integers(0, 2**32 - 1).map(
    lambda seed: tuple(onp.round(onp.random.default_rng(seed).uniform(-2, 2, 3), 3)))


def variables(tree: tuple) -> int:
    """How many variables the function of ``tree`` takes (at least one)."""
    if tree[0] == "var":
        return tree[1] + 1
    if tree[0] == "const":
        return 1
    if tree[0] == "**":
        return variables(tree[1])
    return max(variables(child) for child in tree[1:])


def build(tree: tuple) -> Callable[..., Any]:
    """The tree as a Python function of diffkit.numpy primitives."""
    kind = tree[0]
    if kind == "var":
        return lambda *xs: xs[tree[1]]
    if kind == "const":
        return lambda *xs: tree[1]
    if kind == "**":
        base, k = build(tree[1]), tree[2]
        return lambda *xs: base(*xs) ** k
    if kind in UNARY:
        f, child = UNARY[kind][0], build(tree[1])
        return lambda *xs: f(child(*xs))
    op, left, right = BINARY[kind][0], build(tree[1]), build(tree[2])
    return lambda *xs: op(left(*xs), right(*xs))


def render(tree: tuple) -> str:
    """The tree as an expression string, fully parenthesised."""
    kind = tree[0]
    if kind == "var":
        return VARS[tree[1]]
    if kind == "const":
        return repr(tree[1])
    if kind == "**":
        return f"({render(tree[1])})**({tree[2]})"
    if kind in UNARY:
        return UNARY[kind][2].format(render(tree[1]))
    return BINARY[kind][1].format(render(tree[1]), render(tree[2]))


class IllConditioned(Exception):
    """The point is too close to a pole, or a value is too large."""


def reference(tree: tuple, xs: tuple[float, ...]) -> float:
    """The tree evaluated with the ``math`` module, refusing bad points."""
    kind = tree[0]
    if kind == "var":
        return xs[tree[1]]
    if kind == "const":
        return tree[1]
    if kind == "**":
        base = reference(tree[1], xs)
        if tree[2] < 0 and abs(base) < 0.3:
            raise IllConditioned
        value = base ** tree[2]
    elif kind in UNARY:
        u = reference(tree[1], xs)
        if kind == "exp" and u > 5:
            raise IllConditioned
        value = UNARY[kind][1](u)
    else:
        a, b = reference(tree[1], xs), reference(tree[2], xs)
        if kind == "/" and abs(b) < 0.3:
            raise IllConditioned
        value = BINARY[kind][0](a, b)
    if not abs(value) < 1e3:
        raise IllConditioned
    return value


def gradient(f: Callable[..., Any], xs: tuple[float, ...], method: str) -> Any:
    return dk.grad(f, argnum=tuple(range(len(xs))), method=method)(*xs)


def packed(f: Callable[..., Any], n: int) -> Callable[[Any], Any]:
    """``f`` as a function of one vector (for the finite-difference schemes)."""
    return lambda v: f(*(v[i] for i in range(n)))


def truncation(estimate: Callable[[float], Any], step: float) -> float:
    """Twice the truncation error of a second-order difference at ``step``.

    The error is ``C h**2`` and halving the step removes three quarters of
    it, so ``|D(h) - D(h/2)|`` is ``3/4 C h**2``.  A function that varies
    fast (``cos(y**6)`` near ``y = 1.8`` has a fourth derivative of 2e8) is
    thus held to the accuracy a difference can have there, and no better,
    while an AD derivative that is wrong still stands out.
    """
    return 2 * 4 / 3 * size_of(leaves(estimate(step)) - leaves(estimate(step / 2)))


def check_tree(tree: tuple, point: tuple[float, ...]) -> None:
    """Every method on the function of ``tree`` at ``point``, against each other."""
    n = variables(tree)
    xs = tuple(float(v) for v in point[:n])
    try:
        expected = reference(tree, xs)
    except IllConditioned:
        assume(False)
    f = build(tree)
    text = render(tree)
    at = f"{text} at {xs}"

    # Values: the diffkit function, the parsed string and `math` agree.
    assert_agree(f(*xs), expected, 1e-12, f"value of {at}")
    parsed = dk.function(text, vars=VARS[:n])
    assert_agree(parsed(*xs), expected, 1e-12, f"value of parsed {at}")

    # Gradients: the exact methods against reverse mode, for the function
    # and for its parsed string; each method's value along the way.
    argnum = tuple(range(n))
    g = gradient(f, xs, "reverse")
    for method in METHODS:
        value, grad = dk.value_and_grad(f, argnum=argnum, method=method)(*xs)
        assert_agree(value, expected, 1e-12, f"{method} value of {at}")
        assert_agree(grad, g, 1e-10, f"{method} grad of {at}")
    for method in AD:
        assert_agree(gradient(parsed, xs, method), g, 1e-10,
                     f"{method} grad of parsed {at}")

    # Hessians: forward-over-reverse, reverse-over-reverse, forward-over-forward
    # and SymPy's agree to rounding.
    H = dk.hessian(f, argnum=argnum)(*xs)
    for method in ("reverse", "forward", "symbolic"):
        assert_agree(dk.hessian(f, argnum=argnum, method=method)(*xs), H, 1e-9,
                     f"{method} Hessian of {at}")

    # Finite differences, each scheme to its own accuracy: the central
    # difference and the Hessian stencil also within their estimated
    # truncation error (at the largest default step of any input).
    # Richardson's own error estimate must bound its error (up to the
    # rounding of reverse mode itself), or it must say it did not converge.
    fun, x = packed(f, n), onp.array(xs)
    for scheme, tol in SCHEMES.items():
        try:
            est = finite.estimate(fun, x, scheme=scheme)
        except dk.NotApplicable as err:
            assert scheme == "richardson" and "did not converge" in str(err)
            event("Richardson did not converge: f varies too fast")
            continue
        slack = 0.0
        if scheme == "central":
            slack = truncation(lambda h: finite.estimate(
                fun, x, scheme="central", step=h).derivative,
                float(onp.max(finite.default_step("central", x))))
        elif scheme == "richardson":
            tol, slack = 1e-13, est.error_estimate
        assert_agree(est.derivative, g, tol, f"{scheme} grad of {at}",
                     scale=abs(expected), slack=slack)
    slack = truncation(lambda h: finite.hessian(fun, x, step=h),
                       float(onp.max(finite.default_step("second", x))))
    assert_agree(dk.hessian(f, argnum=argnum, method="finite")(*xs), H, 1e-4,
                 f"finite Hessian of {at}", scale=abs(expected), slack=slack)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(trees(), points)
def test_random_expressions_agree_across_methods(tree, point):
    check_tree(tree, point)


@pytest.mark.parametrize("name", ["sin", "cos", "tan", "tanh", "sinh", "arctan"])
def test_symbolic_function_of_a_negated_sum(name):
    """Regression: a SymPy function of ``-z - x**3`` recursed forever.

    SymPy's ``cos(u)`` checks whether ``u`` "has a minus sign" and, if so,
    returns ``cos(-u)``; with distribution switched off while tracing,
    ``-u`` stayed a negated sum that has a minus sign again.  Found by the
    random-tree test above, as ``cos(-(z) + (-(cos(x)))**(3))``.
    """
    fun = getattr(np, name)
    f = lambda x, z: fun(-z - x ** 3)  # noqa: E731
    expected = gradient(f, (0.5, 1.0), "reverse")
    assert_agree(gradient(f, (0.5, 1.0), "symbolic"), expected, 1e-12,
                 f"symbolic gradient of {name}(-z - x**3)")
    assert_agree(dk.hessian(f, argnum=(0, 1), method="symbolic")(0.5, 1.0),
                 dk.hessian(f, argnum=(0, 1))(0.5, 1.0), 1e-12,
                 f"symbolic Hessian of {name}(-z - x**3)")


# --- 2. named functions of arrays -----------------------------------------------------

RNG = onp.random.default_rng(20240611)
A = RNG.uniform(-1, 1, (3, 3)) + 3 * onp.eye(3)  # well-conditioned, not symmetric
SYM = onp.array([[2.0, 0.3, -0.5], [0.3, 1.0, 0.2], [-0.5, 0.2, -1.0]])
X_DATA = RNG.uniform(-1, 1, (4, 2))
T_DATA = RNG.uniform(-1, 1, 4)
ONE_HOT = onp.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def softmax(z: Any) -> Any:
    e = onp.exp(z - onp.max(z, axis=-1, keepdims=True))
    return e / onp.sum(e, axis=-1, keepdims=True)


def softmax_jacobian(z: Any) -> Any:
    """d softmax / dz = diag(s) - s s^T: also the Hessian of logsumexp."""
    s = softmax(z)
    return onp.diag(s) - onp.outer(s, s)


def rosenbrock(x: Any) -> Any:
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x: Any) -> Any:
    g = onp.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hessian(x: Any) -> Any:
    H = onp.zeros((x.size, x.size))
    for i in range(x.size - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] = H[i + 1, i] = -400 * x[i]
    return H


def cross_entropy(z: Any) -> Any:
    """Softmax cross-entropy of a batch of logits against one-hot labels."""
    return -np.sum(ONE_HOT * (z - np.logsumexp(z, axis=-1, keepdims=True)))


def cross_entropy_hessian(z: Any) -> Any:
    H = onp.zeros(z.shape + z.shape)
    for b in range(z.shape[0]):
        H[b, :, b, :] = softmax_jacobian(z[b])
    return H


def mlp_predictions(p: dict) -> Any:
    hidden = np.tanh(X_DATA @ p["W1"].T + p["b1"])
    return hidden @ p["w2"] + p["b2"]


def mlp_loss(p: dict) -> Any:
    return np.mean((mlp_predictions(p) - T_DATA) ** 2)


def mlp_jacobian(p: dict) -> dict:
    """Backpropagation by hand: d prediction_n / d parameter."""
    hidden = onp.tanh(X_DATA @ p["W1"].T + p["b1"])          # (n, h)
    d_pre = (1 - hidden ** 2) * p["w2"]                        # (n, h)
    return {
        "W1": d_pre[:, :, None] * X_DATA[:, None, :],          # (n, h, d)
        "b1": d_pre,                                           # (n, h)
        "w2": hidden,                                          # (n, h)
        "b2": onp.ones(len(X_DATA)),                           # (n,)
    }


def mlp_grad(p: dict) -> dict:
    residual = 2 * (mlp_predictions(p) - T_DATA) / len(T_DATA)
    return {k: onp.tensordot(residual, j, axes=1)
            for k, j in mlp_jacobian(p).items()}


MLP_PARAMS = {"W1": RNG.uniform(-1, 1, (3, 2)), "b1": RNG.uniform(-1, 1, 3),
              "w2": RNG.uniform(-1, 1, 3), "b2": onp.float64(0.3)}


def inv_jacobian(M: Any) -> Any:
    """d inv(M)_ij / d M_kl = -inv(M)_ik inv(M)_lj."""
    B = onp.linalg.inv(M)
    return -onp.einsum("ik,lj->ijkl", B, B)


def det_hessian(M: Any) -> Any:
    """d^2 det / dM_ij dM_kl = det (B_ji B_lk - B_li B_jk), B = inv(M)."""
    B = onp.linalg.inv(M)
    return onp.linalg.det(M) * (onp.einsum("ji,lk->ijkl", B, B)
                                - onp.einsum("li,jk->ijkl", B, B))


def structural(M: Any) -> Any:
    """Rows, columns, the diagonal, a reversed block, picked entries."""
    return np.concatenate([M[0], M[:, 1], np.diagonal(M),
                           np.ravel(M[1:, ::-1]), np.stack([M[2, 0], M[0, 2]]),
                           M[onp.array([0, 2, 2]), onp.array([1, 1, 0])]])


def linear_jacobian(f: Callable[[Any], Any], x: Any) -> Any:
    """The Jacobian of a *linear* f, column by column: f of each basis array.

    Runs f on plain NumPy arrays only, so it relies on NumPy's indexing, not
    on any derivative rule.
    """
    columns = [onp.asarray(f(e.reshape(x.shape))) for e in onp.eye(x.size)]
    return onp.moveaxis(onp.array(columns), 0, -1).reshape(
        columns[0].shape + x.shape)


def product_jacobian(x: Any) -> Any:
    # out = [x1 x0, x2 x1, x0, x2^2, x0, x2, x2]
    x0, x1, x2 = x
    return onp.array([[x1, x0, 0], [0, x2, x1], [1, 0, 0], [0, 0, 2 * x2],
                      [1, 0, 0], [0, 0, 1], [0, 0, 1]], dtype=float)


def newton_sqrt(a: Any) -> Any:
    """sqrt(a) by Newton's method: a loop whose length depends on the value."""
    x = a
    while np.abs(x * x - a) > 1e-15 * a:
        x = 0.5 * (x + a / x)
    return x


@dataclass(frozen=True)
class Case:
    """A function, a point and its derivatives in closed form.

    ``jacobian`` gives the Jacobian (the gradient, for a scalar output) in
    diffkit's layout; ``hessian`` (scalar outputs) the Hessian, or None to
    compare the methods with each other only.  ``symbolic`` and
    ``complex_step`` are None where those apply, else a phrase that the
    ``dk.NotApplicable`` message must contain: the reason.
    """

    name: str
    f: Callable[[Any], Any]
    x: Any
    jacobian: Callable[[Any], Any]
    hessian: Callable[[Any], Any] | None = None
    symbolic: str | None = None
    complex_step: str | None = None

    @property
    def scalar(self) -> bool:
        return onp.ndim(self.f(self.x)) == 0


X3 = onp.array([0.7, -1.3, 0.4])  # no zeros, and no ties with cos(X3)

CASES = [
    Case("rosenbrock", rosenbrock, onp.array([0.3, -1.2, 0.8, 2.0]),
         rosenbrock_grad, rosenbrock_hessian),
    Case("logsumexp", lambda x: np.log(np.sum(np.exp(x))), X3, softmax,
         softmax_jacobian),
    Case("logsumexp primitive", lambda x: np.logsumexp(x), X3, softmax,
         softmax_jacobian),
    Case("softmax", lambda z: np.exp(z - np.logsumexp(z)), X3, softmax_jacobian),
    Case("softmax cross-entropy", cross_entropy,
         onp.array([[0.2, -1.0, 0.5], [1.0, 0.3, -0.4]]),
         lambda z: softmax(z) - ONE_HOT, cross_entropy_hessian),
    Case("tanh MLP loss (dict)", mlp_loss, MLP_PARAMS, mlp_grad),
    Case("tanh MLP predictions (dict)", mlp_predictions, MLP_PARAMS, mlp_jacobian),
    Case("x.T @ A @ x", lambda x: x.T @ A @ x, X3, lambda x: (A + A.T) @ x,
         lambda x: A + A.T),
    Case("det 3x3", np.linalg.det, A,
         lambda M: onp.linalg.det(M) * onp.linalg.inv(M).T, det_hessian),
    Case("inv 3x3", np.linalg.inv, A, inv_jacobian),
    Case("2-norm", np.linalg.norm, X3, lambda x: x / onp.linalg.norm(x),
         lambda x: (onp.eye(3) - onp.outer(x, x) / (x @ x)) / onp.linalg.norm(x),
         complex_step="'norm', which is not complex-analytic"),
    Case("Frobenius norm", np.linalg.norm, A, lambda M: M / onp.linalg.norm(M),
         complex_step="not complex-analytic"),
    Case("1-norm", lambda x: np.sum(np.abs(x)), X3, onp.sign,
         lambda x: onp.zeros((3, 3)),
         complex_step="'abs', which is not complex-analytic"),
    Case("where", lambda x: np.sum(np.where(x > 0, x ** 2, np.sin(x))), X3,
         lambda x: onp.where(x > 0, 2 * x, onp.cos(x)),
         lambda x: onp.diag(onp.where(x > 0, 2.0, -onp.sin(x)))),
    Case("maximum (tuple input)", lambda ab: np.maximum(ab[0], ab[1]),
         (X3, onp.cos(X3)),
         lambda ab: (onp.diag((ab[0] > ab[1]) * 1.0),
                     onp.diag((ab[0] < ab[1]) * 1.0))),
    Case("slices, products, stack", lambda x: np.concatenate(
        [x[1:] * x[:-1], np.stack([x[0], x[-1] ** 2]), x[::2], x[2:]]),
        X3, product_jacobian),
    Case("indexing and concatenate", structural, A,
         lambda M: linear_jacobian(structural, M)),
    Case("reshape, transpose, sum over axes", lambda M: np.sum(
        np.reshape(M.T, (9,))[::2] ** 2), A,
        lambda M: 2 * M * (onp.arange(9).reshape(3, 3).T % 2 == 0),
        lambda M: onp.diag(2.0 * (onp.arange(9).reshape(3, 3).T % 2 == 0).ravel()
                           ).reshape(3, 3, 3, 3)),
    Case("Newton's sqrt (value-dependent loop)", newton_sqrt, 2.0,
         lambda a: 0.5 / math.sqrt(a), lambda a: -0.25 / a ** 1.5,
         symbolic="branches on a value", complex_step="'abs'"),
    Case("largest eigenvalue", lambda M: np.linalg.eigvalsh((M + M.T) / 2)[-1],
         SYM, lambda M: onp.outer(*[onp.linalg.eigh(M)[1][:, -1]] * 2),
         symbolic="no closed form", complex_step="not complex-analytic"),
]
CASE_IDS = [c.name for c in CASES]

# method -> tolerance against the closed form, relative to its size
JACOBIAN_METHODS = {"forward": 1e-10, "reverse": 1e-10, "symbolic": 1e-10,
                    "central": 1e-5, "complex-step": 1e-10, "richardson": 1e-8}


def jacobian_by(method: str, f: Callable[[Any], Any], x: Any) -> Any:
    """The Jacobian by a method or a finite-difference scheme."""
    if method == "central":  # the default scheme of method="finite"
        method = "finite"
    if method in SCHEMES:
        return finite.value_and_jacobian(f, x, scheme=method)[1]
    return dk.jacobian(f, method=method)(x)


@pytest.mark.parametrize("method", JACOBIAN_METHODS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_named_function_jacobians(case, method):
    """Every method against the closed form (or says why it cannot apply)."""
    reason = {"symbolic": case.symbolic, "complex-step": case.complex_step}.get(method)
    if reason is not None:
        with pytest.raises(dk.NotApplicable, match=reason):
            jacobian_by(method, case.f, case.x)
        return
    expected = case.jacobian(case.x)
    tol = JACOBIAN_METHODS[method]
    scale = size_of(case.f(case.x))
    jac = jacobian_by(method, case.f, case.x)
    assert_agree(jac, expected, tol, f"{method} Jacobian of {case.name}", scale)
    if case.scalar and method in (*METHODS, "central"):
        grad = dk.grad(case.f, method="finite" if method == "central" else method)
        assert_agree(grad(case.x), expected, tol,
                     f"{method} gradient of {case.name}", scale)
    # And against reverse mode directly: the methods agree with each other.
    assert_agree(jac, jacobian_by("reverse", case.f, case.x), tol,
                 f"{method} vs reverse Jacobian of {case.name}", scale)


HESSIAN_METHODS = {"forward-over-reverse": 1e-10, "reverse": 1e-10,
                   "forward": 1e-10, "symbolic": 1e-10, "finite": 1e-4}
SCALAR_CASES = [c for c in CASES if c.scalar]


@pytest.mark.parametrize("method", HESSIAN_METHODS)
@pytest.mark.parametrize("case", SCALAR_CASES, ids=[c.name for c in SCALAR_CASES])
def test_named_function_hessians(case, method):
    if method == "symbolic" and case.symbolic is not None:
        with pytest.raises(dk.NotApplicable, match=case.symbolic):
            dk.hessian(case.f, method=method)(case.x)
        return
    H = dk.hessian(case.f, method=method)(case.x)
    reference = (case.hessian(case.x) if case.hessian is not None
                 else dk.hessian(case.f)(case.x))
    scale = size_of(case.f(case.x))
    assert_agree(H, reference, HESSIAN_METHODS[method],
                 f"{method} Hessian of {case.name}", scale)


def test_complex_inputs_agree():
    """A holomorphic f: f'(z) by every method; a real f of z: autograd's convention.

    For real-valued f the gradient is ``df/dx - i df/dy`` (the gradient of
    ``|z|**2`` is ``2 conj(z)``), here ``cos(z) conj(z) + conj(sin(z))`` for
    ``f = Re(sin(z) conj(z))``.  SymPy differentiates holomorphic functions
    only, and says so for the other.
    """
    z = 1.0 + 2.0j
    holomorphic = lambda z: np.sin(z) * np.exp(z)  # noqa: E731
    exact = (cmath.cos(z) + cmath.sin(z)) * cmath.exp(z)
    for method in ALL_METHODS:
        tol = 1e-8 if method == "finite" else 1e-12
        assert_agree(dk.derivative(holomorphic, z, method=method), exact, tol,
                     f"{method} derivative of sin(z) exp(z)")
    real = lambda z: np.real(np.sin(z) * np.conj(z))  # noqa: E731
    exact = cmath.cos(z) * z.conjugate() + cmath.sin(z).conjugate()
    for method in ("finite", "forward", "reverse"):
        tol = 1e-8 if method == "finite" else 1e-12
        assert_agree(dk.grad(real, method=method)(z), exact, tol,
                     f"{method} gradient of Re(sin(z) conj(z))")
    with pytest.raises(dk.NotApplicable, match="not complex-differentiable"):
        dk.grad(real, method="symbolic")(z)


# --- 3. nested derivatives, method over method ----------------------------------------

def nested_tolerance(*methods: str) -> float:
    """Exact methods nest exactly; each finite difference costs digits."""
    return {0: 1e-12, 1: 1e-8, 2: 1e-4}[sum(m == "finite" for m in methods)]


@pytest.mark.parametrize("inner", ALL_METHODS)
@pytest.mark.parametrize("outer", ALL_METHODS)
def test_second_derivative_method_over_method(outer, inner):
    """grad(grad(f, inner), outer) for f = sin(x) exp(x): f'' = 2 cos(x) exp(x)."""
    d2 = dk.grad(dk.grad(lambda x: np.sin(x) * np.exp(x), method=inner),
                 method=outer)
    if (outer, inner) == ("symbolic", "finite"):
        # The finite-difference step is chosen from |x|, which a symbolic x
        # does not have: the symbolic method says so instead of guessing.
        with pytest.raises(dk.NotApplicable,
                           match="finite-difference derivative cannot be"):
            d2(0.7)
        return
    assert_agree(d2(0.7), 2 * math.cos(0.7) * math.exp(0.7),
                 nested_tolerance(outer, inner), f"{outer} over {inner}")


NESTED_PAIRS = [("forward", "reverse"), ("reverse", "forward"),
                ("finite", "reverse"), ("reverse", "finite"),
                ("forward", "forward"), ("reverse", "reverse"),
                ("symbolic", "reverse"), ("forward", "symbolic")]


@pytest.mark.parametrize(("outer", "inner"), NESTED_PAIRS)
def test_hessian_as_jacobian_of_gradient(outer, inner):
    """The Rosenbrock Hessian, two methods deep, against its closed form."""
    x = onp.array([0.3, -1.2, 0.8, 2.0])
    H = dk.jacobian(dk.grad(rosenbrock, method=inner), method=outer)(x)
    assert_agree(H, rosenbrock_hessian(x), nested_tolerance(outer, inner),
                 f"{outer} over {inner}", scale=size_of(rosenbrock(x)))


@pytest.mark.parametrize("methods", [("forward", "reverse", "forward"),
                                     ("reverse", "forward", "reverse"),
                                     ("reverse", "reverse", "symbolic"),
                                     ("finite", "forward", "reverse")])
def test_third_derivative_three_methods_deep(methods):
    """d^3/dx^3 exp(x) sin(x) = 2 exp(x) (cos(x) - sin(x)), a method per level."""
    f: Callable[..., Any] = lambda x: np.exp(x) * np.sin(x)  # noqa: E731
    for method in reversed(methods):
        f = dk.grad(f, method=method)
    assert_agree(f(0.4), 2 * math.exp(0.4) * (math.cos(0.4) - math.sin(0.4)),
                 nested_tolerance(*methods), " over ".join(methods))


def test_hvp_and_jvp_of_grad_match_the_hessian():
    x = onp.array([0.3, -1.2, 0.8, 2.0])
    v = onp.array([1.0, -2.0, 0.5, 0.25])
    expected = rosenbrock_hessian(x) @ v
    assert_agree(dk.hvp(rosenbrock)(x, v), expected, 1e-12, "hvp")
    _, hv = dk.jvp(dk.grad(rosenbrock, method="forward"), (x,), (v,))
    assert_agree(hv, expected, 1e-12, "jvp of forward grad")
    _, pullback = dk.vjp(dk.grad(rosenbrock), x)
    assert_agree(pullback(v)[0], expected, 1e-12, "vjp of reverse grad (H symmetric)")


# Perturbation confusion (Siskind & Pearlmutter): an inner derivative must not
# mistake the outer derivative's perturbation of x for its own.  Each case is
# d/dx of something built from an inner derivative whose function closes over
# x; the right answers come by hand.
D = dk.derivative
CONFUSION = {
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1, at x = 1 (a confused tool says 2)
    "x * D(y -> x + y)": (
        lambda inner: lambda x: x * D(lambda y: x + y, 1.0, method=inner),
        1.0, lambda x: 1.0),
    # d/dx [x * d/dy (x y)] = d/dx x^2 = 2x
    "x * D(y -> x y)": (
        lambda inner: lambda x: x * D(lambda y: x * y, 1.0, method=inner),
        3.0, lambda x: 2 * x),
    # d/dx [d/dy (x y^2) at y = x] = d/dx 2x^2 = 4x: the inner point is x itself
    "D(y -> x y^2)(x)": (
        lambda inner: lambda x: D(lambda y: x * y ** 2, x, method=inner),
        1.5, lambda x: 4 * x),
    # d/dx [d/dy sin(x + y) at y = x] = d/dx cos(2x) = -2 sin(2x)
    "D(y -> sin(x + y))(x)": (
        lambda inner: lambda x: D(lambda y: np.sin(x + y), x, method=inner),
        0.6, lambda x: -2 * math.sin(2 * x)),
    # Two levels of closure: d/dx [x * d/dy [y * d/dz (x + y + z)]] = 1
    "x * D(y -> y * D(z -> x + y + z))": (
        lambda inner: lambda x: x * D(
            lambda y: y * D(lambda z: x + y + z, 1.0, method=inner), 1.0,
            method=inner),
        2.0, lambda x: 1.0),
}


@pytest.mark.parametrize("case", CONFUSION)
@pytest.mark.parametrize("inner", AD)
@pytest.mark.parametrize("outer", AD)
def test_no_perturbation_confusion(outer, inner, case):
    make, x, exact = CONFUSION[case]
    assert_agree(D(make(inner), x, method=outer), exact(x), 1e-14,
                 f"{case}, {outer} over {inner}")


@pytest.mark.parametrize("case", CONFUSION)
@pytest.mark.parametrize("other", ("finite", "symbolic"))
def test_no_perturbation_confusion_with_the_other_methods(other, case):
    """Finite differences nest either way round; symbolic only on the outside.

    The symbolic method traces its own inputs: an inner symbolic derivative
    of a function that closes over the outer x says that it cannot see it.
    """
    make, x, exact = CONFUSION[case]
    tol = 1e-6 if other == "finite" else 1e-14
    for outer, inner in ((other, "reverse"), (other, "forward")):
        assert_agree(D(make(inner), x, method=outer), exact(x), tol,
                     f"{case}, {outer} over {inner}")
    if other == "finite":
        assert_agree(D(make("finite"), x, method="reverse"), exact(x), tol,
                     f"{case}, reverse over finite")
    else:
        with pytest.raises(dk.NotApplicable, match="traced by another derivative"):
            D(make("symbolic"), x, method="reverse")


# Every derivative operator used inside a function that another method
# differentiates, closing over that method's x.  (name -> inner function of
# x, point, exact outer derivative.)
X2 = onp.array([0.5, 2.0])
THROUGH_OPERATORS = {
    # jvp of y -> x y along 1 is x, times x: d/dx x^2 = 2x
    "jvp": (lambda x: dk.jvp(lambda y: x * y, (1.0,), (1.0,))[1] * x,
            3.0, lambda x: 2 * x),
    # the vjp of y -> x y^2 at y = 2 is 4x, times x: d/dx 4x^2 = 8x
    "vjp": (lambda x: dk.vjp(lambda y: x * y ** 2, 2.0)[1](1.0)[0] * x,
            3.0, lambda x: 8 * x),
    # the Hessian of y -> sum(x y^3) at y = 1 is diag(6x): grad of its sum is 6
    "hessian": (lambda x: np.sum(dk.hessian(lambda y: np.sum(x * y ** 3))(
        onp.ones(2))), X2, lambda x: onp.full(2, 6.0)),
    # H v for v = e0: (6 x0, 0); the sum's gradient is (6, 0)
    "hvp": (lambda x: np.sum(dk.hvp(lambda y: np.sum(x * y ** 3))(
        onp.ones(2), onp.array([1.0, 0.0]))), X2, lambda x: onp.array([6.0, 0.0])),
    # d/dy sin(x y) at y = 1 is x cos(x), elementwise; summed: cos x - x sin x
    "elementwise_grad": (lambda x: np.sum(dk.elementwise_grad(
        lambda y: np.sin(x * y))(onp.ones(2))), X2,
        lambda x: onp.cos(x) - x * onp.sin(x)),
}


@pytest.mark.parametrize("operator", THROUGH_OPERATORS)
@pytest.mark.parametrize("outer", ALL_METHODS)
def test_no_perturbation_confusion_through_every_operator(outer, operator):
    f, x, exact = THROUGH_OPERATORS[operator]
    tol = 1e-8 if outer == "finite" else 1e-13
    assert_agree(dk.grad(f, method=outer)(x), exact(x), tol,
                 f"{outer} over dk.{operator}")


def test_no_perturbation_confusion_with_arrays():
    """grad_x sum(x * grad_y sum(x * y)) = grad_x sum(x * x) = 2x, every AD pair."""
    x = onp.array([0.5, -1.0, 2.0])
    for outer in AD:
        for inner in AD:
            f = lambda x: np.sum(x * dk.grad(  # noqa: E731
                lambda y: np.sum(x * y), method=inner)(onp.ones(3)))
            assert_agree(dk.grad(f, method=outer)(x), 2 * x, 1e-14,
                         f"{outer} over {inner}")


# --- stop_gradient: a constant to every method ----------------------------------------

SG = dk.stop_gradient


@pytest.mark.parametrize("scheme", finite.SCHEMES)
def test_stop_gradient_is_a_constant_to_every_finite_scheme(scheme):
    """Regression: finite differences moved the stopped value with x.

    ``x * stop_gradient(x) + stop_gradient(x**3)`` is ``x * c1 + c2``: its
    derivative at 3 is ``c1 = 3``.  Every AD and symbolic method said 3, the
    finite method 27 (the derivative of ``x**2 + x**3``).
    """
    f = lambda x: x * SG(x) + SG(x ** 3)  # noqa: E731
    for method in METHODS:
        assert dk.derivative(f, 3.0, method=method) == 3.0
    assert_agree(dk.derivative(f, 3.0, method="finite", scheme=scheme), 3.0,
                 SCHEMES.get(scheme, 1e-5), f"{scheme} derivative")


def test_stop_gradient_in_hessians_and_check_grads():
    """``sum(x**2 * c)`` with ``c = stop_gradient(x)``: H = diag(2c), by every method.

    ``dk.check_grads`` compares AD with finite differences, so it must hold
    the stopped values fixed too (it reported a mismatch before).
    """
    f = lambda x: np.sum(x ** 2 * SG(x))  # noqa: E731
    x = onp.array([0.5, -1.0, 2.0])
    for method in ("forward-over-reverse", "reverse", "forward", "symbolic"):
        assert_agree(dk.hessian(f, method=method)(x), onp.diag(2 * x), 1e-14, method)
    assert_agree(dk.hessian(f, method="finite")(x), onp.diag(2 * x), 1e-6, "finite")
    dk.check_grads(f, x, order=2)
    dk.check_grads(lambda x: np.sin(x) * SG(np.exp(x)), x, order=2)


@pytest.mark.parametrize("inner", ALL_METHODS)
@pytest.mark.parametrize("outer", ALL_METHODS)
def test_stop_gradient_under_nesting(outer, inner):
    """d2/dx2 of ``x**3 * c``, ``c = stop_gradient(x)``, is ``6 x c = 6 x**2``.

    The stopped value is a constant to the outer derivative as well: JAX and
    autograd give 6 x**2 = 13.5 at x = 1.5.  Regression: with the symbolic
    method inside, every outer method gave 9 x**2 = 20.25 -- the symbolic
    derivative replaced its stand-in for c by c's formula in x before
    compiling, and the outer method differentiated through it.
    """
    d2 = dk.grad(dk.grad(lambda x: x ** 3 * SG(x), method=inner), method=outer)
    if outer == "symbolic" and inner == "finite":
        with pytest.raises(dk.NotApplicable,
                           match="finite-difference derivative cannot be"):
            d2(1.5)
        return
    assert_agree(d2(1.5), 6 * 1.5 ** 2, nested_tolerance(outer, inner),
                 f"{outer} over {inner}")


def test_stop_gradient_finite_refuses_control_flow_it_cannot_replay():
    """Where f calls stop_gradient at x but not at x - h, finite says so."""
    f = lambda x: (SG(x) if x >= 1.0 else 0.0) + x  # noqa: E731
    with pytest.raises(dk.NotApplicable, match="stop_gradient differently"):
        dk.derivative(f, 1.0, method="finite")


# --- 4. check_grads on every named function -------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_named_functions_pass_check_grads(case):
    dk.check_grads(case.f, case.x, order=2, modes=("forward", "reverse"))
