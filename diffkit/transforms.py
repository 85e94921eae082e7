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
import numbers
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as _np

from diffkit import numpy as dnp
from diffkit.backends import forward as _forward
from diffkit.backends import reverse as _reverse
from diffkit.tracer import unbox
from diffkit.trees import TreeDef, numeric_leaves, tree_map, unflatten

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


#: The options each method takes, passed on by every operator with ``method=``.
OPTIONS: dict[str, tuple[str, ...]] = {
    "finite": ("scheme", "step"),
    "symbolic": ("budget",),
    "forward": (),
    "reverse": (),
}


def _options(method: str, opts: dict[str, Any], who: str,
             allowed: tuple[str, ...] | None = None, why: str = "") -> dict[str, Any]:
    """``opts`` if ``method`` takes them all, else a ``TypeError`` saying who does.

    Checked when the operator is made, so that a misspelt option points at
    the line that wrote it; an unknown scheme is caught here too.
    """
    allowed = OPTIONS.get(method, ()) if allowed is None else allowed
    unknown = sorted(set(opts) - set(allowed))
    if unknown:
        takes = (f"takes {' and '.join(k + '=' for k in allowed)} only" if allowed
                 else "takes no options")
        owners = []
        for other, names in OPTIONS.items():
            theirs = [k + "=" for k in unknown if k in names and other != method]
            if theirs:
                verb = "belongs" if len(theirs) == 1 else "belong"
                owners.append(f"{' and '.join(theirs)} {verb} to method={other!r}")
        if why:
            owners.append(why)
        raise TypeError(
            f"{who} with method={method!r} {takes}, got "
            f"{' and '.join(k + '=' for k in unknown)}"
            + (f" ({'; '.join(owners)})" if owners else "") + "."
        )
    # A bad value is said where it was written too, not at the first call.
    if method == "finite":
        from diffkit.backends import finite

        if "scheme" in opts:
            finite._check_scheme(opts["scheme"])
        if "step" in opts:
            finite._check_step(opts["step"])
    elif method == "symbolic" and "budget" in opts:
        from diffkit.backends import symbolic

        symbolic._budget(opts["budget"])
    return opts


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


def _checked_argnum(argnum: Any) -> int | tuple[int, ...]:
    """``argnum`` as an int or a tuple of ints, or an error saying what is allowed.

    NumPy integers count as ints (an ``argnum`` may come from ``np.argmax``);
    floats and bools do not, since ``argnum=1.0`` or ``argnum=True`` is more
    likely a slip than a choice.  Checked when the operator is made, so the
    mistake shows where it was written.
    """
    if _is_position(argnum):
        return operator.index(argnum)
    if isinstance(argnum, tuple | list) and all(_is_position(a) for a in argnum):
        if not argnum:
            raise ValueError(
                "argnum=() selects no argument to differentiate: give one "
                "position, such as argnum=0, or several, such as argnum=(0, 1)."
            )
        return tuple(operator.index(a) for a in argnum)
    raise TypeError(
        "argnum must be an int, the position of the argument to differentiate "
        "(argnum=0 for the first, argnum=-1 for the last), or a tuple of ints "
        f"(argnum=(0, 1) for the first two); got {argnum!r} "
        f"({type(argnum).__name__})."
    )


def _is_position(a: Any) -> bool:
    return isinstance(a, numbers.Integral) and not isinstance(a, bool | _np.bool_)


def _positions(argnum: int | tuple[int, ...], nargs: int) -> tuple[int, ...]:
    """The positions ``argnum`` names in a call with ``nargs`` arguments, from 0."""
    for a in (argnum,) if isinstance(argnum, int) else argnum:
        if not -nargs <= a < nargs:
            valid = f"0..{nargs - 1}" if nargs else "none: it was called without any"
            raise ValueError(
                f"argnum={a} is out of range: the function was called with {nargs} "
                f"positional argument(s) (valid argnum: {valid})."
            )
    if isinstance(argnum, int):
        return (argnum % nargs,)
    return tuple(a % nargs for a in argnum)


def _of_argnums(f: Callable[..., Any], args: tuple, argnum: int | tuple[int, ...],
                kwargs: dict) -> tuple[Callable[[Any], Any], Any, Callable[[Any], Any]]:
    """``f`` as a function of only the arguments being differentiated.

    Returns that function, the point to differentiate it at (one argument,
    or a tuple of them for a tuple ``argnum``), and ``spread``, which turns a
    result per differentiated argument into one per entry of ``argnum``.  A
    position listed twice, ``argnum=(0, 0)``, is differentiated once and its
    derivative given twice (as in JAX): treating the two entries as separate
    variables would let the second overwrite the first.
    """
    positions = _positions(argnum, len(args))
    if isinstance(argnum, int):
        (i,) = positions

        def one(x: Any) -> Any:
            full = list(args)
            full[i] = x
            return f(*full, **kwargs)

        return one, args[i], _same

    distinct = tuple(dict.fromkeys(positions))

    def several(xs: Any) -> Any:
        full = list(args)
        for i, xi in zip(distinct, xs, strict=True):
            full[i] = xi
        return f(*full, **kwargs)

    def spread(per_argument: Any) -> Any:
        return tuple(per_argument[distinct.index(i)] for i in positions)

    return (several, tuple(args[i] for i in distinct),
            _same if distinct == positions else spread)


def _same(x: Any) -> Any:
    return x


_NOT_SCALAR = (
    "For the gradient of the sum of the outputs use dk.elementwise_grad; for "
    "every derivative of every output use dk.jacobian."
)


def _scalar_output(value: Any, who: str) -> None:
    """Check that a function's output is one number: what a gradient needs."""
    if isinstance(value, tuple | list | dict):
        raise TypeError(
            f"{who} needs a function with a scalar output, but this one returned "
            f"a {type(value).__name__} of {len(value)} values. {_NOT_SCALAR}"
        )
    numeric_leaves(value, f"{who}: the function")
    if dnp.ndim(value) != 0:
        raise TypeError(
            f"{who} needs a function with a scalar output, but this one returned "
            f"an array of shape {dnp.shape(value)}. {_NOT_SCALAR}"
        )


def _scalar_valued(g: Callable[[Any], Any], who: str) -> Callable[[Any], Any]:
    """``g``, checking its output is one number *inside* the backend's call.

    Checking there, as each method runs ``g``, gives every method the same
    error, before finite differences read a tuple as a vector or reverse
    mode follows a ``None`` back to a zero gradient.
    """
    def scalar_valued(x: Any) -> Any:
        out = g(x)
        _scalar_output(out, who)
        return out

    return scalar_valued


def _numeric_valued(g: Callable[[Any], Any], who: str) -> Callable[[Any], Any]:
    """``g``, checking it returns numbers (or a tree of them), not ``None``..."""
    def numeric_valued(x: Any) -> Any:
        out = g(x)
        numeric_leaves(out, f"{who}: the function")
        return out

    return numeric_valued


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
                    argnum: int | tuple[int, ...], method: str,
                    who: str, opts: dict[str, Any]) -> tuple[Any, Any]:
    fun, x, spread = _of_argnums(f, args, argnum, kwargs)
    fun = _scalar_valued(fun, who)
    if method == "reverse":
        value, pullback = _reverse.vjp(fun, x, retain=False)  # one pass
        g = pullback(1.0)
    else:
        value, g = _backend(method).value_and_jacobian(fun, x, **opts)
    return value, _as_result(spread(g))


def _grad(f: Callable[..., Any], argnum: int | tuple[int, ...], method: str,
          who: str, opts: dict[str, Any] | None = None) -> Callable[..., Any]:
    """:func:`grad`, with ``who`` naming the operator in its error messages."""
    @functools.wraps(f)
    def gradfun(*args: Any, **kwargs: Any) -> Any:
        return _value_and_grad(f, args, kwargs, argnum, method, who, opts or {})[1]

    return gradfun


def grad(f: Any, argnum: Argnum = 0, method: str = "reverse",
         **opts: Any) -> Callable[..., Any]:
    """The gradient of a scalar-valued ``f`` with respect to argument ``argnum``.

    Parameters
    ----------
    f
        A Python function written with ``diffkit.numpy`` (or an expression string).
    argnum
        Which positional argument to differentiate: an int, or a tuple of ints
        to get a tuple of gradients, one per entry (an argument listed twice
        gets its gradient twice).
    method
        ``"reverse"`` (default), ``"forward"``, ``"finite"`` or ``"symbolic"``.
    **opts
        The method's options: ``scheme=`` and ``step=`` for ``"finite"``,
        ``budget=`` for ``"symbolic"`` (as in :func:`derivative`).

    Returns
    -------
    callable
        A function of the same arguments as ``f`` returning the gradient, in
        the same structure (array, tuple, dict...) as the argument.

    Raises
    ------
    TypeError
        If ``f`` returns anything but one number: an array, a tuple, ``None``...
        (:func:`elementwise_grad` and :func:`jacobian` take non-scalar outputs).

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
    >>> dk.grad(lambda x, y: x * y ** 2, argnum=(0, 1))(2.0, 3.0)
    (9.0, 12.0)
    >>> dk.grad(np.exp, method="finite", scheme="complex-step")(0.0)
    1.0
    """
    f = _callable(f)
    _backend(method)
    opts = _options(method, opts, "dk.grad")
    return _grad(f, _checked_argnum(argnum), method, "dk.grad", opts)


def value_and_grad(f: Any, argnum: Argnum = 0, method: str = "reverse",
                   **opts: Any) -> Callable[..., tuple[Any, Any]]:
    """Like :func:`grad`, but the function returns ``(f(x), gradient)``.

    ``opts`` are the method's options, as for :func:`grad`.

    Examples
    --------
    >>> import diffkit as dk
    >>> value, slope = dk.value_and_grad(lambda x: x ** 2)(3.0)
    >>> float(value), float(slope)
    (9.0, 6.0)
    """
    f = _callable(f)
    _backend(method)
    argnum = _checked_argnum(argnum)
    opts = _options(method, opts, "dk.value_and_grad")

    @functools.wraps(f)
    def fun(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        value, g = _value_and_grad(f, args, kwargs, argnum, method,
                                   "dk.value_and_grad", opts)
        return _as_result(value), g

    return fun


def elementwise_grad(f: Any, argnum: Argnum = 0, method: str = "reverse",
                     **opts: Any) -> Callable[..., Any]:
    """The gradient of ``sum(f(x))``: "backward for a non-scalar output".

    For a function applied elementwise this is the vector of derivatives
    ``f'(x_i)``; in general it is the vector-Jacobian product with ones.  A
    function returning a tuple/list/dict of arrays counts every element of
    every one of them.  ``opts`` are the method's options, as for :func:`grad`.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.elementwise_grad(lambda x: x * x)(np.array([1.0, 2.0, 3.0, 4.0]))
    array([2., 4., 6., 8.])
    >>> dk.elementwise_grad(lambda x: (x * x, 3 * x))(np.array([1.0, 2.0]))
    array([5., 7.])
    """
    f = _callable(f)
    backend = _backend(method)
    argnum = _checked_argnum(argnum)
    who = "dk.elementwise_grad"
    opts = _options(method, opts, who)

    @functools.wraps(f)
    def fun(*args: Any, **kwargs: Any) -> Any:
        g, x, spread = _of_argnums(f, args, argnum, kwargs)
        if method == "reverse":
            value, pullback = _reverse.vjp(_numeric_valued(g, who), x,
                                           retain=False)  # one pass
            ones = tree_map(lambda v: _np.ones(dnp.shape(v)), value)
            return _as_result(spread(pullback(ones)))
        # Otherwise the Jacobian: each output's block summed over its axes,
        # and the blocks added up (from zeros, for a function returning ()).
        _, shapes, blocks = _jacobian_blocks(backend, g, x, who, **opts)
        total = tree_map(lambda leaf: _np.zeros(dnp.shape(leaf)), x)
        for shape, block in zip(shapes, blocks, strict=True):
            total = tree_map(operator.add, total, _summed(block, len(shape)))
        return _as_result(spread(total))

    return fun


def _summed(block: Any, ndim: int) -> Any:
    """A Jacobian block summed over its first ``ndim`` (output) axes."""
    return tree_map(lambda j: dnp.sum(j, axis=tuple(range(ndim))), block)


def jacobian(f: Any, argnum: Argnum = 0, method: str = "reverse",
             **opts: Any) -> Callable[..., Any]:
    """The Jacobian of ``f``: shape ``f(x).shape + x.shape``.

    ``method="forward"`` pushes all input directions through one vectorised
    pass; ``"reverse"`` runs one backward pass per output.  A function that
    returns a tuple/list/dict gets a Jacobian block per output, in that
    structure.  ``opts`` are the method's options, as for :func:`grad`.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.jacobian(lambda x: np.array([x[0] * x[1], np.sin(x[0])]))(
    ...     np.array([0.0, 2.0]))
    array([[2., 0.],
           [1., 0.]])
    >>> dk.jacobian(lambda x: {"square": x ** 2, "sum": np.sum(x)})(
    ...     np.array([1.0, 2.0]))
    {'square': array([[2., 0.],
           [0., 4.]]), 'sum': array([1., 1.])}

    The complex step, exact to round-off where central differences keep
    about ten digits:

    >>> dk.jacobian(lambda x: x ** 3, method="finite", scheme="complex-step")(
    ...     np.array([1.0, 2.0]))
    array([[ 3.,  0.],
           [ 0., 12.]])
    """
    f = _callable(f)
    backend = _backend(method)
    argnum = _checked_argnum(argnum)
    opts = _options(method, opts, "dk.jacobian")

    @functools.wraps(f)
    def fun(*args: Any, **kwargs: Any) -> Any:
        g, x, spread = _of_argnums(f, args, argnum, kwargs)
        return _as_result(_tree_jacobian(backend, g, x, "dk.jacobian", spread,
                                         **opts))

    return fun


def _tree_jacobian(backend: Any, g: Callable[[Any], Any], x: Any, who: str,
                   spread: Callable[[Any], Any] = _same, **opts: Any) -> Any:
    """The Jacobian of ``g`` in blocks, one per output, in the output's structure.

    ``spread`` is applied to each block (see :func:`_of_argnums`).
    """
    out_def, _, blocks = _jacobian_blocks(backend, g, x, who, **opts)
    return unflatten(out_def, [spread(block) for block in blocks])


def _jacobian_blocks(backend: Any, g: Callable[[Any], Any], x: Any, who: str,
                     **opts: Any) -> tuple[TreeDef, list[tuple[int, ...]], list[Any]]:
    """The Jacobian of ``g`` whatever the structure of its output.

    Backends differentiate functions returning one array.  A function that
    returns a tuple/list/dict is differentiated as the concatenation of its
    raveled outputs, and the Jacobian is cut back into blocks: one per output
    leaf, each holding (for every input leaf) ``out.shape + in.shape``.
    Returns the output's structure, the shape of each output and the blocks.
    """
    structure: dict[str, Any] = {}

    def flat(x: Any) -> Any:
        leaves, treedef = numeric_leaves(g(x), f"{who}: the function")
        structure["treedef"] = treedef
        structure["shapes"] = [dnp.shape(leaf) for leaf in leaves]
        if treedef.kind is None:
            return leaves[0]
        if not leaves:
            return _np.zeros(0)
        return dnp.concatenate([dnp.ravel(dnp.asarray(leaf)) for leaf in leaves])

    _, jac = backend.value_and_jacobian(flat, x, **opts)
    treedef, shapes = structure["treedef"], structure["shapes"]
    if treedef.kind is None:
        return treedef, shapes, [jac]
    blocks, start = [], 0
    for shape in shapes:
        size = int(_np.prod(shape))
        blocks.append(tree_map(
            lambda j, shape=shape, start=start, size=size: dnp.reshape(
                j[start:start + size], shape + dnp.shape(j)[1:]), jac))
        start += size
    return treedef, shapes, blocks


def hessian(f: Any, argnum: Argnum = 0, method: str = "forward-over-reverse",
            **opts: Any) -> Callable[..., Any]:
    """The Hessian of a scalar ``f``: shape ``x.shape + x.shape``.

    With a tuple ``argnum`` (or a tuple/dict argument) the Hessian comes back
    as nested blocks: ``H[i][j]`` has shape ``x_i.shape + x_j.shape``.

    The default is *forward-over-reverse*: a reverse pass gives the gradient,
    and forward mode differentiates that whole computation once more, for all
    directions in one batched pass.  Any single method string also works
    (``"reverse"`` is reverse-over-reverse, ``"finite"`` a second-difference
    stencil, ``"symbolic"`` SymPy's Hessian).  ``opts`` are the method's
    options: ``step=`` for ``"finite"`` (its stencils are fixed: no
    ``scheme=``), ``budget=`` for ``"symbolic"``.

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

    A second difference of ``x**4`` at 1 with step ``h`` is ``12 + 2 h**2``:

    >>> dk.hessian(lambda x: x ** 4, method="finite", step=0.25)(1.0)
    12.125
    """
    f = _callable(f)
    argnum = _checked_argnum(argnum)
    if method == "forward-over-reverse":
        _options(method, opts, "dk.hessian", allowed=())
        outer, inner = "forward", "reverse"
    else:
        backend = _backend(method)
        opts = _options(method, opts, "dk.hessian",
                        allowed=("step",) if method == "finite" else None,
                        why="its Hessian uses fixed second-difference stencils"
                        if method == "finite" else "")
        if hasattr(backend, "hessian"):
            @functools.wraps(f)
            def direct(*args: Any, **kwargs: Any) -> Any:
                g, x, spread = _of_argnums(f, args, argnum, kwargs)
                h = backend.hessian(_scalar_valued(g, "dk.hessian"), x, **opts)
                if spread is not _same:  # blocks per entry of argnum, both ways
                    h = spread(tuple(spread(row) for row in h))
                return _as_result(h)

            return direct
        outer = inner = method
    return jacobian(_grad(f, argnum, inner, "dk.hessian"), argnum, method=outer)


def hvp(f: Any, argnum: Argnum = 0) -> Callable[..., Any]:
    """``(x, v) -> H(x) @ v`` without forming the Hessian ``H``.

    One forward pass (direction ``v``) through one reverse pass: about the
    cost of two gradients, whatever the size of ``x``.  ``v`` has the
    structure of ``x`` (a dict for a dict, and so on) and so has the result.
    With ``argnum=(i, j)`` the function takes ``f``'s arguments and then a
    tuple ``(v_i, v_j)``, and returns a tuple: the blocks of ``H @ v``.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> f = lambda x: np.sum(x ** 3)
    >>> dk.hvp(f)(np.array([1.0, 2.0]), np.array([1.0, 0.0]))  # H = diag(6x)
    array([6., 0.])
    >>> g = lambda p: p["a"] ** 3 * p["b"]
    >>> dk.hvp(g)({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 0.0})
    {'a': 12.0, 'b': 3.0}
    """
    f = _callable(f)
    argnum = _checked_argnum(argnum)
    df = _grad(f, argnum, "reverse", "dk.hvp")

    def fun(*args: Any, **kwargs: Any) -> Any:
        if len(args) < 2:
            raise TypeError(
                "dk.hvp(f) makes a function of f's arguments followed by the "
                f"vector v, as in dk.hvp(f)(x, v); it got {len(args)} argument(s)."
            )
        *primals, v = args
        g, x, spread = _of_argnums(df, tuple(primals), argnum, kwargs)
        if spread is not _same:
            raise ValueError(
                f"dk.hvp got argnum={argnum}, which lists an argument twice: "
                "list each argument once."
            )
        return _as_result(_forward.jvp(g, x, v, names=("v", "x"))[1])

    return fun


def jvp(f: Any, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J @ tangents)`` by one forward-mode pass (JAX convention).

    Each tangent has the structure and shape of its primal.  The output may
    be a tuple/list/dict; its tangent then comes in the same structure.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> y, y_dot = dk.jvp(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2),
    ...                   (2.0, 5.0), (1.0, 0.0))
    >>> round(float(y), 3), float(y_dot)
    (11.652, 5.5)
    >>> dk.jvp(lambda x: {"square": x ** 2, "cube": x ** 3}, (2.0,), (1.0,))
    ({'square': 4.0, 'cube': 8.0}, {'square': 4.0, 'cube': 12.0})
    """
    f = _callable(f)
    if not isinstance(primals, tuple | list) or not isinstance(tangents, tuple | list):
        raise TypeError("dk.jvp takes tuples: dk.jvp(f, (x,), (v,)).")
    if len(primals) != len(tangents):
        raise ValueError(
            f"dk.jvp got {len(primals)} primals but {len(tangents)} tangents; "
            "give one tangent per primal."
        )
    value, tangent = _forward.jvp(lambda xs: f(*xs), tuple(primals), tuple(tangents),
                                  names=("tangents", "primals"))
    return _as_result(value), _as_result(tangent)


def vjp(f: Any, *primals: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """``(f(*primals), vjp_fn)`` where ``vjp_fn(cotangent)`` is a tuple, one per primal.

    The cotangent has the structure and shapes of ``f``'s output: a tuple of
    arrays for a function returning a tuple, and so on.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> y, pullback = dk.vjp(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2),
    ...                      2.0, 5.0)
    >>> x1_bar, x2_bar = pullback(1.0)
    >>> float(x1_bar), round(float(x2_bar), 3)
    (5.5, 1.716)
    >>> y, pullback = dk.vjp(lambda x: (x ** 2, 3 * x), 2.0)
    >>> y, pullback((1.0, 1.0))      # d/dx (x**2 + 3x) = 2x + 3
    ((4.0, 6.0), (7.0,))
    """
    f = _callable(f)
    value, pullback = _reverse.vjp(lambda xs: f(*xs), primals)

    def vjp_fn(cotangent: Any) -> tuple:
        return tuple(_as_result(pullback(cotangent)))

    return _as_result(value), vjp_fn


def gradient(f: Any, *args: Any, method: str = "reverse", **opts: Any) -> tuple:
    """A tuple of gradients, one per argument (Zygote's ``gradient``).

    ``opts`` are the method's options, as for :func:`grad`.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.gradient(lambda x: 2 * np.dot(x, x), np.array([1.0, 2.0, 3.0, 4.0]))
    (array([ 4.,  8., 12., 16.]),)
    """
    f = _callable(f)
    g = grad(f, argnum=tuple(range(len(args))), method=method, **opts)(*args)
    return tuple(g)


def derivative(f: Any, x: Any, method: str = "reverse", **opts: Any) -> Any:
    """df/dx at ``x``: a float for scalar ``x``, the gradient array for array ``x``.

    ``opts`` go to the method: ``scheme=`` and ``step=`` for ``"finite"``,
    ``budget=`` for ``"symbolic"``.  For a scalar ``x``, ``f`` may return an
    array or a tuple/list/dict of them (the derivative of each comes back);
    for an array ``x`` it must return one number.

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
    opts = _options(method, opts, "dk.derivative")
    if dnp.ndim(x) != 0 or isinstance(x, tuple | list | dict):
        # A gradient: f must return one number.
        fun = _scalar_valued(f, "dk.derivative with an array x")
        if method == "reverse":
            return _as_result(_reverse.vjp(fun, x, retain=False)[1](1.0))
        return _as_result(backend.value_and_jacobian(fun, x, **opts)[1])
    if method == "reverse":
        value, pullback = _reverse.vjp(f, x, retain=False)  # one pass
        if not isinstance(value, tuple | list | dict) and dnp.ndim(value) == 0:
            return _as_result(pullback(1.0))
    # A number x: the derivative of every output, in the output's structure.
    return _as_result(_tree_jacobian(backend, f, x, "dk.derivative", **opts))


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

