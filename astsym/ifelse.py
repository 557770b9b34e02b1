"""Theano's ``theano.ifelse`` namespace: the lazy ``ifelse``."""

from astsym.graph.ops.ifelse import IfElse, ifelse
