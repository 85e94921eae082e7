"""The interpreters of a diffkit function: one module per method.

Each backend decides what kind of value flows through the primitives:
floats (``finite``), SymPy expressions (``symbolic``), values with tangents
(``forward``) or values recorded on a tape (``reverse``).
"""
