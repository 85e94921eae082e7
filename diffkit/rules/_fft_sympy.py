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
from diffkit.backends.symbolic import as_object, tick
from diffkit.errors import NotApplicable
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


#: Products a transform may write out (``n**2`` per transformed line), about
#: a 20-point signal: SymPy's ``Abs`` of such sums already takes seconds (a
#: 32-point energy took 15 s), so beyond this the symbolic method says it
#: does not apply rather than run for minutes.
MAX_TERMS = 400


def _dft(a: _np.ndarray, axis: int, n: int, norm: Any, inverse: bool) -> _np.ndarray:
    """The 1-d DFT of the object array ``a`` along ``axis``, of ``n`` points."""
    sp = _sympy()
    a = _fit(a, axis, n)
    lines = a.size // n if n else 0
    if lines * n * n > MAX_TERMS:
        raise NotApplicable(
            f"a Fourier transform of {n} points written out as a formula has "
            f"{n}**2 products per line ({lines * n * n:,} in all, more than "
            f"{MAX_TERMS:,}): too large for the symbolic method. Use method="
            "'forward' or 'reverse', or a shorter signal.")
    sign = 1 if inverse else -1
    # cos and sin of 2 pi m/n: SymPy gives exact values (sqrt(2)/2 ...).
    roots = [sp.cos(2 * sp.pi * sp.Rational(m, n))
             + sign * sp.I * sp.sin(2 * sp.pi * sp.Rational(m, n)) for m in range(n)]
    scale = _scale(n, norm, inverse)
    lines_first = _np.moveaxis(a, axis, -1)
    out = _np.empty(lines_first.shape, dtype=object)
    for index in _np.ndindex(lines_first.shape[:-1]):
        line = lines_first[index]
        for k in range(n):
            # One n-ary Add per bin: adding the terms one by one would
            # rebuild (and re-flatten) the sum n times.
            out[index + (k,)] = scale * sp.Add(*[line[j] * roots[(j * k) % n]
                                                 for j in range(n)])
        tick("writing out a Fourier transform")
    return _np.moveaxis(out, -1, axis)


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
