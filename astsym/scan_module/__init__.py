"""Theano's ``theano.scan_module`` namespace."""

from astsym.graph.scan import Scan, foldl, foldr, map, reduce, scan, until
