"""Derivatives of ``svd``, ``eig`` and ``qr``, checked against independent sources.

A decomposition's factors are unique only up to signs or phases, so most
checks here differentiate quantities that do not depend on that choice
(singular values, ``U @ Vh``, projections ``U U^H``...) and compare them with

* finite differences, through ``dk.check_grads`` to second order, forward
  and reverse mode;
* closed forms of matrix calculus: ``d sigma_i = Re(u_i^H dA v_i)``, the
  nuclear norm's gradient ``U Vh``, ``log prod(sigma) = log |det A|``...;
* the same decomposition of a perturbed matrix, by NumPy and by mpmath at
  40 digits, with the signs aligned with NumPy's.
"""

from __future__ import annotations

import mpmath
import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np

MODES = ("forward", "reverse")
RNG = onp.random.default_rng(7)


def real(*shape: int) -> onp.ndarray:
    return RNG.standard_normal(shape)


def cplx(*shape: int) -> onp.ndarray:
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def directional(f, x, v):
    """Forward mode's J @ v."""
    return dk.jvp(f, (x,), (v,))[1]


def check(f, *args):
    dk.check_grads(f, *args, order=2, modes=MODES)


def _H(a):
    return onp.conj(onp.swapaxes(a, -1, -2))


# --- svd -----------------------------------------------------------------------------
SHAPES = [(3, 3), (4, 3), (3, 4), (2, 4, 3), (2, 3, 4)]
SQUARE, TALL = real(3, 3), real(4, 3)


def test_svd_values_are_numpys_plain_and_traced():
    for a in (SQUARE, TALL, cplx(2, 3, 4)):
        expected = onp.linalg.svd(a)
        got = np.linalg.svd(a)
        assert type(got) is np.linalg.SVDResult and got._fields == ("U", "S", "Vh")
        for x, y in zip(got, expected, strict=True):
            onp.testing.assert_array_equal(x, y)
        values = onp.linalg.svdvals(a)  # compute_uv=False: no vectors, other rounding
        onp.testing.assert_array_equal(np.linalg.svdvals(a), values)
        onp.testing.assert_array_equal(np.linalg.svd(a, compute_uv=False), values)
        # traced, the factors are NumPy's too (the thin ones here)
        thin = onp.linalg.svd(a, full_matrices=False)
        for piece in range(3):
            value = dk.jvp(lambda a, p=piece: np.linalg.svd(a, False)[p], (a,), (a,))[0]
            onp.testing.assert_allclose(value, thin[piece], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_nuclear_norm_gradient_is_u_vh(shape, method):
    # d sum(sigma) = Re tr(U^H dA V) = Re <conj(U V^H), dA>: the gradient is
    # U Vh for real A, and its conjugate for complex A (docs/complex.md).
    for a in (real(*shape), cplx(*shape)):
        u, _, vh = onp.linalg.svd(a, full_matrices=False)
        grad = dk.grad(lambda a: np.sum(np.linalg.svdvals(a)), method=method)(a)
        onp.testing.assert_allclose(grad, onp.conj(u @ vh), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_singular_value_differential_is_u_dA_v(shape):
    for a, v in ((real(*shape), real(*shape)), (cplx(*shape), cplx(*shape))):
        u, _, vh = onp.linalg.svd(a, full_matrices=False)
        expected = onp.real(onp.einsum("...ik,...ij,...kj->...k", onp.conj(u), v,
                                       onp.conj(vh)))  # Re(u_k^H V v_k)
        onp.testing.assert_allclose(directional(np.linalg.svdvals, a, v), expected,
                                    rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", MODES)
def test_log_of_the_singular_values_product_is_log_abs_det(method):
    def f(a):
        return np.sum(np.log(np.linalg.svd(a).S))

    for a in (SQUARE, -SQUARE, real(2, 3, 3)):
        grad = dk.grad(f, method=method)(a)
        onp.testing.assert_allclose(grad, onp.swapaxes(onp.linalg.inv(a), -1, -2),
                                    rtol=1e-10)
    hess = dk.hessian(f, method=method)(SQUARE)  # d/dA of inv(A)^T
    expected = dk.jacobian(lambda a: np.linalg.inv(a).T)(SQUARE)
    onp.testing.assert_allclose(hess, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", MODES)
def test_frobenius_norm_squared_through_svd_has_hessian_2i(method):
    hess = dk.hessian(lambda a: np.sum(np.linalg.svd(a)[1] ** 2), method=method)(TALL)
    onp.testing.assert_allclose(hess.reshape(12, 12), 2 * onp.eye(12), atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_svd_of_real_matrices_against_finite_differences(shape):
    def invariants(a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        return np.concatenate([np.ravel(x) for x in (
            s ** 3,
            u @ np.swapaxes(u, -1, -2),                  # projections
            np.swapaxes(vh, -1, -2) @ vh,
            (u * np.sqrt(s)[..., None, :]) @ vh)])       # sign-invariant products

    check(invariants, real(*shape))
    check(lambda a: np.linalg.svdvals(a), real(*shape))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_svd_of_complex_matrices_against_finite_differences(shape):
    # Phase-invariant quantities only: the phase of (u_i, v_i) is arbitrary.
    def invariants(a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        projection = u @ np.conj(np.swapaxes(u, -1, -2))
        product = (u * s[..., None, :] ** 2) @ vh
        return np.concatenate([np.ravel(x) for x in (
            s, np.abs(u), np.abs(vh), np.real(projection), np.imag(projection),
            np.real(product), np.imag(product))])

    check(invariants, cplx(*shape))


def test_square_svd_with_full_matrices_differentiates_the_vectors():
    # full_matrices=True changes nothing for a square matrix: U and Vh are
    # differentiable, and (real matrix) their derivative is NumPy's own.
    def signs_fixed(a):
        u, _, vh = np.linalg.svd(a)
        sign = np.sign(u[:1, :])
        return np.concatenate([np.ravel(u * sign), np.ravel(vh * sign.T)])

    check(signs_fixed, SQUARE)


def _aligned(x, reference):
    """``x`` with each column's sign flipped to agree with ``reference``."""
    return x * onp.sign(onp.sum(x * reference, axis=-2, keepdims=True))


def test_singular_vector_derivatives_match_mpmath_at_40_digits():
    # Central differences of mpmath's SVD, at 40 digits with h = 1e-15, have
    # an error near 1e-25: an independent reference for dU and dV.
    a, v = TALL, real(4, 3)
    u, _, vh = onp.linalg.svd(a, full_matrices=False)
    with mpmath.workdps(40):
        h = mpmath.mpf("1e-15")

        def mp_svd(sign):
            m = mpmath.matrix(a.tolist()) + sign * h * mpmath.matrix(v.tolist())
            mu, _, mv = mpmath.svd_r(m, full_matrices=False)
            return (onp.array(mu.tolist(), dtype=object),
                    onp.array(mv.tolist(), dtype=object))

        (u1, vh1), (u0, vh0) = mp_svd(+1), mp_svd(-1)
        du = (u1 - u0) / (2 * h)
        dvh = (vh1 - vh0) / (2 * h)
        # mpmath's signs are its own: align them with NumPy's, column by column
        flip = onp.sign(onp.sum(onp.array(u1, dtype=float) * u, axis=0))
        du = onp.array(du.astype(float)) * flip
        dvh = onp.array(dvh.astype(float)) * flip[:, None]
    got_u = directional(lambda a: np.linalg.svd(a, full_matrices=False).U, a, v)
    got_vh = directional(lambda a: np.linalg.svd(a, full_matrices=False).Vh, a, v)
    onp.testing.assert_allclose(got_u, du, rtol=1e-11, atol=1e-13)
    onp.testing.assert_allclose(got_vh, dvh, rtol=1e-11, atol=1e-13)


def test_singular_vector_derivatives_against_numpy_on_perturbed_matrices():
    # Second-order central differences of NumPy's own U and Vh.
    a, v = real(2, 3, 5), real(2, 3, 5)
    u, _, vh = onp.linalg.svd(a, full_matrices=False)
    h = 1e-6
    up, _, vhp = onp.linalg.svd(a + h * v, full_matrices=False)
    um, _, vhm = onp.linalg.svd(a - h * v, full_matrices=False)
    du = (_aligned(up, u) - _aligned(um, u)) / (2 * h)
    dv = (_aligned(_H(vhp), _H(vh)) - _aligned(_H(vhm), _H(vh))) / (2 * h)
    svd = np.linalg.svd
    onp.testing.assert_allclose(
        directional(lambda a: svd(a, full_matrices=False)[0], a, v), du, atol=1e-7)
    onp.testing.assert_allclose(
        _H(directional(lambda a: svd(a, full_matrices=False)[2], a, v)), dv, atol=1e-7)


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("shape", [(4, 3), (3, 4)], ids=str)
def test_full_matrices_vectors_of_a_rectangle_say_pass_full_matrices_false(shape,
                                                                            method):
    a = real(*shape)
    for piece in (0, 2):
        with pytest.raises(ValueError, match="full_matrices=False"):
            dk.grad(lambda a, p=piece: np.sum(np.linalg.svd(a)[p] ** 2),
                    method=method)(a)
    # the singular values of the same call still differentiate
    u, _, vh = onp.linalg.svd(a, full_matrices=False)
    grad = dk.grad(lambda a: np.sum(np.linalg.svd(a).S), method=method)(a)
    onp.testing.assert_allclose(grad, u @ vh, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", MODES)
def test_repeated_singular_values(method):
    # At a = I all singular values are 1.  Their sum is still differentiable
    # (gradient U Vh = I) -- and forward mode, which also pushes tangents
    # into the unused U and Vh, must not warn -- while the vectors are not:
    # their derivatives come out non-finite, as the docstring says.
    eye = onp.eye(3)
    grad = dk.grad(lambda a: np.sum(np.linalg.svd(a)[1]), method=method)(eye)
    onp.testing.assert_allclose(grad, eye, atol=1e-14)
    vectors = dk.grad(lambda a: np.sum(np.linalg.svd(a)[0]), method=method)(eye)
    assert not onp.all(onp.isfinite(vectors))


@pytest.mark.parametrize("method", MODES)
def test_hermitian_svd_reads_the_lower_triangle(method):
    sym = real(3, 3)
    sym = sym + sym.T
    upper_noise = onp.triu(real(3, 3), 1)

    def nuclear(a):
        return np.sum(np.linalg.svd(a, hermitian=True, compute_uv=False))

    grad = dk.grad(nuclear, method=method)(sym + upper_noise)
    u, _, vh = onp.linalg.svd(sym)
    full = u @ vh  # the gradient for a symmetric perturbation...
    onp.testing.assert_allclose(grad, 2 * onp.tril(full, -1) + onp.diag(onp.diag(full)),
                                atol=1e-12)  # ...seen from the lower triangle
    check(lambda a: np.abs(np.linalg.svd(a, hermitian=True).U),
          sym + upper_noise)
    herm = cplx(3, 3)
    check(lambda a: np.real(np.linalg.svd(a, hermitian=True)[0]
                            @ np.linalg.svd(a, hermitian=True)[2]), herm)


def test_svd_stacks_differentiate_matrix_by_matrix():
    stack = real(3, 4, 2)
    grad = dk.grad(lambda s: np.sum(np.linalg.svd(s)[1][:, 0]))(stack)
    for k in range(3):
        u, _, vh = onp.linalg.svd(stack[k])
        onp.testing.assert_allclose(grad[k], onp.outer(u[:, 0], vh[0]), atol=1e-12)


def test_symbolic_method_says_svd_has_no_formula():
    with pytest.raises(dk.NotApplicable, match="svd_values has none.*'forward'"):
        dk.grad(lambda a: np.sum(np.linalg.svdvals(a)), method="symbolic")(SQUARE)


# --- eig -----------------------------------------------------------------------------
GENERAL = real(4, 4)  # two complex pairs, or a pair and two real eigenvalues
assert onp.iscomplexobj(onp.linalg.eigvals(GENERAL))


def _left_eigenvectors(a, w):
    """Left eigenvectors (``u^T a = lambda u^T``), from an independent ``eig`` of
    ``a^T``, matched to the eigenvalues ``w`` by nearest eigenvalue."""
    wt, ut = onp.linalg.eig(onp.swapaxes(a, -1, -2))
    order = onp.argmin(onp.abs(w[..., :, None] - wt[..., None, :]), axis=-1)
    return onp.take_along_axis(ut, order[..., None, :], axis=-1)


def _phase_fixed(v):
    """Eigenvectors with their largest component real and positive: a choice
    that does not jump when NumPy's real-matrix sign does."""
    largest = np.take_along_axis(v, np.argmax(np.abs(v), axis=-2)[..., None, :], -2)
    return v * np.conj(largest) / np.abs(largest)


def test_eig_values_are_numpys():
    for a in (GENERAL, cplx(2, 3, 3), SQUARE):
        w, v = np.linalg.eig(a)
        expected = onp.linalg.eig(a)
        assert type(np.linalg.eig(a)) is np.linalg.EigResult
        onp.testing.assert_array_equal(w, expected.eigenvalues)
        onp.testing.assert_array_equal(v, expected.eigenvectors)
        onp.testing.assert_array_equal(np.linalg.eigvals(a), onp.linalg.eigvals(a))
        value = dk.jvp(lambda a: np.linalg.eig(a)[1], (a,), (a,))[0]
        onp.testing.assert_array_equal(value, expected.eigenvectors)


@pytest.mark.parametrize("a", [GENERAL, cplx(4, 4), real(2, 3, 3)],
                         ids=["real", "complex", "stack"])
def test_eigenvalue_differential_is_left_dA_right_over_left_right(a):
    w, v = onp.linalg.eig(a)
    u = _left_eigenvectors(a, w)
    d = cplx(*a.shape) if onp.iscomplexobj(a) else real(*a.shape)
    expected = (onp.einsum("...ik,...ij,...jk->...k", u, d, v)
                / onp.einsum("...ik,...ik->...k", u, v))
    onp.testing.assert_allclose(directional(np.linalg.eigvals, a, d), expected,
                                rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", MODES)
def test_gradients_of_real_and_imaginary_parts_of_an_eigenvalue(method):
    # For a real matrix, the gradient of Re(lambda) is Re(u v^T / u^T v) and
    # that of Im(lambda) its imaginary part: real gradients of real functions.
    w, v = onp.linalg.eig(GENERAL)
    u = _left_eigenvectors(GENERAL, w)
    for k in range(4):
        slope = onp.outer(u[:, k], v[:, k]) / (u[:, k] @ v[:, k])
        for part in (np.real, np.imag):
            grad = dk.grad(lambda a, k=k, p=part: p(np.linalg.eigvals(a)[k]),
                           method=method)(GENERAL)
            assert not onp.iscomplexobj(grad)
            onp.testing.assert_allclose(grad, part(slope), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", MODES)
def test_eigenvalue_sum_and_product_are_trace_and_determinant(method):
    for a in (GENERAL, cplx(3, 3)):
        trace = dk.grad(lambda a: np.real(np.sum(np.linalg.eigvals(a))),
                        method=method)(a)
        onp.testing.assert_allclose(trace, onp.eye(len(a)), atol=1e-12)
    det = dk.grad(lambda a: np.real(np.prod(np.linalg.eigvals(a))),
                  method=method)(GENERAL)
    expected = onp.linalg.det(GENERAL) * onp.linalg.inv(GENERAL).T
    onp.testing.assert_allclose(det, expected, rtol=1e-9)


@pytest.mark.parametrize("a", [GENERAL, cplx(3, 3), real(2, 3, 3), cplx(2, 3, 3)],
                         ids=["real", "complex", "real stack", "complex stack"])
def test_eig_against_finite_differences(a):
    def invariants(a):
        w, v = np.linalg.eig(a)
        projection = v[..., :, :1] * np.conj(v[..., None, :, 0])  # v_0 v_0^H
        return np.concatenate([np.ravel(x) for x in (
            np.abs(w) ** 2, np.real(w), np.imag(w), np.abs(v),
            np.real(projection), np.imag(projection))])

    check(invariants, a)
    check(lambda a: _phase_fixed(np.linalg.eig(a).eigenvectors), a)


def test_eig_rebuilds_its_matrix_to_first_order():
    # V diag(w) V^-1 = A for every A, so its derivative is the identity map:
    # a check of dV and dw together that no phase choice can touch.
    for a in (GENERAL, cplx(3, 3)):
        d = cplx(*a.shape) if onp.iscomplexobj(a) else real(*a.shape)

        def rebuilt(a):
            w, v = np.linalg.eig(a)
            return (v * w[..., None, :]) @ np.linalg.inv(v)

        onp.testing.assert_allclose(directional(rebuilt, a, d), d, atol=1e-11)
        g = cplx(*a.shape)
        (a_bar,) = dk.vjp(rebuilt, a)[1](g)
        onp.testing.assert_allclose(a_bar, g if onp.iscomplexobj(a) else g.real,
                                    atol=1e-11)


def test_eigenvectors_differentiate_like_numpys_own():
    # NumPy's vectors: unit norm, largest component real (positive, for a
    # complex matrix).  The derivative keeps that choice, so it matches
    # central differences of NumPy's eigenvectors themselves.
    a, d = cplx(2, 4, 4), cplx(2, 4, 4)
    h = 1e-6
    fd = (onp.linalg.eig(a + h * d)[1] - onp.linalg.eig(a - h * d)[1]) / (2 * h)
    onp.testing.assert_allclose(directional(lambda a: np.linalg.eig(a)[1], a, d), fd,
                                atol=1e-7)


def test_eigenvalue_derivatives_match_mpmath_at_40_digits():
    a, d = GENERAL, real(4, 4)
    w = onp.linalg.eigvals(a)
    with mpmath.workdps(40):
        h = mpmath.mpf("1e-15")

        def mp_eigvals(sign):
            m = mpmath.matrix(a.tolist()) + sign * h * mpmath.matrix(d.tolist())
            values = mpmath.eig(m, left=False, right=False)
            # match mpmath's order to NumPy's, by nearest eigenvalue
            return [min(values, key=lambda z, w=wk: abs(complex(z) - w)) for wk in w]

        plus, minus = mp_eigvals(+1), mp_eigvals(-1)
        expected = onp.array([complex((p - m) / (2 * h))
                              for p, m in zip(plus, minus, strict=True)])
    onp.testing.assert_allclose(directional(np.linalg.eigvals, a, d), expected,
                                rtol=1e-11)


@pytest.mark.parametrize("method", MODES)
def test_repeated_eigenvalues(method):
    # At a = I every eigenvalue is 1: their sum (the trace) still has the
    # gradient I, without warnings; the eigenvectors have no derivative.
    eye = onp.eye(3)
    grad = dk.grad(lambda a: np.sum(np.linalg.eig(a)[0]), method=method)(eye)
    onp.testing.assert_allclose(grad, eye, atol=1e-14)
    vectors = dk.grad(lambda a: np.sum(np.linalg.eig(a)[1]), method=method)(eye)
    assert not onp.all(onp.isfinite(vectors))


def test_symbolic_method_says_eig_has_no_formula():
    with pytest.raises(dk.NotApplicable, match="eig_values has none"):
        dk.grad(lambda a: np.real(np.sum(np.linalg.eigvals(a))),
                method="symbolic")(GENERAL)


# --- qr ------------------------------------------------------------------------------
QR_SHAPES = [(3, 3), (5, 3), (3, 5), (2, 4, 3), (2, 3, 4)]


def test_qr_values_are_numpys():
    for a in (TALL, cplx(3, 5), real(2, 4, 3)):
        for mode in ("reduced", "complete"):
            got, expected = np.linalg.qr(a, mode=mode), onp.linalg.qr(a, mode=mode)
            assert type(got) is np.linalg.QRResult and got._fields == ("Q", "R")
            onp.testing.assert_array_equal(got.Q, expected.Q)
            onp.testing.assert_array_equal(got.R, expected.R)
        onp.testing.assert_array_equal(np.linalg.qr(a, mode="r"),
                                       onp.linalg.qr(a, mode="r"))
        for piece in range(2):  # traced, too
            value = dk.jvp(lambda a, p=piece: np.linalg.qr(a)[p], (a,), (a,))[0]
            onp.testing.assert_array_equal(value, onp.linalg.qr(a)[piece])
    h, tau = np.linalg.qr(TALL, mode="raw")  # plain values: NumPy's reflectors
    onp.testing.assert_array_equal(tau, onp.linalg.qr(TALL, mode="raw")[1])
    with pytest.raises(NotImplementedError, match="mode='reduced'"):
        dk.grad(lambda a: np.sum(np.linalg.qr(a, mode="raw")[1]))(TALL)


@pytest.mark.parametrize("method", MODES)
def test_trace_of_q_times_r_is_the_trace(method):
    for a in (TALL, cplx(4, 4), real(3, 5)):
        grad = dk.grad(lambda a: np.real(np.trace(np.matmul(*np.linalg.qr(a)))),
                       method=method)(a)
        onp.testing.assert_allclose(grad, onp.eye(*a.shape), atol=1e-12)


@pytest.mark.parametrize("shape", QR_SHAPES, ids=str)
def test_qr_differentials_keep_every_property_of_the_factors(shape):
    for a, d in ((real(*shape), real(*shape)), (cplx(*shape), cplx(*shape))):
        q, r = onp.linalg.qr(a)
        dq = directional(lambda a: np.linalg.qr(a).Q, a, d)
        dr = directional(lambda a: np.linalg.qr(a).R, a, d)
        onp.testing.assert_allclose(dq @ r + q @ dr, d, atol=1e-12)    # d(QR) = dA
        qh_dq = _H(q) @ dq                                                # Q^H Q = I
        onp.testing.assert_allclose(qh_dq + _H(qh_dq), 0.0, atol=1e-12)
        onp.testing.assert_allclose(onp.tril(dr, -1), 0.0, atol=1e-12)  # triangular
        onp.testing.assert_allclose(onp.diagonal(dr, 0, -2, -1).imag, 0.0, atol=1e-12)
        # ...and the reverse mode is the transpose: Re<g, J d> = Re<J^T g, d>
        gq, gr = cplx(*onp.shape(q)), cplx(*onp.shape(r))
        a_bar = (dk.vjp(lambda a: np.linalg.qr(a).Q, a)[1](gq)[0]
                 + dk.vjp(lambda a: np.linalg.qr(a).R, a)[1](gr)[0])
        lhs = onp.real(onp.sum(gq * dq) + onp.sum(gr * dr))
        assert lhs == pytest.approx(onp.real(onp.sum(a_bar * d)), rel=1e-10)


@pytest.mark.parametrize("shape", QR_SHAPES, ids=str)
def test_qr_against_finite_differences(shape):
    # NumPy's signs do not jump, so Q and R themselves are differentiable.
    for a in (real(*shape), cplx(*shape)):
        check(lambda a: np.linalg.qr(a).Q, a)
        check(lambda a: np.linalg.qr(a).R, a)


def test_qr_derivatives_against_numpy_on_perturbed_matrices():
    a, d, h = cplx(2, 5, 3), cplx(2, 5, 3), 1e-6
    plus, minus = onp.linalg.qr(a + h * d), onp.linalg.qr(a - h * d)
    dq = directional(lambda a: np.linalg.qr(a).Q, a, d)
    dr = directional(lambda a: np.linalg.qr(a).R, a, d)
    onp.testing.assert_allclose(dq, (plus.Q - minus.Q) / (2 * h), atol=1e-7)
    onp.testing.assert_allclose(dr, (plus.R - minus.R) / (2 * h), atol=1e-7)


@pytest.mark.parametrize("method", MODES)
def test_complete_q_of_a_tall_matrix_says_use_reduced(method):
    with pytest.raises(ValueError, match="mode='reduced'"):
        dk.grad(lambda a: np.sum(np.linalg.qr(a, mode="complete").Q ** 2),
                method=method)(TALL)
    # R of that call differentiates: R^T R = A^T A, so d tr(R^T R) = 2 <A, dA>
    grad = dk.grad(lambda a: np.sum(np.linalg.qr(a, mode="complete").R ** 2),
                   method=method)(TALL)
    onp.testing.assert_allclose(grad, 2 * TALL, rtol=1e-12)


def test_symbolic_method_says_qr_has_no_formula():
    with pytest.raises(dk.NotApplicable, match="qr_r has none"):
        dk.grad(lambda a: np.sum(np.linalg.qr(a, mode="r")), method="symbolic")(TALL)


# --- the rest of numpy.linalg --------------------------------------------------------
def test_other_numpy_linalg_functions_pass_plain_values_through():
    a, b = SQUARE, real(3)
    assert np.linalg.cond(a) == onp.linalg.cond(a)
    assert np.linalg.matrix_rank(a) == onp.linalg.matrix_rank(a)
    onp.testing.assert_array_equal(np.linalg.tensorinv(a, ind=1), onp.linalg.inv(a))
    for got, expected in zip(np.linalg.lstsq(a, b), onp.linalg.lstsq(a, b),
                             strict=True):
        onp.testing.assert_array_equal(got, expected)
    assert np.linalg.cond is np.linalg.cond  # made once
    assert np.linalg.LinAlgError is onp.linalg.LinAlgError


@pytest.mark.parametrize("method", MODES)
def test_other_numpy_linalg_functions_name_themselves_when_differentiated(method):
    with pytest.raises(dk.MissingRuleError, match="'linalg.cond'"):
        dk.grad(np.linalg.cond, method=method)(SQUARE)
    with pytest.raises(dk.MissingRuleError, match="'linalg.matrix_norm'"):
        dk.grad(np.linalg.matrix_norm, method=method)(SQUARE)
    with pytest.raises(dk.MissingRuleError, match=r"numpy\.linalg\.lstsq.*pinv"):
        dk.grad(lambda a: np.sum(np.linalg.lstsq(a, real(3))[0]), method=method)(SQUARE)
    with pytest.raises(dk.NotApplicable, match="'linalg.cond'"):
        dk.grad(np.linalg.cond, method="symbolic")(SQUARE)


def test_names_numpy_linalg_lacks_are_attribute_errors():
    import diffkit.numpy.linalg as linalg

    with pytest.raises(AttributeError, match="'diffkit.numpy.linalg' has no attribute "
                                             "'nonsense'"):
        np.linalg.nonsense  # noqa: B018
    assert not hasattr(np.linalg, "__path__")  # numpy.linalg's is not ours
    # the passed-through functions stay out of the module's namespace, which
    # lists what diffkit differentiates
    np.linalg.cond(SQUARE)
    assert "cond" not in vars(linalg)
    assert {"svd", "svdvals", "eig", "eigvals", "qr"} <= set(linalg.__all__)
    assert all(hasattr(linalg, name) for name in linalg.__all__)
