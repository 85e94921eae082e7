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


# --- matrix norms: 2, -2 and nuclear, through the singular values --------------------
TALL = RNG.standard_normal((5, 3))
WIDE_COMPLEX = RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))
# singular values 1, 1e-5 and 1e-9: squaring them (x^T x) loses the smallest
ILL = (orthogonal(3) * onp.array([1.0, 1e-5, 1e-9])) @ orthogonal(3).T


def closed_forms(a):
    """The gradients of norm(a, 2), norm(a, -2) and norm(a, 'nuc') from NumPy's
    SVD: u_1 v_1^T, u_k v_k^T and U V^T, conjugated for complex a."""
    u, _, vh = onp.linalg.svd(a, full_matrices=False)
    return {2: onp.conj(onp.outer(u[:, 0], vh[0])),
            -2: onp.conj(onp.outer(u[:, -1], vh[-1])),
            "nuc": onp.conj(u @ vh)}


def complex_central_gradient(f, z, h=1e-6):
    """``df/dx - i df/dy`` by central differences (docs/complex.md)."""
    return (central_gradient(lambda x: f(x + 1j * z.imag), z.real.copy(), h)
            - 1j * central_gradient(lambda y: f(z.real + 1j * y), z.imag.copy(), h))


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("ord_", [2, -2, "nuc"], ids=str)
@pytest.mark.parametrize("name", ["tall", "wide complex", "ill-conditioned"])
def test_matrix_norm_gradients_are_the_singular_vector_closed_forms(name, ord_, method):
    a = {"tall": TALL, "wide complex": WIDE_COMPLEX, "ill-conditioned": ILL}[name]
    grad = dk.grad(lambda a: np.linalg.norm(a, ord_), method=method)(a)
    onp.testing.assert_allclose(grad, closed_forms(a)[ord_], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("ord_", [2, -2, "nuc"], ids=str)
def test_matrix_norm_gradients_against_central_differences(ord_):
    grad = dk.grad(lambda a: np.linalg.norm(a, ord_))(TALL)
    fd = central_gradient(lambda a: onp.linalg.norm(a, ord_), TALL)
    onp.testing.assert_allclose(grad, fd, atol=1e-8)
    grad = dk.grad(lambda a: np.linalg.norm(a, ord_))(WIDE_COMPLEX)
    fd = complex_central_gradient(lambda a: onp.linalg.norm(a, ord_), WIDE_COMPLEX)
    onp.testing.assert_allclose(grad, fd, atol=1e-8)


def test_smallest_singular_value_of_an_ill_conditioned_matrix_against_mpmath():
    # sigma_3 = 1e-9 is below sqrt(eps): only an SVD of the matrix itself (not
    # of x^T x) gets it and its derivative.  The reference is a central
    # difference at 50 digits along a random direction.
    import mpmath

    direction = RNG.standard_normal((3, 3))
    mpmath.mp.dps = 50
    try:
        def smallest(t):
            m = mpmath.matrix(ILL.tolist()) + t * mpmath.matrix(direction.tolist())
            return min(mpmath.svd_r(m, compute_uv=False))

        h = mpmath.mpf("1e-25")
        expected = float((smallest(h) - smallest(-h)) / (2 * h))
        value = float(smallest(0))
    finally:
        mpmath.mp.dps = 15
    for method in MODES:
        grad = dk.grad(lambda a: np.linalg.norm(a, -2), method=method)(ILL)
        assert onp.sum(grad * direction) == pytest.approx(expected, rel=1e-6)
    assert np.linalg.norm(dk.stop_gradient(ILL), -2) == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize("ord_", [2, -2, "nuc", "fro", 1, -1, onp.inf], ids=str)
def test_traced_matrix_norms_have_numpys_exact_values(ord_):
    for a in (TALL, WIDE_COMPLEX, ILL):
        value, _ = dk.jvp(lambda a: np.linalg.norm(a, ord_), (a,), (onp.ones_like(a),))
        assert value == onp.linalg.norm(a, ord_)


@pytest.mark.parametrize("method", MODES)
def test_nuclear_norm_of_a_rank_deficient_matrix_gets_a_subgradient(method):
    # A zero singular value is a kink with derivative 0 (as abs at 0): the
    # gradient is U_1 V_1^T over the nonzero ones -- a subgradient, so
    # ||A + E||_* >= ||A||_* + <G, E> for every E.
    rank_deficient = onp.diag([3.0, 1.0, 0.0])  # an exact zero singular value
    for mat in (rank_deficient, onp.vstack([rank_deficient, onp.zeros((1, 3))])):
        grad = dk.grad(lambda a: np.linalg.norm(a, "nuc"), method=method)(mat)
        onp.testing.assert_array_equal(grad[:3], onp.diag([1.0, 1.0, 0.0]))
        for _ in range(20):
            e = RNG.standard_normal(mat.shape)
            assert (onp.linalg.norm(mat + e, "nuc")
                    >= onp.linalg.norm(mat, "nuc") + onp.sum(grad * e) - 1e-12)


@pytest.mark.parametrize("method", MODES)
def test_smallest_singular_value_zero_has_the_central_slope_zero(method):
    # sigma_min(A + tE) = |t| |u^T E v| at a singular A: the one-sided slopes
    # are opposite, and central differences see 0, as diffkit's gradient.
    a = onp.diag([2.0, 1.0, 0.0])
    grad = dk.grad(lambda a: np.linalg.norm(a, -2), method=method)(a)
    onp.testing.assert_array_equal(grad, onp.zeros((3, 3)))
    fd = central_gradient(lambda a: onp.linalg.norm(a, -2), a)
    onp.testing.assert_allclose(grad, fd, atol=1e-9)


@pytest.mark.parametrize("method", MODES)
def test_matrix_2_norm_at_a_tie_splits_the_derivative_evenly(method):
    # As max does at a tie: the mean of u_i v_i^T over the tied singular
    # values, which does not depend on the basis NumPy returns for them: with
    # A = 2 (U_k V_k^T) + 0.5 u_3 v_3^T, the tied pair's U_k V_k^T is the
    # swap of the first two coordinates, whatever U_k and V_k are.
    a = onp.array([[0.0, 2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.5]])
    assert list(onp.linalg.svd(a, compute_uv=False)) == [2.0, 2.0, 0.5]
    grad = dk.grad(lambda a: np.linalg.norm(a, 2), method=method)(a)
    expected = onp.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]) / 2
    onp.testing.assert_allclose(grad, expected, atol=1e-15)
    grad = dk.grad(lambda a: np.linalg.norm(a, 2), method=method)(onp.eye(3))
    onp.testing.assert_allclose(grad, onp.eye(3) / 3, rtol=1e-15)
    grad = dk.grad(lambda a: np.linalg.norm(a, -2), method=method)(2 * onp.eye(2))
    onp.testing.assert_allclose(grad, onp.eye(2) / 2, rtol=1e-15)


# --- every norm at 0 ---------------------------------------------------------------
VECTOR_ORDS = [None, 2, 1, 3, 4.5, onp.inf, -onp.inf]
MATRIX_ORDS = [None, "fro", 2, -2, "nuc", 1, -1, onp.inf, -onp.inf]


@pytest.mark.parametrize("method", MODES)
def test_every_norm_at_zero_has_gradient_zero(method):
    for ord_ in VECTOR_ORDS:
        for x in (onp.zeros(3), onp.zeros(3, dtype=complex)):
            grad = dk.grad(lambda x: np.linalg.norm(x, ord_), method=method)(x)
            onp.testing.assert_array_equal(grad, onp.zeros(3), err_msg=str(ord_))
    for ord_ in MATRIX_ORDS:
        grad = dk.grad(lambda x: np.linalg.norm(x, ord_), method=method)(
            onp.zeros((3, 2)))
        onp.testing.assert_array_equal(grad, onp.zeros((3, 2)), err_msg=str(ord_))


@pytest.mark.parametrize("method", ["forward-over-reverse", "reverse", "forward"])
def test_vector_norm_hessians_at_zero_are_zero_as_abs_is(method):
    # The norm of a 1-vector is abs, whose second derivative at its kink is 0;
    # every order of the norm's derivative at 0 is 0, not an artifact of the
    # divisor standing in for |x| = 0.
    abs_hessian = dk.hessian(lambda x: np.sum(np.abs(x)), method=method)(onp.zeros(1))
    for ord_ in VECTOR_ORDS:
        for n in (1, 3):
            hess = dk.hessian(lambda x: np.linalg.norm(x, ord_), method=method)(
                onp.zeros(n))
            onp.testing.assert_array_equal(hess, onp.zeros((n, n)), err_msg=str(ord_))
    onp.testing.assert_array_equal(abs_hessian, [[0.0]])
    hess = dk.hessian(lambda x: np.linalg.norm(x), method=method)(onp.zeros((2, 2)))
    onp.testing.assert_array_equal(hess, onp.zeros((2, 2, 2, 2)))


@pytest.mark.parametrize("method", ["forward-over-reverse", "reverse"])
def test_squared_norm_hessian_at_zero_needs_the_squared_form(method):
    # Documented in np.linalg.norm: norm(x)**2 reaches its Hessian through the
    # kink (2 norm' norm'^T + 2 norm norm'' = 0 at 0); the sum of squares is 2I.
    x = onp.zeros(3)
    onp.testing.assert_array_equal(
        dk.hessian(lambda x: np.linalg.norm(x) ** 2, method=method)(x), 0 * onp.eye(3))
    onp.testing.assert_array_equal(
        dk.hessian(lambda x: np.sum(x ** 2), method=method)(x), 2 * onp.eye(3))


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("p", [3, 4.5])
def test_p_norm_away_from_zero_against_its_closed_form(p, method):
    # d ||x||_p = sign(x) |x|^(p-1) / ||x||_p^(p-1); a zero entry is no kink
    def closed(x):
        return onp.sign(x) * onp.abs(x) ** (p - 1) / onp.linalg.norm(x, p) ** (p - 1)

    x = onp.array([0.5, -2.0, 0.0, 1.5])
    grad = dk.grad(lambda x: np.linalg.norm(x, p), method=method)(x)
    onp.testing.assert_allclose(grad, closed(x), rtol=1e-13)
    outer = {"forward": "forward-over-reverse", "reverse": "reverse"}[method]
    hess = dk.hessian(lambda x: np.linalg.norm(x, p), method=outer)(x)
    expected = onp.stack([central_gradient(lambda y, i=i: closed(y)[i], x)
                          for i in range(4)])
    onp.testing.assert_allclose(hess, expected, atol=1e-6)


# --- a complex cotangent reaching a real value (abs of a complex input) -------------
Z = onp.array([1 + 2j, -0.5 + 0.3j, 2 - 1j])
C = onp.array([1 + 2j, 0.5 - 1j, 3j])
MIXED = onp.array([[1 + 1j, 2.0], [0.5j, 1.0], [1.0, -1j]])


# abs(z) is real; put into a complex computation, the cotangent that comes back
# to it through a structural operation is complex, and only its real part
# belongs to a real value (abs's rule reads it as real).  Each f is NumPy code
# run on both NumPy and diffkit.numpy (``m``).
REAL_INTO_COMPLEX = {
    "the brief": lambda z, m: m.sum(m.abs(m.concatenate([m.abs(z), z])) ** 2),
    "concatenate": lambda z, m: m.sum(m.imag(m.concatenate([m.abs(z), z]) * (1 + 2j))),
    "stack": lambda z, m: m.sum(m.imag(m.stack([m.abs(z), z]) * (1 + 2j))),
    "matmul": lambda z, m: m.imag(m.abs(z) @ C),
    "dot": lambda z, m: m.imag(m.dot(m.abs(z), C)),
    "inner": lambda z, m: m.imag(m.inner(m.abs(z), C)),
    "einsum": lambda z, m: m.imag(m.einsum("i,i->", m.abs(z), C)),
    "tensordot": lambda z, m: m.sum(m.imag(m.tensordot(m.abs(z), MIXED, axes=1))),
    "real part": lambda z, m: m.sum(m.real(m.concatenate([m.abs(z), z]) * 1j)),
}


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("name", sorted(REAL_INTO_COMPLEX))
def test_complex_cotangent_of_a_real_value_against_central_differences(name, method):
    f = REAL_INTO_COMPLEX[name]
    grad = dk.grad(lambda z: f(z, np), method=method)(Z)
    onp.testing.assert_allclose(grad, complex_central_gradient(lambda z: f(z, onp), Z),
                                atol=1e-8)


@pytest.mark.parametrize("method", MODES)
def test_the_brief_example_has_its_closed_form(method):
    # sum(|concatenate([|z|, z])|^2) = 2 sum |z|^2, whose gradient is 4 conj(z)
    f = REAL_INTO_COMPLEX["the brief"]
    onp.testing.assert_allclose(dk.grad(lambda z: f(z, np), method=method)(Z),
                                4 * onp.conj(Z), rtol=1e-14)
    # Im((1 + 2j) |z|) = 2 |z|: the cotangent 2 - 1j reaches |z| from
    # concatenate; its imaginary part must not (it did: off by conj(z)/|z|)
    g = REAL_INTO_COMPLEX["concatenate"]
    onp.testing.assert_allclose(dk.grad(lambda z: g(z, np), method=method)(Z),
                                2 * onp.conj(Z) / onp.abs(Z) + (2 - 1j), rtol=1e-14)


def test_complex_cotangent_of_a_real_value_in_big_arrays():
    # From 4096 elements on, backward takes another path (adjoints kept
    # scaled, tape stand-ins): the same real part there.
    z = RNG.standard_normal(5000) + 1j * RNG.standard_normal(5000)
    c = RNG.standard_normal(5000) + 1j * RNG.standard_normal(5000)
    unit = onp.conj(z) / onp.abs(z)  # the gradient of |z|
    grad = dk.grad(lambda z: np.sum(np.imag(np.concatenate([np.abs(z), z]) * (1 + 2j))),
                   method="reverse")(z)
    onp.testing.assert_allclose(grad, 2 * unit + (2 - 1j), rtol=1e-13)
    grad = dk.grad(lambda z: np.imag(np.abs(z) @ c), method="reverse")(z)
    onp.testing.assert_allclose(grad, c.imag * unit, rtol=1e-13, atol=1e-15)
