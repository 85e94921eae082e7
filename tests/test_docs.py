"""The documentation builds with warnings as errors, and shows what it claims.

The build runs on a copy of ``docs/`` and ``notebooks/`` in a temporary
folder, so the checkout is left untouched.  The pages written as MyST text
notebooks are executed; the lesson notebooks are rendered without executing
them again (``tests/test_notebooks.py`` runs each one already).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import diffkit as dk

pytest.importorskip(
    "sphinx", reason="Sphinx is not installed: pip install -e '.[docs]' to build "
    "and test the documentation")

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 300  # generous for a loaded 2-core machine; typically ~20 s


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "docs", work / "docs",
                    ignore=shutil.ignore_patterns("_build", "lessons", "reference"))
    if (ROOT / "notebooks").is_dir():
        shutil.copytree(ROOT / "notebooks", work / "notebooks",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    out = work / "html"
    env = {**os.environ, "DIFFKIT_DOCS_EXECUTE_LESSONS": "0"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         str(work / "docs"), str(out)],
        capture_output=True, text=True, env=env, timeout=BUDGET_SECONDS)
    elapsed = time.perf_counter() - start
    warnings = "\n".join(line for line in result.stderr.splitlines()
                         if "IPKernelApp" not in line)  # the kernel's own chatter
    assert result.returncode == 0, f"sphinx-build -W failed:\n{warnings}"
    print(f"docs built in {elapsed:.1f} s")
    return out


def _text(page: Path) -> str:
    """The visible text of an HTML page, roughly (tags dropped)."""
    html = page.read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", "", html).replace("&#8217;", "'").replace(
        "&#39;", "'").replace("&quot;", '"').replace("&gt;", ">").replace(
        "&lt;", "<").replace("&amp;", "&")


def test_every_page_is_built(site: Path) -> None:
    for page in ["index", "getting-started", "four-methods", "extending",
                 "complex", "reference/index", "lessons/README"]:
        assert (site / f"{page}.html").is_file(), page


def test_every_public_name_is_in_the_reference(site: Path) -> None:
    reference = _text(site / "reference" / "index.html")
    missing = [n for n in dk.__all__ if not n.startswith("__")
               and not re.search(rf"\b{re.escape(n)}\b", reference)]
    assert not missing, f"not in the API reference: {missing}"
    assert (site / "reference" / "generated" / "diffkit.grad.html").is_file()


def test_every_lesson_notebook_is_a_page(site: Path) -> None:
    lessons = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    built = sorted(p.stem for p in (site / "lessons").glob("*.html")
                   if p.stem != "README")
    assert built == lessons


def test_executed_pages_show_real_outputs(site: Path) -> None:
    # Each is a value the page's text claims, produced by running the page.
    expectations = {
        "getting-started": ["5.091719808762414", "[[ 6.  0.]", "0.5 4.0",
                            "^^^^^^^^^^^"],
        "complex": ["(2-4j)", "(2+4j) (2+4j)"],
        "extending": ["0.5 0.5", "0.25", "no VJP rule for 'cube'",
                      "dk.defvjp(cube", "float() was called"],
        "four-methods": ["finite:central"],
    }
    for page, fragments in expectations.items():
        text = _text(site / f"{page}.html")
        for fragment in fragments:
            assert fragment in text, (page, fragment)
