"""Names, numbers and tables as text: how a trace reads on the page.

Variables are written as in Baydin et al. (2018): ``v₋₁, v₀, v₁, ...``, with
a dot for a tangent (``v̇₁``) and a bar for an adjoint (``v̄₁``).  Numbers get
three decimals, lines read the way one would write them by hand
(``ln v₋₁``, ``v₋₁ × v₀``), and tables line their values up on the decimal
point, as text for ``print`` and as HTML for Jupyter.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as _np

from diffkit.primitives import Primitive
from diffkit.wengert.recording import plain

__all__ = ["vname", "dotname", "barname", "sub", "dot", "bar", "fmt", "fmt_number",
           "fmt_const", "format_line", "DISPLAY", "times", "join_terms",
           "text_table", "html_table"]

# --- names ----------------------------------------------------------------------------

_SUBSCRIPTS = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
_DOT, _BAR = "\u0307", "\u0304"  # combining dot above, combining macron


def sub(name: str) -> str:
    """``x1`` -> ``x₁``: trailing digits as subscripts, like the paper."""
    stem = name.rstrip("0123456789")
    if stem == name or not stem or not stem[-1].isalpha():
        return name
    return stem + name[len(stem):].translate(_SUBSCRIPTS)


def vname(i: int) -> str:
    """The display name of variable ``v_i``: ``v₋₁``, ``v₀``, ``v₁``."""
    return "v" + str(i).translate(_SUBSCRIPTS)


def dot(name: str) -> str:
    """``x`` -> ``ẋ``: the tangent of a name."""
    # NFC: a precomposed character where Unicode has one (ẋ, ȳ), which renders
    # better than a letter followed by a combining mark.
    return unicodedata.normalize("NFC", name[0] + _DOT + name[1:])


def bar(name: str) -> str:
    """``y`` -> ``ȳ``: the adjoint of a name."""
    return unicodedata.normalize("NFC", name[0] + _BAR + name[1:])


def dotname(i: int) -> str:
    """``v̇_i``, the tangent of ``v_i``."""
    return dot(vname(i))


def barname(i: int) -> str:
    """``v̄_i``, the adjoint of ``v_i``."""
    return bar(vname(i))


# --- numbers --------------------------------------------------------------------------


def fmt_number(v: Any, digits: int) -> str:
    """A number with ``digits`` decimals, trailing zeros dropped."""
    if isinstance(v, bool | _np.bool_):
        return str(bool(v))
    if isinstance(v, complex) or _np.iscomplexobj(v):
        c = complex(v)
        if c.imag == 0:
            return fmt_number(c.real, digits)
        sign = "+" if c.imag >= 0 else "-"
        return f"{fmt_number(c.real, digits)}{sign}{fmt_number(abs(c.imag), digits)}j"
    x = float(v) + 0.0  # no negative zero
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if 1e-3 <= abs(x) < 1e7:
        s = f"{x:.{digits}f}"
        return s.rstrip("0").rstrip(".") if "." in s else s
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def fmt(v: Any, digits: int = 3) -> str:
    """A value as the tables show it: 3 decimals, arrays compactly."""
    v = plain(v)
    if isinstance(v, _np.ndarray | list | tuple):
        a = _np.asarray(v)
        if a.dtype == object:
            return str(v)
        if a.size <= 6:
            return _fmt_array(a, digits)
        flat = ", ".join(fmt_number(x, digits) for x in a.ravel()[:3])
        shape = "×".join(str(n) for n in a.shape)
        return f"[{flat}, …] ({shape})"
    if isinstance(v, int | float | complex | _np.number | _np.bool_):
        return fmt_number(v, digits)
    return str(v)


def _fmt_array(a: _np.ndarray, digits: int) -> str:
    if a.ndim == 0:
        return fmt_number(a[()], digits)
    return "[" + ", ".join(_fmt_array(x, digits) for x in a) + "]"


def fmt_const(c: Any) -> str:
    """A constant argument as a literal: ``2``, ``[1, 2]``, ``(2, 3)``, ``1:``."""
    if isinstance(c, slice):
        bits = ["" if b is None else fmt_const(b) for b in (c.start, c.stop)]
        return ":".join(bits) + ("" if c.step is None else f":{fmt_const(c.step)}")
    if c is Ellipsis:
        return "..."
    if isinstance(c, tuple):
        inner = ", ".join(fmt_const(x) for x in c)
        return f"({inner},)" if len(c) == 1 else f"({inner})"
    if isinstance(c, _np.ndarray | list) and _np.asarray(c).dtype != object:
        return fmt(c)
    if isinstance(c, bool | int | float | complex | _np.number | _np.bool_):
        return fmt_number(c, 6)
    return repr(c)


# --- lines and formulas ---------------------------------------------------------------

# How lines read.  Infix operators as in the paper; unary functions applied to a
# plain variable without parentheses ("sin v₀"), everything else as a call.
_INFIX = {"add": "+", "subtract": "-", "multiply": "×", "divide": "/",
          "power": "^", "float_power": "^", "matmul": "@"}
DISPLAY = {"log": "ln"}


def format_line(prim: Primitive, args: list[str], kwargs: dict) -> str:
    """The right-hand side of a line, given its arguments as text."""
    name = DISPLAY.get(prim.name, prim.name)
    kw = [f"{k}={fmt_const(v)}" for k, v in kwargs.items()]
    if prim.name in _INFIX and len(args) == 2 and not kw:
        a, b = (f"({s})" if " " in s and not s.startswith("[") else s for s in args)
        return f"{a} {_INFIX[prim.name]} {b}"
    if prim.name == "negative" and not kw:
        return f"-{args[0]}"
    if prim.name == "getitem" and len(args) == 2:
        index = args[1]
        if index.startswith("(") and index.endswith(")"):
            index = index[1:-1].rstrip(",")
        return f"{args[0]}[{index}]"
    if prim.name == "concatenate" and args:  # the axis comes first internally
        return f"concatenate({', '.join(args[1:])}, axis={args[0]})"
    if prim.name == "array" and args:  # the shape comes first internally
        return f"array({', '.join(args[1:])})"
    if prim.elementwise and len(args) == 1 and not kw and args[0].startswith("v"):
        return f"{name} {args[0]}"
    return f"{name}({', '.join(args + kw)})"


def _sympy_text(expr: Any) -> str:
    return str(expr).replace("**", "^").replace("*", "·")


def times(name: str, partial: Any) -> str:
    """``name × partial``, the way one would write it by hand."""
    import sympy

    if partial == 1:
        return name
    if partial == -1:
        return f"-{name}"
    num, den = sympy.fraction(partial)
    if num in (1, -1) and den != 1:
        d = _sympy_text(den)
        if isinstance(den, sympy.Add | sympy.Mul):
            d = f"({d})"
        return f"{'-' if num == -1 else ''}{name}/{d}"
    text = _sympy_text(partial)
    if isinstance(partial, sympy.Add) or text.startswith("-"):
        text = f"({text})"
    return f"{name} × {text}"


def join_terms(terms: Sequence[str]) -> str:
    out = ""
    for k, term in enumerate(terms):
        if k == 0:
            out = term
        elif term.startswith("-"):
            out += f" - {term[1:]}"
        else:
            out += f" + {term}"
    return out or "0"


# --- tables ---------------------------------------------------------------------------


def _width(s: str) -> int:
    """Display width: combining marks (the dot of v̇, the bar of v̄) take none."""
    return sum(not unicodedata.combining(ch) for ch in s)


def _pad(s: str, width: int, right: bool = False) -> str:
    fill = " " * (width - _width(s))
    return fill + s if right else s + fill


def text_table(title: str, tables: Sequence[Sequence[Sequence[str]]]) -> str:
    """Tables of ``name = expression [= worked out] = value`` rows, side by side."""
    blocks = []
    for rows in tables:
        ncols = max(len(r) for r in rows)
        widths = [max(_width(r[c]) for r in rows if len(r) > c and c < len(r) - 1)
                  if any(len(r) > c + 1 for r in rows) else 0
                  for c in range(ncols)]
        values = _align_decimals([r[-1] for r in rows])
        lines = []
        for r, value in zip(rows, values, strict=True):
            cells = [_pad(r[0], widths[0])]
            middle = list(r[1:-1])
            if len(middle) < ncols - 2:  # a short row spans the middle columns
                span = sum(widths[1:-1]) + 3 * (ncols - 3)
                cells.append(_pad(" = ".join(middle), span))
            else:
                cells += [_pad(m, widths[c + 1]) for c, m in enumerate(middle)]
            lines.append(" = ".join(cells) + " = " + value)
        block_width = max(_width(line) for line in lines)
        blocks.append([_pad(line, block_width) for line in lines])
    out = [title]
    for k in range(len(blocks[0])):
        out.append("  " + "   ".join(b[k] for b in blocks).rstrip())
    return "\n".join(out)


def _align_decimals(values: list[str]) -> list[str]:
    """Line numbers up on their decimal points, as a printed table would."""
    if not all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in values):
        return values
    heads = [v.split(".")[0] for v in values]
    tails = [v[len(h):] for v, h in zip(values, heads, strict=True)]
    hw = max(len(h) for h in heads)
    tw = max(len(t) for t in tails)
    return [h.rjust(hw) + t.ljust(tw) for h, t in zip(heads, tails, strict=True)]


def html_table(title: str, header: Sequence[str],
                rows: Sequence[Sequence[str]]) -> str:
    def cell(s: str, tag: str = "td") -> str:
        return f"<{tag}>{html.escape(s)}</{tag}>"

    head = "".join(cell(h, "th") for h in header)
    body = "".join("<tr>" + "".join(cell(s) for s in r) + "</tr>" for r in rows)
    return (f"<table class='diffkit-trace'><caption>{html.escape(title)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
