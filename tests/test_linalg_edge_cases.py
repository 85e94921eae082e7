"""Derivatives of linear algebra where the textbook formulas divide by zero.

Repeated eigenvalues and singular values, matrices next to a Jordan block,
zero singular values, norms at 0.  Each value that is defined is compared
with an independent source -- a closed form of matrix calculus, or central
differences of NumPy's own function, which are accurate here because the
functions checked (a trace, a sum of squares, a nuclear norm) are smooth
even where their pieces are not.  Values that are not defined must come out
as documented (NaN, or a stated convention), the same in forward and
reverse mode, and never with a warning (pytest runs with ``-W error``).
"""

from __future__ import annotations

import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np

MODES = ("forward", "reverse")
RNG = onp.random.default_rng(2024)


def central_gradient(f, x, h=1e-6):
    """Gradient of a real scalar ``f`` of a real array by central differences."""
    grad = onp.zeros_like(x)
    for i in onp.ndindex(x.shape):
        step = onp.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def orthogonal(n: int) -> onp.ndarray:
    return onp.linalg.qr(RNG.standard_normal((n, n)))[0]


def lower_read(s_bar):
    """The gradient with respect to the lower triangle read by ``eigh`` of a
    function whose gradient with respect to the symmetric matrix is ``s_bar``:
    an entry below the diagonal stands for two entries of the matrix."""
    return onp.tril(s_bar + s_bar.T, -1) + onp.diag(onp.diag(s_bar))


Q3 = orthogonal(3)
TIED_SYM = (Q3 * onp.array([1.0, 1.0, 3.0])) @ Q3.T  # eigenvalue 1 twice


# --- eigh at repeated eigenvalues ---------------------------------------------
@pytest.mark.parametrize("n", [2, 3])
def test_eigh_eigenvalue_jacobian_at_the_identity_is_the_same_in_both_modes(n):
    # At a = I every eigenvalue ties.  d lambda_i = v_i^T dA v_i with NumPy's
    # eigenvectors (here the unit vectors) is e_i e_i^T in both modes; forward
    # mode also pushes a tangent into the unused eigenvectors, which must not
    # warn about dividing by the zero gaps.
    expected = onp.stack([onp.diag(onp.eye(n)[i]) for i in range(n)])
    for method in MODES:
        jac = dk.jacobian(lambda a: np.linalg.eigh(a)[0], method=method)(onp.eye(n))
        onp.testing.assert_array_equal(jac, expected)


@pytest.mark.parametrize("method", MODES)
def test_eigh_eigenvalue_derivative_at_a_tie_uses_numpys_eigenbasis(method):
    w, v = onp.linalg.eigh(TIED_SYM)
    assert w[0] == pytest.approx(w[1], abs=1e-14)
    expected = onp.stack([lower_read(onp.outer(v[:, i], v[:, i])) for i in range(3)])
    jac = dk.jacobian(lambda a: np.linalg.eigh(a).eigenvalues, method=method)(TIED_SYM)
    onp.testing.assert_allclose(jac, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("a", [onp.eye(3), 2.5 * onp.eye(3), TIED_SYM],
                         ids=["I", "2.5I", "tied"])
def test_symmetric_functions_of_tied_eigenvalues_have_their_true_gradient(a, method):
    # sum(w) is the trace; sum(w**2) the squared Frobenius norm of the matrix
    # eigh reads (its lower triangle, mirrored): both smooth at any tie.
    grad = dk.grad(lambda a: np.sum(np.linalg.eigh(a)[0]), method=method)(a)
    onp.testing.assert_allclose(grad, onp.eye(3), atol=1e-14)

    def squares(a):
        return onp.sum(onp.linalg.eigvalsh(a) ** 2)

    grad = dk.grad(lambda a: np.sum(np.linalg.eigh(a)[0] ** 2), method=method)(a)
    onp.testing.assert_allclose(grad, lower_read(2 * a), rtol=1e-12, atol=1e-14)
    onp.testing.assert_allclose(grad, central_gradient(squares, a), atol=1e-8)


@pytest.mark.parametrize("method", MODES)
def test_eigh_eigenvectors_at_a_tie_have_nan_derivatives_quietly(method):
    def f(a):
        return np.linalg.eigh(a)[1][0, 0]

    assert onp.isnan(dk.grad(f, method=method)(onp.eye(3))).any()
    _, tangent = dk.jvp(lambda a: np.linalg.eigh(a)[1], (onp.eye(3),),
                        (onp.ones((3, 3)),))
    assert onp.isnan(tangent).any()


@pytest.mark.parametrize("method", ["forward-over-reverse", "reverse", "forward"])
def test_hessians_through_tied_eigenvalues_are_nan_not_a_wrong_number(method):
    # The Hessian of sum(w**2) is that of the squared Frobenius norm, but the
    # chain rule gets there through the second derivatives of each eigenvalue,
    # infinite at a tie.  NaN says so; a masked 1/(w_j - w_i) would have given
    # a Hessian with the off-diagonal part missing.
    for f in (lambda a: np.sum(np.linalg.eigvalsh(a) ** 2),
              lambda a: np.real(np.sum(np.linalg.eigvals(a) ** 2)),
              lambda a: np.sum(np.linalg.svdvals(a) ** 2)):
        assert onp.isnan(dk.hessian(f, method=method)(onp.eye(3))).all()


def test_hessian_of_a_simple_eigenvalue_next_to_a_tie():
    # lambda_1 = 1 of diag(1, 2, 2) is simple, so it has a Hessian even though
    # the other two tie: d^2 lambda_1 = 2 sum_j X_1j^2 / (lambda_1 - lambda_j).
    # Forward-over-forward sees only lambda_1's own terms.
    a = onp.diag([1.0, 2.0, 2.0])
    x = RNG.standard_normal((3, 3))
    x = onp.tril(x)  # eigh reads the lower triangle

    def second(f):
        inner = lambda a: dk.jvp(f, (a,), (x,))[1]  # noqa: E731
        return dk.jvp(inner, (a,), (x,))[1]

    sym = onp.tril(x) + onp.tril(x, -1).T
    expected = 2 * (sym[0, 1] ** 2 + sym[0, 2] ** 2) / (1.0 - 2.0)
    assert second(lambda a: np.linalg.eigvalsh(a)[0]) == pytest.approx(expected,
                                                                        rel=1e-12)


# --- eig: the trace at any matrix ---------------------------------------------
S3 = RNG.standard_normal((3, 3))
JORDAN = onp.array([[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]])
SQUARES = {
    "I": onp.eye(3),
    "jordan": JORDAN,
    "similar to jordan": S3 @ JORDAN @ onp.linalg.inv(S3),
    "tied, diagonalisable": S3 @ onp.diag([1.0, 1.0, 3.0]) @ onp.linalg.inv(S3),
    # eigenvalues i, i, -i, -i: two rotations by 90 degrees
    "tied complex pairs": onp.kron(onp.eye(2), onp.array([[0.0, -1.0], [1.0, 0.0]])),
}


@pytest.mark.parametrize("name", sorted(SQUARES))
def test_sum_of_eig_eigenvalues_has_gradient_identity_in_reverse_mode(name):
    a = SQUARES[name]
    grad = dk.grad(lambda a: np.real(np.sum(np.linalg.eig(a)[0])),
                   method="reverse")(a)
    onp.testing.assert_allclose(grad, onp.eye(len(a)), atol=1e-14)


@pytest.mark.parametrize("name", sorted(SQUARES))
def test_sum_of_eig_eigenvalues_in_forward_mode(name):
    # Forward mode adds up the eigenvalues' own tangents, which near a
    # defective matrix are large (each eigenvalue alone has no derivative):
    # the sum keeps about half the digits there, all of them elsewhere.
    a = SQUARES[name]
    grad = dk.grad(lambda a: np.real(np.sum(np.linalg.eigvals(a))),
                   method="forward")(a)
    tol = 1e-4 if name == "similar to jordan" else 1e-13
    onp.testing.assert_allclose(grad, onp.eye(len(a)), atol=tol)


# --- svd at repeated singular values ------------------------------------------
P3, R3 = orthogonal(3), orthogonal(3)
TIED_SVD = (P3 * onp.array([2.0, 2.0, 0.5])) @ R3.T  # singular value 2 twice


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("a", [2 * onp.eye(3), TIED_SVD], ids=["2I", "tied"])
def test_nuclear_norm_at_repeated_singular_values(a, method):
    # sum(sigma) is smooth wherever no sigma is 0, ties or not: gradient U Vh,
    # the same for any basis of a tied pair (U_k Vh_k = A_k / sigma there).
    u, _, vh = onp.linalg.svd(a)
    for f in (lambda a: np.sum(np.linalg.svd(a).S), lambda a: np.linalg.norm(a, "nuc")):
        grad = dk.grad(f, method=method)(a)
        onp.testing.assert_allclose(grad, u @ vh, rtol=1e-12, atol=1e-14)
        onp.testing.assert_allclose(
            grad, central_gradient(lambda a: onp.sum(onp.linalg.svd(a)[1]), a),
            atol=1e-8)


def test_singular_value_jacobian_at_a_tie_is_the_same_in_both_modes():
    jacs = [dk.jacobian(lambda a: np.linalg.svd(a)[1], method=m)(TIED_SVD)
            for m in MODES]
    u, _, vh = onp.linalg.svd(TIED_SVD)
    expected = onp.stack([onp.outer(u[:, i], vh[i]) for i in range(3)])
    for jac in jacs:
        onp.testing.assert_allclose(jac, expected, rtol=1e-12, atol=1e-14)
