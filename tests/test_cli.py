"""The ``diffkit`` command, run as a user runs it: in a subprocess."""

import math
import re
import subprocess
import sys

import pytest

from diffkit.cli import FAMILIES, _range


def diffkit(*args, cwd=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "diffkit.cli", *args],
                          capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, encoding="utf-8")


def test_compare_prints_the_table():
    res = diffkit("compare", "sin(x)**2*exp(x)", "--at", "1.5")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    lines = res.stdout.splitlines()
    assert lines[0] == "d/dx sin(x)**2*exp(x) at x = 1.5"
    rows = {ln.split()[0]: ln.split() for ln in lines[5:12]}
    assert set(rows) >= {"finite:central", "forward", "reverse"}
    exact = (2 * math.sin(1.5) * math.cos(1.5) + math.sin(1.5) ** 2) * math.exp(1.5)
    assert float(rows["reverse"][1]) == pytest.approx(exact, abs=1e-12)
    assert float(rows["forward"][1]) == pytest.approx(exact, abs=1e-12)


def test_compare_methods_and_constant_point():
    res = diffkit("compare", "sin(x)", "--at", "pi/3", "--methods", "central,reverse",
                  "--reference", "0.5")
    assert res.returncode == 0, res.stderr
    body = res.stdout.splitlines()[5:7]
    assert [ln.split()[0] for ln in body] == ["finite:central", "reverse"]
    assert float(body[1].split()[1]) == pytest.approx(0.5, abs=1e-15)  # cos(pi/3)


def test_trace_prints_wengert_list_and_both_tables():
    res = diffkit("trace", "log(x1)+x1*x2-sin(x2)", "--at", "2", "5")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "Evaluation trace" in out
    assert "Forward mode, tangent seed (1.0, 0.0)" in out
    assert "Reverse mode" in out
    numbers = [float(n) for n in re.findall(r"-?\d+\.\d+", out)]
    # y = ln 2 + 10 - sin 5; dy/dx1 = 1/2 + 5; dy/dx2 = 2 - cos 5 (by hand).
    for expected in (math.log(2) + 10 - math.sin(5), 5.5, 2 - math.cos(5)):
        assert any(abs(n - expected) < 1e-3 for n in numbers), expected


def test_swell_prints_one_row_per_n():
    res = diffkit("swell", "logistic", "--n", "1..5")
    assert res.returncode == 0, res.stderr
    rows = [ln.replace(",", "").split() for ln in res.stdout.splitlines()
            if ln[:1].isdigit()]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    tree, dag, trace = ([int(r[k]) for r in rows] for k in (1, 2, 3))
    # Each step of l -> 4 l (1 - l) is three primitives: the AD trace grows
    # linearly; the expression tree of the derivative grows faster than the
    # DAG, which common-subexpression elimination keeps smaller.
    assert trace == [3 * (n - 1) for n in range(1, 6)]
    assert all(d <= t for d, t in zip(dag, tree, strict=True))
    assert tree[-1] > 2 * tree[-2] and dag[-1] < tree[-1]


def test_plot_writes_a_png(tmp_path):
    out = tmp_path / "secant.png"
    res = diffkit("plot", "secant", "x**2", "--at", "2", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


BAD_INPUT = [
    (["compare", "sin(x", "--at", "1"], "never closed"),
    (["compare", "__import__('os').system('true')", "--at", "1"], "__import__"),
    (["compare", "sin(x)", "--at", "one"], "--at"),
    (["compare", "x*y", "--at", "1"], "one value per variable"),
    (["trace", "x1*x2", "--at", "1", "2", "--seed", "3"], "--seed"),
    (["swell", "fibonacci"], "unknown family 'fibonacci'"),
    (["swell", "logistic", "--n", "0..3"], "--n"),
    (["plot", "histogram", "x"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
]


def _check_one_line(status, out, err, says):
    assert status == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("diffkit") and says in lines[0]


@pytest.mark.parametrize("args, says", BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2(args, says, capsys):
    from diffkit.cli import main

    status = main(args)
    captured = capsys.readouterr()
    _check_one_line(status, captured.out, captured.err, says)


@pytest.mark.parametrize("args, says", [BAD_INPUT[1], BAD_INPUT[5], BAD_INPUT[-1]])
def test_bad_input_from_the_shell(args, says):
    res = diffkit(*args)
    _check_one_line(res.returncode, res.stdout, res.stderr, says)


def test_range_syntax():
    assert _range("3") == [1, 2, 3]
    assert _range("2..5") == [2, 3, 4, 5]
    assert _range("2..10..4") == [2, 6, 10]
    assert _range("1,4,8") == [1, 4, 8]
    for bad in ("0", "a..b", "3..1", "1..5..0", "1,-2"):
        with pytest.raises(Exception, match="expected positive sizes"):
            _range(bad)


def test_families_match_their_definitions():
    import diffkit.numpy as np

    x = 0.3
    l = x
    for _ in range(3):
        l = 4 * l * (1 - l)
    assert FAMILIES["logistic"](4)(x) == pytest.approx(l, rel=1e-15)
    assert FAMILIES["nested-sin"](3)(x) == pytest.approx(
        math.sin(math.sin(math.sin(x))), rel=1e-15)
    assert FAMILIES["product"](3)(2.0, 3.0, 5.0) == 30.0
    import inspect

    assert len(inspect.signature(FAMILIES["product"](5)).parameters) == 5
    assert float(np.asarray(FAMILIES["nested-sin"](1)(x))) == pytest.approx(
        math.sin(x))


def test_tour_writes_its_figures(tmp_path):
    """What `make demo` runs, into a temporary folder."""
    out = tmp_path / "tour"
    res = diffkit("tour", "--out", str(out), cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    for name in ("secant", "fd-error", "swell", "cost", "graph"):
        png = out / f"{name}.png"
        assert png.is_file(), name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 5000, name  # a drawing, not an empty canvas
    assert str(out.resolve()) in res.stdout.splitlines()[-2]
    # The stops the brief promises, in the printed walk.
    for words in ("x^2", "chain rule", "Baydin", "taylor_sine", "logistic regression",
                  "Zygote", "swell"):
        assert words in res.stdout, words
