"""How `decomposer check` reports: text for people (rich), and GitHub workflow annotations,
JUnit XML and SARIF 2.1.0 for CI; JSON is the summary itself.

Every writer is a pure function of the check's summary (decomposer.check builds it), so the
formats cannot disagree: the same violations, the same paths, the same fixes.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from rich.console import Console
from rich.markup import escape

from decomposer import __version__
from decomposer.check import RULES
from decomposer.console import essential
from decomposer.files import write_text

DOCS = "docs/check.md"

_STYLE = {"error": "bold red", "warning": "yellow", "info": "green"}


def render_text(summary: dict[str, Any], console: Console) -> None:
    """Violations as a linter prints them (path:line: CODE message, then the fix), suppressed
    dependencies and improvements after them, and one closing line."""
    for v in summary["violations"]:
        if v["code"] == "DC501":
            continue  # listed with the improvements below
        where = f"{v['file']}:{v['line']}: " if v["file"] else ""
        style = _STYLE.get(v["severity"], "")
        essential(  # what failed is printed even under --quiet
            console,
            f"{escape(where)}[{style}]{v['code']}[/] [dim]{v['rule']}[/] {escape(v['message'])}\n"
            f"    [dim]fix:[/] {escape(v['fix'])}",
        )
        for site in v["sites"][1:4]:
            console.print(f"    [dim]also at {escape(site)}[/]")
        if len(v["sites"]) > 4:
            console.print(f"    [dim]and {len(v['sites']) - 4} more places[/]")
    if summary["suppressed"]:
        console.print(f"[dim]accepted by allow comments: {len(summary['suppressed'])}[/]")
        for v in summary["suppressed"]:
            console.print(
                f"  [dim]{escape(v['file'] or '')}:{v['line']}: {v['code']} "
                f"{escape(v['message'])} ({escape(v['reason'])})[/]"
            )
    improvements = summary["improvements"]
    if improvements:
        stale = [v for v in summary["violations"] if v["code"] == "DC501"]
        label = f" (stale in the baseline: {stale[0]['severity']})" if stale else ""
        console.print(f"[green]{len(improvements)} improvements[/]{label}")
        for v in improvements[:20]:
            where = f"{v['file']}:{v['line']}: " if v["file"] else ""
            console.print(f"  [green]✓[/] {escape(where)}{escape(v['message'])}")
        if len(improvements) > 20:
            console.print(f"  … and {len(improvements) - 20} more")
        console.print(
            "  [dim]record them so that they cannot come back: "
            "decomposer check --tighten-baseline[/]"
        )
    changed = [
        f"{name} {_num(m['baseline'])} → {_num(m['current'])}"
        for name, m in summary["metrics"].items()
        if m["baseline"] is not None and m["current"] != m["baseline"]
    ]
    if changed:
        console.print("[dim]metrics: " + escape(", ".join(changed)) + "[/]")
    essential(console, _closing(summary, rich=True))


def _closing(summary: dict[str, Any], *, rich: bool = False) -> str:
    counts = summary["counts"]
    baseline = summary["baseline"]
    parts = [
        _count(counts["errors"], "error"),
        _count(counts["warnings"], "warning"),
    ]
    if counts["suppressed"]:
        parts.append(f"{counts['suppressed']} allowed")
    if counts["improvements"]:
        parts.append(_count(counts["improvements"], "improvement"))
    analysis = summary["analysis"]
    result = "failed" if counts["errors"] else "passed"
    text = (
        f": {', '.join(parts)} "
        f"({len(summary['services'])} services, {summary['level']} level, "
        f"{analysis['files']:,} files in {summary['seconds']:.2f} s)"
    )
    if baseline["written"]:
        text += f"; baseline written to {baseline['written']}"
    elif not baseline["exists"]:
        text += (
            f"; no baseline at {baseline['path']}: record one with "
            "decomposer check --update-baseline and commit it"
        )
    if rich:
        style = "bold red" if counts["errors"] else "bold green"
        return f"decomposer check [{style}]{result}[/]{escape(text)}"
    return f"decomposer check {result}{text}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


# -- GitHub workflow annotations ---------------------------------------------------------------


def github(summary: dict[str, Any]) -> str:
    """`::error file=…,line=…,title=…::message` lines, which GitHub shows on the diff."""
    lines = []
    for v in summary["violations"]:
        command = {"error": "error", "warning": "warning"}.get(v["severity"], "notice")
        props = {"title": f"{v['code']} {v['rule']}"}
        if v["file"]:
            props = {"file": v["file"], "line": str(v["line"]), **props}
        text = ",".join(f"{k}={_gh_property(value)}" for k, value in props.items())
        lines.append(
            f"::{command} {text}::{_gh_data(v['message'] + chr(10) + 'fix: ' + v['fix'])}"
        )
    lines.append(_closing(summary))
    return "\n".join(lines) + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


# -- JUnit XML ------------------------------------------------------------------------------------


def junit(summary: dict[str, Any]) -> str:
    """One test suite; a failing test case per error, a passing one per rule without errors
    (warnings and allowed dependencies in its output), as CI test reports expect."""
    errors = [v for v in summary["violations"] if v["severity"] == "error"]
    failing = {v["code"] for v in errors}
    cases: list[ET.Element] = []
    for v in errors:
        case = ET.Element(
            "testcase",
            {
                "classname": f"decomposer.check.{v['code']}",
                "name": f"{v['rule']}: {_where(v)}{v['message']}",
                "time": "0",
            },
        )
        failure = ET.SubElement(
            case, "failure", {"type": f"{v['code']} {v['rule']}", "message": _clean(v["message"])}
        )
        failure.text = _clean(_details(v))
        cases.append(case)
    for code, rule in RULES.items():
        if code in failing:
            continue
        case = ET.Element(
            "testcase",
            {"classname": f"decomposer.check.{code}", "name": rule.name, "time": "0"},
        )
        notes = [
            f"{v['severity']}: {_where(v)}{v['message']}"
            for v in summary["violations"]
            if v["code"] == code
        ]
        notes += [
            f"allowed: {_where(v)}{v['message']} ({v['reason']})"
            for v in summary["suppressed"]
            if v["code"] == code
        ]
        if notes:
            ET.SubElement(case, "system-out").text = _clean("\n".join(notes))
        cases.append(case)
    seconds = f"{summary['seconds']:.3f}"
    counts = {"tests": str(len(cases)), "failures": str(len(errors)), "errors": "0"}
    root = ET.Element("testsuites", {"name": "decomposer check", "time": seconds, **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": "decomposer check", **counts, "skipped": "0", "time": seconds},
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("root", summary["root"]),
        ("baseline", summary["baseline"]["path"]),
        ("boundaries", summary["boundaries"]),
        ("level", summary["level"]),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _clean(str(value))})
    suite.extend(cases)
    ET.SubElement(suite, "system-out").text = _clean(_closing(summary))
    ET.indent(root)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    )


def _where(v: dict[str, Any]) -> str:
    return f"{v['file']}:{v['line']}: " if v["file"] else ""


def _details(v: dict[str, Any]) -> str:
    lines = [f"{_where(v)}{v['code']} {v['rule']}: {v['message']}", f"fix: {v['fix']}"]
    lines += [f"at {site}" for site in v["sites"][1:]]
    return "\n".join(lines)


_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """Characters XML 1.0 cannot hold (from odd source comments) become '?'."""
    return _INVALID_XML.sub("?", text)


# -- SARIF 2.1.0 ----------------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def sarif(summary: dict[str, Any]) -> str:
    """A SARIF 2.1.0 log: one run, the rules with their help, a result per violation (allowed
    ones carry an in-source suppression with its reason, fixed ones are `absent`)."""
    codes = list(RULES)
    rules = [
        {
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "help": {"text": f"See {DOCS}, {code} {rule.name}: what it flags and how to fix it."},
            "defaultConfiguration": {
                "level": "warning" if code in ("DC402", "DC501") else "error"
            },
        }
        for code, rule in RULES.items()
    ]
    results = [_result(v, codes, "new") for v in summary["violations"]]
    for v in summary["suppressed"]:
        result = _result(v, codes, "new")
        result["suppressions"] = [{"kind": "inSource", "justification": v["reason"]}]
        results.append(result)
    for v in summary["improvements"]:
        if not any(r["fingerprint"] == v["fingerprint"] for r in summary["violations"]):
            result = _result(v, codes, "absent")
            result["kind"] = "pass"
            result["level"] = "none"
            results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "decomposer",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "exitCode": 1 if summary["counts"]["errors"] else 0,
                    }
                ],
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the project"}}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _result(v: dict[str, Any], codes: list[str], state: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": v["code"],
        "ruleIndex": codes.index(v["code"]),
        "kind": "fail",
        "level": _LEVELS.get(v["severity"], "note"),
        "message": {"text": f"{v['message']}. Fix: {v['fix']}"},
        "partialFingerprints": {"decomposer/v1": v["fingerprint"]},
        "baselineState": state,
    }
    if v["services"]:
        result["properties"] = {"services": v["services"]}
    locations = []
    for site in v["sites"][:10]:
        file, _, line = site.rpartition(":")
        locations.append(
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(file),
                    "region": {"startLine": max(int(line), 1)},
                }
            }
        )
    if locations:
        result["locations"] = locations[:1]
        if len(locations) > 1:
            result["relatedLocations"] = [
                {"id": i, **location} for i, location in enumerate(locations[1:], 1)
            ]
    return result


def _artifact(path: str) -> dict[str, str]:
    """A path relative to the project (the usual case) or, outside it, a file: URI."""
    posix = PurePath(path).as_posix()
    if PurePath(path).is_absolute():
        return {"uri": "file://" + quote(posix)}
    return {"uri": quote(posix), "uriBaseId": "%SRCROOT%"}


def as_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def as_text(summary: dict[str, Any]) -> str:
    """The text report without colours (for a file)."""
    buffer = io.StringIO()
    render_text(summary, Console(file=buffer, highlight=False, soft_wrap=True, color_system=None))
    return buffer.getvalue()


WRITERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "text": as_text,
    "json": as_json,
    "github": github,
    "junit": junit,
    "sarif": sarif,
}


def render(summary: dict[str, Any], fmt: str, console: Console, out: Path | None = None) -> None:
    """The report in `fmt` on the console, or in the file `out` (then only the closing line
    goes to the console, so that a CI log still says what happened)."""
    if out is not None:
        write_text(out, WRITERS[fmt](summary))
        essential(console, _closing(summary, rich=True) + escape(f"; report written to {out}"))
    elif fmt == "text":
        render_text(summary, console)
    else:
        console.file.write(WRITERS[fmt](summary))
