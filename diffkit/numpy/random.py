"""``diffkit.numpy.random``: NumPy's random module, unchanged.

Random draws are data, not functions to differentiate, so they pass through.
"""

from numpy.random import *  # noqa: F401,F403
from numpy.random import default_rng  # noqa: F401
