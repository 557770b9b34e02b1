"""``ifelse`` compiled as a real ``if`` inside the whole-graph function of the ``cpu``
backend (``kernels/numba_ifelse.py``): results equal the ``py`` backend's, and the compiled
function is as lazy as the py evaluator (a failing untaken branch does not make the call
fall back op by op).

Every test here compiles on the first call (``config.compile_after = 1``) and counts how
often a cpu program ran op by op (``op_by_op``): zero means the compiled graph gave every
result itself.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import astsym
import astsym.tensor as T
from astsym.config import config
from astsym.graph.evaluate import Program
from astsym.graph.fg import FunctionGraph
from astsym.graph.type import TensorType
from astsym.ifelse import ifelse
from astsym.kernels.numba_ifelse import schedule
from astsym.runtime.linker_cpu import CpuProgram
from astsym.typecheck import GraphRuntimeError


@pytest.fixture
def op_by_op(monkeypatch):
    """Compile on the first call; a list that grows each time a cpu program runs op by op."""
    monkeypatch.setattr(config, "compile_after", 1)
    runs, original = [], Program.run

    def counted(self, storage):
        if isinstance(self, CpuProgram):
            runs.append(self)
        return original(self, storage)

    monkeypatch.setattr(Program, "run", counted)
    return runs


def _pair(inputs, outputs, **kwargs):
    """The cpu function (checked to be compiled whole) and the py one."""
    f = astsym.function(inputs, outputs, mode="cpu", **kwargs)
    assert f.program.fallback is None, f.program.fallback
    assert "if " in f.program.rendered.source, "the ifelse is not an if in the compiled graph"
    return f, astsym.function(inputs, outputs, mode="py", **kwargs)


def _same(got, want):
    got, want = (got, want) if isinstance(got, list) else ([got], [want])
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def _agree(f, g, *values):
    got = f(*values)
    assert f.program.compiled is not None, "the graph was not compiled whole"
    _same(got, g(*values))
    return got


# -- values ------------------------------------------------------------------------------


def test_both_branches_of_scalars_and_arrays_across_calls(op_by_op):
    c = T.dscalar("c")
    x, y = T.dmatrices("x", "y")
    outs = [ifelse(c > 0, x.mean(), y.sum() * 2), ifelse(c, T.tanh(x) + 1, y.T * y)]
    f, g = _pair([c, x, y], outs)
    rng = np.random.default_rng(0)
    xv, yv = rng.standard_normal((2, 3, 3))
    for cv in [1.0, -1.0, 0.0, 2.0, np.nan, -3.0]:
        _agree(f, g, cv, xv, yv)
    assert op_by_op == []


def test_several_outputs_with_dtype_promotion_and_mixed_ranks(op_by_op):
    c = T.iscalar("c")
    x, y = T.fvector("x"), T.dvector("y")
    n = T.lscalar("n")
    then = [x, x * 2, n, x.sum(), x > 0, x.sum() > 0]
    other = [y, y * 3, n * 10, y.mean(), y < 6, y.sum() < 0]
    outs = ifelse(c, then, other)
    assert [o.dtype for o in outs] == ["float64", "float64", "int64", "float64", "bool", "bool"]
    f, g = _pair([c, x, y, n], outs)
    xv, yv = np.float32([1.5, -2.0]), np.array([5.0, 6.0, 7.0])
    for cv in [0, 1, -4, 0]:
        _agree(f, g, np.int32(cv), xv, yv, np.int64(3))
    assert op_by_op == []


def test_branches_of_different_static_shapes(op_by_op):
    c = T.bscalar("c")
    a = TensorType("float64", shape=(2, 3))("a")
    b = TensorType("float64", shape=(4, 3))("b")
    out = ifelse(c, a * 2, b + 1)
    assert out.type.shape == (None, 3)
    f, g = _pair([c, a, b], [out, out.sum(axis=0)])
    av, bv = np.ones((2, 3)), np.arange(12.0).reshape(4, 3)
    assert _agree(f, g, np.int8(1), av, bv)[0].shape == (2, 3)
    assert _agree(f, g, np.int8(0), av, bv)[0].shape == (4, 3)
    assert op_by_op == []


def test_a_branch_of_an_input_a_view_or_a_constant_is_never_an_alias(op_by_op):
    """The py backend copies the chosen value; compiled, the caller copies what would share
    memory with an argument, so changing a result never changes an input."""
    c, x = T.dscalar("c"), T.dvector("x")
    outs = [ifelse(c > 0, x, x[::-1]), ifelse(c > 0, T.constant(np.arange(3.0)), x), x]
    f, g = _pair([c, x], outs)
    xv = np.array([1.0, 2.0, 3.0])
    for cv in [1.0, -1.0, 1.0]:
        got = _agree(f, g, cv, xv)
        for value in got:
            value[...] = -7.0  # writable, owned by the caller
        np.testing.assert_array_equal(xv, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(f(1.0, xv)[1], [0.0, 1.0, 2.0])  # the constant is intact
    assert op_by_op == []


def test_nested_ifelse_reaches_each_leaf(op_by_op):
    a, b, x = T.dscalar("a"), T.dscalar("b"), T.dvector("x")
    leaves = [T.exp(x + k).sum() for k in range(4)]
    out = ifelse(a > 0, ifelse(b > 0, leaves[0], leaves[1]), ifelse(b > 0, leaves[2], leaves[3]))
    f, g = _pair([a, b, x], out)
    assert "    if " in f.program.rendered.source, "the inner ifelse is not nested"
    for av, bv in [(1, 1), (1, -1), (-1, 1), (-1, -1)]:
        _agree(f, g, float(av), float(bv), np.array([0.5, -1.0]))
    assert op_by_op == []


def test_a_node_shared_by_both_branches_and_the_outside_is_computed_before_the_if():
    c, x = T.dscalar("c"), T.dvector("x")
    shared_node = T.tanh(x)
    then_only, else_only = T.exp(shared_node), T.log(shared_node)
    out = ifelse(c > 0, then_only.sum(), (else_only + shared_node).sum())
    fg = FunctionGraph([c, x], [out, shared_node * 3], clone=False)
    main, branches = schedule(fg)
    (node,) = [n for n in main if n.op.name == "ifelse"]
    then, other = ({id(n) for n in nodes} for nodes in branches[id(node)])
    main = {id(n) for n in main}
    assert id(shared_node.owner) in main and id(shared_node.owner) not in then | other
    assert id(then_only.owner) in then and id(else_only.owner) in other
    assert not {id(then_only.owner), id(else_only.owner)} & main


def test_a_shared_node_gives_py_results(op_by_op):
    c, x = T.dscalar("c"), T.dvector("x")
    h = T.tanh(x)
    outs = [ifelse(c > 0, T.exp(h).sum(), (T.log(h + 2) + h).sum()), h * 3]
    f, g = _pair([c, x], outs)
    for cv in [1.0, -1.0]:
        _agree(f, g, cv, np.array([0.1, 0.7, -0.3]))
    assert op_by_op == []


def _scan_with_an_ifelse():
    """(x, h0, w, hs): a recurrence whose step picks one of two expressions by ifelse."""
    x, h0, w = T.dmatrix("x"), T.dvector("h0"), T.dvector("w")
    hs, _ = astsym.scan(
        lambda x_t, h, w: ifelse(x_t.sum() > 0, T.tanh(h * w + x_t), h * x_t - w),
        sequences=x,
        outputs_info=h0,
        non_sequences=w,
    )
    return x, h0, w, hs


def test_an_ifelse_in_a_scan_step(op_by_op):
    x, h0, w, hs = _scan_with_an_ifelse()
    f, g = _pair([x, h0, w], hs)
    xv = np.array([[0.5, 0.3], [-0.4, -0.2], [0.9, -0.1], [-0.6, 0.1], [0.2, 0.2]])
    _agree(f, g, xv, np.array([0.3, -0.7]), np.array([1.2, 0.4]))
    _agree(f, g, -xv, np.array([0.3, -0.7]), np.array([1.2, 0.4]))
    assert op_by_op == []


# -- laziness and errors -----------------------------------------------------------------


def _failing(x):
    """Scalars that fail when computed: an index out of range, an impossible reshape."""
    return {"index": x[x.shape[0] + 2], "reshape": T.reshape(x, (x.shape[0] + 1,)).sum()}


@pytest.mark.parametrize("failure", ["index", "reshape"])
def test_an_untaken_failing_branch_does_not_run_and_a_taken_one_is_located(op_by_op, failure):
    a, x = T.dscalar("a"), T.dvector("x")
    bad = _failing(x)[failure]
    f, g = _pair([a, x], ifelse(a > 0, x.sum(), bad))
    xv = np.arange(3.0)
    for _ in range(3):
        _agree(f, g, 1.0, xv)
    assert op_by_op == [], "the compiled graph refused a call whose failing branch is untaken"
    with pytest.raises(GraphRuntimeError) as err:  # taken: the caller reruns op by op
        f(-1.0, xv)
    assert err.value.diagnostic.span.file == __file__
    assert len(op_by_op) == 1


def test_a_failing_node_two_ifelse_branches_share_still_gives_py_results(op_by_op):
    """A node that branches of two different ifelse nodes need is written before both
    (``numba_ifelse``'s stated limit): when neither takes it, its error makes the call rerun
    op by op, which is lazy, so the results are still py's."""
    c, x = T.dscalar("c"), T.dvector("x")
    bad = _failing(x)["index"]
    outs = [ifelse(c > 0, bad, x.sum()), ifelse(c < -5, bad * 2, x.sum() * 3)]
    f, g = _pair([c, x], outs)
    _agree(f, g, -1.0, np.arange(3.0))
    assert len(op_by_op) <= 1


def test_an_untaken_failing_branch_in_a_scan_step_does_not_run(op_by_op):
    x = T.dmatrix("x")
    out, _ = astsym.scan(
        lambda row: ifelse(row.sum() > 0, row * 2, T.reshape(row, (row.shape[0] + 1,))),
        sequences=x,
    )
    f, g = _pair([x], out)
    _agree(f, g, np.ones((3, 2)))
    assert op_by_op == []
    with pytest.raises(GraphRuntimeError):
        f(np.array([[1.0, 1.0], [-1.0, -1.0]]))


# -- gradients ---------------------------------------------------------------------------


def test_gradients_through_ifelse_equal_py(op_by_op):
    c = T.iscalar("c")
    u, w = T.dvectors("u", "w")
    first, second = ifelse(c, [T.tanh(u) * 3, u**2], [w**2, T.exp(w)])
    cost = first.sum() + 10 * second.sum()
    f, g = _pair([c, u, w], astsym.grad(cost, [u, w]))
    uv, wv = np.array([0.1, -0.2, 0.3]), np.array([1.0, 2.0, -1.0, 0.5, 4.0])
    for cv in [1, 0, 5, 0]:
        _agree(f, g, np.int32(cv), uv, wv)
    assert op_by_op == []


def test_gradient_through_a_scan_containing_an_ifelse_equals_py(op_by_op):
    x, h0, w, hs = _scan_with_an_ifelse()
    cost = (hs * T.constant(np.arange(1.0, 3.0))).sum()
    f = astsym.function([x, h0, w], astsym.grad(cost, [x, h0, w]), mode="cpu")
    g = astsym.function([x, h0, w], astsym.grad(cost, [x, h0, w]), mode="py")
    if f.program.fallback is not None:
        pytest.skip(f"the gradient scan has no compiled form: {f.program.fallback}")
    xv = np.array([[0.5, 0.3], [-0.4, -0.2], [0.9, -0.1], [-0.6, 0.1], [0.2, 0.2]])
    _agree(f, g, xv, np.array([0.3, -0.7]), np.array([1.2, 0.4]))
    assert op_by_op == []


# -- random conditions and values --------------------------------------------------------


def _random_graph():
    c1, c2 = T.dscalar("c1"), T.iscalar("c2")
    x, y = T.dvectors("x", "y")
    s = (x * y).sum()
    inner = ifelse(c2, [x * s, s], [T.exp(y) - x, (x * x).mean()])
    outs = ifelse(c1 > 0.5, [inner[0] + 1, inner[1] * 2], [y, T.tanh(s) - c1])
    return [c1, c2, x, y], [*outs, s]


_RANDOM = {}


def _functions():
    """The cpu and py functions of ``_random_graph``, built once: hypothesis calls the same
    compiled function (a fixture does not mix with ``@given``)."""
    if not _RANDOM:
        inputs, outs = _random_graph()
        f, g = _RANDOM["pair"] = _pair(inputs, outs)
        values = (0.0, np.int32(0), np.zeros(2), np.zeros(2))
        for _ in range(config.compile_after):
            _same(f(*values), g(*values))
        assert f.program.compiled is not None, "the graph was not compiled whole"
    return _RANDOM["pair"]


finite = st.floats(-3, 3, allow_nan=False)


@settings(deadline=None, max_examples=60)
@given(
    c1=st.one_of(finite, st.sampled_from([0.5, np.nan])),
    c2=st.integers(-2, 2),
    data=st.data(),
)
def test_random_conditions_and_values_equal_py(c1, c2, data):
    n = data.draw(st.integers(1, 5))
    x = data.draw(hnp.arrays(np.float64, n, elements=finite))
    y = data.draw(hnp.arrays(np.float64, n, elements=finite))
    f, g = _functions()
    want = g(c1, np.int32(c2), x, y)
    _same(f(c1, np.int32(c2), x, y), want)
    # the compiled graph itself, called directly, cannot fall back op by op
    direct = f.program.compiled(np.float64(c1), np.int32(c2), x, y, *f.program.rendered.constants)
    _same([np.asarray(v) for v in direct], want)
