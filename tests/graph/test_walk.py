"""Graph utilities: ancestors, inputs, topological order, cloning, FunctionGraph."""

import numpy as np

import astsym as theano
import astsym.tensor as T
from astsym.graph.fg import FunctionGraph
from astsym.graph.walk import ancestors, clone_replace, graph_inputs, toposort


def _names(nodes):
    return [n.op.name for n in nodes]


def test_toposort_puts_each_node_after_its_inputs():
    x, y = T.dvectors("x", "y")
    a = T.exp(x)
    b = a * y
    c = b + a
    order = toposort([c])
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for inp in node.inputs:
            if inp.owner is not None:
                assert position[id(inp.owner)] < position[id(node)]
    assert len(order) == 3


def test_toposort_handles_deep_graphs_without_recursion():
    x = T.dscalar("x")
    y = x
    for _ in range(5000):
        y = y + 1
    assert len(toposort([y])) == 5000


def test_ancestors_and_inputs_stop_at_blockers():
    x, y = T.dscalars("x", "y")
    a = x * 2
    out = a + y
    roots = graph_inputs([out])
    assert {v.name for v in roots if v.name} == {"x", "y"}
    assert [float(v.data) for v in roots if isinstance(v, T.TensorConstant)] == [2.0]
    assert set(map(id, graph_inputs([out], blockers=[a]))) >= {id(a), id(y)}
    assert x not in ancestors([out], blockers=[a])


def test_clone_replace_substitutes_and_keeps_the_original():
    x, y = T.dscalars("x", "y")
    out = T.exp(x) * 2
    (new,) = clone_replace([out], {x: y})
    assert np.isclose(theano.function([y], new)(0.5), np.exp(0.5) * 2, rtol=1e-15)
    assert np.isclose(theano.function([x], out)(1.0), np.exp(1.0) * 2, rtol=1e-15)
    assert y in ancestors([new]) and x not in ancestors([new])


def test_clone_replace_propagates_a_more_specific_type():
    x = T.dmatrix("x")
    r = T.TensorType("float64", shape=(1, 3))("r")
    (new,) = clone_replace([x + 1], {x: r})
    assert new.type.shape == (1, 3)


def test_function_graph_is_a_copy_that_rewrites_can_change():
    x = T.dvector("x")
    out = T.exp(x) * 2
    fg = FunctionGraph([x], [out])
    assert _names(fg.toposort()) == ["exp", "multiply"]
    assert fg.outputs[0] is not out and fg.inputs[0] is not x
    new = T.log(fg.inputs[0])
    fg.replace(fg.toposort()[0].outputs[0], new)
    assert _names(fg.toposort()) == ["log", "multiply"]
    assert _names(toposort([out])) == ["exp", "multiply"]  # the user's graph is untouched


def test_function_graph_keeps_shared_variables():
    w = theano.shared(np.ones(2), name="w")
    x = T.dvector("x")
    fg = FunctionGraph([x], [x * w])
    assert any(v is w for v in fg.free_inputs())
