"""Graphviz diagrams of the featured proposal: the service map and each service's inside.

`services.dot` / `services.svg` draw the services (sized by their members), their
dependencies (weighted and labelled by the code edges between them), and the tables: each
attached to its owner, with dashed edges from the other services that read or write it.
`service-<name>.dot` / `.svg` draw one service's member atoms, the tables it owns and the
services it talks to.

Large graphs stay readable by drawing less, not by drawing smaller:

- the map folds the tables into their owners' boxes when there are more than
  `MAP_TABLES_LIMIT` of them (cross-service access becomes a dashed service-to-owner edge);
- a service of more than `SERVICE_ATOMS_LIMIT` atoms is drawn as its modules, or as their
  packages at the deepest level that keeps `SERVICE_BOXES_LIMIT` boxes or fewer;
- only the heaviest dependencies are drawn (three per service on the map, two per box inside
  a service, at least 30), and the caption says how many were left out.

Every name from the analysed code reaches dot inside an HTML-like label with its markup
characters turned into entities (`_label`), or inside a quoted string with its quotes and
backslashes escaped (`_quoted`); node ids are ours (`s0`, `t3`), never the code's names.
Without the `dot` binary only the `.dot` files are written; a failing dot leaves an SVG that
says why instead of stopping the report. The HTML report reuses `service_map_dot`,
`service_dot`, `to_svgs` and `inline_svg`; dot runs in parallel, and a source already laid
out in this process is not laid out again (the html and svg reports draw the same ones).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import subprocess
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

from decomposer.files import output_file, write_text
from decomposer.model.atoms import DEFAULT_LEVEL, AtomGraph
from decomposer.model.graph import DependencyGraph, EdgeKind
from decomposer.plugins import ReportInput

#: Above this many tables the map draws none: each owner's box counts its tables instead.
MAP_TABLES_LIMIT = 40
#: Above this many member atoms a service is drawn as modules (or packages), not atoms.
SERVICE_ATOMS_LIMIT = 60
#: At most this many modules or packages in a service drawn aggregated (the deepest package
#: level that fits is drawn).
SERVICE_BOXES_LIMIT = 40
#: Above this many owned tables a service's diagram draws one box counting them.
SERVICE_TABLES_LIMIT = 30
#: Seconds one dot run may take; layouts here take well under one.
DOT_TIMEOUT = 60
INSTALL_HINT = "install graphviz (apt-get install graphviz / brew install graphviz) for diagrams"
SHARED = "shared"

#: Fill colours of services, in the order of their names (the HTML cards use the same ones).
PALETTE = (
    "#8ecae6",
    "#ffb703",
    "#90be6d",
    "#f4a6a6",
    "#cdb4db",
    "#f9c74f",
    "#80cbc4",
    "#ffcc80",
    "#b5c99a",
    "#a0c4ff",
    "#e9c46a",
    "#bdb2ff",
)
#: Code edges drawn between atoms (co-changes are history, not a dependency to draw).
_DRAWN = frozenset(
    {
        EdgeKind.CALLS,
        EdgeKind.INSTANTIATES,
        EdgeKind.INHERITS,
        EdgeKind.REFERENCES,
        EdgeKind.IMPORTS,
    }
)
_FONT = "Helvetica,Arial,sans-serif"


class GraphvizReport:
    name: ClassVar[str] = "svg"
    summary: ClassVar[str] = "services.dot/.svg and service-<name>.dot/.svg: graphviz diagrams"

    def render(self, request: ReportInput) -> list[Path]:
        if not request.proposals:
            return []
        proposal = request.proposals[0]
        atoms = atom_graph(request.graph, proposal.get("level", DEFAULT_LEVEL))
        diagrams = [("services", service_map_dot(proposal))] + [
            (f"service-{safe_file_name(service)}", service_dot(proposal, service, atoms))
            for service in sorted(proposal.get("services", {}))
        ]
        out = request.out_dir
        files = [write_text(output_file(out, f"{stem}.dot"), source) for stem, source in diagrams]
        if request.dot is not None:
            laid_out = to_svgs([source for _, source in diagrams], request.dot)
            for (stem, _), (svg, error) in zip(diagrams, laid_out, strict=True):
                svg_file = output_file(out, f"{stem}.svg")
                files.append(write_text(svg_file, svg or _error_svg(error or "")))
        return files


# -- the service map ------------------------------------------------------------------------


def service_map_dot(proposal: Mapping[str, Any]) -> str:
    """The service map in dot. Service boxes get the SVG ids `map_s<i>`, i the service's place
    in name order (the HTML report links them to its service cards; no dash: dot would write
    it as an entity)."""
    services = _services(proposal)
    names = sorted(services)
    ids = {name: f"s{i}" for i, name in enumerate(names)}
    colors = service_colors(names)
    tables = _tables(proposal)
    fold = len(tables) > MAP_TABLES_LIMIT
    owned: dict[str, int] = defaultdict(int)
    for info in tables.values():
        if info.get("owner") in ids:
            owned[info["owner"]] += 1
    sizes = {name: len(services[name].get("members", [])) for name in names}
    biggest = max(sizes.values(), default=0) or 1
    notes = []
    lines = _header("services", "LR")
    if fold:
        notes.append(
            f"{len(tables)} tables folded into their owners (more than {MAP_TABLES_LIMIT}); "
            "dashed: reads and writes of other services' tables"
        )
        lines.append(f"  // aggregated: {len(tables)} tables > {MAP_TABLES_LIMIT}")
    for name in names:
        share = math.sqrt(sizes[name] / biggest)
        detail = plural(sizes[name], "atom")
        if owned[name]:
            detail += f" · {plural(owned[name], 'table')}"
        attrs = {
            "id": _quoted(f"map_{ids[name]}"),
            "label": _label_html(
                f"<B>{_html(name)}</B><BR/><FONT POINT-SIZE='10'>{_html(detail)}</FONT>"
            ),
            "fillcolor": _quoted(colors[name]),
            "width": f"{1.2 + 1.8 * share:.2f}",
            "height": f"{0.5 + 0.7 * share:.2f}",
            "fontsize": f"{11 + 7 * share:.1f}",
            "tooltip": _quoted(f"{name}: {detail}"),
        }
        lines.append(f"  {ids[name]} [{_attrs(attrs)}];")
    shared = len(proposal.get("shared", {}).get("members", []))
    if shared:
        label = _label(f"shared library: {plural(shared, 'atom')}")
        tip = _quoted(f"{shared} atoms proposed as a library")
        lines.append(
            f'  shared [label={label}, style="dashed,rounded", fillcolor="#ffffff", '
            f"tooltip={tip}];"
        )
    counts = {
        (name, other): count
        for name in names
        for other, count in services[name].get("depends_on", {}).items()
        if other in ids and other != name and count
    }
    kept = _heaviest(counts, 3 * len(names))
    if len(kept) < len(counts):
        notes.append(f"the {len(kept)} heaviest of {len(counts)} service dependencies drawn")
    heaviest = max(kept.values(), default=1)
    for (name, other), count in sorted(kept.items()):
        attrs = {
            "label": _quoted(str(count)),
            "penwidth": f"{_pen(count, heaviest):.2f}",
            "weight": str(max(1, round(_pen(count, heaviest)))),
            "tooltip": _quoted(f"{name} -> {other}: {plural(count, 'code edge')}"),
        }
        lines.append(f"  {ids[name]} -> {ids[other]} [{_attrs(attrs)}];")
    lines += _map_tables(tables, ids, colors) if not fold else _folded_tables(tables, ids)
    if notes:
        lines.append(f"  label={_label('; '.join(notes))}; labelloc=b; fontsize=10;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _map_tables(
    tables: Mapping[str, Mapping[str, Any]], ids: Mapping[str, str], colors: Mapping[str, str]
) -> list[str]:
    lines = []
    for i, (table, info) in enumerate(sorted(tables.items())):
        node = f"t{i}"
        owner = _owner(info, ids)
        color = _lighter(colors[owner]) if owner is not None else "#eeeeee"
        tooltip = f"table {table}: " + (info.get("reason") or "no owner")
        lines.append(
            f"  {node} [shape=cylinder, style=filled, fillcolor={_quoted(color)}, fontsize=9, "
            f"height=0.3, label={_label(table)}, tooltip={_quoted(tooltip)}];"
        )
        if owner is not None:
            lines.append(
                f'  {ids[owner]} -> {node} [arrowhead=none, weight=4, color="#777777", '
                f"tooltip={_quoted(f'{owner} owns {table}')}];"
            )
        writers = info.get("writers", {})
        readers = info.get("readers", {})
        for service in sorted(set(writers) | set(readers)):
            if service == owner or service not in ids:
                continue
            writes, reads = writers.get(service, 0), readers.get(service, 0)
            verb = "writes" if writes else "reads"
            tip = f"{service} {verb} {table} ({writes} writes, {reads} reads)"
            color = "#c0392b" if writes else "#888888"
            lines.append(
                f"  {ids[service]} -> {node} [style=dashed, color={_quoted(color)}, "
                f"arrowsize=0.6, weight=0, tooltip={_quoted(tip)}];"
            )
    return lines


def _folded_tables(tables: Mapping[str, Mapping[str, Any]], ids: Mapping[str, str]) -> list[str]:
    """Access to other services' tables, one dashed edge per (service, owner) pair."""
    touched: dict[tuple[str, str], list[str]] = defaultdict(list)
    written: set[tuple[str, str]] = set()
    for table, info in sorted(tables.items()):
        owner = _owner(info, ids)
        if owner is None:
            continue
        writers = info.get("writers", {})
        for service in sorted(set(writers) | set(info.get("readers", {}))):
            if service != owner and service in ids:
                touched[(service, owner)].append(table)
                if writers.get(service):
                    written.add((service, owner))
    lines = []
    for (service, owner), names in sorted(touched.items()):
        verb = "writes" if (service, owner) in written else "reads"
        tables_of = plural(len(names), "table")
        tip = f"{service} {verb} {tables_of} of {owner}: {', '.join(names[:10])}"
        color = "#c0392b" if (service, owner) in written else "#888888"
        lines.append(
            f"  {ids[service]} -> {ids[owner]} [style=dashed, color={_quoted(color)}, "
            f"fontcolor={_quoted(color)}, fontsize=9, weight=0, "
            f"label={_quoted(tables_of)}, tooltip={_quoted(tip)}];"
        )
    return lines


# -- one service's inside -------------------------------------------------------------------


def service_dot(proposal: Mapping[str, Any], service: str, atoms: AtomGraph) -> str:
    """One service: its atoms (or modules, or packages, when big), its owned tables, and the
    services and shared library it calls or is called by (dashed: calls coming in)."""
    services = _services(proposal)
    names = sorted(services)
    colors = service_colors(names)
    info = services[service]
    members = [m for m in info.get("members", []) if m in atoms.modules]
    api = set(info.get("api", []))
    where = assignment(proposal)
    group_of, depth = _grouping(members, atoms)
    groups: dict[str, list[str]] = defaultdict(list)
    for member in members:
        groups[group_of[member]].append(member)
    ids = {group: f"n{i}" for i, group in enumerate(sorted(groups))}
    color = colors.get(service, PALETTE[0])
    lines = _header(f"service {service}", "LR")
    caption = f"{service}: {plural(len(members), 'atom')}"
    if depth is not None:
        what = "modules" if depth == 0 else "packages"
        caption += f", drawn as {len(groups)} {what} (more than {SERVICE_ATOMS_LIMIT} atoms)"
        lines.append(f"  // aggregated: {len(members)} atoms > {SERVICE_ATOMS_LIMIT} as {what}")
        lines += _group_nodes(groups, ids, api, color)
    else:
        lines += _atom_nodes(groups, ids, atoms, api, color)
    # Code edges added up per pair of boxes; edges leaving the service end at a neighbour.
    counts: dict[tuple[str, str], int] = defaultdict(int)
    member_set = set(members)
    for member in members:
        box = ids[group_of[member]]
        for edge in atoms.out_edges(member):
            if edge.kind in _DRAWN:
                if edge.target in member_set:
                    counts[(box, ids[group_of[edge.target]])] += edge.count
                else:
                    counts[(box, _neighbour(where.get(edge.target, SHARED)))] += edge.count
        for edge in atoms.in_edges(member):
            if edge.kind in _DRAWN and edge.source not in member_set:
                counts[(_neighbour(where.get(edge.source, SHARED)), box)] += edge.count
    counts = {pair: n for pair, n in counts.items() if pair[0] != pair[1]}
    kept = _heaviest(counts, 2 * len(ids) + 2 * len(names))
    if len(kept) < len(counts):
        caption += f"; the {len(kept)} heaviest of {len(counts)} dependencies drawn"
    neighbours = {n for pair in kept for n in pair if n.startswith("x")}
    for other in [*names, SHARED]:
        node = _neighbour(other)
        if node not in neighbours:
            continue
        label = "shared library" if other == SHARED else f"service {other}"
        fill = "#ffffff" if other == SHARED else _lighter(colors[other])
        attrs = {
            "label": _label(label),
            "style": '"rounded,filled,dashed"',
            "fillcolor": _quoted(fill),
            "tooltip": _quoted(label),
        }
        lines.append(f"  {node} [{_attrs(attrs)}];")
    heaviest = max(kept.values(), default=1)
    for (a, b), count in sorted(kept.items()):
        style = ""
        if a.startswith("x") or b.startswith("x"):  # crossing the service's boundary
            style = 'color="#999999", ' + ("style=dashed, " if a.startswith("x") else "")
        lines.append(
            f"  {a} -> {b} [penwidth={_pen(count, heaviest):.2f}, {style}"
            f"tooltip={_quoted(plural(count, 'code edge'))}];"
        )
    lines += _owned_tables(info, service, ids, group_of, atoms, color)
    lines.append(f"  label={_label(caption)}; labelloc=t; fontsize=12;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _heaviest(counts: Mapping[tuple[str, str], int], limit: int) -> dict[tuple[str, str], int]:
    """The `limit` heaviest edges (ties broken by name, so the output is stable): a diagram
    with every weak edge is a hairball nobody reads."""
    limit = max(limit, 30)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:limit])


def _group_nodes(
    groups: Mapping[str, list[str]], ids: Mapping[str, str], api: set[str], color: str
) -> list[str]:
    lines = []
    for group, inside in sorted(groups.items()):
        in_api = sum(1 for m in inside if m in api)
        detail = plural(len(inside), "atom") + (f" · {in_api} API" if in_api else "")
        attrs = {
            "label": _label_html(
                f"{_html(group)}<BR/><FONT POINT-SIZE='9'>{_html(detail)}</FONT>"
            ),
            "fillcolor": _quoted(color if in_api else _lighter(color)),
            "tooltip": _quoted(f"{group}: {detail}"),
        }
        lines.append(f"  {ids[group]} [{_attrs(attrs)}];")
    return lines


def _atom_nodes(
    groups: Mapping[str, list[str]],
    ids: Mapping[str, str],
    atoms: AtomGraph,
    api: set[str],
    color: str,
) -> list[str]:
    """Atoms in one cluster per module; API atoms filled with the service's colour."""
    lines = []
    by_module: dict[str, list[str]] = defaultdict(list)
    for atom in groups:
        by_module[atoms.module_of(atom)].append(atom)
    for i, (module, inside) in enumerate(sorted(by_module.items())):
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(
            f'    label={_label(module)}; fontsize=10; style="rounded,dashed"; color="#bbbbbb";'
        )
        for atom in sorted(inside):
            short = atom[len(module) + 1 :] if atom.startswith(module + ".") else atom
            tip = f"{atom}" + (" (API: used by other services)" if atom in api else "")
            attrs = {
                "label": _label(short if atom != module else f"{short} (module code)"),
                "fillcolor": _quoted(color if atom in api else _lighter(color)),
                "penwidth": "2" if atom in api else "1",
                "tooltip": _quoted(tip),
            }
            lines.append(f"    {ids[atom]} [{_attrs(attrs)}];")
        lines.append("  }")
    return lines


def _owned_tables(
    info: Mapping[str, Any],
    service: str,
    ids: Mapping[str, str],
    group_of: Mapping[str, str],
    atoms: AtomGraph,
    color: str,
) -> list[str]:
    owned = sorted(info.get("tables", []))
    if not owned:
        return []
    if len(owned) > SERVICE_TABLES_LIMIT:
        tip = ", ".join(owned[:20]) + (" …" if len(owned) > 20 else "")
        return [
            (
                f"  tables [shape=cylinder, style=filled, fillcolor={_quoted(_lighter(color))}, "
                f"label={_label(f'{len(owned)} owned tables')}, tooltip={_quoted(tip)}];"
            )
        ]
    lines = []
    node_of = {table: f"t{i}" for i, table in enumerate(owned)}
    for table in owned:
        lines.append(
            f"  {node_of[table]} [shape=cylinder, style=filled, fontsize=9, height=0.3, "
            f"fillcolor={_quoted(_lighter(color))}, label={_label(table)}, "
            f"tooltip={_quoted(f'table {table}, owned by {service}')}];"
        )
    access: dict[tuple[str, str], set[str]] = defaultdict(set)
    for member in group_of:
        for found in atoms.accesses_of(member):
            if found.table in node_of:
                access[(ids[group_of[member]], node_of[found.table])].add(found.kind)
    for (box, table), kinds in sorted(access.items()):
        style = "solid" if "writes" in kinds else "dotted"
        lines.append(
            f'  {box} -> {table} [style={style}, color="#777777", arrowsize=0.6, '
            f"tooltip={_quoted(' and '.join(sorted(kinds)))}];"
        )
    return lines


def _grouping(members: list[str], atoms: AtomGraph) -> tuple[dict[str, str], int | None]:
    """Each member's box and the level drawn: None for atoms, 0 for modules, else the number
    of trailing name parts dropped from the modules (their packages)."""
    if len(members) <= SERVICE_ATOMS_LIMIT:
        return {m: m for m in members}, None
    modules = {m: atoms.module_of(m) for m in members}
    deepest = max((len(m.split(".")) for m in modules.values()), default=1)
    for drop in range(deepest):
        group_of = {m: _package(module, drop) for m, module in modules.items()}
        if len(set(group_of.values())) <= SERVICE_BOXES_LIMIT:
            return group_of, drop
    return {m: _package(module, deepest) for m, module in modules.items()}, deepest


def _package(module: str, drop: int) -> str:
    parts = module.split(".")
    return ".".join(parts[: max(1, len(parts) - drop)])


def _neighbour(service: str) -> str:
    # Neighbours' ids are kept apart from the n<i> boxes: "x" + a digest of the name.
    return "x" + hashlib.sha1(service.encode()).hexdigest()[:10]


# -- running dot, embedding its SVG ---------------------------------------------------------


def to_svg(dot_source: str, dot_binary: str | None) -> str | None:
    """The SVG of `dot_source`, or None when there is no dot or it failed."""
    if dot_binary is None:
        return None
    return run_dot(dot_source, dot_binary)[0]


def to_svgs(sources: list[str], dot_binary: str) -> list[tuple[str | None, str | None]]:
    """`run_dot` of each source, several dot processes at a time."""
    with ThreadPoolExecutor(max_workers=min(len(sources), os.cpu_count() or 2) or 1) as pool:
        return list(pool.map(lambda source: run_dot(source, dot_binary), sources))


@functools.lru_cache(maxsize=64)  # the html and svg reports lay out the same sources
def run_dot(dot_source: str, dot_binary: str) -> tuple[str | None, str | None]:
    """(svg, None) on success, (None, why) when dot fails, times out or cannot start."""
    try:
        done = subprocess.run(
            [dot_binary, "-Tsvg"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"dot took longer than {DOT_TIMEOUT} s"
    except OSError as exc:
        return None, f"cannot run {dot_binary}: {exc.strerror or exc}"
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, f"dot failed (exit {done.returncode}): {' '.join(message)[:300]}"
    return done.stdout.decode("utf-8", "replace"), None


def inline_svg(svg: str) -> str:
    """dot's SVG made fit for embedding in HTML: no XML prolog or DOCTYPE (it names a DTD by
    URL), no namespace declarations (the HTML parser knows svg and xlink), and a size that
    follows the page (never wider than dot drew it, so a small map is not blown up)."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    head_end = svg.find(">") + 1
    head, body = svg[:head_end], svg[head_end:]
    width = re.search(r'\swidth="(\d+(?:\.\d+)?)pt"', head)
    head = re.sub(r'\s(?:xmlns(?::\w+)?|width|height)="[^"]*"', "", head)
    style = f' style="max-width: {width.group(1)}pt"' if width else ""
    head = head.replace("<svg", f'<svg class="diagram" role="img"{style}', 1)
    # dot numbers its groups node1, edge1… in every SVG: several in one page would repeat ids.
    body = re.sub(r' id="(?:a_)?(?:graph|node|edge|clust)\d+"', "", body)
    return head + body


def _error_svg(error: str) -> str:
    text = _html(f"graphviz could not draw this diagram: {error}")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="40" viewBox="0 0 800 40">'
        f'<text x="10" y="25" font-family="sans-serif" font-size="13">{text}</text></svg>\n'
    )


# -- shared helpers (the HTML report uses them too) -----------------------------------------


def plural(count: int, word: str) -> str:
    """ "1 atom", "2 atoms"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def service_colors(names: Iterable[str]) -> dict[str, str]:
    """A fill colour per service, in the order of the sorted names."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(names))}


def assignment(proposal: Mapping[str, Any]) -> dict[str, str]:
    """atom -> service (or "shared") from the proposal's member lists."""
    found = dict.fromkeys(proposal.get("shared", {}).get("members", []), SHARED)
    for name, info in _services(proposal).items():
        found.update(dict.fromkeys(info.get("members", []), name))
    return found


def safe_file_name(name: str) -> str:
    """A file-name part for a service: lower-case letters, digits, - and _ only; any other
    name (path separators, dots, spaces, capitals that could collide on a case-insensitive
    disk) gets a digest of the original appended, so two services never share a file."""
    safe = re.sub(r"[^a-z0-9_-]", "_", name.lower())[:60]
    if safe != name or not safe:
        safe = f"{safe}-{hashlib.sha1(name.encode()).hexdigest()[:8]}".lstrip("-")
    return safe


_ATOMS: dict[tuple[int, str], tuple[weakref.ref[DependencyGraph], AtomGraph]] = {}


def atom_graph(graph: DependencyGraph, level: str) -> AtomGraph:
    """The graph's atoms, built once per graph and level (the html and svg reports of one
    run both need them)."""
    key = (id(graph), level)
    found = _ATOMS.get(key)
    if found is not None and found[0]() is graph:
        return found[1]
    atoms = AtomGraph.from_graph(graph, level)
    _ATOMS.clear()  # one graph at a time: a run renders one
    _ATOMS[key] = (weakref.ref(graph), atoms)
    return atoms


def _services(proposal: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return dict(proposal.get("services", {}))


def _tables(proposal: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return dict(proposal.get("tables", {}))


def _owner(info: Mapping[str, Any], ids: Mapping[str, str]) -> str | None:
    """The table's owner when it is one of the drawn services."""
    owner = info.get("owner")
    return owner if isinstance(owner, str) and owner in ids else None


def _header(name: str, rankdir: str) -> list[str]:
    graph = f'rankdir={rankdir}, fontname="{_FONT}", bgcolor="transparent", pad=0.2'
    node = f'shape=box, style="rounded,filled", fontname="{_FONT}", fontsize=11, color="#555555"'
    edge = f'fontname="{_FONT}", fontsize=9, color="#555555", arrowsize=0.7'
    return [
        f"digraph {_quoted(name)} {{",
        f"  graph [{graph}, nodesep=0.35, ranksep=0.7];",
        f"  node [{node}];",
        f"  edge [{edge}];",
    ]


def _pen(count: int, heaviest: int) -> float:
    """Line width 1..6, logarithmic so that one heavy pair does not flatten the rest."""
    return 1 + 5 * math.log1p(count) / math.log1p(max(heaviest, 1))


def _lighter(color: str) -> str:
    """The colour mixed half with white."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*((c + 255) // 2 for c in (r, g, b)))


def _attrs(attrs: Mapping[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in attrs.items())


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _html(text: str) -> str:
    """Text for an HTML-like label: markup characters as entities, control characters as
    spaces (dot rejects them)."""
    text = _CONTROL.sub(" ", str(text))
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = text.replace(char, entity)
    return text.replace("'", "&#39;")


def _label(text: str) -> str:
    """A plain-text HTML-like label (dot reads <...> as markup, so nothing in it can break
    out of the label or be read as a record field or an escape like \\N)."""
    return _label_html(_html(text) or " ")


def _label_html(markup: str) -> str:
    return f"<{markup}>"


def _quoted(text: str) -> str:
    """A dot quoted string: backslashes and quotes escaped, control characters as spaces."""
    text = _CONTROL.sub(" ", str(text))
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
