"""diffkit.numpy.linalg against closed forms of matrix calculus.

The derivative rules are checked against finite differences in
test_primitives.py; here each derivative is compared with an independent
formula: ``d det(A) = det(A) inv(A).T``, the differential of ``L L^T = A``
for Cholesky, first-order perturbation theory for ``eigh``, singular vectors
for the matrix 2-norm...
"""

from __future__ import annotations

import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np

MODES = ("forward", "reverse")
RNG = onp.random.default_rng(42)
A = RNG.standard_normal((4, 4)) + 4 * onp.eye(4)
V = RNG.standard_normal((4, 4))           # a direction
SYM_V = V + V.T                           # a symmetric direction
B = RNG.standard_normal((4, 4))
SPD = B @ B.T + 4 * onp.eye(4)
Q, _ = onp.linalg.qr(RNG.standard_normal((4, 4)))
SYM = (Q * onp.array([-1.0, 0.5, 2.0, 3.5])) @ Q.T  # distinct eigenvalues


def directional(f, x, v):
    """Forward mode's J @ v."""
    return dk.jvp(f, (x,), (v,))[1]


@pytest.mark.parametrize("method", MODES)
def test_det_gradient_is_det_times_inverse_transpose(method):
    expected = onp.linalg.det(A) * onp.linalg.inv(A).T
    onp.testing.assert_allclose(dk.grad(np.linalg.det, method=method)(A), expected,
                                rtol=1e-12)


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_logdet_gradient_is_inverse_transpose(method, sign):
    a = sign * A  # a negative determinant has the same log |det| gradient
    grad = dk.grad(lambda a: np.linalg.slogdet(a)[1], method=method)(a)
    onp.testing.assert_allclose(grad, onp.linalg.inv(a).T, rtol=1e-12)
    assert np.linalg.slogdet(a)[0] == onp.sign(onp.linalg.det(a))


def test_inverse_differential_and_its_adjoint():
    inv = onp.linalg.inv(A)
    onp.testing.assert_allclose(directional(np.linalg.inv, A, V), -inv @ V @ inv,
                                rtol=1e-12)
    g = RNG.standard_normal((4, 4))
    (a_bar,) = dk.vjp(np.linalg.inv, A)[1](g)
    onp.testing.assert_allclose(a_bar, -inv.T @ g @ inv.T, rtol=1e-12)


@pytest.mark.parametrize("b_shape", [(4,), (4, 2)])
def test_solve_derivatives(b_shape):
    b = RNG.standard_normal(b_shape)
    inv = onp.linalg.inv(A)
    x = inv @ b
    # x = A^-1 b: linear in b with matrix A^-1; dx = -A^-1 dA x along A
    jac_b = dk.jacobian(lambda b: np.linalg.solve(A, b), method="forward")(b)
    if len(b_shape) == 1:
        expected = inv
    else:  # column j of x depends on column j of b only
        expected = onp.einsum("ik,jl->ijkl", inv, onp.eye(b_shape[1]))
    onp.testing.assert_allclose(jac_b, expected, rtol=1e-12, atol=1e-15)
    onp.testing.assert_allclose(
        directional(lambda a: np.linalg.solve(a, b), A, V), -inv @ V @ x,
        rtol=1e-12)
    # reverse: b_bar = A^-T g, A_bar = -b_bar x^T
    g = RNG.standard_normal(b_shape)
    a_bar, b_bar = dk.vjp(np.linalg.solve, A, b)[1](g)
    onp.testing.assert_allclose(b_bar, inv.T @ g, rtol=1e-12)
    outer = onp.outer(inv.T @ g, x) if len(b_shape) == 1 else (inv.T @ g) @ x.T
    onp.testing.assert_allclose(a_bar, -outer, rtol=1e-12)


def test_cholesky_satisfies_the_differential_of_l_lt():
    # L L^T = A gives dL L^T + L dL^T = dA, with dL lower triangular.
    low = onp.linalg.cholesky(SPD)
    d_low = directional(np.linalg.cholesky, SPD, SYM_V)
    onp.testing.assert_allclose(onp.triu(d_low, 1), 0.0, atol=1e-15)
    onp.testing.assert_allclose(d_low @ low.T + low @ d_low.T, SYM_V, rtol=1e-12,
                                atol=1e-13)


@pytest.mark.parametrize("method", MODES)
def test_cholesky_gradient_reads_only_the_lower_triangle(method):
    # sum(log(diag(L))) = log(det(A)) / 2.  For symmetric perturbations its
    # gradient is inv(A) / 2; NumPy reads only the lower triangle of A, so an
    # off-diagonal entry below the diagonal stands for two entries.
    grad = dk.grad(lambda a: np.sum(np.log(np.diagonal(np.linalg.cholesky(a)))),
                   method=method)(SPD)
    inv = onp.linalg.inv(SPD)
    onp.testing.assert_allclose(grad, onp.tril(inv, -1) + onp.diag(onp.diag(inv)) / 2,
                                rtol=1e-12, atol=1e-15)


def test_cholesky_forward_and_reverse_are_adjoint():
    g = RNG.standard_normal((4, 4))
    (a_bar,) = dk.vjp(np.linalg.cholesky, SPD)[1](g)
    lhs = onp.sum(g * directional(np.linalg.cholesky, SPD, V))
    assert lhs == pytest.approx(onp.sum(a_bar * V), rel=1e-12)


def test_eigenvalue_derivatives_are_rayleigh_quotients():
    w, vecs = onp.linalg.eigh(SYM)
    d_w = directional(np.linalg.eigvalsh, SYM, SYM_V)
    expected = onp.einsum("ik,ij,jk->k", vecs, SYM_V, vecs)  # v_k^T dA v_k
    onp.testing.assert_allclose(d_w, expected, rtol=1e-12)


@pytest.mark.parametrize("method", MODES)
def test_eigenvalue_gradient_is_v_vt_on_the_lower_triangle(method):
    w, vecs = onp.linalg.eigh(SYM)
    for k in range(4):
        grad = dk.grad(lambda a, k=k: np.linalg.eigh(a)[0][k], method=method)(SYM)
        vvt = onp.outer(vecs[:, k], vecs[:, k])
        expected = 2 * onp.tril(vvt, -1) + onp.diag(onp.diag(vvt))
        onp.testing.assert_allclose(grad, expected, atol=1e-13)


def test_eigenvector_derivatives_from_perturbation_theory():
    # dv_k = sum over j != k of v_j (v_j^T dA v_k) / (w_k - w_j)
    w, vecs = onp.linalg.eigh(SYM)
    d_vecs = directional(lambda a: np.linalg.eigh(a)[1], SYM, SYM_V)
    coupling = vecs.T @ SYM_V @ vecs
    expected = onp.zeros((4, 4))
    for k in range(4):
        for j in range(4):
            if j != k:
                expected[:, k] += vecs[:, j] * coupling[j, k] / (w[k] - w[j])
    onp.testing.assert_allclose(d_vecs, expected, rtol=1e-11, atol=1e-13)
    # and reverse mode is its adjoint
    g = RNG.standard_normal((4, 4))
    (a_bar,) = dk.vjp(lambda a: np.linalg.eigh(a)[1], SYM)[1](g)
    assert onp.sum(a_bar * SYM_V) == pytest.approx(onp.sum(g * d_vecs), rel=1e-11)


def test_eigh_reads_the_triangle_uplo_names():
    upper = dk.grad(lambda a: np.linalg.eigh(a, UPLO="U")[0][-1])(SYM)
    lower = dk.grad(lambda a: np.linalg.eigh(a)[0][-1])(SYM)
    onp.testing.assert_allclose(upper, lower.T, atol=1e-14)
    onp.testing.assert_allclose(onp.tril(upper, -1), 0.0)


def test_complex_eigh_says_it_is_not_supported():
    h = onp.array([[2.0, 1j], [-1j, 3.0]])
    with pytest.raises(NotImplementedError, match="real matrices only"):
        dk.grad(lambda a: np.real(np.linalg.eigvalsh(a)[0]))(h)


@pytest.mark.parametrize("method", MODES)
def test_norm_gradient_at_zero_is_the_zero_subgradient(method):
    # The 2-norm is not differentiable at 0; diffkit returns the subgradient 0
    # rather than 0/0 = NaN (documented in np.linalg.norm's docstring).
    for x in (onp.zeros(3), onp.zeros((2, 3))):
        onp.testing.assert_array_equal(dk.grad(np.linalg.norm, method=method)(x),
                                       onp.zeros_like(x))
    assert dk.derivative(np.linalg.norm, 0.0, method=method) == 0.0


@pytest.mark.parametrize("method", MODES)
def test_norm_gradient_and_hessian_away_from_zero(method):
    x = onp.array([3.0, -4.0, 12.0])
    r = 13.0
    onp.testing.assert_allclose(dk.grad(np.linalg.norm, method=method)(x), x / r,
                                rtol=1e-14)
    hess = dk.hessian(np.linalg.norm, method=method)(x)
    onp.testing.assert_allclose(hess, (onp.eye(3) - onp.outer(x, x) / r**2) / r,
                                rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("method", MODES)
def test_matrix_norms_from_singular_vectors(method):
    u, s, vt = onp.linalg.svd(A)
    # d sigma_k = u_k^T dA v_k: the 2-norm is the largest sigma, nuc their sum
    onp.testing.assert_allclose(dk.grad(lambda a: np.linalg.norm(a, 2),
                                        method=method)(A),
                                onp.outer(u[:, 0], vt[0]), rtol=1e-9, atol=1e-12)
    onp.testing.assert_allclose(dk.grad(lambda a: np.linalg.norm(a, "nuc"),
                                        method=method)(A),
                                u @ vt, rtol=1e-9, atol=1e-12)
    onp.testing.assert_allclose(dk.grad(lambda a: np.linalg.norm(a, "fro"),
                                        method=method)(A),
                                A / onp.linalg.norm(A), rtol=1e-13)
    for ord_ in (2, -2, "nuc", 1, onp.inf):
        assert np.linalg.norm(dk.stop_gradient(A), ord_) == pytest.approx(
            onp.linalg.norm(A, ord_), rel=1e-13)


def test_pinv_derivative_matches_the_normal_equations():
    # For a tall matrix of full column rank, pinv(a) = (a^T a)^-1 a^T.
    tall = RNG.standard_normal((5, 3))
    v = RNG.standard_normal((5, 3))
    explicit = directional(lambda a: np.linalg.inv(a.T @ a) @ a.T, tall, v)
    onp.testing.assert_allclose(directional(np.linalg.pinv, tall, v), explicit,
                                rtol=1e-11, atol=1e-13)
    g = RNG.standard_normal((3, 5))
    (a_bar,) = dk.vjp(np.linalg.pinv, tall)[1](g)
    (expected,) = dk.vjp(lambda a: np.linalg.inv(a.T @ a) @ a.T, tall)[1](g)
    onp.testing.assert_allclose(a_bar, expected, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("n", [0, 1, 3, 6, -2])
def test_matrix_power_derivative(n):
    a = A / 4
    value = np.linalg.matrix_power(a, n)
    onp.testing.assert_allclose(value, onp.linalg.matrix_power(a, n), rtol=1e-12)
    # d(a^n) = sum over k of a^k V a^(n-1-k); for n < 0 use a^n = (a^-1)^|n|
    base, m = (a, n) if n >= 0 else (onp.linalg.inv(a), -n)
    d_base = V if n >= 0 else -base @ V @ base
    mp = onp.linalg.matrix_power
    expected = sum((mp(base, k) @ d_base @ mp(base, m - 1 - k) for k in range(m)),
                   onp.zeros((4, 4)))
    got = directional(lambda a: np.linalg.matrix_power(a, n), a, V)
    onp.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


def test_stacks_of_matrices_differentiate_matrix_by_matrix():
    stack = onp.stack([A, SPD, A.T])
    for method in MODES:
        grad = dk.grad(lambda s: np.sum(np.linalg.det(s)), method=method)(stack)
        for k in range(3):
            expected = onp.linalg.det(stack[k]) * onp.linalg.inv(stack[k]).T
            onp.testing.assert_allclose(grad[k], expected, rtol=1e-12)
