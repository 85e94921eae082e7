"""At a kink every method gives the same number (diffkit/rules/_kinks.py).

For a scalar kink the convention is the average of the one-sided slopes, so
a central difference -- which straddles the kink -- is an independent
check.  For a reduction's ties the convention is the even split, checked
against the closed form.
"""

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
