"""Figures for the lessons: limits, finite-difference errors, costs, graphs.

Every function draws into ``ax`` and returns ``ax.figure``, or, when ``ax``
is None, into a new figure that pyplot does not manage: nothing is left open
behind your back, and a figure that ends a Jupyter cell is shown once, as the
cell's value.  None calls ``plt.show()``, so they work the same in scripts,
tests and notebooks; ``fig.savefig(...)`` writes a file.

=============  ==============================================================
``secant``     secant lines converging to the tangent: the limit definition
``fd_error``   finite-difference error versus step: truncation vs round-off
``cost``       forward vs reverse mode cost of a Jacobian as n and m grow
``graph``      the computational graph of a function at a point
``swell``      expression swell (delegates to ``dk.swell(...).plot()``)
=============  ==============================================================
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as _np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["secant", "fd_error", "cost", "graph", "swell"]

EPS = float(_np.finfo(float).eps)


def _function(f: Any) -> Callable[..., Any]:
    from diffkit.transforms import _callable

    return _callable(f)


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.4)
              ) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    from diffkit._figures import new_figure

    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def _real_scalar(x: Any, name: str) -> float:
    try:
        value = complex(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {x!r:.40}.") from None
    if value.imag != 0 or not math.isfinite(value.real):
        raise ValueError(f"{name} must be a finite real number, got {x!r}.")
    return value.real


def _scalar_function(fun: Callable[..., Any], x0: float, who: str) -> None:
    """Check that ``fun`` maps the number ``x0`` to one number: what a curve needs."""
    value = fun(x0)
    if _np.ndim(value) != 0 or isinstance(value, tuple | list | dict):
        shape = (f"an array of shape {_np.shape(value)}" if _np.ndim(value)
                 else f"a {type(value).__name__}")
        raise TypeError(
            f"{who} draws a function of one real variable with one real value, "
            f"but f({x0:g}) returned {shape}. Pick one output, as in "
            "lambda x: f(x)[0]."
        )


def _exact_slope(fun: Callable[..., Any], x0: float, who: str) -> float:
    """f'(x0) by reverse mode, or an error saying how to give it instead."""
    from diffkit.errors import TracedValueError
    from diffkit.transforms import derivative

    try:
        return float(_np.real(derivative(fun, x0)))
    except TracedValueError as err:
        raise TypeError(
            f"{who} compares with the exact derivative, which it takes by reverse "
            f"mode, and f cannot be differentiated ({err}) Write f with "
            "diffkit.numpy (np.sin rather than math.sin), or pass the exact "
            "derivative as reference=."
        ) from err


def _evaluate(f: Callable[..., Any], xs: _np.ndarray) -> _np.ndarray:
    """``f`` at every point of ``xs``: all at once if ``f`` is vectorised."""
    with _np.errstate(all="ignore"):
        try:
            ys = _np.asarray(f(xs))
            if ys.shape == xs.shape:
                return ys
        except Exception:  # scalar-only code (an `if`, say): one point at a time
            pass
        return _np.array([_np.asarray(f(x))[()] for x in xs])


# --- secant lines -------------------------------------------------------------------


def secant(f: Any, x0: float, hs: Sequence[float] = (2.0, 1.0, 0.5, 0.25),
           *, animate: bool = False, ax: Axes | None = None,
           xlim: tuple[float, float] | None = None, frames: int = 40,
           interval: int = 120) -> Any:
    """Secant lines through ``(x0, f(x0))`` approaching the tangent as ``h -> 0``.

    The slope of the secant through ``x0`` and ``x0 + h`` is the difference
    quotient ``(f(x0 + h) - f(x0)) / h``; the derivative is its limit.  The
    tangent (dashed) has the slope diffkit computes by reverse-mode AD.

    Parameters
    ----------
    f
        A function of one real variable (or an expression string).
    x0
        The point of tangency.
    hs
        The steps of the secants drawn, largest first.
    animate
        If True, return a :class:`matplotlib.animation.FuncAnimation` whose
        frames shrink ``h`` geometrically from ``max(hs)`` to ``min(hs)/20``;
        show it in a notebook with ``HTML(anim.to_jshtml())``, write it with
        ``anim.save("secant.gif", writer="pillow")``.
    ax, xlim
        Axes to draw into; the x-range (default: ``x0 ± 1.25 max|h|``).
    frames, interval
        Number of frames and milliseconds between them (``animate=True``).

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.animation.FuncAnimation

    Examples
    --------
    >>> import diffkit as dk
    >>> fig = dk.plots.secant(lambda x: x ** 2, 2.0, hs=(1.0, 0.5, 0.1))
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:2]
    ['f(x)', "tangent: slope f'(2) = 4"]
    """
    fun = _function(f)
    x0 = _real_scalar(x0, "x0")
    steps = [_real_scalar(h, "each step h") for h in hs]
    if not steps or any(h == 0 for h in steps):
        raise ValueError("hs must be a non-empty sequence of non-zero steps.")
    _scalar_function(fun, x0, "dk.plots.secant")
    slope = _exact_slope(fun, x0, "dk.plots.secant")
    f0 = float(_np.real(fun(x0)))
    widest = max(abs(h) for h in steps)
    lo, hi = xlim if xlim is not None else (x0 - 1.25 * widest, x0 + 1.25 * widest)
    xs = _np.linspace(lo, hi, 400)
    ys = _np.real(_evaluate(fun, xs))

    fig, ax = _new_axes(ax)
    ax.plot(xs, ys, color="black", lw=2, label="f(x)", zorder=3)
    ax.plot(xs, f0 + slope * (xs - x0), "--", color="tab:red", lw=1.5,
            label=f"tangent: slope f'({x0:g}) = {slope:.4g}", zorder=4)
    ax.plot([x0], [f0], "o", color="tab:red", zorder=5)
    finite = ys[_np.isfinite(ys)]
    span = (finite.max() - finite.min()) if finite.size else 1.0
    ax.set_ylim(finite.min() - 0.15 * span, finite.max() + 0.15 * span)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(r"Secants $\frac{f(x_0+h)-f(x_0)}{h}$ approach the tangent"
                 r" as $h \to 0$")
    ax.grid(True, alpha=0.3)

    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"]

    def secant_line(h: float) -> tuple[_np.ndarray, float, float]:
        f1 = float(_np.real(fun(x0 + h)))
        m = (f1 - f0) / h
        return f0 + m * (xs - x0), m, f1

    if not animate:
        for k, h in enumerate(steps):
            line, m, f1 = secant_line(h)
            color = cmap(0.85 * k / max(len(steps) - 1, 1))
            ax.plot(xs, line, color=color, lw=1.2, label=f"h = {h:g}: slope {m:.4g}")
            ax.plot([x0 + h], [f1], "o", color=color, ms=5)
        ax.legend(loc="best", fontsize=8)
        return fig


    from matplotlib.animation import FuncAnimation

    top, bottom = max(abs(h) for h in steps), min(abs(h) for h in steps) / 20
    sign = 1.0 if steps[0] > 0 else -1.0
    schedule = sign * _np.geomspace(top, bottom, max(int(frames), 2))
    (moving,) = ax.plot([], [], color="tab:blue", lw=1.5, label="secant")
    (point,) = ax.plot([], [], "o", color="tab:blue", ms=6)
    caption = ax.text(0.02, 0.96, "", transform=ax.transAxes, va="top",
                      fontsize=10, family="monospace")
    ax.legend(loc="lower right", fontsize=8)

    def update(k: int) -> tuple:
        h = float(schedule[k])
        line, m, f1 = secant_line(h)
        moving.set_data(xs, line)
        point.set_data([x0 + h], [f1])
        caption.set_text(f"h = {h:.3g}\nslope = {m:.6g}\nf'(x0) = {slope:.6g}")
        return moving, point, caption

    update(0)
    return FuncAnimation(fig, update, frames=len(schedule), interval=interval,
                         blit=False)


# --- finite-difference error --------------------------------------------------------

#: Order p of the truncation error (error ~ h**p) of each scheme, and the step
#: that balances it against round-off ~ eps/h: h* ~ eps**(1/(p+1)).
_ORDERS = {"forward": 1, "backward": 1, "central": 2, "richardson": 4,
           "complex-step": 2}
_OPTIMUM = {"forward": (r"\sqrt{\epsilon}", 1 / 2),
            "backward": (r"\sqrt{\epsilon}", 1 / 2),
            "central": (r"\sqrt[3]{\epsilon}", 1 / 3),
            "richardson": (r"\epsilon^{1/5}", 1 / 5)}


def _difference_quotients(fun: Callable[..., Any], x0: float, scheme: str,
                          hs: _np.ndarray) -> _np.ndarray:
    """The textbook formulas, evaluated at exactly the steps given."""

    def at(points: _np.ndarray) -> _np.ndarray:
        return _evaluate(fun, points)

    if scheme == "forward":
        return (at(x0 + hs) - fun(x0)) / hs
    if scheme == "backward":
        return (fun(x0) - at(x0 - hs)) / hs
    if scheme == "central":
        return (at(x0 + hs) - at(x0 - hs)) / (2 * hs)
    if scheme == "richardson":
        # One level of Richardson extrapolation: the h**2 error terms of the
        # central differences at h and h/2 cancel in (4 D(h/2) - D(h)) / 3.
        d1 = (at(x0 + hs) - at(x0 - hs)) / (2 * hs)
        d2 = (at(x0 + hs / 2) - at(x0 - hs / 2)) / hs
        return (4 * d2 - d1) / 3
    if scheme == "complex-step":
        try:
            return _np.imag(at(x0 + 1j * hs)) / hs
        except Exception as err:
            raise ValueError(
                "The complex step needs f to accept complex numbers "
                f"({type(err).__name__}: {err}); drop 'complex-step' from schemes."
            ) from None
    raise ValueError(
        f"Unknown scheme {scheme!r}: choose from "
        + ", ".join(repr(s) for s in _ORDERS) + "."
    )


def fd_error(f: Any, x0: float,
             schemes: Sequence[str] = ("forward", "central", "complex-step"),
             steps: Any = None, *, reference: float | None = None,
             ax: Axes | None = None) -> Figure:
    """Absolute error of finite differences against the step ``h`` (log-log).

    Large steps suffer *truncation error* (the Taylor terms the formula
    drops: slope 1 for forward differences, 2 for central ones); small steps
    suffer *round-off error* (``f(x+h) - f(x)`` loses digits, then dividing
    by ``h`` magnifies the loss: slope -1).  The best step balances the two,
    near ``sqrt(eps)`` for forward and ``cbrt(eps)`` for central differences
    (dotted lines, scaled by ``max(1, |x0|)``).  The complex step subtracts
    nothing, so it has no round-off branch.

    Parameters
    ----------
    f
        A function of one real variable (or an expression string).
    x0
        The point.
    schemes
        Any of ``"forward"``, ``"backward"``, ``"central"``,
        ``"complex-step"`` and ``"richardson"`` (one extrapolation level).
    steps
        The steps ``h`` (default ``np.logspace(-16, 0, 161)``).
    reference
        The exact derivative (default: reverse-mode AD, exact to rounding).
    ax
        Axes to draw into.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    An error that is exactly zero cannot be drawn on log axes; it is shown
    at ``eps |f'(x0)| / 4``, below the dashed machine-precision line.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> fig = dk.plots.fd_error(np.exp, 1.0, schemes=("forward", "central"))
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:2]
    ['forward', 'central']
    """
    fun = _function(f)
    x0 = _real_scalar(x0, "x0")
    _scalar_function(fun, x0, "dk.plots.fd_error")
    hs = _np.logspace(-16, 0, 161) if steps is None else _np.asarray(steps, float)
    if hs.ndim != 1 or hs.size < 2 or _np.any(hs <= 0):
        raise ValueError("steps must be a 1-d array of at least two positive steps.")
    hs = _np.sort(hs)
    if isinstance(schemes, str):
        schemes = (schemes,)
    exact = (_exact_slope(fun, x0, "dk.plots.fd_error") if reference is None
             else float(_np.real(reference)))
    floor = EPS * max(abs(exact), 1e-300) / 4
    scale = max(1.0, abs(x0))

    own_figure = ax is None
    fig, ax = _new_axes(ax, (9.0, 4.8))
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    errors = {}
    for k, scheme in enumerate(schemes):
        with _np.errstate(all="ignore"):
            approx = _np.real(_difference_quotients(fun, x0, scheme, hs))
        err = _np.abs(approx - exact)
        err = _np.where(_np.isfinite(err), _np.maximum(err, floor), _np.nan)
        errors[scheme] = err
        ax.loglog(hs, err, "-", lw=1.6, color=colors[k % len(colors)], label=scheme)
    for k, scheme in enumerate(schemes):
        if scheme in _OPTIMUM:
            symbol, power = _OPTIMUM[scheme]
            h_star = EPS**power * scale
            ax.axvline(h_star, ls=":", lw=1.4, color=colors[k % len(colors)],
                       gid=f"optimum:{scheme}",
                       label=rf"{scheme}: $h^* \approx {symbol}$ = {h_star:.1e}")
    ax.axhline(EPS * max(abs(exact), 1e-300), ls="--", lw=0.8, color="0.5",
               label=r"machine precision $\epsilon\,|f'(x_0)|$")
    _annotate_regimes(ax, hs, errors, scale)
    ax.set_xlabel("step size h")
    ax.set_ylabel(r"absolute error $|D_h f(x_0) - f'(x_0)|$")
    ax.set_title(f"Finite-difference error at x0 = {x0:g}: "
                 "truncation vs round-off")
    ax.grid(True, which="major", alpha=0.3)
    if own_figure:  # room to the right: the curves fill the whole plot
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
        fig.tight_layout()
    else:
        ax.legend(loc="best", fontsize=7.5)
    return fig


def _annotate_regimes(ax: Axes, hs: _np.ndarray, errors: dict[str, _np.ndarray],
                      scale: float) -> None:
    """Label the two regimes on the measured curves: truncation error ~ h**p
    right of each optimal step, round-off ~ eps/h left of it.

    The labels sit in the empty bands of the plot (above the curves for
    truncation, below them for round-off) with an arrow to the curve.
    """
    arrow = {"arrowstyle": "->", "color": "0.35", "lw": 0.8}
    roundoff_done = False
    row = 0
    for scheme, err in errors.items():
        if scheme not in _OPTIMUM:
            continue
        p = _ORDERS[scheme]
        h_star = EPS ** _OPTIMUM[scheme][1] * scale
        for h, text, where in [
            (math.sqrt(h_star * hs[-1]),
             f"truncation ∝ h{'' if p == 1 else _superscript(p)} (slope {p})",
             "above"),
            (math.sqrt(hs[0] * h_star), "round-off ∝ ε/h (slope −1)", "below"),
        ]:
            if where == "below" and roundoff_done:
                continue
            k = int(_np.argmin(_np.abs(_np.log(hs) - math.log(h))))
            if not (hs[0] <= h <= hs[-1]) or not _np.isfinite(err[k]):
                continue
            if where == "above":
                xytext, ha, va = (h, 0.95 - 0.08 * row), "right", "top"
                row += 1
            else:
                xytext, ha, va = (hs[0], 0.3), "left", "top"
                roundoff_done = True
            ax.annotate(text, xy=(hs[k], err[k]), xytext=xytext,
                        textcoords=("data", "axes fraction"), ha=ha, va=va,
                        fontsize=8, color="0.2", arrowprops=arrow,
                        gid=f"regime:{scheme}:{where}")


def _superscript(p: int) -> str:
    return str(p).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


# --- forward vs reverse cost --------------------------------------------------------


def _takes_two(fun: Callable[..., Any]) -> bool:
    import inspect

    try:
        inspect.signature(fun).bind(1, 1)
    except TypeError:
        return False
    except ValueError:  # no signature to read: let the call decide
        return True
    return True


def _dense_tanh_layer(n: int, m: int, seed: int = 0
                      ) -> tuple[Callable[..., Any], _np.ndarray]:
    """``f(x) = tanh(W x + b)`` from R^n to R^m with random W, b, and a point x."""
    from diffkit import numpy as dnp

    rng = _np.random.default_rng(seed + 1000 * n + m)
    W = rng.standard_normal((m, n)) / math.sqrt(n)
    b = rng.standard_normal(m)

    def layer(x: Any) -> Any:
        return dnp.tanh(dnp.matmul(W, x) + b)

    return layer, rng.standard_normal(n)


def _best_time(fun: Callable[[], Any], repeat: int) -> float:
    best = math.inf
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fun()
        best = min(best, time.perf_counter() - t0)
    return best


def _measure(family: Callable[[int, int], Any], n: int, m: int, measure: str,
             repeat: int) -> tuple[float, float]:
    """Forward and reverse cost of the full Jacobian, relative to one f(x)."""
    from diffkit.backends import forward, reverse
    from diffkit.wengert import trace

    made = family(n, m)
    fun, x = made if isinstance(made, tuple) else (made, _np.ones(n))
    if measure == "ops":
        counts = trace(fun, x).operation_counts()
        base = max(counts.function, 1)
        return counts.forward_jacobian / base, counts.reverse_jacobian / base
    t_f = _best_time(lambda: fun(x), repeat)
    t_fwd = _best_time(lambda: forward.value_and_jacobian(fun, x), repeat)
    t_rev = _best_time(lambda: reverse.value_and_jacobian(fun, x), repeat)
    return t_fwd / t_f, t_rev / t_f


def cost(family: Callable[[int, int], Any] | None = None,
         sizes: Sequence[int] = (1, 2, 4, 8, 16, 32, 64), *,
         vary: Sequence[str] = ("inputs", "outputs"),
         measure: Sequence[str] = ("ops", "time"), repeat: int = 3,
         ax: Any = None) -> Figure:
    """Cost of a full Jacobian by forward and by reverse mode as n or m grows.

    Forward mode needs one tangent sweep per *input* direction, reverse mode
    one adjoint sweep per *output*: for f: R^n -> R^m the Jacobian costs
    about ``n`` evaluations of f forward and ``m`` in reverse.  For a
    scalar loss (m = 1) reverse mode gives the whole gradient for a small
    constant multiple of f -- Griewank's *cheap gradient principle*,
    ``cost(f, ∇f) <= 4 cost(f)``, drawn as a horizontal line.

    Parameters
    ----------
    family
        ``family(n, m)`` returns a function from R^n to R^m, or a pair
        ``(function, point)``.  Default: a random dense layer
        ``x -> tanh(W x + b)``.
    sizes
        The values of the growing dimension; the other one is 1.
    vary
        ``"inputs"`` (n grows, m = 1: gradients) and/or ``"outputs"``
        (m grows, n = 1).
    measure
        ``"ops"``: operations counted while diffkit's JVP/VJP rules run
        (:meth:`diffkit.wengert.Trace.operation_counts`); ``"time"``: wall
        time of ``jacobian`` (best of ``repeat``), which also shows Python
        overhead and NumPy's vectorisation of the batched forward pass.
    ax
        One Axes, or an array of ``len(measure) x len(vary)`` Axes.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import diffkit as dk
    >>> fig = dk.plots.cost(sizes=(1, 4, 16), measure=("ops",))
    >>> [a.get_xlabel() for a in fig.axes]
    ['inputs n (outputs m = 1)', 'outputs m (inputs n = 1)']
    """
    family = family or _dense_tanh_layer
    if not callable(family) or not _takes_two(family):
        raise TypeError(
            "cost's family is a function of the sizes (n, m) that builds f: "
            "R^n -> R^m, as in lambda n, m: (lambda x: np.tanh(W[:m, :n] @ x), "
            f"np.ones(n)); got {family!r:.60}, which cannot be called as "
            "family(n, m)."
        )
    vary = (vary,) if isinstance(vary, str) else tuple(vary)
    measure = (measure,) if isinstance(measure, str) else tuple(measure)
    for v in vary:
        if v not in ("inputs", "outputs"):
            raise ValueError(f"vary must be 'inputs' and/or 'outputs', got {v!r}.")
    for mz in measure:
        if mz not in ("ops", "time"):
            raise ValueError(f"measure must be 'ops' and/or 'time', got {mz!r}.")
    sizes = [int(s) for s in sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError("sizes must be positive integers.")
    shape = (len(measure), len(vary))
    if ax is None:
        from diffkit._figures import new_figure

        fig = new_figure((5.2 * shape[1], 3.9 * shape[0]))
        axes = fig.subplots(*shape, squeeze=False)
    else:
        axes = _np.asarray(ax, dtype=object).reshape(-1)
        if axes.size != shape[0] * shape[1]:
            raise ValueError(
                f"cost draws {shape[0] * shape[1]} panels "
                f"({len(measure)} measure x {len(vary)} vary); pass that many Axes "
                "or ax=None."
            )
        axes = axes.reshape(shape)
        fig = axes[0, 0].figure
    for r, mz in enumerate(measure):
        for c, v in enumerate(vary):
            a = axes[r, c]
            fwd, rev = [], []
            for s in sizes:
                n, m = (s, 1) if v == "inputs" else (1, s)
                pf, pr = _measure(family, n, m, mz, repeat)
                fwd.append(pf)
                rev.append(pr)
            a.loglog(sizes, fwd, "o-", color="tab:blue", label="forward mode")
            a.loglog(sizes, rev, "s-", color="tab:orange", label="reverse mode")
            if mz == "ops" and v == "inputs":
                a.axhline(4.0, ls="--", color="tab:red", lw=1.2, gid="cheap-gradient",
                          label=r"cheap gradient bound: $4\,\mathrm{cost}(f)$")
            a.set_xlabel("inputs n (outputs m = 1)" if v == "inputs"
                         else "outputs m (inputs n = 1)")
            a.set_ylabel("operations / operations of f" if mz == "ops"
                         else "time / time of f")
            what = "f: Rⁿ → R" if v == "inputs" else "f: R → Rᵐ"
            a.set_title(f"{'Operations' if mz == 'ops' else 'Wall time'} "
                        f"of the Jacobian of {what}")
            a.grid(True, which="both", alpha=0.3)
            a.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


# --- graphs and swell -----------------------------------------------------------------


def graph(f: Any, *args: Any, ax: Axes | None = None, **options: Any) -> Figure:
    """The computational graph of ``f`` at ``args``: ``dk.trace(f, *args).graph()``.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> fig = dk.plots.graph(lambda x1, x2: x1 * x2 + np.sin(x1), 1.0, 2.0)
    >>> fig.axes[0].get_title()
    'Computational graph: 2 inputs, 3 primitives'
    """
    from diffkit.wengert import trace

    return trace(f, *args).graph(ax=ax, **options)


def swell(*args: Any, ax: Axes | None = None, **kwargs: Any) -> Figure:
    """Expression swell: ``dk.swell(*args, **kwargs).plot(ax=ax)``.

    Derivative size versus n for the SymPy expression tree, the DAG after
    common-subexpression elimination and the AD evaluation trace.
    """
    try:
        from diffkit.sizes import swell as _swell
    except ImportError:  # pragma: no cover - until diffkit.sizes exists
        raise NotImplementedError(
            "dk.plots.swell needs diffkit.sizes.swell, which this installation "
            "does not have yet."
        ) from None
    return _swell(*args, **kwargs).plot(ax=ax)
