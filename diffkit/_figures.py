"""Figures that belong to whoever called diffkit, not to pyplot.

A figure made with ``plt.subplots`` is registered with pyplot until someone
closes it.  In Jupyter that has two costs: the inline backend shows every
open pyplot figure at the end of the cell, so a figure that is also the
cell's value appears twice; and figures nobody closes pile up (memory, and
matplotlib's "more than 20 figures" warning).  diffkit therefore builds its
figures with matplotlib's object-oriented API: a :class:`Figure` here is an
ordinary ``matplotlib.figure.Figure`` (``savefig``, animations and
``fig.axes`` work as usual) that pyplot never sees, and that is freed like
any other Python object once it is no longer referenced.

It shows itself once as a cell's value.  With the inline backend active,
IPython draws any ``matplotlib.figure.Figure`` it is handed; before pyplot
has been used in a kernel that integration is not switched on yet, so the
figure also carries its own PNG representation (``_repr_png_``), which
IPython uses when no figure formatter is registered.  Either way the cell
gets exactly one picture.

This module imports matplotlib: import it inside the functions that draw.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib.figure
from matplotlib.backends.backend_agg import FigureCanvasAgg

__all__ = ["Figure", "new_figure"]


class Figure(matplotlib.figure.Figure):
    """A ``matplotlib.figure.Figure`` outside pyplot that renders itself in Jupyter."""

    def _repr_png_(self) -> bytes | None:
        # IPython asks for this only when its own matplotlib integration is
        # off; draw it the way that integration would (tight bounding box).
        if not self.axes:
            return None
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def new_figure(figsize: tuple[float, float], **kwargs: Any) -> Figure:
    """A new figure of ``figsize`` inches, with an Agg canvas and no pyplot.

    Extra keyword arguments go to ``matplotlib.figure.Figure`` (``layout``,
    ``dpi``, ...).  The Agg canvas lets ``savefig``, ``tight_layout`` and
    ``FuncAnimation.save``/``to_jshtml`` render it without a GUI backend.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> managed = plt.get_fignums()
    >>> fig = new_figure((4.0, 3.0))
    >>> ax = fig.add_subplot()
    >>> fig.get_size_inches().tolist(), plt.get_fignums() == managed
    ([4.0, 3.0], True)
    >>> fig._repr_png_()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    fig = Figure(figsize=figsize, **kwargs)
    FigureCanvasAgg(fig)
    return fig
