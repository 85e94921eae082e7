"""``diffkit.numpy.fft``: NumPy's discrete Fourier transforms, differentiable.

The fourteen transforms ``fft``, ``ifft``, ``fft2``, ``ifft2``, ``fftn``,
``ifftn``, ``rfft``, ``irfft``, ``rfft2``, ``irfft2``, ``rfftn``, ``irfftn``,
``fftshift`` and ``ifftshift`` are primitives, with NumPy's signatures
(``n``/``s``, ``axis``/``axes`` and ``norm`` in ``None``/``"backward"``,
``"ortho"``, ``"forward"``; NumPy's ``out=`` is not offered).  ``hfft`` and
``ihfft`` are built from them, and ``fftfreq``/``rfftfreq`` are NumPy's own:
they take sizes, not arrays to differentiate.  On plain arrays every function
gives exactly NumPy's result.

Every transform is *linear*, which makes its derivative rules -- in
:mod:`diffkit.rules.fft` -- short:

* forward mode: the derivative of a linear map is the map itself, so the
  tangent goes through the same transform;
* reverse mode: the cotangent goes through the *transpose*.  The DFT matrix
  ``exp(-2 pi i j k / n)`` is symmetric, so the transpose of ``fft`` is
  ``fft`` again -- not ``ifft``, which is its conjugate transpose up to a
  factor ``1/n``: diffkit's complex convention (docs/complex.md) transposes
  without conjugating.  Zero-padding to ``n`` transposes to cropping, and
  cropping to zero-padding.

The real transforms need one more idea.  ``rfft`` keeps only the first
``n//2 + 1`` bins of the spectrum of a real signal -- the others are their
complex conjugates -- and ``irfft`` rebuilds the whole spectrum from that
half.  Every bin between the zero-frequency (DC) one and the Nyquist one
(for even ``n``) therefore stands for two bins of the full spectrum, and the
rules weigh it twice.

The symbolic method writes each transform out as sums over exact roots of
unity (:mod:`diffkit.rules._fft_sympy`): ``n**2`` terms, for the small
signals of a lesson.

Examples
--------
>>> import diffkit as dk
>>> import diffkit.numpy as np
>>> x = np.array([1.0, 2.0, 0.0, -1.0])
>>> energy = lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2)
>>> dk.grad(energy)(x)  # Parseval: the energy is n * sum(x**2)
array([ 8., 16.,  0., -8.])
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as _np
from numpy.fft import fftfreq, rfftfreq

from diffkit.primitives import Primitive

__all__ = [
    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn",
    "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
    "hfft", "ihfft", "fftshift", "ifftshift", "fftfreq", "rfftfreq",
]

#: How a transform is scaled: NumPy's ``norm`` argument.
Norm = Literal["backward", "ortho", "forward"] | None
Axes = Sequence[int] | None
Lengths = Sequence[int] | None

# A transform of n points costs about n log n operations, more than one pass
# over the data: a cost of 2 in diffkit's cost tables.
_transform = functools.partial(Primitive, cost=2)


# --- complex to complex -------------------------------------------------------------
@functools.partial(Primitive, latex=r"\mathcal{F}", cost=2)
def fft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None) -> Any:
    """One-dimensional discrete Fourier transform along ``axis`` (differentiable).

    ``y[k] = sum(a[j] * exp(-2j * pi * j * k / n))``, with ``a`` first cropped
    or zero-padded to ``n`` points; ``norm`` scales it as in NumPy.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> np.fft.fft(np.array([1.0, 2.0, 0.0, -1.0]))
    array([2.+0.j, 1.-3.j, 0.+0.j, 1.+3.j])
    >>> dk.grad(lambda x: np.real(np.fft.fft(x)[1]))(np.zeros(4))  # cos(2 pi j/4)
    array([ 1.,  0., -1.,  0.])
    """
    return _np.fft.fft(a, n, axis, norm)


@functools.partial(Primitive, latex=r"\mathcal{F}^{-1}", cost=2)
def ifft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None) -> Any:
    """One-dimensional inverse discrete Fourier transform (differentiable).

    ``y[j] = sum(a[k] * exp(2j * pi * j * k / n)) / n`` for the default norm.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> x = np.array([1.0, 2.0, 0.0, -1.0])
    >>> np.real(np.fft.ifft(np.fft.fft(x)))
    array([ 1.,  2.,  0., -1.])
    >>> dk.grad(lambda x: np.sum(np.abs(np.fft.ifft(x)) ** 2))(x)  # 2 x / n
    array([ 0.5,  1. ,  0. , -0.5])
    """
    return _np.fft.ifft(a, n, axis, norm)


@_transform
def fft2(a: Any, s: Lengths = None, axes: Sequence[int] = (-2, -1),
         norm: Norm = None) -> Any:
    """Two-dimensional discrete Fourier transform (differentiable).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> np.real(np.fft.fft2(a))
    array([[10., -2.],
           [-4.,  0.]])
    >>> dk.grad(lambda a: np.real(np.fft.fft2(a)[1, 0]))(a)  # (-1)**row
    array([[ 1.,  1.],
           [-1., -1.]])
    """
    return _np.fft.fft2(a, s, axes, norm)


@_transform
def ifft2(a: Any, s: Lengths = None, axes: Sequence[int] = (-2, -1),
          norm: Norm = None) -> Any:
    """Two-dimensional inverse discrete Fourier transform (differentiable).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> dk.grad(lambda a: np.real(np.fft.ifft2(a)[0, 0]))(a)  # the mean
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    return _np.fft.ifft2(a, s, axes, norm)


@_transform
def fftn(a: Any, s: Lengths = None, axes: Axes = None, norm: Norm = None) -> Any:
    """N-dimensional discrete Fourier transform (differentiable).

    Over every axis by default; as in NumPy, ``s`` without ``axes`` means the
    last ``len(s)`` axes (deprecated by NumPy 2: pass ``axes`` too).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.ones((2, 2, 2))
    >>> float(np.real(np.fft.fftn(a)[0, 0, 0]))
    8.0
    >>> energy = lambda a: np.sum(np.abs(np.fft.fftn(a, norm="ortho")) ** 2)
    >>> dk.grad(energy)(a)[0]  # "ortho" keeps the energy: the gradient is 2 a
    array([[2., 2.],
           [2., 2.]])
    """
    return _np.fft.fftn(a, s, axes, norm)


@_transform
def ifftn(a: Any, s: Lengths = None, axes: Axes = None, norm: Norm = None) -> Any:
    """N-dimensional inverse discrete Fourier transform (differentiable).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.ones((2, 2, 2))
    >>> dk.grad(lambda a: np.real(np.fft.ifftn(a)[0, 0, 0]))(a)[1]  # 1/8 each
    array([[0.125, 0.125],
           [0.125, 0.125]])
    """
    return _np.fft.ifftn(a, s, axes, norm)


# --- real signals: half the spectrum --------------------------------------------------
@_transform
def rfft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None) -> Any:
    """Discrete Fourier transform of a real signal: bins ``0`` to ``n//2``.

    The other bins of a real signal's spectrum are the complex conjugates of
    these, so ``rfft`` leaves them out; ``a`` must be real.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> x = np.array([1.0, 2.0, 0.0, -1.0])
    >>> np.fft.rfft(x)
    array([2.+0.j, 1.-3.j, 0.+0.j])
    >>> def energy(x):  # the middle bins stand for two bins each
    ...     power = np.abs(np.fft.rfft(x)) ** 2
    ...     return power[0] + 2 * np.sum(power[1:-1]) + power[-1]
    >>> dk.grad(energy)(x)  # Parseval again: 2 n x
    array([ 8., 16.,  0., -8.])
    """
    return _np.fft.rfft(a, n, axis, norm)


@_transform
def irfft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None) -> Any:
    """Inverse of :func:`rfft`: ``n`` real points from half a spectrum.

    ``n`` defaults to ``2 * (m - 1)`` for ``m`` input bins, so pass it to
    recover an odd-length signal.  The imaginary parts of the DC bin (and of
    the Nyquist bin, for even ``n``) do not change the result, so their
    derivatives are zero.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> x = np.array([1.0, 2.0, 0.0, -1.0, 3.0])
    >>> np.fft.irfft(np.fft.rfft(x), n=5)
    array([ 1.,  2.,  0., -1.,  3.])
    >>> h = np.array([1.0 + 1.0j, 2.0 - 1.0j, 3.0 + 2.0j])
    >>> dk.grad(lambda h: np.fft.irfft(h)[0])(h)  # bin 1 counts twice
    array([0.25+0.j, 0.5 +0.j, 0.25+0.j])
    """
    return _np.fft.irfft(a, n, axis, norm)


@_transform
def rfft2(a: Any, s: Lengths = None, axes: Sequence[int] = (-2, -1),
          norm: Norm = None) -> Any:
    """Two-dimensional transform of a real array: half of the last axis.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, -1.0]])
    >>> np.fft.rfft2(a).shape
    (2, 2)
    >>> dk.grad(lambda a: np.real(np.fft.rfft2(a)[0, 0]))(a)  # the sum
    array([[1., 1., 1.],
           [1., 1., 1.]])
    """
    return _np.fft.rfft2(a, s, axes, norm)


@_transform
def irfft2(a: Any, s: Lengths = None, axes: Sequence[int] = (-2, -1),
           norm: Norm = None) -> Any:
    """Inverse of :func:`rfft2` (differentiable).

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> a = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, -1.0]])
    >>> np.fft.irfft2(np.fft.rfft2(a), s=a.shape)
    array([[ 1.,  2.,  0.],
           [ 3.,  4., -1.]])
    """
    return _np.fft.irfft2(a, s, axes, norm)


@_transform
def rfftn(a: Any, s: Lengths = None, axes: Axes = None, norm: Norm = None) -> Any:
    """N-dimensional transform of a real array: half of the last axis.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.ones((2, 2, 3))
    >>> np.fft.rfftn(a).shape
    (2, 2, 2)
    >>> dk.grad(lambda a: np.real(np.fft.rfftn(a)[0, 0, 0]))(a)[0]
    array([[1., 1., 1.],
           [1., 1., 1.]])
    """
    return _np.fft.rfftn(a, s, axes, norm)


@_transform
def irfftn(a: Any, s: Lengths = None, axes: Axes = None, norm: Norm = None) -> Any:
    """Inverse of :func:`rfftn` (differentiable).

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> a = np.arange(12.0).reshape(2, 2, 3)
    >>> back = np.fft.irfftn(np.fft.rfftn(a), s=a.shape, axes=(0, 1, 2))
    >>> bool(np.allclose(back, a))
    True
    """
    return _np.fft.irfftn(a, s, axes, norm)


# --- Hermitian signals, from the real transforms --------------------------------------
#: The norm that scales the opposite direction by the same factor: ``n`` points
#: transformed forward with ``norm`` and backward with ``_OPPOSITE[norm]`` are
#: divided by the same number.
_OPPOSITE: dict[Norm, Norm] = {None: "forward", "backward": "forward",
                               "ortho": "ortho", "forward": "backward"}


def hfft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None) -> Any:
    """Transform of a signal with a Hermitian spectrum: real output, as NumPy.

    Built from :func:`irfft` and ``conj``, so it needs no rules of its own.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([1.0, 2.0 - 1.0j, 3.0])
    >>> np.fft.hfft(a)
    array([ 8., -4.,  0.,  0.])
    >>> dk.grad(lambda a: np.fft.hfft(a)[0])(a).real  # bin 1 counts twice
    array([1., 2., 1.])
    """
    from diffkit import numpy as dnp

    return irfft(dnp.conj(a), n, axis, _OPPOSITE[norm])


def ihfft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None) -> Any:
    """Inverse of :func:`hfft`: half the Hermitian spectrum of a real signal.

    Built from :func:`rfft` and ``conj``, so it needs no rules of its own.

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> a = np.array([1.0, 2.0 - 1.0j, 3.0])
    >>> np.fft.ihfft(np.fft.hfft(a))
    array([1.-0.j, 2.-1.j, 3.-0.j])
    """
    from diffkit import numpy as dnp

    return dnp.conj(rfft(a, n, axis, _OPPOSITE[norm]))


# --- moving the zero frequency to the middle ----------------------------------------
@Primitive
def fftshift(x: Any, axes: int | Sequence[int] | None = None) -> Any:
    """Put the zero frequency in the middle of the spectrum (differentiable).

    A rotation of each axis by half its length; :func:`ifftshift` undoes it.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> np.fft.fftshift(np.array([0.0, 1.0, 2.0, -2.0, -1.0]))
    array([-2., -1.,  0.,  1.,  2.])
    >>> dk.grad(lambda x: np.fft.fftshift(x)[0])(np.zeros(5))
    array([0., 0., 0., 1., 0.])
    """
    return _np.fft.fftshift(x, axes)


@Primitive
def ifftshift(x: Any, axes: int | Sequence[int] | None = None) -> Any:
    """Undo :func:`fftshift`: the zero frequency back at index 0.

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> np.fft.ifftshift(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
    array([ 0.,  1.,  2., -2., -1.])
    """
    return _np.fft.ifftshift(x, axes)
