"""``Mode``: optimizer names, including/excluding rewrite groups, the pipeline they gate,
and the report of which rewrite fired on which user line."""

import inspect
import io

import numpy as np
import pytest

import astsym as theano
import astsym.tensor as T
from astsym.config import Config, config
from astsym.graph.fg import FunctionGraph
from astsym.graph.rewrite import RewriteLog
from astsym.printing import rewrites
from astsym.runtime.mode import GROUP_NAMES, NAMED, Mode, get_mode
from astsym.runtime.optimize import optimize

ALL = set(GROUP_NAMES)


def _ops(f) -> list[str]:
    return [n.op.name for n in f.maker.fgraph.toposort()]


def _here() -> int:
    """The line of the caller (the line that builds the graph under test)."""
    return inspect.currentframe().f_back.f_lineno


# -- Mode -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "optimizer, groups",
    [
        ("fast_run", ALL),
        ("FAST_RUN", ALL),
        ("fast_compile", {"merge", "canonicalize", "stabilize"}),
        ("FAST_COMPILE", {"merge", "canonicalize", "stabilize"}),
        ("merge", {"merge"}),
        (None, set()),
        ("None", set()),
    ],
)
def test_each_optimizer_names_its_groups(optimizer, groups):
    mode = Mode(optimizer=optimizer)
    assert mode.groups == groups
    assert mode.optimizer in ("fast_run", "fast_compile", "merge", None)
    assert mode == Mode(optimizer=str(mode.optimizer))


def test_including_and_excluding_return_new_modes():
    base = Mode(linker="cpu")
    less = base.excluding("fuse", "inplace")
    assert base.groups == ALL, "the original mode changed"
    assert less.groups == ALL - {"fuse", "inplace"}
    assert less.linker == "cpu" and less.optimizer == "fast_run"
    more = Mode(optimizer="fast_compile").including("fuse")
    assert more.groups == {"merge", "canonicalize", "stabilize", "fuse"}


def test_the_later_call_wins_for_a_group():
    assert "fuse" in Mode().excluding("fuse").including("fuse").groups
    assert "fuse" not in Mode().including("fuse").excluding("fuse").groups
    assert Mode().excluding("fold").including("fold") == Mode().including("fold")


def test_modes_with_the_same_groups_are_equal_and_hashable():
    a = Mode("cpu").excluding("fuse", "fold")
    b = Mode("cpu").excluding("fold").excluding("fuse")
    assert a == b and hash(a) == hash(b)
    assert a == Mode(linker="cpu", optimizer="fast_run", exclude=("fuse", "fold"))
    assert a != Mode("cpu")


def test_repr_shows_include_and_exclude_only_when_set():
    plain = Mode(linker="vm", optimizer="fast_run")
    assert repr(plain) == "Mode(linker='py', optimizer='fast_run')"
    assert repr(Mode(optimizer=None)) == "Mode(linker='cpu', optimizer=None)"
    mode = Mode("cpu", "FAST_COMPILE").including("specialize").excluding("stabilize")
    text = (
        "Mode(linker='cpu', optimizer='fast_compile', "
        "include=('specialize',), exclude=('stabilize',))"
    )
    assert repr(mode) == text
    assert eval(text) == mode


@pytest.mark.parametrize("method", ["including", "excluding"])
def test_an_unknown_group_is_refused_naming_it_and_the_known_ones(method):
    with pytest.raises(ValueError, match=rf"{method}: unknown rewrite group 'fusoin'") as err:
        getattr(Mode(), method)("fuse", "fusoin")
    assert "merge, canonicalize, stabilize, shape, specialize, fold, fuse, inplace" in str(
        err.value
    )


def test_unknown_groups_and_contradictions_in_the_constructor():
    with pytest.raises(ValueError, match="include: unknown rewrite group 'speed'"):
        Mode(include=("speed",))
    with pytest.raises(ValueError, match="exclude: unknown rewrite group 'Fuse'"):
        Mode(exclude="Fuse")
    with pytest.raises(ValueError, match="'fold' is both included and excluded"):
        Mode(include=("fold",), exclude=("fold",))
    with pytest.raises(ValueError, match="optimizer"):
        Mode(optimizer="fast")


def test_named_modes_still_resolve():
    assert get_mode("FAST_COMPILE") == Mode("py", "fast_compile") == NAMED["FAST_COMPILE"]
    assert get_mode("cpu").linker == "cpu"
    mode = Mode("py").excluding("fold")
    assert get_mode(mode) is mode


# -- the pipeline ---------------------------------------------------------------------------


def test_fast_compile_and_fast_run_compile_different_graphs():
    x = T.dvector("x")
    out = [x**2, x * (T.constant(2.0) * 3), T.join(0, x, x).shape, T.log(1 + x)]
    run = theano.function([x], out, mode=Mode("py", "fast_run"))
    compile_ = theano.function([x], out, mode=Mode("py", "fast_compile"))
    assert "square" in _ops(run) and "power" not in _ops(run)  # specialize
    assert "power" in _ops(compile_) and "square" not in _ops(compile_)
    assert _ops(compile_).count("multiply") == 2  # 2.0 * 3 is not folded
    assert _ops(run).count("multiply") == 1
    assert "join" in _ops(compile_) and "join" not in _ops(run)  # shape inference
    assert "log1p" in _ops(run) and "log1p" in _ops(compile_)  # both stabilize
    values = np.array([0.5, 1.0, 3.0])
    for got, want in zip(run(values), compile_(values)):
        np.testing.assert_allclose(got, want)


def test_optimizer_none_and_merge_rewrite_nothing_else():
    x = T.dvector("x")
    out = T.log(1 + T.exp(x)) + T.log(1 + T.exp(x))
    assert _ops(theano.function([x], out, mode=Mode(optimizer=None))).count("log") == 2
    merged = _ops(theano.function([x], out, mode=Mode(optimizer="merge")))
    assert merged == ["exp", "add", "log", "add"]


def test_excluding_stabilize_keeps_log_of_sigmoid_unstable():
    z = T.dvector("z")
    out = T.log(T.sigmoid(z))
    stable = theano.function([z], out, mode="py")
    naive = theano.function([z], out, mode=Mode("py").excluding("stabilize"))
    assert "softplus" in _ops(stable) and "sigmoid" not in _ops(stable)
    assert _ops(naive) == ["sigmoid", "log"]
    values = np.array([-800.0, -1.0, 0.0, 3.0])
    with np.errstate(divide="ignore"):
        assert np.isneginf(naive(values)[0])
    np.testing.assert_allclose(stable(values), -np.logaddexp(0, -values))


def test_including_a_group_in_fast_compile_runs_it():
    x = T.dvector("x")
    f = theano.function([x], x**2, mode=Mode("py", "fast_compile").including("specialize"))
    assert _ops(f) == ["square"]


def test_optimize_records_every_firing_in_the_log():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.log(1 + x) + x**2])
    log = RewriteLog()
    optimize(fg, Mode("py"), log)
    assert [(e.group, e.rule) for e in log.entries] == [
        ("stabilize", "log1p_from_log"),
        ("specialize", "square_from_power"),
    ]
    untouched = FunctionGraph([x], [T.log(1 + x)])
    optimize(untouched, Mode(optimizer=None), log)
    assert [n.op.name for n in untouched.toposort()] == ["add", "log"]
    assert len(log.entries) == 2


# -- fuse and inplace: only with the cpu linker ---------------------------------------------


def _fused(f) -> list[str]:
    return [name for name in _ops(f) if name.startswith("fused")]


def _inplace(f) -> list:
    return [n for n in f.maker.fgraph.toposort() if getattr(n.op, "inplace", -1) >= 0]


def test_fuse_runs_only_with_the_cpu_linker_and_can_be_excluded():
    x = T.dvector("x")
    out = T.exp(x) * 2 + T.tanh(x)
    values = np.array([-1.0, 0.0, 2.0])
    want = np.exp(values) * 2 + np.tanh(values)
    modes = {
        "cpu": Mode("cpu"),
        "cpu-no-fuse": Mode("cpu").excluding("fuse"),
        "py+fuse": Mode("py").including("fuse"),
        "cpu-fast_compile": Mode("cpu", "fast_compile"),
        "cpu-fast_compile+fuse": Mode("cpu", "fast_compile").including("fuse"),
    }
    fs = {name: theano.function([x], out, mode=mode) for name, mode in modes.items()}
    assert _fused(fs["cpu"]) and _fused(fs["cpu-fast_compile+fuse"])
    assert not _fused(fs["cpu-no-fuse"]) and not _fused(fs["py+fuse"])
    assert not _fused(fs["cpu-fast_compile"])
    assert _ops(fs["cpu-no-fuse"]) == _ops(theano.function([x], out, mode="py"))
    assert any(e.group == "fuse" for e in fs["cpu"].rewrites)
    for f in fs.values():
        np.testing.assert_allclose(f(values), want, rtol=1e-14)


def test_inplace_runs_only_when_included():
    x = T.dmatrix("x")
    out = T.tanh((x * x).sum(axis=1))  # tanh can write into the sum's dead buffer
    values = np.arange(6.0).reshape(2, 3) / 10
    want = np.tanh((values * values).sum(axis=1))
    with_inplace = theano.function([x], out, mode=Mode("cpu"))
    without = theano.function([x], out, mode=Mode("cpu").excluding("inplace"))
    assert _inplace(with_inplace) and not _inplace(without)
    assert _fused(without)
    np.testing.assert_allclose(with_inplace(values), want, rtol=1e-14)
    np.testing.assert_allclose(without(values), want, rtol=1e-14)


# -- the rewrite report ---------------------------------------------------------------------


def test_the_function_keeps_its_rewrite_log_with_user_spans():
    z = T.dvector("z")
    line = _here() + 1
    out = T.log(T.sigmoid(z))
    f = theano.function([z], out, mode="py")
    (entry,) = [e for e in f.rewrites if e.rule == "log_of_sigmoid"]
    assert (entry.group, entry.op) == ("stabilize", "log")
    assert (entry.span.file, entry.span.line) == (__file__, line)


def test_the_report_names_the_users_line_and_counts_repeats():
    a, b = T.dvectors("a", "b")
    first = _here() + 1
    twice = T.log(T.sigmoid(a)) + T.log(T.sigmoid(b))
    second = _here() + 1
    squared = twice**2
    f = theano.function([a, b], squared, mode="py")
    text = rewrites(f, file="str")
    assert text.splitlines() == [
        f"{__file__}:{first}: stabilize/log_of_sigmoid on log (x2)",
        f"{__file__}:{second}: specialize/square_from_power on power",
    ]
    assert rewrites(f.maker, file="str") == text
    assert rewrites(f.rewrites, file="str") == text
    buffer = io.StringIO()
    assert rewrites(f, file=buffer) is buffer and buffer.getvalue() == text


def test_the_report_is_sorted_by_line_not_by_pipeline_order():
    x = T.dvector("x")
    early = _here() + 1
    squared = x**2  # specialize: fires after stabilize
    late = _here() + 1
    out = T.log(1 + squared)
    text = rewrites(theano.function([x], out, mode="py"), file="str")
    assert text.splitlines() == [
        f"{__file__}:{early}: specialize/square_from_power on power",
        f"{__file__}:{late}: stabilize/log1p_from_log on log",
    ]


def test_nothing_fired_gives_an_empty_report():
    x = T.dvector("x")
    f = theano.function([x], T.exp(x), mode="py")
    assert f.rewrites == [] and rewrites(f, file="str") == ""


@pytest.fixture
def verbose():
    old = config.optimizer_verbose
    config.optimizer_verbose = True
    try:
        yield
    finally:
        config.optimizer_verbose = old


def test_optimizer_verbose_prints_the_report_when_compiling(verbose, capsys):
    x = T.dvector("x")
    line = _here() + 1
    out = T.log(1 + x)
    f = theano.function([x], out, mode="py")
    printed = capsys.readouterr().out
    assert printed == f"{__file__}:{line}: stabilize/log1p_from_log on log\n"
    assert printed == rewrites(f, file="str")


def test_optimizer_verbose_is_off_by_default(capsys):
    assert Config(environ={}).optimizer_verbose is False
    x = T.dvector("x")
    theano.function([x], T.log(1 + x), mode="py")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("text, value", [("True", True), ("true", True), ("1", True), ("0", False)])
def test_optimizer_verbose_from_flags(text, value):
    env = {"ASTSYM_FLAGS": f"optimizer_verbose={text}"}
    assert Config(environ=env).optimizer_verbose is value


def test_optimizer_verbose_refuses_other_values():
    with pytest.raises(ValueError, match="optimizer_verbose"):
        Config(environ={"ASTSYM_FLAGS": "optimizer_verbose=loud"})
    with pytest.raises(ValueError, match="optimizer_verbose"):
        config.optimizer_verbose = "sometimes"


def test_fusion_is_another_name_for_fuse():
    assert Mode("cpu").excluding("fusion") == Mode("cpu").excluding("fuse")
    assert "fuse" not in Mode("cpu").excluding("fusion").groups
