"""The slope of ``x ** y`` in ``x``, shared by the forward and reverse rules."""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit import numpy as np


def power_slope(x: Any, y: Any) -> Any:
    """``d(x**y)/dx = y * x**(y - 1)``.

    With a plain-number exponent (``x ** 2``, by far the common case) the new
    exponent is worked out in Python: NumPy then takes its fast paths
    (``x * x``...) instead of a general ``pow`` per element.  A traced or array
    exponent uses ``where`` so that ``y = 0`` gives 0 rather than ``0 * inf``
    at ``x = 0``.
    """
    if isinstance(y, int | float | _np.integer | _np.floating):
        if y == 0:
            return np.zeros_like(x, dtype=float)
        if y == 1:
            return np.ones_like(x, dtype=float)
        if y == 2:
            return 2 * x
        return y * x ** (y - 1)
    return y * x ** np.where(y == 0, 1.0, y - 1)
