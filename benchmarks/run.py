"""diffkit benchmarks: the cost of a gradient, against f and against autograd.

Run it with ``make bench`` (or ``python benchmarks/run.py``).  Every workload
is written once, as a function of a NumPy-like namespace ``np``; the runner
hands it ``diffkit.numpy`` and ``autograd.numpy`` in turn, so both libraries
time exactly the same Python code, in the same process, on the same data.

The numbers that matter (see ``benchmarks/README.md``):

* ``grad/f``: how many evaluations of ``f`` one gradient costs.  The cheap
  gradient principle says a small constant for reverse mode; on the
  vectorised workloads, where NumPy does the work, diffkit aims at 3 or less.
* ``diffkit/by hand``: on the vectorised workloads, diffkit's gradient time
  over a value-and-gradient written out by hand in plain NumPy, the floor for
  any AD built on NumPy.
* ``diffkit/autograd``: diffkit's gradient time over autograd's for the same
  call.  On the small workloads (a chain of 1,000 scalar operations,
  ``taylor_sine``, tiny arrays) the time is the interpreter's own overhead per
  operation, which should be no worse than autograd's (a ratio of 1 or less).

Usage::

    python benchmarks/run.py [--quick] [--repeat N] [--output PATH] [--no-peers]

``--quick`` shrinks every workload and times each call once: a smoke test
(``tests/test_benchmarks.py`` runs it), not a measurement.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

# One BLAS thread, set before NumPy loads.  A multithreaded BLAS that finds
# its second core busy spins while it waits: on a shared machine a 1 ms
# matrix product then takes anything up to 100 ms, and the MLP row measures
# the neighbours.  (Set the variables yourself to time something else.)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy  # noqa: E402

import diffkit as dk  # noqa: E402
import diffkit.numpy as dnp  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"


# --- the workloads: each is f(np) -> (function, argument) -------------------------


@dataclass
class Workload:
    """One function to time, and how to build it at full and quick size.

    ``build(np, quick)`` returns ``(f, x)``: ``f`` written with the namespace
    ``np``, and the point ``x`` (a NumPy array or a tuple of them) at which
    to take the gradient.  ``kind`` says which target applies:
    ``"vectorised"`` (NumPy does the work: ``grad/f <= 3``) or ``"small"``
    (interpreter overhead dominates: no slower than autograd).
    """

    key: str  # short name for --only
    name: str
    build: Callable[[Any, bool], tuple[Callable[..., Any], Any]]
    kind: str = "small"
    ops: int | None = None  # primitives per call, for a per-operation time
    # The value and gradient written out by hand in plain NumPy, given the
    # plain-NumPy f (whose ``data`` attribute holds any fixed data): the floor
    # AD is measured against.  Only for the vectorised workloads.
    by_hand: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None


def _logistic(n: int, d: int, seed_data: bool = False) -> Callable[[Any, bool], Any]:
    """The seed's logistic regression (negative log-likelihood of the labels)."""

    def build(np: Any, quick: bool) -> tuple[Callable[..., Any], Any]:
        if seed_data:
            inputs = numpy.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15],
                                  [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
            targets = numpy.array([True, True, False, True])
        else:
            rows, cols = (200, 10) if quick else (n, d)
            rng = numpy.random.default_rng(0)
            inputs = rng.standard_normal((rows, cols)) / math.sqrt(cols)
            targets = rng.random(rows) < 0.5

        def sigmoid(x: Any) -> Any:
            return 0.5 * (np.tanh(x / 2.0) + 1)

        def training_loss(weights: Any) -> Any:
            preds = sigmoid(np.dot(inputs, weights))
            label_probabilities = preds * targets + (1 - preds) * (1 - targets)
            return -np.sum(np.log(label_probabilities))

        weights = numpy.linspace(-0.5, 0.5, inputs.shape[1])
        training_loss.data = (inputs, targets)  # type: ignore[attr-defined]
        return training_loss, weights

    return build


def _logistic_by_hand(f: Callable[..., Any]) -> Callable[..., Any]:
    inputs, targets = f.data  # type: ignore[attr-defined]

    def grad(weights: Any) -> Any:  # X^T (p - y)
        preds = 0.5 * (numpy.tanh(numpy.dot(inputs, weights) / 2.0) + 1)
        loss = -numpy.sum(numpy.log(numpy.where(targets, preds, 1 - preds)))
        return loss, inputs.T @ (preds - targets)

    return grad


def _taylor_sine(np: Any, quick: bool) -> tuple[Callable[..., Any], Any]:
    """The seed's Taylor series of sine, with its data-dependent loop."""

    def taylor_sine(x: Any) -> Any:
        ans = currterm = x
        i = 0
        while np.abs(currterm) > 0.001:
            currterm = -currterm * x**2 / ((2 * i + 3) * (2 * i + 2))
            ans = ans + currterm
            i += 1
        return ans

    return taylor_sine, math.pi


CHAIN_STEPS = 333  # three primitives per step: about 1,000 in all


def _chain(np: Any, quick: bool) -> tuple[Callable[..., Any], Any]:
    """A long chain of scalar operations: pure interpreter overhead."""
    steps = 10 if quick else CHAIN_STEPS

    def chain(x: Any) -> Any:
        for _ in range(steps):
            x = np.sin(x) * 1.0001 + 0.1
        return x

    chain.steps = steps  # type: ignore[attr-defined]
    return chain, 0.5


def _rosenbrock(n: int) -> Callable[[Any, bool], Any]:
    def build(np: Any, quick: bool) -> tuple[Callable[..., Any], Any]:
        def rosenbrock(x: Any) -> Any:
            return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

        size = min(n, 50) if quick else n
        return rosenbrock, numpy.linspace(-1.5, 1.5, size)

    return build


def _rosenbrock_by_hand(f: Callable[..., Any]) -> Callable[..., Any]:
    def grad(x: Any) -> Any:
        head, tail = x[:-1], x[1:]
        residual, gap = tail - head**2, 1.0 - head
        value = numpy.sum(100.0 * residual**2 + gap**2)
        g = numpy.zeros_like(x)
        g[1:] = 200.0 * residual
        g[:-1] -= 400.0 * head * residual + 2.0 * gap
        return value, g

    return grad


def _mlp(np: Any, quick: bool) -> tuple[Callable[..., Any], Any]:
    """A 784-256-256-10 tanh network, softmax cross-entropy on one batch."""
    sizes, batch = ([12, 8, 8, 4], 6) if quick else ([784, 256, 256, 10], 128)
    rng = numpy.random.default_rng(1)
    images = rng.standard_normal((batch, sizes[0]))
    labels = numpy.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    params = tuple(
        p for m, n in zip(sizes[:-1], sizes[1:], strict=True)
        for p in (rng.standard_normal((m, n)) / math.sqrt(m), numpy.zeros(n))
    )

    def loss(params: Any) -> Any:
        h = images
        for k in range(0, len(params) - 2, 2):
            h = np.tanh(np.dot(h, params[k]) + params[k + 1])
        logits = np.dot(h, params[-2]) + params[-1]
        # log-softmax, shifted by the row maximum so exp cannot overflow
        shifted = logits - np.max(logits, axis=1, keepdims=True)
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        return -np.sum(log_probs * labels) / batch

    loss.data = (images, labels)  # type: ignore[attr-defined]
    return loss, params


def _mlp_by_hand(f: Callable[..., Any]) -> Callable[..., Any]:
    images, labels = f.data  # type: ignore[attr-defined]

    def grad(params: Any) -> Any:  # textbook backpropagation
        weights, biases = params[0::2], params[1::2]
        layers = [images]
        for w, b in zip(weights[:-1], biases[:-1], strict=True):
            layers.append(numpy.tanh(layers[-1] @ w + b))
        logits = layers[-1] @ weights[-1] + biases[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = numpy.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        loss = -numpy.sum((shifted - numpy.log(total)) * labels) / len(images)
        delta = (e / total - labels) / len(images)
        grads: list[Any] = []
        for k in range(len(weights) - 1, -1, -1):
            grads[:0] = [layers[k].T @ delta, delta.sum(axis=0)]
            if k:  # through tanh: its slope is 1 - tanh^2
                delta = (delta @ weights[k].T) * (1 - layers[k] ** 2)
        return loss, tuple(grads)

    return grad


WORKLOADS = [
    Workload("logistic-seed", "logistic regression 4x3 (seed)",
             _logistic(4, 3, seed_data=True)),
    Workload("logistic", "logistic regression 10000x100", _logistic(10_000, 100),
             kind="vectorised", by_hand=_logistic_by_hand),
    Workload("taylor-sine", "taylor_sine(pi) (seed)", _taylor_sine),
    Workload("chain", f"scalar chain, {3 * CHAIN_STEPS} ops", _chain,
             ops=3 * CHAIN_STEPS),
    # At 10^3 elements each NumPy call takes about a microsecond: as much as
    # the interpreter's own work, so this one counts as small.
    Workload("rosenbrock-1e3", "Rosenbrock 10^3", _rosenbrock(10**3)),
    Workload("rosenbrock-1e6", "Rosenbrock 10^6", _rosenbrock(10**6),
             kind="vectorised", by_hand=_rosenbrock_by_hand),
    Workload("mlp", "MLP 784-256-256-10, batch 128", _mlp, kind="vectorised",
             by_hand=_mlp_by_hand),
]


def workload(key: str) -> Workload:
    """The workload called ``key`` (see ``WORKLOADS``)."""
    for w in WORKLOADS:
        if w.key == key:
            return w
    raise KeyError(f"no workload {key!r}; choose from "
                   + ", ".join(w.key for w in WORKLOADS))


def _jacobian_case(np: Any, quick: bool) -> tuple[Callable[..., Any], Any]:
    """A small vector function R^n -> R^n with a dense Jacobian."""
    n = 5 if quick else 20
    a = numpy.random.default_rng(2).standard_normal((n, n)) / math.sqrt(n)

    def f(x: Any) -> Any:
        return np.tanh(np.dot(a, x)) * np.exp(-x)

    f.data = a  # type: ignore[attr-defined]
    return f, numpy.linspace(-1.0, 1.0, n)


# --- the peers ---------------------------------------------------------------------


@dataclass
class Library:
    """How one AD library spells grad, jacobian and hessian."""

    name: str
    np: Any
    # None: the workload's own hand-written gradient (Workload.by_hand)
    grad: Callable[[Callable[..., Any]], Callable[..., Any]] | None
    jacobian: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = field(
        default_factory=dict)
    hessian: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None


BY_HAND = "by hand"  # the gradient written out in plain NumPy


def libraries(peers: bool = True) -> list[Library]:
    """diffkit, the hand-written gradients, and every peer that can be imported
    (never installed here)."""
    libs = [Library(
        "diffkit", dnp, dk.grad,
        jacobian={"forward": lambda f: dk.jacobian(f, method="forward"),
                  "reverse": lambda f: dk.jacobian(f, method="reverse")},
        hessian=dk.hessian,
    )]
    if peers:
        libs.append(Library(BY_HAND, numpy, None))
        try:
            autograd = importlib.import_module("autograd")
            anp = importlib.import_module("autograd.numpy")
        except ImportError:
            pass
        else:
            libs.append(Library(
                "autograd", anp, autograd.grad,
                jacobian={"reverse": autograd.jacobian},
                hessian=autograd.hessian,
            ))
        try:
            jax = importlib.import_module("jax")
            jnp = importlib.import_module("jax.numpy")
        except ImportError:
            pass
        else:
            # Eager (no jit), in float64: the same question as for the others.
            jax.config.update("jax_enable_x64", True)

            def ready(transform: Callable[..., Any]) -> Callable[..., Any]:
                # JAX returns before it has finished: wait for the result.
                return lambda f: (lambda x: jax.block_until_ready(transform(f)(x)))

            libs.append(Library(
                "jax", jnp, ready(jax.grad),
                jacobian={"forward": ready(jax.jacfwd), "reverse": ready(jax.jacrev)},
                hessian=ready(jax.hessian),
            ))
    return libs


# --- timing ------------------------------------------------------------------------


class Timer:
    """Best-of-N per-call wall times of several calls, measured in turns.

    The calls to be compared (diffkit's gradient and autograd's, say) are
    timed in alternation, round after round, so that a burst of load from
    elsewhere on the machine slows both rather than one.  Each call keeps
    its best round: the least disturbed one.  A fast call is repeated within
    a round so that one round lasts at least ``budget`` seconds and the
    clock's resolution does not matter.
    """

    def __init__(self, rounds: int, budget: float, seconds: float) -> None:
        self.rounds = rounds  # at least this many rounds...
        self.budget = budget  # ...of at least this long...
        self.seconds = seconds  # ...and more rounds until this much time is spent

    def best(self, calls: dict[Any, Callable[[], Any]]) -> dict[Any, float]:
        numbers, best = {}, {}
        for key, call in calls.items():  # one warm-up call sizes the rounds
            start = time.perf_counter()
            call()
            best[key] = time.perf_counter() - start
            numbers[key] = max(1, int(self.budget / max(best[key], 1e-9)))
        spent, done = 0.0, 0
        while done < self.rounds or (spent < self.seconds and done < 10 * self.rounds):
            for key, call in calls.items():
                number = numbers[key]
                start = time.perf_counter()
                for _ in range(number):
                    call()
                elapsed = time.perf_counter() - start
                spent += elapsed
                best[key] = min(best[key], elapsed / number)
            done += 1
        return best


@dataclass
class Row:
    """One line of a result table: times in seconds, per library."""

    workload: str
    # library -> {"f": s, "grad": s}, or None where the library cannot run it
    times: dict[str, dict[str, float] | None]
    ops: int | None = None


def _runs(call: Callable[[], Any]) -> bool:
    """Whether a peer can run this workload at all (JAX cannot branch on a
    traced value, as taylor_sine does): a cell of the table says n/a."""
    try:
        call()
    except Exception:
        return False
    return True


def time_gradients(libs: list[Library], workloads: list[Workload], quick: bool,
                   timer: Timer) -> list[Row]:
    rows = []
    for w in workloads:
        calls: dict[Any, Callable[[], Any]] = {}
        for lib in libs:
            f, x = w.build(lib.np, quick)
            if lib.grad is not None:
                g = lib.grad(f)
            elif w.by_hand is not None:
                g = w.by_hand(f)
            else:
                continue  # no hand-written gradient for this one
            if lib.name == "diffkit" or _runs(partial(g, x)):
                calls[lib.name, "f"] = partial(f, x)
                calls[lib.name, "grad"] = partial(g, x)
        best = timer.best(calls)
        times: dict[str, dict[str, float] | None] = {
            lib.name: {kind: best[lib.name, kind] for kind in ("f", "grad")}
            if (lib.name, "f") in best else None
            for lib in libs
        }
        rows.append(Row(w.name, times, None if quick else w.ops))
    return rows


def time_derivatives(libs: list[Library], quick: bool,
                     timer: Timer) -> list[tuple[str, str, float]]:
    """Jacobians (forward and reverse) of a small case, and a Hessian."""
    calls: dict[Any, Callable[[], Any]] = {}
    for lib in libs:
        f, x = _jacobian_case(lib.np, quick)
        for mode, jac in lib.jacobian.items():
            jf = jac(f)
            if _runs(partial(jf, x)):
                calls[f"jacobian {numpy.size(x)}x{numpy.size(x)}",
                      f"{lib.name} {mode}"] = partial(jf, x)
    for lib in libs:
        if lib.hessian is None:
            continue
        f, x = _rosenbrock(100)(lib.np, False)
        if quick:
            x = x[:10]
        hf = lib.hessian(f)
        how = "forward-over-reverse" if lib.name == "diffkit" else "default"
        if _runs(partial(hf, x)):
            calls[f"hessian Rosenbrock {numpy.size(x)}-d",
                  f"{lib.name} {how}"] = partial(hf, x)
    return [(what, how, t) for (what, how), t in timer.best(calls).items()]


# --- reporting ---------------------------------------------------------------------


def _fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths,
                                                           strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in body)])


def _grad_ratio(r: Row, name: str, peer: str) -> float | None:
    """``name``'s gradient time over ``peer``'s (None if either is missing)."""
    a, b = r.times[name], r.times[peer]
    return None if a is None or b is None else a["grad"] / b["grad"]


def gradient_table(rows: list[Row], names: list[str]) -> str:
    header = ["workload"]
    for name in names:
        header += [f"{name} f", f"{name} grad", "grad/f"]
    header += [f"{names[0]}/{peer} grad" for peer in names[1:]]
    body = []
    for r in rows:
        cells = [r.workload]
        for name in names:
            t = r.times[name]
            cells += (["n/a"] * 3 if t is None else
                      [_fmt_time(t["f"]), _fmt_time(t["grad"]),
                       f"{t['grad'] / t['f']:.2f}"])
        for peer in names[1:]:
            ratio = _grad_ratio(r, names[0], peer)
            cells.append("n/a" if ratio is None else f"{ratio:.2f}")
        body.append(cells)
    return _table(header, body)


def per_op_lines(rows: list[Row], names: list[str]) -> list[str]:
    lines = []
    for r in rows:
        if r.ops:
            per = ", ".join(f"{name} {_fmt_time(t['grad'] / r.ops)}"
                            for name in names if (t := r.times[name]) is not None)
            lines.append(f"Gradient time per primitive ({r.workload}): {per}.")
    return lines


def derivative_table(entries: list[tuple[str, str, float]]) -> str:
    return _table(["derivative", "library / mode", "time"],
                  [[what, how, _fmt_time(t)] for what, how, t in entries])


def environment() -> str:
    import diffkit

    versions = [f"Python {platform.python_version()}", f"NumPy {numpy.__version__}",
                f"diffkit {getattr(diffkit, '__version__', '?')}"]
    try:
        versions.append(f"autograd {importlib.metadata.version('autograd')}")
    except Exception:
        pass
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "?")
    return (f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, "
            + ", ".join(versions) + f", OPENBLAS_NUM_THREADS={blas}")


def target_lines(rows: list[Row], names: list[str]) -> list[str]:
    """Each workload's verdict against the targets of benchmarks/README.md."""
    kinds = {w.name: w for w in WORKLOADS}
    lines = []
    for r in rows:
        w = kinds[r.workload]
        dk_t = r.times[names[0]]
        assert dk_t is not None  # diffkit always runs
        if w.kind == "vectorised":
            ratio = dk_t["grad"] / dk_t["f"]
            verdict = "met" if ratio <= 3 else "MISSED"
            hand = r.times.get(BY_HAND)
            floor = "" if hand is None else \
                f" (written by hand in NumPy: {hand['grad'] / hand['f']:.2f})"
            lines.append(f"- {r.workload}: grad/f = {ratio:.2f} (target <= 3): "
                         f"{verdict}{floor}")
        peer_ratio = _grad_ratio(r, names[0], "autograd") if "autograd" in names \
            else None
        if w.kind == "small" and peer_ratio is not None:
            verdict = "met" if peer_ratio <= 1 else "MISSED"
            lines.append(f"- {r.workload}: {names[0]}/autograd grad = "
                         f"{peer_ratio:.2f} (target <= 1): {verdict}")
    return lines


def _whose(library: str) -> str:
    if library == BY_HAND:
        return "that of a value and gradient written by hand in plain NumPy"
    return f"{library}'s"


def report(rows: list[Row], derivs: list[tuple[str, str, float]],
           names: list[str], quick: bool) -> str:
    title = "# diffkit benchmarks" + (" (quick smoke run: not a measurement)"
                                      if quick else "")
    parts = [title, "", environment(), ""]
    if rows:
        parts += [
            "Best-of-N wall time per call. `grad/f`: gradient time over the time "
            "of f itself (each library evaluating f through its own wrapped "
            "NumPy)."
            + "".join(f" `{names[0]}/{other} grad`: {names[0]}'s gradient time "
                      f"over {_whose(other)} for the same function (below 1: "
                      f"{names[0]} is faster)." for other in names[1:]), "",
            gradient_table(rows, names), "",
        ]
        parts += [*per_op_lines(rows, names), ""]
        if not quick:
            parts += ["## Targets", "", *target_lines(rows, names), ""]
    if derivs:
        parts += ["## Jacobians and Hessians", "", derivative_table(derivs), ""]
    return "\n".join(parts)


def run(quick: bool = False, repeat: int | None = None, peers: bool = True,
        output: Path | None = RESULTS, only: list[str] | None = None
        ) -> tuple[list[Row], str]:
    """Time the workloads; return the rows and the Markdown report (also saved).

    ``only`` restricts the run to some workload keys (and ``"derivatives"``
    for the Jacobian and Hessian table); by default everything runs.
    """
    if only is None:
        workloads, derivatives = WORKLOADS, True
    else:
        workloads = [workload(k) for k in only if k != "derivatives"]
        derivatives = "derivatives" in only
    if quick:
        timer = Timer(rounds=repeat or 1, budget=0.0, seconds=0.0)
    else:
        timer = Timer(rounds=repeat or 7, budget=0.02, seconds=4.0)
    libs = libraries(peers)
    names = [lib.name for lib in libs]
    rows = time_gradients(libs, workloads, quick, timer)
    derivs = time_derivatives(libs, quick, timer) if derivatives else []
    text = report(rows, derivs, names, quick)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    return rows, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny workloads, one call each: a smoke test")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timing rounds per measurement (best is kept)")
    parser.add_argument("--no-peers", action="store_true",
                        help="time diffkit only, even if autograd is installed")
    parser.add_argument("--output", type=Path, default=RESULTS,
                        help=f"where to write the Markdown table (default {RESULTS})")
    parser.add_argument("--only", default=None,
                        help="comma-separated workload keys ("
                        + ", ".join(w.key for w in WORKLOADS) + ", derivatives)")
    args = parser.parse_args(argv)
    only = args.only.split(",") if args.only else None
    try:
        _, text = run(args.quick, args.repeat, not args.no_peers, args.output, only)
    except KeyError as err:
        parser.error(str(err.args[0]))
    print(text)
    print(f"(written to {args.output})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
