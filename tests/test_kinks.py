"""At a kink every method gives the same number (diffkit/rules/_kinks.py).

For a scalar kink the convention is the average of the one-sided slopes, so
a central difference -- which straddles the kink -- is an independent
check.  For a reduction's ties the convention is the even split, checked
against the closed form.
"""

import math

import mpmath
import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np

AD_AND_SYMBOLIC = ["forward", "reverse", "symbolic"]

# (name, f, x, the average of the one-sided slopes worked out by hand)
SCALAR_KINKS = [
    ("abs at 0", lambda x: np.abs(x), 0.0, 0.0),
    ("maximum tie", lambda x: np.maximum(x, 1.0), 1.0, 0.5),
    ("minimum tie", lambda x: np.minimum(x, 1.0), 1.0, 0.5),
    ("maximum tie, other side", lambda x: np.maximum(1.0, x), 1.0, 0.5),
    ("relu at 0", lambda x: np.maximum(x, 0.0) * 3.0, 0.0, 1.5),
    ("clip at lower bound", lambda x: np.clip(x, 0.0, 1.0), 0.0, 0.5),
    ("clip at upper bound", lambda x: np.clip(x, 0.0, 1.0), 1.0, 0.5),
    ("clip inside", lambda x: np.clip(x, 0.0, 1.0), 0.25, 1.0),
    ("clip outside", lambda x: np.clip(x, 0.0, 1.0), 2.0, 0.0),
    ("clip, lower bound only", lambda x: np.clip(x, -1.0, None), -1.0, 0.5),
    ("clip, upper bound only", lambda x: np.clip(x, None, -1.0), -1.0, 0.5),
    ("clip with a traced bound", lambda x: np.clip(2.0, x, 3.0), 2.0, 0.5),
    ("clip, x both bounds", lambda x: np.clip(x, x - 1.0, x + 1.0), 0.3, 1.0),
    ("max of a pair", lambda x: np.max(np.stack([x, 2.0 - x])), 1.0, 0.0),
    ("fabs at 0", lambda x: np.fabs(x), 0.0, 0.0),
    ("fmax tie", lambda x: np.fmax(x, 1.0), 1.0, 0.5),
    ("fmin tie", lambda x: np.fmin(2.0 * x, 2.0), 1.0, 1.0),
    ("abs of a difference", lambda x: np.abs(x - 0.5) + x, 0.5, 1.0),
    ("hypot(x, 0) at 0", lambda x: np.hypot(x, 0.0), 0.0, 0.0),
    ("sinc at 0", lambda x: np.sinc(x), 0.0, 0.0),
]


@pytest.mark.parametrize("name, f, x, slope", SCALAR_KINKS,
                         ids=[case[0] for case in SCALAR_KINKS])
@pytest.mark.parametrize("method", AD_AND_SYMBOLIC)
def test_every_method_takes_the_average_of_the_one_sided_slopes(
        name, f, x, slope, method):
    central = dk.derivative(f, x, method="finite", scheme="central")
    assert central == pytest.approx(slope, abs=1e-9)  # the convention, independently
    assert dk.derivative(f, x, method=method) == pytest.approx(slope, abs=1e-12)


def test_clip_shares_a_tie_between_x_and_the_bound():
    # d/dx, d/dlo, d/dhi of clip at x = lo: half each, the same by every method.
    f = lambda x, lo, hi: np.clip(x, lo, hi)  # noqa: E731
    for method in AD_AND_SYMBOLIC:
        grads = dk.gradient(f, 0.0, 0.0, 1.0, method=method)
        onp.testing.assert_allclose(grads, [0.5, 0.5, 0.0], atol=1e-12)
        grads = dk.gradient(f, 1.0, 0.0, 1.0, method=method)
        onp.testing.assert_allclose(grads, [0.5, 0.0, 0.5], atol=1e-12)
        grads = dk.gradient(f, 5.0, 0.0, 1.0, method=method)
        onp.testing.assert_allclose(grads, [0.0, 0.0, 1.0], atol=1e-12)


def test_clip_with_crossed_bounds_is_hi_everywhere_as_in_numpy():
    f = lambda x, lo, hi: np.clip(x, lo, hi)  # noqa: E731
    assert f(0.5, 2.0, 1.0) == onp.clip(0.5, 2.0, 1.0) == 1.0
    for method in AD_AND_SYMBOLIC:
        onp.testing.assert_allclose(dk.gradient(f, 0.5, 2.0, 1.0, method=method),
                                    [0.0, 0.0, 1.0], atol=1e-12)


TIES = [
    (lambda x: np.max(x), [3.0, 1.0, 3.0, 2.0, 3.0], [1 / 3, 0, 1 / 3, 0, 1 / 3]),
    (lambda x: np.min(x), [1.0, 1.0, 2.0], [0.5, 0.5, 0.0]),
    (lambda x: np.max(x * x), [1.0, -1.0, 0.5], [1.0, -1.0, 0.0]),
    (lambda x: np.amax(x), [2.0, 2.0], [0.5, 0.5]),
    (lambda x: np.sum(np.max(np.reshape(x, (2, 2)), axis=1)), [1.0, 1.0, 0.0, 2.0],
     [0.5, 0.5, 0.0, 1.0]),
    (lambda x: np.amin(x), [1.0, 0.0, 0.0], [0.0, 0.5, 0.5]),
    (lambda x: np.ptp(x), [1.0, 1.0, 0.0, 0.0], [0.5, 0.5, -0.5, -0.5]),
    (lambda x: np.ptp(x), [3.0, 1.0, 3.0, 2.0, 3.0], [1 / 3, -1.0, 1 / 3, 0.0, 1 / 3]),
    (lambda x: np.sum(np.ptp(np.reshape(x, (2, 2)), axis=0)), [1.0, 1.0, 1.0, 0.0],
     [0.0, 1.0, 0.0, -1.0]),
    (lambda x: np.nanmax(x), [1.0, 1.0, 0.0], [0.5, 0.5, 0.0]),
    (lambda x: np.nanmin(x), [1.0, 0.0, 0.0, 0.0], [0.0, 1 / 3, 1 / 3, 1 / 3]),
]


@pytest.mark.parametrize("f, x, expected", TIES)
@pytest.mark.parametrize("method", AD_AND_SYMBOLIC)
def test_a_reduction_splits_a_tie_evenly(f, x, expected, method):
    onp.testing.assert_allclose(dk.grad(f, method=method)(onp.array(x)), expected,
                                atol=1e-12)


@pytest.mark.parametrize("method", AD_AND_SYMBOLIC)
def test_second_derivatives_at_a_tie_are_finite_and_agree(method):
    # max(x)^2 at a tie: the gradient is 2 max(x) * (1/2, 1/2), and the
    # Hessian of the branch (x_i^2) averaged over the two tied branches.
    f = lambda x: np.max(x) ** 2  # noqa: E731
    h = dk.hessian(f, method=method)(onp.array([1.0, 1.0]))
    onp.testing.assert_allclose(h, [[0.5, 0.5], [0.5, 0.5]], atol=1e-12)


def test_compare_finds_no_error_in_ad_at_a_tie():
    table = dk.compare(lambda x: np.max(x), onp.array([1.0, 1.0, 0.0]))
    assert table.reference.startswith("symbolic")
    errors = {row.method: row.abs_error for row in table.rows}
    for method in ("symbolic", "forward", "reverse", "finite:central"):
        assert errors[method] == pytest.approx(0.0, abs=1e-12)


# --- 0/0 at a zero: the same number from every method, never nan -------------------
# (name, f, x, the derivative worked out by hand).  A length (hypot, the 2-norm,
# std) is even about its zero like abs, so its slopes there are 0; d(x**y)/dy
# is x**y log(x), whose limit at x = 0 is 0; arctan2 is constant along either
# axis on each side of its jump at the origin.
ZERO_OVER_ZERO = [
    ("hypot at the origin", lambda v: np.hypot(v[0], v[1]), [0.0, 0.0], [0.0, 0.0]),
    ("hypot(x, 0) at 0", lambda v: np.hypot(v[0], 0.0), [0.0], [0.0]),
    ("2-norm at 0", lambda v: np.linalg.norm(v), [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    ("std of constant data", lambda v: np.std(v), [2.0, 2.0, 2.0], [0.0, 0.0, 0.0]),
    ("0**y along y", lambda v: v[0] ** v[1], [0.0, 2.0], [0.0, 0.0]),
    ("0**y at y = 1", lambda v: v[0] ** v[1], [0.0, 1.0], [1.0, 0.0]),
    ("arctan2 at the origin", lambda v: np.arctan2(v[0], v[1]), [0.0, 0.0], [0.0, 0.0]),
]


@pytest.mark.parametrize("name, f, x, expected", ZERO_OVER_ZERO,
                         ids=[case[0] for case in ZERO_OVER_ZERO])
@pytest.mark.parametrize("method", AD_AND_SYMBOLIC)
def test_zero_over_zero_gives_the_limit_by_every_method(name, f, x, expected, method):
    got = dk.grad(f, method=method)(onp.array(x))
    onp.testing.assert_allclose(got, expected, atol=1e-12)
    if name != "arctan2 at the origin":  # a jump: differences see 1/h there
        central = dk.grad(f, method="finite")(onp.array(x))
        onp.testing.assert_allclose(central, expected, atol=1e-9)


# The Hessians there, by hand: a length's is 0 (like abs's); x**y at (0, 2)
# has d2/dx2 = y (y - 1) x**(y - 2) = 2 and the other two limits 0.
ZERO_OVER_ZERO_HESSIANS = [
    (lambda v: np.hypot(v[0], v[1]), [0.0, 0.0], onp.zeros((2, 2))),
    (lambda v: np.linalg.norm(v), [0.0, 0.0], onp.zeros((2, 2))),
    (lambda v: np.std(v), [1.0, 1.0], onp.zeros((2, 2))),
    (lambda v: v[0] ** v[1], [0.0, 2.0], [[2.0, 0.0], [0.0, 0.0]]),
    (lambda v: np.arctan2(v[0], v[1]), [0.0, 0.0], onp.zeros((2, 2))),
]


@pytest.mark.parametrize("f, x, expected", ZERO_OVER_ZERO_HESSIANS)
@pytest.mark.parametrize("method", AD_AND_SYMBOLIC)
def test_second_derivatives_at_a_zero_are_the_limits_too(f, x, expected, method):
    onp.testing.assert_allclose(dk.hessian(f, method=method)(onp.array(x)), expected,
                                atol=1e-12)


# --- large arguments: the symbolic formula must not overflow where AD does not ------
@pytest.mark.parametrize("fun, base", [(np.logaddexp, math.e), (np.logaddexp2, 2.0)])
@pytest.mark.parametrize("a, b", [(1000.0, 1000.0), (1100.0, 1099.0), (-800.0, 3.0)])
@pytest.mark.parametrize("method", AD_AND_SYMBOLIC)
def test_logaddexp_of_large_arguments(fun, base, a, b, method):
    # Closed form: the slopes are base**(a - L) and base**(b - L), L = fun(a, b).
    with mpmath.workdps(40):
        L = mpmath.log(mpmath.power(base, a) + mpmath.power(base, b), base)
        slopes = [float(mpmath.power(base, c - L)) for c in (a, b)]
    value, grads = dk.value_and_grad(fun, argnum=(0, 1), method=method)(a, b)
    assert value == pytest.approx(float(L), rel=1e-15)
    onp.testing.assert_allclose(grads, slopes, rtol=1e-12, atol=1e-300)


def test_compare_uses_the_30_digit_formula_for_large_logaddexp():
    table = dk.compare(lambda v: np.logaddexp(v[0], v[1]), onp.array([1000.0, 1000.0]))
    assert table.reference.startswith("symbolic (SymPy's derivative evaluated to 30")
    onp.testing.assert_array_equal(table.exact, [0.5, 0.5])


# --- nanmax/nanmin skip NaNs ---------------------------------------------------------
def test_nanmax_splits_a_tie_among_the_numbers_and_gives_nans_nothing():
    x = onp.array([2.0, onp.nan, 2.0, 1.0])
    for method in ("forward", "reverse"):
        assert dk.value_and_grad(np.nanmax, method=method)(x)[0] == 2.0
        onp.testing.assert_array_equal(dk.grad(np.nanmax, method=method)(x),
                                       [0.5, 0.0, 0.5, 0.0])
        onp.testing.assert_array_equal(dk.grad(np.nanmin, method=method)(x),
                                       [0.0, 0.0, 0.0, 1.0])


def test_nanmax_of_an_all_nan_slice_is_nan_with_numpys_warning():
    x = onp.array([[1.0, onp.nan], [onp.nan, onp.nan]])
    with pytest.warns(RuntimeWarning, match="All-NaN slice"):
        value, grad = dk.value_and_grad(lambda v: np.nanmax(v, axis=1)[1])(x)
    assert onp.isnan(value)
    onp.testing.assert_array_equal(grad, onp.zeros((2, 2)))
    with pytest.warns(RuntimeWarning, match="All-NaN slice"):
        jac = dk.jacobian(lambda v: np.nanmax(v, axis=1))(x)
    onp.testing.assert_array_equal(jac[0], [[1.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("name", ["ptp", "nanmax", "nanmin"])
def test_out_of_a_traced_reduction_is_refused(name):
    with pytest.raises(TypeError, match="out="):
        dk.grad(lambda v: getattr(np, name)(v, out=onp.empty(())))(onp.ones(2))


# --- sort and partition: a tie shares the cotangents of the places it fills --------
W = onp.array([1.0, 2.0, 3.0, 4.0])
SORT_TIES = [
    # sum(w * sort(x)) at x = [1, 1, 0]: the tied ones fill places 1 and 2
    # (weights 2 and 3), so each gets 2.5 -- what a central difference sees.
    (lambda x: np.sum(np.sort(x) * W[:3]), [1.0, 1.0, 0.0], [2.5, 2.5, 1.0]),
    (lambda x: np.sum(np.partition(x, 1) * W[:3]), [1.0, 1.0, 0.0], [2.5, 2.5, 1.0]),
    (lambda x: np.sum(np.partition(x, 2) * W), [1.0, 0.0, 1.0, 1.0],
     [3.0, 1.0, 3.0, 3.0]),
    (lambda x: np.sum(np.sort(np.reshape(x, (2, 2)), axis=0) * W.reshape(2, 2)),
     [1.0, 1.0, 1.0, 0.0], [2.0, 4.0, 2.0, 2.0]),
    (lambda x: np.sum(np.sort(np.reshape(x, (2, 2)), axis=None) * W),
     [1.0, 1.0, 1.0, 0.0], [3.0, 3.0, 3.0, 1.0]),
    # the last of a sort is the max, and splits a three-way tie the same way
    (lambda x: np.sort(x)[-1], [3.0, 1.0, 3.0, 3.0], [1 / 3, 0.0, 1 / 3, 1 / 3]),
]


def test_sort_at_a_two_way_tie_is_what_central_differences_see():
    for f, x, expected in SORT_TIES[:4]:
        onp.testing.assert_allclose(dk.grad(f, method="finite")(onp.array(x)), expected,
                                    atol=1e-8)


@pytest.mark.parametrize("method", ["forward", "reverse"])
def test_sort_and_max_have_the_same_hessian_at_a_tie(method):
    x = onp.array([1.0, 1.0, 0.0])
    by_max = dk.hessian(lambda v: np.max(v) ** 2, method=method)(x)
    by_sort = dk.hessian(lambda v: np.sort(v)[-1] ** 2, method=method)(x)
    onp.testing.assert_allclose(by_sort, by_max, atol=1e-12)
    # sum(w * sort(x)**2): the tied block is 2 * mean of the weights 2, 3 / 2
    h = dk.hessian(lambda v: np.sum(np.sort(v) ** 2 * W[:3]), method=method)(x)
    onp.testing.assert_allclose(h, [[2.5, 2.5, 0.0], [2.5, 2.5, 0.0], [0.0, 0.0, 2.0]],
                                atol=1e-12)


def test_sort_without_ties_moves_each_cotangent_unchanged():
    x = onp.array([0.3, -1.2, 2.5, 0.1])
    g = dk.grad(lambda v: np.sum(np.sort(v) * W))(x)
    onp.testing.assert_array_equal(g, W[onp.argsort(onp.argsort(x))])


# --- quantile, percentile, median: order statistics, so ties follow sort ----------
RNG = onp.random.default_rng(11)
DATA = {"1-d": RNG.normal(size=7), "2-d": RNG.normal(size=(4, 6)),
        "3-d": RNG.normal(size=(3, 4, 5))}
QUANTILE_CALLS = [
    ("1-d", lambda f, x: f(x, 0.3)),
    ("1-d", lambda f, x: f(x, [0.0, 0.5, 1.0])),
    ("2-d", lambda f, x: f(x, 0.75, axis=0)),
    ("2-d", lambda f, x: f(x, [[0.1, 0.9]], axis=-1, keepdims=True)),
    ("3-d", lambda f, x: f(x, 0.4, axis=(0, 2))),
    ("3-d", lambda f, x: f(x, [0.25, 0.6], axis=(2, 0), keepdims=True)),
]


def _percentile(x, q, **kw):
    return np.percentile(x, onp.multiply(q, 100), **kw)


@pytest.mark.parametrize("data, call", QUANTILE_CALLS)
@pytest.mark.parametrize("fun", [np.quantile, _percentile])
def test_quantiles_of_a_traced_array_are_numpys_to_the_last_bit(data, call, fun):
    x = DATA[data]
    value, _ = dk.vjp(lambda v: call(fun, v), x)
    expected = call(fun, x)  # plain values: NumPy itself
    assert onp.shape(value) == onp.shape(expected)
    onp.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize("data, axis", [("1-d", None), ("2-d", 0), ("2-d", 1),
                                        ("3-d", (0, 2)), ("3-d", None)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_median_of_a_traced_array_is_numpys_to_the_last_bit(data, axis, keepdims):
    x = DATA[data]
    value, _ = dk.vjp(lambda v: np.median(v, axis=axis, keepdims=keepdims), x)
    expected = onp.median(x, axis=axis, keepdims=keepdims)
    assert onp.shape(value) == onp.shape(expected)
    onp.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize("data, call", QUANTILE_CALLS)
@pytest.mark.parametrize("method", ["forward", "reverse"])
def test_quantile_derivatives_match_central_differences(data, call, method):
    x = DATA[data]
    f = lambda v: call(np.quantile, v)  # noqa: E731
    onp.testing.assert_allclose(dk.jacobian(f, method=method)(x),
                                dk.jacobian(f, method="finite")(x), atol=1e-8)


ORDER_TIES = [
    # median of [1, 1, 0]: the two 1s fill the middle place: half each
    (lambda x: np.median(x), [1.0, 1.0, 0.0], [0.5, 0.5, 0.0]),
    # sorted [0, 1, 1, 1]: the middle two places, weights 1/2, 1/2, belong to a
    # three-way tie, which shares them: 1/3 each (a max would split it so too)
    (lambda x: np.median(x), [1.0, 1.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3, 0.0]),
    # quantile 0.3 of four: 0.1 of place 0 and 0.9 of place 1, tied with place 2
    (lambda x: np.quantile(x, 0.3), [1.0, 1.0, 0.0, 2.0], [0.45, 0.45, 0.1, 0.0]),
    (lambda x: np.percentile(x, 50), [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
]


@pytest.mark.parametrize("f, x, expected", SORT_TIES + ORDER_TIES)
@pytest.mark.parametrize("method", ["forward", "reverse"])
def test_sort_and_order_statistics_split_a_tie_evenly(f, x, expected, method):
    # sort averages the places a tie fills; median and quantiles inherit it
    onp.testing.assert_allclose(dk.grad(f, method=method)(onp.array(x)), expected,
                                atol=1e-12)


def test_median_at_a_two_way_tie_is_what_central_differences_see():
    for f, x, expected in [ORDER_TIES[0], ORDER_TIES[2], ORDER_TIES[3]]:
        onp.testing.assert_allclose(dk.grad(f, method="finite")(onp.array(x)),
                                    expected, atol=1e-9)


def test_quantiles_of_a_slice_with_nan_are_nan_as_in_numpy():
    x = onp.array([[1.0, onp.nan, 2.0], [3.0, 1.0, 2.0]])
    for f in (lambda v: np.median(v, axis=1), lambda v: np.quantile(v, 0.4, axis=1)):
        value, _ = dk.vjp(f, x)
        onp.testing.assert_array_equal(value, f(x))
        assert onp.isnan(value[0]) and not onp.isnan(value[1])


def test_quantile_refuses_what_it_cannot_differentiate():
    x = onp.array([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="method='linear'"):
        dk.grad(lambda v: np.quantile(v, 0.5, method="nearest"))(x)
    with pytest.raises(TypeError, match="not to q"):
        dk.grad(lambda q: np.quantile(x, q))(0.5)
    with pytest.raises(ValueError, match="range"):
        dk.grad(lambda v: np.percentile(v, 150))(x)
    with pytest.raises(TypeError, match="out="):
        dk.grad(lambda v: np.median(v, out=onp.empty(())))(x)
    with pytest.raises(dk.NotApplicable, match="sort"):
        dk.grad(np.median, method="symbolic")(x)



# --- jumps: the slope on either side is 0, and so is the average ------------------
# A central difference straddles the jump and sees (jump size) / (2h): no check.
JUMPS = [
    ("sign at 0", lambda x: np.sign(x) + x, 0.0, 1.0),
    ("floor at 1", lambda x: np.floor(x) * 3.0, 1.0, 0.0),
    ("heaviside at 0", lambda x: np.heaviside(x, 0.5) + 2.0 * x, 0.0, 2.0),
    ("remainder at 1", lambda x: np.remainder(x, 1.0), 1.0, 1.0),
]


@pytest.mark.parametrize("name, f, x, slope", JUMPS, ids=[case[0] for case in JUMPS])
@pytest.mark.parametrize("method", AD_AND_SYMBOLIC)
def test_a_jump_contributes_no_slope(name, f, x, slope, method):
    assert dk.derivative(f, x, method=method) == pytest.approx(slope, abs=1e-12)
    one_sided = [dk.derivative(f, x + side * 1e-3, method="finite")
                 for side in (-1, 1)]
    assert one_sided == pytest.approx([slope, slope], abs=1e-6)  # either side


# --- an infinite slope is inf by every method, not nan -----------------------------
@pytest.mark.parametrize("f", [np.cbrt, np.sqrt], ids=["cbrt", "sqrt"])
@pytest.mark.parametrize("method", AD_AND_SYMBOLIC)
def test_an_infinite_slope_at_zero_is_inf(f, method):
    with onp.errstate(divide="ignore"):  # AD divides by 0 on purpose here
        assert dk.derivative(f, 0.0, method=method) == math.inf


# --- second derivatives at kinks: the derivative of the shares, which is 0 ---------
# maximum(x0, x1)**2 at a tie: gradient 2 m (1/2, 1/2), so the Hessian is
# 2 s s^T with s = (1/2, 1/2); the shares themselves are constant.
KINK_HESSIANS = [
    (lambda v: np.maximum(v[0], v[1]) ** 2, [1.0, 1.0], [[0.5, 0.5], [0.5, 0.5]]),
    (lambda v: np.sum(np.maximum(v, 1.0) ** 2), [1.0, 2.0], [[0.5, 0.0], [0.0, 2.0]]),
    (lambda v: np.sum(np.clip(v, 0.0, 1.0) ** 2), [1.0, 0.0], [[0.5, 0.0], [0.0, 0.5]]),
    (lambda v: np.sum(np.abs(v) ** 3), [0.0, 1.0], [[0.0, 0.0], [0.0, 6.0]]),
    (lambda v: np.sum(np.maximum(v, 0.0) * v), [0.0, 1.0], [[1.0, 0.0], [0.0, 2.0]]),
    (lambda v: np.fmin(v[0], v[1]) * v[0], [1.0, 1.0], [[1.0, 0.5], [0.5, 0.0]]),
    (lambda v: np.min(v) * np.sum(v), [1.0, 1.0, 2.0],
     [[1.0, 1.0, 0.5], [1.0, 1.0, 0.5], [0.5, 0.5, 0.0]]),
]


@pytest.mark.parametrize("f, x, expected", KINK_HESSIANS)
@pytest.mark.parametrize("method", AD_AND_SYMBOLIC)
def test_hessians_at_a_kink_are_finite_and_agree(f, x, expected, method):
    h = dk.hessian(f, method=method)(onp.array(x))
    onp.testing.assert_allclose(h, expected, atol=1e-12)


def test_forward_over_reverse_and_reverse_over_forward_agree_at_a_kink():
    for f, x, expected in KINK_HESSIANS:
        g = dk.grad(f, method="reverse")
        fwd_rev = dk.jacobian(g, method="forward")(onp.array(x))
        rev_fwd = dk.jacobian(dk.grad(f, method="forward"), method="reverse")(
            onp.array(x))
        onp.testing.assert_allclose(fwd_rev, expected, atol=1e-12)
        onp.testing.assert_allclose(rev_fwd, expected, atol=1e-12)


# --- dk.compare: at a kink the AD rows have no error against the 30-digit reference
COMPARE_AT_KINKS = [
    ("max tie", lambda x: np.max(x), onp.array([1.0, 1.0, 0.0])),
    ("maximum tie", lambda x: np.maximum(x, 1.0), 1.0),
    ("clip at a bound", lambda x: np.clip(x, 0.0, 1.0), 1.0),
    ("relu at 0", lambda x: np.maximum(x, 0.0), 0.0),
    ("abs at 0", lambda x: np.abs(x), 0.0),
    ("sinc at 0", lambda x: np.sinc(x), 0.0),
    ("sinc' at 0", lambda x: dk.derivative(np.sinc, x), 0.0),
    ("ptp tie", lambda x: np.ptp(x), onp.array([2.0, 0.0, 2.0])),
    ("hypot at 0", lambda x: np.hypot(x[0], x[1]), onp.array([0.0, 0.0])),
    ("norm at 0", lambda x: np.linalg.norm(x), onp.array([0.0, 0.0])),
    ("x**y at x = 0", lambda x: x[0] ** x[1], onp.array([0.0, 2.5])),
]


@pytest.mark.parametrize("name, f, x", COMPARE_AT_KINKS,
                         ids=[case[0] for case in COMPARE_AT_KINKS])
def test_compare_finds_no_error_in_ad_at_a_kink(name, f, x):
    table = dk.compare(f, x, methods=["finite:central", "symbolic", "forward",
                                      "reverse"])
    assert table.reference.startswith("symbolic (SymPy's derivative evaluated to 30")
    errors = {row.method: row.abs_error for row in table.rows}
    last_bit = onp.spacing(onp.max(onp.abs(table.exact)))  # -pi**2/3 is rounded
    for method in ("symbolic", "forward", "reverse"):
        assert errors[method] <= last_bit, method
