"""Every lesson notebook runs top to bottom in a fresh kernel.

The kernel runs the very interpreter running the tests (the ``run_notebook``
fixture, tests/conftest.py).  Notebooks are stored without outputs; that is
checked too.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
BUDGET_SECONDS = 60  # each lesson must stay well under a minute


def _outputs(nb: nbformat.NotebookNode, kind: str) -> list[str]:
    return ["".join(out.get("text", ""))
            for cell in nb.cells if cell.cell_type == "code"
            for out in cell.outputs
            if out.output_type == "stream" and out.name == kind]


def test_kernel_is_this_interpreter(run_notebook: Callable) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import sys; print(sys.executable)")])
    run_notebook(nb, Path(__file__))
    assert _outputs(nb, "stdout") == [sys.executable + "\n"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: strip the outputs of cells {dirty}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_markdown_is_not_commented_out(path: Path) -> None:
    # Converting from a percent-format script can leave every markdown line
    # behind a "# ", which renders the whole page as headings.
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = [ln for ln in cell.source.splitlines() if ln.strip()]
        commented = [ln for ln in lines if ln.startswith("# ") or ln == "#"]
        assert len(commented) <= max(1, len(lines) // 2), (
            f"{path.name} cell {i}: markdown lines start with '# '")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_cleanly(path: Path, run_notebook: Callable) -> None:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    run_notebook(nb, path)
    elapsed = time.perf_counter() - start
    # A lesson that prints to stderr is showing the student a warning.
    assert _outputs(nb, "stderr") == []
    assert elapsed < BUDGET_SECONDS
    # Every lesson ends by checking the student's answer with diffkit itself.
    assert any("check_grads" in cell.source for cell in nb.cells
               if cell.cell_type == "code"), f"{path.name} has no checked exercise"
