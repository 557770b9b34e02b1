"""Printing graphs, as Theano's ``theano.printing``: re-exports only.

>>> import astsym.tensor as T
>>> x, y = T.dscalars("x", "y")
>>> pp(x + y)
'(x + y)'
"""

from astsym.graph.printing import debugprint, pp, pprint, pydotprint, rewrites

__all__ = ["debugprint", "pp", "pprint", "pydotprint", "rewrites"]
