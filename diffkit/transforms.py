"""The derivative operators: ``derivative``, ``grad``, ``jacobian``, ``hessian``...

Every operator takes ``method=`` and hands the work to a backend module in
:mod:`diffkit.backends` through one small interface,
``value_and_jacobian(fun, x) -> (fun(x), J)`` where ``x`` is a tree of arrays
and ``J`` has, per leaf, shape ``out.shape + leaf.shape``.  Reverse mode also
gives ``vjp`` and forward mode ``jvp``; the operators use them where they
are the cheaper route (a gradient is one reverse pass, a Hessian-vector
product one forward pass over a reverse pass).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as _np

from diffkit import numpy as dnp
from diffkit.backends import forward as _forward
from diffkit.backends import reverse as _reverse
from diffkit.tracer import unbox
from diffkit.trees import flatten, tree_map, unflatten

__all__ = [
    "derivative", "grad", "value_and_grad", "elementwise_grad", "jacobian",
    "hessian", "hvp", "jvp", "vjp", "gradient", "stop_gradient", "METHODS",
]

METHODS = ("finite", "symbolic", "forward", "reverse")
Argnum = int | Sequence[int]


def _backend(method: str) -> Any:
    if method not in METHODS:
        raise ValueError(
            f"Unknown method {method!r}: choose one of "
            + ", ".join(repr(m) for m in METHODS) + "."
        )
    return importlib.import_module(f"diffkit.backends.{method}")


def _callable(f: Any) -> Callable[..., Any]:
    if isinstance(f, str):
        from diffkit.expression import function

        return function(f)
    if not callable(f):
        raise TypeError(
            f"Expected a function (or an expression string such as 'sin(x)**2'), "
            f"got {type(f).__name__}."
        )
    return f


def _argnums(argnum: Argnum, nargs: int) -> tuple[int, ...]:
    nums = (argnum,) if isinstance(argnum, int) else tuple(argnum)
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"argnum must be an int or a tuple of ints, got {a!r}.")
        if not -nargs <= a < nargs:
            valid = f"0..{nargs - 1}" if nargs else "none: it was called without any"
            raise ValueError(
                f"argnum={a} is out of range: the function was called with {nargs} "
                f"positional argument(s) (valid argnum: {valid})."
            )
    return tuple(a % nargs for a in nums)


def _of_argnums(f: Callable[..., Any], args: tuple, argnum: Argnum, kwargs: dict):
    """``f`` as a function of only the arguments being differentiated."""
    nums = _argnums(argnum, len(args))
    single = isinstance(argnum, int)

    def restricted(x: Any) -> Any:
        full = list(args)
        if single:
            full[nums[0]] = x
        else:
            for i, xi in zip(nums, x, strict=True):
                full[i] = xi
        return f(*full, **kwargs)

    x = args[nums[0]] if single else tuple(args[i] for i in nums)
    return restricted, x


def _scalar_output(value: Any, who: str) -> None:
    if dnp.ndim(value) != 0:
        raise TypeError(
            f"{who} needs a function with a scalar output, but this one returned "
            f"an array of shape {dnp.shape(value)}. For the gradient of the sum of "
            "the outputs use dk.elementwise_grad; for every derivative of every "
            "output use dk.jacobian."
        )


def _as_result(x: Any) -> Any:
    """Scalar results come back as Python floats (or complex), arrays as arrays.

    A plain ``float`` prints as ``4.0`` rather than ``np.float64(4.0)``, which
    matters in a lesson; traced values (inside another derivative) pass as
    they are.
    """
    return tree_map(_scalar_as_python, x)


def _scalar_as_python(v: Any) -> Any:
    if isinstance(v, _np.ndarray) and v.ndim == 0:
        v = v[()]
    if isinstance(v, _np.floating):
        return float(v)
    if isinstance(v, _np.complexfloating):
        return complex(v)
    return v


def _value_and_grad(f: Callable[..., Any], args: tuple, kwargs: dict,
                    argnum: Argnum, method: str, who: str) -> tuple[Any, Any]:
    fun, x = _of_argnums(f, args, argnum, kwargs)
    if method == "reverse":
        value, pullback = _reverse.vjp(fun, x, retain=False)  # one pass
        _scalar_output(value, who)
        g = pullback(_np.ones(dnp.shape(value)))
    else:
        value, g = _backend(method).value_and_jacobian(fun, x)
        _scalar_output(value, who)
    return value, _as_result(g)


def grad(f: Any, argnum: Argnum = 0, method: str = "reverse") -> Callable[..., Any]:
    """The gradient of a scalar-valued ``f`` with respect to argument ``argnum``.

    Parameters
    ----------
    f
        A Python function written with ``diffkit.numpy`` (or an expression string).
    argnum
        Which positional argument to differentiate: an int, or a tuple of ints
        to get a tuple of gradients.
    method
        ``"reverse"`` (default), ``"forward"``, ``"finite"`` or ``"symbolic"``.

    Returns
    -------
    callable
        A function of the same arguments as ``f`` returning the gradient, in
        the same structure (array, tuple, dict...) as the argument.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> df = dk.grad(lambda x: x ** 2)
    >>> float(df(2.0))
    4.0
    >>> dk.grad(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]))
    array([ 3., 12.])
    >>> float(dk.grad(dk.grad(np.sin))(0.0))  # -sin(0)
    -0.0
    """
    f = _callable(f)
    _backend(method)

    @functools.wraps(f)
    def gradfun(*args: Any, **kwargs: Any) -> Any:
        return _value_and_grad(f, args, kwargs, argnum, method, "dk.grad")[1]

    return gradfun


def value_and_grad(f: Any, argnum: Argnum = 0,
                   method: str = "reverse") -> Callable[..., tuple[Any, Any]]:
    """Like :func:`grad`, but the function returns ``(f(x), gradient)``.

    Examples
    --------
    >>> import diffkit as dk
    >>> value, slope = dk.value_and_grad(lambda x: x ** 2)(3.0)
    >>> float(value), float(slope)
    (9.0, 6.0)
    """
    f = _callable(f)
    _backend(method)

    @functools.wraps(f)
    def fun(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        value, g = _value_and_grad(f, args, kwargs, argnum, method,
                                   "dk.value_and_grad")
        return _as_result(value), g

    return fun


def elementwise_grad(f: Any, argnum: Argnum = 0,
                     method: str = "reverse") -> Callable[..., Any]:
    """The gradient of ``sum(f(x))``: "backward for a non-scalar output".

    For a function applied elementwise this is the vector of derivatives
    ``f'(x_i)``; in general it is the vector-Jacobian product with ones.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.elementwise_grad(lambda x: x * x)(np.array([1.0, 2.0, 3.0, 4.0]))
    array([2., 4., 6., 8.])
    """
    f = _callable(f)
    _backend(method)

    @functools.wraps(f)
    def fun(*args: Any, **kwargs: Any) -> Any:
        g, x = _of_argnums(f, args, argnum, kwargs)
        if method == "reverse":
            value, pullback = _reverse.vjp(g, x, retain=False)  # one pass
            return _as_result(pullback(_np.ones(dnp.shape(value))))
        value, jac = _backend(method).value_and_jacobian(g, x)
        out_axes = tuple(range(dnp.ndim(value)))
        return _as_result(tree_map(lambda j: dnp.sum(j, axis=out_axes), jac))

    return fun


def jacobian(f: Any, argnum: Argnum = 0, method: str = "reverse") -> Callable[..., Any]:
    """The Jacobian of ``f``: shape ``f(x).shape + x.shape``.

    ``method="forward"`` pushes all input directions through one vectorised
    pass; ``"reverse"`` runs one backward pass per output.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.jacobian(lambda x: np.array([x[0] * x[1], np.sin(x[0])]))(
    ...     np.array([0.0, 2.0]))
    array([[2., 0.],
           [1., 0.]])
    """
    f = _callable(f)
    backend = _backend(method)

    @functools.wraps(f)
    def fun(*args: Any, **kwargs: Any) -> Any:
        g, x = _of_argnums(f, args, argnum, kwargs)
        return _as_result(_tree_jacobian(backend, g, x))

    return fun


def _tree_jacobian(backend: Any, g: Callable[[Any], Any], x: Any) -> Any:
    """The Jacobian of ``g`` whatever the structure of its output.

    Backends differentiate functions returning one array.  A function that
    returns a tuple/list/dict is differentiated as the concatenation of its
    raveled outputs, and the Jacobian is cut back into blocks: one per output
    leaf, each holding (for every input leaf) ``out.shape + in.shape``.
    """
    structure: dict[str, Any] = {}

    def flat(x: Any) -> Any:
        out = g(x)
        leaves, treedef = flatten(out)
        if treedef.kind is None:
            return out
        structure["treedef"] = treedef
        structure["shapes"] = [dnp.shape(leaf) for leaf in leaves]
        return dnp.concatenate([dnp.ravel(dnp.asarray(leaf)) for leaf in leaves])

    _, jac = backend.value_and_jacobian(flat, x)
    if "treedef" not in structure:
        return jac
    blocks, start = [], 0
    for shape in structure["shapes"]:
        size = int(_np.prod(shape))
        blocks.append(tree_map(
            lambda j, shape=shape, start=start, size=size: dnp.reshape(
                j[start:start + size], shape + dnp.shape(j)[1:]), jac))
        start += size
    return unflatten(structure["treedef"], blocks)


def hessian(f: Any, argnum: Argnum = 0, method: str = "forward-over-reverse"
            ) -> Callable[..., Any]:
    """The Hessian of a scalar ``f``: shape ``x.shape + x.shape``.

    With a tuple ``argnum`` (or a tuple/dict argument) the Hessian comes back
    as nested blocks: ``H[i][j]`` has shape ``x_i.shape + x_j.shape``.

    The default is *forward-over-reverse*: a reverse pass gives the gradient,
    and forward mode differentiates that whole computation once more, for all
    directions in one batched pass.  Any single method string also works
    (``"reverse"`` is reverse-over-reverse, ``"finite"`` a second-difference
    stencil, ``"symbolic"`` SymPy's Hessian).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    >>> H = dk.hessian(lambda x, y: x ** 2 * y, argnum=(0, 1))(1.0, 3.0)
    >>> [[float(h) for h in row] for row in H]
    [[6.0, 2.0], [2.0, 0.0]]
    """
    f = _callable(f)
    if method == "forward-over-reverse":
        outer, inner = "forward", "reverse"
    else:
        backend = _backend(method)
        if hasattr(backend, "hessian"):
            @functools.wraps(f)
            def direct(*args: Any, **kwargs: Any) -> Any:
                g, x = _of_argnums(f, args, argnum, kwargs)
                return _as_result(backend.hessian(g, x))

            return direct
        outer = inner = method
    return jacobian(grad(f, argnum, method=inner), argnum, method=outer)


def hvp(f: Any, argnum: int = 0) -> Callable[..., Any]:
    """``(x, v) -> H(x) @ v`` without forming the Hessian ``H``.

    One forward pass (direction ``v``) through one reverse pass: about the
    cost of two gradients, whatever the size of ``x``.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> f = lambda x: np.sum(x ** 3)
    >>> dk.hvp(f)(np.array([1.0, 2.0]), np.array([1.0, 0.0]))  # H = diag(6x)
    array([6., 0.])
    """
    f = _callable(f)
    df = grad(f, argnum)

    def fun(*args: Any) -> Any:
        *primals, v = args
        nums = _argnums(argnum, len(primals))

        def along(x: Any) -> Any:
            full = list(primals)
            full[nums[0]] = x
            return df(*full)

        return _as_result(_forward.jvp(along, primals[nums[0]], v)[1])

    return fun


def jvp(f: Any, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J @ tangents)`` by one forward-mode pass (JAX convention).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> y, y_dot = dk.jvp(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2),
    ...                   (2.0, 5.0), (1.0, 0.0))
    >>> round(float(y), 3), float(y_dot)
    (11.652, 5.5)
    """
    f = _callable(f)
    if not isinstance(primals, tuple | list) or not isinstance(tangents, tuple | list):
        raise TypeError("dk.jvp takes tuples: dk.jvp(f, (x,), (v,)).")
    if len(primals) != len(tangents):
        raise ValueError(
            f"dk.jvp got {len(primals)} primals but {len(tangents)} tangents; "
            "give one tangent per primal."
        )
    value, tangent = _forward.jvp(lambda xs: f(*xs), tuple(primals), tuple(tangents))
    return _as_result(value), _as_result(tangent)


def vjp(f: Any, *primals: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """``(f(*primals), vjp_fn)`` where ``vjp_fn(cotangent)`` is a tuple, one per primal.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> y, pullback = dk.vjp(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2),
    ...                      2.0, 5.0)
    >>> x1_bar, x2_bar = pullback(1.0)
    >>> float(x1_bar), round(float(x2_bar), 3)
    (5.5, 1.716)
    """
    f = _callable(f)
    value, pullback = _reverse.vjp(lambda xs: f(*xs), primals)

    def vjp_fn(cotangent: Any) -> tuple:
        return tuple(_as_result(pullback(dnp.asarray(cotangent))))

    return _as_result(value), vjp_fn


def gradient(f: Any, *args: Any, method: str = "reverse") -> tuple:
    """A tuple of gradients, one per argument (Zygote's ``gradient``).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.gradient(lambda x: 2 * np.dot(x, x), np.array([1.0, 2.0, 3.0, 4.0]))
    (array([ 4.,  8., 12., 16.]),)
    """
    f = _callable(f)
    g = grad(f, argnum=tuple(range(len(args))), method=method)(*args)
    return tuple(g)


def derivative(f: Any, x: Any, method: str = "reverse", **opts: Any) -> Any:
    """df/dx at ``x``: a float for scalar ``x``, the gradient array for array ``x``.

    ``opts`` go to the method: ``scheme=`` and ``step=`` for ``"finite"``,
    ``budget=`` for ``"symbolic"``.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> f = lambda x: np.sin(x) ** 2 * np.exp(x)
    >>> round(float(dk.derivative(f, 1.5)), 10)
    5.0917198088
    >>> round(float(dk.derivative(f, 1.5, method="forward")), 10)
    5.0917198088
    """
    f = _callable(f)
    backend = _backend(method)
    if opts and method in ("forward", "reverse"):
        raise TypeError(
            f"method={method!r} takes no options, got {sorted(opts)}; options such "
            "as scheme= and step= belong to method='finite'."
        )
    if method == "reverse":
        value, pullback = _reverse.vjp(f, x, retain=False)  # one pass
        if dnp.ndim(value) == 0:
            return _as_result(pullback(1.0))
    value, d = backend.value_and_jacobian(f, x, **opts)
    if dnp.ndim(x) != 0 or isinstance(x, tuple | list | dict):
        _scalar_output(value, "dk.derivative with an array x")
    return _as_result(d)


def stop_gradient(x: Any) -> Any:
    """``x`` as a constant: no method differentiates through it.

    Examples
    --------
    >>> import diffkit as dk
    >>> float(dk.grad(lambda x: x * dk.stop_gradient(x))(3.0))
    3.0
    """
    from diffkit.backends.finite import stopped  # holds it fixed near x

    return stopped(tree_map(unbox, x))

