"""Graph printing: debugprint's exact text, pp's infix forms, pydotprint's DOT and images."""

import io
import shutil

import numpy as np
import pytest

import astsym
import astsym.tensor as T
from astsym.graph.fg import FunctionGraph
from astsym.printing import debugprint, pp, pprint, pydotprint


def lines(text):
    return text.splitlines()


# -- debugprint ------------------------------------------------------------------------


def test_debugprint_small_graph_exact():
    x, y = T.dscalars("x", "y")
    assert debugprint(x + T.exp(y), file="str") == (
        "add [id A] ''\n |x [id B]\n |exp [id C] ''\n   |y [id D]\n"
    )


def test_debugprint_shared_node_printed_twice_but_expanded_once():
    x = T.dscalar("x")
    e = T.exp(x)
    z = e * e
    z.name = "z"
    assert lines(debugprint(z, file="str")) == [
        "multiply [id A] 'z'",
        " |exp [id B] ''",
        " | |x [id C]",
        " |exp [id B] ''",
    ]


def test_debugprint_print_type_and_constants():
    x = T.dvector("x")
    assert lines(debugprint(x * 2.0, print_type=True, file="str")) == [
        "multiply [id A] <TensorType(float64, vector)> ''",
        " |x [id B] <TensorType(float64, vector)>",
        " |TensorConstant{2.0} [id C] <TensorType(float64, scalar)>",
    ]


def test_debugprint_compiled_function_shows_optimized_graph_with_order():
    x, y = T.dscalars("x", "y")
    f = astsym.function([x, y], T.exp(x) + y * 2, mode="py")
    text = debugprint(f, file="str")
    assert "add" in text and "exp" in text and "multiply" in text
    first = lines(text)[0]
    assert first.startswith("add [id A] ''   ")
    assert first.split()[-1] == str(len(f.maker.fgraph.toposort()) - 1)
    assert debugprint(f.maker.fgraph, file="str") == text


def test_debugprint_of_a_cpu_function_shows_its_kernels():
    x, y = T.dvectors("x", "y")
    f = astsym.function([x, y], [T.exp(x) + y * 2, (x * y).sum()], mode="cpu")
    text = debugprint(f, file="str")
    assert lines(text)[0].startswith("fused{exp,multiply,add} [id A] ''   ")
    assert "fused{multiply}->sum{axis=(0,)}" in text


def test_debugprint_function_with_updates_and_storage():
    w = astsym.shared(np.ones(2), name="w")
    v = T.dvector("v")
    f = astsym.function([v], (v * w).sum(), updates=[(w, w - 0.5 * v)])
    text = debugprint(f, file="str", print_storage=True)
    assert "subtract" in text and "sum" in text
    assert "w [id" in text and "-> [1., 1.]" in text


def test_debugprint_writes_to_a_file_and_returns_it(capsys):
    x = T.dscalar("x")
    buffer = io.StringIO()
    assert debugprint(-x, file=buffer) is buffer
    assert buffer.getvalue() == "negative [id A] ''\n |x [id B]\n"
    debugprint(-x)
    assert capsys.readouterr().out == buffer.getvalue()


def test_debugprint_options():
    x, y = T.dscalars("x", "y")
    s = x + y
    s.name = "s"
    z = T.exp(s)
    assert lines(debugprint(z, depth=2, file="str")) == ["exp [id A] ''", " |add [id B] 's'"]
    assert lines(debugprint(z, stop_on_name=True, file="str"))[-1] == " |add [id B] 's'"
    assert lines(debugprint(z, ids="int", file="str"))[0] == "exp [id 0] ''"
    assert lines(debugprint(z, ids="", file="str"))[2] == "   |x"
    done = {}
    debugprint(x, done=done, file="str")
    assert lines(debugprint(z, done=done, file="str"))[0] == "exp [id B] ''"
    with pytest.raises(ValueError, match="ids"):
        debugprint(z, ids="bad")


def test_debugprint_accepts_lists_apply_and_names_on_one_line():
    x = T.dscalar("line1\nline2")
    y = T.exp(x)
    text = debugprint([y, y.owner], file="str")
    assert lines(text) == [
        "exp [id A] ''",
        " |line1\\nline2 [id B]",
        "exp [id A] ''",
    ]
    with pytest.raises(TypeError, match="cannot print"):
        debugprint(42)


def test_debugprint_many_ids_and_deep_graphs():
    x = T.dscalar("x")
    z = x
    for _ in range(3000):
        z = z + 1.0
    text = debugprint(z, file="str")
    assert len(lines(text)) == 6001
    assert "[id BA]" in text  # ids go on past Z as Theano's do
    assert pp(z).count("+") == 3000


# -- pp --------------------------------------------------------------------------------


def test_pp_theano_tutorial():
    x, y = T.dscalars("x", "y")
    assert pp(x + y) == "(x + y)"
    assert astsym.pp is pp and pprint is pp


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda x, y, m: T.exp(-x), "exp((-x))"),
        (lambda x, y, m: x * 2.0, "(x * 2.0)"),
        (lambda x, y, m: (x - y) / (x**2), "((x - y) / (x ** 2.0))"),
        (lambda x, y, m: x // y % y, "((x // y) % y)"),
        (lambda x, y, m: (x < y) & (x >= y), "((x < y) & (x >= y))"),
        (lambda x, y, m: m.sum(axis=0), "sum(m, axis=(0,))"),
        (lambda x, y, m: m.max(), "max(m)"),
        (lambda x, y, m: m.sum(axis=1, keepdims=True), "sum(m, axis=(1,), keepdims=True)"),
        (lambda x, y, m: T.argmax(m, axis=1), "argmax(m, axis=1)"),
        (lambda x, y, m: m[1:, 0], "m[1:, 0]"),
        (lambda x, y, m: m[::2, None], "m[::2, None]"),
        (lambda x, y, m: m.T, "m.T"),
        (lambda x, y, m: T.dot(m, m), "(m @ m)"),
        (lambda x, y, m: T.set_subtensor(m[0], x), "set_subtensor(m[0], x)"),
        (lambda x, y, m: T.maximum(x, y), "maximum(x, y)"),
    ],
)
def test_pp_expressions(build, expected):
    x, y = T.dscalars("x", "y")
    m = T.dmatrix("m")
    assert pp(build(x, y, m)) == expected


def test_pp_of_compiled_function_and_list():
    x, y = T.dscalars("x", "y")
    f = astsym.function([x, y], [x * y, x + y])
    assert pp(f) == "(x * y)\n(x + y)"
    assert pp(f.maker.fgraph.outputs[0]) == "(x * y)"
    assert pp([x, y]) == "x\ny"


# -- pydotprint ------------------------------------------------------------------------


def _graph():
    x = T.dmatrix("x")
    w = astsym.shared(np.ones((2, 2)), name="w")
    return x, (T.exp(x) * w + 1.0).sum()


def test_pydotprint_dot_text():
    x, y = _graph()
    text = pydotprint(y, format="dot")
    assert text.startswith("digraph astsym {") and text.rstrip().endswith("}")
    for label in ('"x f64[?, ?]"', '"w f64[?, ?]"', '"exp"', '"1.0 f64[()]"'):
        assert f"label={label}" in text
    assert 'fillcolor="palegreen"' in text and 'fillcolor="orange"' in text
    assert text.count("->") >= 5


def test_pydotprint_dot_to_file(tmp_path, capsys):
    x, y = _graph()
    out = tmp_path / "graph.dot"
    assert pydotprint(y, outfile=out, format="dot") is None
    assert out.read_text() == pydotprint(y, format="dot")
    assert str(out) in capsys.readouterr().out


def test_pydotprint_compiled_function_and_options():
    x, y = _graph()
    f = astsym.function([x], y, mode="py")
    compact = pydotprint(f, format="dot")
    full = pydotprint(f, format="dot", compact=False, with_ids=True, high_contrast=False)
    assert full.count("shape=ellipse") > compact.count("shape=ellipse")
    assert "id=n0" in full and "fillcolor" not in full
    named = pydotprint(f, format="dot", var_with_name_simple=True, colorCodes={"Input": "red"})
    assert 'label="x", shape=ellipse, style=filled, fillcolor="red"' in named


def test_pydotprint_escapes_names():
    x = T.dscalar('say "hi"\\n\nnext\x01')
    text = pydotprint(x * 2, format="dot")
    label = next(line for line in text.splitlines() if "say" in line)
    assert 'label="say \\"hi\\"\\\\n\\\\nnext\\\\x01 f64[()]"' in label
    # Outside quoted strings, no user text: every quote in the line is balanced.
    assert label.replace('\\"', "").count('"') % 2 == 0
    assert "\n" not in label and "\x01" not in text


def test_pydotprint_truncates_long_labels():
    x = T.dscalar("a" * 200)
    text = pydotprint(x + 1, format="dot", max_label_size=20)
    assert '"' + "a" * 17 + '..."' in text


def test_pydotprint_rejects_unknown_format():
    x, y = _graph()
    with pytest.raises(ValueError, match="format"):
        pydotprint(y, format="exe; rm -rf /")


def test_pydotprint_png_without_graphviz_raises(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    x, y = _graph()
    out = tmp_path / "graph.png"
    with pytest.raises(RuntimeError, match="Graphviz") as err:
        pydotprint(y, outfile=out)
    assert "format='dot'" in str(err.value)
    assert not out.exists()
    assert pydotprint(y, format="dot").startswith("digraph")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_pydotprint_renders_with_graphviz(tmp_path, monkeypatch):
    x, y = _graph()
    f = astsym.function([x], y)
    out = tmp_path / "graph.png"
    pydotprint(f, outfile=out, print_output_file=False)
    assert out.read_bytes().startswith(b"\x89PNG")
    svg = pydotprint(T.dscalar('odd "name"\\N') * 2, format="svg", return_image=True)
    assert b"<svg" in svg and b"odd &quot;name&quot;\\N" in svg
    monkeypatch.chdir(tmp_path)
    pydotprint(y, format="pdf", print_output_file=False)
    assert (tmp_path / "astsym_graph.pdf").read_bytes().startswith(b"%PDF")


def test_printing_accepts_a_function_graph():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x) * 2])
    assert pp(fg) == "(exp(x) * 2.0)"
    assert "digraph" in pydotprint(fg, format="dot")
    assert lines(debugprint(fg, file="str"))[0] == "multiply [id A] ''   1"
