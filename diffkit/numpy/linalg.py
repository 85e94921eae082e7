"""``diffkit.numpy.linalg``: NumPy's linear algebra, differentiable.

Each function is a primitive with VJP and JVP rules written in matrix
calculus (see :mod:`diffkit.rules.linalg`); ``norm`` is built from
primitives so that every ``ord`` works in every mode.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit.primitives import Primitive

__all__ = [
    "inv", "det", "slogdet", "solve", "norm", "cholesky", "eigh", "eigvalsh",
    "pinv", "matrix_power", "LinAlgError",
]

LinAlgError = _np.linalg.LinAlgError

inv = Primitive(_np.linalg.inv, "inv", latex=r"\operatorname{inv}", cost=3)
det = Primitive(_np.linalg.det, "det", latex=r"\det", cost=3)
solve = Primitive(_np.linalg.solve, "solve", latex=r"\operatorname{solve}", cost=3)
cholesky = Primitive(_np.linalg.cholesky, "cholesky", cost=3)
pinv = Primitive(_np.linalg.pinv, "pinv", cost=3)


def _logabsdet(a: Any) -> Any:
    return _np.linalg.slogdet(a)[1]


def _eigh_values(a: Any, UPLO: str = "L") -> Any:
    return _np.linalg.eigh(a, UPLO=UPLO)[0]  # type: ignore[call-overload]


def _eigh_vectors(a: Any, UPLO: str = "L") -> Any:
    return _np.linalg.eigh(a, UPLO=UPLO)[1]  # type: ignore[call-overload]


def _vector_2norm(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _np.sqrt(_np.sum(_np.abs(x) ** 2, axis=axis, keepdims=keepdims))


logabsdet = Primitive(_logabsdet, "logabsdet", latex=r"\log|\det|", cost=3)
eigh_values = Primitive(_eigh_values, "eigh_values", cost=3)
eigh_vectors = Primitive(_eigh_vectors, "eigh_vectors", cost=3)
norm2 = Primitive(_vector_2norm, "norm", latex=r"\lVert\cdot\rVert", cost=2)


def slogdet(a: Any) -> tuple[Any, Any]:
    """Sign and log of the absolute determinant; only the log is differentiable."""
    from diffkit import numpy as dnp

    return dnp.sign(det(a)), logabsdet(a)


def eigh(a: Any, UPLO: str = "L") -> tuple[Any, Any]:
    """Eigenvalues and eigenvectors of a symmetric matrix (differentiable both)."""
    return eigh_values(a, UPLO=UPLO), eigh_vectors(a, UPLO=UPLO)


def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """Eigenvalues of a symmetric matrix."""
    return eigh_values(a, UPLO=UPLO)


def matrix_power(a: Any, n: int) -> Any:
    """``a`` multiplied by itself ``n`` times (``n`` a non-negative integer here)."""
    from diffkit import numpy as dnp

    if n < 0:
        return matrix_power(inv(a), -n)
    result = dnp.eye(dnp.shape(a)[-1])
    for _ in range(n):
        result = dnp.matmul(result, a)
    return result


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Vector or matrix norm, as :func:`numpy.linalg.norm`.

    The 2-norm's gradient at ``x = 0`` is taken to be 0 (a subgradient),
    not NaN.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.grad(np.linalg.norm)(np.array([3.0, 4.0]))  # doctest: +SKIP
    array([0.6, 0.8])
    """
    from diffkit import numpy as dnp

    nd = dnp.ndim(x)
    if ord is None or (ord == 2 and (nd == 1 or axis is not None and
                                     _np.ndim(axis) == 0)) or ord == "fro":
        return norm2(x, axis=axis, keepdims=keepdims)
    vector = nd == 1 or (axis is not None and _np.ndim(axis) == 0)
    if vector:
        a = dnp.abs(x)
        if ord == _np.inf:
            return dnp.max(a, axis=axis, keepdims=keepdims)
        if ord == -_np.inf:
            return dnp.min(a, axis=axis, keepdims=keepdims)
        if ord == 0:
            return dnp.sum(a != 0, axis=axis, keepdims=keepdims)
        if ord == 1:
            return dnp.sum(a, axis=axis, keepdims=keepdims)
        return dnp.sum(a ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)
    row, col = (-2, -1) if axis is None else axis
    a = dnp.abs(x)
    if ord == 1:
        return dnp.max(dnp.sum(a, axis=row, keepdims=True), axis=col,
                       keepdims=True).reshape(_reduced(x, (row, col), keepdims))
    if ord == _np.inf:
        return dnp.max(dnp.sum(a, axis=col, keepdims=True), axis=row,
                       keepdims=True).reshape(_reduced(x, (row, col), keepdims))
    if ord == "nuc" or ord in (2, -2):
        raise NotImplementedError(
            f"diffkit.numpy.linalg.norm(ord={ord!r}) on matrices needs singular "
            "values, which diffkit does not differentiate yet; use ord='fro'."
        )
    raise ValueError(f"Invalid norm order {ord!r} for matrices.")


def _reduced(x: Any, axes: tuple, keepdims: bool) -> tuple:
    shape = list(_np.shape(x))
    axes = tuple(a % len(shape) for a in axes)
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)
