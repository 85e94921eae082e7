"""diffkit: the same function, differentiated four ways.

Finite differences, SymPy symbolic differentiation, forward-mode AD and
reverse-mode AD, side by side, for teaching what each does and costs.

>>> import diffkit as dk
>>> import diffkit.numpy as np
>>> f = lambda x: np.sin(x) ** 2 * np.exp(x)
>>> float(dk.grad(f)(0.0))
0.0
"""

from __future__ import annotations

from diffkit import (
    numpy,  # noqa: F401  (import diffkit.numpy as np)
    plots,
)
from diffkit.comparison import Comparison, compare
from diffkit.errors import (
    DiffkitError,
    ExpressionError,
    MissingRuleError,
    NotApplicable,
    TracedValueError,
)
from diffkit.expression import function
from diffkit.numpy import (
    arccos,
    arcsin,
    arctan,
    cos,
    cosh,
    exp,
    log,
    log1p,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
)
from diffkit.primitives import Primitive, defjvp, defvjp, primitive
from diffkit.sizes import Swell, Symbolic, swell, symbolic
from diffkit.testing import check_grads
from diffkit.transforms import (
    derivative,
    elementwise_grad,
    grad,
    gradient,
    hessian,
    hvp,
    jacobian,
    jvp,
    stop_gradient,
    value_and_grad,
    vjp,
)
from diffkit.wengert import AdjointTrace, TangentTrace, Trace, trace

__version__ = "0.1.0"

__all__ = [
    "DiffkitError", "ExpressionError", "MissingRuleError", "NotApplicable",
    "TracedValueError", "Primitive", "primitive", "defvjp", "defjvp",
    "derivative", "grad", "value_and_grad", "elementwise_grad", "jacobian",
    "hessian", "hvp", "jvp", "vjp", "gradient", "check_grads", "stop_gradient",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "exp", "log", "log1p", "sqrt", "numpy", "__version__", "function",
    "compare", "Comparison", "trace", "Trace", "TangentTrace", "AdjointTrace",
    "plots", "symbolic", "Symbolic", "swell", "Swell",
]
