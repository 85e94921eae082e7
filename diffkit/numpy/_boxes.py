"""Operators and array methods for traced values.

A :class:`~diffkit.tracer.Box` must behave like the array it stands for, so
that ``x * y``, ``x[0]``, ``x.T`` and ``x.sum()`` inside user code reach
diffkit's primitives.  NumPy functions called directly on a box (``numpy.sin``
rather than ``diffkit.numpy.sin``) are redirected to the diffkit primitive of
the same name where one exists, and fail with a clear error otherwise.
"""

# mypy: disable-error-code="operator, index, arg-type, attr-defined, assignment"
from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit import numpy as dnp
from diffkit.errors import TracedValueError
from diffkit.tracer import Box, unbox


def _binary(name: str) -> tuple:
    prim = getattr(dnp, name)
    return (lambda self, other: prim(self, other),
            lambda self, other: prim(other, self))


for _op, _name in [
    ("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
    ("truediv", "true_divide"), ("pow", "power"), ("matmul", "matmul"),
    ("mod", "remainder"), ("floordiv", "floor_divide"),
]:
    _fwd, _rev = _binary(_name)
    setattr(Box, f"__{_op}__", _fwd)
    setattr(Box, f"__r{_op}__", _rev)

for _op, _name in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                   ("ge", "greater_equal"), ("eq", "equal"), ("ne", "not_equal")]:
    setattr(Box, f"__{_op}__", _binary(_name)[0])

Box.__hash__ = object.__hash__  # type: ignore[assignment]
Box.__neg__ = lambda self: dnp.negative(self)  # type: ignore[attr-defined]
Box.__pos__ = lambda self: self  # type: ignore[attr-defined]
Box.__abs__ = lambda self: dnp.absolute(self)  # type: ignore[attr-defined]
Box.__getitem__ = lambda self, index: dnp.getitem(self, index)  # type: ignore


def _setitem(self: Box, index: Any, value: Any) -> None:
    raise TracedValueError(
        "Assignment into an array that is being differentiated (x[i] = ...) is "
        "not supported: it would overwrite values the derivative still needs. "
        "Build a new array instead, e.g. with np.where(mask, new, x) or "
        "np.stack([...]) / np.concatenate([...])."
    )


def _to_scalar(kind: str) -> Any:
    def convert(self: Box) -> Any:
        # A value with no number behind it (symbolic) explains that itself.
        refuse = getattr(unbox(self), "refuse_conversion", None)
        if refuse is not None:
            refuse(kind)
        raise TracedValueError(
            f"{kind}() was called on a value that is being differentiated, which "
            "would drop its derivative. Keep it as an array (use diffkit.numpy "
            "functions on it), or wrap it in dk.stop_gradient(...) if you really "
            "want a constant. A plain NumPy array cannot hold traced values: to "
            "fill one in a loop, collect the items in a list and use "
            "np.stack(list) or np.array(list) from diffkit.numpy."
        )

    return convert


Box.__setitem__ = _setitem  # type: ignore[attr-defined]
Box.__float__ = _to_scalar("float")  # type: ignore[attr-defined]
Box.__int__ = _to_scalar("int")  # type: ignore[attr-defined]
Box.__complex__ = _to_scalar("complex")  # type: ignore[attr-defined]
Box.__index__ = _to_scalar("int")  # type: ignore[attr-defined]
Box.__bool__ = lambda self: bool(unbox(self))  # type: ignore[attr-defined]
# round(x), math.floor(x)...: steps, whose derivative is zero where it exists.
Box.__round__ = lambda self, ndigits=None: dnp.round(self, ndigits or 0)  # type: ignore
Box.__floor__ = lambda self: dnp.floor(self)  # type: ignore[attr-defined]
Box.__ceil__ = lambda self: dnp.ceil(self)  # type: ignore[attr-defined]
Box.__trunc__ = lambda self: dnp.trunc(self)  # type: ignore[attr-defined]
Box.__len__ = lambda self: len(unbox(self))  # type: ignore[attr-defined]


def _iter(self: Box) -> Any:
    for i in range(len(self)):
        yield self[i]


Box.__iter__ = _iter  # type: ignore[attr-defined]

# Array attributes.
Box.shape = property(lambda self: _np.shape(unbox(self)))  # type: ignore
Box.ndim = property(lambda self: _np.ndim(unbox(self)))  # type: ignore
Box.size = property(lambda self: _np.size(unbox(self)))  # type: ignore
Box.dtype = property(lambda self: _np.result_type(unbox(self)))  # type: ignore
Box.T = property(lambda self: dnp.transpose(self))  # type: ignore
Box.real = property(lambda self: dnp.real(self))  # type: ignore
Box.imag = property(lambda self: dnp.imag(self))  # type: ignore


def _method(name: str) -> Any:
    fun = getattr(dnp, name)
    return lambda self, *args, **kwargs: fun(self, *args, **kwargs)


for _name in ["sum", "mean", "prod", "max", "min", "var", "std", "cumsum",
              "cumprod", "dot", "ravel", "squeeze", "clip", "conj", "conjugate",
              "diagonal", "trace", "repeat", "swapaxes", "argmax", "argmin",
              "argsort", "any", "all", "nonzero", "round", "take"]:
    setattr(Box, _name, _method(_name))

Box.flatten = lambda self: dnp.ravel(self)  # type: ignore[attr-defined]
Box.copy = lambda self: self  # type: ignore[attr-defined]
Box.item = _to_scalar("item")  # type: ignore[attr-defined]
Box.tolist = _to_scalar("tolist")  # type: ignore[attr-defined]


def _reshape(self: Box, *shape: Any, **kwargs: Any) -> Any:
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = tuple(shape[0])
    return dnp.reshape(self, shape, **kwargs)


def _transpose(self: Box, *axes: Any) -> Any:
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = tuple(axes[0]) if axes[0] is not None else ()
    return dnp.transpose(self, axes or None)


def _astype(self: Box, dtype: Any, **kwargs: Any) -> Any:
    kind = _np.dtype(dtype).kind
    if kind in "fc":
        return self if kind == "f" or dnp.iscomplexobj(self) else self + 0j
    raise TracedValueError(
        f"astype({dtype!r}) on a value being differentiated would drop its "
        "derivative; only floating and complex dtypes are allowed."
    )


Box.reshape = _reshape  # type: ignore[attr-defined]
Box.transpose = _transpose  # type: ignore[attr-defined]
Box.astype = _astype  # type: ignore[attr-defined]


def _array_ufunc(self: Box, ufunc: Any, method: str, *inputs: Any, **kwargs: Any):
    """``numpy.sin(box)``: use diffkit's primitive of the same name if there is one."""
    if method == "__call__" and not kwargs:
        target = dnp.__dict__.get(ufunc.__name__)
        if target is not None:
            return target(*inputs)
    raise TracedValueError(_foreign(f"numpy.{ufunc.__name__}"
                                    + ("" if method == "__call__" else f".{method}")))


def _array_function(self: Box, func: Any, types: Any, args: Any, kwargs: Any):
    """``numpy.sum(box)``: redirect to ``diffkit.numpy.sum`` where it exists."""
    name = func.__name__
    module = getattr(func, "__module__", "") or ""
    target = None
    if "linalg" in module:
        target = getattr(dnp.linalg, name, None)
    elif name in dnp.__dict__:
        target = dnp.__dict__[name]
    if target is not None:
        return target(*args, **kwargs)
    raise TracedValueError(_foreign(f"numpy.{name}"))


def _foreign(name: str) -> str:
    return (
        f"{name} received a value that is being differentiated, and diffkit has "
        f"no differentiable version of it. Import NumPy as "
        f"`import diffkit.numpy as np` to use diffkit's primitives, or wrap the "
        f"function with @dk.primitive and give it rules with dk.defvjp/dk.defjvp."
    )


Box.__array_ufunc__ = _array_ufunc  # type: ignore[attr-defined]
Box.__array_function__ = _array_function  # type: ignore[attr-defined]


def _array(self: Box, dtype: Any = None, copy: Any = None) -> Any:
    raise TracedValueError(
        "A value being differentiated was converted to a plain NumPy array, which "
        "would drop its derivative. " + _foreign("This call")
    )


Box.__array__ = _array  # type: ignore[attr-defined]
