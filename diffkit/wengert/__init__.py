"""Evaluation traces (Wengert lists) and the small interpreters that read them.

Running a function on numbers executes a sequence of primitive operations.
Written down one per line, each with a name for its result,

.. code-block:: text

    v₋₁ = x₁          =  2
    v₀  = x₂          =  5
    v₁  = ln v₋₁      =  0.693
    v₂  = v₋₁ × v₀    = 10
    ...

that sequence is the *evaluation trace* or *Wengert list* of the function at
that point (Baydin et al. 2018, "Automatic differentiation in machine
learning: a survey", Tables 2 and 3, whose notation we follow: the n inputs
are ``v_{1-n} ... v_0``, the intermediate values ``v_1, v_2, ...``).

:func:`trace` records it once, by running the function under a
:class:`RecordingTrace` -- one more interpreter of diffkit's primitives, which
writes each primitive down instead of differentiating it.  Everything else
is a short loop over the recorded lines (JAX's ``eval_jaxpr`` is the model):

* :meth:`Trace.forward` pushes tangents ``v̇`` down the list with each
  primitive's JVP rule: forward-mode AD, by hand;
* :meth:`Trace.reverse` walks the list backwards accumulating adjoints
  ``v̄ += v̄_i ∂v_i/∂v_j`` with the VJP rules: reverse-mode AD, by hand;
* :meth:`Trace.operation_counts` runs both sweeps on counting boxes;
* :meth:`Trace.to_sympy` replays it on SymPy symbols to recover the formula;
* :meth:`Trace.graph` draws it as a computational graph.

One concern per module, in reading order:

* :mod:`~diffkit.wengert.recording` -- the records and :func:`trace`;
* :mod:`~diffkit.wengert.evaluation` -- the :class:`Trace` object;
* :mod:`~diffkit.wengert.tables` -- the forward and reverse interpreters;
* :mod:`~diffkit.wengert.counts` -- the counting interpreter;
* :mod:`~diffkit.wengert.symbolic` -- the replay on SymPy symbols;
* :mod:`~diffkit.wengert.graph` -- the drawing;
* :mod:`~diffkit.wengert.text` -- names, numbers and tables as text.
"""

from diffkit.wengert.counts import OperationCounts
from diffkit.wengert.evaluation import Trace
from diffkit.wengert.recording import RecordingTrace, trace
from diffkit.wengert.tables import AdjointTrace, TangentTrace
from diffkit.wengert.text import barname, dotname, vname

__all__ = ["trace", "Trace", "TangentTrace", "AdjointTrace", "RecordingTrace",
           "OperationCounts", "vname", "dotname", "barname"]
