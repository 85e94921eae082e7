"""The benchmark runner: a quick smoke run, and its gradients against closed forms.

No timing is asserted here (a shared test machine cannot promise any); what
must not rot is that ``benchmarks/run.py`` runs end to end and that the
gradients it times are the right ones.
"""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as onp
import pytest
from closed_forms import rosenbrock_gradient, rosenbrock_hessian

import diffkit as dk
import diffkit.numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _load_runner():
    spec = importlib.util.spec_from_file_location(
        "diffkit_benchmarks_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load_runner()


def build(key, quick=True):
    return bench.workload(key).build(np, quick)


# --- the runner runs ---------------------------------------------------------------


def test_quick_run_reports_every_workload(tmp_path):
    out = tmp_path / "latest.md"
    rows, text = bench.run(quick=True, peers=False, output=out)
    assert out.read_text() == text
    assert [r.workload for r in rows] == [w.name for w in bench.WORKLOADS]
    for r in rows:
        t = r.times["diffkit"]
        assert 0 < t["f"] < math.inf and 0 < t["grad"] < math.inf
        assert r.workload in text
    assert "jacobian 5x5" in text and "hessian Rosenbrock 10-d" in text


def test_quick_run_with_autograd_side_by_side(tmp_path):
    pytest.importorskip("autograd")
    rows, text = bench.run(quick=True, output=tmp_path / "latest.md",
                           only=["chain", "derivatives"])
    assert set(rows[0].times) == {"diffkit", "by hand", "autograd"}
    assert rows[0].times["by hand"] is None  # only vectorised workloads have one
    assert "diffkit/autograd grad" in text and "autograd reverse" in text


def test_a_peer_that_cannot_run_a_workload_gets_n_a(monkeypatch, tmp_path):
    def grad_that_cannot_branch(f):
        def g(x):
            raise TypeError("cannot branch on a traced value")

        return g

    diffkit_only = bench.libraries(peers=False)
    peer = bench.Library("peer", onp, grad_that_cannot_branch)
    monkeypatch.setattr(bench, "libraries", lambda peers: [*diffkit_only, peer])
    rows, text = bench.run(quick=True, output=tmp_path / "latest.md",
                           only=["taylor-sine"])
    assert rows[0].times["peer"] is None and rows[0].times["diffkit"] is not None
    assert "diffkit/peer grad" in text and "n/a" in text


def test_command_line_rejects_an_unknown_workload(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--only", "nonesuch"])
    assert "no workload 'nonesuch'" in capsys.readouterr().err


# --- the gradients being timed are right --------------------------------------------


@pytest.mark.parametrize("key", ["logistic-seed", "logistic"])
def test_logistic_regression_gradient_is_xt_p_minus_y(key):
    f, w = build(key)
    inputs, targets = f.data
    p = 1 / (1 + onp.exp(-inputs @ w))
    onp.testing.assert_allclose(dk.grad(f)(w), inputs.T @ (p - targets),
                                rtol=1e-12, atol=1e-13)


def test_taylor_sine_gradient_is_the_truncated_cosine_series():
    f, x = build("taylor-sine")
    # the loop keeps terms while the previous one exceeds 1e-3; differentiate
    # those terms one by one: d/dx x^(2k+1)/(2k+1)! = x^(2k)/(2k)!
    terms, term, k = [0], x, 0
    while abs(term) > 0.001:
        term = -term * x**2 / ((2 * k + 3) * (2 * k + 2))
        k += 1
        terms.append(k)
    exact = sum((-1) ** j * x ** (2 * j) / math.factorial(2 * j) for j in terms)
    assert dk.grad(f)(x) == pytest.approx(exact, rel=1e-13)


@pytest.mark.parametrize("quick", [True, False])
def test_scalar_chain_gradient_is_the_product_of_local_slopes(quick):
    f, x = build("chain", quick)
    slope, v = 1.0, x
    for _ in range(f.steps):  # x -> 1.0001 sin x + 0.1 has slope 1.0001 cos x
        slope *= 1.0001 * math.cos(v)
        v = math.sin(v) * 1.0001 + 0.1
    assert dk.grad(f)(x) == pytest.approx(slope, rel=1e-12)
    assert f(x) == pytest.approx(v, rel=1e-12)


def test_rosenbrock_gradient_matches_the_formula():
    f, x = build("rosenbrock-1e3", quick=False)
    onp.testing.assert_allclose(dk.grad(f)(x), rosenbrock_gradient(x), rtol=1e-12,
                                atol=1e-9)


def test_rosenbrock_hessian_is_tridiagonal_formula():
    f, x = bench.workload("rosenbrock-1e3").build(np, True)
    x = x[:12]
    onp.testing.assert_allclose(dk.hessian(f)(x), rosenbrock_hessian(x), rtol=1e-12,
                                atol=1e-9)


def test_mlp_gradient_matches_hand_written_backprop():
    f, params = build("mlp")
    images, labels = f.data
    w1, b1, w2, b2, w3, b3 = params
    batch = len(images)
    # forward
    h1 = onp.tanh(images @ w1 + b1)
    h2 = onp.tanh(h1 @ w2 + b2)
    logits = h2 @ w3 + b3
    e = onp.exp(logits - logits.max(axis=1, keepdims=True))
    softmax = e / e.sum(axis=1, keepdims=True)
    # backward, the textbook formulas: softmax cross-entropy, then tanh' = 1 - h^2
    d3 = (softmax - labels) / batch
    d2 = (d3 @ w3.T) * (1 - h2**2)
    d1 = (d2 @ w2.T) * (1 - h1**2)
    expected = (images.T @ d1, d1.sum(0), h1.T @ d2, d2.sum(0), h2.T @ d3, d3.sum(0))
    got = dk.grad(f)(params)
    assert isinstance(got, tuple) and len(got) == 6
    for g, e_ in zip(got, expected, strict=True):
        onp.testing.assert_allclose(g, e_, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("key", [w.key for w in bench.WORKLOADS if w.by_hand])
def test_hand_written_reference_gives_the_same_value_and_gradient(key):
    w = bench.workload(key)
    f, x = w.build(onp, True)
    value, grad = w.by_hand(f)(x)
    expected_value, expected_grad = dk.value_and_grad(w.build(np, True)[0])(x)
    assert value == pytest.approx(expected_value, rel=1e-12)
    if not isinstance(grad, tuple):  # the network's parameters are a tuple
        grad, expected_grad = (grad,), (expected_grad,)
    for got, want in zip(grad, expected_grad, strict=True):
        onp.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_hand_written_rosenbrock_gradient_is_the_closed_form():
    w = bench.workload("rosenbrock-1e6")
    f, x = w.build(onp, True)
    onp.testing.assert_allclose(w.by_hand(f)(x)[1], rosenbrock_gradient(x),
                                rtol=1e-13, atol=1e-12)


def test_jacobian_case_forward_and_reverse_match_closed_form():
    f, x = bench._jacobian_case(np, True)
    a = f.data
    t = onp.tanh(a @ x)
    expected = ((1 - t**2) * onp.exp(-x))[:, None] * a - onp.diag(t * onp.exp(-x))
    for method in ("forward", "reverse"):
        onp.testing.assert_allclose(dk.jacobian(f, method=method)(x), expected,
                                    rtol=1e-12, atol=1e-14)
