"""The exceptions diffkit raises, each written for the person who will read it."""

from __future__ import annotations

__all__ = [
    "DiffkitError",
    "ExpressionError",
    "MissingRuleError",
    "NotApplicable",
    "TracedValueError",
]


class DiffkitError(Exception):
    """Base class of every error diffkit raises on purpose."""


class ExpressionError(DiffkitError, ValueError):
    """An expression string used something outside the safe whitelist.

    The message names the offending part and, where it can, points at it
    with a caret under the text.
    """


class MissingRuleError(DiffkitError, NotImplementedError):
    """A primitive has no derivative rule for the mode that needs one."""


class NotApplicable(DiffkitError):
    """A method cannot differentiate this function (and the message says why).

    `dk.compare` turns this into a row of its table instead of failing.
    """


class TracedValueError(DiffkitError, TypeError):
    """A traced value was used where its derivative would silently be lost.

    Examples: ``float(x)`` on a traced ``x``, assignment into a traced array,
    or a plain-NumPy/non-NumPy function receiving a traced value.
    """
