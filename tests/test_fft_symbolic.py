"""The symbolic method on Fourier transforms (rules/_fft_sympy.py): the DFT as sums."""

import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np
from diffkit.backends import symbolic

X1 = onp.array([1.0, 2.0, 0.5, -1.0, 0.3])
X2 = onp.random.default_rng(1).standard_normal((2, 3))


def _dft_matrix(n: int) -> onp.ndarray:  # the closed form, exp(-2 pi i jk / n)
    j = onp.arange(n)
    return onp.exp(-2j * onp.pi * onp.outer(j, j) / n)


@pytest.mark.parametrize("transform, x", [
    (lambda x: np.fft.fft(x), X1),
    (lambda x: np.fft.ifft(x, n=8), X1),
    (lambda x: np.fft.fft(x, norm="ortho"), X1),
    (lambda x: np.fft.rfft(x, norm="forward"), X1),
    (lambda x: np.fft.irfft(x), X1),
    (lambda x: np.fft.irfft(x, n=7), X1),
    (lambda x: np.fft.fft2(x), X2),
    (lambda x: np.fft.rfft2(x), X2),
    (lambda x: np.fft.irfftn(x), X2),
    (lambda x: np.fft.fftn(x, axes=(0,)), X2),
    (lambda x: np.fft.fftshift(x), X1),
    (lambda x: np.fft.hfft(x), X1),
    (lambda x: np.fft.ihfft(x), X1),
])
def test_the_symbolic_transform_is_numpys(transform, x):
    value, _ = symbolic.value_and_jacobian(transform, x)
    onp.testing.assert_allclose(value, transform(x), rtol=1e-13, atol=1e-13)


def test_the_jacobian_of_fft_is_the_dft_matrix():
    for n in (3, 4, 8):
        x = onp.linspace(-1.0, 1.0, n)
        jac = dk.jacobian(np.fft.fft, method="symbolic")(x)
        onp.testing.assert_allclose(jac, _dft_matrix(n), atol=1e-14)


@pytest.mark.parametrize("f, x", [
    (lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2), X1),       # Parseval: 2 n x
    (lambda x: np.sum(np.imag(np.fft.fft(x, norm="ortho")) ** 2), X1),
    (lambda x: np.sum(np.abs(np.fft.rfft(x))), X1),
    (lambda x: np.sum(np.fft.irfft(x, n=7) * onp.arange(7)), X1),
    (lambda x: np.sum(np.abs(np.fft.rfft2(x))), X2),
    (lambda x: np.sum(np.fft.irfft2(x) ** 2), X2),
    (lambda x: np.sum(np.fft.hfft(x) ** 2), X1),
])
def test_gradients_agree_with_reverse_mode(f, x):
    onp.testing.assert_allclose(dk.grad(f, method="symbolic")(x), dk.grad(f)(x),
                                rtol=1e-10, atol=1e-12)


def test_compare_has_a_30_digit_reference_for_parseval():
    x = onp.array([1.0, 2.0, 0.0, -1.0])
    table = dk.compare(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2), x)
    assert table.reference.startswith("symbolic (SymPy's derivative evaluated to 30")
    onp.testing.assert_allclose(table.exact, 2 * len(x) * x)  # Parseval: n |x|^2


def test_a_long_signal_is_refused_at_once_not_after_minutes():
    import time

    f = lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2)  # noqa: E731
    start = time.perf_counter()
    with pytest.raises(dk.NotApplicable, match="Fourier transform of 64 points"):
        dk.grad(f, method="symbolic")(onp.ones(64))
    assert time.perf_counter() - start < 5.0  # refused before any SymPy work
    rows = {r.method: r for r in dk.compare(f, onp.ones(64)).rows}
    assert "too large for the symbolic method" in rows["symbolic"].note
