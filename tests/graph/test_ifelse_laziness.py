"""ifelse stays lazy through every mode and every rewrite: the branch not taken is never
computed, even when it would fail or is expensive, inside a scan step too; ``switch``
computes both. Gradients of ifelse flow into the taken branch only.

An expensive computation is stood in for by ``_Counted``, an op defined here that doubles
its input and counts how often it runs.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import numeric_grad

import astsym as theano
import astsym.tensor as T
from astsym import Mode
from astsym.gradient import verify_grad
from astsym.graph.basic import Apply
from astsym.graph.convert import as_tensor_variable
from astsym.graph.evaluate import Program
from astsym.graph.fg import FunctionGraph
from astsym.graph.op import Op
from astsym.graph.ops.ifelse import IfElse
from astsym.graph.rewrite import GROUPS, RewriteLog, merge, rewrite
from astsym.graph.type import TensorType
from astsym.ifelse import ifelse
from astsym.typecheck import GraphRuntimeError


class _Counted(Op):
    """``x * 2``, counting its runs (the leading underscore keeps it out of the op
    registry that other tests walk)."""

    def __init__(self) -> None:
        self.runs = 0

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType(x.dtype, shape=x.type.shape)])

    def perform(self, node, inputs):
        self.runs += 1
        return [np.asarray(inputs[0] * 2, dtype=node.outputs[0].dtype)]

    def grad(self, node, output_grads):
        return [output_grads[0] * 2]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


MODES = ["py", "FAST_COMPILE", "FAST_RUN", Mode(optimizer=None), Mode(optimizer="merge")]
MODE_IDS = ["py", "FAST_COMPILE", "FAST_RUN", "optimizer=None", "optimizer=merge"]


def seven():
    """7 as a graph of constants: only constant folding knows it before running."""
    return T.constant(3) + T.constant(4)


def failing_branches(x):
    """Scalars that fail when computed: each reads ``x`` or only constants."""
    return {
        "reshape": T.reshape(x, (x.shape[0] + 1,)).sum(),
        "index": x[x.shape[0] + 2],
        "constant-reshape": T.reshape(T.constant(np.ones(6)), (seven(),)).sum(),
        "constant-index": T.constant(np.arange(3.0))[seven()],
    }


def test_the_counting_op_counts():
    heavy = _Counted()
    x = T.dvector("x")
    f = theano.function([x], heavy(x).sum(), mode="py")
    assert f(np.ones(3)) == 6.0
    assert heavy.runs == 1


# -- modes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("expensive_in", ["then", "else"])
def test_untaken_expensive_branch_never_runs(mode, expensive_in):
    heavy = _Counted()
    a, x = T.dscalar("a"), T.dvector("x")
    cheap, expensive = x.sum(), heavy(x).sum() + 1.0
    if expensive_in == "then":
        out, cheap_sign = ifelse(a > 0, expensive, cheap), -1.0
    else:
        out, cheap_sign = ifelse(a > 0, cheap, expensive), 1.0
    f = theano.function([a, x], out, mode=mode)
    for _ in range(3):
        assert f(cheap_sign, np.arange(4.0)) == 6.0
    assert heavy.runs == 0, "the branch not taken ran"
    assert f(-cheap_sign, np.arange(4.0)) == 13.0
    assert heavy.runs == 1, "the taken branch ran once"


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("failure", list(failing_branches(T.dvector())))
def test_untaken_failing_branch_never_runs(mode, failure):
    a, x = T.dscalar("a"), T.dvector("x")
    bad = failing_branches(x)[failure]
    f = theano.function([a, x], ifelse(a > 0, x.sum(), bad), mode=mode)
    g = theano.function([a, x], ifelse(a > 0, bad, x.sum() * 2), mode=mode)
    assert f(1.0, np.arange(3.0)) == 3.0
    assert g(-1.0, np.arange(3.0)) == 6.0
    with pytest.raises(GraphRuntimeError):  # and the branch does fail when it is taken
        f(-1.0, np.arange(3.0))
    with pytest.raises(GraphRuntimeError):
        g(1.0, np.arange(3.0))


# -- rule sets applied to a FunctionGraph -------------------------------------------------------


def _fast_run(fg):
    merge(fg)
    rewrite(fg, GROUPS["stabilize"] + GROUPS["canonicalize"])
    rewrite(fg, GROUPS["fold"] + GROUPS["canonicalize"])
    return merge(fg)


def _rules(*names):
    def apply(fg, log):
        rules = GROUPS[names[0]]
        for name in names[1:]:
            rules = rules + GROUPS[name]
        return rewrite(fg, rules, log)

    return apply


PASSES = {
    "canonicalize": _rules("canonicalize"),
    "stabilize": _rules("stabilize"),
    "fold": _rules("fold"),
    "canonicalize+stabilize": _rules("canonicalize", "stabilize"),
    "canonicalize+fold": _rules("canonicalize", "fold"),
    "stabilize+fold": _rules("stabilize", "fold"),
    "canonicalize+stabilize+fold": _rules("canonicalize", "stabilize", "fold"),
    "merge": lambda fg, log: merge(fg),
    "fast_run-pipeline": lambda fg, log: _fast_run(fg),
}


def _lazy_graph(heavy):
    """ifelse(a * 1 > 0, cheap, bad): both branches and the condition hold something for
    every rule set (identities, a double negation, log(1 + e), 1 / (1 + exp(e)), exp(e) - 1,
    constants to fold, duplicated nodes to merge); the else branch is expensive and fails."""
    a, x = T.dscalar("a"), T.dvector("x")
    cheap = T.log(1 + T.exp(x * 1 + 0)).sum() + (T.exp(x) - 1).sum() * T.constant(2.0) ** 1
    bad = (
        heavy(T.neg(-x)).sum()
        + heavy(T.neg(-x)).sum()
        + (1 / (1 + T.exp(-x))).sum()
        + T.log(1 + heavy(x)).sum()
        + failing_branches(x)["reshape"]
        + failing_branches(x)["constant-reshape"]
    )
    return [a, x], ifelse(a * 1 > 0, cheap, bad)


def _run(fg, values):
    program = Program(fg)
    storage = program.new_storage()
    for var, value in zip(fg.inputs, values):
        storage[program.slot(var)] = value
    program.run(storage)
    return [storage[s] for s in program.output_slots]


@pytest.mark.parametrize("name", list(PASSES))
def test_untaken_branch_stays_lazy_after_each_rule_set(name):
    heavy = _Counted()
    inputs, out = _lazy_graph(heavy)
    fg = FunctionGraph(inputs, [out])
    before = len(fg.toposort())
    log = RewriteLog()
    PASSES[name](fg, log)
    assert log.entries or len(fg.toposort()) < before, f"{name} changed nothing: a weak test"
    assert any(isinstance(n.op, IfElse) for n in fg.toposort()), "the ifelse was rewritten away"

    x = np.array([-1.0, 0.5, 2.0])
    (value,) = _run(fg, [np.float64(1.0), x])
    want = np.log1p(np.exp(x)).sum() + 2 * np.expm1(x).sum()
    np.testing.assert_allclose(value, want, rtol=1e-12)
    assert heavy.runs == 0, f"after {name}, the branch not taken ran"
    with pytest.raises(GraphRuntimeError):  # the else branch is still there, and fails
        _run(fg, [np.float64(-1.0), x])


# -- scan, nesting, switch ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_ifelse_in_a_scan_step_is_lazy_per_step(mode):
    heavy = _Counted()
    v = T.dvector("v")
    h0 = T.dscalar("h0")
    out, _ = theano.scan(
        lambda v_t, h: ifelse(v_t > 0, h + v_t, heavy(h) - v_t),
        sequences=v,
        outputs_info=h0,
    )
    f = theano.function([v, h0], out, mode=mode)
    values = np.array([1.0, -1.0, 2.0, -3.0, -4.0, 5.0])
    h, want = 0.5, []
    for v_t in values:
        h = h + v_t if v_t > 0 else 2 * h - v_t
        want.append(h)
    np.testing.assert_allclose(f(values, 0.5), want)
    assert heavy.runs == 3, "the expensive branch ran in exactly the 3 steps that took it"
    f(np.abs(values), 0.5)
    assert heavy.runs == 3


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_failing_branch_in_a_scan_step_never_runs(mode):
    x = T.dmatrix("x")
    out, _ = theano.scan(
        lambda row: ifelse(row.sum() > 0, row * 2, T.reshape(row, (row.shape[0] + 1,))),
        sequences=x,
    )
    f = theano.function([x], out, mode=mode)
    np.testing.assert_allclose(f(np.ones((3, 2))), np.full((3, 2), 2.0))
    with pytest.raises(GraphRuntimeError):
        f(np.array([[1.0, 1.0], [-1.0, -1.0]]))


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_nested_ifelse_computes_exactly_one_leaf(mode):
    leaves = [_Counted() for _ in range(4)]
    a, b, x = T.dscalar("a"), T.dscalar("b"), T.dvector("x")
    terms = [op(x + k).sum() for k, op in enumerate(leaves)]
    out = ifelse(a > 0, ifelse(b > 0, terms[0], terms[1]), ifelse(b > 0, terms[2], terms[3]))
    f = theano.function([a, b, x], out, mode=mode)
    xv = np.array([1.0, 2.0])
    for leaf, (av, bv) in enumerate([(1, 1), (1, -1), (-1, 1), (-1, -1)]):
        before = [op.runs for op in leaves]
        assert f(av, bv, xv) == 2 * (xv + leaf).sum()
        ran = [op.runs - n for op, n in zip(leaves, before)]
        assert ran == [int(i == leaf) for i in range(4)], f"a={av}, b={bv}: runs {ran}"


@pytest.mark.parametrize("mode", ["py", "FAST_RUN"])
def test_switch_computes_both_branches(mode):
    then_op, else_op = _Counted(), _Counted()
    c, x = T.bvector("c"), T.dvector("x")
    f = theano.function([c, x], T.switch(c, then_op(x), else_op(x + 1)), mode=mode)
    np.testing.assert_allclose(f(np.array([1, 1], np.int8), np.ones(2)), [2.0, 2.0])
    assert (then_op.runs, else_op.runs) == (1, 1)


# -- gradients ----------------------------------------------------------------------------------


def test_gradient_flows_into_the_taken_branch_only_with_branches_of_different_shapes():
    c = T.iscalar("c")
    u, w = T.dvector("u"), T.dvector("w")
    out = ifelse(c, T.tanh(u) * 3, w**2)
    gu, gw = theano.grad(out.sum(), [u, w])
    f = theano.function([c, u, w], [gu, gw])
    uv, wv = np.array([0.1, -0.2, 0.3]), np.array([1.0, 2.0, -1.0, 0.5, 4.0])
    got_u, got_w = f(1, uv, wv)
    np.testing.assert_allclose(got_u, 3 * (1 - np.tanh(uv) ** 2))
    np.testing.assert_array_equal(got_w, np.zeros(5))
    got_u, got_w = f(0, uv, wv)
    np.testing.assert_array_equal(got_u, np.zeros(3))
    np.testing.assert_allclose(got_w, 2 * wv)


def test_gradient_of_a_several_output_ifelse():
    c = T.iscalar("c")
    p, q = T.dvectors("p", "q")
    first, second = ifelse(c, [p * 2, p**3], [q, q * q])
    cost = first.sum() + 10 * second.sum()
    f = theano.function([c, p, q], theano.grad(cost, [p, q]))
    pv, qv = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    gp, gq = f(1, pv, qv)
    np.testing.assert_allclose(gp, 2 + 30 * pv**2)
    np.testing.assert_array_equal(gq, [0.0, 0.0])
    gp, gq = f(0, pv, qv)
    np.testing.assert_array_equal(gp, [0.0, 0.0])
    np.testing.assert_allclose(gq, 1 + 20 * qv)


def test_gradient_does_not_run_the_untaken_branch_when_its_shape_is_known():
    """FAST_RUN computes the shapes the zero gradient of the untaken branch needs from the
    shape rules, so the expensive branch still never runs."""
    heavy = _Counted()
    a, x = T.dscalar("a"), T.dvector("x")
    out = ifelse(a > 0, (x**2).sum(), heavy(x).sum())
    f = theano.function([a, x], theano.grad(out, x), mode="FAST_RUN")
    np.testing.assert_allclose(f(1.0, np.array([1.0, 3.0])), [2.0, 6.0])
    assert heavy.runs == 0
    np.testing.assert_allclose(f(-1.0, np.array([1.0, 3.0])), [2.0, 2.0])
    assert heavy.runs == 0, "the gradient of heavy(x).sum() needs only its shape"


def _np_scan_with_ifelse(x, h0, w):
    h, total = h0, 0.0
    for x_t in x:
        h = np.tanh(h * w + x_t) if x_t.sum() > 0 else h * x_t - w
        total += float(np.sum(h * np.arange(1.0, len(h) + 1)))
    return total


def _scan_with_ifelse(x, h0, w):
    out, _ = theano.scan(
        lambda x_t, h, w: ifelse(x_t.sum() > 0, T.tanh(h * w + x_t), h * x_t - w),
        sequences=x,
        outputs_info=h0,
        non_sequences=w,
    )
    return out


def test_gradient_through_a_scan_containing_an_ifelse():
    x = np.array([[0.5, 0.3], [-0.4, -0.2], [0.9, -0.1], [-0.6, 0.1], [0.2, 0.2]])
    h0, w = np.array([0.3, -0.7]), np.array([1.2, 0.4])
    assert [x_t.sum() > 0 for x_t in x] == [True, False, True, False, True]
    verify_grad(_scan_with_ifelse, [x, h0, w], rng=np.random.default_rng(0))

    xs, h0s, ws = T.dmatrix("x"), T.dvector("h0"), T.dvector("w")
    cost = (_scan_with_ifelse(xs, h0s, ws) * T.constant(np.arange(1.0, 3.0))).sum()
    got = theano.function([xs, h0s, ws], theano.grad(cost, [xs, h0s, ws]))(x, h0, w)
    expected = numeric_grad(_np_scan_with_ifelse, [x, h0, w], [0, 1, 2], 1e-6)
    for name, g, e in zip(["x", "h0", "w"], got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-7, atol=1e-8, err_msg=f"d cost / d {name}")
