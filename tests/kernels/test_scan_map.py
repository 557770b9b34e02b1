"""A scan that is a map runs on the ``cpu`` backend as its body applied to whole sequences
(``graph/scan/rewrite_map.py``), fused into kernels with the reduction after it; the scan
stays a scan on ``py``, the oracle these tests compare with. Also: ``power`` in fused
kernels (vector math ``pow``), which such maps need (``c * x ** arange(n)``)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_allclose_dtype, numeric_grad
from hypothesis import given, settings
from hypothesis import strategies as st

import astsym
import astsym.tensor as T
from astsym.graph.ops.fused import FusedElemwise, FusedReduce
from astsym.graph.scan.op import Scan
from astsym.graph.type import TensorType

RULE = ("scan", "elementwise_from_scan")


def _scans(f) -> list:
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def _fired(f) -> int:
    return sum((e.group, e.rule) == RULE for e in f.rewrites)


def _cpu(inputs, outputs, **kwargs):
    return astsym.function(inputs, outputs, mode="cpu", on_unused_input="ignore", **kwargs)


def _py(inputs, outputs, **kwargs):
    return astsym.function(inputs, outputs, mode="py", on_unused_input="ignore", **kwargs)


def _agree(f, g, *values, rtol=None) -> None:
    """``f`` (cpu) equals ``g`` (py) in dtype, shape and value, op by op (first call) and
    compiled whole (later calls)."""
    want = g(*values)
    for _ in range(3):
        got = f(*values)
        pairs = zip(got, want) if isinstance(want, list) else [(got, want)]
        for a, b in pairs:
            assert_allclose_dtype(a, b, rtol=rtol)


def _polynomial(n: int = 1000):
    c, x = T.dvector("c"), T.dscalar("x")
    terms, _ = astsym.scan(
        lambda ci, power, x: ci * x**power, sequences=[c, T.arange(n)], non_sequences=x
    )
    return c, x, terms


# -- the rewrite fires, and the map becomes one kernel ------------------------------------------


def test_the_tutorial_polynomial_is_one_fused_power_kernel():
    c, x, terms = _polynomial()
    f, g = _cpu([c, x], terms.sum()), _py([c, x], terms.sum())
    assert _fired(f) == 1 and _scans(f) == []
    (reduce,) = [n.op for n in f.maker.fgraph.toposort() if isinstance(n.op, FusedReduce)]
    assert [op.name for op, _, _ in reduce.steps] == ["power", "multiply"]
    assert len(_scans(g)) == 1 and _fired(g) == 0  # py keeps the scan: it is the oracle
    coefficients = np.random.default_rng(0).standard_normal(1000)
    _agree(f, g, coefficients, 0.999, rtol=1e-12)
    want = (coefficients * 0.999 ** np.arange(1000)).sum()
    np.testing.assert_allclose(f(coefficients, 0.999), want, rtol=1e-12)


def test_the_rewrite_is_logged_at_the_users_line():
    c, x, terms = _polynomial(10)
    f = _cpu([c, x], terms)
    (firing,) = [e for e in f.rewrites if (e.group, e.rule) == RULE]
    assert firing.op.startswith("scan") and firing.span.file == __file__


def test_excluding_specialize_keeps_the_scan():
    c, x, terms = _polynomial(10)
    f = astsym.function([c, x], terms, mode=astsym.Mode("cpu").excluding("specialize"))
    assert len(_scans(f)) == 1 and _fired(f) == 0
    np.testing.assert_allclose(f(np.ones(10), 0.5), 0.5 ** np.arange(10))


def test_an_integer_sequence_with_a_float_gives_the_scans_dtype():
    p, x = T.ivector("p"), T.fscalar("x")
    out, _ = astsym.scan(lambda pi, x: x**pi, sequences=p, non_sequences=x)
    f, g = _cpu([p, x], out), _py([p, x], out)
    assert _scans(f) == [] and f.maker.fgraph.outputs[0].dtype == out.dtype == "float64"
    _agree(f, g, np.arange(-5, 20, dtype=np.int32), np.float32(1.5))


# -- values equal the scan's, for lengths, n_steps, direction and dtypes -----------------------

#: step functions of (a row of a, a row of b, a non-sequence w): elementwise, mixed ranks
BODIES = {
    "polynomial": lambda a, b, w: a * w**b,
    "affine": lambda a, b, w: T.exp(-abs(a)) * w + b,
    "two outputs": lambda a, b, w: [a - b, T.tanh(a * w)],
    "cast": lambda a, b, w: T.cast(a, "float32") + T.cast(b, "float32") * T.cast(w, "float32"),
}

_COMPILED: dict = {}


def _map_functions(body: str, dtypes: tuple, steps: str, backwards: bool):
    """(cpu function, py function) of the map ``body`` over a vector a and b of ``dtypes``;
    ``steps``: 'all', 'static' (n_steps=2) or 'symbolic' (an int input, maybe negative)."""
    key = (body, dtypes, steps, backwards)
    if key not in _COMPILED:
        a, b = T.vector("a", dtype=dtypes[0]), T.vector("b", dtype=dtypes[1])
        w, n = T.dscalar("w"), T.lscalar("n")
        n_steps = {"all": None, "static": 2, "symbolic": n}[steps]
        out, _ = astsym.scan(
            BODIES[body], sequences=[a, b], non_sequences=w, n_steps=n_steps,
            go_backwards=backwards,
        )  # fmt: skip
        outs = out if isinstance(out, list) else [out]
        f = _cpu([a, b, w, n], outs)
        assert _scans(f) == [], body
        _COMPILED[key] = f, _py([a, b, w, n], outs)
    return _COMPILED[key]


def _ints(data, lo: int, hi: int, size: int) -> np.ndarray:
    return np.asarray(data.draw(st.lists(st.integers(lo, hi), min_size=size, max_size=size)))


def _run(f, values):
    try:
        return f(*values), None
    except Exception as err:  # noqa: BLE001 - compared between the backends
        return None, type(err).__name__


@settings(max_examples=60)
@given(
    body=st.sampled_from(sorted(BODIES)),
    dtypes=st.sampled_from([("float64", "float64"), ("float64", "int64"), ("float32", "int32")]),
    steps=st.sampled_from(["all", "static", "symbolic"]),
    backwards=st.booleans(),
    lengths=st.tuples(st.integers(0, 6), st.integers(0, 6)),
    n=st.integers(-1, 7),
    data=st.data(),
)
def test_maps_equal_the_scan_on_py(body, dtypes, steps, backwards, lengths, n, data):
    f, g = _map_functions(body, dtypes, steps, backwards)
    a = _ints(data, -3, 3, lengths[0])
    b = _ints(data, 0, 4, lengths[1])
    values = [(a * 0.5).astype(dtypes[0]), b.astype(dtypes[1]), 0.75, n]
    want, error = _run(g, values)
    for _ in range(2):  # op by op, then compiled whole
        got, got_error = _run(f, values)
        assert (got_error is None) == (error is None), (got_error, error)
        if error is None:  # a float32 step rounds once more or less than NumPy's
            for x, y in zip(got, want):
                assert_allclose_dtype(x, y, rtol=1e-6 if "float32" in dtypes else None)


def test_fewer_steps_than_items_read_the_first_or_last_items():
    a = T.dvector("a")
    for backwards in (False, True):
        out, _ = astsym.scan(lambda ai: ai * 2, sequences=a, n_steps=3, go_backwards=backwards)
        f = _cpu([a], out)
        assert _scans(f) == [] and f.maker.fgraph.outputs[0].type.shape == (3,)
        want = [8.0, 6.0, 4.0] if backwards else [0.0, 2.0, 4.0]
        for _ in range(3):
            np.testing.assert_array_equal(f(np.arange(5.0)), want)


def test_more_steps_than_items_fail_as_the_scan_does():
    a = T.dvector("a")
    out, _ = astsym.scan(lambda ai: ai * 2, sequences=a, n_steps=4)
    f, g = _cpu([a], out), _py([a], out)
    assert _scans(f) == []
    for fn in (g, f, f, f):
        with pytest.raises(Exception, match="4"):
            fn(np.arange(3.0))


# -- per-step arrays: shapes, broadcasting and zero steps --------------------------------------


def test_rows_times_a_vector_and_items_times_a_vector():
    rows, items, w = T.dmatrix("rows"), T.dvector("items"), T.dvector("w")
    out, _ = astsym.scan(
        lambda r, i, w: [T.exp(r) * w, i * w, (r * i).dimshuffle("x", 0) + w.dimshuffle(0, "x")],
        sequences=[rows, items], non_sequences=w,
    )  # fmt: skip
    f, g = _cpu([rows, items, w], out), _py([rows, items, w], out)
    assert _scans(f) == []
    rng = np.random.default_rng(1)
    _agree(f, g, rng.standard_normal((4, 3)), rng.standard_normal(5), rng.standard_normal(3))


def test_zero_steps_give_the_scans_shapes():
    """After zero steps a scan cannot know per-step dims that are not static: size 0."""
    rows, w = T.dmatrix("rows"), T.dvector("w")
    fixed = TensorType("float64", shape=(None, 3))("fixed")
    out, _ = astsym.scan(lambda r, s, w: [r * w, s * 2], sequences=[rows, fixed], non_sequences=w)
    f, g = _cpu([rows, fixed, w], out), _py([rows, fixed, w], out)
    assert _scans(f) == []
    empty = [np.zeros((0, 3)), np.zeros((0, 3)), np.ones(3)]
    want = g(*empty)
    assert [v.shape for v in want] == [(0, 0), (0, 3)]
    _agree(f, g, *empty)
    _agree(f, g, np.ones((2, 3)), np.ones((2, 3)), np.arange(3.0))


# -- gradients through the map --------------------------------------------------------------


def test_gradients_through_the_map_equal_py_and_finite_differences():
    c, x, terms = _polynomial(50)
    cost = (terms * terms).sum()
    grads = astsym.grad(cost, [c, x])
    f, g = _cpu([c, x], grads), _py([c, x], grads)
    assert _scans(f) == []  # the backward scan is a map too
    coefficients = np.random.default_rng(2).standard_normal(50)
    _agree(f, g, coefficients, 0.95)
    value = _cpu([c, x], cost)
    want = numeric_grad(lambda c0, x0: float(value(c0, x0)), [coefficients, 0.95], [0, 1], 1e-6)
    for got, expected in zip(f(coefficients, 0.95), want):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_gradients_of_a_backwards_map_with_fewer_steps():
    a, w = T.dvector("a"), T.dscalar("w")
    out, _ = astsym.scan(
        lambda ai, w: T.sin(ai) * w, sequences=a, non_sequences=w, n_steps=3, go_backwards=True
    )
    grads = astsym.grad((out * out).sum(), [a, w])
    f, g = _cpu([a, w], grads), _py([a, w], grads)
    assert _scans(f) == []
    _agree(f, g, np.linspace(-1, 1, 5), -2.0)


def test_a_gradient_that_sums_over_broadcast_dims_stays_a_scan():
    """d(a_t * w)/d a_t sums over w's dims: a reduction in the backward step."""
    a, w = T.dvector("a"), T.dvector("w")
    out, _ = astsym.scan(lambda ai, w: T.sin(ai) * w, sequences=a, non_sequences=w)
    grads = astsym.grad((out * out).sum(), [a, w])
    f, g = _cpu([a, w], grads), _py([a, w], grads)
    assert _fired(f) == 1 and len(_scans(f)) == 1  # the forward map only
    _agree(f, g, np.linspace(-1, 1, 5), np.array([0.5, -2.0]))


# -- what is not a map stays a scan -------------------------------------------------------------


def _stays_a_scan(inputs, out, *values):
    f, g = _cpu(inputs, out), _py(inputs, out)
    assert _fired(f) == 0 and len(_scans(f)) >= 1
    _agree(f, g, *values)


def test_taps_other_than_zero_stay_a_scan():
    a = T.dvector("a")
    out, _ = astsym.scan(lambda prev, nxt: nxt - prev, sequences=[{"input": a, "taps": [-1, 1]}])
    _stays_a_scan([a], out, np.arange(6.0) ** 2)


def test_a_recurrence_stays_a_scan():
    a, h0 = T.dvector("a"), T.dscalar("h0")
    out, _ = astsym.scan(lambda ai, h: h * 0.5 + ai, sequences=a, outputs_info=h0)
    _stays_a_scan([a, h0], out, np.arange(6.0), 1.0)


def test_until_stays_a_scan():
    a = T.dvector("a")
    out, _ = astsym.scan(lambda ai: (ai * 2, astsym.scan_module.until(ai > 2)), sequences=a)
    _stays_a_scan([a], out, np.arange(6.0))


def test_a_dot_in_the_body_stays_a_scan():
    rows, w = T.dmatrix("rows"), T.dvector("w")
    out, _ = astsym.scan(lambda r, w: T.dot(r, w), sequences=rows, non_sequences=w)
    _stays_a_scan([rows, w], out, np.ones((4, 3)), np.arange(3.0))


def test_an_output_of_non_sequences_only_stays_a_scan():
    a, w = T.dvector("a"), T.dscalar("w")
    out, _ = astsym.scan(lambda ai, w: [ai * w, w * 2], sequences=a, non_sequences=w)
    _stays_a_scan([a, w], out, np.arange(4.0), 3.0)


def test_no_sequence_stays_a_scan():
    w = T.dscalar("w")
    out, _ = astsym.scan(lambda w: T.exp(w), non_sequences=w, n_steps=4)
    _stays_a_scan([w], out, 0.5)


def test_a_map_inside_a_recurrent_scan_is_rewritten_in_its_body():
    X, h0 = T.dmatrix("X"), T.dvector("h0")

    def step(row, h):
        inner, _ = astsym.scan(lambda a, b: T.tanh(a) * b, sequences=[row, h])
        return inner + 0.5 * h

    out, _ = astsym.scan(step, sequences=X, outputs_info=h0)
    f, g = _cpu([X, h0], out), _py([X, h0], out)
    assert _fired(f) == 1 and f.program.fallback is None
    (outer,) = _scans(f)
    assert not any(isinstance(n.op, Scan) for n in outer.op.inner.toposort())
    _agree(f, g, np.random.default_rng(3).standard_normal((5, 3)), np.ones(3), rtol=1e-12)


# -- power in fused kernels --------------------------------------------------------------------


@pytest.mark.parametrize(
    "base, exponent",
    [("float64", "int64"), ("float64", "float64"), ("float32", "int8"), ("float32", "float32"),
     ("int32", "float64"), ("int64", "float32")],
)  # fmt: skip
def test_power_is_fused_and_matches_numpy(base, exponent):
    x = TensorType(base, shape=())("x")
    p = TensorType(exponent, shape=(None,))("p")
    out = x**p * 1.0
    f = _cpu([x, p], out)
    assert any(isinstance(n.op, FusedElemwise) for n in f.maker.fgraph.toposort())
    bases = [0.999, 2.0, -1.5, 0.0, -0.0, 1.0, 37.0] if base[0] == "f" else [3, -2, 0, 1]
    powers = np.arange(-40, 41).astype(exponent)
    if exponent[0] == "f":
        powers = np.concatenate([powers, [0.5, -0.5, np.inf, -np.inf, np.nan]]).astype(exponent)
    for b in bases:
        with np.errstate(all="ignore"):
            want = np.asarray(np.asarray(b, base) ** powers * 1.0)
        for _ in range(2):
            got = f(np.asarray(b, base), powers)
            assert got.dtype == want.dtype
            with np.errstate(all="ignore"):
                close = np.abs(got - want) <= 2 * np.spacing(np.abs(want))
            same = (got == want) | (np.isnan(got) & np.isnan(want))
            assert np.all(close | same), (b, powers[~(close | same)], got[~(close | same)])


def test_an_int64_exponent_converts_to_float64_as_numpy_converts_it():
    """2**53 + 1 rounds to 2**53 (even) in NumPy's float64 loop and in the kernel alike."""
    x, p = T.dscalar("x"), T.lvector("p")
    f = _cpu([x, p], x**p + 0.0)
    powers = np.array([2**53 + 1, 2**53, 2**62 + 1, -(2**53) - 1, 3], np.int64)
    for _ in range(2):
        np.testing.assert_array_equal(f(-1.0, powers), (-1.0) ** powers + 0.0)
