"""Every lesson notebook runs top to bottom in a fresh kernel.

The kernel is started from a kernel spec written here, pointing at the very
interpreter running the tests (the project's ``.venv``), so a stray
user-level ``python3`` kernel spec can never run the lessons against another
environment.  Notebooks are stored without outputs; that is checked too.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
KERNEL = "diffkit-lessons"
BUDGET_SECONDS = 60  # each lesson must stay well under a minute


@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    kernels = tmp_path_factory.mktemp("kernels")
    spec = kernels / KERNEL
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                 "{connection_file}"],
        "display_name": "diffkit lessons",
        "language": "python",
        # Figures render with the inline backend; keep the kernel's own
        # matplotlib from looking for a display.
        "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    }))
    return KernelSpecManager(kernel_dirs=[str(kernels)])


def _run(nb: nbformat.NotebookNode, path: Path, specs: KernelSpecManager) -> None:
    km = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)
    client = NotebookClient(nb, km=km, timeout=BUDGET_SECONDS,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(cleanup_kc=True)  # we own the kernel: shut it down, close sockets


def _outputs(nb: nbformat.NotebookNode, kind: str) -> list[str]:
    return ["".join(out.get("text", ""))
            for cell in nb.cells if cell.cell_type == "code"
            for out in cell.outputs
            if out.output_type == "stream" and out.name == kind]


def test_kernel_is_this_interpreter(kernel_specs: KernelSpecManager) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import sys; print(sys.executable)")])
    _run(nb, Path(__file__), kernel_specs)
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
def test_notebook_runs_cleanly(path: Path, kernel_specs: KernelSpecManager) -> None:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    _run(nb, path, kernel_specs)
    elapsed = time.perf_counter() - start
    # A lesson that prints to stderr is showing the student a warning.
    assert _outputs(nb, "stderr") == []
    assert elapsed < BUDGET_SECONDS
    # Every lesson ends by checking the student's answer with diffkit itself.
    assert any("check_grads" in cell.source for cell in nb.cells
               if cell.cell_type == "code"), f"{path.name} has no checked exercise"
