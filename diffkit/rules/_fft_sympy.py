"""SymPy rules for :mod:`diffkit.numpy.fft`: the DFT written out as sums.

``fft`` of ``n`` points is the matrix product ``y[k] = sum_j a[j] w**(j k)``
with ``w = exp(-2 pi i / n)``, an exact root of unity for SymPy (``-I`` for
``n = 4``, ``sqrt(2)/2 - sqrt(2)*I/2`` for ``n = 8``...).  Every transform is
built from that one sum, applied along one axis at a time, exactly as NumPy
defines it:

* ``fftn``/``ifftn``: the 1-d transform along each axis (``ifft`` with
  ``w`` conjugated and, by default, divided by ``n``);
* ``rfftn``: the last axis first, keeping the ``n//2 + 1`` non-negative
  frequencies, then the other axes;
* ``irfftn``: the other axes first, then the last one rebuilt from its half
  spectrum (each missing bin is the conjugate of its mirror) and its real
  part taken, which is also how NumPy ignores the imaginary parts of the DC
  and Nyquist bins.

The transform of ``n`` points is ``n**2`` products, so the symbolic method
suits the small signals of a lesson; its budget stops larger ones.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit import numpy as np
from diffkit.backends.symbolic import as_object
from diffkit.primitives import defsympy
from diffkit.rules.fft import _plan


def _sympy() -> Any:
    import sympy

    return sympy


def _fit(a: _np.ndarray, axis: int, n: int) -> _np.ndarray:
    """``a`` cropped, or padded with zeros, to ``n`` points along ``axis``."""
    have = a.shape[axis]
    if have >= n:
        return _np.take(a, range(n), axis=axis)
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, n - have)
    return _np.pad(a, pad, constant_values=_sympy().S.Zero)


def _scale(n: int, norm: Any, inverse: bool) -> Any:
    sp = _sympy()
    if norm == "ortho":
        return 1 / sp.sqrt(n)
    divide = (norm == "forward") != inverse  # "backward" (None) scales the inverse
    return sp.Rational(1, n) if divide else sp.S.One


def _dft(a: _np.ndarray, axis: int, n: int, norm: Any, inverse: bool) -> _np.ndarray:
    """The 1-d DFT of the object array ``a`` along ``axis``, of ``n`` points."""
    sp = _sympy()
    a = _fit(a, axis, n)
    sign = 1 if inverse else -1
    # cos and sin of 2 pi jk/n: SymPy gives exact values (sqrt(2)/2 ...), and
    # the real and imaginary parts stay apart for the derivative.
    angle = [2 * sp.pi * sp.Rational(m, n) for m in range(n)]
    roots = [sp.cos(t) + sign * sp.I * sp.sin(t) for t in angle]
    w = _np.array([[roots[(j * k) % n] for k in range(n)] for j in range(n)],
                  dtype=object)
    out = _np.tensordot(_np.moveaxis(a, axis, -1), w, axes=1)
    out = _np.moveaxis(out, -1, axis)
    scale = _scale(n, norm, inverse)
    if scale != 1:
        out = out * scale
    return _np.vectorize(lambda e: sp.expand(e), otypes=[object])(out)


def _complex_nd(inverse: bool) -> Any:
    def rule(a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
        a = as_object(a)
        axes, lengths = _plan(a.shape, s, axes)
        for axis, n in zip(axes, lengths, strict=True):
            a = _dft(a, axis, n, norm, inverse)
        return a

    return rule


def _rfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    a = as_object(a)
    axes, lengths = _plan(a.shape, s, axes)
    last, n = axes[-1], lengths[-1]
    a = _np.take(_dft(a, last, n, norm, False), range(n // 2 + 1), axis=last)
    for axis, m in zip(axes[:-1], lengths[:-1], strict=True):
        a = _dft(a, axis, m, norm, False)
    return a


def _irfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    sp = _sympy()
    a = as_object(a)
    axes, lengths = _plan(a.shape, s, axes, inverse_real=True)
    for axis, m in zip(axes[:-1], lengths[:-1], strict=True):
        a = _dft(a, axis, m, norm, True)
    last, n = axes[-1], lengths[-1]
    half = _fit(a, last, n // 2 + 1)
    mirror = _np.vectorize(sp.conjugate, otypes=[object])(
        _np.take(half, [n - k for k in range(n // 2 + 1, n)], axis=last))
    full = _np.concatenate([half, mirror], axis=last)
    return _np.vectorize(lambda e: sp.re(e), otypes=[object])(
        _dft(full, last, n, norm, True))


def _one_d(rule: Any) -> Any:
    def one_d(a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
        return rule(a, None if n is None else (n,), (axis,), norm)

    return one_d


def _two_d(rule: Any) -> Any:
    def two_d(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None) -> Any:
        return rule(a, s, axes, norm)

    return two_d


for _nd, _1d, _2d, _rule in [
    (np.fft.fftn, np.fft.fft, np.fft.fft2, _complex_nd(False)),
    (np.fft.ifftn, np.fft.ifft, np.fft.ifft2, _complex_nd(True)),
    (np.fft.rfftn, np.fft.rfft, np.fft.rfft2, _rfftn),
    (np.fft.irfftn, np.fft.irfft, np.fft.irfft2, _irfftn),
]:
    defsympy(_nd, _rule)
    defsympy(_1d, _one_d(_rule))
    defsympy(_2d, _two_d(_rule))

# A rotation of the elements: NumPy's own function moves SymPy objects too.
defsympy(np.fft.fftshift, lambda x, axes=None: _np.fft.fftshift(as_object(x), axes))
defsympy(np.fft.ifftshift, lambda x, axes=None: _np.fft.ifftshift(as_object(x), axes))
