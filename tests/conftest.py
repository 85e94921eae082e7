from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")

KERNEL = "diffkit-lessons"
NOTEBOOK_TIMEOUT_SECONDS = 60  # per cell; each lesson must stay well under a minute


@pytest.fixture(scope="session")
def run_notebook(tmp_path_factory: pytest.TempPathFactory
                 ) -> Callable[[Any, Path], None]:
    """``run_notebook(nb, path)`` executes ``nb`` in place in a fresh kernel.

    The kernel is started from a kernel spec written here, pointing at the
    very interpreter running the tests (the project's ``.venv``), so a stray
    user-level ``python3`` kernel spec can never run notebooks against
    another environment.  ``path`` sets the kernel's working directory (its
    parent folder).
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    kernels = tmp_path_factory.mktemp("kernels")
    spec = kernels / KERNEL
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                 "{connection_file}"],
        "display_name": "diffkit lessons",
        "language": "python",
        # Figures render with the inline backend, as in Jupyter; keep the
        # kernel's own matplotlib from looking for a display.
        "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    }))
    specs = KernelSpecManager(kernel_dirs=[str(kernels)])

    def run(nb: Any, path: Path) -> None:
        km = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)
        client = NotebookClient(nb, km=km, timeout=NOTEBOOK_TIMEOUT_SECONDS,
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute(cleanup_kc=True)  # our kernel: shut it down, close sockets

    return run



@pytest.fixture(autouse=True)
def _tape_stand_ins_for_every_array(monkeypatch):
    # Reverse mode replaces large arrays its rules do not read by zero-memory
    # stand-ins; the tests use small arrays, so make every array eligible and
    # let the whole suite check that no rule reads a value it said it would not.
    from diffkit.backends import reverse

    monkeypatch.setattr(reverse, "BIG_ARRAY_SIZE", 0)
