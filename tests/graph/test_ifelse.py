"""Lazy ifelse: only the chosen branch runs; types of the branches; gradients."""

import numpy as np
import pytest

import astsym as theano
import astsym.tensor as T
from astsym.ifelse import ifelse
from astsym.typecheck import GraphRuntimeError, GraphTypeError


def test_chooses_branch_by_condition():
    a, b = T.dscalars("a", "b")
    f = theano.function([a, b], ifelse(T.lt(a, b), a * 2, b * 3))
    assert f(1.0, 2.0) == 2.0
    assert f(3.0, 2.0) == 6.0


def test_untaken_branch_never_runs():
    """The else branch reshapes to an impossible size: it fails only if it runs."""
    a = T.dscalar("a")
    x = T.dmatrix("x")
    out = ifelse(a > 0, x.sum(), T.reshape(x, (7,)).sum())
    f = theano.function([a, x], out)
    assert f(1.0, np.ones((3, 4))) == 12.0
    with pytest.raises(GraphRuntimeError) as info:
        f(-1.0, np.ones((3, 4)))
    assert info.value.diagnostic.code == "AS205"
    assert info.value.diagnostic.span.file == __file__


def test_untaken_branch_stays_lazy_after_rewrites():
    """Shared subexpressions and constant folding do not make the branch eager."""
    a = T.dscalar("a")
    x = T.dvector("x")
    expensive = T.reshape(x, (5, -1)).sum()
    out = ifelse(a > 0, x.sum() + (2 * 3), expensive)
    for mode in ("FAST_RUN", "FAST_COMPILE", "py"):
        f = theano.function([a, x], out, mode=mode)
        assert f(1.0, np.ones(3)) == 9.0


def test_several_outputs_and_dtype_promotion():
    c = T.iscalar("c")
    x = T.fvector("x")
    y = T.dvector("y")
    out1, out2 = ifelse(c, [x, x * 2], [y, y * 3])
    assert out1.dtype == "float64"
    f = theano.function([c, x, y], [out1, out2])
    r1, r2 = f(0, np.ones(2, np.float32), np.full(2, 5.0))
    np.testing.assert_allclose(r1, [5, 5])
    np.testing.assert_allclose(r2, [15, 15])


def test_branch_rank_mismatch_is_a_located_error():
    c = T.iscalar("c")
    with pytest.raises(GraphTypeError) as info:
        ifelse(c, T.dvector("v"), T.dmatrix("m"))
    assert info.value.diagnostic.code == "AS207"
    assert info.value.diagnostic.span.file == __file__


def test_condition_must_be_scalar():
    with pytest.raises(GraphTypeError) as info:
        ifelse(T.dvector("v"), 1.0, 2.0)
    assert "switch" in str(info.value)


def test_gradient_flows_into_taken_branch_only():
    a, b = T.dscalars("a", "b")
    ga, gb = theano.grad(ifelse(T.lt(a, b), a * a, b * 3), [a, b])
    f = theano.function([a, b], [ga, gb])
    assert [float(v) for v in f(1.0, 2.0)] == [2.0, 0.0]
    assert [float(v) for v in f(3.0, 2.0)] == [0.0, 3.0]


def test_switch_evaluates_both_and_matches_numpy():
    c = T.bvector("c")
    x, y = T.dvectors("x", "y")
    f = theano.function([c, x, y], T.switch(c, x, y))
    cv = np.array([1, 0, 1], np.int8)
    np.testing.assert_array_equal(f(cv, [1, 2, 3], [4, 5, 6]), np.where(cv, [1, 2, 3], [4, 5, 6]))
