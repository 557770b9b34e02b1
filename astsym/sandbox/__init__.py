"""Theano's ``theano.sandbox`` namespace: ``rng_mrg``."""
