"""The ``cpu`` backend's kernels: importing this module registers a Numba kernel builder for
each fused op (``graph/ops/fused.py``'s ``KERNELS``)."""

from . import numba_elemwise, numba_reduce, numba_rowpass  # noqa: F401  (registering builders)
