"""Derivative rules for :mod:`diffkit.numpy.linalg`, in matrix calculus.

Each rule is the textbook differential of a matrix function, written with
diffkit's own primitives so that it can be differentiated again:

* ``inv``: ``dX = -X dA X``; ``A_bar = -X^T G X^T``
* ``det``: ``d det(A) = det(A) tr(A^-1 dA)``; ``A_bar = g det(A) A^-T``
* ``logabsdet``: ``tr(A^-1 dA)``; ``A_bar = g A^-T``
* ``solve``: ``dX = A^-1 (dB - dA X)``; ``B_bar = A^-T G``, ``A_bar = -B_bar X^T``
* ``norm`` (2-norm): ``<x, dx> / |x|``; ``x_bar = g x / |x|``, and 0 at ``x = 0``
* ``cholesky``: ``dL = L Phi(L^-1 dA L^-T)``; ``A_bar = L^-T Phi(L^T L_bar) L^-1``
* ``eigh``: ``dw = diag(V^T dA V)`` and ``dV = V (F o (V^T dA V))``;
  ``A_bar = V (diag(w_bar) + F o (V^T V_bar)) V^T``
* ``pinv``: Golub and Pereyra's differential (for a matrix of constant rank)
  and its adjoint

``Phi`` keeps the lower triangle and halves the diagonal; ``F[i, j] = 1 /
(w[j] - w[i])`` off the diagonal, which is why ``eigh`` needs distinct
eigenvalues to be differentiable.

Stacks of matrices work throughout (the last two axes are the matrix), and
in forward mode the batch of tangents is one more leading stack axis, so
every JVP here is vectorised.

**Which triangle?** ``cholesky`` and ``eigh`` read only one triangle of
their input (the lower one unless ``upper=True`` / ``UPLO="U"``); the other
is never looked at.  The rules differentiate exactly that function, so its
derivative with respect to the unread triangle is zero and the result agrees
with finite differences of the function NumPy computes.  For a symmetric
perturbation -- all that matters when the input is built symmetric, as in
``cholesky(B @ B.T)`` -- this agrees with the symmetric convention of other
libraries.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit import numpy as np
from diffkit.backends.reverse import unbroadcast
from diffkit.numpy import linalg
from diffkit.primitives import defjvp, defvjp
from diffkit.rules._axes import from_right
from diffkit.rules.vjp import _spread


def _T(a: Any) -> Any:
    """Transpose of every matrix of a stack."""
    return np.swapaxes(a, -1, -2)


def _lead(t: Any, ndim: int, target: int) -> Any:
    """Batched tangents of an ``ndim``-axis argument, with length-1 axes after
    the batch axis so that they broadcast against ``target``-axis arrays."""
    if target <= ndim:
        return t
    shape = np.shape(t)
    return np.reshape(t, (shape[0],) + (1,) * (target - ndim) + tuple(shape[1:]))


def _last2(x: Any) -> Any:
    """A stack of scalars as a stack of 1x1 matrices, to scale matrices."""
    return np.expand_dims(np.expand_dims(x, -1), -1)


def _real_only(name: str, a: Any) -> None:
    if np.iscomplexobj(a):
        raise NotImplementedError(
            f"diffkit differentiates numpy.linalg.{name} for real matrices only; "
            "split a complex problem into real and imaginary parts."
        )


# --- inverse, determinants, solve --------------------------------------------------
defvjp(linalg.inv, lambda g, ans, a: -np.matmul(_T(ans), np.matmul(g, _T(ans))))
defjvp(linalg.inv, lambda t, ans, a: -np.matmul(ans, np.matmul(t, ans)))

defvjp(linalg.det, lambda g, ans, a: _last2(g * ans) * _T(linalg.inv(a)))
defjvp(linalg.det, lambda t, ans, a: ans * np.sum(_T(linalg.inv(a)) * t,
                                                  axis=(-2, -1)))

defvjp(linalg.logabsdet, lambda g, ans, a: _last2(g) * _T(linalg.inv(a)))
defjvp(linalg.logabsdet, lambda t, ans, a: np.sum(_T(linalg.inv(a)) * t,
                                                  axis=(-2, -1)))


def _is_vector(b: Any) -> bool:
    # NumPy 2: ``b`` is a single vector only when it is 1-d; anything else is
    # a (stack of) matrices whose columns are solved for.
    return np.ndim(b) == 1


def _solve_columns(a: Any, rhs: Any, vector: bool) -> Any:
    """``solve(a, rhs)`` for a stack of vectors (``vector``) or of matrices;
    vectors go in as one-column matrices so that NumPy never has to guess."""
    if vector:
        return linalg.solve(a, np.expand_dims(rhs, -1))[..., 0]
    return linalg.solve(a, rhs)


def _solve_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(_solve_columns(_T(a), g, _is_vector(b)), b)


def _solve_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    b_bar = _solve_columns(_T(a), g, _is_vector(b))
    if _is_vector(b):
        return unbroadcast(-np.expand_dims(b_bar, -1) * np.expand_dims(ans, -2), a)
    return unbroadcast(-np.matmul(b_bar, _T(ans)), a)


def _solve_a_jvp(t: Any, ans: Any, a: Any, b: Any) -> Any:
    vector = _is_vector(b)
    x = np.expand_dims(ans, -1) if vector else ans
    t = _lead(t, np.ndim(a), np.ndim(x))
    rhs = np.matmul(t, x)
    return -_solve_columns(a, rhs[..., 0] if vector else rhs, vector)


def _solve_b_jvp(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return _solve_columns(a, _lead(t, np.ndim(b), np.ndim(ans)), _is_vector(b))


defvjp(linalg.solve, _solve_a, _solve_b)
defjvp(linalg.solve, _solve_a_jvp, _solve_b_jvp)


# --- the 2-norm --------------------------------------------------------------------
def _safe(norm: Any) -> Any:
    # At x = 0 the 2-norm has a kink; dividing by 1 there instead of 0 makes
    # the gradient x / |x| equal to 0 -- a subgradient -- instead of NaN.
    return np.where(norm == 0, 1.0, norm)


def _norm2_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False
               ) -> Any:
    scale = _spread(g / _safe(ans), x, axis, keepdims)
    return scale * (np.conj(x) if np.iscomplexobj(x) else x)


def _norm2_jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False
               ) -> Any:
    along = np.real(np.conj(x) * t) if np.iscomplexobj(x) else x * t
    return np.sum(along, axis=from_right(axis, np.ndim(x)),
                  keepdims=keepdims) / _safe(ans)


defvjp(linalg.norm2, _norm2_vjp)
defjvp(linalg.norm2, _norm2_jvp)


# --- symmetric input: which triangle is read ---------------------------------------
def _symmetric_from(a: Any, upper: bool) -> Any:
    """The symmetric matrix NumPy actually factors: one triangle, mirrored."""
    if upper:
        return np.triu(a) + _T(np.triu(a, 1))
    return np.tril(a) + _T(np.tril(a, -1))


def _to_triangle(s_bar: Any, upper: bool) -> Any:
    """Adjoint of :func:`_symmetric_from`: an off-diagonal entry of the read
    triangle stands for two entries of the symmetric matrix."""
    n = np.shape(s_bar)[-1]
    both = s_bar + _T(s_bar)
    off = np.triu(both, 1) if upper else np.tril(both, -1)
    return off + s_bar * _np.eye(n)


def _phi(x: Any) -> Any:
    """Lower triangle with the diagonal halved."""
    return np.tril(x) - 0.5 * x * _np.eye(np.shape(x)[-1])


# --- Cholesky ----------------------------------------------------------------------
def _cholesky_jvp(t: Any, ans: Any, a: Any, upper: bool = False) -> Any:
    _real_only("cholesky", a)
    low = _T(ans) if upper else ans
    low_inv = linalg.inv(low)
    x = np.matmul(low_inv, np.matmul(_symmetric_from(t, upper), _T(low_inv)))
    d_low = np.matmul(low, _phi(x))
    return _T(d_low) if upper else d_low


def _cholesky_vjp(g: Any, ans: Any, a: Any, upper: bool = False) -> Any:
    _real_only("cholesky", a)
    low = _T(ans) if upper else ans
    low_bar = _T(g) if upper else g
    low_inv = linalg.inv(low)
    p = _phi(np.matmul(_T(low), low_bar))
    return _to_triangle(np.matmul(_T(low_inv), np.matmul(p, low_inv)), upper)


defvjp(linalg.cholesky, _cholesky_vjp)
defjvp(linalg.cholesky, _cholesky_jvp)


# --- symmetric eigenproblem --------------------------------------------------------
def _inverse_gaps(w: Any) -> Any:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it."""
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    diagonal = _np.eye(np.shape(w)[-1], dtype=bool)
    return np.where(diagonal, 0.0, 1.0 / np.where(diagonal, 1.0, gaps))


def _eigh_values_jvp(t: Any, ans: Any, a: Any, UPLO: str = "L") -> Any:
    _real_only("eigh", a)
    v = linalg.eigh_vectors(a, UPLO=UPLO)
    s = _symmetric_from(t, UPLO == "U")
    return np.sum(v * np.matmul(s, v), axis=-2)  # diag(V^T S V)


def _eigh_values_vjp(g: Any, ans: Any, a: Any, UPLO: str = "L") -> Any:
    _real_only("eigh", a)
    v = linalg.eigh_vectors(a, UPLO=UPLO)
    s_bar = np.matmul(v * np.expand_dims(g, -2), _T(v))  # V diag(g) V^T
    return _to_triangle(s_bar, UPLO == "U")


def _eigh_vectors_jvp(t: Any, ans: Any, a: Any, UPLO: str = "L") -> Any:
    _real_only("eigh", a)
    f = _inverse_gaps(linalg.eigh_values(a, UPLO=UPLO))
    s = _symmetric_from(t, UPLO == "U")
    return np.matmul(ans, f * np.matmul(_T(ans), np.matmul(s, ans)))


def _eigh_vectors_vjp(g: Any, ans: Any, a: Any, UPLO: str = "L") -> Any:
    _real_only("eigh", a)
    f = _inverse_gaps(linalg.eigh_values(a, UPLO=UPLO))
    s_bar = np.matmul(ans, np.matmul(f * np.matmul(_T(ans), g), _T(ans)))
    return _to_triangle(s_bar, UPLO == "U")


defvjp(linalg.eigh_values, _eigh_values_vjp)
defjvp(linalg.eigh_values, _eigh_values_jvp)
defvjp(linalg.eigh_vectors, _eigh_vectors_vjp)
defjvp(linalg.eigh_vectors, _eigh_vectors_jvp)


# --- pseudo-inverse (of a matrix of constant, full rank) ---------------------------
def _pinv_parts(ans: Any, a: Any) -> tuple[Any, Any]:
    """The projectors ``I - A A+`` and ``I - A+ A`` that appear in d(A+)."""
    m, n = np.shape(a)[-2:]
    return _np.eye(m) - np.matmul(a, ans), _np.eye(n) - np.matmul(ans, a)


def _pinv_jvp(t: Any, ans: Any, a: Any, *args: Any, **kw: Any) -> Any:
    _real_only("pinv", a)
    q, r = _pinv_parts(ans, a)
    p, dt = ans, _T(t)
    return (-np.matmul(p, np.matmul(t, p))
            + np.matmul(np.matmul(p, _T(p)), np.matmul(dt, q))
            + np.matmul(r, np.matmul(dt, np.matmul(_T(p), p))))


def _pinv_vjp(g: Any, ans: Any, a: Any, *args: Any, **kw: Any) -> Any:
    _real_only("pinv", a)
    q, r = _pinv_parts(ans, a)
    p, gt = ans, _T(g)
    return (-np.matmul(_T(p), np.matmul(g, _T(p)))
            + np.matmul(q, np.matmul(gt, np.matmul(p, _T(p))))
            + np.matmul(np.matmul(_T(p), p), np.matmul(gt, r)))


defvjp(linalg.pinv, _pinv_vjp)
defjvp(linalg.pinv, _pinv_jvp)
