"""Helpers for the structural-op tests: symbolic inputs for NumPy values, compiling on the
``py`` backend, comparing with NumPy, and gradients against central finite differences.

    >>> run(lambda x: x.T, np.ones((2, 3))).shape
    (3, 2)
"""

from __future__ import annotations

import contextlib

import numpy as np
from hypothesis import strategies as st

import astsym
from astsym.graph.type import TensorType
from astsym.typecheck import AstsymError, RuleError


def sym(value, static: bool = False, name: str | None = None):
    """A symbolic input for ``value``: its dtype and rank; with ``static`` also its sizes,
    otherwise only its size-1 dims are static (they are the broadcastable ones)."""
    value = np.asarray(value)
    shape = value.shape if static else tuple(1 if d == 1 else None for d in value.shape)
    return TensorType(value.dtype.name, shape=shape)(name)


def compile_py(inputs, outputs):
    return astsym.function(inputs, outputs, mode="py", on_unused_input="ignore")


def check_static_type(var, value) -> None:
    """The runtime value keeps the promises of the variable's type."""
    assert isinstance(value, np.ndarray), type(value)
    assert value.dtype.name == var.dtype, (value.dtype, var.type)
    assert value.ndim == var.ndim, (value.shape, var.type)
    for want, got in zip(var.type.shape, value.shape):
        assert not isinstance(want, int) or want == got, (value.shape, var.type)


def run(build, *values, static: bool = False):
    """Build ``build(*inputs)`` for symbolic inputs shaped like ``values`` and run it."""
    inputs = [sym(v, static) for v in values]
    outputs = build(*inputs)
    many = isinstance(outputs, (list, tuple))
    outs = list(outputs) if many else [outputs]
    results = compile_py(inputs, outs)(*values)
    for var, value in zip(outs, results):
        check_static_type(var, value)
    return results if many else results[0]


def assert_same(got, expected, rtol: float = 1e-7, atol: float = 0.0) -> None:
    """Same dtype, same shape, same values (exact for bool and integers)."""
    expected = np.asarray(expected)
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def error_code(err: Exception) -> str:
    """The diagnostic code of an astsym error (located or not)."""
    if isinstance(err, AstsymError):
        return err.diagnostic.code
    assert isinstance(err, RuleError), f"not an astsym error: {type(err).__name__}: {err}"
    return err.code


@contextlib.contextmanager
def raises_code(code: str, *fragments: str):
    """Expect an astsym error with ``code`` whose message holds every fragment."""
    try:
        yield
    except (AstsymError, RuleError) as err:
        assert error_code(err) == code, f"expected {code}, got {error_code(err)}: {err}"
        message = err.diagnostic.message if isinstance(err, AstsymError) else err.message
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} not in {message!r}"
    else:
        raise AssertionError(f"no error; expected {code}")


def numeric_grad(fn, values, k: int, eps: float) -> np.ndarray:
    """Central differences of the scalar ``fn(*values)`` with respect to ``values[k]``."""
    base = [np.array(v) for v in values]
    out = np.zeros_like(base[k])
    for i in np.ndindex(base[k].shape):
        plus = [v.copy() for v in base]
        minus = [v.copy() for v in base]
        plus[k][i] += eps
        minus[k][i] -= eps
        out[i] = (fn(*plus) - fn(*minus)) / (2 * eps)
    return out


def verify_grad(
    build,
    values,
    static: bool = False,
    wrt=None,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int = 0,
) -> None:
    """``grad`` of ``sum(build(*inputs) * W)`` (W random, fixed) against finite differences,
    for each float input (or those listed in ``wrt``)."""
    values = [np.asarray(v) for v in values]
    inputs = [sym(v, static) for v in values]
    out = build(*inputs)
    forward = compile_py(inputs, out)
    value = forward(*values)
    check_static_type(out, value)
    weights = np.random.default_rng(seed).normal(size=value.shape)
    cost = (out * weights).sum()
    wrt = [i for i, v in enumerate(values) if v.dtype.kind == "f"] if wrt is None else wrt
    grads = compile_py(inputs, astsym.grad(cost, [inputs[k] for k in wrt]))(*values)

    def scalar_cost(*args):
        return float(np.sum(forward(*args) * weights))

    for k, got in zip(wrt, grads):
        check_static_type(inputs[k], got)
        expected = numeric_grad(scalar_cost, values, k, eps)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=f"input {k}")


# -- strategies ---------------------------------------------------------------------------


def shapes(min_rank: int = 0, max_rank: int = 3, min_side: int = 1, max_side: int = 4):
    return st.lists(st.integers(min_side, max_side), min_size=min_rank, max_size=max_rank).map(
        tuple
    )


def seeds():
    return st.integers(0, 2**32 - 1)


def normal(shape, seed: int, dtype="float64", scale: float = 1.0) -> np.ndarray:
    return np.asarray(np.random.default_rng(seed).normal(size=shape) * scale, dtype=dtype)


def distinct(shape, seed: int) -> np.ndarray:
    """Values at least 0.4 apart in a random order (sorting is differentiable there)."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape, dtype=np.int64))
    spaced = rng.permutation(size) * 0.5 + rng.uniform(0.0, 0.1, size)
    return (spaced - size / 4).reshape(shape)


def away_from_zero(shape, seed: int) -> np.ndarray:
    """Values in [-1.5, -0.5] or [0.5, 1.5] (products stay well conditioned)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


steps = st.sampled_from([None, 1, 2, 3, -1, -2, -3])


@st.composite
def _piece(draw, dim):
    """An int or a slice for a dim of size ``dim``."""
    if dim > 0 and draw(st.booleans()):
        return draw(st.integers(-dim, dim - 1))
    bound = st.none() | st.integers(-dim - 2, dim + 2)
    return slice(draw(bound), draw(bound), draw(steps))


@st.composite
def basic_cases(draw, min_side=0):
    """A shape and a basic index for it: ints, slices, newaxis and at most one Ellipsis."""
    shape = draw(shapes(0, 4, min_side, 4))
    ndim = len(shape)
    count = draw(st.integers(0, ndim))
    if draw(st.booleans()):  # pieces for the leading dims, an Ellipsis, then trailing dims
        head = draw(st.integers(0, count))
        axes = list(range(head)) + list(range(ndim - (count - head), ndim))
        pieces = [draw(_piece(shape[a])) for a in axes]
        pieces.insert(head, Ellipsis)
    else:
        pieces = [draw(_piece(shape[a])) for a in range(count)]
    for _ in range(draw(st.integers(0, 2))):
        pieces.insert(draw(st.integers(0, len(pieces))), None)
    index = pieces[0] if len(pieces) == 1 and draw(st.booleans()) else tuple(pieces)
    return shape, index


@st.composite
def advanced_cases(draw):
    """A shape and an index with int arrays (one broadcast group) or a bool mask, mixed
    with slices, ints and newaxis, the advanced pieces adjacent or not."""
    shape = draw(shapes(1, 4, 1, 4))
    ndim = len(shape)
    rng = np.random.default_rng(draw(seeds()))
    pieces, axis = [], 0
    use_mask = draw(st.booleans())
    index_shape = draw(shapes(0, 2, 1, 3))
    placed = False
    while axis < ndim:
        kind = draw(st.sampled_from(["slice", "int", "advanced", "advanced", "stop"]))
        if kind == "stop" and placed:
            break
        d = shape[axis]
        if kind == "advanced" and use_mask and not placed:
            span = draw(st.integers(1, min(2, ndim - axis)))
            pieces.append(rng.random(shape[axis : axis + span]) < 0.5)
            axis += span
            placed = True
            continue
        if kind == "advanced" and not use_mask:
            sub = tuple(s if draw(st.booleans()) else 1 for s in index_shape)
            pieces.append(rng.integers(-d, d, size=sub))
            placed = True
        elif kind == "int":
            pieces.append(draw(st.integers(-d, d - 1)))
        else:
            pieces.append(draw(_piece(d)) if draw(st.booleans()) else slice(None))
        axis += 1
    if not placed:  # every piece so far is a slice or an int for one axis: make one an array
        at = draw(st.integers(0, len(pieces) - 1))
        pieces[at] = rng.integers(-shape[at], shape[at], size=index_shape)
    if draw(st.booleans()):
        pieces.insert(draw(st.integers(0, len(pieces))), None)
    return shape, tuple(pieces)
