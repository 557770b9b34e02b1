"""Theano's ``theano.tensor`` namespace: constructors, ops under Theano's names, grad.

>>> import astsym.tensor as T
>>> x = T.dmatrix("x")
>>> T.exp(x).type
TensorType(float64, matrix)
"""

from astsym.graph.basic import Constant as TensorConstant
from astsym.graph.basic import Variable as TensorVariable
from astsym.graph.constructors import *
from astsym.graph.convert import as_tensor_variable, constant
from astsym.graph.grad import grad
from astsym.graph.gradient import Lop, Rop, hessian, jacobian
from astsym.graph.ops import *
from astsym.graph.ops import abs, all, any, max, min, round, sum
from astsym.graph.ops import abs as abs_
from astsym.graph.ops import bitwise_and as and_
from astsym.graph.ops import bitwise_or as or_
from astsym.graph.ops import bitwise_xor as xor
from astsym.graph.ops import equal as eq
from astsym.graph.ops import floor_divide as int_div
from astsym.graph.ops import greater as gt
from astsym.graph.ops import greater_equal as ge
from astsym.graph.ops import less as lt
from astsym.graph.ops import less_equal as le
from astsym.graph.ops import multiply as mul
from astsym.graph.ops import negative as neg
from astsym.graph.ops import not_equal as neq
from astsym.graph.ops import power as pow
from astsym.graph.ops import sign as sgn
from astsym.graph.ops import subtract as sub
from astsym.graph.ops import true_divide as true_div
from astsym.graph.ops import where as switch
from astsym.graph.shared import SharedVariable as TensorSharedVariable
from astsym.graph.shared import shared
from astsym.graph.type import TensorType
from astsym.runtime.verify_grad import verify_grad
from astsym.tensor import nnet, random, shared_randomstreams

as_tensor = as_tensor_variable
sqr = square
