"""Derivative rules for :mod:`diffkit.numpy.linalg`, in matrix calculus.

Each rule is the textbook differential of a matrix function, written with
diffkit's own primitives so that it can be differentiated again:

* ``inv``: ``dX = -X dA X``; ``A_bar = -X^T G X^T``
* ``det``: ``d det(A) = det(A) tr(A^-1 dA)``; ``A_bar = g det(A) A^-T``
* ``logabsdet``: ``tr(A^-1 dA)``; ``A_bar = g A^-T``
* ``solve``: ``dX = A^-1 (dB - dA X)``; ``B_bar = A^-T G``, ``A_bar = -B_bar X^T``
* ``norm`` (2-norm): ``<x, dx> / |x|``; ``x_bar = g x / |x|``, and 0 at ``x = 0``
  (to every order)
* ``cholesky``: ``dL = L Phi(L^-1 dA L^-T)``; ``A_bar = L^-T Phi(L^T L_bar) L^-1``
* ``eigh``: ``dw = diag(V^T dA V)`` and ``dV = V (F o (V^T dA V))``;
  ``A_bar = V (diag(w_bar) + F o (V^T V_bar)) V^T``
* ``pinv``: Golub and Pereyra's differential (for a matrix of constant rank)
  and its adjoint
* ``svd``: with ``P = U^H dA V``, ``ds = Re diag(P)``,
  ``dU = U (F o (P S + S P^H)) + (I - U U^H) dA V S^-1`` and
  ``dV = V (F o (S P + P^H S)) + (I - V V^H) dA^H U S^-1``, where now
  ``F[i, j] = 1 / (s[j]^2 - s[i]^2)``; their adjoints below
* ``eig``: with ``P = V^-1 dA V``, ``dw = diag(P)`` and
  ``dV = V (F o P) + V diag(c)``, ``c`` keeping NumPy's normalisation;
  ``A_bar = V^-T (diag(w_bar) + F o (V^T V_bar')) V^T``
* ``qr``: with ``C = Q^H dA R^-1``, ``dR = Psi(C) R`` and
  ``dQ = dA R^-1 - Q Psi(C)``, ``Psi`` making ``C`` upper triangular with
  a real diagonal; ``A_bar = (Q_bar + conj(Q) Psi*(R_bar R^T - Q^T Q_bar)) R^-T``

``Phi`` keeps the lower triangle and halves the diagonal; ``F[i, j] = 1 /
(w[j] - w[i])`` off the diagonal, which is why the eigenvectors of ``eigh``
(and ``eig``, and the singular vectors) need distinct values to be
differentiable: where two values tie, their derivatives are NaN.

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

import functools
from collections.abc import Callable
from typing import Any

import numpy as _np

from diffkit import numpy as np
from diffkit.backends.reverse import unbroadcast
from diffkit.errors import NotApplicable
from diffkit.numpy import linalg
from diffkit.primitives import defjvp, defsympy, defvjp
from diffkit.rules._axes import from_right
from diffkit.rules.vjp import _spread
from diffkit.tracer import unbox


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


def _H(a: Any) -> Any:
    """Conjugate transpose of every matrix of a stack (the transpose if real)."""
    return np.conj(_T(a)) if np.iscomplexobj(a) else _T(a)


def _like(x: Any, a: Any) -> Any:
    """``x`` as the cotangent of ``a``: its real part when ``a`` is real."""
    return np.real(x) if np.iscomplexobj(x) and not np.iscomplexobj(a) else x


def _real_only(name: str, a: Any) -> None:
    if np.iscomplexobj(a):
        raise NotImplementedError(
            f"diffkit differentiates numpy.linalg.{name} for real matrices only; "
            "split a complex problem into real and imaginary parts."
        )


class _Undefined(_np.ndarray):
    """The tangent of an output that has no derivative.

    Forward mode pushes tangents into every output of a call, used or not:
    ``u, s, vh = svd(a)`` gives ``U`` and ``Vh`` tangents even when only
    ``s`` is used afterwards.  Where an output has no derivative its tangent
    is this placeholder, harmless while unused; the first computation with
    it raises the error it carries -- as reverse mode does, there, as soon
    as a cotangent arrives.
    """

    message: str = ""

    def __array_finalize__(self, obj: Any) -> None:
        self.message = getattr(obj, "message", "")

    def __array_ufunc__(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(self.message)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any
                           ) -> Any:
        if func in (_np.shape, _np.ndim, _np.size):  # looking is harmless
            return func(self.view(_np.ndarray), *args[1:], **kwargs)
        raise ValueError(self.message)


def _undefined(shape: tuple[int, ...], message: str) -> Any:
    """A tangent of ``shape`` that raises ``ValueError(message)`` when used."""
    tangent = _np.full(shape, _np.nan).view(_Undefined)
    tangent.message = message
    return tangent


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
def _over_norm(norm: Any) -> Any:
    """``1 / |x|``, and 0 where ``x = 0``.

    At ``x = 0`` the 2-norm has a kink, where diffkit takes its derivative
    to be 0 (a subgradient, and the average of the slopes on either side,
    as for ``abs`` at 0) instead of 0/0 = NaN.  The factor is 0 there, not
    ``1 / 1``, and a comparison carries no derivative: so the rules below
    differentiate again to 0 at ``x = 0`` -- the Hessian of ``norm`` of a
    1-vector at 0 is that of ``abs``, 0 -- not to whatever a stand-in
    divisor would give.
    """
    return (norm != 0) / np.where(norm == 0, 1.0, norm)


def _norm2_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False
               ) -> Any:
    scale = _spread(g * _over_norm(ans), x, axis, keepdims)
    return scale * (np.conj(x) if np.iscomplexobj(x) else x)


def _norm2_jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False
               ) -> Any:
    along = np.real(np.conj(x) * t) if np.iscomplexobj(x) else x * t
    return np.sum(along, axis=from_right(axis, np.ndim(x)),
                  keepdims=keepdims) * _over_norm(ans)


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
# At equal eigenvalues (singular values) the vectors have no derivative.
# Their rules divide by the gaps between the values, and by the singular
# values themselves; a zero divisor becomes NaN *before* the division: NaN
# then spreads through every later product quietly, where an infinity would
# make NumPy warn at the first ``inf * 0`` -- often outside these rules, in
# the arithmetic of an enclosing derivative (a Hessian).  Forward mode runs
# the vectors' rules for every output of a call, used or not: ``svd(a).S`` or
# ``eigh(a)[0]`` at ``a = I`` must not warn about the tangent of vectors
# nobody asked for.
def _quiet_at_ties(rule: Callable[..., Any]) -> Callable[..., Any]:
    """Run a rule that divides by gaps between eigenvalues (singular values)
    without NumPy's divide-by-zero warnings: where they tie, the vectors'
    derivatives are NaN, as documented."""
    @functools.wraps(rule)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with _np.errstate(divide="ignore", invalid="ignore"):
            return rule(*args, **kwargs)

    return quiet


def _nan_at_zero(x: Any) -> Any:
    """``x`` as a divisor: NaN where it is 0 (see above)."""
    return np.where(x == 0, _np.nan, x)


def _inverse_gaps(w: Any) -> Any:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it, NaN where
    two values tie."""
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    diagonal = _np.eye(np.shape(w)[-1], dtype=bool)
    return np.where(diagonal, 0.0, 1.0 / np.where(diagonal, 1.0, _nan_at_zero(gaps)))


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


@_quiet_at_ties
def _eigh_vectors_jvp(t: Any, ans: Any, a: Any, UPLO: str = "L") -> Any:
    _real_only("eigh", a)
    f = _inverse_gaps(linalg.eigh_values(a, UPLO=UPLO))
    s = _symmetric_from(t, UPLO == "U")
    return np.matmul(ans, f * np.matmul(_T(ans), np.matmul(s, ans)))


@_quiet_at_ties
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


# --- the symbolic method and the numerical decompositions ---------------------------
def _no_formula(name: str, why: str) -> Callable[..., Any]:
    """The SymPy rule of a decomposition computed by iteration, not by formula:
    it says so, rather than suggest adding a rule that cannot exist."""
    def rule(*args: Any, **kwargs: Any) -> Any:
        from diffkit.backends.symbolic import user_line

        raise NotApplicable(
            f"symbolic differentiation needs a closed-form expression, but "
            f"{name} has none: {why} (at {user_line()}). Use method='forward' "
            "or 'reverse'.")

    return rule


# --- singular value decomposition --------------------------------------------------
# With A = U S V^H (thin: k = min(m, n) columns in U and V), differentiate:
#   dA = dU S V^H + U dS V^H + U S dV^H.
# Multiplying by U^H on the left and V on the right, with P = U^H dA V,
#   P = (U^H dU) S + dS + S (dV^H V).
# U^H dU and V^H dV are skew-Hermitian (U^H U = I), so the diagonal gives the
# singular values, ds = Re diag(P), and the parts off the diagonal of P and
# P^H give two equations for the two unknown entries (i, j) of U^H dU and
# V^H dV, solved by dividing by s[j]^2 - s[i]^2.  The imaginary diagonal of
# U^H dU and V^H dV -- a change of the common phase of u_i and v_i -- is
# fixed only in its difference, Im P_ii / s_i: we give it all to U, which
# holds the phase of each v_i fixed.  A tall U (or the V of a wide A) also
# turns out of its own span, along (I - U U^H) dA V S^-1.
#
# The VJPs are the transposes of these maps for the pairing Re sum(X * Y)
# (docs/complex.md): every U^H above becomes a U^T, every U a conj(U).
def _hermitian_from(a: Any) -> Any:
    """The Hermitian matrix ``svd(..., hermitian=True)`` factors: NumPy calls
    ``eigh``, which reads the lower triangle and the real part of the diagonal."""
    low = np.tril(a, -1)
    return low + _H(low) + np.real(a) * _np.eye(np.shape(a)[-1])


def _hermitian_to(a_bar: Any) -> Any:
    """Adjoint of :func:`_hermitian_from`."""
    n = np.shape(a_bar)[-1]
    return np.tril(a_bar + _H(a_bar), -1) + np.real(a_bar) * _np.eye(n)


def _svd_factors(a: Any, full_matrices: bool, hermitian: bool
                 ) -> tuple[Any, Any, Any]:
    """``U``, ``s`` and ``V`` of the call being differentiated.

    ``U`` and ``V`` come from the same call -- same ``full_matrices`` -- so
    that their signs (phases) belong together.
    """
    u = linalg.svd_u(a, full_matrices=full_matrices, hermitian=hermitian)
    vh = linalg.svd_vh(a, full_matrices=full_matrices, hermitian=hermitian)
    return u, linalg.svd_values(a, hermitian=hermitian), _H(vh)


def _full_vectors(a: Any, full_matrices: bool) -> str | None:
    """Why the singular vectors of this call have no derivative, if they have none."""
    m, n = np.shape(a)[-2:]
    if not full_matrices or m == n:
        return None
    return (f"The singular vectors of a {m} x {n} matrix from svd(a, "
            "full_matrices=True) are not differentiable: the extra "
            f"{'columns of U' if m > n else 'rows of Vh'} can be any orthonormal "
            "basis of the rest of the space. Pass full_matrices=False for the "
            "thin decomposition, whose vectors are differentiable.")


# A singular value 0 is a kink: sigma(A + tE) = |t| sigma(U0^H E V0) to first
# order, the same for t and -t.  Its derivative there is taken to be 0, the
# average of the slopes on either side, as for abs at 0 (docs/four-methods.md)
# -- what central differences see, instead of Re(u^H E v) with whichever
# vectors NumPy returns for the null space.  The nuclear norm's gradient is
# then still a subgradient, and every matrix norm's gradient at 0 is 0.
def _svd_values_jvp(t: Any, ans: Any, a: Any, hermitian: bool = False) -> Any:
    u, s, v = _svd_factors(a, False, hermitian)
    if hermitian:
        t = _hermitian_from(t)
    ds = np.real(np.sum(np.conj(u) * np.matmul(t, v), axis=-2))  # Re diag(P)
    return ds * (s != 0)


def _svd_values_vjp(g: Any, ans: Any, a: Any, hermitian: bool = False) -> Any:
    u, s, v = _svd_factors(a, False, hermitian)  # (the tape keeps no ans)
    if np.iscomplexobj(g):  # the singular values are real: only Re(g) counts
        g = np.real(g)
    g = g * (s != 0)
    a_bar = np.matmul(np.conj(u) * np.expand_dims(g, -2), _T(v))  # conj(U) G V^T
    return _like(_hermitian_to(a_bar) if hermitian else a_bar, a)


@_quiet_at_ties
def _svd_vectors_jvp(t: Any, a: Any, full_matrices: bool, hermitian: bool
                     ) -> tuple[Any, Any]:
    """Tangents ``(dU, dV)`` for tangents ``t`` of ``a``."""
    u, s, v = _svd_factors(a, full_matrices, hermitian)
    if hermitian:
        t = _hermitian_from(t)
    m, n = np.shape(a)[-2:]
    f = _inverse_gaps(s * s)
    tv = np.matmul(t, v)
    p = np.matmul(_H(u), tv)
    row, col = np.expand_dims(s, -2), np.expand_dims(s, -1)  # s[j], s[i]
    s_row = _nan_at_zero(row)  # as a divisor
    du_skew = f * (p * row + col * _H(p))
    dv_skew = f * (col * p + _H(p) * row)
    if np.iscomplexobj(p):
        du_skew = du_skew + 1j * _np.eye(np.shape(s)[-1]) * np.imag(p) / s_row
    du = np.matmul(u, du_skew)
    dv = np.matmul(v, dv_skew)
    if m > n:  # (I - U U^H) dA V S^-1, with U^H dA V = P already at hand
        du = du + (tv - np.matmul(u, p)) / s_row
    if n > m:  # the same for the V of a wide matrix
        th_u = np.matmul(_H(t), u)
        dv = dv + (th_u - np.matmul(v, _H(p))) / s_row
    return du, dv


@_quiet_at_ties
def _svd_vectors_vjp(u_bar: Any, v_bar: Any, a: Any, full_matrices: bool,
                     hermitian: bool) -> Any:
    """The cotangent of ``a`` for cotangents ``u_bar`` of U and ``v_bar`` of V
    (either may be None): the transpose of :func:`_svd_vectors_jvp`."""
    u, s, v = _svd_factors(a, full_matrices, hermitian)
    m, n = np.shape(a)[-2:]
    f = _inverse_gaps(s * s)
    row, col = np.expand_dims(s, -2), np.expand_dims(s, -1)
    s_row, s_col = _nan_at_zero(row), _nan_at_zero(col)  # as divisors
    # a_bar = (conj(U) P_bar + right) V^T + conj(U) left: P_bar collects the
    # cotangent of P, right and left the terms of the projections
    p_bar: Any = 0.0
    right: Any = 0.0
    left = None
    if u_bar is not None:
        mu = np.matmul(_T(u), u_bar)  # the cotangent of U^H dU, as seen from U
        fm = f * mu
        p_bar = (fm + _H(fm)) * row
        if np.iscomplexobj(mu):
            p_bar = p_bar + 1j * _np.eye(np.shape(s)[-1]) * np.imag(mu) / s_row
        if m > n:
            right = (u_bar - np.matmul(np.conj(u), mu)) / s_row
    if v_bar is not None:
        fm = f * np.matmul(_T(v), v_bar)
        p_bar = p_bar + col * (fm + _H(fm))
        if n > m:
            w = _H(v_bar)
            left = (w - np.matmul(np.matmul(w, np.conj(v)), _T(v))) / s_col
    a_bar = np.matmul(np.matmul(np.conj(u), p_bar) + right, _T(v))
    if left is not None:
        a_bar = a_bar + np.matmul(np.conj(u), left)
    return _like(_hermitian_to(a_bar) if hermitian else a_bar, a)


def _svd_u_jvp(t: Any, ans: Any, a: Any, full_matrices: bool = True,
               hermitian: bool = False) -> Any:
    if why := _full_vectors(a, full_matrices):
        return _undefined((np.shape(t)[0], *np.shape(ans)), why)
    return _svd_vectors_jvp(t, a, full_matrices, hermitian)[0]


def _svd_vh_jvp(t: Any, ans: Any, a: Any, full_matrices: bool = True,
                hermitian: bool = False) -> Any:
    if why := _full_vectors(a, full_matrices):
        return _undefined((np.shape(t)[0], *np.shape(ans)), why)
    return _H(_svd_vectors_jvp(t, a, full_matrices, hermitian)[1])


def _svd_u_vjp(g: Any, ans: Any, a: Any, full_matrices: bool = True,
               hermitian: bool = False) -> Any:
    if why := _full_vectors(a, full_matrices):
        raise ValueError(why)
    return _svd_vectors_vjp(g, None, a, full_matrices, hermitian)


def _svd_vh_vjp(g: Any, ans: Any, a: Any, full_matrices: bool = True,
                hermitian: bool = False) -> Any:
    if why := _full_vectors(a, full_matrices):
        raise ValueError(why)
    # Vh = V^H, so Re<g, dV^H> = Re<g^H, dV>: the cotangent of V is g^H.
    return _svd_vectors_vjp(None, _H(g), a, full_matrices, hermitian)


defvjp(linalg.svd_values, _svd_values_vjp)
defjvp(linalg.svd_values, _svd_values_jvp)
defvjp(linalg.svd_u, _svd_u_vjp)
defjvp(linalg.svd_u, _svd_u_jvp)
defvjp(linalg.svd_vh, _svd_vh_vjp)
defjvp(linalg.svd_vh, _svd_vh_jvp)

_SINGULAR = ("singular values are the square roots of the eigenvalues of A^H A, "
             "roots of a polynomial with no closed form beyond 4 x 4")
for _prim in (linalg.svd_values, linalg.svd_u, linalg.svd_vh):
    defsympy(_prim, _no_formula(_prim.name, _SINGULAR))


# --- general eigenproblem ----------------------------------------------------------
# With A V = V diag(w) and P = V^-1 dA V (the rows of V^-1 are the left
# eigenvectors, scaled so that V^-1 V = I), differentiate and multiply by V^-1:
#   P + diag(w) C = C diag(w) + diag(dw),   where dV = V C.
# The diagonal gives dw = diag(P); off it, C[i, j] = P[i, j] / (w[j] - w[i]).
# The diagonal of C is a free rescaling of each eigenvector, which NumPy
# fixes: unit 2-norm, and the largest component (in modulus) real.  So
# c_i = C[i, i] takes the value that keeps Re(v_i^H dv_i) = 0 (the norm) and
# Im(dv_ki / v_ki) = 0 at that component k (its phase).
def _largest(v: Any) -> Any:
    """Which component of each eigenvector is the largest in modulus: a 0/1
    mask, one 1 per column -- the component NumPy makes real."""
    values = _np.abs(unbox(v))
    n = values.shape[-2]
    return (_np.arange(n)[:, None] == _np.argmax(values, axis=-2)[..., None, :]
            ).astype(float)


def _eig_rescale(x: Any, v: Any) -> Any:
    """``c`` such that ``x + v * c`` keeps NumPy's normalisation of ``v``."""
    c = -np.real(np.sum(np.conj(v) * x, axis=-2))  # the norm
    if np.iscomplexobj(v):  # the phase of the largest component
        pick = _largest(v)
        c = c - 1j * np.imag(np.sum(x * pick, axis=-2) / np.sum(v * pick, axis=-2))
    return c


def _eig_values_jvp(t: Any, ans: Any, a: Any) -> Any:
    v = linalg.eig_vectors(a)
    return np.sum(_T(linalg.inv(v)) * np.matmul(t, v), axis=-2)  # diag(V^-1 T V)


# The eigenvalues add up to the trace, whose gradient is I at every matrix.
# Computed as V^-T diag(g) V^T, the gradient of their sum is I only up to
# rounding times cond(V) -- 1e-6 near a Jordan block, where each eigenvalue
# alone has no derivative but the sum does.  Taking the mean of g out first,
# as mean(g) I, makes that exact; for a well-conditioned V it changes nothing
# but rounding.  (Forward mode cannot do the same: there the user's own sum
# adds up the eigenvalues' large tangents.)
def _eig_values_vjp(g: Any, ans: Any, a: Any) -> Any:
    v = linalg.eig_vectors(a)
    mean = np.mean(g, axis=-1, keepdims=True)
    a_bar = np.matmul(_T(linalg.inv(v)) * np.expand_dims(g - mean, -2), _T(v))
    return _like(a_bar + _last2(mean[..., 0]) * _np.eye(np.shape(a)[-1]), a)


@_quiet_at_ties
def _eig_vectors_jvp(t: Any, ans: Any, a: Any) -> Any:
    f = _inverse_gaps(linalg.eig_values(a))
    p = np.matmul(linalg.inv(ans), np.matmul(t, ans))
    x = np.matmul(ans, f * p)
    return x + ans * np.expand_dims(_eig_rescale(x, ans), -2)


@_quiet_at_ties
def _eig_vectors_vjp(g: Any, ans: Any, a: Any) -> Any:
    # The transpose of the JVP above.  The rescaling c is linear in x, so it
    # first adds its share to g: g' = g + h with Re sum(h * x) = Re sum(m * c),
    # m = diag(V^T g).  Then x = V (F o P) transposes as in eigh.
    v = ans
    f = _inverse_gaps(linalg.eig_values(a))
    m = np.sum(v * g, axis=-2)
    if np.iscomplexobj(v):
        pick = _largest(v)
        phase = -1j * np.imag(m) / np.sum(v * pick, axis=-2)
        h = -np.conj(v) * np.expand_dims(np.real(m), -2) \
            + pick * np.expand_dims(phase, -2)
    else:
        h = -v * np.expand_dims(m, -2)
    core = f * np.matmul(_T(v), g + h)
    a_bar = np.matmul(_T(linalg.inv(v)), np.matmul(core, _T(v)))
    return _like(a_bar, a)


defvjp(linalg.eig_values, _eig_values_vjp)
defjvp(linalg.eig_values, _eig_values_jvp)
defvjp(linalg.eig_vectors, _eig_vectors_vjp)
defjvp(linalg.eig_vectors, _eig_vectors_jvp)

_EIGEN = ("eigenvalues are the roots of a polynomial, with no closed form beyond "
          "4 x 4")
for _prim in (linalg.eig_values, linalg.eig_vectors):
    defsympy(_prim, _no_formula(_prim.name, _EIGEN))


# --- QR ------------------------------------------------------------------------
# A tall (or square) A = Q R, Q^H Q = I, R upper triangular with a real
# diagonal (LAPACK's Householder QR).  Differentiate and multiply by Q^H on
# the left and R^-1 on the right, with C = Q^H dA R^-1:
#   C = Q^H dQ + dR R^-1.
# Q^H dQ is skew-Hermitian and dR R^-1 upper triangular with a real
# diagonal, so C splits into the two: the part below the diagonal belongs to
# Q^H dQ, which fixes its part above; the imaginary diagonal is Q^H dQ's too.
# What remains is dR R^-1 = Psi(C), the upper triangle of C plus the
# conjugate transpose of its lower one, with the real part of its diagonal.
# Then dR = Psi(C) R and, since Q Q^H dA + (I - Q Q^H) dA = dA,
#   dQ = dA R^-1 - Q Psi(C).
# A wide A = [X Y] (m < n) is Q [R1 R2] with X = Q R1 square and
# R2 = Q^H Y: differentiate X as above, then dR2 = dQ^H Y + Q^H dY.
def _psi(c: Any) -> Any:
    """``dR R^-1`` from ``C``: upper triangular, real diagonal."""
    return (np.triu(c, 1) + _H(np.tril(c, -1))
            + np.real(c) * _np.eye(np.shape(c)[-1]))


def _psi_adjoint(m: Any) -> Any:
    """The transpose of :func:`_psi` for the pairing ``Re sum(X * Y)``."""
    return (np.triu(m, 1) + np.tril(_H(m), -1)
            + np.real(m) * _np.eye(np.shape(m)[-1]))


def _qr_tall_jvp(t: Any, q: Any, r: Any) -> tuple[Any, Any]:
    t_r_inv = np.matmul(t, linalg.inv(r))
    psi = _psi(np.matmul(_H(q), t_r_inv))
    return t_r_inv - np.matmul(q, psi), np.matmul(psi, r)


def _qr_tall_vjp(q_bar: Any, r_bar: Any, q: Any, r: Any) -> Any:
    # Re sum(r_bar * dR) + Re sum(q_bar * dQ), with dR and dQ as above,
    # collected on dA: q_bar R^-T from dA R^-1, the rest through Psi and C.
    m = np.matmul(r_bar, _T(r)) - np.matmul(_T(q), q_bar)
    lhs = q_bar + np.matmul(np.conj(q), _psi_adjoint(m))
    return np.matmul(lhs, _T(linalg.inv(r)))


def _qr_jvp(t: Any, a: Any) -> tuple[Any, Any]:
    """Tangents ``(dQ, dR)`` of the reduced QR for tangents ``t`` of ``a``."""
    q, r = linalg.qr_q(a), linalg.qr_r(a)
    m, n = np.shape(a)[-2:]
    if m >= n:
        return _qr_tall_jvp(t, q, r)
    dq, dr1 = _qr_tall_jvp(t[..., :m], q, r[..., :m])
    dr2 = np.matmul(_H(dq), a[..., m:]) + np.matmul(_H(q), t[..., m:])
    return dq, np.concatenate([dr1, dr2], axis=-1)


def _qr_vjp(q_bar: Any, r_bar: Any, a: Any) -> Any:
    """The cotangent of ``a`` for cotangents of the reduced Q and R (or zeros)."""
    q, r = linalg.qr_q(a), linalg.qr_r(a)
    m, n = np.shape(a)[-2:]
    q_bar = np.zeros_like(q) if q_bar is None else q_bar
    r_bar = np.zeros_like(r) if r_bar is None else r_bar
    if m >= n:
        return _like(_qr_tall_vjp(q_bar, r_bar, q, r), a)
    # R2 = Q^H Y: its cotangent reaches Q (through Q^H) and Y
    r2_bar = r_bar[..., m:]
    q_bar = q_bar + np.matmul(np.conj(a[..., m:]), _H(r2_bar))
    x_bar = _qr_tall_vjp(q_bar, r_bar[..., :m], q, r[..., :m])
    y_bar = np.matmul(np.conj(q), r2_bar)
    return _like(np.concatenate([x_bar, y_bar], axis=-1), a)


def _complete_q(a: Any, mode: str) -> str | None:
    """Why the ``Q`` of this call has no derivative, if it has none."""
    m, n = np.shape(a)[-2:]
    if mode == "reduced" or m <= n:
        return None
    return (f"The Q of a {m} x {n} matrix from qr(a, mode='complete') is not "
            f"differentiable: its last {m - n} columns can be any orthonormal "
            "basis of the rest of the space. Use mode='reduced', whose Q is "
            "differentiable.")


def _padded(dr: Any, a: Any, mode: str) -> Any:
    """``dR`` of the reduced R, as ``dR`` of ``mode``'s R: with ``mode="complete"``
    a tall A's R has m - n more rows, all zero."""
    m, n = np.shape(a)[-2:]
    if mode == "reduced" or m <= n:
        return dr
    zeros = _np.zeros((*np.shape(dr)[:-2], m - n, n), dtype=np.result_type(dr))
    return np.concatenate([dr, zeros], axis=-2)


def _qr_q_jvp(t: Any, ans: Any, a: Any, mode: str = "reduced") -> Any:
    if why := _complete_q(a, mode):
        return _undefined((np.shape(t)[0], *np.shape(ans)), why)
    return _qr_jvp(t, a)[0]


def _qr_r_jvp(t: Any, ans: Any, a: Any, mode: str = "reduced") -> Any:
    return _padded(_qr_jvp(t, a)[1], a, mode)


def _qr_q_vjp(g: Any, ans: Any, a: Any, mode: str = "reduced") -> Any:
    if why := _complete_q(a, mode):
        raise ValueError(why)
    return _qr_vjp(g, None, a)


def _qr_r_vjp(g: Any, ans: Any, a: Any, mode: str = "reduced") -> Any:
    k = min(np.shape(a)[-2:])
    return _qr_vjp(None, g[..., :k, :], a)  # the rows of zeros carry nothing


defvjp(linalg.qr_q, _qr_q_vjp)
defjvp(linalg.qr_q, _qr_q_jvp)
defvjp(linalg.qr_r, _qr_r_vjp)
defjvp(linalg.qr_r, _qr_r_jvp)

_SIGNS = ("the signs of R's diagonal (and of Q's columns) that LAPACK picks depend "
          "on the values")
for _prim in (linalg.qr_q, linalg.qr_r):
    defsympy(_prim, _no_formula(_prim.name, _SIGNS))
