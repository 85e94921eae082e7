"""What each VJP rule reads: the tape keeps those values and nothing else.

A tape that holds every intermediate array keeps all of them alive until the
backward pass: for ``np.sum((x[1:] - x[:-1] ** 2) ** 2)`` on a million
elements that is ten arrays of 8 MB where NumPy alone would reuse two.  Most
rules need far less: the adjoint of ``a + b`` is just ``g``, the adjoint of
``a * b`` with respect to ``a`` needs only ``b``, the adjoint of ``exp``
needs only its output.  Each line below says what the rules in
:mod:`diffkit.rules.vjp` read; a primitive not listed keeps everything.
"""

from __future__ import annotations

from diffkit import numpy as np
from diffkit.primitives import deftape

# Rules that read no values at all, only shapes and dtypes.
for _prim in (np.add, np.subtract, np.negative, np.positive, np.sum, np.mean,
              np.reshape, np.ravel, np.squeeze, np.expand_dims, np.atleast_1d,
              np.atleast_2d, np.atleast_3d, np.transpose, np.moveaxis,
              np.swapaxes, np.broadcast_to, np.flip, np.triu, np.tril,
              np.real, np.imag, np.conjugate,
              np.deg2rad, np.rad2deg, np._P["concatenate"]):
    deftape(_prim, "shapes")

# Indexing reads the index (which may be an integer array), not the values.
deftape(np.getitem, {0: (1,)})
deftape(np.untake, {0: (1,)})
deftape(np.roll, {0: (1,)})

# Rules that read only the output.
for _prim in (np.exp, np.exp2, np.expm1, np.sqrt, np.cbrt):
    deftape(_prim, {0: ()}, ans=True)

# Products: the adjoint of one factor is g times the other one.
deftape(np.multiply, {0: (1,), 1: (0,)})
deftape(np.matmul, {0: (1,), 1: (0,)})
deftape(np.dot, {0: (1,), 1: (0,)})
deftape(np.true_divide, {0: (1,), 1: (0, 1)})

# Powers: the slope in the base reads base and exponent; the slope in the
# exponent also reads the output (log(x) * x**y).
deftape(np.power, {0: (0, 1), 1: (0, "ans")})
deftape(np.float_power, {0: (0, 1), 1: (0, "ans")})

# prod's slopes are products of the other entries of x: the output is not
# read.  cumprod's recurrences read x and the running products themselves.
deftape(np.prod, {0: (0,)})
deftape(np.cumprod, {0: (0,)}, ans=True)

# Decompositions: each rule factors the input again, to get every factor of
# the same call (signs that belong together), so it reads the input only.
for _prim in (np.linalg.svd_values, np.linalg.svd_u, np.linalg.svd_vh,
              np.linalg.eig_values, np.linalg.qr_q, np.linalg.qr_r):
    deftape(_prim, {0: (0,)})
# The eigenvectors' rules read both: the input for the eigenvalues, the output
# for the vectors themselves.
deftape(np.linalg.eig_vectors, {0: (0, "ans")})
