"""Theano's ``theano.gradient`` namespace: grad and what is built on it."""

from astsym.graph.grad import grad
from astsym.graph.gradient import Lop, Rop, hessian, jacobian
from astsym.graph.ops.grad_override import disconnected_grad, grad_clip, grad_scale, zero_grad
from astsym.runtime.verify_grad import GradientError, verify_grad
