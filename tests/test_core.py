"""The engine: nesting, structures, conventions and the classic traps."""

import math

import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np

MODES = ["forward", "reverse"]


@pytest.mark.parametrize("method", MODES)
def test_value_reused_many_times(method):
    def f(a):
        b = a + a
        c = b + b
        return c * c + a * a * a

    # c = 4a: f = 16a^2 + a^3, f' = 32a + 3a^2
    assert dk.derivative(f, 1.0, method=method) == pytest.approx(35.0)


def test_no_perturbation_confusion():
    D = dk.derivative
    assert D(lambda x: x * D(lambda y: x + y, 1.0), 1.0) == 1.0
    assert D(lambda x: x * D(lambda y: x + y, 1.0, method="forward"), 1.0,
             method="forward") == 1.0
    # inner derivative depends on x: d/dx [x * d/dy (x*y)] = d/dx x^2 = 2x
    assert D(lambda x: x * D(lambda y: x * y, 1.0), 3.0) == 6.0


@pytest.mark.parametrize("outer", MODES)
@pytest.mark.parametrize("inner", MODES)
def test_higher_order_mixing_modes(outer, inner):
    f = np.sin
    d2 = dk.grad(dk.grad(f, method=inner), method=outer)
    d4 = dk.grad(dk.grad(d2, method=inner), method=outer)
    assert d2(0.7) == pytest.approx(-math.sin(0.7), rel=1e-14)
    assert d4(0.7) == pytest.approx(math.sin(0.7), rel=1e-14)


def test_hessian_forward_over_reverse_matches_closed_form():
    def rosen(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    x = onp.array([0.3, -1.2, 0.8, 2.0])
    h = dk.hessian(rosen)(x)
    expected = onp.zeros((4, 4))
    for i in range(3):
        expected[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        expected[i + 1, i + 1] += 200
        expected[i, i + 1] = expected[i + 1, i] = -400 * x[i]
    onp.testing.assert_allclose(h, expected, rtol=1e-12)
    onp.testing.assert_allclose(dk.hessian(rosen, method="reverse")(x), expected,
                                rtol=1e-12)
    v = onp.array([1.0, -2.0, 0.5, 0.25])
    onp.testing.assert_allclose(dk.hvp(rosen)(x, v), expected @ v, rtol=1e-12)


@pytest.mark.parametrize("method", MODES)
def test_trees_in_and_out_and_unused_arguments(method):
    def f(params, unused):
        return params["w"] * np.sin(params["b"][0]) + params["b"][1] ** 2

    params = {"w": 2.0, "b": (0.5, 3.0)}
    g = dk.grad(f, method=method)(params, 7.0)
    assert set(g) == {"w", "b"} and isinstance(g["b"], tuple)
    assert g["w"] == pytest.approx(math.sin(0.5))
    assert g["b"][0] == pytest.approx(2 * math.cos(0.5))
    assert g["b"][1] == pytest.approx(6.0)
    assert dk.grad(f, argnum=1, method=method)(params, 7.0) == 0.0
    gw, gu = dk.grad(f, argnum=(0, 1), method=method)(params, 7.0)
    assert gu == 0.0 and gw["w"] == pytest.approx(math.sin(0.5))


@pytest.mark.parametrize("method", MODES)
def test_ints_are_floats(method):
    g = dk.grad(lambda x: x**2, method=method)(3)
    assert g == 6.0 and isinstance(g, float)
    onp.testing.assert_array_equal(
        dk.grad(lambda x: np.sum(x**2), method=method)(onp.array([1, 2])), [2.0, 4.0])


@pytest.mark.parametrize("method", MODES)
def test_complex_convention_matches_autograd_and_jax(method):
    # For real u(x + iy) the gradient is du/dx - i du/dy: 2 conj(z) for |z|^2.
    assert dk.grad(lambda z: np.abs(z) ** 2, method=method)(1 + 2j) == 2 - 4j
    assert dk.grad(lambda z: np.real(z * np.conj(z)), method=method)(1 + 2j) \
        == 2 - 4j
    # holomorphic functions give f'(z)
    z = onp.array([1 + 2j, 3j])
    onp.testing.assert_allclose(dk.jacobian(lambda z: z**2, method=method)(z),
                                onp.diag(2 * z))
    # the derivative with respect to a complex input is complex, even when
    # its imaginary part is 0 ...
    g = dk.grad(lambda z: np.real(np.conj(z)), method=method)(1 + 2j)
    assert g == 1 and isinstance(g, complex)
    # ... and with respect to a real input it is real
    assert dk.derivative(lambda x: np.exp(1j * x), 1.0, method=method) \
        == pytest.approx(-math.sin(1.0))


@pytest.mark.parametrize("method", MODES)
def test_stop_gradient(method):
    f = lambda x: x * dk.stop_gradient(x) + dk.stop_gradient(x**3)
    assert dk.derivative(f, 3.0, method=method) == 3.0


@pytest.mark.parametrize("method", MODES)
def test_abs_and_max_at_ties(method):
    assert dk.derivative(np.abs, 0.0, method=method) == 0.0
    g = dk.grad(np.max, method=method)(np.array([1.0, 3.0, 3.0]))
    onp.testing.assert_array_equal(g, [0.0, 0.5, 0.5])
    assert dk.derivative(lambda x: np.maximum(x, 1.0), 1.0, method=method) == 0.5


def test_norm_at_zero_is_zero_subgradient():
    onp.testing.assert_array_equal(dk.grad(np.linalg.norm)(onp.zeros(3)), onp.zeros(3))


@pytest.mark.parametrize("method", MODES)
def test_jacobian_shape_is_out_then_in(method):
    a = onp.arange(6.0).reshape(2, 3)
    j = dk.jacobian(lambda x: np.dot(a, x), method=method)(onp.ones(3))
    onp.testing.assert_allclose(j, a)
    j = dk.jacobian(lambda x: x.T * 2, method=method)(onp.ones((2, 3)))
    assert j.shape == (3, 2, 2, 3)
    assert j[1, 0, 0, 1] == 2.0 and j[1, 0, 1, 0] == 0.0


def test_jvp_vjp_contracts():
    y, t = dk.jvp(lambda x, y: x * y, (2.0, 3.0), (1.0, 0.0))
    assert (y, t) == (6.0, 3.0)
    y, back = dk.vjp(lambda x, y: x * y, 2.0, 3.0)
    assert back(1.0) == (3.0, 2.0)


def test_value_and_grad():
    v, g = dk.value_and_grad(lambda x: np.sum(x**2))(onp.array([1.0, 2.0]))
    assert v == 5.0
    onp.testing.assert_array_equal(g, [2.0, 4.0])


# --- bad input ------------------------------------------------------------------


def test_grad_of_non_scalar_points_to_elementwise_grad_and_jacobian():
    with pytest.raises(TypeError, match="elementwise_grad.*jacobian"):
        dk.grad(lambda x: x * 2)(onp.ones(3))


def test_assignment_into_traced_array_suggests_where_and_stack():
    def f(x):
        x[0] = 1.0
        return np.sum(x)

    with pytest.raises(dk.TracedValueError, match=r"np\.where.*np\.stack"):
        dk.grad(f)(onp.ones(3))

    with pytest.raises(dk.TracedValueError, match="np.stack"):
        dk.grad(lambda x: float(x))(1.0)


def _stores_into_a_plain_array(x):
    y = onp.zeros(2)
    y[0] = x[0] ** 2  # NumPy: "setting an array element with a sequence"
    return np.sum(y)


@pytest.mark.parametrize("method", ["forward", "reverse"])
def test_storing_a_traced_value_into_a_numpy_array_says_what_to_write(method):
    with pytest.raises(dk.TracedValueError,
                       match=r"stored into a plain NumPy array.*np\.stack"):
        dk.grad(_stores_into_a_plain_array, method=method)(onp.array([1.0, 2.0]))


def test_storing_a_symbolic_value_into_a_numpy_array_is_not_applicable():
    with pytest.raises(dk.NotApplicable, match=r"plain NumPy array.*np\.stack"):
        dk.grad(_stores_into_a_plain_array, method="symbolic")(onp.array([1.0, 2.0]))


def test_other_value_errors_from_f_pass_through_unchanged():
    def f(x):
        raise ValueError("the user's own error")

    with pytest.raises(ValueError, match="the user's own error"):
        dk.grad(f)(1.0)


def test_missing_rule_names_the_function_and_how_to_add_one():
    @dk.primitive
    def mystery(x):
        return x * 2

    with pytest.raises(dk.MissingRuleError, match=r"'mystery'.*dk\.defvjp\(mystery"):
        dk.grad(mystery)(1.0)
    with pytest.raises(dk.MissingRuleError, match=r"dk\.defjvp\(mystery"):
        dk.derivative(mystery, 1.0, method="forward")


def test_foreign_function_on_traced_value_is_named():
    import math as pymath

    with pytest.raises(dk.TracedValueError, match="float"):
        dk.grad(lambda x: pymath.sin(x))(1.0)
    with pytest.raises(dk.TracedValueError, match="numpy.frexp"):
        dk.grad(lambda x: onp.frexp(x)[0])(1.0)


def test_plain_numpy_functions_on_traced_values_are_redirected():
    assert dk.grad(lambda x: onp.sin(x) * onp.sum(x))(1.0) == pytest.approx(
        math.cos(1) + math.sin(1))


@pytest.mark.parametrize("argnum", [2, -3, (0, 5)])
def test_bad_argnum_names_the_valid_range(argnum):
    with pytest.raises(ValueError, match=r"valid argnum: 0\.\.1"):
        dk.grad(lambda x, y: x * y, argnum=argnum)(1.0, 2.0)


def test_unknown_method():
    with pytest.raises(ValueError, match="'finite', 'symbolic', 'forward', 'reverse'"):
        dk.grad(np.sin, method="magic")


def test_non_numeric_input():
    with pytest.raises(TypeError, match="numbers"):
        dk.grad(lambda s: s)("abc")


@pytest.mark.parametrize("method", MODES)
def test_jacobian_of_structured_output(method):
    f = lambda x: (x[0] * x[1], {"s": np.sin(x)})
    x = onp.array([1.0, 2.0])
    j_prod, j_dict = dk.jacobian(f, method=method)(x)
    onp.testing.assert_allclose(j_prod, [2.0, 1.0])
    onp.testing.assert_allclose(j_dict["s"], onp.diag(onp.cos(x)))


@pytest.mark.parametrize("method", ["forward-over-reverse", "reverse", "forward"])
def test_hessian_blocks_for_several_arguments(method):
    # f = x^2 y + sin(x y): closed-form second derivatives
    f = lambda x, y: x**2 * y + np.sin(x * y)
    x, y = 0.7, -1.3
    s, c = math.sin(x * y), math.cos(x * y)
    expected = [[2 * y - y * y * s, 2 * x + c - x * y * s],
                [2 * x + c - x * y * s, -x * x * s]]
    h = dk.hessian(f, argnum=(0, 1), method=method)(x, y)
    onp.testing.assert_allclose(onp.array(h, dtype=float), expected, rtol=1e-12)
    hd = dk.hessian(lambda p: f(p["x"], p["y"]), method=method)({"x": x, "y": y})
    assert hd["x"]["y"] == pytest.approx(expected[0][1], rel=1e-12)


def test_tape_keeps_only_what_the_rules_read(monkeypatch):
    from diffkit.backends import reverse

    monkeypatch.setattr(reverse, "BIG_ARRAY_SIZE", 1000)
    trace = reverse.ReverseTrace()
    x = trace.new_input(onp.linspace(0.1, 1.0, 5000))
    np.sum(np.exp(x) * 3.0 + x)
    kept = {node.prim.name: node for node in trace.tape}
    # exp's rule reads its output only; multiply by a constant reads the
    # constant only; add reads nothing: their arrays are zero-memory stand-ins
    assert kept["exp"].ans.strides == (8,) and kept["exp"].args[0].strides == (0,)
    assert kept["multiply"].args[0].strides == (0,)
    assert kept["add"].ans.strides == (0,)
    assert all(a.strides == (0,) for a in kept["add"].args)
    # ... and the gradient is unchanged: d/dx (3 e^x + x)
    g = dk.grad(lambda x: np.sum(np.exp(x) * 3.0 + x))(onp.linspace(0.1, 1.0, 5000))
    onp.testing.assert_allclose(g, 3 * onp.exp(onp.linspace(0.1, 1.0, 5000)) + 1)


@pytest.mark.parametrize("method", ["forward", "reverse", "symbolic"])
def test_out_argument_with_a_traced_value_is_refused(method):
    # np.sin(x, out=y) would write into a plain array the derivative cannot
    # follow: reverse mode used to return zeros without a word.
    def f(x):
        y = np.zeros(3)
        np.sin(x, out=y)
        return np.sum(y)

    with pytest.raises(dk.TracedValueError, match=r"out=.*y = np.sin\(x\)"):
        dk.grad(f, method=method)(onp.ones(3))
    plain = onp.zeros(2)
    np.sin(onp.ones(2), out=plain)  # untraced: NumPy's behaviour, unchanged
    onp.testing.assert_array_equal(plain, onp.sin(onp.ones(2)))


@pytest.mark.parametrize("method", MODES)
def test_round_floor_ceil_trunc_of_a_traced_value_are_steps(method):
    def f(x):
        return x * round(x) + math.floor(x) + math.ceil(x) * x + math.trunc(x)

    # away from the jumps: d/dx = round(x) + ceil(x) = 2 + 3 at x = 2.3
    assert dk.derivative(f, 2.3, method=method) == pytest.approx(5.0, rel=1e-15)
    assert f(2.3) == pytest.approx(2.3 * 2 + 2 + 3 * 2.3 + 2, rel=1e-15)


# --- rules given by the user are checked where they are given ------------------------


def _fresh_cube():
    @dk.primitive
    def cube(x):
        return x**3

    return cube


def test_a_rule_that_is_not_a_function_is_refused_and_changes_nothing():
    cube = _fresh_cube()
    with pytest.raises(TypeError, match=r"rule for argument 0 of cube is 3, not a "
                                        r"function.*lambda g, ans, x"):
        dk.defvjp(cube, 3)
    with pytest.raises(dk.MissingRuleError):  # nothing was registered
        dk.grad(cube)(2.0)
    # and a built-in primitive cannot be broken by accident either
    with pytest.raises(TypeError, match="not a function"):
        dk.defjvp(np.sin, "cos")
    assert dk.derivative(np.sin, 0.0, method="forward") == 1.0


def test_autograd_style_rules_are_explained():
    cube = _fresh_cube()
    with pytest.raises(TypeError, match=r"autograd's `lambda ans, x: lambda g: \.\.\.` "
                                        r"becomes `lambda g, ans, x: \.\.\.`"):
        dk.defvjp(cube, lambda ans, x: lambda g: g * 3 * x**2)
    dk.defvjp(cube, lambda g, ans, x: g * 3 * x**2)
    assert dk.grad(cube)(2.0) == 12.0  # 3 x^2


def test_more_rules_than_arguments_or_none_at_all_are_refused():
    cube = _fresh_cube()
    with pytest.raises(TypeError, match="2 rules for cube, which takes 1"):
        dk.defvjp(cube, lambda g, ans, x: g, lambda g, ans, x: g)
    with pytest.raises(TypeError, match="needs at least one rule"):
        dk.defjvp(cube)
