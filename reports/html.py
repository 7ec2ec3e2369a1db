"""The HTML report: one self-contained `report.html` that opens from disk, offline.

It is built in two steps (as coverage.py builds its HTML): `build_page` turns the graph and
the proposals into frozen dataclasses of display strings, then the jinja2 template
`templates/report.html.j2` lays them out with autoescaping on, so every name, path, SQL
string or route that comes from the analysed code is escaped by the template. The only
markup that bypasses escaping is graphviz's SVG (dot writes our entity-escaped labels into
it as text) and the atoms' JSON (its `<`, `>` and `&` are written as \\u escapes, so it
cannot close its script element).

Nothing is fetched: styles and scripts are inline, a Content-Security-Policy forbids every
network request, and the diagrams are inline SVG. Big monoliths stay usable: member lists
are collapsed and cut at `MEMBERS_SHOWN`, findings at `FINDINGS_SHOWN` per kind, the table
matrix at `MATRIX_TABLES_SHOWN` rows (each with the count of what was left out), the atom
explorer pages through the atoms in the browser, and the service map is the aggregated one
from `reports.graphviz`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import jinja2
from markupsafe import Markup

from decomposer import __version__
from decomposer.files import write_text
from decomposer.metrics import DIRECTIONS
from decomposer.model.atoms import DEFAULT_LEVEL
from decomposer.model.graph import DependencyGraph, NodeKind
from decomposer.plugins import ReportInput
from reports.graphviz import (
    INSTALL_HINT,
    SHARED,
    atom_graph,
    inline_svg,
    plural,
    service_colors,
    service_dot,
    service_map_dot,
    to_svgs,
)

#: Members listed in a service's card (the atom explorer has them all).
MEMBERS_SHOWN = 150
#: API atoms listed in a service's card.
API_SHOWN = 60
#: Findings shown per kind, and per service card.
FINDINGS_SHOWN = 100
CARD_FINDINGS_SHOWN = 25
#: Evidence items shown per finding.
EVIDENCE_SHOWN = 12
#: Code ids listed per saga step.
STEP_CODE_SHOWN = 8
#: Rows of the table-ownership matrix.
MATRIX_TABLES_SHOWN = 300

KIND_LABELS = {
    "saga": "Sagas",
    "cqrs": "CQRS candidates",
    "shared-table": "Shared tables",
    "sync-call-chain": "Synchronous call chains",
    "service-cycle": "Service cycles",
    "stateful": "State in the process",
    "serverless-candidate": "Serverless candidates",
    "cross-service-join": "Cross-service SQL joins",
    "cross-service-foreign-key": "Cross-service foreign keys",
}
SEVERITIES = ("high", "medium", "low", "info")
#: The metrics on the summary's tiles.
KEY_METRICS = (
    "modularity",
    "icp",
    "structural_modularity",
    "sagas_needed",
    "shared_tables",
    "service_cycles",
    "cross_service_joins",
)
#: Per-service metrics in the cards and the per-service table, in this order.
SERVICE_METRICS = (
    "atoms",
    "loc",
    "interface",
    "tables_owned",
    "afferent",
    "efferent",
    "instability",
    "chm",
    "chd",
    "bcp",
)
#: Shown only when the graph has git history (see docs/history.md).
TEAM_METRICS = ("authors", "tsr")


class HtmlReport:
    name: ClassVar[str] = "html"
    summary: ClassVar[str] = "report.html: one self-contained page to read and explore"

    def render(self, request: ReportInput) -> list[Path]:
        if not request.proposals:
            return []
        page = build_page(request.graph, request.proposals, request.title, request.dot)
        return [write_text(request.out_dir / "report.html", render_page(page))]


# -- the view -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    hint: str = ""  # "higher is better"


@dataclass(frozen=True)
class Ref:
    """A link to a service card or a finding."""

    name: str
    anchor: str
    note: str = ""


@dataclass(frozen=True)
class Member:
    id: str
    where: str
    confidence: str
    level: str  # "high", "mid", "low": how sure the placement is, for the colour
    api: bool
    reasons: tuple[tuple[str, str], ...]  # (text, share of the evidence)


@dataclass(frozen=True)
class ServiceCard:
    index: int
    name: str
    anchor: str
    color: str
    figures: tuple[Figure, ...]
    members: tuple[Member, ...]
    members_total: int
    tables: tuple[str, ...]
    api: tuple[str, ...]
    api_total: int
    depends_on: tuple[Ref, ...]
    used_by: tuple[Ref, ...]
    findings: tuple[Ref, ...]
    findings_total: int
    diagram: Markup | None
    #: The people who changed the service's code most, with their recency-weighted commits.
    team: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    service: Ref
    tables: str
    code: tuple[str, ...]
    compensation: str


@dataclass(frozen=True)
class FindingView:
    anchor: str
    id: str
    kind: str
    severity: str
    title: str
    services: tuple[Ref, ...]
    service_keys: str  # service indexes for the filter, space separated
    advice: str
    facts: tuple[Figure, ...]
    steps: tuple[Step, ...]
    evidence: tuple[str, ...]
    evidence_total: int


@dataclass(frozen=True)
class FindingGroup:
    kind: str
    label: str
    findings: tuple[FindingView, ...]
    total: int


@dataclass(frozen=True)
class MatrixRow:
    table: str
    owner: str
    cells: tuple[tuple[str, str], ...]  # (text, css class) per service


@dataclass(frozen=True)
class ExtractionStep:
    position: int
    service: Ref
    cost: str
    calls_out: str
    calls_in: str
    shared_tables: str
    foreign_keys: str


@dataclass(frozen=True)
class Comparison:
    columns: tuple[Figure, ...]  # label, key, and "higher/lower is better"
    rows: tuple[tuple[str, bool, tuple[tuple[str, bool], ...]], ...]  # name, featured, cells


@dataclass(frozen=True)
class Page:
    title: str
    version: str
    strategy: str
    level: str
    k_choice: str
    tiles: tuple[Figure, ...]
    graph_figures: tuple[Figure, ...]
    severity_counts: tuple[tuple[str, int], ...]
    service_map: Markup | None
    map_note: str
    services: tuple[ServiceCard, ...]
    service_options: tuple[tuple[str, str], ...]  # (filter value, label)
    shared_count: int
    matrix_services: tuple[Ref, ...]
    matrix: tuple[MatrixRow, ...]
    matrix_total: int
    kinds: tuple[tuple[str, str], ...]
    finding_groups: tuple[FindingGroup, ...]
    findings_total: int
    extraction: tuple[ExtractionStep, ...]
    comparison: Comparison | None
    metrics: tuple[Figure, ...]
    service_metrics: tuple[tuple[Ref, tuple[str, ...]], ...]
    service_metric_names: tuple[str, ...]
    atoms_json: Markup
    atoms_total: int


def build_page(
    graph: DependencyGraph,
    proposals: Sequence[Mapping[str, Any]],
    title: str,
    dot: str | None,
) -> Page:
    """Everything the template shows, as display strings (the featured proposal first)."""
    proposal = proposals[0]
    services: dict[str, Mapping[str, Any]] = dict(proposal.get("services", {}))
    names = sorted(services)
    index = {name: i for i, name in enumerate(names)}
    colors = service_colors(names)
    explanations: Mapping[str, Mapping[str, Any]] = proposal.get("explanations", {})
    metrics: Mapping[str, Any] = proposal.get("metrics", {})
    overall: Mapping[str, Any] = metrics.get("overall", {})
    findings: list[Mapping[str, Any]] = list(proposal.get("findings", []))

    def ref(name: str, note: str = "") -> Ref:
        return Ref(name, f"service-{index[name]}" if name in index else "", note)

    service_map, map_note, diagrams = _diagrams(graph, proposal, names, dot)
    finding_views = [_finding(i, f, index, ref) for i, f in enumerate(findings)]
    cards = tuple(
        _card(
            graph,
            name,
            index[name],
            colors[name],
            services,
            explanations,
            metrics.get("services", {}).get(name, {}),
            [v for v in finding_views if any(s.name == name for s in v.services)],
            ref,
            diagrams.get(name),
        )
        for name in names
    )
    per_service = metrics.get("services", {}).values()
    with_history = any(m.get("tsr") is not None for m in per_service)
    service_metric_names = SERVICE_METRICS + (TEAM_METRICS if with_history else ())
    shared = list(proposal.get("shared", {}).get("members", []))
    severity = Counter(str(f.get("severity", "info")) for f in findings)
    tables: Mapping[str, Mapping[str, Any]] = proposal.get("tables", {})
    return Page(
        title=title,
        version=__version__,
        strategy=str(proposal.get("strategy", "")),
        level=str(proposal.get("level", DEFAULT_LEVEL)),
        k_choice=str(proposal.get("k_choice", "")),
        tiles=_tiles(overall, len(names), len(findings)),
        graph_figures=_graph_figures(graph),
        severity_counts=tuple((s, severity[s]) for s in SEVERITIES if severity[s]),
        service_map=service_map,
        map_note=map_note,
        services=cards,
        service_options=(*((str(i), n) for i, n in enumerate(names)), ("shared", "shared")),
        shared_count=len(shared),
        matrix_services=tuple(ref(name) for name in names),
        matrix=tuple(_matrix(tables, names)),
        matrix_total=len(tables),
        kinds=tuple(
            (kind, KIND_LABELS.get(kind, kind))
            for kind in _kind_order(f["kind"] for f in findings)
        ),
        finding_groups=_groups(finding_views),
        findings_total=len(findings),
        extraction=tuple(_extraction(proposal.get("extraction_order", []), ref)),
        comparison=_comparison(proposals) if len(proposals) > 1 else None,
        metrics=tuple(
            Figure(key, fmt(value), _direction(key)) for key, value in _ordered(overall).items()
        ),
        service_metrics=tuple(
            (
                ref(name),
                tuple(
                    fmt(metrics.get("services", {}).get(name, {}).get(key))
                    for key in service_metric_names
                ),
            )
            for name in names
        ),
        service_metric_names=service_metric_names,
        atoms_json=_atoms_json(graph, explanations, index, colors, names),
        atoms_total=len(explanations),
    )


def render_page(page: Page) -> str:
    return _environment().get_template("report.html.j2").render(page=page)


def _environment() -> jinja2.Environment:
    # PackageLoader reads the templates through importlib, so an installed (not editable)
    # decomposer finds them as package data too.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _diagrams(
    graph: DependencyGraph, proposal: Mapping[str, Any], names: list[str], dot: str | None
) -> tuple[Markup | None, str, dict[str, Markup]]:
    """The inline service map, a note when there is none, and each service's diagram."""
    if dot is None:
        return None, INSTALL_HINT, {}
    atoms = atom_graph(graph, proposal.get("level", DEFAULT_LEVEL))
    sources = [service_map_dot(proposal)] + [service_dot(proposal, n, atoms) for n in names]
    laid_out = to_svgs(sources, dot)
    svg, error = laid_out[0]
    # dot wrote every label from our entity-escaped text: its SVG is safe to embed as is.
    diagrams = {
        name: Markup(inline_svg(found))
        for name, (found, _) in zip(names, laid_out[1:], strict=True)
        if found is not None
    }
    if svg is None:
        return None, f"graphviz could not draw the service map: {error}", diagrams
    return Markup(inline_svg(svg)), "", diagrams


def _tiles(overall: Mapping[str, Any], services: int, findings: int) -> tuple[Figure, ...]:
    tiles = [
        Figure("services", fmt(services)),
        Figure(
            "atoms",
            fmt(overall.get("atoms")),
            f"{fmt(overall.get('shared_atoms'))} in the shared library",
        ),
    ]
    tiles += [Figure(key, fmt(overall.get(key)), _direction(key)) for key in KEY_METRICS]
    tiles.append(Figure("findings", fmt(findings)))
    return tuple(tiles)


def _graph_figures(graph: DependencyGraph) -> tuple[Figure, ...]:
    counts = graph.count_nodes()
    loc = sum(node.loc for node in graph.nodes(NodeKind.MODULE))
    return (
        Figure("modules", fmt(counts["module"])),
        Figure("classes", fmt(counts["class"])),
        Figure("functions", fmt(counts["function"])),
        Figure("lines of code", fmt(loc)),
        Figure("tables", fmt(counts["table"])),
        Figure("entry points", fmt(counts["entry"])),
    )


def _card(
    graph: DependencyGraph,
    name: str,
    position: int,
    color: str,
    services: Mapping[str, Mapping[str, Any]],
    explanations: Mapping[str, Mapping[str, Any]],
    metrics: Mapping[str, Any],
    findings: list[FindingView],
    ref: Any,
    diagram: Markup | None,
) -> ServiceCard:
    info = services[name]
    # team figures only with history: None means the graph has none
    shown = [k for k in SERVICE_METRICS if k in metrics]
    shown += [k for k in TEAM_METRICS if metrics.get(k) is not None]
    members = sorted(info.get("members", []))
    api = sorted(info.get("api", []))
    api_set = set(api)
    depends = sorted(info.get("depends_on", {}).items(), key=lambda item: (-item[1], item[0]))
    used_by = sorted(
        ((other, body.get("depends_on", {}).get(name, 0)) for other, body in services.items()),
        key=lambda item: (-item[1], item[0]),
    )
    return ServiceCard(
        index=position,
        name=name,
        anchor=f"service-{position}",
        color=color,
        figures=tuple(Figure(key, fmt(metrics[key]), _direction(key)) for key in shown),
        members=tuple(
            _member(graph, m, explanations.get(m, {}), m in api_set)
            for m in members[:MEMBERS_SHOWN]
        ),
        members_total=len(members),
        tables=tuple(sorted(info.get("tables", []))),
        api=tuple(api[:API_SHOWN]),
        api_total=len(api),
        depends_on=tuple(ref(o, plural(n, "edge")) for o, n in depends),
        used_by=tuple(ref(o, plural(n, "edge")) for o, n in used_by if n and o != name),
        findings=tuple(Ref(f.title, f.anchor, f.severity) for f in findings[:CARD_FINDINGS_SHOWN]),
        findings_total=len(findings),
        diagram=diagram,
        team=tuple(f"{m['author']} ({fmt(m['weight'])})" for m in info.get("team", [])),
    )


def _member(
    graph: DependencyGraph, atom: str, explanation: Mapping[str, Any], api: bool
) -> Member:
    confidence = explanation.get("confidence")
    level = "low"
    if isinstance(confidence, (int, float)):
        level = "high" if confidence >= 0.7 else "mid" if confidence >= 0.4 else "low"
    reasons = tuple(
        (str(r.get("text", "")), _percent(r.get("weight")))
        for r in explanation.get("reasons", [])
        if isinstance(r, Mapping)
    )
    return Member(atom, _where(graph, atom), fmt(confidence), level, api, reasons)


def _where(graph: DependencyGraph, atom: str) -> str:
    if atom not in graph:
        return ""
    node = graph.node(atom)
    if node.file is None:
        return ""
    return f"{node.file}:{node.line}" if node.line else node.file


def _finding(
    position: int, finding: Mapping[str, Any], index: Mapping[str, int], ref: Any
) -> FindingView:
    details = dict(finding.get("details", {}))
    steps = tuple(
        Step(
            ref(str(step.get("service", ""))),
            ", ".join(map(str, step.get("tables", []))),
            _capped([str(code) for code in step.get("code", [])], STEP_CODE_SHOWN),
            str(step.get("compensation", "")),
        )
        for step in details.pop("steps", [])
        if isinstance(step, Mapping)
    )
    evidence = [str(e) for e in finding.get("evidence", [])]
    involved = [str(s) for s in finding.get("services", [])]
    return FindingView(
        anchor=f"finding-{position}",
        id=str(finding.get("id", "")),
        kind=str(finding.get("kind", "")),
        severity=str(finding.get("severity", "info")),
        title=str(finding.get("title", "")),
        services=tuple(ref(s) for s in involved),
        service_keys=" ".join(str(index[s]) if s in index else "shared" for s in involved),
        advice=str(finding.get("advice", "")),
        facts=tuple(
            Figure(key.replace("_", " "), _detail(value)) for key, value in details.items()
        ),
        steps=steps,
        evidence=tuple(evidence[:EVIDENCE_SHOWN]),
        evidence_total=len(evidence),
    )


def _capped(items: list[str], limit: int) -> tuple[str, ...]:
    if len(items) <= limit:
        return tuple(items)
    return (*items[:limit], f"… and {len(items) - limit} more")


def _detail(value: Any) -> str:
    """A finding detail in one line: lists joined, pairs as "a → b (n)", dicts as "k n"."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        items = [
            f"{item[0]} → {item[1]} ({item[2]})"
            if isinstance(item, list) and len(item) == 3
            else str(item)
            for item in value
        ]
        more = f" … and {len(items) - 20} more" if len(items) > 20 else ""
        return ", ".join(items[:20]) + more
    return fmt(value)


def _groups(views: list[FindingView]) -> tuple[FindingGroup, ...]:
    by_kind: dict[str, list[FindingView]] = defaultdict(list)
    for view in views:
        by_kind[view.kind].append(view)
    return tuple(
        FindingGroup(
            kind,
            KIND_LABELS.get(kind, kind),
            tuple(by_kind[kind][:FINDINGS_SHOWN]),
            len(by_kind[kind]),
        )
        for kind in _kind_order(by_kind)
    )


def _kind_order(kinds: Any) -> list[str]:
    found = set(kinds)
    known = [kind for kind in KIND_LABELS if kind in found]
    return known + sorted(found - set(known))


def _matrix(tables: Mapping[str, Mapping[str, Any]], names: list[str]) -> list[MatrixRow]:
    rows = []
    for table, info in sorted(tables.items())[:MATRIX_TABLES_SHOWN]:
        writers, readers = info.get("writers", {}), info.get("readers", {})
        owner = str(info.get("owner") or "")
        cells = []
        for name in names:
            parts = []
            if writers.get(name):
                parts.append(f"W{writers[name]}")
            if readers.get(name):
                parts.append(f"R{readers[name]}")
            css = "own" if name == owner else "write" if writers.get(name) else ""
            css = css or ("read" if readers.get(name) else "")
            text = " ".join(parts)
            cells.append(((f"owner {text}" if name == owner else text).strip(), css))
        rows.append(MatrixRow(table, owner, tuple(cells)))
    return rows


def _extraction(order: list[Mapping[str, Any]], ref: Any) -> list[ExtractionStep]:
    def counts(value: Any) -> str:
        if not isinstance(value, Mapping) or not value:
            return "none"
        return ", ".join(f"{k} {v}" for k, v in sorted(value.items(), key=lambda i: -i[1]))

    return [
        ExtractionStep(
            position=i + 1,
            service=ref(str(step.get("service", ""))),
            cost=fmt(step.get("cost")),
            calls_out=counts(step.get("calls_out")),
            calls_in=counts(step.get("calls_in")),
            shared_tables=", ".join(map(str, step.get("shared_tables", []))) or "none",
            foreign_keys=", ".join(map(str, step.get("foreign_keys", []))) or "none",
        )
        for i, step in enumerate(order)
    ]


def _comparison(proposals: Sequence[Mapping[str, Any]]) -> Comparison:
    """Overall metrics side by side (the best value of each marked, as `compare` does), and
    agreement with a truth when the proposals carry it."""
    rows = []
    for proposal in proposals:
        metrics = proposal.get("metrics", {})
        values = dict(metrics.get("overall", {}))
        values |= dict(metrics.get("agreement") or proposal.get("agreement") or {})
        values["findings"] = len(proposal.get("findings", []))
        rows.append((str(proposal.get("strategy", "?")), values))
    keys = ["services", "shared_atoms"]
    keys += [k for k in DIRECTIONS if any(isinstance(v.get(k), (int, float)) for _, v in rows)]
    keys.append("findings")
    best: dict[str, set[int]] = {}
    for key in keys:
        if key not in DIRECTIONS:
            continue
        numbers = {
            i: v[key] for i, (_, v) in enumerate(rows) if isinstance(v.get(key), (int, float))
        }
        if len(numbers) > 1:
            target = (max if DIRECTIONS[key] > 0 else min)(numbers.values())
            best[key] = {i for i, v in numbers.items() if v == target}
    return Comparison(
        columns=tuple(Figure(key, key, _direction(key)) for key in keys),
        rows=tuple(
            (
                name,
                i == 0,
                tuple((fmt(values.get(key)), i in best.get(key, set())) for key in keys),
            )
            for i, (name, values) in enumerate(rows)
        ),
    )


def _atoms_json(
    graph: DependencyGraph,
    explanations: Mapping[str, Mapping[str, Any]],
    index: Mapping[str, int],
    colors: Mapping[str, str],
    names: list[str],
) -> Markup:
    """Every atom for the explorer: [id, service index (-1: shared), confidence, where,
    reasons]. `<`, `>` and `&` become \\u escapes, so nothing in it can end the script
    element it sits in."""
    atoms = []
    for atom, explanation in sorted(explanations.items()):
        service = str(explanation.get("service", SHARED))
        confidence = explanation.get("confidence")
        atoms.append(
            [
                atom,
                index.get(service, -1),
                confidence if isinstance(confidence, (int, float)) else None,
                _where(graph, atom),
                [
                    str(r.get("text", ""))
                    for r in explanation.get("reasons", [])
                    if isinstance(r, Mapping)
                ],
            ]
        )
    data = {"services": names, "colors": [colors[n] for n in names], "atoms": atoms}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return Markup(text)


# -- formatting -----------------------------------------------------------------------------


def fmt(value: Any) -> str:
    """A metric for people: thousands separated, at most three decimals, n/a for null."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def _percent(value: Any) -> str:
    return f"{value * 100:.0f}%" if isinstance(value, (int, float)) else ""


def _direction(key: str) -> str:
    direction = DIRECTIONS.get(key)
    if direction is None:
        return ""
    return "higher is better" if direction > 0 else "lower is better"


def _ordered(overall: Mapping[str, Any]) -> dict[str, Any]:
    """Counts first, then the metrics in the order of metrics.DIRECTIONS, then the rest."""
    first = [k for k in ("services", "atoms", "shared_atoms") if k in overall]
    ranked = [k for k in DIRECTIONS if k in overall]
    rest = sorted(k for k in overall if k not in first and k not in ranked)
    return {k: overall[k] for k in first + ranked + rest}
