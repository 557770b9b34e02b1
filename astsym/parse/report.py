"""Reports of ``astsym check`` results (``{path: [Diagnostic, ...]}``, one key per file
checked) as text, JSON, GitHub Actions commands or SARIF 2.1.0.

Diagnostics appear in the order of the files, and by position within a file. The text
report ends with a summary line::

    Found 2 errors, 1 warning in 2 files (12 files checked).
    All checks passed: 12 files checked.

>>> print(to_text({"ok.py": []}), end="")
All checks passed: 1 file checked.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from urllib.parse import quote

from astsym.typecheck.codes import CODES
from astsym.typecheck.diagnostics import Diagnostic
from astsym.typecheck.span import SourceSpan

Results = dict[str, list[Diagnostic]]
SEVERITIES = ("error", "warning", "note")


def render(results: Results, fmt: str) -> str:
    """The report in one of ``RENDERERS``' formats (``"text"``, ``"json"``, ...)."""
    return RENDERERS[fmt](results)


def diagnostics(results: Results) -> Iterator[tuple[str, Diagnostic]]:
    """Each (file, diagnostic), files in the given order, diagnostics by position."""
    for path, found in results.items():
        for diag in sorted(found, key=_position):
            yield (diag.span.file if diag.span else path), diag


def _position(diag: Diagnostic) -> tuple[int, int]:
    return (diag.span.line, diag.span.col) if diag.span else (0, 0)


def counts(results: Results) -> Counter:
    """How many diagnostics of each severity."""
    return Counter(d.severity for found in results.values() for d in found)


# -- text --------------------------------------------------------------------------------


def to_text(results: Results) -> str:
    """Each diagnostic as ``Diagnostic.render()`` shows it (headline, source line, carets,
    ``help:`` notes), a blank line between them, then the summary line."""
    blocks = [d.render() if d.span else f"{path}: {d.render()}" for path, d in diagnostics(results)]
    return "\n\n".join([*blocks, summary_line(results)]) + "\n"


def summary_line(results: Results) -> str:
    """``Found 2 errors, 1 warning in 2 files (12 files checked).``, or ``All checks
    passed: 12 files checked.``; notes are counted too, as they also fail the check."""
    checked = _plural(len(results), "file")
    found = counts(results)
    if not found:
        return f"All checks passed: {checked} checked."
    what = ", ".join(_plural(found[s], s) for s in SEVERITIES if found[s])
    where = _plural(sum(1 for f in results.values() if f), "file")
    return f"Found {what} in {where} ({checked} checked)."


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- JSON --------------------------------------------------------------------------------


def to_json(results: Results) -> str:
    """DESIGN's object; 1-based lines and columns, ``end_column`` exclusive, ``null`` where
    unknown (all four positions are ``null`` for a diagnostic about a whole file)."""
    found = counts(results)
    report = {
        "version": 1,
        "diagnostics": [_json_entry(path, d) for path, d in diagnostics(results)],
        "summary": {"files": len(results), "errors": found["error"], "warnings": found["warning"]},
    }
    return json.dumps(report, indent=2) + "\n"


def _json_entry(path: str, diag: Diagnostic) -> dict:
    span = diag.span
    line, col, end_line, end_col = (
        (span.line, span.col, span.end_line, span.end_col) if span else (None,) * 4
    )
    return {
        "file": path,
        "line": line,
        "column": col,
        "end_line": end_line,
        "end_column": end_col,
        "severity": diag.severity,
        "code": diag.code,
        "name": diag.name,
        "message": diag.message,
        "notes": list(diag.notes),
    }


# -- GitHub Actions ----------------------------------------------------------------------

_GITHUB_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def to_github(results: Results) -> str:
    """One workflow command per diagnostic, which GitHub shows as an annotation::

    ::error file=m.py,line=3,col=9,endLine=3,endColumn=14,title=AS201 broadcast-mismatch::...

    ``endColumn`` is the span's exclusive end (as ruff emits it), given only for a span on
    one line, as GitHub requires; help notes follow the message on their own lines."""
    return "".join(_github_command(path, d) + "\n" for path, d in diagnostics(results))


def _github_command(path: str, diag: Diagnostic) -> str:
    props: dict[str, object] = {"file": path}
    span = diag.span
    if span is not None:
        props.update(line=span.line, col=span.col)
        if span.end_line is not None:
            props["endLine"] = span.end_line
            if span.end_col is not None and span.end_line == span.line:
                props["endColumn"] = span.end_col
    props["title"] = f"{diag.code} {diag.name}"
    text = ",".join(f"{key}={_escape_property(str(value))}" for key, value in props.items())
    message = "\n".join([diag.message, *(f"help: {note}" for note in diag.notes)])
    return f"::{_GITHUB_LEVEL.get(diag.severity, 'warning')} {text}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    """As @actions/core escapes a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """As @actions/core escapes a command's property values."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# -- SARIF 2.1.0 -------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def to_sarif(results: Results, base: Path | None = None) -> str:
    """One SARIF run whose rules are the whole code registry. File URIs are relative to
    ``base`` (default: the current folder) under ``%SRCROOT%``, absolute outside it."""
    base = (base or Path.cwd()).resolve()
    driver = {"name": "astsym", "version": version(), "rules": [_rule(c) for c in CODES]}
    homepage = _homepage()
    if homepage:
        driver["informationUri"] = homepage
    run = {
        "tool": {"driver": driver},
        "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(path, d, base) for path, d in diagnostics(results)],
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"


def _rule(code: str) -> dict:
    entry = CODES[code]
    help_text = f"{entry.fix}\n\nExample:\n{entry.example}"
    return {
        "id": entry.code,
        "name": entry.name,
        "shortDescription": {"text": entry.summary},
        "fullDescription": {"text": entry.explanation or entry.summary},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": "error"},
    }


def _result(path: str, diag: Diagnostic, base: Path) -> dict:
    message = "\n".join([diag.message, *(f"help: {note}" for note in diag.notes)])
    result = {
        "ruleId": diag.code,
        "ruleIndex": list(CODES).index(diag.code),
        "level": _SARIF_LEVEL.get(diag.severity, "warning"),
        "message": {"text": message},
        "locations": [{"physicalLocation": _physical(path, diag.span, base)}],
    }
    if diag.related:
        result["relatedLocations"] = [
            {"id": i, "physicalLocation": _physical(s.file, s, base), "message": {"text": t}}
            for i, (s, t) in enumerate(diag.related)
        ]
    return result


def _physical(path: str, span: SourceSpan | None, base: Path) -> dict:
    location: dict = {"artifactLocation": _artifact(path, base)}
    if span is not None:
        region = {"startLine": span.line, "startColumn": span.col}
        if span.end_line is not None:
            region["endLine"] = span.end_line
            if span.end_col is not None:
                region["endColumn"] = span.end_col
        location["region"] = region
    return location


def _artifact(path: str, base: Path) -> dict:
    absolute = Path(path).resolve()
    if absolute.is_relative_to(base):
        return {"uri": quote(absolute.relative_to(base).as_posix()), "uriBaseId": SRCROOT}
    return {"uri": absolute.as_uri()}


def version() -> str:
    """astsym's installed version."""
    try:
        return metadata.version("astsym")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _homepage() -> str | None:
    """The project's home page from its package metadata, when it declares one."""
    try:
        urls = metadata.metadata("astsym").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:  # pragma: no cover
        return None
    pages = [u.split(",", 1)[1].strip() for u in urls if "," in u]
    return pages[0] if pages else None


RENDERERS = {"text": to_text, "json": to_json, "github": to_github, "sarif": to_sarif}
