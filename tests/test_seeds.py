"""The worked examples of shared/seeds, through both AD modes, against hand results."""

import math

import numpy as onp
import pytest

import diffkit as dk
import diffkit.numpy as np
from diffkit.examples import taylor_sine  # the seed's loop, verbatim

MODES = ["forward", "reverse"]


@pytest.mark.parametrize("method", MODES)
def test_square_slope_at_two(method):
    assert dk.derivative(lambda x: x**2, 2.0, method=method) == 4.0


@pytest.mark.parametrize("method", MODES)
@pytest.mark.parametrize("n,m", [(1, 1), (2, 3), (3, 2)])
def test_chain_rule_example_matches_hand_formula(method, n, m):
    def f(x):
        return np.sin((2 * x**2 + x + 1) ** m) ** n

    def by_hand(x):  # the seed's formula
        u = 2 * x**2 + x + 1
        return (m * n * (4 * x + 1) * u ** (m - 1) * math.sin(u**m) ** (n - 1)
                * math.cos(u**m))

    for x in (-0.7, 0.3, 1.1):
        assert dk.derivative(f, x, method=method) == pytest.approx(by_hand(x),
                                                                    rel=1e-12)


@pytest.mark.parametrize("method", MODES)
def test_taylor_sine_gradient_at_pi(method):
    # The truncated series' own derivative, summed term by term, is the
    # independent reference: d/dx sum (-1)^k x^(2k+1)/(2k+1)! over the same terms.
    x, terms, k = math.pi, [], 0
    term = x
    while abs(term) > 0.001:
        terms.append(k)
        term = -term * x**2 / ((2 * k + 3) * (2 * k + 2))
        k += 1
    terms.append(k)
    exact = sum((-1) ** j * x ** (2 * j) / math.factorial(2 * j) for j in terms)
    assert dk.derivative(taylor_sine, math.pi, method=method) == pytest.approx(
        exact, rel=1e-13)
    assert dk.derivative(taylor_sine, math.pi, method=method) == pytest.approx(
        -1.0, abs=1e-3)


def test_logistic_regression_training_matches_closed_form_gradient():
    inputs = np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15],
                       [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
    targets = np.array([True, True, False, True])

    def sigmoid(x):
        return 0.5 * (np.tanh(x / 2.0) + 1)

    def training_loss(weights):
        preds = sigmoid(np.dot(inputs, weights))
        label_probabilities = preds * targets + (1 - preds) * (1 - targets)
        return -np.sum(np.log(label_probabilities))

    def closed_form(w):  # d/dw of the negative log-likelihood: X^T (p - y)
        p = 1 / (1 + onp.exp(-inputs @ w))
        return inputs.T @ (p - targets)

    weights = np.array([0.0, 0.0, 0.0])
    assert training_loss(weights) == pytest.approx(4 * math.log(2))
    for _ in range(100):
        g = dk.grad(training_loss)(weights)
        onp.testing.assert_allclose(g, closed_form(weights), rtol=1e-12)
        weights -= g * 0.01
    assert training_loss(weights) < 1.1
    dk.check_grads(training_loss, weights)


@pytest.mark.parametrize("method", MODES)
def test_d2l_zygote_examples(method):
    x = np.arange(1.0, 5.0)
    (g,) = dk.gradient(lambda x: 2 * np.dot(x, x), x, method=method)
    onp.testing.assert_array_equal(g, 4 * x)
    (g,) = dk.gradient(np.sum, x, method=method)
    onp.testing.assert_array_equal(g, onp.ones(4))
    (g,) = dk.gradient(lambda x: np.sum(x * x), x, method=method)
    onp.testing.assert_array_equal(g, 2 * x)
    onp.testing.assert_array_equal(
        dk.elementwise_grad(lambda x: x * x, method=method)(x), 2 * x)


def test_baydin_example_both_modes():
    def f(x1, x2):
        return np.log(x1) + x1 * x2 - np.sin(x2)

    y, y_dot = dk.jvp(f, (2.0, 5.0), (1.0, 0.0))
    assert y == pytest.approx(math.log(2) + 10 - math.sin(5))
    assert y_dot == pytest.approx(5.5)
    _, pullback = dk.vjp(f, 2.0, 5.0)
    x1_bar, x2_bar = pullback(1.0)
    assert x1_bar == pytest.approx(5.5)
    assert x2_bar == pytest.approx(2 - math.cos(5))
