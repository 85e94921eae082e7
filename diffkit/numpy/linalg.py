"""``diffkit.numpy.linalg``: NumPy's linear algebra, differentiable.

``inv``, ``det``, ``solve``, ``cholesky`` and ``pinv`` are primitives, as are
the pieces the decompositions return: ``logabsdet`` (of ``slogdet``),
``eigh_values`` and ``eigh_vectors`` (of ``eigh``), ``svd_values``,
``svd_u`` and ``svd_vh`` (of ``svd``), ``eig_values`` and ``eig_vectors``
(of ``eig``), ``qr_q`` and ``qr_r`` (of ``qr``), and the 2-norm ``norm2``.
Their VJP and JVP rules are written in matrix calculus in
:mod:`diffkit.rules.linalg`.
``norm`` (every ``ord``), ``matrix_power`` and ``multi_dot`` are built from
primitives.  On plain arrays every function gives exactly NumPy's result.

The rest of :mod:`numpy.linalg` (``cond``, ``matrix_rank``, ``lstsq``...) is
reachable here too, without derivatives: on plain arrays it is NumPy's, and
asked for a derivative it raises :class:`~diffkit.errors.MissingRuleError`
naming the function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as _np

from diffkit.errors import MissingRuleError
from diffkit.primitives import Primitive
from diffkit.tracer import Box, unbox

__all__ = [
    "inv", "det", "slogdet", "solve", "norm", "cholesky", "eigh", "eigvalsh",
    "pinv", "matrix_power", "multi_dot", "svd", "svdvals", "eig", "eigvals",
    "qr", "LinAlgError",
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


def _svd_values(a: Any, hermitian: bool = False) -> Any:
    return _np.linalg.svd(a, compute_uv=False, hermitian=hermitian)


def _svd_u(a: Any, full_matrices: bool = True, hermitian: bool = False) -> Any:
    return _np.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian)[0]


def _svd_vh(a: Any, full_matrices: bool = True, hermitian: bool = False) -> Any:
    return _np.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian)[2]


def _eig_values(a: Any) -> Any:
    # eig, not eigvals: the values in the order of the vectors they go with
    return _np.linalg.eig(a)[0]


def _eig_vectors(a: Any) -> Any:
    return _np.linalg.eig(a)[1]


def _qr_q(a: Any, mode: str = "reduced") -> Any:
    return _np.linalg.qr(a, mode=mode)[0]  # type: ignore[call-overload]


def _qr_r(a: Any, mode: str = "reduced") -> Any:
    return _np.linalg.qr(a, mode=mode)[1]  # type: ignore[call-overload]


def _vector_2norm(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    # NumPy's own norm wherever it takes the axes (its sum is a dot product
    # for axis=None, whose rounding differs from a plain sum's), so that a
    # traced norm has exactly NumPy's value; more than two axes are ours.
    if axis is None or _np.ndim(axis) == 0 or len(axis) <= 2:
        return _np.linalg.norm(x, axis=axis, keepdims=keepdims)
    return _np.sqrt(_np.sum(_np.abs(x) ** 2, axis=axis, keepdims=keepdims))


logabsdet = Primitive(_logabsdet, "logabsdet", latex=r"\log|\det|", cost=3)
eigh_values = Primitive(_eigh_values, "eigh_values", cost=3)
eigh_vectors = Primitive(_eigh_vectors, "eigh_vectors", cost=3)
svd_values = Primitive(_svd_values, "svd_values", latex=r"\sigma", cost=3)
svd_u = Primitive(_svd_u, "svd_u", cost=3)
svd_vh = Primitive(_svd_vh, "svd_vh", cost=3)
eig_values = Primitive(_eig_values, "eig_values", latex=r"\lambda", cost=3)
eig_vectors = Primitive(_eig_vectors, "eig_vectors", cost=3)
qr_q = Primitive(_qr_q, "qr_q", cost=3)
qr_r = Primitive(_qr_r, "qr_r", cost=3)
norm2 = Primitive(_vector_2norm, "norm", latex=r"\lVert\cdot\rVert", cost=2)


class SlogdetResult(NamedTuple):
    """``slogdet``'s result, with NumPy's field names."""

    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    """``eigh``'s result, with NumPy's field names."""

    eigenvalues: Any
    eigenvectors: Any


class SVDResult(NamedTuple):
    """``svd``'s result, with NumPy's field names."""

    U: Any
    S: Any
    Vh: Any


class EigResult(NamedTuple):
    """``eig``'s result, with NumPy's field names."""

    eigenvalues: Any
    eigenvectors: Any


class QRResult(NamedTuple):
    """``qr``'s result, with NumPy's field names."""

    Q: Any
    R: Any


def slogdet(a: Any) -> SlogdetResult:
    """Sign and log of the absolute determinant; only the log is differentiable.

    The sign is piecewise constant, so it carries no derivative.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> dk.grad(lambda a: np.linalg.slogdet(a)[1])(a)  # inv(a).T
    array([[ 0.6, -0.2],
           [-0.2,  0.4]])
    """
    sign = _np.linalg.slogdet(unbox(a))[0]
    return SlogdetResult(sign, logabsdet(a))


def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of a real symmetric matrix.

    Both are differentiable where the eigenvalues are distinct.  Only the
    ``UPLO`` triangle of ``a`` is read, as in NumPy; see
    :mod:`diffkit.rules.linalg` for what that means for derivatives.  An
    eigenvector's sign is arbitrary: differentiate quantities that do not
    depend on it, such as ``v * v`` or ``v @ v.T``.

    **Repeated eigenvalues** (``a = I``, say).  There each eigenvalue alone
    has no derivative; diffkit gives ``d lambda_i = v_i^T dA v_i`` with the
    eigenvectors NumPy returns, the same in forward and reverse mode.  A
    function of the eigenvalues that does not care about their order gets
    its true gradient: ``sum(w)`` (the trace) gets ``I``, ``sum(w ** 2)``
    that of the squared Frobenius norm.  The eigenvectors have no
    derivative there: theirs come out infinite or NaN, without a warning,
    so that ``w`` from the same call still differentiates.  Second
    derivatives through the eigenvalues (a Hessian) need those of the
    eigenvectors, so they are NaN at repeated eigenvalues too -- where the
    chain rule cannot tell, rather than a wrong number.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[2.0, 1.0], [1.0, 2.0]])   # eigenvalues 1 and 3
    >>> dk.grad(lambda a: np.linalg.eigh(a)[0][1])(a)  # v v^T, lower triangle
    array([[0.5, 0. ],
           [1. , 0.5]])
    """
    return EighResult(eigh_values(a, UPLO=UPLO), eigh_vectors(a, UPLO=UPLO))


def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) of a real symmetric matrix."""
    return eigh_values(a, UPLO=UPLO)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """Singular value decomposition ``a = U @ (S[..., None] * Vh)``, as NumPy's.

    Returns ``SVDResult(U, S, Vh)``, or only the singular values ``S``
    (descending) when ``compute_uv`` is false.  Stacks of matrices (leading
    axes) are decomposed matrix by matrix.

    **What is differentiable.**

    * The singular values, for real and complex ``a``:
      ``d sigma_i = Re(u_i^H dA v_i)``.  Where two of them are equal, each
      one alone is not differentiable, but symmetric functions of them --
      their sum, the nuclear norm -- still get the right derivative.  A
      singular value 0 has a kink, like ``|x|`` at 0: its derivative is
      taken to be 0 there, the average of the slopes on either side, as
      for ``abs`` (so the nuclear norm's gradient is a subgradient, and
      every matrix norm's gradient at 0 is 0).
    * The singular vectors, where the singular values are distinct and
      nonzero.  At equal singular values the vectors are not
      differentiable and their derivatives come out infinite or NaN; no
      error is raised, so that ``S`` from the same call still
      differentiates.  Second derivatives through ``S`` need those of the
      vectors, so a Hessian there is NaN as well.
    * For a matrix that is not square, ``U`` and ``Vh`` of the *thin*
      decomposition only: with ``full_matrices=True`` the extra columns of
      ``U`` (or rows of ``Vh``) are any orthonormal basis of the rest of the
      space, with no derivative, so differentiating them raises an error
      asking for ``full_matrices=False``.  ``S`` of that call differentiates.

    A pair of singular vectors is unique only up to a common sign (a common
    phase ``e^{i phi}`` for complex ``a``).  For real ``a``, NumPy's sign
    choice does not jump under small changes of ``a``, so the derivatives of
    ``U`` and ``Vh`` themselves are those of the arrays NumPy returns.  For
    complex ``a`` the phase NumPy picks follows no formula; diffkit's
    derivatives keep ``u_i`` and ``v_i`` consistent (``dA`` is always
    reproduced) with the phase of ``v_i`` held fixed, so differentiate
    quantities that do not depend on the phase: ``U @ Vh``, ``u_i u_i^H``,
    ``|U|``, ``S``...

    With ``hermitian=True``, NumPy decomposes ``a`` through ``eigh``, which
    reads only the lower triangle (and the real part of the diagonal); the
    derivative is that of this function of ``a``, zero on the strict upper
    triangle, as for :func:`eigh`.

    Examples
    --------
    The gradient of the nuclear norm ``sum(S)`` is ``U @ Vh``:

    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[3.0, 0.0], [4.0, 5.0]])
    >>> grad = dk.grad(lambda a: np.sum(np.linalg.svd(a).S))(a)
    >>> u, s, vh = np.linalg.svd(a)
    >>> bool(np.allclose(grad, u @ vh))
    True
    >>> s
    array([6.70820393, 2.23606798])
    """
    if not isinstance(a, Box):
        if not compute_uv:
            return _np.linalg.svd(a, compute_uv=False, hermitian=hermitian)
        return SVDResult(*_np.linalg.svd(a, full_matrices=full_matrices,
                                         hermitian=hermitian))
    values = svd_values(a, hermitian=hermitian)
    if not compute_uv:
        return values
    return SVDResult(svd_u(a, full_matrices=full_matrices, hermitian=hermitian),
                     values,
                     svd_vh(a, full_matrices=full_matrices, hermitian=hermitian))


def svdvals(x: Any) -> Any:
    """Singular values of ``x`` (or of each matrix of a stack), descending.

    The same as ``svd(x, compute_uv=False)``: differentiable for real and
    complex matrices, with gradient ``conj(u_i) v_i^T`` for ``sigma_i``
    (0 where ``sigma_i = 0``, a kink; see :func:`svd`).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[2.0, 0.0], [0.0, -3.0]])
    >>> np.linalg.svdvals(a)
    array([3., 2.])
    >>> dk.grad(lambda a: np.linalg.svdvals(a)[0])(a)  # u_1 v_1^T
    array([[ 0.,  0.],
           [ 0., -1.]])
    """
    if not isinstance(x, Box):
        return _np.linalg.svd(x, compute_uv=False)
    return svd_values(x)


def eig(a: Any) -> EigResult:
    """Eigenvalues and right eigenvectors of a general square matrix (or stack).

    As :func:`numpy.linalg.eig`: the eigenvalues come in no particular
    order, and ``eigenvectors[..., :, i]`` belongs to ``eigenvalues[..., i]``.
    For a real matrix the result is complex unless every eigenvalue is
    real.  Both are differentiable where the eigenvalues are distinct, for
    real and complex ``a``; for a real ``a`` the gradient of a real function
    of complex eigenvalues is real, as in autograd and JAX
    (``docs/complex.md``).

    **Eigenvalues**: ``d lambda_i = w_i^T dA v_i / (w_i^T v_i)``, with
    ``w_i`` the left eigenvector; no choice of NumPy's is involved.  Where
    eigenvalues coincide, each alone is not differentiable; their sum, the
    trace, still is, and its gradient comes out ``I`` -- in reverse mode
    exactly, even at a defective matrix (too few eigenvectors), where the
    eigenvalues themselves have no derivative at all; forward mode adds up
    their large tangents there and keeps fewer digits.  The eigenvectors'
    derivatives, and second derivatives through the eigenvalues, come out
    infinite or NaN at equal eigenvalues, without an error, as for
    :func:`svd`.

    **Eigenvectors** are unique only up to a factor.  NumPy (LAPACK) scales
    each to unit 2-norm and turns its phase so that its largest component
    (in modulus) is real.  diffkit's derivative keeps both rules: the norm
    stays 1 and the phase of that component does not move.  So
    ``eigenvectors`` itself differentiates like the array NumPy returns,
    except where NumPy's choice jumps: where the largest component changes
    place, and -- for a real matrix, whose largest component LAPACK makes
    real but not always positive -- where an eigenvector flips sign.
    Quantities that do not depend on the phase are safe everywhere: ``|V|``,
    the projections ``v_i v_i^H``, ratios of the components of one
    eigenvector, ``V diag(lambda) inv(V)`` (which is ``A``).  Anything
    linear in ``v_i``, such as ``sum(v_i)`` or ``real(v_i)``, depends on
    NumPy's choice.

    Examples
    --------
    The derivative of an eigenvalue is ``w^T dA v / (w^T v)``, with ``w``
    the left eigenvector (row of ``inv(V)``):

    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[1.0, 2.0], [0.0, 3.0]])   # eigenvalues 1 and 3
    >>> np.linalg.eig(a).eigenvalues
    array([1., 3.])
    >>> dk.grad(lambda a: np.linalg.eig(a).eigenvalues[1])(a)
    array([[0., 1.],
           [0., 1.]])
    """
    if not isinstance(a, Box):
        return EigResult(*_np.linalg.eig(a))
    return EigResult(eig_values(a), eig_vectors(a))


def eigvals(a: Any) -> Any:
    """Eigenvalues of a general square matrix (or stack), as NumPy's.

    Differentiable where they are distinct; see :func:`eig`.  (Traced, the
    values come from ``eig``, in its order, which may differ from
    ``numpy.linalg.eigvals``'s.)

    Examples
    --------
    A rotation by 90 degrees has eigenvalues ``i`` and ``-i``; the gradient
    of their product, ``det(a)``, is the real ``det(a) inv(a)^T``:

    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[0.0, -1.0], [1.0, 0.0]])
    >>> np.linalg.eigvals(a)
    array([0.+1.j, 0.-1.j])
    >>> dk.grad(lambda a: np.real(np.prod(np.linalg.eigvals(a))))(a)
    array([[ 0., -1.],
           [ 1.,  0.]])
    """
    if not isinstance(a, Box):
        return _np.linalg.eigvals(a)
    return eig_values(a)


def qr(a: Any, mode: str = "reduced") -> Any:
    """QR decomposition ``a = Q @ R`` of a matrix (or stack), as NumPy's.

    ``Q`` has orthonormal columns and ``R`` is upper triangular.  Returns
    ``QRResult(Q, R)`` for ``mode="reduced"`` and ``"complete"``, only ``R``
    for ``mode="r"``, and NumPy's Householder data for ``"raw"``.

    **What is differentiable.**  ``Q`` and ``R`` of the reduced
    decomposition, for real and complex matrices of every shape with full
    rank (``R``'s diagonal nonzero -- for a wide matrix, that of its left
    square block).  NumPy's signs (``R``'s diagonal may be negative) do not
    jump under small changes of ``a``, so the derivatives are those of the
    arrays NumPy returns.  With ``mode="complete"`` and more rows than
    columns, the extra columns of ``Q`` are any orthonormal basis of the
    rest of the space: differentiating that ``Q`` raises an error asking for
    ``mode="reduced"``, while ``R`` still differentiates.  ``mode="raw"``
    returns LAPACK's reflectors, which are not differentiated.

    Examples
    --------
    ``trace(Q R) = trace(a)``, so its gradient is the identity however the
    two factors move:

    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> q, r = np.linalg.qr(a)
    >>> r
    array([[-5.91607978, -7.43735744],
           [ 0.        ,  0.82807867]])
    >>> grad = dk.grad(lambda a: np.trace(np.matmul(*np.linalg.qr(a))))(a)
    >>> bool(np.allclose(grad, np.eye(3, 2)))
    True
    """
    if not isinstance(a, Box):
        result = _np.linalg.qr(a, mode=mode)  # type: ignore[call-overload]
        return QRResult(*result) if mode in ("reduced", "complete") else result
    if mode == "r":  # the R of the reduced decomposition
        return qr_r(a)
    if mode not in ("reduced", "complete"):
        raise NotImplementedError(
            f"qr(a, mode={mode!r}) returns LAPACK's Householder reflectors, which "
            "diffkit does not differentiate; use mode='reduced'.")
    return QRResult(qr_q(a, mode=mode), qr_r(a, mode=mode))


def matrix_power(a: Any, n: int) -> Any:
    """``a`` multiplied by itself ``n`` times (``inv(a)`` for negative ``n``).

    Built from ``matmul`` by repeated squaring, so the derivative needs no
    rule of its own: the trace has about ``2 log2(n)`` products, not ``n``.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.grad(lambda a: np.sum(np.linalg.matrix_power(a, 3)))(np.eye(2))
    array([[3., 3.],
           [3., 3.]])
    """
    from diffkit import numpy as dnp

    if not isinstance(a, Box):
        return _np.linalg.matrix_power(a, n)
    if int(n) != n:
        raise TypeError(f"matrix_power needs an integer exponent, got {n!r}.")
    n = int(n)
    if n < 0:
        a, n = inv(a), -n
    result = None
    square = a
    while n:
        if n & 1:
            result = square if result is None else dnp.matmul(result, square)
        n >>= 1
        if n:
            square = dnp.matmul(square, square)
    if result is None:  # n == 0: the identity, which does not depend on a
        shape = dnp.shape(a)
        return _np.broadcast_to(_np.eye(shape[-1]), shape).copy()
    return result


def multi_dot(arrays: Any) -> Any:
    """``dot`` of several matrices in a row (left to right)."""
    from diffkit import numpy as dnp

    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    result = arrays[0]
    for b in arrays[1:]:
        result = dnp.dot(result, b)
    return result


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Vector or matrix norm, as :func:`numpy.linalg.norm`.

    The 2-norm (and Frobenius norm) is one primitive whose gradient at
    ``x = 0`` is taken to be 0 -- a subgradient -- rather than NaN, so that
    penalties such as ``norm(w)`` can be minimised through ``w = 0``.  Its
    derivatives of every order are 0 there, as those of ``abs`` at 0 (the
    norm of a 1-vector).  The other vector orders are built from ``abs``,
    ``max``, ``sum`` and ``**``, and are 0 with gradient 0 at ``x = 0``
    too.  The matrix 2-norm, ``-2`` and nuclear norm are the largest, the
    smallest and the sum of the singular values (:func:`svd`), as in NumPy:
    ``d ||A||_2 = u_1 v_1^T`` and, for full rank, ``d ||A||_* = U V^T``.  At
    a kink they take the convention of :func:`svd` and of ``max``: a
    singular value 0 has derivative 0, and a tie for the largest (or
    smallest) singular value shares the derivative evenly among the tied
    ones, which does not depend on the basis NumPy picks for them.

    A squared norm should be written as such (``np.sum(x ** 2)``, or
    ``np.real(np.vdot(x, x))`` for complex ``x``): ``norm(x) ** 2`` is
    smooth, but its Hessian at ``x = 0`` goes through the kink and comes out
    0 instead of ``2 I``.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.grad(np.linalg.norm)(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    >>> dk.grad(np.linalg.norm)(np.zeros(2))  # the subgradient 0 at the kink
    array([0., 0.])
    """
    from diffkit import numpy as dnp

    if not isinstance(x, Box):
        return _np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    nd = dnp.ndim(x)
    if isinstance(axis, list):
        axis = tuple(axis)
    vector = (axis is None and nd == 1) or (axis is not None and _np.ndim(axis) == 0)
    if ord is None or (vector and ord == 2) or (not vector and ord == "fro"):
        if ord == "fro" and axis is None and nd != 2:
            raise ValueError("Improper number of dimensions to norm.")
        return norm2(x, axis=axis, keepdims=keepdims)
    if vector:
        a = dnp.abs(x)
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order {ord!r} for vectors")
        if ord == _np.inf:
            return dnp.max(a, axis=axis, keepdims=keepdims)
        if ord == -_np.inf:
            return dnp.min(a, axis=axis, keepdims=keepdims)
        if ord == 0:
            return dnp.sum(a != 0, axis=axis, keepdims=keepdims)
        if ord == 1:
            return dnp.sum(a, axis=axis, keepdims=keepdims)
        total = dnp.sum(a ** ord, axis=axis, keepdims=keepdims)
        # At x = 0 the root's slope is infinite and the chain rule gives
        # inf * 0 = NaN; there the norm is the constant 0, as the 2-norm
        # (gradient 0, its derivatives 0)
        zero = total == 0
        return dnp.where(zero, 0.0, dnp.where(zero, 1.0, total) ** (1.0 / ord))
    if axis is None and nd != 2:
        raise ValueError("Improper number of dimensions to norm.")
    row, col = (-2, -1) if axis is None else axis
    reduced = _reduced(x, (row, col), keepdims)
    if ord in (1, -1, _np.inf, -_np.inf):
        a = dnp.abs(x)
        inner, outer = (row, col) if ord in (1, -1) else (col, row)
        sums = dnp.sum(a, axis=inner, keepdims=True)
        pick = dnp.max if ord > 0 else dnp.min
        return dnp.reshape(pick(sums, axis=outer, keepdims=True), reduced)
    if ord in (2, -2, "nuc"):
        # The singular values themselves, as NumPy computes these norms: not
        # the square roots of the eigenvalues of x^T x, which lose the
        # singular values below sqrt(eps) times the largest, and whose
        # square root has an infinite slope at a zero singular value.
        # max and min rather than the first and last of the (sorted) values:
        # at a tie, as at a = I, they split the derivative evenly among the
        # tied singular values, like any tie in a max (docs/four-methods.md),
        # which does not depend on the basis NumPy picks for the tied vectors.
        singular = svd_values(dnp.moveaxis(x, (row, col), (-2, -1)))
        reduce = {"nuc": dnp.sum, 2: dnp.max, -2: dnp.min}[ord]
        return dnp.reshape(reduce(singular, axis=-1), reduced)
    raise ValueError(f"Invalid norm order {ord!r} for matrices.")


def _reduced(x: Any, axes: tuple, keepdims: bool) -> tuple:
    shape = list(_np.shape(x))
    axes = tuple(a % len(shape) for a in axes)
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


#: The rest of numpy.linalg, as primitives without rules, made on first use.
#: They live here rather than in the module's namespace, which holds only
#: what diffkit differentiates.
_PASSED_THROUGH: dict[str, Callable[..., Any]] = {}

#: Functions of numpy.linalg returning several arrays, which a primitive
#: cannot (its output is one value): traced, they stop with an error at once.
_SEVERAL_RESULTS = {
    "lstsq": "for a matrix of full column rank, write the solution as "
             "np.linalg.pinv(a) @ b or np.linalg.solve(a.T @ a, a.T @ b)",
}


def __getattr__(name: str) -> Any:
    """Reach the rest of :mod:`numpy.linalg`: plain values pass, traced values
    get a clear error.

    ``np.linalg.cond(a)`` on a plain array is NumPy's; differentiated, it
    raises :class:`~diffkit.errors.MissingRuleError` naming
    ``linalg.cond``, rather than silently dropping the derivative.
    """
    # Dunder names describe the module itself: numpy.linalg's __path__ or
    # __file__ must not pass for diffkit's.
    if not (name.startswith("__") and name.endswith("__")):
        attr = getattr(_np.linalg, name, None)
        if attr is not None:
            if not callable(attr) or isinstance(attr, type):
                return attr
            if name not in _PASSED_THROUGH:
                _PASSED_THROUGH[name] = (
                    _refuse_traced(attr, name) if name in _SEVERAL_RESULTS
                    else Primitive(attr, f"linalg.{name}"))
            return _PASSED_THROUGH[name]
    raise AttributeError(f"module 'diffkit.numpy.linalg' has no attribute {name!r}")


def _refuse_traced(fun: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``fun`` on plain values; a :class:`MissingRuleError` on traced ones."""
    @functools.wraps(fun)
    def call(*args: Any, **kwargs: Any) -> Any:
        if any(isinstance(a, Box) for a in (*args, *kwargs.values())):
            raise MissingRuleError(
                f"diffkit cannot differentiate numpy.linalg.{name}: it has no "
                "derivative rules (and returns several arrays, which no "
                f"primitive can). Instead, {_SEVERAL_RESULTS[name]}.")
        return fun(*args, **kwargs)

    return call
