"""Example 11: an accumulator kept in a shared variable."""

import astsym as theano
from astsym import shared
from astsym import tensor as T

state = shared(0)
inc = T.iscalar("inc")
accumulator = theano.function([inc], state, updates=[(state, state + inc)])
print(state.get_value())
accumulator(1)
print(state.get_value())
