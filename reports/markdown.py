"""The markdown report: report.md for pull requests and wikis.

GitHub renders the mermaid block as a diagram, so the service map travels with the text. The
report is built from the proposal dicts alone (plus the graph for sizes and the ranking of
each service's API), sorted everywhere, so the same input gives the same bytes: the golden
tests compare it byte for byte.

Every string that comes from the analysed code (names, tables, routes, SQL, paths) goes
through `text` or `code` (markdown) or `mermaid_label` (mermaid); node ids in the diagram are
generated (`s3`, `t12`), never names. Long lists are capped, and the report says what it left
out: the full data is in report.json.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from decomposer import __version__
from decomposer.files import write_text
from decomposer.metrics import DIRECTIONS
from decomposer.model.graph import DependencyGraph
from decomposer.plugins import ReportInput
from reports.graphviz import atom_graph

# Caps keep report.md readable (and GitHub's mermaid under its size limits) on monoliths of
# thousands of atoms. Whatever a cap cuts is counted in a note next to what is shown.
MAP_SERVICES = 20  # services drawn in the map, the largest first
MAP_EDGES = 40  # dependencies drawn, the heaviest first
MAP_TABLES_PER_SERVICE = 3  # owned tables drawn under each service, the most written first
API_SHOWN = 10  # API members listed per service, the most used from outside first
MEMBERS_SHOWN = 25  # members listed per service (in a folded block)
SERVICE_FINDINGS = 8  # findings listed in a service's section
MATRIX_SERVICES = 10  # service columns of the ownership matrix
MATRIX_TABLES = 60  # table rows of the ownership matrix
FINDINGS_PER_KIND = 20  # findings listed per kind
LIST_ITEMS = 5  # items of a list inside a table cell

# Key metrics, in the order the terminal shows them (all are in report.json).
KEY_METRICS = (
    "modularity",
    "structural_modularity",
    "icp",
    "ifn",
    "ned",
    "bcp",
    "chm",
    "chd",
    "shared_tables",
    "cross_service_foreign_keys",
    "cross_service_joins",
    "service_cycles",
    "sagas_needed",
    "size_balance",
)

# Finding kinds in the order of docs/findings.md, each with what to do in one line. Kinds a
# later version adds come after these, by name.
FINDING_KINDS = {
    "saga": "rebuild the all-or-nothing behaviour as a saga with compensations.",
    "shared-table": "give the table to its owner alone; other writers call its API.",
    "cross-service-foreign-key": "keep the id without the constraint.",
    "cross-service-join": "API composition, or a read model fed by both services' events.",
    "cqrs": "a read model owned by the reader, fed by the owners' events.",
    "sync-call-chain": "timeouts and circuit breakers on each crossing call, or events.",
    "service-cycle": "break the listed dependencies, the lightest first.",
    "stateful": "move the state to shared storage, or build it once at start-up.",
    "serverless-candidate": "consider running it as a function triggered by its event.",
}
SEVERITIES = ("high", "medium", "low", "info")


class MarkdownReport:
    name: ClassVar[str] = "md"
    summary: ClassVar[str] = "report.md: summary, mermaid service map, services, findings"

    def render(self, request: ReportInput) -> list[Path]:
        text_ = render_markdown(request.graph, request.proposals, request.title)
        return [write_text(request.out_dir / "report.md", text_)]


# -- escaping ----------------------------------------------------------------------------------

# Line breaks (including Unicode's) and other control characters would end a table row or a
# list item: they become a space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
# Markdown punctuation that can start emphasis, code, links, tables, strikethrough or a
# heading. `<`, `>` and `&` become entities instead, so no HTML can come through.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")
# Mermaid labels keep letters, digits and a few harmless characters; anything else becomes a
# numeric entity (`#60;`), which mermaid decodes for display. Colons and semicolons are
# encoded too: mermaid's pre-processing looks for `style ...:...#...;` on a line.
_MERMAID_UNSAFE = re.compile(r"[^\w .,/+=@$%!?()'-]")


def one_line(value: object) -> str:
    return _CONTROL.sub(" ", str(value)).strip()


def text(value: object) -> str:
    """A string from the analysed code as inline markdown text, safe in a table cell too."""
    escaped = _MD_SPECIAL.sub(r"\\\1", one_line(value))
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(value: object, *, in_table: bool = False) -> str:
    """A string from the analysed code as a code span (identifiers, paths, routes).

    Nothing is interpreted inside a code span, except that a table row splits at `|` even
    there: in a table GitHub reads `\\|` as a `|` of the content.
    """
    content = one_line(value)
    if "<" in content:
        # A code span shows `<script>` literally on GitHub, but other renderers and wikis may
        # sanitise the raw text before parsing it: such names go out as escaped text instead.
        return text(content)
    if in_table:
        content = content.replace("|", "\\|")
    if not content:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def mermaid_label(value: object) -> str:
    """A string for a quoted mermaid label: no quote, bracket, `<`, backtick or `#` left."""
    return _MERMAID_UNSAFE.sub(lambda m: f"#{ord(m.group())};", one_line(value))


# -- the document ------------------------------------------------------------------------------


def render_markdown(
    graph: DependencyGraph, proposals: Sequence[dict[str, Any]], title: str
) -> str:
    """report.md for the proposals (the first is featured) of a graph."""
    featured = proposals[0]
    out: list[str] = []
    heading = f"Decomposition of {text(title)}" if title else "Decomposition report"
    out += [f"# {heading}", ""]
    out += [f"<!-- written by decomposer {__version__}: regenerate it, do not edit -->", ""]
    out += _summary(graph, featured, len(proposals))
    sections = ["Key metrics", "Service map", "Services", "Database ownership", "Findings"]
    sections += ["Extraction order"] + (["Strategy comparison"] if len(proposals) > 1 else [])
    out += [f"- [{s}](#{s.lower().replace(' ', '-')})" for s in sections] + [""]
    out += _key_metrics(featured)
    out += _service_map(featured)
    out += _services(graph, featured)
    out += _ownership_matrix(featured)
    out += _findings(featured)
    out += _extraction_order(featured)
    if len(proposals) > 1:
        out += _comparison(proposals)
    return "\n".join(out).rstrip("\n") + "\n"


def _summary(graph: DependencyGraph, proposal: dict[str, Any], count: int) -> list[str]:
    nodes = graph.count_nodes()
    services = proposal["services"]
    shared = len(proposal.get("shared", {}).get("members", ()))
    line = (
        f"**{text(proposal['strategy'])}** proposes **{len(services)} services** at the "
        f"{text(proposal['level'])} level ({text(proposal.get('k_choice', ''))}), from "
        f"{nodes['module']:,} modules, {nodes['class']:,} classes, {nodes['function']:,} "
        f"functions, {nodes['table']:,} tables and {nodes['entry']:,} entry points."
    )
    lines = [line, ""]
    if shared:
        lines += [f"{_many(shared, 'atom')} proposed as a shared library, not a service.", ""]
    if count > 1:
        lines += [
            (
                f"{count} strategies were compared (see [Strategy comparison]"
                "(#strategy-comparison)); the sections below describe this one."
            ),
            "",
        ]
    return lines


def _key_metrics(proposal: dict[str, Any]) -> list[str]:
    overall = proposal.get("metrics", {}).get("overall", {})
    rows = [[text(m), _number(overall[m]), _direction(m)] for m in KEY_METRICS if m in overall]
    lines = ["## Key metrics", ""]
    lines += _table(["metric", "value", "better"], rows, align="lrc")
    return lines + ["", "Definitions and directions: docs/metrics.md of decomposer.", ""]


def _direction(metric: str) -> str:
    return {1: "higher", -1: "lower"}.get(DIRECTIONS.get(metric, 0), "")


# -- service map -------------------------------------------------------------------------------


def _service_map(proposal: dict[str, Any]) -> list[str]:
    services = proposal["services"]
    sizes = _sizes(proposal)
    ranked = sorted(services, key=lambda s: (-sizes.get(s, 0), s))
    shown = ranked[:MAP_SERVICES]
    ids = {name: f"s{i}" for i, name in enumerate(shown)}
    edges = sorted(
        (
            (count, source, target)
            for source in shown
            for target, count in services[source].get("depends_on", {}).items()
            if target in ids and target != source
        ),
        key=lambda e: (-e[0], e[1], e[2]),
    )
    all_edges = sum(len(s.get("depends_on", {})) for s in services.values())
    lines = ["## Service map", "", "```mermaid", "flowchart LR"]
    writes = _owner_writes(proposal)
    table_count = 0
    tables_cut = 0
    for name in shown:
        tables = services[name].get("tables", [])
        label = f"{mermaid_label(name)}<br/>{_many(sizes.get(name, 0), 'member')}"
        if tables:
            label += f", {_many(len(tables), 'table')}"
        lines.append(f'  {ids[name]}["{label}"]')
        drawn = sorted(tables, key=lambda t: (-writes.get(t, 0), t))[:MAP_TABLES_PER_SERVICE]
        tables_cut += len(tables) - len(drawn)
        for table in drawn:
            node = f"t{table_count}"
            table_count += 1
            lines.append(f'  {node}[("{mermaid_label(table)}")]')
            lines.append(f"  {ids[name]} -.- {node}")
    for count, source, target in edges[:MAP_EDGES]:
        lines.append(f"  {ids[source]} -->|{count:,}| {ids[target]}")
    lines += ["```", ""]
    notes = ["Arrows: code dependencies (calls, creations, imports …) with their count"]
    notes.append("cylinders: the tables each service owns")
    if len(ranked) > len(shown):
        notes.append(f"shows the {len(shown)} largest of {len(ranked)} services")
    drawn_edges = min(len(edges), MAP_EDGES)
    if drawn_edges < all_edges:
        notes.append(f"{drawn_edges} of {all_edges} dependencies, the heaviest")
    if tables_cut:
        notes.append(
            f"at most {MAP_TABLES_PER_SERVICE} tables per service ({tables_cut} more owned)"
        )
    lines += ["; ".join(notes) + ".", ""]
    return lines


def _sizes(proposal: dict[str, Any]) -> dict[str, int]:
    """Service -> atoms, from the metrics when present, else from the explanations."""
    per_service = proposal.get("metrics", {}).get("services", {})
    sizes = {name: m["atoms"] for name, m in per_service.items() if "atoms" in m}
    if len(sizes) < len(proposal["services"]):
        counted = Counter(e["service"] for e in proposal.get("explanations", {}).values())
        for name in proposal["services"]:
            sizes.setdefault(name, counted.get(name, 0))
    return sizes


def _owner_writes(proposal: dict[str, Any]) -> dict[str, int]:
    """Table -> how often its owner writes it (which tables to draw first)."""
    found = {}
    for table, ownership in proposal.get("tables", {}).items():
        owner = ownership.get("owner")
        found[table] = ownership.get("writers", {}).get(owner, 0) if owner else 0
    return found


# -- services ----------------------------------------------------------------------------------


def _services(graph: DependencyGraph, proposal: dict[str, Any]) -> list[str]:
    services = proposal["services"]
    sizes = _sizes(proposal)
    per_service = proposal.get("metrics", {}).get("services", {})
    users = _api_users(graph, proposal)
    used_by: dict[str, dict[str, int]] = defaultdict(dict)
    for name, service in services.items():
        for target, count in service.get("depends_on", {}).items():
            used_by[target][name] = count
    findings_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in _sorted_findings(proposal.get("findings", [])):
        for name in finding.get("services", []):
            findings_of[name].append(finding)
    members_of = _members(proposal)
    lines = ["## Services", ""]
    for name in sorted(services, key=lambda s: (-sizes.get(s, 0), s)):
        service = services[name]
        m = per_service.get(name, {})
        lines += [f"### {text(name)}", ""]
        facts = [_many(sizes.get(name, 0), "member")]
        if "loc" in m:
            facts.append(f"{m['loc']:,} lines of code")
        facts.append(f"API of {len(service.get('api', [])):,}")
        if m.get("instability") is not None:
            facts.append(f"instability {_number(m['instability'])}")
        lines += [", ".join(facts) + ".", ""]
        tables = service.get("tables", [])
        lines.append(
            "- **Owns tables:** " + (", ".join(code(t) for t in tables) if tables else "none")
        )
        lines.append("- **Depends on:** " + _counts(service.get("depends_on", {})))
        lines.append("- **Used by:** " + _counts(used_by.get(name, {})))
        lines += _team(service.get("team", []), m)
        lines.append("")
        lines += _api(service.get("api", []), users)
        lines += _service_findings(findings_of.get(name, []))
        lines += _member_list(members_of.get(name, []), proposal.get("explanations", {}))
    shared = proposal.get("shared", {}).get("members", [])
    if shared:
        lines += ["### Shared library", ""]
        lines += [f"{_many(len(shared), 'atom')} used across services, proposed as a library."]
        lines.append("")
        lines += _member_list(sorted(shared), proposal.get("explanations", {}))
    return lines


def _team(team: list[Mapping[str, Any]], m: Mapping[str, Any]) -> list[str]:
    """The people who changed the service's code most, and its team size reduction; nothing
    for a graph without git history."""
    if not team:
        return []
    people = ", ".join(f"{text(p['author'])} ({_number(p['weight'])})" for p in team)
    line = f"- **Team:** {people}"
    if m.get("tsr") is not None:
        line += f"; {m['authors']:,} authors, team size reduction {_number(m['tsr'])}"
    return [line]


def _counts(counts: Mapping[str, int]) -> str:
    if not counts:
        return "none"
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{text(name)} ({count:,})" for name, count in ranked)


def _api_users(graph: DependencyGraph, proposal: dict[str, Any]) -> dict[str, Counter[str]]:
    """API member -> other service -> code edges from that service to it (the ranking)."""
    service_of = {a: e["service"] for a, e in proposal.get("explanations", {}).items()}
    api = {m for s in proposal["services"].values() for m in s.get("api", [])}
    users: dict[str, Counter[str]] = defaultdict(Counter)
    if not api:
        return users
    atoms = atom_graph(graph, proposal.get("level", "class"))  # built once for all reports
    for edge in atoms.edges:
        if edge.target in api:
            source, target = service_of.get(edge.source), service_of.get(edge.target)
            if source and source != target and source != "shared":
                users[edge.target][source] += edge.count
    return users


def _api(api: Sequence[str], users: Mapping[str, Counter[str]]) -> list[str]:
    if not api:
        return []
    ranked = sorted(api, key=lambda m: (-sum(users.get(m, Counter()).values()), m))
    rows = [[code(m, in_table=True), _counts(dict(users.get(m, {})))] for m in ranked[:API_SHOWN]]
    caption = "API surface" + (
        f" (the {API_SHOWN} most used of {len(api):,})" if len(api) > API_SHOWN else ""
    )
    return [f"**{caption}**", "", *_table(["member", "used by (code edges)"], rows), ""]


def _service_findings(findings: Sequence[dict[str, Any]]) -> list[str]:
    if not findings:
        return []
    kinds = Counter(f["kind"] for f in findings)
    by_kind = ", ".join(
        f"{n} {text(kind)}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    lines = [f"**Findings:** {by_kind}" + (". The most severe:" if len(findings) > 1 else ".")]
    lines.append("")
    for f in findings[:SERVICE_FINDINGS]:
        lines.append(f"- {text(f['severity'])} · {text(f['kind'])}: {text(f['title'])}")
    return lines + [""]


def _members(proposal: dict[str, Any]) -> dict[str, list[str]]:
    """Service -> its atoms (from the explanations: members may name whole packages)."""
    found: dict[str, list[str]] = defaultdict(list)
    for atom, explanation in sorted(proposal.get("explanations", {}).items()):
        found[explanation["service"]].append(atom)
    for name, service in proposal["services"].items():
        if name not in found:
            found[name] = sorted(service.get("members", []))
    return found


def _member_list(members: Sequence[str], explanations: Mapping[str, Any]) -> list[str]:
    if not members:
        return []
    shown = members[:MEMBERS_SHOWN]
    more = f", the first {len(shown)} listed" if len(members) > len(shown) else ""
    lines = ["<details>", f"<summary>{_many(len(members), 'member')}{more}</summary>", ""]
    for atom in shown:
        explanation = explanations.get(atom, {})
        reasons = explanation.get("reasons", [])
        why = f": {text(reasons[0]['text'])}" if reasons else ""
        confidence = explanation.get("confidence")
        sure = f" ({_number(confidence)})" if confidence is not None else ""
        lines.append(f"- {code(atom)}{sure}{why}")
    return lines + ["", "</details>", ""]


# -- database ownership ------------------------------------------------------------------------


def _ownership_matrix(proposal: dict[str, Any]) -> list[str]:
    tables = proposal.get("tables", {})
    lines = ["## Database ownership", ""]
    if not tables:
        return lines + ["No tables were found.", ""]
    touching: dict[str, set[str]] = {}
    per_service: Counter[str] = Counter()
    for table, ownership in tables.items():
        names = set(ownership.get("writers", {})) | set(ownership.get("readers", {}))
        touching[table] = names
        per_service.update(names)
    columns = sorted(per_service, key=lambda s: (-per_service[s], s))[:MATRIX_SERVICES]
    rows_ranked = sorted(tables, key=lambda t: (-len(touching[t]), t))
    shown = sorted(rows_ranked[:MATRIX_TABLES])
    rows = []
    for table in shown:
        ownership = tables[table]
        owner = ownership.get("owner")
        row = [code(table, in_table=True), text(owner) if owner else "none"]
        for name in columns:
            cell = _access(
                ownership.get("writers", {}).get(name, 0),
                ownership.get("readers", {}).get(name, 0),
            )
            row.append(f"**{cell}**" if name == owner and cell else cell)
        others = touching[table] - set(columns)
        row.append(", ".join(text(s) for s in sorted(others)))
        rows.append(row)
    header = ["table", "owner", *(text(c) for c in columns), "other services"]
    lines += [
        (
            "Writes (W) and reads (R) of each table per service, with their count; the owner's "
            "cell in bold."
        ),
        "",
    ]
    lines += _table(header, rows)
    cuts = []
    if len(per_service) > len(columns):
        cuts.append(
            f"the {len(columns)} services touching the most tables have a column "
            f"(of {len(per_service)}); the others are listed in the last column"
        )
    if len(tables) > len(shown):
        cuts.append(f"the {len(shown)} tables touched by the most services (of {len(tables)})")
    if cuts:
        lines += ["", "Shown: " + "; ".join(cuts) + "."]
    return lines + [""]


def _access(writes: int, reads: int) -> str:
    parts = ([f"W {writes:,}"] if writes else []) + ([f"R {reads:,}"] if reads else [])
    return " · ".join(parts)


# -- findings ----------------------------------------------------------------------------------


def _sorted_findings(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (rank.get(str(f.get("severity")), 9), f.get("id", "")))


def _findings(proposal: dict[str, Any]) -> list[str]:
    findings = proposal.get("findings", [])
    lines = ["## Findings", ""]
    if not findings:
        return lines + ["None: this cut needs no saga, read model or other pattern.", ""]
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in _sorted_findings(findings):
        by_kind[finding["kind"]].append(finding)
    order = [k for k in FINDING_KINDS if k in by_kind]
    order += sorted(k for k in by_kind if k not in FINDING_KINDS)
    lines += _table(
        ["kind", "findings", *SEVERITIES],
        [
            [
                text(kind),
                str(len(by_kind[kind])),
                *(str(sum(f["severity"] == s for f in by_kind[kind]) or "") for s in SEVERITIES),
            ]
            for kind in order
        ],
        align="lr" + "r" * len(SEVERITIES),
    )
    lines.append("")
    for kind in order:
        found = by_kind[kind]
        lines += [f"### {text(kind)} ({len(found)})", ""]
        if kind in FINDING_KINDS:
            lines += [f"What to do: {FINDING_KINDS[kind]}", ""]
        shown = found[:FINDINGS_PER_KIND]
        if kind == "saga":
            for finding in shown:
                lines += _saga(finding)
        else:
            rows = [
                [
                    text(f["severity"]),
                    text(f["title"]),
                    ", ".join(text(s) for s in f.get("services", [])),
                    _list(f.get("evidence", [])),
                ]
                for f in shown
            ]
            lines += _table(["severity", "finding", "services", "evidence"], rows)
            lines.append("")
        if len(found) > len(shown):
            lines += [f"The first {len(shown)} of {len(found)}; all are in report.json.", ""]
    return lines


def _saga(finding: dict[str, Any]) -> list[str]:
    details = finding.get("details", {})
    how = details.get("coordination")
    lines = [
        f"- **{text(finding['title'])}** ({text(finding['severity'])}"
        + (f", {text(how)}: {text(details.get('why', ''))}" if how else "")
        + ")"
    ]
    for i, step in enumerate(details.get("steps", []), 1):
        tables = ", ".join(code(t) for t in step.get("tables", []))
        writers = ", ".join(code(c) for c in step.get("code", [])[:LIST_ITEMS])
        lines.append(
            f"  {i}. **{text(step.get('service', ''))}** writes {tables or 'no table'}"
            + (f" in {writers}" if writers else "")
            + f"; compensation: {text(step.get('compensation', 'none'))}"
        )
    evidence = finding.get("evidence", [])
    if evidence:
        lines.append("  - evidence: " + ", ".join(code(e) for e in evidence[:LIST_ITEMS]))
    return lines + [""]


def _list(items: Sequence[object]) -> str:
    shown = ", ".join(code(i, in_table=True) for i in items[:LIST_ITEMS])
    return shown + (f" +{len(items) - LIST_ITEMS}" if len(items) > LIST_ITEMS else "")


# -- extraction order and comparison -----------------------------------------------------------


def _extraction_order(proposal: dict[str, Any]) -> list[str]:
    steps = proposal.get("extraction_order", [])
    lines = ["## Extraction order", ""]
    if not steps:
        return lines + ["No extraction order (a single service).", ""]
    lines += [
        (
            "Take the services out of the monolith in this order (strangler fig): each step "
            "lists what must be cut from the services still inside."
        ),
        "",
    ]
    rows = [
        [
            str(i),
            text(step["service"]),
            _number(step.get("cost")),
            _counts(step.get("calls_out", {})),
            _counts(step.get("calls_in", {})),
            _list(step.get("shared_tables", [])),
            _list(step.get("foreign_keys", [])),
        ]
        for i, step in enumerate(steps, 1)
    ]
    header = ["#", "service", "cost", "calls out", "calls in", "shared tables", "foreign keys"]
    return lines + _table(header, rows, align="rlr") + [""]


def _comparison(proposals: Sequence[dict[str, Any]]) -> list[str]:
    names = [p["strategy"] for p in proposals]
    overall = [p.get("metrics", {}).get("overall", {}) for p in proposals]
    rows = [["services", *(str(len(p["services"])) for p in proposals)]]
    rows.append(
        ["shared atoms", *(str(len(p.get("shared", {}).get("members", []))) for p in proposals)]
    )
    for metric in KEY_METRICS:
        values = [o.get(metric) for o in overall]
        if all(v is None for v in values):
            continue
        numbers = [v for v in values if isinstance(v, (int, float))]
        best = None
        if numbers and metric in DIRECTIONS:
            best = max(numbers) if DIRECTIONS[metric] > 0 else min(numbers)
        cells = [
            f"**{_number(v)}**" if v is not None and v == best else _number(v) for v in values
        ]
        rows.append([text(metric), *cells])
    lines = ["## Strategy comparison", ""]
    lines += [
        (
            f"The same graph cut by {len(proposals)} strategies; the best value of each metric in "
            "bold. The first column is the proposal this report describes."
        ),
        "",
    ]
    return lines + _table(["metric", *(text(n) for n in names)], rows, align="l" + "r" * 99) + [""]


# -- helpers -----------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> list[str]:
    """A markdown table of cells already escaped; empty cells stay empty."""
    marks = {"l": "---", "r": "--:", "c": ":-:"}
    rule = [marks[align[i]] if i < len(align) else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _many(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return text(value)
