"""The slope of ``x ** y`` in ``x``, shared by the forward and reverse rules."""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit import numpy as np


def scaled_power_slope(g: Any, x: Any, y: Any) -> Any:
    """``g * d(x**y)/dx = g * y * x**(y - 1)``.

    With a plain-number exponent (``x ** 2``, by far the common case) the new
    exponent is worked out in Python, so NumPy takes its fast paths (``x * x``)
    instead of a general ``pow`` per element; and ``g * y`` is formed first,
    which costs nothing when ``g`` is a single number (the adjoint of a sum).
    A traced or array exponent uses ``where`` so that ``y = 0`` gives 0 rather
    than ``0 * inf`` at ``x = 0``.
    """
    if isinstance(y, int | float | _np.integer | _np.floating):
        if y == 0:
            return g * np.zeros_like(x, dtype=float)
        if y == 1:
            return g * np.ones_like(x, dtype=float)
        if y == 2:
            return g * 2 * x
        return g * y * x ** (y - 1)
    return g * (y * x ** np.where(y == 0, 1.0, y - 1))
