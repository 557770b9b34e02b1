"""A ``cpu`` graph with an op that has no compiled form runs as compiled segments with that
op between them (``runtime/segments.py``); results equal the ``py`` backend's, the printed
graph says how each node runs, and errors still name the user's line."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import astsym
import astsym.tensor as T
from astsym.ifelse import ifelse
from astsym.typecheck import GraphRuntimeError


def _compiled_segments(f) -> list:
    return [item for kind, item in f.program.segments or [] if kind == "compiled"]


def test_a_sort_between_two_compiled_segments():
    x = T.dvector("x")
    outputs = [T.sort(T.exp(x) * 2) + 1, T.tanh(x).sum()]
    f = astsym.function([x], outputs, mode="cpu")
    want = astsym.function([x], outputs, mode="py")
    assert f.program.rendered is None and "sort" in f.program.fallback
    assert [kind for kind, _ in f.program.segments] == ["compiled", "op", "compiled"]
    values = np.random.default_rng(0).standard_normal(7)
    for _ in range(3):
        for got, expected in zip(f(values), want(values)):
            np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert all(segment.compiled is not None for segment in _compiled_segments(f))


def test_the_printed_graph_says_how_each_node_runs():
    x = T.dvector("x")
    f = astsym.function([x], T.sort(T.exp(x) * 2) + 1, mode="cpu")
    text = astsym.printing.debugprint(f, file="str")
    assert "sort{axis=0, argsort=False} [id B] ''   1   [op by op]" in text
    assert "[compiled segment 0]" in text and "[compiled segment 1]" in text
    whole = astsym.function([x], T.exp(x) * 2, mode="cpu")
    assert "segment" not in astsym.printing.debugprint(whole, file="str")


@settings(deadline=None, max_examples=15)
@given(n=st.integers(1, 40), k=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_a_gather_in_a_training_step_equals_py(n, k, seed):
    """An embedding lookup (advanced indexing, and its gradient) in a compiled step."""
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((10, k))
    index, target = rng.integers(0, 10, n), rng.standard_normal(n)
    results = {}
    for mode in ("py", "cpu"):
        W = astsym.shared(table.copy(), name="W")
        i, y = T.lvector("i"), T.dvector("y")
        h = T.tanh(W[i]).sum(axis=1)
        cost = T.sqr(h - y).mean()
        f = astsym.function([i, y], cost, updates=[(W, W - 0.1 * astsym.grad(cost, W))], mode=mode)
        costs = [f(index, target) for _ in range(3)]
        results[mode] = (costs, W.get_value(), f)
    for got, want in zip(results["cpu"][:2], results["py"][:2]):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-12)
    assert _compiled_segments(results["cpu"][2])


def test_an_error_in_a_segment_names_the_users_line():
    x, y = T.dvector("x"), T.dvector("y")
    out = T.sort(x) * y
    f = astsym.function([x, y], out, mode="cpu")
    f(np.ones(3), np.ones(3))
    f(np.ones(3), np.ones(3))
    with pytest.raises(GraphRuntimeError, match="test_segments.py"):
        f(np.ones(3), np.ones(4))


def test_a_lazy_graph_that_cannot_compile_whole_stays_lazy_op_by_op():
    c, x = T.dscalar("c"), T.dvector("x")
    out = ifelse(c > 0, T.sort(x) * 2, x[[5]] * 3)  # the else branch fails if it runs
    f = astsym.function([c, x], out, mode="cpu")
    assert f.program.segments is None
    for _ in range(3):
        np.testing.assert_allclose(f(1.0, np.array([3.0, 1.0])), [2.0, 6.0])
