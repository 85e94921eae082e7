"""Expression strings: what they mean, what they refuse, and that they are safe.

Derivatives are checked against closed forms written here with :mod:`math`,
independently of the parser; refusals are checked for the part they name and
for where the carets point.
"""

from __future__ import annotations

import math
import time

import numpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diffkit as dk
from diffkit.expression import FUNCTIONS, MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH

# --------------------------------------------------------------------------
# Valid expressions: value and both AD modes against a closed form.

sin, cos, exp, log, sqrt, tanh = math.sin, math.cos, math.exp, math.log, \
    math.sqrt, math.tanh

# (text, vars, point, value(*p), gradient(*p) as a tuple)
VALID = [
    ("sin(x)**2*exp(x)", None, (1.5,),
     lambda x: sin(x) ** 2 * exp(x),
     lambda x: (exp(x) * (2 * sin(x) * cos(x) + sin(x) ** 2),)),
    ("x**3 - 2*x + 1", None, (0.7,),
     lambda x: x**3 - 2 * x + 1, lambda x: (3 * x**2 - 2,)),
    ("ln(x)/x", None, (2.5,),
     lambda x: log(x) / x, lambda x: ((1 - log(x)) / x**2,)),
    ("sqrt(1 + x**2)", None, (0.3,),
     lambda x: sqrt(1 + x**2), lambda x: (x / sqrt(1 + x**2),)),
    ("tanh(x)", None, (0.4,), tanh, lambda x: (1 - tanh(x) ** 2,)),
    ("exp(-x**2/2)/sqrt(2*pi)", None, (0.8,),
     lambda x: exp(-x * x / 2) / sqrt(2 * math.pi),
     lambda x: (-x * exp(-x * x / 2) / sqrt(2 * math.pi),)),
    ("2**x + e**x", None, (1.2,),
     lambda x: 2**x + math.e**x, lambda x: (2**x * log(2) + math.e**x,)),
    ("asin(x) + acos(x)", None, (0.3,), lambda x: math.pi / 2, lambda x: (0.0,)),
    ("atan(x) - arctan(x) + atan2(1, x)", None, (0.5,),
     lambda x: math.atan2(1, x), lambda x: (-1 / (1 + x * x),)),
    ("cosh(x)**2 - sinh(x)**2", None, (0.9,), lambda x: 1.0, lambda x: (0.0,)),
    ("log10(x) + log2(x) + log1p(x)", None, (3.0,),
     lambda x: math.log10(x) + math.log2(x) + math.log1p(x),
     lambda x: (1 / (x * log(10)) + 1 / (x * log(2)) + 1 / (1 + x),)),
    ("abs(x)*x", None, (-1.5,), lambda x: abs(x) * x, lambda x: (2 * abs(x),)),
    ("x/(1 + exp(-x))", None, (0.6,),
     lambda x: x / (1 + exp(-x)),
     lambda x: (1 / (1 + exp(-x)) + x * exp(-x) / (1 + exp(-x)) ** 2,)),
    ("1e-3*x**2 + 2.5e1 - -x + +x", None, (4.0,),
     lambda x: 1e-3 * x * x + 25 + 2 * x, lambda x: (2e-3 * x + 2,)),
    ("x*y + ln(y)", None, (2.0, 0.5),
     lambda x, y: x * y + log(y), lambda x, y: (y, x + 1 / y)),
    ("x**y", None, (1.7, 2.3),
     lambda x, y: x**y, lambda x, y: (y * x ** (y - 1), x**y * log(x))),
    ("hypot(x, y)", None, (3.0, 4.0),
     math.hypot, lambda x, y: (x / 5, y / 5)),
    ("arctan2(y, x)", None, (0.5, 2.0),
     lambda y, x: math.atan2(y, x),
     lambda y, x: (x / (x * x + y * y), -y / (x * x + y * y))),
    ("max(x, y) + min(x, y)**2", None, (3.0, 2.0),
     lambda x, y: 3.0 + 4.0, lambda x, y: (1.0, 2 * y)),
    ("x*y**2", "y x", (2.0, 3.0),                        # order as named
     lambda y, x: x * y * y, lambda y, x: (2 * x * y, y * y)),
    ("a*c", ["a", "b", "c"], (2.0, 5.0, 3.0),             # b is unused
     lambda a, b, c: a * c, lambda a, b, c: (c, 0.0, a)),
    ("π*x", None, (1.0,), lambda x: math.pi * x, lambda x: (math.pi,)),
    ("(x\n + 1)**2", None, (2.0,), lambda x: (x + 1) ** 2,
     lambda x: (2 * (x + 1),)),
]


@pytest.mark.parametrize(("text", "vars", "point", "value", "gradient"), VALID,
                         ids=[v[0] for v in VALID])
@pytest.mark.parametrize("method", ["reverse", "forward"])
def test_valid_expression_values_and_derivatives(text, vars, point, value,
                                                 gradient, method):
    f = dk.function(text, vars=vars)
    assert f(*point) == pytest.approx(value(*point), rel=1e-13, abs=1e-14)
    grads = dk.gradient(f, *point, method=method) if len(point) > 1 \
        else (dk.derivative(f, point[0], method=method),)
    assert [float(g) for g in grads] == pytest.approx(gradient(*point),
                                                     rel=1e-12, abs=1e-13)


def test_derivative_of_a_string():
    assert dk.derivative("x**2", 2.0) == 4.0
    assert dk.derivative("x**2", 2.0, method="forward") == 4.0
    assert dk.grad("sin(x)")(0.0) == 1.0


def test_second_derivatives_and_hessian():
    # d²/dx² sin(x) exp(x) = 2 cos(x) exp(x)
    x = 0.7
    assert dk.grad(dk.grad("sin(x)*exp(x)"))(x) == pytest.approx(2 * cos(x) * exp(x))
    f = dk.function("x**2*y + y**3")                 # H = [[2y, 2x], [2x, 6y]]
    assert dk.hessian(f, argnum=0)(1.0, 2.0) == 4.0
    assert dk.hessian(f, argnum=1)(1.0, 2.0) == 12.0
    assert dk.grad(dk.grad(f, 0), 1, method="forward")(1.0, 2.0) == 2.0


def test_arrays_and_complex_inputs():
    f = dk.function("x**2")
    assert numpy.allclose(dk.elementwise_grad(f)(numpy.array([1.0, 2.0, 3.0, 4.0])),
                          [2.0, 4.0, 6.0, 8.0])
    # The autograd/JAX convention for a real function of a complex input.
    assert dk.grad("abs(z)**2")(1 + 2j) == 2 - 4j


def test_variables_repr_and_calling():
    f = dk.function("x*y + sin(t)")
    assert f.variables == ("x", "y", "t")
    assert repr(f) == "function('x*y + sin(t)')"
    assert str(f) == "x*y + sin(t)"
    g = dk.function("  x*y  ", vars="y, x")
    assert repr(g) == "function('x*y', vars='y x')"
    assert g.variables == ("y", "x")
    assert g(2.0, 3.0) == 6.0
    assert g(x=3.0, y=5.0) == 15.0
    # The repr makes the same function again (and only that: no eval of user text).
    assert eval(repr(g), {"function": dk.function}) == g
    assert dk.function(f) is f
    assert dk.function(g, vars="x y").variables == ("x", "y")
    assert dk.function("2*3")() == 6
    with pytest.raises(TypeError, match=r"takes \(x, y, t\)"):
        f(1.0)
    with pytest.raises(TypeError, match="expression string"):
        dk.function(42)  # type: ignore[arg-type]


def test_constants_are_folded_like_python():
    # Folding at parse time must give exactly what Python computes at run time.
    f = dk.function("x + 2**-1 + 1/3 + 2*pi + (-8)**(1/3)")
    assert f(0.0) == 0.0 + 2**-1 + 1 / 3 + 2 * math.pi + (-8) ** (1 / 3)
    assert dk.function("x**2")(3) == 9 and isinstance(dk.function("x**2")(3), int)


# --------------------------------------------------------------------------
# Refused input: the error names the part and the carets sit under it.


def caret_span(message: str) -> tuple[str, str]:
    """The echoed line and the text under the carets of an ExpressionError."""
    *_, line, carets = message.split("\n")
    assert line.startswith("    ") and carets.startswith("    ")
    line, carets = line[4:], carets[4:]
    start = len(carets) - len(carets.lstrip(" \t"))
    assert set(carets[start:]) == {"^"}, carets
    return line, line[start:len(carets)]


# (text, the text under the carets, a fragment of the message)
REFUSED = [
    ("x.__class__", "x.__class__", "'.__class__'"),
    ("().__class__.__bases__[0].__subclasses__()",
     "().__class__.__bases__[0].__subclasses__", "can be called"),
    ("__import__('os').system('ls')", "__import__('os').system", "can be called"),
    ("__import__('os')", "__import__", "Unknown function '__import__'"),
    ("eval('1+1')", "eval", "Unknown function 'eval'"),
    ("exec", None, None),                     # just a variable named exec: fine
    ("__builtins__", "__builtins__", "names starting with '_'"),
    ("x + _y", "_y", "'_y'"),
    ("lambda: 0", "lambda: 0", "Lambda"),
    ("[x for x in range(9)]", "[x for x in range(9)]", "Comprehension"),
    ("sum(x for x in y)", "sum", "Unknown function 'sum'"),
    ("sin(x for x in y)", "(x for x in y)", "Generator expression"),
    ("x[0]", "x[0]", "Subscript"),
    ("x[1:2]", "x[1:2]", "Subscript"),
    ("sin(x, y)", "sin(x, y)", "takes 1 argument, got 2"),
    ("hypot(x)", "hypot(x)", "takes 2 arguments, got 1"),
    ("sin(x=1)", "x=1", "Keyword arguments"),
    ("sin(**k)", "**k", "Keyword arguments"),
    ("hypot(*v)", "*v", "Starred argument"),
    ("sin(x)(y)", "sin(x)", "can be called"),
    ("foo(x)", "foo", "Unknown function 'foo'"),
    ("sni(x)", "sni", "did you mean 'sin'?"),
    ("sin", "sin", "'sin' is a function"),
    ("2 * exp", "exp", "'exp' is a function"),
    ("9**9**9", "9**9", "387420489"),
    (f"x**{MAX_EXPONENT + 1}", f"{MAX_EXPONENT + 1}", "too large"),
    ("x**-5000", "-5000", "-5000"),
    ("2**10**5", "10**5", "100000"),
    ("x**(1.7e308+1.7e308j)", "1.7e308+1.7e308j", "too large"),
    ("x ^ 2", "^", "write x**2"),
    ("(x) // 2", "//", "'//'"),
    ("x % 2", "%", "'%'"),
    ("x @ y", "@", "'@'"),
    ("x | y", "|", "'|'"),
    ("~x", "~", "'~'"),
    ("not x", "not", "'not'"),
    ("'a'*9", "'a'", "'a' is not a number"),
    ("b'x'", "b'x'", "is not a number"),
    ("None", "None", "None is not a number"),
    ("True + x", "True", "True is not a number"),
    ("...", "...", "is not a number"),
    ("f'{x}'", "f'{x}'", "F-string"),
    ("x if x else y", "x if x else y", "Conditional expression"),
    ("x < 1", "x < 1", "Comparison"),
    ("x and y", "x and y", "'and'/'or'"),
    ("(y := 2)", "y := 2", "Assignment"),
    ("x, y", "x, y", "Tuple"),
    ("[x]", "[x]", "List"),
    ("{x: 1}", "{x: 1}", "Dict"),
    ("1/0", "1/0", "Division by zero"),
    ("x + 0.0**-1", "0.0**-1", "Division by zero"),
    ("10**400", "10**400", "overflows"),
    ("1e308*10", "1e308*10", "overflows"),
    ("1e999", "1e999", "too large"),
    ("sin(x) + cos(", "(", "never closed"),
    ("x +* y", "*", "invalid syntax"),
    ("é + foo(x)", "foo", "'foo'"),            # columns are characters, not bytes
    ("(x\n + y.z)", "y.z", "line 2"),
    ("(x\r\n + y.z)", "y.z", "line 2"),
    ("x\t+ y.a", "y.a", "'.a'"),
    ("a\x00b", "\ufffd", "U+0000"),
    ("-" * (MAX_DEPTH + 50) + "x", "-" * 50 + "x", "nested more than"),
    ("(" * 250 + "x" + ")" * 250, "(", "too many nested parentheses"),
]


@pytest.mark.parametrize(("text", "under", "named"), REFUSED,
                         ids=[repr(r[0][:30]) for r in REFUSED])
def test_refused_input_is_named_and_pointed_at(text, under, named):
    if under is None:
        assert dk.function(text).variables == (text,)
        return
    with pytest.raises(dk.ExpressionError) as info:
        dk.function(text)
    message = str(info.value)
    assert named in message
    assert caret_span(message)[1] == under
    assert isinstance(info.value, ValueError)


def test_refused_strings_are_refused_by_every_api_call():
    for call in (dk.derivative, lambda f, x: dk.grad(f)(x)):
        with pytest.raises(dk.ExpressionError, match="Attribute access"):
            call("x.real", 1.0)


def test_length_limit_and_empty_input():
    with pytest.raises(dk.ExpressionError, match=f"the limit is {MAX_LENGTH}"):
        dk.function("x+" * MAX_LENGTH + "x")
    with pytest.raises(dk.ExpressionError, match="empty"):
        dk.function("   ")
    # A sum as deep as the limit allows still works.
    n = MAX_DEPTH - 1
    assert dk.derivative("+".join(["x"] * n), 1.0) == n


def test_bad_vars():
    with pytest.raises(dk.ExpressionError) as info:
        dk.function("x*z", vars="x y")
    assert "Unknown name 'z'" in str(info.value) and "x, y" in str(info.value)
    assert caret_span(str(info.value))[1] == "z"
    for vars, named in [("x x", "more than once"), ("sin", "is a function"),
                        ("pi", "is a constant"), ("_x", "starts with '_'"),
                        ("1x", "not a valid"), (["lambda"], "not a valid")]:
        with pytest.raises(dk.ExpressionError, match=named):
            dk.function("x", vars=vars)
    with pytest.raises(TypeError, match="strings"):
        dk.function("x", vars=["x", 1])  # type: ignore[list-item]


def test_every_listed_function_is_the_numpy_function_of_that_name():
    aliases = {"asin": numpy.arcsin, "acos": numpy.arccos, "atan": numpy.arctan,
               "asinh": numpy.arcsinh, "acosh": numpy.arccosh,
               "atanh": numpy.arctanh, "atan2": numpy.arctan2, "ln": numpy.log,
               "abs": numpy.absolute, "conj": numpy.conjugate, "pow": numpy.power,
               "mod": numpy.remainder, "max": numpy.maximum, "min": numpy.minimum}
    for name, (_, arity) in FUNCTIONS.items():
        expected = aliases.get(name) or getattr(numpy, name)
        args = [0.3, 1.7][:arity] if name not in ("arccosh", "acosh") else [1.7]
        f = dk.function(f"{name}({', '.join(['x', 'y'][:arity])})")
        assert f(*args) == expected(*args), name


def test_pathological_inputs_are_quick():
    # Each is refused (or accepted) at once: no big-integer arithmetic runs away.
    nasty = ["9**9**9**9", "(2**1000)**1000", "2**1000*2**1000*2**1000",
             "(10**308)**1000", "-" * (MAX_LENGTH - 1) + "x",
             "(" * 199 + "x" + ")" * 199, "x" * MAX_LENGTH,
             "sin(" * 120 + "x" + ")" * 120, "9" * MAX_LENGTH]
    for text in nasty:
        start = time.perf_counter()
        try:
            dk.function(text)
        except dk.ExpressionError:
            pass
        assert time.perf_counter() - start < 1.0, text


# --------------------------------------------------------------------------
# Fuzzing: the parser returns a function or raises ExpressionError, nothing else.

TOKENS = ["x", "y", "sin", "exp", "hypot", "pi", "e", "__class__", "_", "eval",
          "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", ":=", "*", "**", "+",
          "-", "/", "//", "%", "^", "@", "~", "<", "lambda", "for", "in", "if",
          "else", "not", "and", "'s'", '"', "f'", "0", "1", "2.5", "9", "1e308",
          "1j", "0x1F", "1_000", "\n", "\t", " ", "#", "\\", "é", "π", "\x00"]


def parses_or_refuses(text: str) -> None:
    try:
        f = dk.function(text)
    except dk.ExpressionError as error:
        assert str(error)
        return
    assert isinstance(f, dk.expression.Expression)
    assert len(f.variables) == len(set(f.variables))


fuzz = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@fuzz
@given(st.text(max_size=80))
def test_fuzz_random_text(text):
    parses_or_refuses(text)


@fuzz
@given(st.lists(st.sampled_from(TOKENS), max_size=40),
       st.sampled_from(["", " "]))
def test_fuzz_token_soup(tokens, sep):
    parses_or_refuses(sep.join(tokens))


@fuzz
@given(st.integers(0, 3), st.text(alphabet="()+-*/x1.e*", min_size=1,
                                  max_size=MAX_LENGTH + 20))
def test_fuzz_operator_soup_near_the_limits(_, text):
    parses_or_refuses(text)


# Well-formed expressions, written out with every parenthesis, give exactly
# what an independent evaluator of the same generated tree computes (with the
# same NumPy functions, so the results agree to the last bit).
_UNARY = {"sin": numpy.sin, "cos": numpy.cos, "tanh": numpy.tanh,
          "atan": numpy.arctan, "expsin": lambda v: numpy.exp(numpy.sin(v)),
          "-": lambda v: -v, "sq": lambda v: v**2}
_UNARY_TEXT = {"expsin": "exp(sin({}))", "-": "-({})", "sq": "({})**2"}
_BINOP = {"+": lambda a, b: a + b, "-": lambda a, b: a - b,
          "*": lambda a, b: a * b}


def _leaf():
    return st.one_of(
        st.sampled_from([("x", lambda x, y: x), ("y", lambda x, y: y),
                         ("pi", lambda x, y: math.pi)]),
        st.integers(0, 9).map(lambda n: (str(n), lambda x, y, n=n: n)))


def _extend(children):
    unary = st.tuples(st.sampled_from(sorted(_UNARY)), children).map(
        lambda t: (_UNARY_TEXT.get(t[0], t[0] + "({})").format(t[1][0]),
                   lambda x, y, f=_UNARY[t[0]], g=t[1][1]: f(g(x, y))))
    binary = st.tuples(children, st.sampled_from(sorted(_BINOP)), children).map(
        lambda t: (f"({t[0][0]}){t[1]}({t[2][0]})",
                   lambda x, y, a=t[0][1], op=_BINOP[t[1]], b=t[2][1]:
                   op(a(x, y), b(x, y))))
    return st.one_of(unary, binary)


@settings(max_examples=150, deadline=None)
@given(st.recursive(_leaf(), _extend, max_leaves=10),
       st.floats(-2, 2), st.floats(-2, 2))
def test_fuzz_well_formed_expressions_evaluate_like_python(tree, x, y):
    text, reference = tree
    f = dk.function(text, vars="x y")
    with numpy.errstate(over="ignore"):
        assert f(x, y) == reference(x, y), text
