"""Expression strings such as ``"sin(x)**2*exp(x)"``, parsed safely.

:func:`function` turns a string into an ordinary Python callable built from
:mod:`diffkit.numpy` primitives, so every method (finite differences,
symbolic, forward and reverse mode) differentiates it exactly as it would
``lambda x: np.sin(x)**2 * np.exp(x)``.

Nothing in the string is ever executed.  Python's :mod:`ast` parser reads it
into a tree (parsing runs no code), every node of the tree is checked against
a short whitelist, and the accepted tree is translated into a straight-line
program -- an evaluation trace, ``v3 = sin(v0)``, ``v4 = v3 ** 2``, ... --
that a five-line loop runs on whatever values it is given.  The whitelist:

* numbers: ``2``, ``0.5``, ``1e-3``, ``2j``;
* the constants ``pi`` (also ``π``) and ``e``;
* variables: any other name (names starting with ``_`` are refused, and so
  are ``inf``, ``infinity`` and ``nan`` in any case: a reader takes them
  for NumPy's constants, but an expression's constants are finite numbers,
  as its derivatives need);
* ``+ - * / **``, unary ``-`` and ``+``, parentheses;
* calls of the functions in :data:`FUNCTIONS` by their bare name, with
  positional arguments, e.g. ``sin(x)``, ``arctan2(y, x)``, ``ln(x)``.

Everything else -- attribute access, subscripts, ``lambda``,
comprehensions, comparisons, strings, keyword or starred arguments, calls of
unknown names -- is an :class:`~diffkit.errors.ExpressionError` that names
the offending part and points at it with carets under the text.  So is any
input that could make parsing or evaluation expensive: a string longer than
:data:`MAX_LENGTH` characters, nesting deeper than :data:`MAX_DEPTH` levels
(a chain such as ``x + y - z + ...`` is one level, however long), or a
constant exponent larger in size than :data:`MAX_EXPONENT` (``x**5000``,
``9**9**9``).

Like Python's own compiler, arithmetic on constants is folded once, when the
string is parsed (``2*pi`` becomes ``6.283...``), which is also where a
constant that overflows or divides by zero is reported.

Examples
--------
>>> import diffkit as dk
>>> f = dk.function("sin(x)**2*exp(x)")
>>> f
function('sin(x)**2*exp(x)')
>>> f.variables
('x',)
>>> import math
>>> float(f(1.5)) == math.sin(1.5)**2 * math.exp(1.5)
True
>>> float(dk.derivative("x**2", 2.0))
4.0
>>> g = dk.function("x*y**2", vars="y x")   # arguments in the order given
>>> float(g(3.0, 2.0))
18.0
>>> dk.function("x.__class__")
Traceback (most recent call last):
    ...
diffkit.errors.ExpressionError: Attribute access ('.__class__') is not allowed ...
    x.__class__
    ^^^^^^^^^^^
"""

from __future__ import annotations

import ast
import difflib
import inspect
import keyword
import math
import operator
import re
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from diffkit import numpy as dnp
from diffkit.errors import ExpressionError

__all__ = [
    "function",
    "Expression",
    "FUNCTIONS",
    "CONSTANTS",
    "MAX_LENGTH",
    "MAX_DEPTH",
    "MAX_EXPONENT",
]

#: Longest expression string accepted, in characters.
MAX_LENGTH = 1000
#: Deepest nesting accepted: each call, power, unary sign or parenthesised
#: operand is one level deeper; a chain of ``+`` and ``-`` (or of ``*`` and
#: ``/``) is one level however long it is.  Far more than a formula needs.
MAX_DEPTH = 100
#: Largest absolute value of an exponent that is a constant (``x**1000`` is
#: fine, ``x**1001`` is refused): huge integer powers only ever overflow.
MAX_EXPONENT = 1000

# Name in the string -> (name in diffkit.numpy, number of arguments).
_UNARY = (
    "sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh "
    "exp exp2 expm1 log log2 log10 log1p sqrt cbrt square reciprocal absolute "
    "fabs sign floor ceil sinc real imag conjugate angle deg2rad rad2deg"
).split()
_BINARY = (
    "arctan2 hypot maximum minimum fmax fmin power logaddexp logaddexp2 remainder"
).split()
_ALIASES = {
    "asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh",
    "acosh": "arccosh", "atanh": "arctanh", "atan2": "arctan2", "ln": "log",
    "abs": "absolute", "conj": "conjugate", "pow": "power", "mod": "remainder",
    "max": "maximum", "min": "minimum",
}

#: The functions an expression may call: name -> (diffkit.numpy name, arity).
#: ``max``/``min`` are the two-argument ``maximum``/``minimum`` (not
#: reductions), ``ln`` is ``log``, and ``asin``... are ``arcsin``...
FUNCTIONS: dict[str, tuple[str, int]] = {
    **{name: (name, 1) for name in _UNARY},
    **{name: (name, 2) for name in _BINARY},
}
FUNCTIONS.update({alias: FUNCTIONS[target] for alias, target in _ALIASES.items()})

#: The named constants an expression may use.
CONSTANTS: dict[str, float] = {"pi": math.pi, "π": math.pi, "e": math.e}
#: Names that read as constants but are not finite numbers (compared in
#: lower case): refused, rather than silently becoming variables.
_NOT_FINITE = frozenset({"inf", "infinity", "nan"})

_BINARY_OPERATORS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.Pow: ("**", operator.pow),
}
# Operators of equal precedence that chain to the left: a chain of them is
# one level of nesting, however long.
_CHAINED: dict[type, str] = {ast.Add: "sum", ast.Sub: "sum",
                             ast.Mult: "product", ast.Div: "product"}
_UNARY_OPERATORS: dict[type, tuple[str, Callable[[Any], Any]]] = {
    ast.USub: ("-", operator.neg),
    ast.UAdd: ("+", operator.pos),
}
# Operators Python has but expressions do not, with a hint where one helps.
_REFUSED_OPERATORS: dict[type, tuple[str, str]] = {
    ast.BitXor: ("^", " ('^' is not a power in Python: write x**2)"),
    ast.FloorDiv: ("//", " (use / and floor(...))"),
    ast.Mod: ("%", " (use mod(a, b))"),
    ast.MatMult: ("@", ""),
    ast.LShift: ("<<", ""),
    ast.RShift: (">>", ""),
    ast.BitOr: ("|", ""),
    ast.BitAnd: ("&", ""),
    ast.Invert: ("~", ""),
    ast.Not: ("not", ""),
}
# What to call the node types that are refused outright.
_DESCRIPTIONS: dict[type, str] = {
    ast.Subscript: "subscript",
    ast.Slice: "slice",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "generator expression",
    ast.Compare: "comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional expression",
    ast.NamedExpr: "assignment (':=')",
    ast.Tuple: "tuple",
    ast.List: "list",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.Starred: "starred argument",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_ALLOWED = "numbers, variables, + - * / **, parentheses and known functions"
_FLOAT_MAX = sys.float_info.max


def function(text: str | Expression, vars: str | Iterable[str] | None = None,
             ) -> Expression:
    """Make a function from an expression string, safely.

    Parameters
    ----------
    text
        The expression, e.g. ``"sin(x)**2*exp(x)"``: numbers, variables,
        ``+ - * / **``, parentheses, the constants ``pi`` and ``e`` and calls
        of the functions in :data:`FUNCTIONS` (``sin``, ``exp``, ``log``/``ln``,
        ``sqrt``, ``abs``, ``arctan2``/``atan2``, ``hypot``, ``max``...).
    vars
        The variables, in the order the function takes them: a string such
        as ``"x y"`` or ``"x, y"``, or a list of names.  By default, every
        name in the expression that is not a function or constant, in order
        of first appearance.  A listed variable need not appear (the function
        then ignores that argument); an unlisted one is an error.

    Returns
    -------
    Expression
        A callable of the variables, written with :mod:`diffkit.numpy`
        primitives, that every method can differentiate.

    Raises
    ------
    ExpressionError
        If the string is not a valid expression or uses anything outside the
        whitelist; the message names the part and points at it.

    Examples
    --------
    >>> import diffkit as dk
    >>> f = dk.function("x*y + ln(y)")
    >>> f.variables
    ('x', 'y')
    >>> [float(g) for g in dk.gradient(f, 2.0, 1.0)]  # [y, x + 1/y]
    [1.0, 3.0]
    >>> dk.function("exp(x) + sin(x")
    Traceback (most recent call last):
        ...
    diffkit.errors.ExpressionError: '(' was never closed ...
        exp(x) + sin(x
                    ^
    """
    if isinstance(text, Expression):
        if vars is None or _variable_names(vars) == text.variables:
            return text
        return function(text.text, vars)
    if not isinstance(text, str):
        raise TypeError(
            "dk.function expects an expression string such as 'sin(x)**2', "
            f"got {type(text).__name__}."
        )
    names = None if vars is None else _variable_names(vars)
    return _Compiler(text, names).compile()


class Expression:
    """A function parsed from an expression string by :func:`function`.

    Call it with one value per variable (positionally, or by name).  Its
    ``repr`` is the call of :func:`function` that makes it again.

    Attributes
    ----------
    text
        The expression string (surrounding whitespace removed).
    variables
        The names of its arguments, in order.
    """

    def __init__(self, text: str, variables: tuple[str, ...],
                 constants: tuple[Any, ...],
                 steps: tuple[tuple[Callable[..., Any], tuple[int, ...]], ...],
                 result: int, default_order: bool) -> None:
        self.text = text
        self.variables = variables
        self.__name__ = self.__qualname__ = text
        self.__doc__ = f"The expression {text!r} as a function of {variables}."
        # The evaluation trace: registers hold the arguments, then the
        # constants, then one value per step; each step reads earlier ones.
        self._constants = constants
        self._steps = steps
        self._result = result
        self._default_order = default_order

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != len(self.variables):
            args = self._bind(args, kwargs)
        registers = [*args, *self._constants]
        for fn, operands in self._steps:
            registers.append(fn(*[registers[i] for i in operands]))
        return registers[self._result]

    def _bind(self, args: tuple, kwargs: dict) -> tuple:
        if not self.variables and (args or kwargs):
            # dk.derivative("2", 1.0): a constant, but the user has a variable
            # in mind; naming it makes the expression a function of it.
            raise TypeError(
                f"The expression {self.text!r} has no variables, so it takes no "
                "arguments. To use it as a function of x (a constant one), name "
                f"the variable: dk.function({self.text!r}, vars='x').")
        try:
            bound = self.__signature__.bind(*args, **kwargs)
        except TypeError as error:
            takes = ", ".join(self.variables) or "no arguments"
            raise TypeError(f"{self!r} takes ({takes}): {error}.") from None
        return tuple(bound.arguments[name] for name in self.variables)

    @property
    def __signature__(self) -> inspect.Signature:
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        return inspect.Signature(
            [inspect.Parameter(name, kind) for name in self.variables])

    def __repr__(self) -> str:
        if self._default_order:
            return f"function({self.text!r})"
        return f"function({self.text!r}, vars={' '.join(self.variables)!r})"

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expression):
            return NotImplemented
        return (self.text, self.variables) == (other.text, other.variables)

    def __hash__(self) -> int:
        return hash((self.text, self.variables))


# --------------------------------------------------------------------------
# Parsing and checking.


def _variable_names(vars: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(vars, str):
        names = [n for n in re.split(r"[\s,]+", vars) if n]
    else:
        names = list(vars)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"Variable names must be strings, got {name!r}.")
        problem = _bad_variable_name(unicodedata.normalize("NFKC", name))
        if problem:
            raise ExpressionError(f"vars: {name!r} {problem}.")
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ExpressionError(f"vars: {', '.join(twice)} listed more than once.")
    return tuple(unicodedata.normalize("NFKC", n) for n in names)


def _bad_variable_name(name: str) -> str | None:
    """Why ``name`` cannot be a variable, or None if it can."""
    if not name.isidentifier() or keyword.iskeyword(name):
        return "is not a valid variable name"
    if name.startswith("_"):
        return "starts with '_' (such names are reserved)"
    if name in FUNCTIONS:
        return "is a function"
    if name in CONSTANTS:
        return "is a constant"
    if name.lower() in _NOT_FINITE:
        return "reads as a constant that is not a finite number"
    return None


class _Const:
    """A constant operand during compilation: its value and where it came from."""

    def __init__(self, value: Any, index: int) -> None:
        self.value = value
        self.index = index


# An operand while compiling: a variable ("var", i), a constant or a step.
_Ref = tuple[str, int] | _Const


class _Compiler:
    """Check the tree of one expression and translate it into steps."""

    def __init__(self, text: str, variables: tuple[str, ...] | None) -> None:
        self.text = text.strip()
        self.lines = re.split(r"\r\n|\r|\n", self.text)
        self.fixed = variables is not None
        self.variables: list[str] = list(variables or ())
        self.constants: list[Any] = []
        self.steps: list[tuple[Callable[..., Any], tuple[_Ref, ...]]] = []

    # ---- errors that point into the text ----
    def fail(self, message: str, node: ast.AST | None = None) -> ExpressionError:
        if node is None:
            return ExpressionError(message)
        lineno = getattr(node, "lineno", 1)
        end_lineno = getattr(node, "end_lineno", None) or lineno
        start = self._column(lineno, getattr(node, "col_offset", 0))
        end_col = getattr(node, "end_col_offset", None)
        # A part spanning several lines is underlined to the end of its first.
        end = None if end_col is None or end_lineno != lineno \
            else self._column(lineno, end_col)
        return self.fail_at(message, lineno, start, end)

    def fail_at(self, message: str, lineno: int, start: int,
                end: int | None) -> ExpressionError:
        lineno = min(max(lineno, 1), len(self.lines))
        line = self.lines[lineno - 1]
        start = min(max(start, 0), len(line))
        end = len(line) if end is None else min(end, len(line))
        end = max(end, start + 1)
        # Show control characters visibly, keep tabs so the carets line up.
        line = "".join("\ufffd" if unicodedata.category(c) == "Cc" and c != "\t"
                       else c for c in line)
        pad = "".join("\t" if c == "\t" else " " for c in line[:start])
        where = f" (line {lineno})" if len(self.lines) > 1 else ""
        return ExpressionError(
            f"{message}{where}\n    {line}\n    {pad}{'^' * (end - start)}")

    def _column(self, lineno: int, col: int) -> int:
        """``ast`` columns count UTF-8 bytes; the carets count characters."""
        lineno = min(max(lineno, 1), len(self.lines))
        line = self.lines[lineno - 1].encode("utf-8")
        return len(line[:col].decode("utf-8", errors="ignore"))

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or type(node).__name__

    # ---- the whole string ----
    def compile(self) -> Expression:
        tree = self.parse()
        root = self.visit(tree.body, 1)
        n, k = len(self.variables), len(self.constants)

        def flat(ref: _Ref) -> int:
            if isinstance(ref, _Const):
                return n + ref.index
            kind, i = ref
            return i if kind == "var" else n + k + i

        steps = tuple((fn, tuple(flat(r) for r in refs)) for fn, refs in self.steps)
        return Expression(self.text, tuple(self.variables), tuple(self.constants),
                          steps, flat(root), default_order=not self.fixed)

    def parse(self) -> ast.Expression:
        text = self.text
        if not text:
            raise self.fail("The expression is empty: write e.g. 'sin(x)**2'.")
        if len(text) > MAX_LENGTH:
            raise self.fail(
                f"The expression is {len(text)} characters long; the limit is "
                f"{MAX_LENGTH} (diffkit.expression.MAX_LENGTH). Write a long "
                "function as Python with diffkit.numpy instead.")
        for lineno, line in enumerate(self.lines, 1):
            for col, char in enumerate(line):
                if unicodedata.category(char) in ("Cc", "Cs") and char != "\t":
                    raise self.fail_at(
                        f"The character U+{ord(char):04X} is not allowed",
                        lineno, col, col + 1)
        try:
            # Warnings about the code (e.g. "'int' object is not callable")
            # would only repeat what the checks below report better.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(text, mode="eval")
        except SyntaxError as error:
            message = error.msg or "invalid syntax"
            lineno = error.lineno or 1
            start = (error.offset or 1) - 1
            end = (error.end_offset or 0) - 1
            if (error.end_lineno or lineno) != lineno or end <= start:
                end = start + 1
            raise self.fail_at(f"{message} ({_ALLOWED} are allowed)",
                               lineno, start, end) from None
        except (RecursionError, MemoryError, ValueError):  # pragma: no cover
            raise self.fail(
                f"The expression could not be parsed (is it nested more than "
                f"{MAX_DEPTH} levels deep?).") from None

    # ---- one node ----
    def visit(self, node: ast.expr, depth: int) -> _Ref:
        if depth > MAX_DEPTH:
            raise self.fail(
                f"The expression is nested more than {MAX_DEPTH} levels deep "
                "(diffkit.expression.MAX_DEPTH)", node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth)
        if isinstance(node, ast.UnaryOp):
            return self.unaryop(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Attribute):
            raise self.fail(
                f"Attribute access ('.{node.attr}') is not allowed in an "
                f"expression: only {_ALLOWED}", node)
        what = _DESCRIPTIONS.get(type(node), type(node).__name__)
        raise self.fail(
            f"{what[0].upper()}{what[1:]} is not allowed in an expression: "
            f"{self.segment(node)!r} (only {_ALLOWED})", node)

    def constant(self, node: ast.Constant) -> _Ref:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float | complex):
            raise self.fail(
                f"{value!r} is not a number: only {_ALLOWED} are allowed", node)
        if not _finite(value):
            raise self.fail(
                f"The number {self.segment(node)} is too large for a float", node)
        return self.new_constant(value)

    def new_constant(self, value: Any) -> _Const:
        self.constants.append(value)
        return _Const(value, len(self.constants) - 1)

    def name(self, node: ast.Name) -> _Ref:
        name = node.id
        if name in CONSTANTS:
            return self.new_constant(CONSTANTS[name])
        if name in FUNCTIONS:
            raise self.fail(
                f"{name!r} is a function: call it, as in {name}(x)", node)
        if name.startswith("_"):
            raise self.fail(
                f"The name {name!r} is not allowed: names starting with '_' "
                "are reserved", node)
        if name.lower() in _NOT_FINITE:
            raise self.fail(
                f"{name!r} is not allowed: constants in an expression must be "
                f"finite, and a variable named {name!r} would read as the "
                "constant (rename it)", node)
        if name not in self.variables:
            if self.fixed:
                listed = ", ".join(self.variables) or "none"
                raise self.fail(
                    f"Unknown name {name!r}: the variables are {listed} "
                    "(add it to vars=..., or check the spelling)", node)
            self.variables.append(name)
        return ("var", self.variables.index(name))

    def binop(self, node: ast.BinOp, depth: int) -> _Ref:
        op = type(node.op)
        if op not in _BINARY_OPERATORS:
            raise self.refused_operator(node, node.left, node.right)
        if op in _CHAINED:
            return self.chain(node, depth)
        symbol, fn = _BINARY_OPERATORS[op]
        left = self.visit(node.left, depth + 1)
        right = self.visit(node.right, depth + 1)
        if op is ast.Pow and isinstance(right, _Const) \
                and not _size(right.value) <= MAX_EXPONENT:
            shown = self.segment(node.right)
            value = _show(right.value)
            if value != shown:
                shown += f" = {value}"
            raise self.fail(
                f"The exponent {shown} is too large: constant exponents are "
                f"limited to {MAX_EXPONENT} in size "
                "(diffkit.expression.MAX_EXPONENT)", node.right)
        return self.apply(fn, (left, right), node, symbol)

    def chain(self, node: ast.BinOp, depth: int) -> _Ref:
        """``a + b - c + ...`` (or ``a * b / c ...``): one level, however long.

        Python's parser nests the chain to the left, ``((a + b) - c) + ...``,
        but a reader sees a flat list of terms; so the left spine is walked
        in a loop, and each term is visited one level down.  (Visiting the
        spine recursively would also run out of Python's stack for a few
        hundred terms.)
        """
        group = _CHAINED[type(node.op)]
        links: list[ast.BinOp] = []
        first: ast.expr = node
        while isinstance(first, ast.BinOp) and _CHAINED.get(type(first.op)) == group:
            links.append(first)
            first = first.left
        total = self.visit(first, depth + 1)
        for link in reversed(links):  # left to right, as Python evaluates
            symbol, fn = _BINARY_OPERATORS[type(link.op)]
            total = self.apply(fn, (total, self.visit(link.right, depth + 1)),
                               link, symbol)
        return total

    def unaryop(self, node: ast.UnaryOp, depth: int) -> _Ref:
        op = type(node.op)
        if op not in _UNARY_OPERATORS:
            raise self.refused_operator(node, None, node.operand)
        symbol, fn = _UNARY_OPERATORS[op]
        return self.apply(fn, (self.visit(node.operand, depth + 1),), node, symbol)

    def call(self, node: ast.Call, depth: int) -> _Ref:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.fail(
                f"Only known functions can be called, by name: "
                f"{self.segment(func)!r} is not one", func)
        name = func.id
        if name not in FUNCTIONS:
            close = difflib.get_close_matches(name, FUNCTIONS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else \
                " (see diffkit.expression.FUNCTIONS for the known ones)"
            raise self.fail(f"Unknown function {name!r}{hint}", func)
        if node.keywords:
            keyword_node = node.keywords[0]
            raise self.fail(
                "Keyword arguments are not allowed in an expression: "
                f"{self.segment(keyword_node)!r}", keyword_node)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail(
                    f"Starred argument is not allowed in an expression: "
                    f"{self.segment(arg)!r}", arg)
        target, arity = FUNCTIONS[name]
        if len(node.args) != arity:
            plural = "s" if arity != 1 else ""
            raise self.fail(
                f"{name}() takes {arity} argument{plural}, got {len(node.args)}",
                node)
        args = tuple(self.visit(arg, depth + 1) for arg in node.args)
        self.steps.append((getattr(dnp, target), args))
        return ("step", len(self.steps) - 1)

    def apply(self, fn: Callable[..., Any], operands: tuple[_Ref, ...],
              node: ast.expr, symbol: str) -> _Ref:
        """One arithmetic step; on constants alone it is done right away."""
        if all(isinstance(r, _Const) for r in operands):
            values = [r.value for r in operands if isinstance(r, _Const)]
            try:
                value = fn(*values)
            except ZeroDivisionError:
                raise self.fail(
                    f"Division by zero in {self.segment(node)!r}", node) from None
            except (ArithmeticError, ValueError):
                value = math.inf
            if not _finite(value):
                raise self.fail(
                    f"The constant {self.segment(node)!r} overflows a float",
                    node)
            return self.new_constant(value)
        self.steps.append((fn, operands))
        return ("step", len(self.steps) - 1)

    def refused_operator(self, node: ast.expr, left: ast.expr | None,
                         right: ast.expr) -> ExpressionError:
        symbol, hint = _REFUSED_OPERATORS.get(
            type(getattr(node, "op", None)), (type(node).__name__, ""))
        message = (f"The operator {symbol!r} is not allowed in an expression"
                   f"{hint}; the operators are + - * / **")
        # Point at the operator itself: it lies between the two operands.
        if left is None:  # a unary operator comes first
            start = self._column(node.lineno, node.col_offset)
            return self.fail_at(message, node.lineno, start, start + len(symbol))
        if left.end_lineno == right.lineno == node.lineno \
                and left.end_col_offset is not None:
            start = self._column(node.lineno, left.end_col_offset)
            stop = self._column(node.lineno, right.col_offset)
            found = self.lines[node.lineno - 1].find(symbol, start, stop)
            if found >= 0:
                return self.fail_at(message, node.lineno, found,
                                    found + len(symbol))
        return self.fail(message, node)


def _finite(value: Any) -> bool:
    """Whether a constant fits in a float (exact for big integers)."""
    if isinstance(value, complex):
        return math.isfinite(value.real) and math.isfinite(value.imag)
    if isinstance(value, int):
        return abs(value) <= _FLOAT_MAX
    return math.isfinite(value)


def _size(value: Any) -> float:
    """``abs``, without overflowing on a complex number with huge parts."""
    if isinstance(value, complex):
        return max(abs(value.real), abs(value.imag))
    return abs(value)


def _show(value: Any) -> str:
    """A constant for a message, without printing hundreds of digits."""
    if isinstance(value, int) and abs(value) >= 10**30:
        return f"a {len(str(abs(value)))}-digit integer"
    return repr(value)
