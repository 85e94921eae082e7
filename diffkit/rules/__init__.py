"""Derivative rules, one short line per primitive, in parallel files.

* :mod:`diffkit.rules.vjp`   -- reverse mode: ``vjp(g, ans, *args)``
* :mod:`diffkit.rules.jvp`   -- forward mode: ``jvp(t, ans, *args)``
* :mod:`diffkit.rules.sympy` -- the symbolic backend

Every rule is written with ``diffkit.numpy`` itself, so the rules are
differentiable too: that is all ``grad(grad(f))`` needs.
"""
