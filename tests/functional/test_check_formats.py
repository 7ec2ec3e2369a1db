"""The check's report formats, validated: JSON keys, GitHub workflow commands, JUnit XML
(against the rules of the Jenkins/Ant JUnit schema, junit-10.xsd) and SARIF 2.1.0 (against the
required properties, allowed properties and enumerations of the OASIS schema for every object
the report uses); and the CI entry points: the pre-commit hook's entry command and the GitHub
Actions example of docs/check.md, run on a sample repository."""

import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.functional.test_check import (
    CATALOG,
    REPO,
    _code,
    append,
    check_json,
    git,
    make_shop_repo,
    run_check,
)

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def shop_repo(tmp_path_factory) -> Path:
    return make_shop_repo(tmp_path_factory.mktemp("check-formats"))


@pytest.fixture
def regressed(shop_repo: Path, monkeypatch):
    """The repository with a new cross-service call and an allowed one; reverted after."""
    monkeypatch.chdir(shop_repo)
    line = append(shop_repo, CATALOG, _code("call"))
    allowed = append(
        shop_repo,
        CATALOG,
        _code(
            "table write", "  # decomposer: allow catalog->payments (until payments has an API)"
        ).replace("void_payment", "void_payment_2"),
    )
    yield shop_repo, line, allowed
    git(shop_repo, "checkout", "-q", "--", ".")
    git(shop_repo, "clean", "-q", "-fd")


def test_json_has_stable_keys(regressed) -> None:
    _, line, allowed = regressed
    code, summary = check_json(".")
    assert code == 1
    assert set(summary) == {
        "root", "level", "boundaries", "services", "baseline", "violations", "suppressed",
        "improvements", "counts", "metrics", "analysis", "seconds", "reused_last_check",
    }  # fmt: skip
    keys = {"code", "rule", "severity", "message", "fix", "services", "file", "line", "sites",
            "fingerprint"}  # fmt: skip
    assert all(set(v) == keys for v in summary["violations"])
    assert all(set(v) == keys | {"reason"} for v in summary["suppressed"])
    call = next(v for v in summary["violations"] if v["code"] == "DC102")
    assert call["sites"] == [f"{CATALOG}:{line}"] and call["fingerprint"].startswith("DC102:")
    assert summary["suppressed"][0]["line"] == allowed
    assert set(summary["metrics"]["icp"]) == {"baseline", "current", "tolerance"}


def test_a_second_run_on_the_same_tree_reuses_the_result_until_a_comment_changes(
    regressed,
) -> None:
    repo, line, _ = regressed
    first = check_json(".")
    second = check_json(".")
    assert second[1]["reused_last_check"]
    for key in ("violations", "suppressed", "counts", "metrics"):
        assert second[1][key] == first[1][key]
    assert second[0] == first[0] == 1
    # an allow comment changes no graph fact, but the check must see it
    path = repo / CATALOG
    lines = path.read_text().splitlines()
    lines[line - 1] += "  # decomposer: allow catalog->inventory (shown on the product page)"
    path.write_text("\n".join(lines) + "\n")
    code, summary = check_json(".")
    assert not summary["reused_last_check"]
    assert code == 0, summary["violations"]


GITHUB = re.compile(r"^::(error|warning|notice)( (?P<props>[^:]*))?::(?P<data>.*)$")


def test_github_annotations(regressed) -> None:
    _, line, _ = regressed
    result = run_check(".", "--format", "github")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-1].startswith("decomposer check failed: ")
    commands = [GITHUB.match(text) for text in lines[:-1]]
    assert commands and all(commands), lines
    call = next(m for m in commands if "DC102" in m["props"])
    props = dict(p.split("=", 1) for p in call["props"].split(","))
    assert props == {
        "file": CATALOG,
        "line": str(line),
        "title": "DC102 cross-service-call",
    }
    assert call.group(1) == "error"
    # the message and its fix in one annotation: the newline is escaped, as GitHub wants
    assert "%0Afix: call inventory through its public API" in call["data"]
    assert "\n" not in call["data"] and "\r" not in call["data"]
    # a placeless violation (a metric) is an annotation without a file
    metric = next(m for m in commands if "DC301" in m["props"])
    assert "file=" not in metric["props"]


# The JUnit schema most CI servers read (Jenkins' junit-10.xsd, Ant's format): per element,
# the attributes it allows (those required marked), and the children in their order.
JUNIT = {
    "testsuites": ({"name", "time", "tests", "failures", "disabled", "errors"}, set(),
                   ["testsuite"]),
    "testsuite": ({"name", "tests", "failures", "errors", "time", "disabled", "skipped",
                   "timestamp", "hostname", "id", "package"}, {"name", "tests"},
                  ["properties", "testcase", "system-out", "system-err"]),
    "properties": (set(), set(), ["property"]),
    "property": ({"name", "value"}, {"name", "value"}, []),
    "testcase": ({"name", "assertions", "time", "classname", "status"}, {"name"},
                 ["skipped", "error", "failure", "system-out", "system-err"]),
    "failure": ({"type", "message"}, set(), []),
    "error": ({"type", "message"}, set(), []),
    "skipped": (set(), set(), []),
    "system-out": (set(), set(), []),
    "system-err": (set(), set(), []),
}  # fmt: skip
ONCE = {("testsuite", "properties"), ("testsuite", "system-out"), ("testsuite", "system-err"),
        ("testcase", "skipped")}  # fmt: skip


def validate_junit(element: ET.Element) -> None:
    allowed, required, children = JUNIT[element.tag]
    assert set(element.attrib) <= allowed, (element.tag, element.attrib)
    assert required <= set(element.attrib), (element.tag, element.attrib)
    order = [children.index(child.tag) for child in element]  # KeyError/ValueError: not allowed
    assert order == sorted(order), (element.tag, [c.tag for c in element])
    for tag in children:
        if (element.tag, tag) in ONCE:
            assert len(element.findall(tag)) <= 1
    if element.tag == "properties":
        assert len(element) >= 1
    for number in ("tests", "failures", "errors", "skipped"):
        if number in element.attrib:
            assert element.attrib[number].isdigit()
    for child in element:
        validate_junit(child)


def test_junit_xml_follows_the_schema(regressed, tmp_path) -> None:
    _, line, _ = regressed
    out = tmp_path / "report.xml"
    result = run_check(".", "--format", "junit", "-o", out)
    assert result.exit_code == 1
    assert f"report written to {out}" in result.output
    root = ET.parse(out).getroot()
    validate_junit(root)
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("tests")) == len(cases) == int(root.get("tests"))
    assert int(suite.get("failures")) == len(failures) >= 2
    call = next(c for c in failures if c.get("classname") == "decomposer.check.DC102")
    assert call.get("name").startswith(f"cross-service-call: {CATALOG}:{line}: ")
    failure = call.find("failure")
    assert failure.get("type") == "DC102 cross-service-call"
    assert "fix: call inventory" in failure.text
    passing = {c.get("name") for c in cases if c.find("failure") is None}
    assert "cross-service-import" in passing  # every rule without errors is a passing case
    allowed = next(c for c in cases if c.get("name") == "cross-service-table-access")
    assert "allowed: " in allowed.find("system-out").text
    assert "until payments has an API" in allowed.find("system-out").text


# SARIF 2.1.0 (OASIS), for the objects the report uses: allowed properties (the schema sets
# additionalProperties false on each), required ones, and enumerations.
SARIF = {
    "log": ({"$schema", "version", "runs", "inlineExternalProperties", "properties"},
            {"version", "runs"}),
    "run": ({"tool", "invocations", "conversion", "language", "versionControlProvenance",
             "originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results",
             "automationDetails", "runAggregates", "baselineGuid", "redactionTokens",
             "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind",
             "externalPropertyFileReferences", "threadFlowLocations", "taxonomies",
             "addresses", "translations", "policies", "webRequests", "webResponses",
             "specialLocations", "properties"}, {"tool"}),
    "tool": ({"driver", "extensions", "properties"}, {"driver"}),
    "toolComponent": ({"guid", "name", "organization", "product", "productSuite",
                       "shortDescription", "fullDescription", "fullName", "version",
                       "semanticVersion", "dottedQuadFileVersion", "releaseDateUtc",
                       "downloadUri", "informationUri", "globalMessageStrings",
                       "notifications", "rules", "taxa", "locations", "language", "contents",
                       "isComprehensive", "localizedDataSemanticVersion",
                       "minimumRequiredLocalizedDataSemanticVersion", "associatedComponent",
                       "translationMetadata", "supportedTaxonomies", "properties"}, {"name"}),
    "reportingDescriptor": ({"id", "deprecatedIds", "guid", "deprecatedGuids", "name",
                             "deprecatedNames", "shortDescription", "fullDescription",
                             "messageStrings", "defaultConfiguration", "helpUri", "help",
                             "relationships", "properties"}, {"id"}),
    "multiformatMessageString": ({"text", "markdown", "properties"}, {"text"}),
    "reportingConfiguration": ({"enabled", "level", "rank", "parameters", "properties"},
                               set()),
    "invocation": ({"commandLine", "arguments", "responseFiles", "startTimeUtc",
                    "endTimeUtc", "exitCode", "ruleConfigurationOverrides",
                    "notificationConfigurationOverrides", "toolExecutionNotifications",
                    "toolConfigurationNotifications", "exitCodeDescription", "exitSignalName",
                    "exitSignalNumber", "processStartFailureMessage", "executionSuccessful",
                    "machine", "account", "processId", "executableLocation",
                    "workingDirectory", "environmentVariables", "stdin", "stdout", "stderr",
                    "stdoutStderr", "properties"}, {"executionSuccessful"}),
    "artifactLocation": ({"uri", "uriBaseId", "index", "description", "properties"}, set()),
    "message": ({"text", "markdown", "id", "arguments", "properties"}, set()),
    "result": ({"guid", "correlationGuid", "ruleId", "ruleIndex", "rule", "kind", "level",
                "message", "analysisTarget", "locations", "hostedViewerUri",
                "partialFingerprints", "fingerprints", "stacks", "codeFlows", "graphs",
                "graphTraversals", "relatedLocations", "suppressions", "baselineState", "rank",
                "attachments", "workItemUris", "provenance", "fixes", "taxa", "webRequest",
                "webResponse", "properties"}, {"message"}),
    "location": ({"id", "physicalLocation", "logicalLocations", "message", "annotations",
                  "relationships", "properties"}, set()),
    "physicalLocation": ({"address", "artifactLocation", "region", "contextRegion",
                          "properties"}, set()),
    "region": ({"startLine", "startColumn", "endLine", "endColumn", "charOffset",
                "charLength", "byteOffset", "byteLength", "snippet", "message",
                "sourceLanguage", "properties"}, set()),
    "suppression": ({"guid", "kind", "status", "justification", "location", "properties"},
                    {"kind"}),
}  # fmt: skip
LEVELS = {"none", "note", "warning", "error"}
KINDS = {"notApplicable", "pass", "fail", "review", "open", "informational"}
BASELINE_STATES = {"new", "unchanged", "updated", "absent"}


def shape(obj: dict, kind: str) -> None:
    allowed, required = SARIF[kind]
    assert isinstance(obj, dict), (kind, obj)
    assert set(obj) <= allowed, (kind, set(obj) - allowed)
    assert required <= set(obj), (kind, required - set(obj))
    if "properties" in obj:
        assert isinstance(obj["properties"], dict)


def validate_sarif(log: dict) -> None:
    shape(log, "log")
    assert log["version"] == "2.1.0" and isinstance(log["runs"], list)
    for run in log["runs"]:
        shape(run, "run")
        shape(run["tool"], "tool")
        driver = run["tool"]["driver"]
        shape(driver, "toolComponent")
        assert isinstance(driver["name"], str) and isinstance(driver.get("version", ""), str)
        rules = driver.get("rules", [])
        for rule in rules:
            shape(rule, "reportingDescriptor")
            assert isinstance(rule["id"], str)
            for key in ("shortDescription", "fullDescription", "help"):
                if key in rule:
                    shape(rule[key], "multiformatMessageString")
            if "defaultConfiguration" in rule:
                shape(rule["defaultConfiguration"], "reportingConfiguration")
                assert rule["defaultConfiguration"].get("level", "warning") in LEVELS
        for invocation in run.get("invocations", []):
            shape(invocation, "invocation")
            assert isinstance(invocation["executionSuccessful"], bool)
            assert isinstance(invocation.get("exitCode", 0), int)
        for base in run.get("originalUriBaseIds", {}).values():
            shape(base, "artifactLocation")
        assert run.get("columnKind", "unicodeCodePoints") in {
            "utf16CodeUnits",
            "unicodeCodePoints",
        }
        for result in run.get("results", []):
            shape(result, "result")
            shape(result["message"], "message")
            assert isinstance(result["message"].get("text"), str)  # text or id is required
            assert result.get("level", "warning") in LEVELS
            assert result.get("kind", "fail") in KINDS
            assert result.get("baselineState", "new") in BASELINE_STATES
            index = result.get("ruleIndex", -1)
            assert isinstance(index, int) and index >= -1
            if index >= 0:
                assert rules[index]["id"] == result["ruleId"]
            assert all(isinstance(v, str) for v in result.get("partialFingerprints", {}).values())
            for location in result.get("locations", []) + result.get("relatedLocations", []):
                shape(location, "location")
                assert isinstance(location.get("id", 0), int) and location.get("id", 0) >= -1
                physical = location["physicalLocation"]
                shape(physical, "physicalLocation")
                shape(physical["artifactLocation"], "artifactLocation")
                shape(physical["region"], "region")
                start = physical["region"]["startLine"]
                assert isinstance(start, int) and start >= 1
            for suppression in result.get("suppressions", []):
                shape(suppression, "suppression")
                assert suppression["kind"] in {"inSource", "external"}
                assert isinstance(suppression.get("justification", ""), str)


def test_sarif_follows_the_schema(regressed, tmp_path) -> None:
    _, line, allowed = regressed
    out = tmp_path / "report.sarif"
    result = run_check(".", "--format", "sarif", "-o", out)
    assert result.exit_code == 1
    log = json.loads(out.read_text())
    validate_sarif(log)
    run = log["runs"][0]
    assert run["invocations"][0]["exitCode"] == 1
    results = run["results"]
    call = next(r for r in results if r["ruleId"] == "DC102")
    assert call["level"] == "error" and call["baselineState"] == "new"
    where = call["locations"][0]["physicalLocation"]
    assert where["artifactLocation"] == {"uri": CATALOG, "uriBaseId": "%SRCROOT%"}
    assert where["region"] == {"startLine": line}
    assert "Fix: call inventory" in call["message"]["text"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["DC104"]
    assert suppressed[0]["suppressions"] == [
        {"kind": "inSource", "justification": "until payments has an API"}
    ]
    assert suppressed[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == allowed
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {"DC001", "DC101", "DC501"}


def test_a_fixed_dependency_is_an_absent_sarif_result(shop_repo, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(shop_repo)
    orders_api = shop_repo / "shop" / "api" / "orders.py"
    orders_api.write_text(orders_api.read_text().replace("billing.build_invoice(", "str("))
    try:
        out = tmp_path / "fixed.sarif"
        result = run_check(".", "--format", "sarif", "-o", out)
        assert result.exit_code == 0
        log = json.loads(out.read_text())
        validate_sarif(log)
        results = log["runs"][0]["results"]
        stale = [r for r in results if r["ruleId"] == "DC501"]
        assert stale and all(r["level"] == "warning" for r in stale)
        assert all(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == ".decomposer/baseline.json"
            for r in stale
            if "locations" in r
        )
    finally:
        git(shop_repo, "checkout", "-q", "--", ".")


def test_text_report_to_a_file_has_no_colour_codes(regressed, tmp_path) -> None:
    out = tmp_path / "report.txt"
    result = run_check(".", "-o", out)
    assert result.exit_code == 1
    text = out.read_text()
    assert "\x1b[" not in text and f"{CATALOG}:" in text and "fix:" in text
    assert text.splitlines()[-1].startswith("decomposer check failed: ")


# -- CI entry points ------------------------------------------------------------------------


def shell(command: str, repo: Path) -> subprocess.CompletedProcess[str]:
    """A command as CI or pre-commit runs it: in the repository, decomposer on the PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        command, shell=True, cwd=repo, env=env, capture_output=True, text=True, check=False
    )


def test_the_pre_commit_hook_runs_the_check(shop_repo) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "decomposer-check")
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert set(hook["types_or"]) >= {"python"}
    entry = hook["entry"]
    command = " ".join(shlex.quote(part) for part in shlex.split(entry) + hook.get("args", []))
    done = shell(command, shop_repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "decomposer check passed" in done.stdout
    append(shop_repo, CATALOG, _code("call"))
    try:
        done = shell(command, shop_repo)
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"{CATALOG}:" in done.stdout and "DC102" in done.stdout
    finally:
        git(shop_repo, "checkout", "-q", "--", ".")


def workflow() -> dict:
    """The GitHub Actions example of docs/check.md."""
    text = (REPO / "docs" / "check.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    found = [yaml.safe_load(b) for b in blocks if "runs-on:" in b]
    assert len(found) == 1
    return found[0]


def test_the_github_actions_example_runs(shop_repo, tmp_path) -> None:
    job = next(iter(workflow()["jobs"].values()))
    steps = [s["run"] for s in job["steps"] if "run" in s]
    checks = [s for s in steps if s.startswith("decomposer ")]
    assert len(checks) == 2
    uploads = [s for s in job["steps"] if "upload-sarif" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["sarif_file"] == "decomposer.sarif"
    assert job["permissions"]["security-events"] == "write"
    try:
        for command in checks:
            done = shell(command, shop_repo)
            assert done.returncode == 0, (command, done.stdout, done.stderr)
        sarif = shop_repo / "decomposer.sarif"
        validate_sarif(json.loads(sarif.read_text()))
        append(shop_repo, CATALOG, _code("call"))
        done = shell(checks[0], shop_repo)
        assert done.returncode == 1  # the job fails on the regression ...
        assert f"::error file={CATALOG}," in done.stdout  # ... with an annotation on the line
    finally:
        git(shop_repo, "checkout", "-q", "--", ".")
        git(shop_repo, "clean", "-q", "-fd")
