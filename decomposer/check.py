"""`decomposer check`: a linter for service boundaries, fast enough for every commit.

The committed boundaries (a proposal, or `[tool.decomposer.check.services]`: service -> module
globs) say which service every atom belongs to. The check analyses the tree (the same cached
analysis as `decomposer analyze`), folds it into atoms, and compares what crosses the
boundaries with a baseline file of what was accepted:

    DC001  invalid-suppression          an allow comment without a reason
    DC101  cross-service-import         a new import of another service's code
    DC102  cross-service-call           a new call into (or construction of) another service
    DC103  cross-service-reference      a new subclass of / reference to another service's code
    DC104  cross-service-table-access   new reads or writes of a table another service owns
    DC201  service-cycle                a new cycle of service dependencies
    DC202  shared-table                 a table newly written by more than one service
    DC203  cross-service-foreign-key    a new foreign key between two services' tables
    DC301  coupling-regression          a coupling metric worse than the baseline's
    DC401  unassigned-module            a new module that belongs to no service
    DC402  unmatched-boundary           a boundary pattern that matches no code
    DC501  stale-baseline-entry         an accepted entry that is gone: the baseline can tighten

A dependency is accepted by the baseline or by a comment on its line (or on the comment line
above): `# decomposer: allow orders->payments (why)`. Only the lines that violations cite are
read, so comments cost nothing where nothing is wrong. docs/check.md has a page per rule.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from decomposer import __version__, metrics, pipeline
from decomposer.cache import Cache, content_key
from decomposer.config import load_check_table, raise_problems
from decomposer.errors import ConfigError, InputError
from decomposer.files import read_json, write_json
from decomposer.lifetime import outlive
from decomposer.model.atoms import DEFAULT_LEVEL, LEVELS, AtomGraph
from decomposer.model.graph import DependencyGraph, EdgeKind, Site
from decomposer.model.proposal import parse_proposal
from decomposer.plugins import Progress, Registry
from decomposer.truth import SHARED

BASELINE_SCHEMA = 1
DEFAULT_BASELINE = ".decomposer/baseline.json"
SEVERITIES = ("error", "warning", "off")


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    #: what the rule flags, in one line (docs, SARIF, JUnit)
    summary: str


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("DC001", "invalid-suppression", "an allow comment without a reason"),
        Rule("DC101", "cross-service-import", "a new import of another service's code"),
        Rule("DC102", "cross-service-call", "a new call into another service's code"),
        Rule(
            "DC103",
            "cross-service-reference",
            "a new subclass of or reference to another service's code",
        ),
        Rule(
            "DC104",
            "cross-service-table-access",
            "a new read or write of a table another service owns",
        ),
        Rule("DC201", "service-cycle", "a new cycle of service dependencies"),
        Rule("DC202", "shared-table", "a table newly written by more than one service"),
        Rule(
            "DC203", "cross-service-foreign-key", "a new foreign key between two services' tables"
        ),
        Rule("DC301", "coupling-regression", "a coupling metric worse than the baseline's"),
        Rule("DC401", "unassigned-module", "a new module that belongs to no service"),
        Rule("DC402", "unmatched-boundary", "a boundary pattern that matches no code"),
        Rule("DC501", "stale-baseline-entry", "an accepted entry that is gone (an improvement)"),
    )
}

#: Dependency kinds -> rule code and the verb of the message.
_KIND_RULES: dict[str, tuple[str, str]] = {
    EdgeKind.IMPORTS.value: ("DC101", "imports"),
    EdgeKind.CALLS.value: ("DC102", "calls"),
    EdgeKind.INSTANTIATES.value: ("DC102", "creates"),
    EdgeKind.INHERITS.value: ("DC103", "inherits from"),
    EdgeKind.REFERENCES.value: ("DC103", "refers to"),
    "reads": ("DC104", "reads"),
    "writes": ("DC104", "writes"),
}

#: Coupling metrics compared with the baseline (all: lower is better) and their default
#: tolerances: how much worse a value may get before DC301 fails the check.
METRIC_TOLERANCES: dict[str, float] = {
    "icp": 0.005,
    "cross_service_edges": 0,
    "shared_tables": 0,
    "shared_tables_accessed": 0,
    "cross_service_foreign_keys": 0,
    "cross_service_joins": 0,
    "sagas_needed": 0,
    "service_cycles": 0,
}

#: Sections of the baseline file, in the order they are reported.
SECTIONS = ("dependencies", "cycles", "shared_tables", "foreign_keys", "unassigned")


# -- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckSettings:
    """`[tool.decomposer.check]`; see docs/check.md."""

    #: a proposal.json (relative to the project) whose services are the boundaries
    proposal: str | None = None
    #: service -> module globs; the service `shared` is the shared library
    services: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the atom level; a proposal brings its own
    level: str | None = None
    baseline: str = DEFAULT_BASELINE
    #: severity of a new module in no service, and of stale baseline entries
    unassigned: str = "warning"
    stale: str = "warning"
    #: metric -> tolerance (the defaults, with the configured ones over them)
    tolerance: Mapping[str, float] = field(default_factory=lambda: dict(METRIC_TOLERANCES))


_SETTING_KEYS = ("proposal", "services", "level", "baseline", "unassigned", "stale", "tolerance")


def parse_check_settings(table: Mapping[str, Any], *, where: str) -> CheckSettings:
    """The check's settings; every problem in the table is reported at once."""
    problems = [
        f"unknown key '{key}' (known: {', '.join(_SETTING_KEYS)})"
        for key in table
        if key not in _SETTING_KEYS
    ]
    values: dict[str, Any] = {}
    for key in ("proposal", "baseline"):
        if key in table:
            if isinstance(table[key], str) and table[key].strip():
                values[key] = table[key]
            else:
                problems.append(f"'{key}' should be a path (a string), got {table[key]!r}")
    if "level" in table:
        if table["level"] in LEVELS:
            values["level"] = table["level"]
        else:
            problems.append(
                f"'level' should be one of {', '.join(LEVELS)}, got {table['level']!r}"
            )
    for key in ("unassigned", "stale"):
        if key in table:
            if table[key] in SEVERITIES:
                values[key] = table[key]
            else:
                problems.append(
                    f"'{key}' should be one of {', '.join(SEVERITIES)}, got {table[key]!r}"
                )
    services = table.get("services", {})
    if not isinstance(services, dict):
        problems.append("'services' should be a table: service = [\"module.glob\", ...]")
        services = {}
    parsed: dict[str, tuple[str, ...]] = {}
    for name, patterns in services.items():
        if not isinstance(patterns, list) or not patterns:
            problems.append(f"services.{name} should be a non-empty list of module globs")
            continue
        for pattern in patterns:
            problem = _pattern_problem(pattern)
            if problem:
                problems.append(f"services.{name}: {problem}")
        parsed[name] = tuple(p for p in patterns if isinstance(p, str))
    if parsed:
        values["services"] = parsed
    tolerance = table.get("tolerance", {})
    if not isinstance(tolerance, dict):
        problems.append("'tolerance' should be a table: metric = number")
        tolerance = {}
    tolerances = dict(METRIC_TOLERANCES)
    for metric, value in tolerance.items():
        if metric not in METRIC_TOLERANCES:
            problems.append(
                f"tolerance.{metric}: unknown metric (known: {', '.join(METRIC_TOLERANCES)})"
            )
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(f"tolerance.{metric} should be a number, 0 or more, got {value!r}")
        else:
            tolerances[metric] = value
    values["tolerance"] = tolerances
    if "proposal" in values and parsed:
        problems.append("give the boundaries once: 'proposal' or 'services', not both")
    elif "proposal" not in values and not parsed and not problems:
        problems.append(
            "no boundaries: set 'proposal' or the [tool.decomposer.check.services] table"
        )
    if "proposal" in values and "level" in values:
        problems.append("'level' comes from the proposal; remove it")
    raise_problems(where, problems, "see docs/check.md for every key")
    return CheckSettings(**values)


_PATTERN = re.compile(r"(\*\*|[\w*?\-]+)(\.(\*\*|[\w*?\-]+))*")


def _pattern_problem(pattern: Any) -> str | None:
    if not isinstance(pattern, str):
        return f"{pattern!r} is not a string"
    if not _PATTERN.fullmatch(pattern):
        return f"'{pattern}' is not a dotted module name or glob (shop.orders, shop.*.orders)"
    return None


# -- boundaries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Boundaries:
    """Which service each atom belongs to: patterns over dotted ids, most specific first.

    A pattern names a module, package, class or function and covers everything under it,
    except that a top-level package covers only its own `__init__` (as in proposals and truth
    files: listing `shop` must not quietly claim the whole monolith).
    `*` stands for any characters within one dotted part, `**` for any number of parts (none
    included). The pattern that matches an id (or, failing that, its nearest dotted parent)
    wins; among several matching the same id, the one with the most plain parts (then the
    most plain characters).
    """

    source: str  # where they come from, for messages
    level: str
    #: (service or SHARED, pattern), in the order given
    patterns: tuple[tuple[str, str], ...]

    @property
    def services(self) -> list[str]:
        return sorted({s for s, _ in self.patterns if s != SHARED})

    def assign(self, atoms: AtomGraph) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """atom -> service or SHARED (atoms in no boundary are left out), and the
        (service, pattern) pairs that match nothing."""
        service_of, used = self.matcher()
        assignment = {}
        for atom in atoms.atoms:
            found = service_of(atom)
            if found is not None:
                assignment[atom] = found
        unmatched = [(s, p) for s, p in self.patterns if p not in used]
        if unmatched:  # a pattern may name a package whose atoms deeper patterns all took
            names: set[str] = set()
            for atom in atoms.atoms:
                parts = atom.split(".")
                names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            unmatched = [(s, p) for s, p in unmatched if not _names_any(p, names)]
        return assignment, unmatched

    def matcher(self) -> tuple[Callable[[str], str | None], set[str]]:
        """The service (or SHARED) of a dotted id, None for none; and the patterns it has
        used so far."""
        literal: dict[str, list[tuple[str, str]]] = defaultdict(list)
        wild: list[tuple[re.Pattern[str], str, str]] = []
        for service, pattern in self.patterns:
            if "*" in pattern or "?" in pattern:
                wild.append((re.compile(_regex(pattern)), service, pattern))
            else:
                literal[pattern].append((service, pattern))
        any_wild = re.compile("|".join(f"(?:{r.pattern})" for r, _, _ in wild)) if wild else None
        used: set[str] = set()
        memo: dict[str, str | None] = {}

        def exact(name: str) -> str | None:
            found = list(literal.get(name, ()))
            if any_wild is not None and any_wild.fullmatch(name):
                found += [(s, p) for r, s, p in wild if r.fullmatch(name)]
            if not found:
                return None
            used.update(p for _, p in found)
            ranked = sorted(found, key=lambda sp: _specificity(sp[1]), reverse=True)
            best = _specificity(ranked[0][1])
            tied = sorted({s for s, p in ranked if _specificity(p) == best})
            if len(tied) > 1:
                names = [f"'{p}' ({s})" for s, p in ranked if _specificity(p) == best]
                raise ConfigError(
                    f"{name} is matched equally by {' and '.join(names)} in {self.source}",
                    hint="make one of the patterns more specific",
                )
            return ranked[0][0]

        def service_of(name: str) -> str | None:
            if name not in memo:
                found = exact(name)
                parent = name.rpartition(".")[0]
                if found is None and "." in parent:  # a top-level package covers only itself
                    found = service_of(parent)
                memo[name] = found
            return memo[name]

        return service_of, used


def _names_any(pattern: str, names: set[str]) -> bool:
    if pattern in names:
        return True
    if "*" not in pattern and "?" not in pattern:
        return False
    regex = re.compile(_regex(pattern))
    return any(regex.fullmatch(name) for name in names)


def _regex(pattern: str) -> str:
    pieces: list[str] = []
    any_parts = False
    for part in pattern.split("."):
        if part == "**":
            any_parts = True
            continue
        text = "".join("[^.]*" if c == "*" else "[^.]" if c == "?" else re.escape(c) for c in part)
        pieces.append((r"(?:[^.]+\.)*" if any_parts else "") + text)
        any_parts = False
    if not pieces:
        return r"[^.]+(?:\.[^.]+)*"
    return r"\.".join(pieces) + (r"(?:\.[^.]+)*" if any_parts else "")


def _specificity(pattern: str) -> tuple[int, int]:
    parts = pattern.split(".")
    plain = [p for p in parts if "*" not in p and "?" not in p]
    return len(plain), len(pattern.replace("*", "").replace("?", ""))


def load_boundaries(settings: CheckSettings, root: Path, where: str) -> Boundaries:
    if settings.proposal is None:
        patterns = tuple((s, p) for s, found in settings.services.items() for p in found)
        return Boundaries(where, settings.level or DEFAULT_LEVEL, patterns)
    path = root / settings.proposal
    proposal, _ = parse_proposal(read_json(path, what="proposal"), None, where=str(path))
    patterns = tuple((s, m) for s, members in proposal.services.items() for m in members)
    patterns += tuple((SHARED, m) for m in proposal.shared)
    return Boundaries(f"proposal {path}", proposal.level, patterns)


# -- the baseline -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """What was accepted: per section, entry key -> record; and the metric values."""

    level: str
    entries: Mapping[str, Mapping[str, Mapping[str, Any]]]
    metrics: Mapping[str, float | int | None]
    exists: bool = True
    #: the file it was read from
    path: Path | None = None

    @cached_property
    def lines(self) -> Mapping[tuple[str, str], int]:
        """(section, key) -> line of the entry in the file, for annotations: read when a
        stale entry is reported."""
        return _entry_lines(self.path) if self.path is not None else {}

    @classmethod
    def empty(cls, level: str) -> Baseline:
        return cls(level, {s: {} for s in SECTIONS}, {}, exists=False)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema": BASELINE_SCHEMA, "level": self.level}
        for section in SECTIONS:
            found = self.entries.get(section, {})
            data[section] = [found[key] for key in sorted(found)]
        data["metrics"] = [
            {"metric": name, "value": _rounded(value)}
            for name, value in sorted(self.metrics.items())
        ]
        return data


def entry_key(section: str, record: Mapping[str, Any]) -> str:
    """The identity of a baseline entry (a shared table is one entry whoever writes it)."""
    if section == "shared_tables":
        return str(record["table"])
    if section == "unassigned":
        return str(record["module"])
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def load_baseline(path: Path, level: str) -> Baseline:
    """The baseline file; none yet is an empty baseline (every dependency is new)."""
    if not path.exists():
        return Baseline.empty(level)
    data = read_json(path, what="baseline")
    problems = []
    if not isinstance(data, dict):
        raise InputError(f"baseline {path} is not a JSON object", hint=_REBUILD)
    if data.get("schema") != BASELINE_SCHEMA:
        problems.append(f"'schema' should be {BASELINE_SCHEMA}, got {data.get('schema')!r}")
    entries: dict[str, dict[str, Mapping[str, Any]]] = {}
    for section in SECTIONS:
        records = data.get(section, [])
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            problems.append(f"'{section}' should be a list of objects")
            continue
        try:
            entries[section] = {entry_key(section, r): r for r in records}
        except KeyError as exc:
            problems.append(f"an entry of '{section}' has no {exc}")
    values: dict[str, float | int | None] = {}
    found = data.get("metrics", [])
    if isinstance(found, list) and all(isinstance(m, dict) and "metric" in m for m in found):
        values = {str(m["metric"]): m.get("value") for m in found}
    else:
        problems.append('\'metrics\' should be a list of {"metric": name, "value": number}')
    if problems:
        raise InputError(
            f"baseline {path} has {len(problems)} problem(s): {problems[0]}",
            details=problems[1:],
            hint=_REBUILD,
        )
    recorded = data.get("level")
    if recorded != level:
        raise InputError(
            f"baseline {path} was recorded at the {recorded} level; the check runs at {level}",
            hint="record it again: decomposer check --update-baseline",
        )
    return Baseline(level, entries, values, path=path)


_REBUILD = "fix it, or record it again with decomposer check --update-baseline"


def _entry_lines(path: Path) -> dict[tuple[str, str], int]:
    """(section, key) -> line number: the baseline holds one entry per line."""
    lines: dict[tuple[str, str], int] = {}
    section = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip().rstrip(",")
        if text.startswith('"') and text.endswith("["):
            section = text.split('"')[1]
        elif text.startswith("{") and section is not None:
            try:
                record = json.loads(text)
                key = record.get("metric") if section == "metrics" else entry_key(section, record)
            except (ValueError, KeyError, AttributeError):
                continue
            lines[(section, str(key))] = number
    return lines


def _rounded(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


# -- suppressions -----------------------------------------------------------------------------

_ALLOW = re.compile(r"#\s*decomposer\s*:\s*allow\b(?P<body>.*)$")
_BODY = re.compile(r"\s*(?P<a>[^\s()]+?)\s*->\s*(?P<b>[^\s()]+)\s*(?:\((?P<reason>.*)\))?\s*$")


@dataclass(frozen=True)
class Allow:
    """One `# decomposer: allow a->b (reason)` comment."""

    site: Site
    pair: tuple[str, str] | None  # None: the comment cannot be read
    reason: str
    text: str


class Comments:
    """Allow comments of the source lines that violations cite, read on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, list[str]] = {}

    def _lines(self, file: str) -> list[str]:
        if file not in self._files:
            try:
                text = (self.root / file).read_bytes().decode("utf-8", errors="replace")
            except OSError:
                text = ""
            self._files[file] = text.splitlines()
        return self._files[file]

    def near(self, site: Site) -> list[Allow]:
        """The allow comments on the site's line, and on the line above when that line is
        only a comment."""
        lines = self._lines(site.file)
        found = []
        for number in (site.line, site.line - 1):
            if not 1 <= number <= len(lines):
                continue
            line = lines[number - 1]
            if number != site.line and not line.lstrip().startswith("#"):
                continue
            match = _ALLOW.search(line)
            if match:
                found.append(_allow(Site(site.file, number), match))
        return found


def _allow(site: Site, match: re.Match[str]) -> Allow:
    text = match.group(0).strip()
    body = _BODY.match(match.group("body"))
    if body is None:
        return Allow(site, None, "", text)
    return Allow(site, (body["a"], body["b"]), (body["reason"] or "").strip(), text)


# -- the check --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRequest:
    root: Path = Path(".")
    update_baseline: bool = False
    tighten_baseline: bool = False
    #: the baseline file, instead of the configured one
    baseline: Path | None = None
    use_cache: bool = True
    #: analysis settings from the command line (as `analyze`'s)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    #: paths in the result are relative to this folder when under it (a linter's paths)
    cwd: Path | None = None


@dataclass(frozen=True)
class Violation:
    code: str
    severity: str  # error or warning
    message: str
    fix: str
    services: tuple[str, ...] = ()
    sites: tuple[Site, ...] = ()
    #: the baseline entry it is about ("" when none: metrics, suppressions, patterns)
    section: str = ""
    key: str = ""
    #: the reason of the allow comment that accepts it; None when it is not suppressed
    suppressed: str | None = None


@dataclass
class _Found:
    """An entry found in the code: what the baseline would record, and its evidence."""

    section: str
    record: dict[str, Any]
    code: str
    message: str
    fix: str
    services: tuple[str, ...]
    sites: tuple[Site, ...]
    #: the services an allow comment must name to accept it (None: cannot be suppressed)
    pair: tuple[str, str] | None = None

    @cached_property  # asked for several times per entry, and a large tree has many
    def key(self) -> str:
        return entry_key(self.section, self.record)


def check(
    request: CheckRequest, *, registry: Registry, progress: Progress | None = None
) -> pipeline.Outcome:
    """Analyse the tree, compare its coupling across the boundaries with the baseline."""
    started = time.perf_counter()
    progress = progress or pipeline.NoProgress()
    if request.update_baseline and request.tighten_baseline:
        raise ConfigError("--update-baseline and --tighten-baseline exclude each other")
    root = request.root
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a folder"
        raise InputError(f"{root} {what}", hint="pass the folder of your project")
    root = root.resolve()
    table, where = load_check_table(root)
    settings = parse_check_settings(table, where=where)
    boundaries = load_boundaries(settings, root, where)
    baseline_path = request.baseline or root / settings.baseline
    if (request.update_baseline or request.tighten_baseline) and request.baseline is None:
        _refuse_outside(baseline_path, root, where)
    if request.update_baseline:  # replaced whatever it holds (or whether it can be read)
        baseline = Baseline.empty(boundaries.level)
    else:
        baseline = load_baseline(baseline_path, boundaries.level)

    # co-changes from git history are no dependency: the check never reads them, and leaving
    # the history analyzer out keeps a warm cache warm across commits; nor does it compare use
    # cases, so entry points are not looked for
    analyze_request = pipeline.AnalyzeRequest(
        root,
        overrides={"history": False, "entry_points": False, **request.overrides},
        use_cache=request.use_cache,
    )
    prepared = pipeline.prepare_analysis(analyze_request, registry=registry, progress=progress)
    cache = prepared.context.cache
    key = _result_key(prepared.key, request, settings, boundaries, baseline_path)
    summary = _cached_result(cache, key)
    if summary is None:
        checked, figures, kept = _analyse(prepared, boundaries)
        outlive(checked)
        progress.start("checking the boundaries", 1)
        summary = _check_graph(
            checked, root, request, settings, boundaries, baseline_path, baseline
        )
        static = figures.get("analyzers", {}).get("static", {})
        summary["analysis"] = {
            "files": static.get("files", 0),
            "lines_of_code": figures.get("lines_of_code", 0),
            "reused_last_run": figures.get("reused_last_run", False),
            # None when the last run's graph was reused: nothing was resolved
            "modules_resolved": static.get("modules_resolved"),
            "cache": figures.get("cache", {}),
            "seconds": figures.get("seconds"),
        }
        result = summary
        writing = request.update_baseline or request.tighten_baseline
        if writing and request.use_cache and kept:
            # the next check (a commit's) compares the same tree with the baseline just
            # written: its result is kept for it, from the graph at hand
            plain = replace(request, update_baseline=False, tighten_baseline=False)
            key = _result_key(prepared.key, plain, settings, boundaries, baseline_path)
            written = load_baseline(baseline_path, boundaries.level)
            result = _check_graph(
                checked, root, plain, settings, boundaries, baseline_path, written
            )
            result["analysis"] = summary["analysis"]
        if key is not None and kept:
            cache.put_text(RESULT, json.dumps({"key": key, "summary": result}))
        progress.advance()
    summary["reused_last_check"] = summary.get("reused_last_check", False)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return pipeline.Outcome(1 if summary["counts"]["errors"] else 0, summary)


@dataclass
class _Checked:
    """What the rules read: the atom graph (`inside_calls`: the static calls between atoms of
    one service it leaves out), and a graph with the tables and their foreign keys."""

    graph: DependencyGraph
    atoms: AtomGraph
    inside_calls: int = 0


def _analyse(
    prepared: pipeline.PreparedAnalysis, boundaries: Boundaries
) -> tuple[_Checked, dict[str, Any], bool]:
    """The tree analysed for the check; the analysis's summary; whether its result may be
    kept (no file changed while it was read).

    When the static analyzer is the only one with anything to add (no traces, no analyzer
    from another package), it makes the atom graph straight from each module's resolved
    part, with only the edges that cross services: neither the graph nor the whole atom
    graph is assembled (analyzers/static/crossing.py). Otherwise the graph is."""
    context = prepared.context
    names = {analyzer.name for analyzer in prepared.analyzers}
    static = next((a for a in prepared.analyzers if a.name == "static"), None)
    alone = names <= {"static", "history", "runtime"} and not context.settings.traces
    if static is not None and alone and hasattr(static, "crossings"):
        service_of, _ = boundaries.matcher()
        found, figures = static.crossings(
            context, boundaries.level, service_of, repr(boundaries.patterns)
        )
        summary = {
            "lines_of_code": found.lines_of_code,
            "analyzers": {"static": figures},
            "reused_last_run": False,
            "cache": {"hits": context.cache.hits, "misses": context.cache.misses},
            "seconds": round(time.perf_counter() - prepared.started, 3),
        }
        checked = _Checked(found.graph, found.atoms, found.inside_calls)
        return checked, summary, not figures.get("changed_during_analysis")
    analysis = pipeline.run_analysis(prepared, keep=False)
    try:
        graph = analysis.graph()
    except InputError:  # the last run's graph is damaged: drop it and analyse again
        context.cache.put_text(pipeline.LAST_RUN, "null")
        analysis = pipeline.run_analysis(prepared, keep=False)
        graph = analysis.graph()
    checked = _Checked(graph, AtomGraph.from_graph(graph, boundaries.level))
    return checked, analysis.summary, analysis.matches_key


def _refuse_outside(path: Path, root: Path, where: str) -> None:
    """A baseline path from the project's configuration is written only inside the project:
    a configuration is data from the tree, and may lead anywhere ("..", an absolute path, a
    symlinked folder). `--baseline` names a file outside on purpose."""
    if not path.parent.resolve().is_relative_to(root):
        raise ConfigError(
            f"the baseline {path} ('baseline' in {where}) is outside the project {root}; "
            "it is not written there",
            hint="set 'baseline' to a path inside the project, or pass --baseline FILE",
        )


#: The last check's result, in the analysis cache: reused as it is when the tree (every file,
#: comments included), the settings, the boundaries and the baseline are all unchanged.
RESULT = "last-check.json"


def _result_key(
    run_key: str,
    request: CheckRequest,
    settings: CheckSettings,
    boundaries: Boundaries,
    baseline_path: Path,
) -> str | None:
    """What the check's result depends on: the analysis's inputs (`run_key`: every file's
    content, settings, versions), the check's settings, boundaries and baseline. None when
    the result is not to be reused (the baseline is being written)."""
    if request.update_baseline or request.tighten_baseline:
        return None
    try:
        baseline = baseline_path.read_bytes() if baseline_path.exists() else b"-"
    except OSError:
        return None
    cwd = (request.cwd or Path.cwd()).resolve()
    return content_key(
        __version__,
        run_key,
        repr(settings),
        repr(boundaries),
        baseline,
        str(baseline_path),
        str(cwd),
    )


def _cached_result(cache: Cache, key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    try:
        record = json.loads(cache.get_text(RESULT) or "null")
        if record is None or record["key"] != key:
            return None
        summary = record["summary"]
    except (ValueError, TypeError, KeyError):  # damaged: check again
        return None
    if not isinstance(summary, dict) or "analysis" not in summary:
        return None
    summary["reused_last_check"] = True
    return summary


def _check_graph(
    checked: _Checked,
    root: Path,
    request: CheckRequest,
    settings: CheckSettings,
    boundaries: Boundaries,
    baseline_path: Path,
    baseline: Baseline,
) -> dict[str, Any]:
    assignment, unmatched = boundaries.assign(checked.atoms)
    run = _Run(root, checked, assignment, boundaries, settings, baseline)
    state = run.evaluate(suppress_all=request.update_baseline)
    written = None
    if request.update_baseline or request.tighten_baseline:
        recorded = state.baseline(boundaries.level)
        if request.tighten_baseline:
            recorded = _tightened(baseline, recorded)
        write_json(baseline_path, recorded.to_dict())
        written = str(baseline_path)
        baseline = load_baseline(baseline_path, boundaries.level)
        run.baseline = baseline
    violations, improvements = run.compare(state)
    violations += [
        Violation(
            "DC402",
            "warning",
            f"boundary pattern '{pattern}' ({service}) matches no module, class or function",
            f"fix or remove the pattern in {boundaries.source}",
            (service,) if service != SHARED else (),
        )
        for service, pattern in unmatched
    ]
    violations.sort(key=_order)
    summary = _summary(
        request, root, boundaries, baseline_path, baseline, written, violations, improvements
    )
    summary["metrics"] = {
        name: {
            "baseline": _rounded(baseline.metrics.get(name)),
            "current": _rounded(state.metrics.get(name)),
            "tolerance": settings.tolerance[name],
        }
        for name in METRIC_TOLERANCES
    }
    return summary


@dataclass
class _State:
    """Everything the code crosses now, suppressed dependencies left out."""

    #: section -> key -> entry, without suppressed ones
    found: dict[str, dict[str, _Found]]
    #: section -> keys found in the code before suppressions (for stale entries)
    present: dict[str, set[str]]
    suppressed: list[Violation]
    invalid: list[Violation]
    metrics: dict[str, float | int | None]

    def baseline(self, level: str) -> Baseline:
        entries = {s: {k: f.record for k, f in self.found.get(s, {}).items()} for s in SECTIONS}
        return Baseline(level, entries, dict(self.metrics))


class _Run:
    def __init__(
        self,
        root: Path,
        checked: _Checked,
        assignment: dict[str, str],
        boundaries: Boundaries,
        settings: CheckSettings,
        baseline: Baseline,
    ) -> None:
        self.root = root
        self.graph = checked.graph
        self.atoms = checked.atoms
        self.inside_calls = checked.inside_calls
        self.assignment = assignment
        self.boundaries = boundaries
        self.settings = settings
        self.baseline = baseline
        self.comments = Comments(root)

    def service(self, atom: str) -> str | None:
        found = self.assignment.get(atom)
        return None if found is None or found == SHARED else found

    # -- finding --------------------------------------------------------------------------

    def evaluate(self, *, suppress_all: bool) -> _State:
        """What crosses the boundaries. Allow comments are looked up for the entries that are
        not in the baseline (for every entry when `suppress_all`: recording a baseline)."""
        state = _State({}, {}, [], [], {})
        atoms = self.atoms
        owners = metrics.table_owners(atoms, self.assignment)
        deps = self._dependencies(owners)
        kept = self._suppress("dependencies", deps, state, suppress_all)
        dropped = {f.key for f in deps} - {f.key for f in kept}
        if dropped:  # what an allow comment accepts is out of every count that follows
            atoms = _without(atoms, [f for f in deps if f.key in dropped])
            owners = metrics.table_owners(atoms, self.assignment)
        keys = self._foreign_keys(owners)
        kept_keys = self._suppress("foreign_keys", keys, state, suppress_all)
        if len(kept_keys) < len(keys):
            removed = {(f.record["source"], f.record["target"]) for f in keys} - {
                (f.record["source"], f.record["target"]) for f in kept_keys
            }
            atoms = replace(
                atoms,
                foreign_keys=tuple(
                    (a, b)
                    for a, b in atoms.foreign_keys
                    if (f"table:{a}", f"table:{b}") not in removed
                ),
                _index={},
            )
        measured = metrics.crossing(atoms, self.assignment, owners, self.inside_calls)
        state.metrics = {
            name: measured.overall.get(name)
            for name in METRIC_TOLERANCES
            if name in measured.overall
        }
        state.metrics["cross_service_edges"] = measured.cross_service_edges
        cycles = self._cycles(measured.cycles, kept)
        shared = self._shared_tables(atoms, owners)
        unassigned = self._unassigned()
        for section, found in (
            ("dependencies", kept),
            ("foreign_keys", kept_keys),
            ("cycles", cycles),
            ("shared_tables", shared),
            ("unassigned", unassigned),
        ):
            state.found[section] = {f.key: f for f in found}
        state.present["dependencies"] = {f.key for f in deps}
        state.present["foreign_keys"] = {f.key for f in keys}
        for section in ("cycles", "shared_tables", "unassigned"):
            state.present[section] = set(state.found[section])
        return state

    def _dependencies(self, owners: Mapping[str, metrics.TableOwnership]) -> list[_Found]:
        found = []
        dependency = frozenset(metrics.DEPENDENCY_KINDS)
        assigned = self.assignment
        for edge in self.atoms.edges:  # every atom edge: the service() calls inlined
            if edge.kind not in dependency:
                continue
            a, b = assigned.get(edge.source), assigned.get(edge.target)
            if a == b or a is None or b is None or SHARED in (a, b):
                continue
            found.append(
                self._dependency(a, b, edge.kind.value, edge.source, edge.target, edge.sites)
            )
        for access in self.atoms.access:
            a = self.service(access.atom)
            owner = owners[access.table].owner if access.table in owners else None
            if a is None or owner is None or a == owner:
                continue
            found.append(
                self._dependency(
                    a, owner, access.kind, access.atom, f"table:{access.table}", access.sites
                )
            )
        return found

    def _dependency(
        self, a: str, b: str, kind: str, source: str, target: str, sites: tuple[Site, ...]
    ) -> _Found:
        code, verb = _KIND_RULES[kind]
        record = {"from": a, "to": b, "kind": kind, "source": source, "target": target}
        if code == "DC104":
            table = target.removeprefix("table:")
            message = f"{source} ({a}) {verb} table {table}, owned by {b}"
            fix = (
                f"let {b} do it through its API (or an event it handles), or move this code "
                f"into {b}; if it is meant to stay, {_accept(a, b)}"
            )
        else:
            message = f"{source} ({a}) {verb} {target} ({b})"
            fix = (
                f"call {b} through its public API instead, or move {source} into {b}; if it is "
                f"meant to stay, {_accept(a, b)}"
            )
        return _Found("dependencies", record, code, message, fix, (a, b), sites, (a, b))

    def _foreign_keys(self, owners: Mapping[str, metrics.TableOwnership]) -> list[_Found]:
        found = []
        for edge in self.graph.edges(EdgeKind.FOREIGN_KEY):
            a_table, b_table = (
                edge.source.removeprefix("table:"),
                edge.target.removeprefix("table:"),
            )
            a = owners[a_table].owner if a_table in owners else None
            b = owners[b_table].owner if b_table in owners else None
            if a is None or b is None or a == b:
                continue
            record = {"from": a, "to": b, "source": edge.source, "target": edge.target}
            message = f"foreign key {a_table} -> {b_table} crosses services: {a} -> {b}"
            fix = (
                f"keep the id without the constraint and ask {b}'s API for the rest, or give "
                f"both tables to one service; if it is meant to stay, {_accept(a, b)}"
            )
            found.append(
                _Found("foreign_keys", record, "DC203", message, fix, (a, b), edge.sites, (a, b))
            )
        return found

    def _cycles(self, cycles: Iterable[tuple[str, ...]], deps: list[_Found]) -> list[_Found]:
        found = []
        known = self.baseline.entries.get("dependencies", {})
        for cycle in cycles:
            members = set(cycle)
            inside = [f for f in deps if f.record["from"] in members and f.record["to"] in members]
            new = [f for f in inside if f.key not in known] or inside
            sites = tuple(sorted({s for f in new for s in f.sites}))[:10]
            message = f"services {_names(list(cycle))} depend on each other in a cycle"
            fix = (
                "remove one of the dependencies that close it (move the code, publish an event "
                "instead of calling back, or call an API the other side owns); or record the "
                "cycle with --update-baseline"
            )
            record = {"services": list(cycle)}
            found.append(_Found("cycles", record, "DC201", message, fix, cycle, sites))
        return found

    def _shared_tables(
        self, atoms: AtomGraph, owners: Mapping[str, metrics.TableOwnership]
    ) -> list[_Found]:
        found = []
        writes: dict[str, list[Any]] = defaultdict(list)
        for access in atoms.access:
            if access.kind == "writes":
                writes[access.table].append(access)
        for table, ownership in sorted(owners.items()):
            if len(ownership.writers) < 2:
                continue
            writers = sorted(ownership.writers)
            others = [s for s in writers if s != ownership.owner]
            sites = tuple(
                sorted(
                    {s for a in writes[table] if self.service(a.atom) in others for s in a.sites}
                )
            )[:10]
            record = {"table": table, "writers": writers}
            message = (
                f"table {table} is written by {len(writers)} services: {_names(writers)} "
                f"(owner: {ownership.owner})"
            )
            fix = (
                f"leave the writes to {ownership.owner}: the others call its API or publish "
                "events it turns into writes; or record it with --update-baseline"
            )
            found.append(
                _Found("shared_tables", record, "DC202", message, fix, tuple(writers), sites)
            )
        return found

    def _unassigned(self) -> list[_Found]:
        if self.settings.unassigned == "off":
            return []
        modules: dict[str, int] = defaultdict(int)
        for atom in self.atoms.atoms:
            if atom not in self.assignment:
                modules[self.atoms.module_of(atom)] += 1
        found = []
        for module, count in sorted(modules.items()):
            node = self.atoms.nodes.get(module)
            file = node.file if node is not None else None
            sites = (Site(file, 1),) if file else ()
            if module in self.assignment:  # the module is placed, some of its atoms are not
                message = f"{count} atom(s) of module {module} belong to no service"
            else:
                message = f"module {module} belongs to no service"
            fix = (
                f"add it (or a package above it) to a service, or to `shared`, in "
                f"{self.boundaries.source}; or record it with --update-baseline"
            )
            found.append(
                _Found("unassigned", {"module": module}, "DC401", message, fix, (), sites)
            )
        return found

    # -- suppressing ----------------------------------------------------------------------

    def _suppress(
        self, section: str, found: list[_Found], state: _State, suppress_all: bool
    ) -> list[_Found]:
        """The entries no allow comment accepts; the accepted ones go to state.suppressed and
        comments without a reason to state.invalid."""
        known = self.baseline.entries.get(section, {})
        kept = []
        for entry in found:
            if entry.pair is None or (not suppress_all and entry.key in known):
                kept.append(entry)
                continue
            reason = self._allowed(entry, state)
            if reason is None:
                kept.append(entry)
            else:
                state.suppressed.append(_violation(entry, "error", suppressed=reason))
        return kept

    def _allowed(self, entry: _Found, state: _State) -> str | None:
        for site in entry.sites:
            for allow in self.comments.near(site):
                if allow.pair is None:
                    self._invalid(state, allow, "cannot read the allow comment", entry.pair)
                elif allow.pair == entry.pair:
                    if allow.reason:
                        return allow.reason
                    self._invalid(state, allow, "an allow comment needs a reason", entry.pair)
        return None

    def _invalid(
        self, state: _State, allow: Allow, problem: str, pair: tuple[str, str] | None
    ) -> None:
        if any(v.sites == (allow.site,) for v in state.invalid):
            return
        a, b = pair or ("<from>", "<to>")
        state.invalid.append(
            Violation(
                "DC001",
                "error",
                f"{problem}: `{allow.text}`",
                f"write `# decomposer: allow {a}->{b} (why it is accepted)`; the reason in "
                "parentheses is required",
                pair or (),
                (allow.site,),
            )
        )

    # -- comparing ------------------------------------------------------------------------

    def compare(self, state: _State) -> tuple[list[Violation], list[Violation]]:
        """Violations (new entries, worse metrics, bad comments) and improvements (baseline
        entries gone, better metrics)."""
        baseline = self.baseline
        violations = list(state.invalid) + list(state.suppressed)
        improvements = []
        for section in SECTIONS:
            known = baseline.entries.get(section, {})
            for key, entry in state.found.get(section, {}).items():
                if key in known:
                    continue
                severity = self.settings.unassigned if section == "unassigned" else "error"
                violations.append(_violation(entry, severity))
            present = state.present.get(section, set())
            for key, record in known.items():
                if key not in present:
                    improvements.append(self._stale(section, key, record))
        for name, tolerance in self.settings.tolerance.items():
            before, now = baseline.metrics.get(name), state.metrics.get(name)
            if not isinstance(before, int | float) or not isinstance(now, int | float):
                continue
            change = round(now - before, 9)
            if change > tolerance:
                violations.append(
                    Violation(
                        "DC301",
                        "error",
                        f"{name} rose from {_number(before)} to {_number(now)} "
                        f"(tolerance {_number(tolerance)})",
                        "fix the new dependencies reported with it, or accept the new value "
                        "with --update-baseline (or raise tolerance."
                        f"{name} in [tool.decomposer.check.tolerance])",
                        section="metrics",
                        key=name,
                    )
                )
            elif change < -tolerance:
                improvements.append(
                    self._stale_metric(
                        name, f"{name} fell from {_number(before)} to {_number(now)}"
                    )
                )
        if self.settings.stale != "off":
            violations += [replace(i, severity=self.settings.stale) for i in improvements]
        return violations, improvements

    def _stale(self, section: str, key: str, record: Mapping[str, Any]) -> Violation:
        line = self.baseline.lines.get((section, key))
        return Violation(
            "DC501",
            "info",
            f"fixed since the baseline: {_describe(section, record)}",
            "record the improvement so that it cannot come back: "
            "decomposer check --tighten-baseline",
            tuple(_services_of(section, record)),
            (Site(self._baseline_file(), line),) if line else (),
            section,
            key,
        )

    def _stale_metric(self, name: str, message: str) -> Violation:
        line = self.baseline.lines.get(("metrics", name))
        return Violation(
            "DC501",
            "info",
            message,
            "record the improvement so that it cannot come back: "
            "decomposer check --tighten-baseline",
            (),
            (Site(self._baseline_file(), line),) if line else (),
            "metrics",
            name,
        )

    def _baseline_file(self) -> str:
        return "\0baseline"  # replaced by the baseline's path when the result is written


def _accept(a: str, b: str) -> str:
    return (
        f"add `# decomposer: allow {a}->{b} (why)` on the line, or record it with "
        "decomposer check --update-baseline"
    )


def _violation(entry: _Found, severity: str, *, suppressed: str | None = None) -> Violation:
    return Violation(
        entry.code,
        severity,
        entry.message,
        entry.fix,
        entry.services,
        entry.sites,
        entry.section,
        entry.key,
        suppressed,
    )


def _without(atoms: AtomGraph, accepted: list[_Found]) -> AtomGraph:
    """The atoms without the dependencies an allow comment accepts."""
    edges = {(f.record["source"], f.record["target"], f.record["kind"]) for f in accepted}
    return replace(
        atoms,
        edges=tuple(e for e in atoms.edges if (e.source, e.target, e.kind.value) not in edges),
        access=tuple(a for a in atoms.access if (a.atom, f"table:{a.table}", a.kind) not in edges),
        _index={},
    )


def _tightened(old: Baseline, now: Baseline) -> Baseline:
    """The old baseline without what is gone, its metrics lowered to today's where better;
    nothing new is accepted."""
    entries = {
        section: {
            k: r for k, r in old.entries.get(section, {}).items() if k in now.entries[section]
        }
        for section in SECTIONS
    }
    values: dict[str, float | int | None] = {}
    for name in set(old.metrics) | set(now.metrics):
        before, current = old.metrics.get(name), now.metrics.get(name)
        if isinstance(before, int | float) and isinstance(current, int | float):
            values[name] = min(before, current)
        else:
            values[name] = before if name in old.metrics else current
    return Baseline(old.level, entries, values)


def _describe(section: str, record: Mapping[str, Any]) -> str:
    if section == "dependencies":
        verb = _KIND_RULES.get(record.get("kind", ""), ("", record.get("kind")))[1]
        return (
            f"{record.get('source')} ({record.get('from')}) {verb} "
            f"{record.get('target')} ({record.get('to')})"
        )
    if section == "cycles":
        return f"cycle of {_names(list(record.get('services', [])))}"
    if section == "shared_tables":
        return f"table {record.get('table')} written by {_names(list(record.get('writers', [])))}"
    if section == "foreign_keys":
        return f"foreign key {record.get('source')} -> {record.get('target')}"
    return f"module {record.get('module')} in no service"


def _services_of(section: str, record: Mapping[str, Any]) -> list[str]:
    if section in ("dependencies", "foreign_keys"):
        return [str(record.get("from")), str(record.get("to"))]
    if section == "cycles":
        return [str(s) for s in record.get("services", [])]
    if section == "shared_tables":
        return [str(s) for s in record.get("writers", [])]
    return []


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _number(value: float) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _order(v: Violation) -> tuple[Any, ...]:
    """Suppressed last; the others by place, as a linter lists them, the placeless at the end."""
    first = v.sites[0] if v.sites else Site("", 0)
    return (v.suppressed is not None, not v.sites, first, v.code, v.key)


# -- the result -------------------------------------------------------------------------------


def _summary(
    request: CheckRequest,
    root: Path,
    boundaries: Boundaries,
    baseline_path: Path,
    baseline: Baseline,
    written: str | None,
    violations: list[Violation],
    improvements: list[Violation],
) -> dict[str, Any]:
    cwd = (request.cwd or Path.cwd()).resolve()
    shown_baseline = _shown(baseline_path.resolve(), cwd)

    def path(file: str) -> str:
        if file == "\0baseline":
            return shown_baseline
        return _shown(root / file, cwd)

    def record(v: Violation) -> dict[str, Any]:
        sites = [f"{path(s.file)}:{s.line}" for s in v.sites]
        first = v.sites[0] if v.sites else None
        found = {
            "code": v.code,
            "rule": RULES[v.code].name,
            "severity": v.severity,
            "message": v.message,
            "fix": v.fix,
            "services": list(v.services),
            "file": path(first.file) if first else None,
            "line": first.line if first else None,
            "sites": sites,
            "fingerprint": f"{v.code}:{v.key}" if v.key else f"{v.code}:{v.message}",
        }
        if v.suppressed is not None:
            found["reason"] = v.suppressed
        return found

    active = [v for v in violations if v.suppressed is None]
    return {
        "root": _shown(root, cwd),
        "level": boundaries.level,
        "boundaries": boundaries.source,
        "services": boundaries.services,
        "baseline": {
            "path": shown_baseline,
            "exists": baseline.exists,
            "written": shown_baseline if written else None,
        },
        "violations": [record(v) for v in active],
        "suppressed": [record(v) for v in violations if v.suppressed is not None],
        "improvements": [record(v) for v in improvements],
        "counts": {
            "errors": sum(1 for v in active if v.severity == "error"),
            "warnings": sum(1 for v in active if v.severity == "warning"),
            "suppressed": sum(1 for v in violations if v.suppressed is not None),
            "improvements": len(improvements),
        },
    }


def _shown(path: Path, cwd: Path) -> str:
    """A path as a linter prints it: relative to the current folder when under it."""
    try:
        return path.relative_to(cwd).as_posix() or "."
    except ValueError:
        return os.fspath(path)
