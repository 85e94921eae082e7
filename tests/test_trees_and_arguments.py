"""Structured outputs, structured arguments, argnum, and mismatched shapes.

Every value is checked against something computed another way: a closed
form worked out by hand, or another method (a Jacobian by finite
differences, say) that does not share the code path under test.
"""

import math

import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np
from diffkit.trees import flatten

MODES = ["forward", "reverse"]
METHODS = ["finite", "symbolic", "forward", "reverse"]

X = onp.array([0.5, -1.0, 2.0])
U = onp.array([1.0, 2.0, -0.5])


def assert_plain(tree):
    """Every leaf is a plain number or NumPy array: no traced value escapes."""
    leaves, _ = flatten(tree)
    for leaf in leaves:
        assert isinstance(leaf, float | complex | onp.ndarray), type(leaf)


# --- 1. jvp and vjp with tuple, list and dict outputs ---------------------------


def test_vjp_of_a_tuple_output_is_the_sum_of_each_outputs_share():
    # f(x) = (x**2, sum(x)); for the cotangent (u, c): u * 2x + c
    y, pullback = dk.vjp(lambda x: (x**2, np.sum(x)), X)
    assert isinstance(y, tuple) and len(y) == 2
    onp.testing.assert_allclose(y[0], X**2)
    assert y[1] == pytest.approx(1.5)
    assert_plain(y)
    (x_bar,) = pullback((U, 3.0))
    onp.testing.assert_allclose(x_bar, 2 * X * U + 3.0, rtol=1e-15)
    # the pullback keeps its tape: a second cotangent gives a second answer
    (x_bar,) = pullback((onp.ones(3), 0.0))
    onp.testing.assert_allclose(x_bar, 2 * X, rtol=1e-15)


def test_vjp_of_a_tuple_returning_its_input_too():
    # the audit's case: (x**2, x) with ones for both gives 2x + 1
    y, pullback = dk.vjp(lambda x: (x**2, x), X)
    onp.testing.assert_array_equal(y[1], X)
    assert_plain(y)
    (x_bar,) = pullback((onp.ones(3), onp.ones(3)))
    onp.testing.assert_allclose(x_bar, 2 * X + 1, rtol=1e-15)


def test_vjp_of_a_nested_dict_output_matches_finite_difference_jacobian_blocks():
    def f(x, y):
        return {"prod": (x * y, np.sin(x)), "sq": y**2, "const": 7.0}

    x, y = onp.array([0.3, 1.1]), 2.5
    value, pullback = dk.vjp(f, x, y)
    assert set(value) == {"prod", "sq", "const"} and isinstance(value["prod"], tuple)
    onp.testing.assert_allclose(value["prod"][1], onp.sin(x))
    assert value["const"] == 7.0
    assert_plain(value)

    ct = {"prod": (onp.array([1.0, -2.0]), onp.array([0.5, 4.0])), "sq": 3.0,
          "const": 100.0}  # a constant output: its cotangent goes nowhere
    x_bar, y_bar = pullback(ct)
    jx, jy = (dk.jacobian(f, argnum=k, method="finite")(x, y) for k in (0, 1))
    expected_x = (ct["prod"][0] @ jx["prod"][0] + ct["prod"][1] @ jx["prod"][1]
                  + ct["sq"] * jx["sq"])
    expected_y = (ct["prod"][0] @ jy["prod"][0] + ct["prod"][1] @ jy["prod"][1]
                  + ct["sq"] * jy["sq"])
    onp.testing.assert_allclose(x_bar, expected_x, rtol=1e-7)
    assert y_bar == pytest.approx(expected_y, rel=1e-7)
    # and against the closed form: d/dx = u0*y + u1*cos(x), d/dy = u0.x + 3*2y
    onp.testing.assert_allclose(x_bar, ct["prod"][0] * y + ct["prod"][1] * onp.cos(x),
                                rtol=1e-15)
    assert y_bar == pytest.approx(ct["prod"][0] @ x + 3.0 * 2 * y, rel=1e-15)


def test_vjp_of_a_dict_output_with_one_entry():
    y, pullback = dk.vjp(lambda x: {"s": x**2}, X)
    onp.testing.assert_allclose(y["s"], X**2)
    assert_plain(y)
    onp.testing.assert_allclose(pullback({"s": U})[0], 2 * X * U, rtol=1e-15)


def test_vjp_of_real_and_complex_outputs_adds_the_separate_vjps():
    # One backward pass over both outputs must equal the two passes apart.
    f1 = lambda x: x**3
    f2 = lambda x: np.exp(1j * x)
    u1, u2 = onp.array([1.0, -1.0, 2.0]), onp.array([0.5 + 1j, 2.0, -1j])
    _, both = dk.vjp(lambda x: [f1(x), f2(x)], X)
    (x_bar,) = both([u1, u2])
    expected = dk.vjp(f1, X)[1](u1)[0] + dk.vjp(f2, X)[1](u2)[0]
    onp.testing.assert_allclose(x_bar, expected, rtol=1e-15)
    assert not onp.iscomplexobj(x_bar)  # a real input gets a real cotangent
    onp.testing.assert_allclose(  # by hand: u1 3x^2 + Re(u2 i e^{ix})
        x_bar, u1 * 3 * X**2 + onp.real(u2 * 1j * onp.exp(1j * X)), rtol=1e-14)


def test_vjp_of_an_output_that_does_not_depend_on_the_input_is_zero():
    y, pullback = dk.vjp(lambda x: (3.0, onp.ones(2)), X)
    assert y[0] == 3.0
    onp.testing.assert_array_equal(pullback((1.0, onp.ones(2)))[0], onp.zeros(3))


def test_jvp_of_tuple_and_dict_outputs_has_the_outputs_structure():
    # f(x) = (x**2, sum(x)); along v: (2 x v, sum(v))
    y, t = dk.jvp(lambda x: (x**2, np.sum(x)), (X,), (U,))
    assert isinstance(t, tuple) and len(t) == 2
    onp.testing.assert_allclose(y[0], X**2)
    onp.testing.assert_allclose(t[0], 2 * X * U, rtol=1e-15)
    assert t[1] == pytest.approx(U.sum())
    assert_plain((y, t))

    y, t = dk.jvp(lambda x: {"s": x**2, "k": 1.0}, (X,), (U,))
    assert set(y) == set(t) == {"s", "k"}
    onp.testing.assert_allclose(t["s"], 2 * X * U, rtol=1e-15)
    assert t["k"] == 0.0  # a constant output has a zero tangent
    assert_plain((y, t))


def test_jvp_of_a_nested_output_matches_finite_difference_jacobian_blocks():
    def f(p, y):
        return [np.sin(p["a"]) * y, {"b": p["b"] ** 2 * y}]

    p, y = {"a": onp.array([0.2, 0.9]), "b": 1.5}, 3.0
    dp, dy = {"a": onp.array([1.0, -0.5]), "b": 2.0}, 0.25
    value, tangent = dk.jvp(f, (p, y), (dp, dy))
    assert isinstance(tangent, list) and set(tangent[1]) == {"b"}
    jp = dk.jacobian(f, argnum=0, method="finite")(p, y)
    jy = dk.jacobian(f, argnum=1, method="finite")(p, y)
    expected0 = jp[0]["a"] @ dp["a"] + jp[0]["b"] * dp["b"] + jy[0] * dy
    expected1 = jp[1]["b"]["a"] @ dp["a"] + jp[1]["b"]["b"] * dp["b"] + jy[1]["b"] * dy
    onp.testing.assert_allclose(tangent[0], expected0, rtol=1e-7)
    assert tangent[1]["b"] == pytest.approx(expected1, rel=1e-7)
    # closed form: d[sin(a) y] = cos(a) da y + sin(a) dy; d[b^2 y] = 2 b y db + b^2 dy
    onp.testing.assert_allclose(
        tangent[0], onp.cos(p["a"]) * dp["a"] * y + onp.sin(p["a"]) * dy, rtol=1e-15)
    assert tangent[1]["b"] == pytest.approx(2 * 1.5 * 3.0 * 2.0 + 1.5**2 * 0.25)
    onp.testing.assert_allclose(value[0], onp.sin(p["a"]) * y)


@pytest.mark.parametrize("method", METHODS)
def test_derivative_of_a_structured_output_at_a_number(method):
    f = lambda x: (x**2, {"c": np.sin(x)})
    d = dk.derivative(f, 0.7, method=method)
    assert d[0] == pytest.approx(1.4, rel=1e-8)
    assert d[1]["c"] == pytest.approx(math.cos(0.7), rel=1e-8)


@pytest.mark.parametrize("method", METHODS)
def test_elementwise_grad_of_a_structured_output_sums_every_output(method):
    # sum(x**2) + sum(3x) + sin(x0): 2x + 3 + [cos(x0), 0, 0]
    f = lambda x: {"sq": x**2, "lin": (3 * x, np.sin(x[0]))}
    g = dk.elementwise_grad(f, method=method)(X)
    expected = 2 * X + 3 + onp.array([math.cos(X[0]), 0.0, 0.0])
    onp.testing.assert_allclose(g, expected, rtol=1e-8)


# --- 2. hvp with structured arguments and several argnums ------------------------


def test_hvp_with_a_dict_argument():
    # f = a^3 b: H = [[6ab, 3a^2], [3a^2, 0]]; at (1, 2) along (1, 0): (12, 3)
    f = lambda p: p["a"] ** 3 * p["b"]
    hv = dk.hvp(f)({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 0.0})
    assert hv == {"a": 12.0, "b": 3.0}
    h = dk.hessian(f)({"a": 1.0, "b": 2.0})  # another route to the same numbers
    assert hv["b"] == h["b"]["a"] and hv["a"] == h["a"]["a"]


@pytest.mark.parametrize("container", [tuple, list])
def test_hvp_with_tuple_and_list_arguments(container):
    f = lambda p: p[0] ** 3 * p[1] + np.sum(p[2] ** 2) * p[1]
    p = container([1.0, 2.0, onp.array([1.0, -1.0])])
    v = container([0.5, -1.0, onp.array([2.0, 1.0])])
    hv = dk.hvp(f)(p, v)
    assert isinstance(hv, container)
    # by hand: H[0] = (6ab, 3a^2, 0), H[1] = (3a^2, 0, 2c), H[2] = (0, 2c, 2b I)
    a, b, c = 1.0, 2.0, onp.array([1.0, -1.0])
    assert hv[0] == pytest.approx(6 * a * b * 0.5 + 3 * a**2 * -1.0)
    assert hv[1] == pytest.approx(3 * a**2 * 0.5 + 2 * c @ v[2])
    onp.testing.assert_allclose(hv[2], 2 * c * -1.0 + 2 * b * v[2])


def test_hvp_with_several_argnums_gives_the_blocks_of_h_v():
    f = lambda a, x, y: a * np.sum(x**2 * y) + np.sin(y)
    a, x, y = 2.0, onp.array([1.0, 3.0]), 0.4
    vx, vy = onp.array([1.0, -2.0]), 0.5
    hx, hy = dk.hvp(f, argnum=(1, 2))(a, x, y, (vx, vy))
    h = dk.hessian(f, argnum=(1, 2))(a, x, y)  # blocks H[i][j]
    onp.testing.assert_allclose(hx, h[0][0] @ vx + h[0][1] * vy, rtol=1e-14)
    assert hy == pytest.approx(h[1][0] @ vx + h[1][1] * vy, rel=1e-14)
    # by hand: f_x = 2 a x y, so f_xx = 2 a y I, f_xy = 2 a x; f_yy = -sin(y)
    onp.testing.assert_allclose(hx, 2 * a * y * vx + 2 * a * x * vy)
    assert hy == pytest.approx(2 * a * x @ vx - math.sin(y) * vy)


def test_hvp_of_a_later_argument():
    f = lambda a, x: np.sum(a * x**3)
    hv = dk.hvp(f, argnum=1)(2.0, onp.array([1.0, 2.0]), onp.array([1.0, 1.0]))
    onp.testing.assert_allclose(hv, 6 * 2.0 * onp.array([1.0, 2.0]))


def test_hvp_refuses_an_argument_listed_twice_and_a_missing_v():
    f = lambda x, y: x**2 * y
    with pytest.raises(ValueError, match="lists an argument twice"):
        dk.hvp(f, argnum=(0, 0))(1.0, 2.0, (1.0, 1.0))
    with pytest.raises(TypeError, match=r"dk\.hvp\(f\)\(x, v\)"):
        dk.hvp(lambda x: x**3)(1.0)


# --- 3. gradients of outputs that are not one number -----------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("output", [
    lambda x: (x, x), lambda x: [x, 2 * x], lambda x: {"a": x},
])
@pytest.mark.parametrize("operator", [dk.grad, dk.value_and_grad])
def test_gradient_of_a_structured_output_points_to_elementwise_grad_and_jacobian(
        method, output, operator):
    with pytest.raises(TypeError, match=r"scalar output.*(tuple|list|dict) of "
                                        r"\d values.*elementwise_grad.*jacobian"):
        operator(output, method=method)(1.0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("operator", [dk.grad, dk.value_and_grad, dk.elementwise_grad,
                                      dk.jacobian])
def test_non_numeric_output_is_an_error_not_a_zero(method, operator):
    name = operator.__name__
    with pytest.raises(TypeError, match=rf"dk\.{name}: the function returned None "
                                        r"\(a missing return statement\?\)"):
        operator(lambda x: None, method=method)(1.0)
    with pytest.raises(TypeError, match=r"returned 'a' \(a str\).*numbers"):
        operator(lambda x: "a", method=method)(1.0)
    with pytest.raises(TypeError, match=r"output holds None at \[1\]"):
        dk.jacobian(lambda x: (x, None), method=method)(1.0)


@pytest.mark.parametrize("method", METHODS)
def test_a_constant_number_output_still_has_a_zero_gradient(method):
    assert dk.grad(lambda x: 3.0, method=method)(1.0) == 0.0


@pytest.mark.parametrize("method", METHODS)
def test_gradient_of_an_array_output_keeps_its_message(method):
    with pytest.raises(TypeError, match=r"array of shape \(3,\).*elementwise_grad"):
        dk.grad(lambda x: x * 2, method=method)(onp.ones(3))


def test_jvp_vjp_and_hvp_refuse_non_numeric_outputs():
    with pytest.raises(TypeError, match="returned None"):
        dk.jvp(lambda x: None, (1.0,), (1.0,))
    with pytest.raises(TypeError, match=r"output holds 'a' \(a str\) at \[0\]"):
        dk.vjp(lambda x: ("a", x), 1.0)


def test_check_grads_refuses_non_numeric_outputs():
    with pytest.raises(TypeError, match=r"dk\.check_grads: the function returned None"):
        dk.check_grads(lambda x: None, 1.0)
    with pytest.raises(TypeError, match=r"returned 'a' \(a str\)"):
        dk.check_grads(lambda x: "a", 1.0)


def test_check_grads_checks_every_output_of_a_structured_one():
    dk.check_grads(lambda x: (x**2, {"s": np.sin(x), "n": np.sum(x)}), X)

    bad = dk.primitive(lambda x: x**2)
    dk.defvjp(bad, lambda g, ans, x: g * x)  # wrong: should be 2 * x
    dk.defjvp(bad, lambda g, ans, x: g * x)
    for mode in MODES:
        with pytest.raises(AssertionError, match=f"{mode}-mode derivative of order 1"):
            dk.check_grads(lambda x: (np.sin(x), {"b": bad(x)}), X, modes=[mode])


# --- 4. empty Jacobians ----------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_jacobian_of_an_empty_array_has_the_empty_shape(method):
    j = dk.jacobian(lambda x: x**2, method=method)(onp.zeros((0, 3)))
    assert j.shape == (0, 3, 0, 3)
    # an empty output of a non-empty input: no rows at all
    j = dk.jacobian(lambda x: x[:0] * 2, method=method)(onp.ones(3))
    assert j.shape == (0, 3) and j.dtype == onp.float64


@pytest.mark.parametrize("method", MODES)
def test_jacobian_of_an_empty_output_for_a_complex_input(method):
    j = dk.jacobian(lambda z: z[:0] * 2, method=method)(onp.array([1j, 2.0]))
    assert j.shape == (0, 2)


# --- 5. argnum -------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_numpy_integer_argnum_counts_as_an_int(method):
    f = lambda x, y: x * y**2
    assert dk.grad(f, argnum=onp.int64(1), method=method)(2.0, 3.0) == \
        pytest.approx(12.0)
    gx, gy = dk.grad(f, argnum=(onp.int32(0), 1), method=method)(2.0, 3.0)
    assert (gx, gy) == (pytest.approx(9.0), pytest.approx(12.0))


@pytest.mark.parametrize("argnum", [1.0, None, "0", True, (0, 1.5), [0, "1"]])
@pytest.mark.parametrize("operator", [dk.grad, dk.value_and_grad, dk.elementwise_grad,
                                      dk.jacobian, dk.hessian, dk.hvp])
def test_argnum_of_the_wrong_type_says_what_is_allowed(argnum, operator):
    # refused when the operator is made, before f is ever called
    with pytest.raises(TypeError, match=r"argnum must be an int.*argnum=0.*tuple "
                                        r"of ints.*argnum=\(0, 1\)"):
        operator(lambda x, y: x * y, argnum=argnum)


def test_empty_argnum_selects_nothing():
    with pytest.raises(ValueError, match=r"argnum=\(\) selects no argument"):
        dk.grad(lambda x, y: x * y, argnum=())


@pytest.mark.parametrize("method", METHODS)
def test_an_argnum_listed_twice_gives_its_gradient_twice(method):
    # as JAX: d(xy)/dx at (1, 2) is 2, for each entry naming x
    f = lambda x, y: x * y
    assert dk.grad(f, argnum=(0, 0), method=method)(1.0, 2.0) == (2.0, 2.0)
    assert dk.grad(f, argnum=(1, 0, -1), method=method)(1.0, 2.0) == (1.0, 2.0, 1.0)
    value, g = dk.value_and_grad(f, argnum=(0, -2), method=method)(1.0, 2.0)
    assert value == 2.0 and g == (2.0, 2.0)
    assert dk.elementwise_grad(f, argnum=(1, 1), method=method)(1.0, 2.0) == \
        (1.0, 1.0)
    j = dk.jacobian(lambda x, y: (x * y, x), argnum=(1, 0, 1), method=method)(2.0, 3.0)
    assert j == ((2.0, 3.0, 2.0), (0.0, 1.0, 0.0))


@pytest.mark.parametrize("method", ["forward-over-reverse", "reverse", "finite",
                                    "symbolic"])
def test_hessian_with_an_argnum_listed_twice(method):
    # f = x^2 y: f_xx = 2y = 6, f_xy = 2x = 2, f_yy = 0 at (1, 3)
    h = dk.hessian(lambda x, y: x**2 * y, argnum=(0, 1, 0), method=method)(1.0, 3.0)
    expected = [[6.0, 2.0, 6.0], [2.0, 0.0, 2.0], [6.0, 2.0, 6.0]]
    onp.testing.assert_allclose(onp.array(h, dtype=float), expected, atol=1e-5)


# --- 6. tangents and cotangents of the wrong shape or structure -------------------


def test_jvp_tangent_of_the_wrong_shape_names_it():
    with pytest.raises(ValueError, match=r"tangents\[0\] has shape \(2,\), but "
                                         r"primals\[0\] has shape \(1, 3\)"):
        dk.jvp(lambda x: x**2, (onp.ones((1, 3)),), (onp.ones(2),))
    with pytest.raises(ValueError, match=r"tangents\[1\] has shape \(3,\), but "
                                         r"primals\[1\] has shape \(\)"):
        dk.jvp(lambda x, y: x * y, (onp.ones(3), 2.0), (onp.ones(3), onp.ones(3)))


def test_jvp_dict_tangent_with_missing_or_extra_keys_names_them():
    f = lambda p: p["a"] * p["b"]
    with pytest.raises(ValueError, match=r"tangents\[0\] has the keys \['a'\], but "
                                         r"primals\[0\] has the keys \['a', 'b'\] "
                                         r"\(missing: 'b'\)"):
        dk.jvp(f, ({"a": 1.0, "b": 2.0},), ({"a": 1.0},))
    with pytest.raises(ValueError, match=r"\(unexpected: 'c'\)"):
        dk.jvp(f, ({"a": 1.0, "b": 2.0},), ({"a": 1.0, "b": 0.0, "c": 0.0},))
    # key order does not matter: keys are matched by name
    _, t = dk.jvp(f, ({"a": 1.0, "b": 2.0},), ({"b": 1.0, "a": 0.0},))
    assert t == 1.0


def test_jvp_tangent_tree_of_the_wrong_structure():
    f = lambda p: p[0] * p[1]
    with pytest.raises(ValueError, match=r"tangents\[0\] is a tuple of length 1, but "
                                         r"primals\[0\] is a tuple of length 2"):
        dk.jvp(f, ((1.0, 2.0),), ((1.0,),))
    with pytest.raises(ValueError, match=r"tangents\[0\] is an array of shape \(\), "
                                         r"but primals\[0\] is a tuple"):
        dk.jvp(f, ((1.0, 2.0),), (1.0,))
    with pytest.raises(TypeError, match=r"tangents\[0\] is None, not a number"):
        dk.jvp(lambda x: x, (1.0,), (None,))


def test_a_list_tangent_for_an_array_primal_is_read_as_an_array():
    _, t = dk.jvp(lambda x: np.sum(x**2), (X,), ([1.0, 0.0, 0.0],))
    assert t == pytest.approx(2 * X[0])


def test_vjp_cotangent_of_the_wrong_shape_or_structure_names_it():
    _, pullback = dk.vjp(lambda x: (x**2, np.sum(x)), X)
    with pytest.raises(ValueError, match=r"cotangent\[0\] has shape \(2,\), but "
                                         r"output\[0\] has shape \(3,\)"):
        pullback((onp.ones(2), 1.0))
    with pytest.raises(ValueError, match=r"cotangent is None, but output is a tuple "
                                         r"of length 2"):
        pullback(None)
    with pytest.raises(ValueError, match=r"cotangent is an array of shape \(3,\), "
                                         r"but output is a tuple"):
        pullback(onp.ones(3))
    _, pullback = dk.vjp(lambda x: x**2, X)
    with pytest.raises(ValueError, match=r"cotangent has shape \(\), but output has "
                                         r"shape \(3,\)"):
        pullback(1.0)
    with pytest.raises(TypeError, match=r"cotangent is None, not a number"):
        pullback(None)


def test_hvp_vector_of_the_wrong_shape_names_it():
    f = lambda x: np.sum(x**3)
    with pytest.raises(ValueError, match=r"v has shape \(2,\), but x has shape "
                                         r"\(1, 3\)"):
        dk.hvp(f)(onp.ones((1, 3)), onp.ones(2))
    with pytest.raises(ValueError, match=r"v has the keys \['a'\].*\(missing: 'b'\)"):
        dk.hvp(lambda p: p["a"] * p["b"] ** 2)({"a": 1.0, "b": 2.0}, {"a": 1.0})
    with pytest.raises(ValueError, match=r"v is an array of shape \(\), but x is a "
                                         r"tuple of length 2"):
        dk.hvp(lambda a, b: a * b**2, argnum=(0, 1))(1.0, 2.0, 1.0)
