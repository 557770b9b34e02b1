"""Theano's ``theano.tensor.nnet``: neural-network functions."""

from astsym.graph.ops.math import sigmoid, softplus
from astsym.graph.ops.nnet import (
    binary_crossentropy,
    categorical_crossentropy,
    log_softmax,
    relu,
    sigmoid_binary_crossentropy,
    softmax,
)

ultra_fast_sigmoid = sigmoid
hard_sigmoid = sigmoid
