"""Every differentiable primitive, checked the same way, from one table.

For each primitive of ``diffkit.numpy`` (the tables of
``diffkit/numpy/_primitives.py`` and the primitives of
``diffkit.numpy.linalg``) the table ``CASES`` holds one or more calls at
well-conditioned random inputs of several shapes, broadcasting included.
Every case is

* checked against finite differences by ``dk.check_grads``, forward and
  reverse mode, to order 2;
* differentiated into a full Jacobian by forward mode (all directions in one
  batch, so the batched JVP rules are exercised) and by reverse mode, which
  must agree;
* turned into a scalar whose Hessian is computed forward-over-reverse and
  reverse-over-reverse, which must agree.

A primitive added to the tables without a case here fails
``test_every_primitive_has_rules_and_cases``.  The elementwise functions are
also compared with SymPy's derivatives of the same formula, evaluated with
30 significant digits.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as onp
import pytest
import sympy as sp

import diffkit as dk
import diffkit.numpy as np
from diffkit.numpy import _primitives, linalg
from diffkit.primitives import Primitive, VariadicRules

MODES = ("forward", "reverse")


def rand(*shape: int, lo: float = -1.0, hi: float = 1.0, seed: int = 0) -> Any:
    """Reproducible uniform values in ``[lo, hi]``."""
    values = onp.random.default_rng(seed + 7 * len(shape)).uniform(lo, hi, shape)
    return values[()] if not shape else values


def away(*shape: int, seed: int = 0) -> Any:
    """Random signs, magnitudes in [0.4, 1.5]: away from kinks at 0."""
    mag = rand(*shape, lo=0.4, hi=1.5, seed=seed)
    return mag * onp.where(rand(*shape, seed=seed + 1) < 0, -1.0, 1.0)


def spd(n: int, seed: int = 0, batch: tuple = ()) -> Any:
    """A well-conditioned symmetric positive definite matrix (or stack)."""
    m = rand(*batch, n, n, seed=seed)
    return m @ onp.swapaxes(m, -1, -2) + n * onp.eye(n)


def distinct_symmetric(n: int, seed: int = 0) -> Any:
    """A symmetric matrix with well-separated eigenvalues 1, 2, ..., n."""
    q, _ = onp.linalg.qr(rand(n, n, seed=seed))
    return (q * onp.arange(1.0, n + 1)) @ q.T


# --- the table ---------------------------------------------------------------------
class Case:
    """``fun(*args)``: one call of a primitive at differentiable inputs."""

    def __init__(self, name: str, fun: Callable[..., Any], *args: Any,
                 label: str = "") -> None:
        self.name, self.fun, self.args, self.label = name, fun, args, label

    def __repr__(self) -> str:
        shapes = ",".join(str(onp.shape(a)) for a in self.args)
        return f"{self.name}[{self.label or shapes}]"


CASES: dict[str, list[Case]] = {}


def case(name: str, fun: Callable[..., Any], *args: Any, label: str = "") -> None:
    CASES.setdefault(name, []).append(Case(name, fun, *args, label=label))


# Elementwise functions of one argument: the inputs lie inside the domain.
UNARY_DOMAIN = {
    "arcsin": (-0.9, 0.9), "arccos": (-0.9, 0.9), "arctanh": (-0.9, 0.9),
    "arccosh": (1.2, 3.0), "log": (0.3, 2.0), "log2": (0.3, 2.0),
    "log10": (0.3, 2.0), "log1p": (-0.5, 2.0), "sqrt": (0.3, 2.0),
    "cbrt": (0.3, 2.0), "reciprocal": (0.3, 2.0), "angle": (0.3, 2.0),
    "tan": (-1.2, 1.2), "sinc": (-1.5, 1.5),
}
KINKED = {"absolute", "fabs"}  # keep clear of x = 0

for name in _primitives.UNARY:
    prim = getattr(np, name)
    lo, hi = UNARY_DOMAIN.get(name, (-1.5, 1.5))
    for shape in [(), (3,), (2, 3)]:
        x = away(*shape, seed=1) if name in KINKED else rand(*shape, lo=lo, hi=hi)
        case(name, prim, x)

# Elementwise functions of two arguments, also broadcast against each other.
BINARY_DOMAIN: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "true_divide": (rand, lambda *s: rand(*s, lo=0.5, hi=2.0, seed=3)),
    "power": (lambda *s: rand(*s, lo=0.5, hi=2.0), rand),
    "float_power": (lambda *s: rand(*s, lo=0.5, hi=2.0), rand),
    "hypot": (away, lambda *s: away(*s, seed=5)),
    "arctan2": (away, lambda *s: away(*s, seed=5)),
    # x / y stays well inside one branch of floor and trunc
    "remainder": (lambda *s: rand(*s, lo=2.1, hi=2.4),
                  lambda *s: rand(*s, lo=0.9, hi=1.0, seed=3)),
    "fmod": (lambda *s: rand(*s, lo=2.1, hi=2.4),
             lambda *s: rand(*s, lo=0.9, hi=1.0, seed=3)),
}
for name in _primitives.BINARY:
    prim = getattr(np, name)
    first, second = BINARY_DOMAIN.get(name, (rand, lambda *s: rand(*s, seed=9)))
    for sx, sy in [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((), (2, 3)),
                   ((2, 1), (1, 3))]:
        case(name, prim, first(*sx), second(*sy))

# Reductions.
X23, X234 = rand(2, 3), rand(2, 3, 4)
for name in ("sum", "mean", "max", "min", "var", "std", "prod"):
    prim = getattr(np, name)
    x = away(2, 3, seed=2) if name == "prod" else X23
    case(name, prim, x)
    case(name, lambda x, p=prim: p(x, axis=1), x, label="axis=1")
    case(name, lambda x, p=prim: p(x, axis=0, keepdims=True), x, label="keepdims")
    case(name, lambda x, p=prim: p(x, axis=(0, 2)), away(2, 3, 4), label="axes")
case("var", lambda x: np.var(x, axis=1, ddof=1), X23, label="ddof")
case("std", lambda x: np.std(x, ddof=1), X23, label="ddof")
case("cumsum", np.cumsum, X23)
case("cumsum", lambda x: np.cumsum(x, axis=0), X23, label="axis=0")
case("cumsum", lambda x: np.cumsum(x, axis=-1), X234, label="axis=-1")
case("cumprod", np.cumprod, away(2, 3))
case("cumprod", lambda x: np.cumprod(x, axis=1), away(2, 3), label="axis=1")
case("cumprod", lambda x: np.cumprod(x, axis=0), away(3, 2, 2), label="axis=0")

# Shapes.
case("reshape", lambda x: np.reshape(x, (3, 2)), X23)
case("reshape", lambda x: np.reshape(x, (2, -1)), rand(6), label="-1")
case("transpose", np.transpose, X234)
case("transpose", lambda x: np.transpose(x, (1, 2, 0)), X234, label="axes")
case("moveaxis", lambda x: np.moveaxis(x, 0, -1), X234)
case("moveaxis", lambda x: np.moveaxis(x, (0, 1), (2, 0)), X234, label="tuples")
case("swapaxes", lambda x: np.swapaxes(x, 0, 2), X234)
case("broadcast_to", lambda x: np.broadcast_to(x, (2, 3)), rand(3))
case("broadcast_to", lambda x: np.broadcast_to(x, (4, 2, 3)), rand(2, 1),
     label="(2,1)->(4,2,3)")
case("expand_dims", lambda x: np.expand_dims(x, 1), X23)
case("expand_dims", lambda x: np.expand_dims(x, (0, -1)), X23, label="axes")
case("squeeze", np.squeeze, rand(2, 1, 3))
case("squeeze", lambda x: np.squeeze(x, axis=1), rand(2, 1, 1), label="axis=1")
case("ravel", np.ravel, X234)
case("flip", np.flip, X23)
case("flip", lambda x: np.flip(x, 1), X234, label="axis=1")
case("roll", lambda x: np.roll(x, 2), X23)
case("roll", lambda x: np.roll(x, -1, axis=1), X23, label="axis=1")
case("roll", lambda x: np.roll(x, (1, -1), axis=(0, 1)), X23, label="tuples")
case("tile", lambda x: np.tile(x, 2), X23)
case("tile", lambda x: np.tile(x, (2, 1, 2)), X23, label="reps>ndim")
case("tile", lambda x: np.tile(x, (2, 2)), rand(3), label="1-d")
case("repeat", lambda x: np.repeat(x, 2), X23)
case("repeat", lambda x: np.repeat(x, 2, axis=0), X23, label="axis=0")
case("repeat", lambda x: np.repeat(x, [1, 3, 2], axis=-1), X23, label="uneven")
case("diagonal", np.diagonal, rand(3, 4))
case("diagonal", lambda x: np.diagonal(x, 1), rand(3, 4), label="offset=1")
case("diagonal", lambda x: np.diagonal(x, -1, 2, 0), rand(3, 2, 4),
     label="offset=-1,axes=(2,0)")
case("diag", np.diag, rand(3))
case("diag", lambda x: np.diag(x, -1), rand(3), label="k=-1")
case("diag", lambda x: np.diag(x, 1), rand(3, 4), label="matrix,k=1")
case("triu", np.triu, rand(3, 3))
case("triu", lambda x: np.triu(x, 1), rand(2, 3, 4), label="stack,k=1")
case("tril", np.tril, rand(3, 3))
case("tril", lambda x: np.tril(x, -1), rand(2, 3, 4), label="stack,k=-1")
case("trace", np.trace, rand(3, 3))
case("trace", lambda x: np.trace(x, 1), rand(3, 4), label="offset=1")
case("trace", lambda x: np.trace(x, 0, 1, 2), rand(2, 3, 3), label="axes=(1,2)")
case("rot90", np.rot90, X23)
case("rot90", lambda x: np.rot90(x, 2, axes=(1, 0)), X23, label="k=2")
case("rot90", lambda x: np.rot90(x, 3, axes=(1, 2)), X234, label="k=3")
case("pad", lambda x: np.pad(x, ((1, 0), (2, 1))), X23)
case("pad", lambda x: np.pad(x, 1, constant_values=3.0), X23, label="value=3")
for mode in ("edge", "reflect", "symmetric", "wrap"):
    case("pad", lambda x, m=mode: np.pad(x, ((1, 2), (2, 1)), mode=m), X23,
         label=mode)
case("atleast_1d", np.atleast_1d, rand())
case("atleast_2d", np.atleast_2d, rand(3))
case("atleast_3d", np.atleast_3d, X23)
case("nan_to_num", np.nan_to_num, X23)

# Sorting and indexing.
case("sort", np.sort, rand(5))
case("sort", lambda x: np.sort(x, axis=0), rand(4, 3), label="axis=0")
case("sort", lambda x: np.sort(x, axis=None), X23, label="axis=None")
case("partition", lambda x: np.partition(x, 2), rand(5))
case("partition", lambda x: np.partition(x, (1, 3), axis=1), rand(2, 5),
     label="kth=(1,3)")
case("take", lambda x: np.take(x, [0, 2, 2], axis=1), X23)
case("take", lambda x: np.take(x, [[0, 5], [5, 1]]), X23, label="flat")
case("take", lambda x: np.take(x, [-1, 4], axis=0, mode="wrap"), rand(3),
     label="wrap")
ORDER = onp.argsort(rand(2, 3, seed=4), axis=1)
case("take_along_axis", lambda x: np.take_along_axis(x, ORDER, axis=1), X23)
case("take_along_axis", lambda x: np.take_along_axis(x, onp.array([[1, 0, 1]]), 0),
     X23, label="broadcast")
case("take_along_axis", lambda x: np.take_along_axis(x, onp.array([4, 0, 4]), None),
     X23, label="axis=None")
MASK = rand(2, 3, seed=5) > 0
case("getitem", lambda x: x[1], X23, label="x[1]")
case("getitem", lambda x: x[:, ::-1], X23, label="x[:, ::-1]")
case("getitem", lambda x: x[[0, 0, 1]], X23, label="x[[0, 0, 1]]")
case("getitem", lambda x: x[MASK], X23, label="x[mask]")
case("getitem", lambda x: x[..., None, 1:], X23, label="x[..., None, 1:]")
case("getitem", lambda x: x[1:, [2, 0, 2]], X23, label="x[1:, [2, 0, 2]]")
case("untake", lambda g: np.untake(g, onp.array([0, 2, 0]), (4,)), rand(3))
case("untake", lambda g: np.untake(g, (slice(None), [1, 1]), (2, 3)), rand(2, 2),
     label="repeated columns")
case("where", lambda x, y: np.where(MASK, x, y), X23, rand(2, 3, seed=1))
case("where", lambda x, y: np.where(MASK, x, y), rand(3), rand(2, 1, seed=1),
     label="broadcast")
case("clip", lambda x: np.clip(x, -0.5, 0.5), away(2, 3) * 0.8)
case("clip", lambda x, lo, hi: np.clip(x, lo, hi), rand(2, 3),
     onp.array([-0.8, 0.6, -0.2]), onp.array([0.9, 0.8, -0.1]), label="traced bounds")
case("concatenate", lambda a, b: np.concatenate([a, b], axis=1), X23, rand(2, 1))
case("concatenate", lambda a, b: np.concatenate([a, b], axis=None), X23, rand(2),
     label="axis=None")

# Products.
for sa, sb in [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)),
               ((), (3,)), ((2, 3), ()), ((2, 3, 4), (4, 2)), ((2, 3), (2, 3, 4)),
               ((2, 2, 3), (4, 3, 2))]:
    case("dot", np.dot, rand(*sa), rand(*sb, seed=1))
for sa, sb in [((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)),
               ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 1, 3, 3), (2, 3, 2)),
               ((2, 3, 4), (4,))]:
    case("matmul", np.matmul, rand(*sa), rand(*sb, seed=1))
case("tensordot", np.tensordot, X234, rand(3, 4, 2, seed=1))
case("tensordot", lambda a, b: np.tensordot(a, b, ([0], [1])), rand(3, 2),
     rand(4, 3, seed=1), label="axes=([0],[1])")
case("tensordot", lambda a, b: np.tensordot(a, b, 0), rand(2), rand(3, seed=1),
     label="axes=0")
case("tensordot", lambda a, b: np.tensordot(a, b, ((2, 0), (0, 1))), X234,
     rand(4, 2, 3, seed=1), label="axes=((2,0),(0,1))")
for subscripts, shapes in [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("i,i", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("bii->b", [(2, 3, 3)]),
    ("iij,j", [(2, 2, 3), (3,)]),
    ("ijk,k", [(2, 3, 4), (4,)]),
    ("i...,i...->...", [(3, 1, 2), (3, 4, 1)]),
    ("ab,b,a->", [(2, 3), (3,), (2,)]),
]:
    operands = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    case("einsum", functools.partial(np.einsum, subscripts), *operands,
         label=subscripts)

# Linear algebra.
A3 = rand(3, 3, seed=2) + 3 * onp.eye(3)
case("inv", linalg.inv, A3)
case("inv", linalg.inv, rand(2, 3, 3, seed=2) + 3 * onp.eye(3), label="stack")
case("det", linalg.det, A3)
case("det", linalg.det, rand(2, 3, 3, seed=2) + 3 * onp.eye(3), label="stack")
case("logabsdet", linalg.logabsdet, A3)
case("logabsdet", linalg.logabsdet, -A3, label="negative det")
case("solve", linalg.solve, A3, rand(3, seed=1), label="vector")
case("solve", linalg.solve, A3, rand(3, 2, seed=1), label="matrix")
case("solve", linalg.solve, rand(2, 3, 3, seed=2) + 3 * onp.eye(3), rand(3, seed=1),
     label="stack,vector")
case("solve", linalg.solve, A3, rand(2, 3, 2, seed=1), label="broadcast b")
case("norm2", linalg.norm2, rand(4))
case("norm2", lambda x: linalg.norm2(x, axis=1, keepdims=True), X23, label="axis")
case("norm2", lambda x: linalg.norm2(x, axis=(0, 2)), X234, label="frobenius")
case("norm2", linalg.norm2, rand(3) + 1j * rand(3, seed=1), label="complex")
case("cholesky", linalg.cholesky, spd(3))
case("cholesky", lambda a: linalg.cholesky(a, upper=True), spd(3), label="upper")
case("cholesky", linalg.cholesky, spd(3, batch=(2,)), label="stack")
case("eigh_values", linalg.eigh_values, distinct_symmetric(3))
case("eigh_values", lambda a: linalg.eigh_values(a, UPLO="U"),
     distinct_symmetric(4), label="UPLO=U")


def _fixed_sign(v: Any) -> Any:
    """Eigenvectors with the sign NumPy happens to pick made deterministic."""
    return v * np.sign(v[..., :1, :])


case("eigh_vectors", lambda a: _fixed_sign(linalg.eigh_vectors(a)),
     distinct_symmetric(3))
case("eigh_vectors", lambda a: _fixed_sign(linalg.eigh_vectors(a, UPLO="U")),
     distinct_symmetric(3, seed=1), label="UPLO=U")
case("pinv", linalg.pinv, A3)
case("pinv", linalg.pinv, rand(4, 2, seed=3), label="tall")
case("pinv", linalg.pinv, rand(2, 4, seed=3), label="wide")

# Decompositions.  Singular vectors come in pairs fixed up to a common sign:
# the cases fix the sign NumPy happens to pick, column by column of U, row by
# row of Vh, so that the functions are deterministic.
CPLX33 = rand(3, 3, seed=4) + 1j * rand(3, 3, seed=5)
case("svd_values", linalg.svd_values, rand(3, 3, seed=4))
case("svd_values", linalg.svd_values, rand(2, 4, 3, seed=4), label="stack,tall")
case("svd_values", linalg.svd_values, CPLX33, label="complex")
case("svd_values", lambda a: linalg.svd_values(a, hermitian=True),
     distinct_symmetric(3) + onp.triu(rand(3, 3, seed=6), 1), label="hermitian")
case("svd_u", lambda a: _fixed_sign(linalg.svd_u(a)), rand(3, 3, seed=4))
case("svd_u", lambda a: _fixed_sign(linalg.svd_u(a, full_matrices=False)),
     rand(2, 4, 3, seed=4), label="stack,thin tall")
case("svd_u", lambda a: _fixed_sign(linalg.svd_u(a, False)), rand(3, 4, seed=4),
     label="thin wide")
case("svd_vh", lambda a: _fixed_sign(np.swapaxes(linalg.svd_vh(a), -1, -2)),
     rand(3, 3, seed=4))
case("svd_vh", lambda a: _fixed_sign(np.swapaxes(linalg.svd_vh(a, False), -1, -2)),
     rand(2, 3, 4, seed=4), label="stack,thin wide")
case("svd_vh", lambda a: _fixed_sign(np.swapaxes(linalg.svd_vh(a, False), -1, -2)),
     rand(4, 3, seed=4), label="thin tall")


def _fixed_phase(v: Any) -> Any:
    """Eigenvectors with their largest component made real and positive."""
    largest = np.take_along_axis(v, np.argmax(np.abs(v), axis=-2)[..., None, :], -2)
    return v * np.conj(largest) / np.abs(largest)


# A complex pair of eigenvalues and a real one; real eigenvalues 1, 2, 3.
NONSYM = onp.array([[1.0, -2.0, 0.0], [1.5, 1.0, 0.0], [0.0, 0.0, 3.0]]) \
    + 0.3 * rand(3, 3, seed=7)
SKEWED = rand(3, 3, seed=9) + 2 * onp.eye(3)
REAL_EIG = SKEWED @ onp.diag([1.0, 2.0, 3.0]) @ onp.linalg.inv(SKEWED)
case("eig_values", linalg.eig_values, NONSYM)
case("eig_values", linalg.eig_values, rand(2, 3, 3, seed=8), label="stack")
case("eig_values", linalg.eig_values, CPLX33, label="complex")
case("eig_values", linalg.eig_values, REAL_EIG, label="real eigenvalues")
case("eig_vectors", lambda a: _fixed_phase(linalg.eig_vectors(a)), NONSYM)
case("eig_vectors", lambda a: _fixed_phase(linalg.eig_vectors(a)), CPLX33,
     label="complex")
case("eig_vectors", lambda a: _fixed_sign(linalg.eig_vectors(a)), REAL_EIG,
     label="real eigenvalues")
case("qr_q", linalg.qr_q, rand(4, 3, seed=10))
case("qr_q", linalg.qr_q, rand(2, 3, 5, seed=10), label="stack,wide")
case("qr_q", linalg.qr_q, CPLX33, label="complex")
case("qr_r", linalg.qr_r, rand(4, 3, seed=10))
case("qr_r", linalg.qr_r, rand(2, 3, 5, seed=10), label="stack,wide")
case("qr_r", linalg.qr_r, CPLX33, label="complex")
case("qr_r", lambda a: linalg.qr_r(a, mode="complete"), rand(4, 3, seed=10),
     label="complete")

# Functions of diffkit.numpy built from the primitives (no rules of their own).
case("vdot", np.vdot, X23, rand(2, 3, seed=1))
case("inner", np.inner, X23, rand(4, 3, seed=1))
case("inner", np.inner, rand(), rand(3, seed=1), label="scalar")
case("outer", np.outer, rand(2), rand(2, 2, seed=1))
case("kron", np.kron, X23, rand(2, 2, seed=1))
case("kron", np.kron, rand(2), rand(2, 3, seed=1), label="1-d with 2-d")
case("cross", np.cross, rand(3), rand(2, 3, seed=1))
case("cross", lambda a, b: np.cross(a, b, axis=0), rand(3, 2), rand(3, 2, seed=1),
     label="axis=0")
case("select", lambda x: np.select([x < -0.3, x < 0.4], [x ** 2, np.sin(x)], x),
     away(2, 3) * 0.9)
case("diff", np.diff, rand(5))
case("diff", lambda x: np.diff(x, n=2, axis=0, prepend=x[:1]), rand(4, 3),
     label="n=2,prepend")
case("flipud", np.flipud, X23)
case("fliplr", np.fliplr, X23)
case("rollaxis", lambda x: np.rollaxis(x, 2), X234)
case("append", np.append, X23, rand(2, seed=1))
case("array_split", lambda x: np.array_split(x, 3)[1] * np.array_split(x, 3)[0][0],
     rand(7))
case("full", lambda v: np.full((2, 3), v), rand())
case("linspace", lambda a, b: np.linspace(a, b, 4), rand(), rand(seed=1))
case("stack", lambda a, b: np.stack([a, b], axis=1), X23, rand(2, 3, seed=1))
case("hstack", lambda a, b: np.hstack([a, b]), rand(2), rand(3, seed=1))
case("vstack", lambda a, b: np.vstack([a, b]), rand(3), X23)
case("array", lambda a, b: np.array([a, b * a]), rand(), rand(seed=1))
case("logsumexp", np.logsumexp, X23)
case("logsumexp", lambda x: np.logsumexp(x, axis=1), X23, label="axis=1")
case("matrix_power", lambda a: np.linalg.matrix_power(a, 5), A3 / 3)
case("matrix_power", lambda a: np.linalg.matrix_power(a, -2), A3, label="n=-2")
case("slogdet", lambda a: np.linalg.slogdet(a)[1], A3)
case("multi_dot", lambda a, b, c: np.linalg.multi_dot([a, b, c]), X23, rand(3, 4),
     rand(4, seed=1))
for ord_ in (None, 1, -1, 2, -2, onp.inf, -onp.inf, "fro", "nuc", 3):
    if ord_ == 3:
        case("norm", lambda x: np.linalg.norm(x, 3), rand(4), label="vector ord=3")
    else:
        case("norm", lambda x, o=ord_: np.linalg.norm(x, o), A3, label=f"ord={ord_}")

COMPOSITES = {"vdot", "inner", "outer", "kron", "cross", "select", "diff", "flipud",
              "fliplr", "rollaxis", "append", "array_split", "full", "linspace",
              "stack", "hstack", "vstack", "array", "logsumexp", "matrix_power",
              "slogdet", "multi_dot", "norm"}
ALL_CASES = [c for cases in CASES.values() for c in cases]


def _primitives_to_test() -> dict[str, Primitive]:
    """Every differentiable primitive diffkit.numpy defines, by table name."""
    prims = {name: p for name, p in _primitives.PRIMITIVES.items() if p.differentiable}
    prims.update({name: p for name, p in vars(linalg).items()
                  if isinstance(p, Primitive)})
    return prims


def test_every_primitive_has_rules_and_cases():
    prims = _primitives_to_test()
    no_case = sorted(set(prims) - set(CASES))
    assert not no_case, f"add test cases to CASES for {no_case}"
    for name, prim in prims.items():
        variadic = isinstance(prim.vjps, VariadicRules)
        assert variadic == isinstance(prim.jvps, VariadicRules), name
        if not variadic:
            assert prim.vjps, f"{name} has no VJP rule"
            assert sorted(prim.vjps) == sorted(prim.jvps), (
                f"{name}: VJP rules for arguments {sorted(prim.vjps)} but JVP "
                f"rules for {sorted(prim.jvps)}")
    assert not set(CASES) - set(prims) - COMPOSITES


# --- the checks every case goes through --------------------------------------------
@pytest.mark.parametrize("c", ALL_CASES, ids=repr)
def test_check_grads_to_second_order(c):
    dk.check_grads(c.fun, *c.args, modes=MODES, order=2)


def _flat(c: Case) -> tuple[Callable[..., Any], Any]:
    """The case as a function of one real vector holding all its (real) inputs."""
    shapes = [onp.shape(a) for a in c.args]
    sizes = [int(onp.prod(s)) for s in shapes]

    def fun(x):
        args, start = [], 0
        for shape, size in zip(shapes, sizes, strict=True):
            args.append(np.reshape(x[start:start + size], shape))
            start += size
        return c.fun(*args)

    return fun, onp.concatenate([onp.ravel(a) for a in c.args])


REAL_CASES = [c for c in ALL_CASES if not any(onp.iscomplexobj(a) for a in c.args)]


@pytest.mark.parametrize("c", REAL_CASES, ids=repr)
def test_jacobian_forward_equals_reverse(c):
    fun, x = _flat(c)
    forward = dk.jacobian(fun, method="forward")(x)
    reverse = dk.jacobian(fun, method="reverse")(x)
    onp.testing.assert_allclose(forward, reverse, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("c", REAL_CASES, ids=repr)
def test_hessian_forward_over_reverse_equals_reverse_over_reverse(c):
    fun, x = _flat(c)
    out = onp.asarray(fun(x))
    weights = rand(*out.shape, seed=11) if out.ndim else 0.7

    def scalar(x):  # sin makes linear primitives give a nonzero Hessian too
        return np.sum(weights * np.sin(fun(x)))

    fwd_rev = dk.hessian(scalar)(x)
    rev_rev = dk.hessian(scalar, method="reverse")(x)
    onp.testing.assert_allclose(fwd_rev, rev_rev, rtol=1e-9, atol=1e-11)


# --- elementwise functions against SymPy -------------------------------------------
x_, y_ = sp.symbols("x y", real=True)

SYMPY_UNARY: dict[str, Any] = {
    "negative": -x_, "positive": x_, "sin": sp.sin(x_), "cos": sp.cos(x_),
    "tan": sp.tan(x_), "arcsin": sp.asin(x_), "arccos": sp.acos(x_),
    "arctan": sp.atan(x_), "sinh": sp.sinh(x_), "cosh": sp.cosh(x_),
    "tanh": sp.tanh(x_), "arcsinh": sp.asinh(x_), "arccosh": sp.acosh(x_),
    "arctanh": sp.atanh(x_), "exp": sp.exp(x_), "exp2": 2 ** x_,
    "expm1": sp.exp(x_) - 1, "log": sp.log(x_), "log2": sp.log(x_, 2),
    "log10": sp.log(x_, 10), "log1p": sp.log(1 + x_), "sqrt": sp.sqrt(x_),
    "cbrt": sp.cbrt(x_), "square": x_ ** 2, "reciprocal": 1 / x_,
    "absolute": sp.Abs(x_), "fabs": sp.Abs(x_), "real": sp.re(x_),
    "imag": sp.im(x_), "conjugate": sp.conjugate(x_), "angle": sp.arg(x_),
    "sinc": sp.sin(sp.pi * x_) / (sp.pi * x_), "deg2rad": x_ * sp.pi / 180,
    "rad2deg": x_ * 180 / sp.pi,
}


def _sympy_binary(name: str, x0: float, y0: float) -> Any:
    # floor and trunc are constant near (x0, y0): their local value is exact.
    k_floor, k_trunc = math.floor(x0 / y0), math.trunc(x0 / y0)
    return {
        "add": x_ + y_, "subtract": x_ - y_, "multiply": x_ * y_,
        "true_divide": x_ / y_, "power": x_ ** y_, "float_power": x_ ** y_,
        "maximum": sp.Max(x_, y_), "minimum": sp.Min(x_, y_),
        "fmax": sp.Max(x_, y_), "fmin": sp.Min(x_, y_),
        "arctan2": sp.atan2(x_, y_), "hypot": sp.sqrt(x_ ** 2 + y_ ** 2),
        "logaddexp": sp.log(sp.exp(x_) + sp.exp(y_)),
        "logaddexp2": sp.log(2 ** x_ + 2 ** y_, 2),
        "remainder": x_ - y_ * k_floor, "fmod": x_ - y_ * k_trunc,
    }[name]


def _exact(expr: Any, **point: float) -> float:
    subs = {sp.Symbol(k, real=True): sp.Float(v, 30) for k, v in point.items()}
    return float(sp.re(expr.evalf(30, subs=subs)))


UNARY_POINTS = {name: float(rand(lo=lo, hi=hi, seed=3))
                for name, (lo, hi) in UNARY_DOMAIN.items()}


def test_sympy_tables_cover_every_elementwise_primitive():
    assert set(SYMPY_UNARY) == set(_primitives.UNARY)
    for name in _primitives.BINARY:
        _sympy_binary(name, 2.3, 0.7)


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("name", _primitives.UNARY)
def test_unary_derivatives_match_sympy(name, method):
    x0 = UNARY_POINTS.get(name, -0.63 if name not in KINKED else -0.81)
    f = getattr(np, name)
    d1, d2 = sp.diff(SYMPY_UNARY[name], x_), sp.diff(SYMPY_UNARY[name], x_, 2)
    first = dk.derivative(f, x0, method=method)
    second = dk.derivative(lambda x: dk.derivative(f, x, method=method), x0,
                           method=method)
    assert first == pytest.approx(_exact(d1, x=x0), rel=1e-13, abs=1e-15)
    assert second == pytest.approx(_exact(d2, x=x0), rel=1e-12, abs=1e-14)


BINARY_POINTS = {"remainder": (2.3, 0.95), "fmod": (-2.3, 0.95),
                 "power": (1.3, -0.7), "float_power": (1.3, 2.2),
                 "true_divide": (-0.4, 1.7), "hypot": (-0.6, 0.8)}


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("name", _primitives.BINARY)
def test_binary_partial_derivatives_match_sympy(name, method):
    x0, y0 = BINARY_POINTS.get(name, (0.45, -0.8))
    f = getattr(np, name)
    expr = _sympy_binary(name, x0, y0)

    def partial(i: int, g: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        if i == 0:
            return lambda x, y: dk.derivative(lambda t: g(t, y), x, method=method)
        return lambda x, y: dk.derivative(lambda t: g(x, t), y, method=method)

    for order in ([0], [1], [0, 0], [0, 1], [1, 1]):
        fun, symbolic = f, expr
        for i in order:
            fun = partial(i, fun)
            symbolic = sp.diff(symbolic, (x_, y_)[i])
        got = fun(x0, y0)
        assert got == pytest.approx(_exact(symbolic, x=x0, y=y0), rel=1e-12,
                                    abs=1e-14), order


# --- conventions at kinks and ties, comparisons, loops -----------------------------
@pytest.mark.parametrize("method", MODES)
def test_max_and_min_split_the_gradient_among_ties(method):
    x = onp.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    onp.testing.assert_allclose(dk.grad(np.max, method=method)(x),
                                [[0, 0.5, 0.5], [0, 0, 0]])
    onp.testing.assert_allclose(
        dk.grad(lambda x: np.sum(np.min(x, axis=1)), method=method)(x),
        [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


@pytest.mark.parametrize("method", MODES)
def test_comparisons_pass_plain_values_through(method):
    seen = []

    def f(x):
        mask = x > 0.0
        seen.append(type(mask))
        return np.sum(np.where(mask, x ** 2, -x) * (x != 0.5))

    x = onp.array([-1.0, 0.5, 2.0])
    onp.testing.assert_allclose(dk.grad(f, method=method)(x), [-1.0, 0.0, 4.0])
    assert seen and all(t is onp.ndarray for t in seen)


@pytest.mark.parametrize("method", MODES)
def test_indexing_inside_a_loop(method):
    def f(x):
        total = 0.0
        for i in range(1, len(x)):
            total = total + x[i] * x[i - 1]
        return total

    x = onp.array([1.0, 2.0, -3.0, 0.5])
    expected = onp.r_[x[1], x[:-2] + x[2:], x[-2]]  # d/dx_i of sum x_i x_{i-1}
    onp.testing.assert_allclose(dk.grad(f, method=method)(x), expected)


@pytest.mark.parametrize("method", MODES)
def test_power_with_traced_exponent(method):
    # d/dy x**y = log(x) x**y, d/dx x**y = y x**(y-1)
    g = dk.grad(lambda x, y: x ** y, argnum=(0, 1), method=method)(2.0, 3.0)
    assert g[0] == pytest.approx(12.0) and g[1] == pytest.approx(8 * math.log(2))


def test_einsum_sublist_form_and_bad_subscripts():
    a, b = rand(2, 3), rand(3, 4, seed=1)
    expected = onp.broadcast_to(b.sum(axis=1), (2, 3))  # d/da sum(a @ b)
    for method in MODES:
        onp.testing.assert_allclose(
            dk.grad(lambda a: np.sum(np.einsum(a, [0, 1], b, [1, 2], [0, 2])),
                    method=method)(a), expected)
    with pytest.raises(ValueError, match="only letters"):
        dk.grad(lambda a: np.sum(np.einsum("i$,jk", a, b)))(a)
    with pytest.raises(ValueError, match="name 1 operand"):
        dk.grad(lambda a: np.sum(np.einsum("ij", a, b)))(a)


def test_cross_of_2_vectors_is_deprecated_as_in_numpy():
    with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
        dk.grad(lambda a: np.sum(np.cross(a, onp.array([1.0, 2.0, 3.0]))))(rand(2))


def test_unsupported_pad_mode_says_what_works():
    with pytest.raises(NotImplementedError, match="mode='constant'"):
        dk.grad(lambda x: np.sum(np.pad(x, 1, mode="mean")))(rand(3))
