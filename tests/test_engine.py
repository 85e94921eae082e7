"""The AD engine's fast paths give the same answers as the slow, obvious ones."""

import math

import numpy as onp
import pytest
from closed_forms import rosenbrock_gradient, rosenbrock_hessian

import diffkit as dk
import diffkit.numpy as np
from diffkit.backends import forward, reverse


def test_tape_is_walked_in_reverse_order_of_recording():
    # y = sin(x) * x + x: x feeds three nodes, sin(x) one; the adjoint of x
    # must gather all three shares, which it only does if every consumer runs
    # before x's own turn.
    trace = reverse.ReverseTrace()
    x = trace.new_input(0.7)
    y = np.sin(x) * x + x
    assert [n.prim.name for n in trace.tape] == ["sin", "multiply", "add"]
    adjoints = reverse.backward(y._node, 1.0, trace.tape)
    assert adjoints[x._node] == pytest.approx(
        math.cos(0.7) * 0.7 + math.sin(0.7) + 1, rel=1e-15)


def test_values_not_leading_to_the_output_are_skipped():
    def f(x):
        unused = np.exp(x) * 3.0  # on the tape, but not on a path to the output
        del unused
        return x**2

    assert dk.grad(f)(1.5) == pytest.approx(3.0)


def test_single_use_pullback_frees_its_tape_and_says_so():
    value, pullback = reverse.vjp(lambda x: np.sum(np.sin(x) ** 2), onp.ones(3),
                                  retain=False)
    onp.testing.assert_allclose(pullback(1.0), onp.sin(2.0) * onp.ones(3))
    with pytest.raises(RuntimeError, match="retain=True"):
        pullback(1.0)


def test_retained_pullback_can_be_called_again():
    x = onp.array([0.3, -1.2])
    _, pullback = reverse.vjp(lambda x: np.tanh(x) * x, x)
    first = pullback(onp.array([1.0, 0.0]))
    second = pullback(onp.array([1.0, 0.0]))
    onp.testing.assert_array_equal(first, second)
    assert first[0] == pytest.approx(math.tanh(0.3) + 0.3 / math.cosh(0.3) ** 2)


def test_unbroadcast_returns_a_matching_cotangent_untouched():
    g = onp.ones((2, 3))
    assert reverse.unbroadcast(g, onp.zeros((2, 3))) is g


@pytest.mark.parametrize("shape", [(), (3,), (1, 3), (2, 1)])
def test_unbroadcast_sums_over_broadcast_axes(shape):
    g = onp.arange(6.0).reshape(2, 3)
    target = onp.zeros(shape)
    expected = g.sum(axis=tuple(range(2 - len(shape))))
    if shape:
        expected = expected.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1),
                                keepdims=True)
    onp.testing.assert_array_equal(reverse.unbroadcast(g, target), expected)


def test_unbroadcast_gives_a_real_argument_the_real_part():
    out = reverse.unbroadcast(onp.array([1 + 2j, 3 - 1j]), onp.zeros(2))
    assert out.dtype == onp.float64
    onp.testing.assert_array_equal(out, [1.0, 3.0])


def test_second_derivative_through_the_direct_numpy_path():
    # The inner trace's values are outer boxes: they must go back through the
    # primitive (not straight to NumPy) for the outer derivative to see them.
    d2 = dk.grad(dk.grad(lambda x: np.sin(x) * x))
    assert d2(0.4) == pytest.approx(2 * math.cos(0.4) - 0.4 * math.sin(0.4))


def test_forward_jacobian_in_chunks_matches_one_pass(monkeypatch):
    a = onp.random.default_rng(3).standard_normal((4, 7))

    def f(x):
        return np.tanh(np.dot(a, x)) + np.sum(x**2)

    x = onp.linspace(-1, 1, 7)
    whole = dk.jacobian(f, method="forward")(x)
    monkeypatch.setattr(forward, "CHUNK_ELEMENTS", 7 * 3)  # chunks of 3 directions
    chunked = dk.jacobian(f, method="forward")(x)
    onp.testing.assert_allclose(chunked, whole, rtol=0, atol=0)
    t = onp.tanh(a @ x)
    onp.testing.assert_allclose(whole, (1 - t**2)[:, None] * a + 2 * x, rtol=1e-13)


def test_forward_tangent_is_broadcast_to_an_untraced_arguments_shape():
    c = onp.arange(6.0).reshape(2, 3)
    jac = dk.jacobian(lambda x: x + c, method="forward")(onp.ones(3))
    assert jac.shape == (2, 3, 3)
    onp.testing.assert_array_equal(jac, onp.broadcast_to(onp.eye(3), (2, 3, 3)))


# --- summing shares (diffkit.backends.adjoints) -------------------------------------


def _rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@pytest.mark.parametrize("big", [0, 1000])
def test_slice_shares_are_summed_into_one_buffer(monkeypatch, big):
    # With big=1000 and 5000 elements, the real thresholds decide as they do
    # for users; with 0 every array takes the fast paths.
    monkeypatch.setattr(reverse, "BIG_ARRAY_SIZE", big)
    x = onp.linspace(-1.5, 1.5, 5000)
    onp.testing.assert_allclose(dk.grad(_rosenbrock)(x), rosenbrock_gradient(x),
                                rtol=1e-13, atol=1e-10)


def test_repeated_and_overlapping_indices_add_every_share():
    # x[[0, 0, 3]] names x0 twice; x[::2] and x[1:] overlap x[:-1]
    def f(x):
        return (np.sum(x[1:] * x[:-1]) + np.sum(x[::2]) + np.sum(x[[0, 0, 3]] * 2.0)
                + np.sum(x**2))

    x = onp.array([0.3, -1.2, 2.0, 0.7, 1.1])
    expected = 2 * x + onp.array([1.0, 0.0, 1.0, 0.0, 1.0])
    expected[:-1] += x[1:]
    expected[1:] += x[:-1]
    expected[0] += 4.0
    expected[3] += 2.0
    onp.testing.assert_allclose(dk.grad(f)(x), expected, rtol=1e-15)


def test_sums_in_place_never_write_into_a_share_or_the_seed():
    # add hands the same cotangent object to both arguments, so y's shares
    # below are one array several times over, and the seed itself reaches x.
    def f(x):
        y = x * 1.5
        return (y + y) + (y + x) + x

    x = onp.array([1.0, 2.0, 3.0])
    seed = onp.array([1.0, -2.0, 0.5])
    kept = seed.copy()
    _, pullback = dk.vjp(f, x)
    (gx,) = pullback(seed)
    onp.testing.assert_allclose(gx, 6.5 * kept, rtol=1e-15)  # f = 3y + 2x = 6.5x
    onp.testing.assert_array_equal(seed, kept)
    (again,) = pullback(seed)
    onp.testing.assert_allclose(again, 6.5 * kept, rtol=1e-15)


def test_the_one_number_adjoint_of_a_sum_gives_full_writable_gradients():
    x = onp.linspace(0.0, 1.0, 7)
    g = dk.grad(np.sum)(x)
    g *= 2.0  # a broadcast view would be read-only
    onp.testing.assert_array_equal(g, onp.full(7, 2.0))
    # a scalar parameter broadcast against the array gets the sum of its shares
    gx, gc = dk.grad(lambda x, c: np.sum(3.0 * x * c - c), argnum=(0, 1))(x, 0.5)
    onp.testing.assert_allclose(gx, onp.full(7, 1.5), rtol=1e-15)
    assert gc == pytest.approx(3.0 * onp.sum(x) - 7.0, rel=1e-15)


@pytest.mark.parametrize("method", ["forward", "reverse"])
def test_rosenbrock_hessian_through_indexing_matches_the_closed_form(method):
    x = onp.linspace(-1.2, 1.4, 6)
    onp.testing.assert_allclose(dk.hessian(_rosenbrock, method=method)(x),
                                rosenbrock_hessian(x), rtol=1e-13, atol=1e-10)
