"""``diffkit.numpy.fft`` against sources that share nothing with its rules.

* **Explicit DFT matrices.**  :func:`reference` recomputes every transform from
  ``exp(-2 pi i j k / n)`` -- cropping or zero-padding, scaling by each
  ``norm``, and for the inverse real transforms the textbook Hermitian
  extension of half a spectrum.  Each transform is linear, so its Jacobian
  is that reference applied to unit vectors (and to ``i`` times unit
  vectors for complex inputs); forward and reverse mode must reproduce it,
  and the Hessian of ``sum(w * sin(transform))``, ``J^T diag(-w sin) J``.
* **Finite differences**, by ``dk.check_grads`` to second order in both
  modes, on real-valued losses of the (complex) results.
* **Closed forms**: Parseval's theorem in every norm, for complex and real
  signals and half spectra, and the inverse shifts.

Every case of ``CASES`` goes through the first two; together they cover 1-d,
2-d and n-d transforms, padding and cropping, axes in any order, every norm,
real transforms of even and odd length, and real and complex inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np
from diffkit.primitives import Primitive

MODES = ("forward", "reverse")


def rand(*shape: int, complex_: bool = False, seed: int = 0) -> Any:
    rng = onp.random.default_rng(seed + 10 * len(shape))
    x = rng.uniform(-1, 1, shape)
    return x + 1j * rng.uniform(-1, 1, shape) if complex_ else x


# --- the reference: DFT matrices, one axis at a time ---------------------------------
def dft_matrix(n: int) -> Any:
    j = onp.arange(n)
    return onp.exp(-2j * onp.pi * onp.outer(j, j) / n)


def scale(n: int, norm: str | None, inverse: bool) -> float:
    """The divisor NumPy's ``norm`` puts on a transform of ``n`` points."""
    forward, backward = {None: (1, n), "backward": (1, n), "forward": (n, 1),
                         "ortho": (onp.sqrt(n), onp.sqrt(n))}[norm]
    return backward if inverse else forward


def fit(x: Any, n: int, axis: int) -> Any:
    """Crop or zero-pad ``x`` at the end of ``axis`` to ``n`` entries."""
    x = onp.moveaxis(x, axis, 0)[:n]
    pad = onp.zeros((n - len(x),) + x.shape[1:], dtype=x.dtype)
    return onp.moveaxis(onp.concatenate([x, pad]), 0, axis)


def along(x: Any, axis: int, matrix: Any) -> Any:
    """``y[k] = sum_j matrix[k, j] x[j]`` along ``axis``."""
    return onp.moveaxis(onp.tensordot(matrix, onp.moveaxis(x, axis, 0), axes=1),
                        0, axis)


def complex_1d(x: Any, n: int, axis: int, norm: str | None, inverse: bool) -> Any:
    m = dft_matrix(n)
    return along(fit(x, n, axis), axis, (m.conj() if inverse else m)
                 / scale(n, norm, inverse))


def real_to_half(x: Any, n: int, axis: int, norm: str | None) -> Any:
    full = complex_1d(x, n, axis, norm, inverse=False)
    return onp.moveaxis(onp.moveaxis(full, axis, 0)[: n // 2 + 1], 0, axis)


def half_to_real(h: Any, n: int, axis: int, norm: str | None) -> Any:
    """The inverse transform of the whole spectrum whose first half is ``h``:
    bin ``k > n//2`` is the conjugate of bin ``n - k``."""
    h = onp.moveaxis(fit(h, n // 2 + 1, axis), axis, 0)
    k = onp.arange(n)
    mirror = k > n // 2
    full = h[onp.where(mirror, n - k, k)]
    full[mirror] = full[mirror].conj()
    return onp.real(complex_1d(onp.moveaxis(full, 0, axis), n, axis, norm,
                               inverse=True))


ONE_D = {"fft", "ifft", "rfft", "irfft", "hfft", "ihfft"}
TWO_D = {"fft2", "ifft2", "rfft2", "irfft2"}


def reference(name: str, a: Any, *args: Any, **kw: Any) -> Any:
    """``np.fft.<name>(a, ...)`` from DFT matrices (positional or keyword
    options, NumPy's defaults)."""
    a = onp.asarray(a)
    if name in ("fftshift", "ifftshift"):
        axes = kw.get("axes", args[0] if args else None)
        axes = range(a.ndim) if axes is None else onp.atleast_1d(axes)
        for ax in axes:
            n = a.shape[ax]
            a = onp.roll(a, n // 2 if name == "fftshift" else -(n // 2), ax)
        return a
    names = ("n", "axis", "norm") if name in ONE_D else ("s", "axes", "norm")
    opts = dict(zip(names, args, strict=False)) | kw
    norm = opts.get("norm")
    if name in ONE_D:
        axis = opts.get("axis", -1) % a.ndim
        n = opts.get("n")
        if name == "hfft":  # NumPy's definition: irfft of the conjugate
            return half_to_real(a.conj(), 2 * (a.shape[axis] - 1) if n is None
                                else n, axis, {None: "forward", "ortho": "ortho",
                                               "forward": "backward"}[norm])
        if name == "ihfft":
            return real_to_half(a, a.shape[axis] if n is None else n, axis,
                                {None: "forward", "ortho": "ortho",
                                 "forward": "backward"}[norm]).conj()
        axes, s = [axis], None if n is None else [n]
        name = name + "n"
    else:
        axes, s = opts.get("axes", (-2, -1) if name in TWO_D else None), opts.get("s")
        name = name.replace("2", "n")
        if axes is None:
            axes = range(a.ndim)
        axes = [ax % a.ndim for ax in axes]
    inverse_real = name == "irfftn"
    if s is None:
        s = [a.shape[ax] for ax in axes]
        if inverse_real:
            s[-1] = 2 * (a.shape[axes[-1]] - 1)
    s = [a.shape[ax] if n == -1 else n for n, ax in zip(s, axes, strict=True)]
    if name in ("fftn", "ifftn"):
        for n, ax in zip(s, axes, strict=True):
            a = complex_1d(a, n, ax, norm, inverse=name == "ifftn")
        return a
    if name == "rfftn":  # the half spectrum of the last axis, then the others
        a = real_to_half(a, s[-1], axes[-1], norm)
        for n, ax in zip(s[:-1], axes[:-1], strict=True):
            a = complex_1d(a, n, ax, norm, inverse=False)
        return a
    for n, ax in zip(s[:-1], axes[:-1], strict=True):  # irfftn: the reverse
        a = complex_1d(a, n, ax, norm, inverse=True)
    return half_to_real(a, s[-1], axes[-1], norm)


# --- the cases -----------------------------------------------------------------------
@dataclass
class Case:
    name: str
    x: Any
    args: tuple = ()
    kw: dict = field(default_factory=dict)

    def fun(self, a: Any) -> Any:
        return getattr(np.fft, self.name)(a, *self.args, **self.kw)

    def ref(self, a: Any) -> Any:
        return reference(self.name, a, *self.args, **self.kw)

    def __repr__(self) -> str:
        kind = "complex" if onp.iscomplexobj(self.x) else "real"
        opts = [f"{kind}{list(self.x.shape)}", *map(repr, self.args),
                *(f"{k}={v!r}" for k, v in self.kw.items())]
        return f"{self.name}({', '.join(opts)})"


C = dict(complex_=True)
CASES = [
    # complex to complex, 1-d: padding, cropping, axes, norms, real input
    Case("fft", rand(8)), Case("fft", rand(8, **C)),
    Case("fft", rand(8, **C), kw=dict(n=5)), Case("fft", rand(6), (11,)),
    Case("fft", rand(5, 3, **C), kw=dict(axis=0, norm="ortho")),
    Case("fft", rand(3, 4, **C), (6, -1, "forward")),
    Case("ifft", rand(6, **C)), Case("ifft", rand(5, **C), kw=dict(n=9)),
    Case("ifft", rand(4, 3, **C), kw=dict(axis=0, norm="forward")),
    Case("ifft", rand(7), kw=dict(n=4, norm="ortho")),
    # 2-d and n-d
    Case("fft2", rand(3, 4, **C)), Case("fft2", rand(3, 4), kw=dict(s=(4, 5))),
    Case("fft2", rand(3, 2, 4, **C), kw=dict(s=(2, 3), axes=(0, 2), norm="ortho")),
    Case("ifft2", rand(3, 4, **C), kw=dict(norm="forward")),
    Case("ifft2", rand(2, 3, 3, **C), kw=dict(s=(4, 2), axes=(2, 1))),
    Case("fftn", rand(2, 3, 4, **C)), Case("fftn", rand(2, 3, 4, **C),
                                            kw=dict(axes=(1,), norm="ortho")),
    Case("fftn", rand(2, 3, 4), kw=dict(s=(3, 2), axes=(2, 0))),
    Case("ifftn", rand(2, 3, 2, **C)),
    Case("ifftn", rand(2, 3, 2, **C), kw=dict(s=(3, -1, 3), axes=(0, 1, 2),
                                               norm="forward")),
    # real to half spectrum: even and odd n, padding, cropping, axes, norms
    Case("rfft", rand(8)), Case("rfft", rand(7)), Case("rfft", rand(9), (6,)),
    Case("rfft", rand(6), kw=dict(n=11, norm="ortho")),
    Case("rfft", rand(6, 3), (7, 0, "forward")),
    Case("rfft2", rand(4, 5)), Case("rfft2", rand(4, 5), kw=dict(s=(3, 6))),
    Case("rfft2", rand(4, 5), kw=dict(axes=(1, 0), norm="ortho")),
    Case("rfftn", rand(2, 3, 4)), Case("rfftn", rand(2, 3, 4), kw=dict(
        s=(3, 5), axes=(0, 2), norm="forward")),
    Case("rfftn", rand(2, 3, 4), kw=dict(s=(-1, 3), axes=(1, 0))),
    # half spectrum to real: default n, odd n, cropping, padding, real input
    Case("irfft", rand(5, **C)), Case("irfft", rand(5, **C), kw=dict(n=7)),
    Case("irfft", rand(5, **C), kw=dict(n=4)),
    Case("irfft", rand(4, **C), (12, -1, "ortho")), Case("irfft", rand(4), (5,)),
    Case("irfft", rand(4, 3, **C), kw=dict(axis=0, norm="forward")),
    Case("irfft2", rand(3, 4, **C)), Case("irfft2", rand(3, 4, **C),
                                          kw=dict(s=(4, 5), norm="ortho")),
    Case("irfft2", rand(4, 3, 2, **C), kw=dict(axes=(1, 0))),
    Case("irfftn", rand(2, 3, 3, **C)),
    Case("irfftn", rand(2, 3, 3, **C), kw=dict(s=(2, 3, 5), axes=(0, 1, 2),
                                                norm="forward")),
    Case("irfftn", rand(2, 3, 3, **C), kw=dict(s=(4, 4), axes=(2, 1))),
    # shifts, and the Hermitian transforms built from the real ones
    Case("fftshift", rand(5)), Case("fftshift", rand(4, 5), kw=dict(axes=1)),
    Case("fftshift", rand(3, 4, **C)), Case("ifftshift", rand(5)),
    Case("ifftshift", rand(4, 5, **C), kw=dict(axes=(0,))),
    Case("hfft", rand(4, **C), kw=dict(n=7)), Case("hfft", rand(5, **C)),
    Case("ihfft", rand(6), kw=dict(norm="ortho")), Case("ihfft", rand(7)),
]


def realified(c: Case) -> tuple[Callable[[Any], Any], Any]:
    """The case as a function of one real vector to one real vector: complex
    inputs and outputs are split into real and imaginary parts."""
    shape, size = c.x.shape, c.x.size
    is_complex = onp.iscomplexobj(c.x)

    def flat(y: Any) -> Any:
        y = np.ravel(y)
        return np.concatenate([np.real(y), np.imag(y)]) if np.iscomplexobj(y) else y

    def fun(v: Any) -> Any:
        a = v[:size] + 1j * v[size:] if is_complex else v
        return flat(c.fun(np.reshape(a, shape)))

    v = onp.concatenate([c.x.real.ravel(), c.x.imag.ravel()]) if is_complex \
        else c.x.ravel()
    return fun, v


def reference_jacobian(c: Case) -> Any:
    """Column ``k``: the reference transform of unit vector ``k`` (times ``i``
    for the imaginary parts of a complex input) -- exact, since it is linear."""
    size = c.x.size
    units = list(onp.eye(size))
    if onp.iscomplexobj(c.x):
        units += [1j * e for e in onp.eye(size)]
    columns = []
    for e in units:
        y = onp.ravel(c.ref(e.reshape(c.x.shape)))
        columns.append(onp.concatenate([y.real, y.imag]) if onp.iscomplexobj(
            c.ref(c.x)) else y)
    return onp.stack(columns, axis=1)


# --- values, Jacobians and Hessians against the DFT matrices --------------------------
def test_every_transform_has_rules_and_cases():
    prims = {n: p for n, p in vars(np.fft).items() if isinstance(p, Primitive)}
    assert set(prims) == {"fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft",
                          "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
                          "fftshift", "ifftshift"}
    for name, prim in prims.items():
        assert prim.name == name
        assert sorted(prim.vjps) == sorted(prim.jvps) == [0], name
        assert prim.tape_reads is not None, name
    assert {c.name for c in CASES} >= set(prims) | {"hfft", "ihfft"}


@pytest.mark.parametrize("c", CASES, ids=repr)
def test_values_match_dft_matrices(c):
    onp.testing.assert_allclose(c.fun(c.x), c.ref(c.x), rtol=1e-12, atol=1e-12)
    numpy_name = getattr(onp.fft, c.name)
    onp.testing.assert_array_equal(c.fun(c.x), numpy_name(c.x, *c.args, **c.kw))


@pytest.mark.parametrize("c", CASES, ids=repr)
def test_jacobians_match_dft_matrices(c):
    fun, v = realified(c)
    expected = reference_jacobian(c)
    for method in MODES:
        onp.testing.assert_allclose(dk.jacobian(fun, method=method)(v), expected,
                                    rtol=1e-12, atol=1e-12, err_msg=method)


@pytest.mark.parametrize("c", CASES, ids=repr)
def test_hessians_match_dft_matrices(c):
    # The transform is linear, J v, so sum(w * sin(J v)) has the Hessian
    # J^T diag(-w sin(J v)) J.
    fun, v = realified(c)
    j = reference_jacobian(c)
    w = rand(j.shape[0], seed=3)
    expected = j.T @ ((-w * onp.sin(j @ v))[:, None] * j)

    def scalar(v):
        return np.sum(w * np.sin(fun(v)))

    for method in ("forward", "reverse"):  # forward-over-reverse, reverse-over-reverse
        onp.testing.assert_allclose(dk.hessian(scalar, method=method)(v), expected,
                                    rtol=1e-10, atol=1e-10, err_msg=method)


# --- finite differences ------------------------------------------------------------
def loss(y: Any) -> Any:
    """A real-valued, nonlinear function of a (complex) result: what users write."""
    if np.iscomplexobj(y):
        return np.sum(np.sin(np.real(y) - 0.5 * np.imag(y)) + np.abs(y) ** 2 / 4)
    return np.sum(np.sin(y) + y ** 2 / 4)


@pytest.mark.parametrize("c", CASES, ids=repr)
def test_check_grads_to_second_order(c):
    dk.check_grads(lambda a: loss(c.fun(a)), c.x, modes=MODES, order=2)


# --- closed forms ------------------------------------------------------------------
@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("norm, factor", [(None, 8.0), ("backward", 8.0),
                                          ("ortho", 1.0), ("forward", 1 / 8)])
def test_parseval_for_fft(method, norm, factor):
    # sum |fft(x)|^2 = factor * sum |x|^2, so the gradient is 2 factor x for a
    # real x and 2 factor conj(z) for a complex z (the gradient of |z|^2).
    x, z = rand(8), rand(8, **C)

    def energy(x):
        return np.sum(np.abs(np.fft.fft(x, norm=norm)) ** 2)

    onp.testing.assert_allclose(dk.grad(energy, method=method)(x), 2 * factor * x)
    onp.testing.assert_allclose(dk.grad(energy, method=method)(z),
                                2 * factor * z.conj())
    assert onp.isrealobj(dk.grad(energy, method=method)(x))


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("n", [7, 8])
def test_parseval_for_half_spectra(method, n):
    # The middle bins of rfft stand for two bins of the whole spectrum, and
    # irfft's output energy is (1/n) of the spectrum's: for a half spectrum
    # h, sum(irfft(h)^2) = (|Re h_0|^2 + 2 sum |h_mid|^2 + |Re h_nyq|^2) / n,
    # so the gradient is (2/n) times h weighted 1, 2, 1 -- real at DC and at
    # Nyquist (their imaginary parts are ignored).
    weights = onp.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    x = rand(n)
    np_energy = lambda x: np.sum(weights * np.abs(np.fft.rfft(x)) ** 2)
    onp.testing.assert_allclose(dk.grad(np_energy, method=method)(x), 2 * n * x)

    h = rand(n // 2 + 1, **C)
    expected = 2 / n * weights * h.conj()
    expected[0] = expected[0].real
    if n % 2 == 0:
        expected[-1] = expected[-1].real
    got = dk.grad(lambda h: np.sum(np.fft.irfft(h, n) ** 2), method=method)(h)
    onp.testing.assert_allclose(got, expected, atol=1e-15)


@pytest.mark.parametrize("method", MODES)
def test_round_trips_and_shifts_have_identity_gradients(method):
    x, c = rand(3, 7), rand(3, 7, seed=1)
    back = lambda x: np.sum(c * np.fft.irfftn(np.fft.rfftn(x), s=(3, 7), axes=(0, 1)))
    onp.testing.assert_allclose(dk.grad(back, method=method)(x), c)
    shifted = lambda x: np.sum(c * np.fft.fftshift(x))
    onp.testing.assert_allclose(dk.grad(shifted, method=method)(x),
                                onp.fft.ifftshift(c))
    unshifted = lambda x: np.sum(c * np.fft.ifftshift(x, axes=1))
    onp.testing.assert_allclose(dk.grad(unshifted, method=method)(x),
                                onp.fft.fftshift(c, axes=1))


def test_hessian_of_the_energy_is_2n_times_identity():
    energy = lambda x: np.sum(np.abs(np.fft.fft2(x)) ** 2)
    x = rand(2, 3)
    for method in MODES:
        h = dk.hessian(energy, method=method)(x)
        onp.testing.assert_allclose(h.reshape(6, 6), 12 * onp.eye(6), atol=1e-12)


# --- what the other methods and the edges do -----------------------------------------
def test_fftfreq_and_rfftfreq_are_numpys():
    assert np.fft.fftfreq is onp.fft.fftfreq
    assert np.fft.rfftfreq is onp.fft.rfftfreq


def test_symbolic_method_differentiates_and_compare_uses_it():
    # tests/test_fft_symbolic.py has the rest; Parseval: d/dx sum|fft(x)|^2 = 2 n x
    f = lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2)
    x = rand(4)
    onp.testing.assert_allclose(dk.grad(f, method="symbolic")(x), 8 * x, rtol=1e-12)
    rows = {r.method: r for r in dk.compare(f, x).rows}
    onp.testing.assert_allclose(rows["symbolic"].value, 8 * x, rtol=1e-12)
    onp.testing.assert_allclose(rows["reverse"].value, 8 * x)


def test_repeated_axes_are_refused_when_differentiating():
    x = rand(4, 3)
    with pytest.raises(NotImplementedError, match="distinct axes"):
        dk.grad(lambda x: np.sum(np.real(np.fft.fftn(x, axes=(0, 0)))))(x)
