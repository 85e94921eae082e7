"""The documentation builds with warnings as errors, and shows what it claims.

The build runs on a copy of ``docs/`` and ``notebooks/`` in a temporary
folder, so the checkout is left untouched.  The pages written as MyST text
notebooks are executed; the lesson notebooks are rendered without executing
them again (``tests/test_notebooks.py`` runs each one already).  Under
pytest-xdist the workers share one build.

The README's example is run as a user would paste it, and the README must
name every public name.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import diffkit as dk

try:
    import fcntl
except ImportError:  # not on Windows: each xdist worker builds its own copy
    fcntl = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 300  # generous for a loaded 2-core machine; typically ~40 s

#: Every page of the user guide (each but the benchmarks is executed).
GUIDE = ["getting-started", "four-methods", "compare", "traces", "swell",
         "figures", "expressions", "complex", "cli", "examples", "extending",
         "benchmarks"]


def _build(work: Path) -> Path:
    """Copy the sources into ``work``, build them there, return the HTML folder."""
    shutil.copytree(ROOT / "docs", work / "docs",
                    ignore=shutil.ignore_patterns("_build", "lessons", "reference"))
    if (ROOT / "notebooks").is_dir():
        shutil.copytree(ROOT / "notebooks", work / "notebooks",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    out = work / "html"
    env = {**os.environ, "DIFFKIT_DOCS_EXECUTE_LESSONS": "0"}
    start = time.perf_counter()
    # Two processes: the executed pages are mostly kernel start-up and imports.
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         "-j", "2", str(work / "docs"), str(out)],
        capture_output=True, text=True, env=env, timeout=BUDGET_SECONDS)
    elapsed = time.perf_counter() - start
    warnings = "\n".join(line for line in result.stderr.splitlines()
                         if "IPKernelApp" not in line)  # the kernel's own chatter
    if result.returncode != 0:
        raise AssertionError(f"sphinx-build -W failed:\n{warnings}")
    print(f"docs built in {elapsed:.1f} s")
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip(
        "sphinx", reason="Sphinx is not installed: pip install -e '.[docs]' to "
        "build and test the documentation")
    if os.environ.get("PYTEST_XDIST_WORKER") is None or fcntl is None:
        return _build(tmp_path_factory.mktemp("docs"))
    # One build for the whole session: the first worker to get here builds,
    # the others wait for it and read its result (or its failure).
    shared = tmp_path_factory.getbasetemp().parent / "docs-site"
    shared.mkdir(exist_ok=True)
    failed = shared / "failed.txt"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "html").is_dir() and not failed.exists():
            try:
                _build(shared)
            except AssertionError as err:
                failed.write_text(str(err))
                raise
    if failed.exists():
        raise AssertionError(failed.read_text())
    return shared / "html"


def _text(page: Path) -> str:
    """The visible text of an HTML page, roughly (tags dropped)."""
    html = page.read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", "", html).replace("&#8217;", "'").replace(
        "&#39;", "'").replace("&quot;", '"').replace("&gt;", ">").replace(
        "&lt;", "<").replace("&amp;", "&")


def test_every_page_is_built(site: Path) -> None:
    for page in ["index", *GUIDE, "reference/index", "lessons/README"]:
        assert (site / f"{page}.html").is_file(), page


def test_every_guide_page_is_in_the_table_of_contents(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    missing = [page for page in GUIDE if f'href="{page}.html"' not in index]
    assert not missing, f"not linked from the index: {missing}"


def test_every_public_name_is_in_the_reference(site: Path) -> None:
    reference = _text(site / "reference" / "index.html")
    missing = [n for n in dk.__all__ if not n.startswith("__")
               and not re.search(rf"\b{re.escape(n)}\b", reference)]
    assert not missing, f"not in the API reference: {missing}"
    for name in ["diffkit.grad", "diffkit.TangentTrace", "diffkit.examples",
                 "diffkit.backends.symbolic.Budget"]:
        assert (site / "reference" / "generated" / f"{name}.html").is_file(), name


def test_every_lesson_notebook_is_a_page(site: Path) -> None:
    lessons = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    built = sorted(p.stem for p in (site / "lessons").glob("*.html")
                   if p.stem != "README")
    assert built == lessons


def test_executed_pages_show_real_outputs(site: Path) -> None:
    # Each is a value the page's text claims, known independently of diffkit
    # (a closed form, a table of Baydin et al., a convention), or a message
    # the page says diffkit prints; the page shows it only if running it
    # produced it.
    expectations = {
        "getting-started": ["5.091719808762414", "[[ 6.  0.]", "0.5 4.0",
                            "^^^^^^^^^^^", "(9.0, 12.0)"],
        "four-methods": ["finite:central", "complex-step  h = 1.00e-20",
                         "Piecewise((2*x, x > 0), (-1, True))",
                         "too large: the derivative has",
                         "[[ 2.          1.5         0.        ]",
                         "forward-over-reverse [ 9. 12. 18.]"],
        "compare": ["finite:richardson", "reference: given by the caller",
                    "reference: reverse-mode AD, as symbolic does not apply",
                    "[5.5, 1.716337815]"],
        "traces": ["v₂  = v₋₁ × v₀ = 10", "[5.5, 1.7163378145367738]",
                   "x1*x2 + log(x1) - sin(x2)", "v̄₋₁ = v̄₋₁ + v̄₁ ∂v₁/∂v₋₁"],
        "swell": ["Matrix([[y], [x + 1/y]])", "~ 0.33 n^3", "~ 3.00 n^1",
                  "~ 8.00 n^1", "Size(tree_ops=28, dag_ops=17, trace_ops=6, "
                  "grad_ops=16)"],
        "expressions": ["function('x*y + ln(y)') ('x', 'y')",
                        "did you mean 'sin'", "18.0"],
        "complex": ["(2-4j)", "(2+4j) (2+4j)",
                    "Abs is not complex-differentiable"],
        "cli": ["wrote fd-error.png", "Forward tangent trace",
                "diffkit compare: error: The operator '^' is not allowed"],
        "examples": ["(24.0, 12.0, 8.0, 6.0)",
                     "cos(x)*cos(sin(x))*cos(sin(sin(x)))"],
        "extending": ["0.5 0.5", "0.25", "no VJP rule for 'cube'",
                      "dk.defvjp(cube", "float() was called",
                      "exp(x)/(exp(x) + 1)"],
    }
    for page, fragments in expectations.items():
        text = _text(site / f"{page}.html")
        for fragment in fragments:
            assert fragment in text, (page, fragment)
    complex_page = _text(site / "complex.html")
    assert complex_page.count("(2-4j)") >= 2  # forward and reverse mode


def test_figures_are_drawn(site: Path) -> None:
    # One picture per figure the page makes, and each shown once.
    expected = {"figures": 6, "compare": 1, "traces": 1, "swell": 1}
    for page, count in expected.items():
        html = (site / f"{page}.html").read_text(encoding="utf-8")
        assert len(re.findall(r"<img [^>]*\.png", html)) == count, page


# --- the README -------------------------------------------------------------------


def _readme_code() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(
        encoding="utf-8"), re.S)
    assert len(blocks) == 1, "the README should have one Python example"
    return blocks[0]


def test_readme_example_runs_and_prints_the_derivative(tmp_path: Path) -> None:
    # Run as a user pasting it would: a fresh interpreter, another folder.
    result = subprocess.run([sys.executable, "-c", _readme_code()], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
    x = 1.5
    exact = math.exp(x) * math.sin(x) * (2 * math.cos(x) + math.sin(x))
    printed = dict(line.split() for line in result.stdout.splitlines()
                   if line.split()[:1] in (["finite"], ["symbolic"], ["forward"],
                                           ["reverse"]) and len(line.split()) == 2)
    assert sorted(printed) == ["finite", "forward", "reverse", "symbolic"]
    for method, value in printed.items():
        tolerance = 1e-9 if method == "finite" else 1e-14
        assert math.isclose(float(value), exact, rel_tol=tolerance), method
    assert "[[ 6.  0.]\n [ 0. 12.]]" in result.stdout
    assert "Reverse adjoint trace" in result.stdout


def test_readme_names_every_public_name() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [n for n in dk.__all__ if not n.startswith("__")
               and not re.search(rf"`[^`]*\b{re.escape(n)}\b[^`]*`", readme)]
    assert not missing, f"not mentioned in README.md: {missing}"
