"""Sphinx configuration for the diffkit documentation.

Build with ``make docs`` (HTML in ``docs/_build/html``).  Warnings are errors
(``-W``) and nothing is fetched from the network (no intersphinx).

* The API reference is generated from ``diffkit.__all__`` (see ``_api.py``):
  a new public name appears in it without editing these files.
* The lesson notebooks are copied from ``../notebooks`` into ``lessons/`` and
  rendered by MyST-NB.  They are executed at build time when the environment
  variable ``DIFFKIT_DOCS_EXECUTE_LESSONS=1`` is set (``make docs`` does);
  otherwise they are shown as stored (the test suite runs every lesson on its
  own, so the docs test skips executing them a second time).
* The pages written as MyST text notebooks (every page of the user guide
  but the benchmarks) are always executed, so every output shown in them is
  real; the command-line page runs the ``diffkit`` command itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

import _api  # noqa: E402

import diffkit  # noqa: E402

project = "diffkit"
author = "diffkit developers"
copyright = "diffkit developers"  # noqa: A001
version = release = diffkit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# --- API reference ---------------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"  # the numpydoc Parameters sections say it better
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
_api.write_reference(DOCS / "reference")

# --- Notebooks and MyST ------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_timeout = 120
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
if os.environ.get("DIFFKIT_DOCS_EXECUTE_LESSONS", "0") != "1":
    nb_execution_excludepatterns = ["lessons/*"]
# Every notebook runs in a kernel of *this* interpreter, whatever kernel spec
# it names and whatever "python3" kernel a user has installed elsewhere.
nb_kernel_rgx_aliases = {".*": "diffkit-docs"}


_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _unlink_missing(text: str, folder: Path) -> str:
    """Turn links to files that are not (yet) in ``folder`` into plain text.

    A lesson listed in the README before it is written must not break the
    build; web links and links within the page are left alone.
    """

    def fix(match: re.Match[str]) -> str:
        target = match.group(2).split("#")[0]
        if not target or "://" in target or target.startswith("mailto:") \
                or (folder / target).exists():
            return match.group(0)
        return match.group(1)

    return _LINK.sub(fix, text)


def _copy_lessons(source: Path, target: Path) -> None:
    """Mirror ``notebooks/`` into ``lessons/``, rewriting only what changed.

    The README becomes the lessons' index page, with a toctree of every
    notebook added at its end, so a new lesson appears without editing docs.
    """
    target.mkdir(exist_ok=True)
    files = {p.name: p for p in sorted(source.glob("*")) if p.is_file()} \
        if source.is_dir() else {}
    pages: dict[str, str] = {}
    for name, path in files.items():
        if name.endswith(".ipynb"):
            nb = json.loads(path.read_text(encoding="utf-8"))
            for cell in nb.get("cells", []):
                if cell.get("cell_type") == "markdown":
                    text = "".join(cell["source"]) if isinstance(
                        cell["source"], list) else cell["source"]
                    cell["source"] = _unlink_missing(text, source)
            # Stored without outputs, a notebook may not say its language; the
            # renderer needs it to highlight the code when it is not executed.
            nb.setdefault("metadata", {}).setdefault(
                "language_info", {"name": "python", "pygments_lexer": "ipython3"})
            pages[name] = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        elif name == "README.md":
            pages[name] = _unlink_missing(path.read_text(encoding="utf-8"), source)
    if "README.md" not in pages:
        pages["README.md"] = "# Lessons\n"
    pages["README.md"] += "\n```{toctree}\n:hidden:\n:glob:\n\n[0-9]*\n```\n"
    for old in target.iterdir():
        if old.name not in files and old.name not in pages:
            old.unlink() if old.is_file() else shutil.rmtree(old)
    for name, path in files.items():
        dst = target / name
        if name in pages:
            if not dst.exists() or dst.read_text(encoding="utf-8") != pages[name]:
                dst.write_text(pages[name], encoding="utf-8")
        elif not dst.exists() or dst.read_bytes() != path.read_bytes():
            shutil.copy2(path, dst)  # data files a lesson reads
    if not files.get("README.md"):
        (target / "README.md").write_text(pages["README.md"], encoding="utf-8")


_copy_lessons(DOCS.parent / "notebooks", DOCS / "lessons")


def _kernel_spec(app: object) -> None:
    kernels = Path(app.doctreedir) / "kernels"  # type: ignore[attr-defined]
    spec = kernels / "kernels" / "diffkit-docs"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                 "{connection_file}"],
        "display_name": "diffkit docs",
        "language": "python",
        "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    }))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(kernels), os.environ.get("JUPYTER_PATH", "")]).rstrip(os.pathsep)


def setup(app: object) -> None:
    app.connect("builder-inited", _kernel_spec)  # type: ignore[attr-defined]


# --- HTML ------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "diffkit"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
# The narrative pages have no subpages: give their text the room.
html_sidebars = {page: [] for page in
                 ["index", "getting-started", "four-methods", "compare", "traces",
                  "swell", "figures", "expressions", "complex", "cli", "examples",
                  "extending", "benchmarks"]}
