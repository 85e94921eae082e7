"""What counts as an input value, and how it is normalised."""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit.tracer import Box


def as_float(x: Any) -> Any:
    """An input as float64 (or complex128): ints and bools count as floats.

    Traced values pass unchanged; anything that is not a number is a
    ``TypeError`` that says what diffkit accepts.
    """
    if isinstance(x, Box):
        return x
    a = _np.asarray(x)
    kind = a.dtype.kind
    if kind in "biuf":
        a = a.astype(_np.float64, copy=False)
    elif kind == "c":
        a = a.astype(_np.complex128, copy=False)
    else:
        raise TypeError(
            f"diffkit can only differentiate with respect to numbers and arrays of "
            f"numbers, got {type(x).__name__} ({x!r:.60}). Pass floats, complex "
            "numbers, NumPy arrays, or tuples/lists/dicts of these."
        )
    return a[()] if a.ndim == 0 else a
