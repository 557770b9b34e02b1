"""The ``astsym`` command line: ``check`` (formats, settings, exit codes), ``explain`` and
``cache``."""

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from astsym import cli
from astsym.parse import analyze
from astsym.typecheck import CODES

BAD = "def f(x:\n    return x\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder (the current one) with a pyproject.toml of its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASTSYM_DEBUG", raising=False)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "good.py").write_text("x = 1\n")
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def check_json(capsys, *args: str) -> tuple[int, dict]:
    status = cli.main(["check", "--format", "json", *args])
    return status, json.loads(capsys.readouterr().out)


@pytest.fixture
def spy(monkeypatch):
    """Records the keyword arguments the analyzer is called with; reports nothing."""
    calls = []

    def check_files(files, **kwargs):
        calls.append((list(files), kwargs))
        return {f: [] for f in files}

    monkeypatch.setattr(analyze, "check_files", check_files)
    return calls


# -- exit codes --------------------------------------------------------------------------


def test_clean_exits_0(project, capsys):
    assert cli.main(["check"]) == 0
    assert capsys.readouterr().out == "All checks passed: 1 file checked.\n"


def test_diagnostics_exit_1(project, capsys):
    write(project / "pkg" / "bad.py", BAD)
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("pkg/bad.py:1:6: error[AS100] invalid syntax")
    assert out.endswith("Found 1 error in 1 file (2 files checked).\n")


def test_warnings_alone_exit_1(project, monkeypatch, capsys):
    from astsym.typecheck import Diagnostic, SourceSpan

    warning = Diagnostic("AS201", "warning", "n vs m", SourceSpan("good.py", 1, 1))
    monkeypatch.setattr(analyze, "check_files", lambda files, **_: {f: [warning] for f in files})
    assert cli.main(["check"]) == 1
    assert "Found 1 warning in 1 file" in capsys.readouterr().out


def test_a_missing_path_exits_2(project, capsys):
    assert cli.main(["check", "good.py", "nope.py"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "astsym: nope.py: no such file or folder\n"


@pytest.mark.parametrize(
    "argv", [["check", "--format", "xml"], ["check", "--bogus"], ["frobnicate"], []]
)
def test_bad_arguments_exit_2(project, capsys, argv):
    assert cli.main(argv) == 2
    assert "usage: astsym" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert cli.main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--strict-dims" in out and "Exit status: 0" in out


def test_a_bad_config_key_exits_2_naming_the_key_and_file(project, capsys):
    (project / "pyproject.toml").write_text("[tool.astsym]\nstrict_dims = true\n")
    assert cli.main(["check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("astsym: ") and "unknown key 'strict_dims'" in err
    assert str(project / "pyproject.toml") in err


def test_a_missing_explicit_config_exits_2(project, capsys):
    assert cli.main(["check", "--config", "nope.toml"]) == 2
    assert "nope.toml: no such config file" in capsys.readouterr().err


def test_an_internal_error_exits_2_without_a_traceback(project, monkeypatch, capsys):
    def broken(files, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(analyze, "check_files", broken)
    assert cli.main(["check"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "astsym: internal error: KeyError: 'boom'\n"
    assert "Traceback" not in captured.err + captured.out
    monkeypatch.setenv("ASTSYM_DEBUG", "1")
    with pytest.raises(KeyError, match="boom"):
        cli.main(["check"])


# -- formats and output ------------------------------------------------------------------


def test_json_format(project, capsys):
    write(project / "bad.py", BAD)
    status, data = check_json(capsys)
    assert status == 1
    assert data["summary"] == {"files": 2, "errors": 1, "warnings": 0}
    assert [(d["file"], d["code"], d["line"]) for d in data["diagnostics"]] == [
        ("bad.py", "AS100", 1)
    ]


def test_github_format(project, capsys):
    write(project / "bad.py", BAD)
    assert cli.main(["check", "--format", "github", "bad.py"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error file=bad.py,line=1,col=6,title=AS100 syntax-error::")


def test_sarif_format(project, capsys):
    write(project / "bad.py", BAD)
    assert cli.main(["check", "--format", "sarif"]) == 1
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    (result,) = run["results"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert (result["ruleId"], location["uri"]) == ("AS100", "bad.py")


def test_output_writes_the_report_to_a_file(project, capsys):
    write(project / "bad.py", BAD)
    assert cli.main(["check", "--format", "json", "--output", "out/report.json"]) == 2
    assert "out/report.json: cannot write the report" in capsys.readouterr().err
    assert cli.main(["check", "--format", "json", "--output", "report.json"]) == 1
    assert capsys.readouterr().out == ""
    data = json.loads((project / "report.json").read_text())
    assert data["summary"]["errors"] == 1


# -- settings from pyproject.toml --------------------------------------------------------


def test_pyproject_include_and_exclude(project, capsys):
    (project / "pyproject.toml").write_text(
        "[tool.astsym]\ninclude = ['*.py', '*.pyw']\nexclude = ['generated', 'tools/*.py']\n"
    )
    for rel in ["generated/bad.py", "tools/bad.py", "pkg/generated/bad.py", "build/bad.py"]:
        write(project / rel, BAD)
    write(project / "app.pyw", BAD)
    status, data = check_json(capsys)
    assert status == 1
    assert [d["file"] for d in data["diagnostics"]] == ["app.pyw"]
    assert data["summary"]["files"] == 2


def test_the_pyproject_is_found_from_the_paths_not_the_current_folder(project, capsys):
    other = project / "elsewhere"
    write(other / "pyproject.toml", "[tool.astsym]\nexclude = ['skipped']\n")
    write(other / "skipped" / "bad.py", BAD)
    status, data = check_json(capsys, str(other))
    assert (status, data["summary"]["files"]) == (0, 0)


def test_an_excluded_file_given_explicitly_is_checked(project, capsys):
    write(project / "build" / "bad.py", BAD)
    status, data = check_json(capsys, "build/bad.py")
    assert status == 1 and data["diagnostics"][0]["file"] == "build/bad.py"


def test_disable_and_strict_dims_reach_the_analyzer(project, spy):
    (project / "pyproject.toml").write_text(
        "[tool.astsym]\ndisable = ['AS206', 'defined-in-one-branch']\nstrict-dims = true\n"
    )
    assert cli.main(["check"]) == 0
    ((files, kwargs),) = spy
    assert files == ["good.py"]
    assert kwargs == {"strict_dims": True, "disabled": frozenset({"AS206", "AS208"})}


def test_strict_dims_flag(project, spy):
    cli.main(["check"])
    cli.main(["check", "--strict-dims"])
    assert [kwargs["strict_dims"] for _, kwargs in spy] == [False, True]


def test_an_explicit_config_file(project, spy):
    write(project / "conf" / "astsym.toml", "[tool.astsym]\nstrict-dims = true\n")
    assert cli.main(["check", "--config", "conf/astsym.toml"]) == 0
    assert spy[0][1]["strict_dims"] is True


# -- explain -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(CODES))
def test_explain_every_code(code, capsys):
    entry = CODES[code]
    outputs = []
    for spelling in (code, code.lower(), entry.name):
        assert cli.main(["explain", spelling]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
    out = " ".join(outputs[0].split())  # explanations are wrapped
    assert outputs[0].startswith(f"{code} {entry.name}\n")
    assert entry.explanation and entry.fix
    for text in (entry.summary, entry.explanation, entry.fix):
        assert " ".join(text.split()) in out
    for line in entry.example.splitlines():
        assert f"    {line}\n" in outputs[0]


def test_explain_an_unknown_code_exits_2_with_the_list(capsys):
    assert cli.main(["explain", "AS999"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "unknown code 'AS999'" in captured.err
    for entry in CODES.values():
        assert f"{entry.code}  {entry.name}" in captured.err


def test_explain_without_a_code_lists_them_all(capsys):
    assert cli.main(["explain"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(CODES)


# -- cache -------------------------------------------------------------------------------


def test_cache_info_of_a_folder_never_used(tmp_path, capsys):
    assert cli.main(["cache", "info", "--cache-dir", str(tmp_path / "none")]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"folder:  {tmp_path / 'none' / 'numba'}",
        "entries: 0",
        "size:    0.0 KB of 512.0 MB",
    ]


def test_cache_info_and_clear(tmp_path, monkeypatch, capsys):
    from astsym import config
    from astsym.kernels import disk_cache

    monkeypatch.setattr(config, "cache_dir", str(tmp_path))
    monkeypatch.setattr(config, "cache_max_mb", 64)
    for k in range(2):
        disk_cache.cached_njit(f"def kernel(x):\n    return x - {k}\n", "kernel", {})(1)
    size = disk_cache.info()["bytes"]
    monkeypatch.setattr(config, "cache_dir", str(tmp_path / "elsewhere"))  # --cache-dir wins
    assert cli.main(["cache", "info", "--cache-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "entries: 2\n" in text and f"size:    {size / 1024:.1f} KB of 64.0 MB" in text
    assert cli.main(["cache", "clear", "--cache-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"removed 2 entries, {size / 1024:.1f} KB\n"
    assert cli.main(["cache", "clear", "--cache-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "removed 0 entries, 0.0 KB\n"


def test_cache_needs_an_action(capsys):
    assert cli.main(["cache"]) == 2
    assert "info" in capsys.readouterr().err


# -- entry points ------------------------------------------------------------------------


def test_python_dash_m_astsym(project):
    write(project / "bad.py", BAD)
    run = subprocess.run(
        [sys.executable, "-m", "astsym", "check", "--format", "json", "bad.py"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout)["summary"] == {"files": 1, "errors": 1, "warnings": 0}
    run = subprocess.run([sys.executable, "-m", "astsym", "explain", "AS201"], capture_output=True)
    assert run.returncode == 0 and run.stdout.startswith(b"AS201 broadcast-mismatch")


def test_the_astsym_console_script_is_declared():
    scripts = metadata.entry_points(group="console_scripts")
    assert [ep.value for ep in scripts if ep.name == "astsym"] == ["astsym.cli:main"]
