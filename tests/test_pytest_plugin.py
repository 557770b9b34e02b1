"""The pytest plugin, run on small projects by ``pytester`` (in process, so a run costs
milliseconds): ``--astsym-check`` items, the ``astsym graph error`` report section, and the
``astsym_backend`` fixture with its ``astsym_backends`` marker.

The plugin is not named here: pytest loads it through the ``pytest11`` entry point, in the
inner runs as in this one (``test_plugin_is_registered_by_entry_point``).
"""

from __future__ import annotations

import re

import libcst
import pytest

import astsym.parse.analyze
from astsym.runtime.mode import BACKENDS, backend_status
from astsym.typecheck import Diagnostic, SourceSpan

pytest_plugins = ["pytester"]

# An in-process run forgets the modules first imported during it, but libcst's native parser
# (used by the analyzer and by @symbolic) loads only once per process: load it before any run.
libcst.parse_module("")

#: A frame (or path) inside astsym's own code, as a traceback would print it.
INTERNAL_FRAME = re.compile(r"astsym[/\\](graph|runtime|parse|typecheck)[/\\]\w+\.py")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", *args)


def expect(result: pytest.RunResult, patterns: list[str], **kwargs) -> None:
    """``fnmatch_lines`` with ``[`` taken literally (as in ``error[AS201]``, ``f32[2, 3]``)."""
    result.stdout.fnmatch_lines([p.replace("[", "[[]") for p in patterns], **kwargs)


def test_plugin_is_registered_by_entry_point(pytester):
    config = pytester.parseconfigure()
    assert config.pluginmanager.has_plugin("astsym")
    assert any(line.startswith("astsym_check:") for line in config.getini("markers"))


# -- --astsym-check -----------------------------------------------------------------------

CLEAN = "def f(x):\n    return x + 1\n"
BROKEN = "def f(x:\n    return x\n"


def test_check_items_only_with_the_flag(pytester):
    pytester.makepyfile(test_one="def test_one():\n    pass\n", helper=CLEAN)
    assert "astsym-check" not in run(pytester, "--collect-only", "-q").stdout.str()
    result = run(pytester, "--astsym-check", "--collect-only", "-q")
    expect(
        result,
        ["helper.py::astsym-check", "test_one.py::astsym-check", "test_one.py::test_one"],
        consecutive=False,
    )


def test_check_fails_on_a_syntax_error_and_passes_a_clean_file(pytester):
    pytester.makepyfile(clean=CLEAN, broken=BROKEN)
    result = run(pytester, "--astsym-check", "-rA")
    result.assert_outcomes(passed=1, failed=1)
    expect(
        result,
        [
            "*_ astsym-check broken.py _*",
            "broken.py:1:*: error[AS100] invalid syntax*",
            "   1 | def f(x:",
            "*^",
            "PASSED clean.py::astsym-check",
        ],
    )
    out = result.stdout.str()
    assert "Traceback" not in out and "CheckFailed" not in out and "pytest_plugin.py" not in out


def test_check_items_are_marked(pytester):
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = run(pytester, "--astsym-check", "-m", "astsym_check", "-v")
    result.assert_outcomes(passed=1, deselected=1)
    expect(result, ["test_one.py::astsym-check PASSED*"])


class Spy:
    """Stands in for ``check_files``: records each call, reports a diagnostic per file."""

    def __init__(self, severity: str) -> None:
        self.severity, self.calls = severity, []

    def __call__(self, files, **settings):
        self.calls.append((dict(files), settings))
        span = lambda path: SourceSpan(path, 1, 1)  # noqa: E731
        return {p: [Diagnostic("AS201", self.severity, "spied", span(p))] for p in files}


def test_all_files_are_analyzed_together_once(pytester, monkeypatch):
    spy = Spy("warning")
    monkeypatch.setattr(astsym.parse.analyze, "check_files", spy)
    pytester.makepyfile(a=CLEAN, b="import a\n", test_c="def test_c():\n    pass\n")
    result = run(pytester, "--astsym-check", "-m", "astsym_check")
    result.assert_outcomes(failed=3, deselected=1)
    expect(result, ["b.py:1:1: warning[AS201] spied"])
    [(files, settings)] = spy.calls
    assert set(files) == {"a.py", "b.py", "test_c.py"} and files["b.py"].strip() == "import a"
    assert settings == {"strict_dims": False, "disabled": frozenset()}


@pytest.mark.parametrize("how", [("--astsym-strict-dims",), ("-o", "astsym_strict_dims=true")])
def test_strict_dims_by_flag_or_ini(pytester, monkeypatch, how):
    spy = Spy("note")  # a note alone does not fail the check
    monkeypatch.setattr(astsym.parse.analyze, "check_files", spy)
    pytester.makepyfile(a=CLEAN)
    run(pytester, "--astsym-check", *how).assert_outcomes(passed=1)
    assert spy.calls[0][1]["strict_dims"] is True


def test_tool_astsym_settings_apply(pytester, monkeypatch):
    spy = Spy("error")
    monkeypatch.setattr(astsym.parse.analyze, "check_files", spy)
    pytester.makepyprojecttoml(
        '[tool.astsym]\nstrict-dims = true\ndisable = ["AS206"]\nexclude = ["fixtures"]\n'
    )
    pytester.makepyfile(a=CLEAN)
    pytester.mkdir("fixtures").joinpath("bad.py").write_text(BROKEN)
    result = run(pytester, "--astsym-check", "--collect-only", "-q")
    assert "a.py::astsym-check" in result.stdout.str() and "bad.py" not in result.stdout.str()
    run(pytester, "--astsym-check").assert_outcomes(failed=1)
    [(files, settings)] = spy.calls
    assert list(files) == ["a.py"]
    assert settings == {"strict_dims": True, "disabled": frozenset({"AS206"})}


def test_bad_tool_astsym_table_is_a_usage_error(pytester):
    pytester.makepyprojecttoml("[tool.astsym]\nstrict-dim = true\n")
    pytester.makepyfile(a=CLEAN)
    result = run(pytester, "--astsym-check")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*[[]tool.astsym] unknown key 'strict-dim'*"])
    run(pytester).assert_outcomes()  # without the flag the table is not read


def test_analyzer_crash_fails_every_item_with_its_traceback(pytester, monkeypatch):
    def crash(files, **settings):
        raise KeyError("analyzer bug")

    monkeypatch.setattr(astsym.parse.analyze, "check_files", crash)
    pytester.makepyfile(a=CLEAN, b=CLEAN)
    result = run(pytester, "--astsym-check")
    result.assert_outcomes(failed=2)
    assert result.stdout.str().count("KeyError: 'analyzer bug'") >= 2


# -- graph errors in reports ----------------------------------------------------------------

TYPE_ERROR = """
import astsym.tensor as T

def test_broadcast():
    a = T.tensor(dtype="float32", shape=(2, 3))
    b = T.tensor(dtype="float32", shape=(4,))
    a * 2 + b
"""

RUNTIME_ERROR = """
import numpy as np
import astsym
import astsym.tensor as T

def test_add():
    x = T.fvector("x")
    y = T.fvector("y")
    f = astsym.function([x, y], x + y)
    f(np.zeros(3, np.float32), np.zeros(4, np.float32))
"""


def test_type_error_gets_the_section_and_a_short_traceback(pytester):
    pytester.makepyfile(test_model=TYPE_ERROR)
    result = run(pytester)
    result.assert_outcomes(failed=1)
    expect(
        result,
        [
            "test_model.py:6: in test_broadcast",
            "    a * 2 + b",
            "E   *GraphTypeError: *test_model.py:6:5: error[AS201] add: cannot broadcast*",
            "*- astsym graph error -*",
            "*test_model.py:6:5: error[AS201] add: cannot broadcast f32[2, 3] with f32[4]*",
            "   6 |     a * 2 + b",
            "           ^^^^^^^^^",
            "  help: *",
            "op: add",
            "operand types: f32[2, 3], f32[4]",
            "graph (depth 3):",
            "multiply [id A] <TensorType(float32, shape=(2, 3))> ''",
            " |<TensorType(float32, shape=(2, 3))> [id B] *",
            " |TensorConstant{2*} [id C] *",
            "<TensorType(float32, shape=(4,))> [id D] *",
        ],
    )
    out = result.stdout.str()
    assert not INTERNAL_FRAME.search(out) and "_pytest" not in out, out


def test_runtime_error_shows_the_failing_node(pytester):
    pytester.makepyfile(test_model=RUNTIME_ERROR)
    result = run(pytester, "-rf")
    result.assert_outcomes(failed=1)
    expect(
        result,
        [
            "test_model.py:9: in test_add",
            "E   *GraphRuntimeError: *test_model.py:8:33: error[AS303] add: *",
            "*- astsym graph error -*",
            "*test_model.py:8:33: error[AS303] add: operands of shapes (3,) and (4,) differ*",
            "  help: operands: f32[?] with shape (3,), f32[?] with shape (4,)",
            "op: add",
            "operand types: f32[?], f32[?]",
            "add [id A] <TensorType(float32, vector)> ''",
            " |x [id B] <TensorType(float32, vector)>",
            " |y [id C] <TensorType(float32, vector)>",
            "FAILED test_model.py::test_add - *GraphRuntime*",
        ],
    )
    assert not INTERNAL_FRAME.search(result.stdout.str())


@pytest.mark.parametrize("how", [("--tb=long",), ("-o", "astsym_full_traceback=true")])
def test_full_traceback_on_request(pytester, how):
    pytester.makepyfile(test_model=RUNTIME_ERROR)
    result = run(pytester, *how)
    result.assert_outcomes(failed=1)
    assert INTERNAL_FRAME.search(result.stdout.str())  # astsym's frames are back
    expect(result, ["*- astsym graph error -*", "op: add"])


def test_error_inside_a_symbolic_function(pytester):
    pytester.makepyfile(
        test_sym="""
        import numpy as np
        from astsym import f32, symbolic

        @symbolic
        def model(x: f32[2, 3], y: f32[4]):
            return x * 2 + y

        def test_model():
            model(np.zeros((2, 3), np.float32), np.zeros(4, np.float32))
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    expect(
        result,
        [
            "test_sym.py:9: in test_model",
            "*- astsym graph error -*",
            "*test_sym.py:6:12: error[AS201] add: cannot broadcast f32[2, 3] with f32[4]*",
            "   6 |     return x * 2 + y",
            "op: add",
        ],
    )
    out = result.stdout.str()
    assert "<astsym converted" not in out and not INTERNAL_FRAME.search(out)


def test_error_raised_from_an_astsym_error(pytester):
    pytester.makepyfile(
        test_wrap="""
        import astsym.tensor as T

        def test_wrapped():
            try:
                a = T.tensor(dtype="float32", shape=(2, 3))
                T.dot(a, T.tensor(dtype="float32", shape=(4, 5)))
            except TypeError as err:
                raise ValueError("model failed") from err
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    expect(
        result,
        [
            "E   ValueError: model failed",
            "*- astsym graph error -*",
            "*test_wrap.py:6:9: error[AS202] matmul: inner dims differ*",
            "op: matmul",
            "operand types: f32[2, 3], f32[4, 5]",
        ],
    )


def test_other_failures_are_left_alone(pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 == 2\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    assert "astsym graph error" not in result.stdout.str()
    expect(result, [">       assert 1 == 2"])


# -- the astsym_backend fixture -------------------------------------------------------------

BACKEND_TEST = """
import numpy as np
import pytest
import astsym
import astsym.tensor as T
from astsym import f64, symbolic

{marker}
def test_double(astsym_backend):
    x = T.dvector("x")
    f = astsym.function([x], x * 2, mode=astsym_backend)

    @symbolic(mode=astsym_backend)
    def g(v: f64["n"]):
        return v * 2

    assert f([1.0]).tolist() == g(np.array([1.0])).tolist() == [2.0]
"""


def expected_outcomes(names) -> dict:
    runs = [backend_status(name) is None for name in names]
    return {"passed": sum(runs), "skipped": len(runs) - sum(runs)}


def test_fixture_runs_once_per_backend(pytester):
    pytester.makepyfile(test_back=BACKEND_TEST.format(marker=""))
    result = run(pytester, "-v", "-rs")
    result.assert_outcomes(**expected_outcomes(BACKENDS))
    expect(result, [f"test_back.py::test_double[{name}] *" for name in BACKENDS])
    for name in BACKENDS:
        if backend_status(name) is not None:
            expect(result, [f"SKIPPED * {name} backend: {backend_status(name)}"])


def test_marker_restricts_the_backends(pytester):
    marker = '@pytest.mark.astsym_backends("py", "gpu")'
    pytester.makepyfile(test_back=BACKEND_TEST.format(marker=marker))
    result = run(pytester, "--collect-only", "-q")
    expect(result, ["test_back.py::test_double[py]", "test_back.py::test_double[gpu]"])
    assert "[cpu]" not in result.stdout.str()
    run(pytester).assert_outcomes(**expected_outcomes(["py", "gpu"]))


def test_unknown_backend_in_the_marker_is_an_error(pytester):
    pytester.makepyfile(test_back=BACKEND_TEST.format(marker='@pytest.mark.astsym_backends("tpu")'))
    result = run(pytester)
    result.assert_outcomes(errors=1)
    expect(
        result,
        ["*astsym_backends on test_back.py::test_double: unknown backend 'tpu'; use 'py', *"],
    )
    assert "Traceback" not in result.stdout.str()


def test_own_parametrization_wins(pytester):
    pytester.makepyfile(
        test_own="""
        import pytest

        @pytest.mark.parametrize("astsym_backend", ["py"], indirect=True)
        def test_one(astsym_backend):
            assert astsym_backend == "py"
        """
    )
    expect(run(pytester, "-v"), ["test_own.py::test_one[py] PASSED*"])
