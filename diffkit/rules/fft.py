"""Derivative rules for :mod:`diffkit.numpy.fft`: linear maps and their transposes.

Every transform is linear, so both rules apply a transform again:

* **forward mode** pushes the tangent through the same transform.  The
  tangent carries a batch axis in front, so the transformed axes are
  counted from the right.
* **reverse mode** pulls the cotangent back through the *transpose*.
  diffkit's complex convention (docs/complex.md) makes the cotangent of
  ``y = M z`` equal to ``M^T y_bar`` -- transposed, not conjugated -- and the
  DFT matrix ``exp(-2 pi i j k / n)`` is symmetric, so ``fft`` pulls back
  through ``fft`` itself and ``ifft`` through ``ifft``.  Cropping or
  zero-padding the input to ``n`` points transposes to zero-padding or
  cropping the cotangent back to the input's length (:func:`_fit`).

Each 1-d and 2-d transform is an n-d transform over some axes, so the rules
are written once, for ``fftn`` and its relatives.

**The real transforms.**  ``rfftn`` is ``fftn`` followed by ``R``, which
keeps the first ``n//2 + 1`` bins of the last axis.  The cotangent of its
real input is therefore ``Re(F^T R^T y_bar)``: the half spectrum ``y_bar``
completed with zeros and transformed.  ``irfftn`` computes real parts of
exactly this kind, except that it counts every middle bin -- neither DC nor,
for even ``n``, Nyquist -- twice, for itself and for its conjugate mirror.
Halving those bins first gives

    x_bar = irfftn(w * conj(y_bar)),   w = 1 at DC and Nyquist, 1/2 between,

with the norm of the opposite direction so that the scale factors match (and
half the work of a complex transform of the completed spectrum).  Read the
other way, ``irfftn(h)`` is ``Re(conj(F) R^T W h)`` with ``W = 1/w``; its
transpose, on a real cotangent, is

    h_bar = W * conj(rfftn(y_bar)).

Both were checked against explicit DFT matrices (``tests/test_fft.py``).
Every rule is written with :mod:`diffkit.numpy`, so they differentiate again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as _np

from diffkit import numpy as np
from diffkit.numpy.fft import _OPPOSITE
from diffkit.primitives import Primitive, defjvp, deftape, defvjp
from diffkit.rules._axes import from_right


def _plan(shape: tuple[int, ...], s: Any, axes: Any, inverse_real: bool = False
          ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The transformed axes (non-negative) and the length along each, as NumPy
    chooses them for an input of ``shape``: every axis by default, the last
    ``len(s)`` axes when only ``s`` is given, ``-1`` in ``s`` for the input's
    own length, and ``2 * (m - 1)`` on the last axis of an inverse real
    transform of ``m`` bins."""
    ndim = len(shape)
    if axes is None:
        axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    axes = tuple(int(a) % ndim for a in axes)
    if len(set(axes)) != len(axes):
        raise NotImplementedError(
            f"diffkit differentiates Fourier transforms over distinct axes; got "
            f"axes={axes}. Transform one axis at a time instead.")
    if s is None:
        lengths = [shape[a] for a in axes]
        if inverse_real:
            lengths[-1] = 2 * (shape[axes[-1]] - 1)
    else:
        lengths = [shape[a] if n == -1 else int(n) for n, a in zip(s, axes,
                                                                    strict=True)]
    return axes, tuple(lengths)


def _fit(g: Any, shape: tuple[int, ...], axes: Sequence[int]) -> Any:
    """``g`` cropped or zero-padded at the end of ``axes`` to ``shape``.

    A transform of ``n`` points first crops or zero-pads its input to ``n``;
    the transpose of cropping is zero-padding, and the transpose of
    zero-padding is cropping, so this undoes the change of length.
    """
    have = np.shape(g)
    crop = tuple(slice(0, shape[i]) if i in axes and have[i] > shape[i]
                 else slice(None) for i in range(len(shape)))
    if any(c.stop is not None for c in crop):
        g = g[crop]
    widths = [(0, max(shape[i] - have[i], 0) if i in axes else 0)
              for i in range(len(shape))]
    if any(after for _, after in widths):
        g = np.pad(g, widths)
    return g


def _like(x: Any, cotangent: Any) -> Any:
    """The cotangent of a real ``x`` is the real part (the complex convention)."""
    if np.iscomplexobj(cotangent) and not np.iscomplexobj(x):
        return np.real(cotangent)
    return cotangent


def _bin_weights(n: int, axis: int, ndim: int, middle: float) -> Any:
    """Weights of the ``n//2 + 1`` bins of a real transform of ``n`` points:
    1 for DC and (even ``n``) Nyquist, ``middle`` for the bins between, which
    each stand for a conjugate pair.  Shaped to broadcast along ``axis``."""
    w = _np.full(n // 2 + 1, middle)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w.reshape([-1 if i == axis else 1 for i in range(ndim)])


# --- the rules, for n-d transforms --------------------------------------------------
Rule = Callable[[Any, Any, Any, Any, Any], Any]  # (g or t, a, s, axes, norm)


def _complex_vjp(transpose: Primitive) -> Rule:
    """``fftn`` and ``ifftn`` are their own transposes (symmetric matrices)."""
    def vjp(g: Any, a: Any, s: Any, axes: Any, norm: Any) -> Any:
        axes, _ = _plan(np.shape(a), s, axes)
        return _like(a, _fit(transpose(g, axes=axes, norm=norm), np.shape(a), axes))

    return vjp


def _rfftn_vjp(g: Any, a: Any, s: Any, axes: Any, norm: Any) -> Any:
    """``Re(F^T R^T g)``, computed by ``irfftn`` (see the module docstring)."""
    axes, lengths = _plan(np.shape(a), s, axes)
    halve = _bin_weights(lengths[-1], axes[-1], np.ndim(a), 0.5)
    x_bar = np.fft.irfftn(halve * np.conj(g), s=lengths, axes=axes,
                          norm=_OPPOSITE[norm])
    return _fit(x_bar, np.shape(a), axes)


def _irfftn_vjp(g: Any, a: Any, s: Any, axes: Any, norm: Any) -> Any:
    """``W R conj(F) g``: the half spectrum of ``g``, conjugated, with the
    middle bins doubled (see the module docstring)."""
    axes, lengths = _plan(np.shape(a), s, axes, inverse_real=True)
    # The output is real, so only the real part of its cotangent means anything.
    g = np.real(g) if np.iscomplexobj(g) else g
    double = _bin_weights(lengths[-1], axes[-1], np.ndim(a), 2.0)
    h_bar = double * np.conj(np.fft.rfftn(g, axes=axes, norm=_OPPOSITE[norm]))
    return _like(a, _fit(h_bar, np.shape(a), axes))


def _jvp(transform: Primitive) -> Rule:
    """A linear map's derivative is the map: transform the batch of tangents."""
    def jvp(t: Any, a: Any, s: Any, axes: Any, norm: Any) -> Any:
        axes, _ = _plan(np.shape(a), s, axes)
        return transform(t, s=s, axes=from_right(axes, np.ndim(a)), norm=norm)

    return jvp


# --- every public transform, in n-d terms ---------------------------------------------
def _define(prim: Primitive, vjp: Rule, jvp: Rule, default_axes: Any) -> None:
    """Give ``prim`` the n-d rules, its ``n``/``axis`` or ``s``/``axes`` read
    with its own defaults (``"1-d"``: ``n`` and ``axis=-1``)."""
    def one_d(n: Any = None, axis: int = -1, norm: Any = None) -> tuple:
        return (None if n is None else (n,)), (axis,), norm

    def n_d(s: Any = None, axes: Any = default_axes, norm: Any = None) -> tuple:
        return s, axes, norm

    as_nd = one_d if default_axes == "1-d" else n_d
    defvjp(prim, lambda g, ans, a, *args, **kw: vjp(g, a, *as_nd(*args, **kw)))
    defjvp(prim, lambda t, ans, a, *args, **kw: jvp(t, a, *as_nd(*args, **kw)))
    deftape(prim, "shapes")  # the rules read shapes, dtypes and the options


_FFTN_VJP, _IFFTN_VJP = _complex_vjp(np.fft.fftn), _complex_vjp(np.fft.ifftn)
_FAMILIES = [  # the n-d transform, its 1-d and 2-d cases, rules
    (np.fft.fftn, np.fft.fft, np.fft.fft2, _FFTN_VJP, _jvp(np.fft.fftn)),
    (np.fft.ifftn, np.fft.ifft, np.fft.ifft2, _IFFTN_VJP, _jvp(np.fft.ifftn)),
    (np.fft.rfftn, np.fft.rfft, np.fft.rfft2, _rfftn_vjp, _jvp(np.fft.rfftn)),
    (np.fft.irfftn, np.fft.irfft, np.fft.irfft2, _irfftn_vjp, _jvp(np.fft.irfftn)),
]
for _nd, _1d, _2d, _vjp_rule, _jvp_rule in _FAMILIES:
    _define(_nd, _vjp_rule, _jvp_rule, None)
    _define(_1d, _vjp_rule, _jvp_rule, "1-d")
    _define(_2d, _vjp_rule, _jvp_rule, (-2, -1))


# --- fftshift: a rotation, transposed by the opposite rotation -----------------------
defvjp(np.fft.fftshift, lambda g, ans, x, axes=None: np.fft.ifftshift(g, axes))
defvjp(np.fft.ifftshift, lambda g, ans, x, axes=None: np.fft.fftshift(g, axes))
defjvp(np.fft.fftshift, lambda t, ans, x, axes=None: np.fft.fftshift(
    t, from_right(axes, np.ndim(x))))
defjvp(np.fft.ifftshift, lambda t, ans, x, axes=None: np.fft.ifftshift(
    t, from_right(axes, np.ndim(x))))
deftape(np.fft.fftshift, "shapes")
deftape(np.fft.ifftshift, "shapes")
