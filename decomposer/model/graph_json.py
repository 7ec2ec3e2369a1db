"""The versioned JSON form of a DependencyGraph (graph.json); see docs/graph-format.md.

Nodes, edges and diagnostics are written in sorted order with sorted keys, so the same graph
always gives the same bytes, and reading a file back gives an equal graph.
"""

from __future__ import annotations

from typing import Any

from decomposer.errors import InputError
from decomposer.model.graph import (
    DependencyGraph,
    Diagnostic,
    Edge,
    EdgeKind,
    Node,
    NodeKind,
    Site,
)

#: 2: no `same_transaction` edges (the scopes' `transactions` records hold those facts)
SCHEMA = 2


def graph_to_dict(graph: DependencyGraph, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "meta": meta or {},
        "nodes": [_node_to_dict(n) for n in sorted(graph.nodes(), key=lambda n: n.id)],
        "edges": [
            _edge_to_dict(e)
            for e in sorted(graph.edges(), key=lambda e: (e.source, e.target, e.kind.value))
        ],
        "diagnostics": [_diagnostic_to_dict(d) for d in graph.diagnostics()],
    }


def graph_from_dict(data: Any, *, where: str = "graph.json") -> DependencyGraph:
    """Rebuild a graph; a malformed document raises InputError naming what is wrong."""
    if not isinstance(data, dict):
        raise InputError(f"{where} is not a JSON object", hint="re-run `decomposer analyze`")
    schema = data.get("schema")
    if schema != SCHEMA:
        raise InputError(
            f"{where} has schema {schema!r}; this decomposer reads schema {SCHEMA}",
            hint="re-run `decomposer analyze` to rebuild it",
        )
    try:
        nodes = [_node_from_dict(n) for n in data["nodes"]]
        # an edge's ends share the nodes' id strings, and equal sites one Site: a large graph
        # then holds each text once instead of once per mention
        ids = {node.id: node.id for node in nodes}
        sites: dict[str, Site] = {}
        edges = (_edge_from_dict(e, ids, sites) for e in data["edges"])
        diagnostics = [_diagnostic_from_dict(d) for d in data.get("diagnostics", [])]
        return DependencyGraph.build(nodes, edges, diagnostics)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"{where} is not a valid decomposer graph ({type(exc).__name__}: {exc})",
            hint="re-run `decomposer analyze` to rebuild it",
        ) from exc


def graph_meta(data: dict[str, Any]) -> dict[str, Any]:
    meta = data.get("meta", {})
    return meta if isinstance(meta, dict) else {}


def _node_to_dict(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node.id, "kind": node.kind.value}
    if node.file is not None:
        out["file"] = node.file
    if node.line is not None:
        out["line"] = node.line
    if node.end_line is not None:
        out["end_line"] = node.end_line
    if node.loc:
        out["loc"] = node.loc
    if node.attrs:
        out["attrs"] = node.attrs
    return out


#: Kinds by their JSON value: a dict lookup is several times cheaper than the enum's call.
_NODE_KINDS = {kind.value: kind for kind in NodeKind}
_EDGE_KINDS = {kind.value: kind for kind in EdgeKind}


def _node_from_dict(data: dict[str, Any]) -> Node:
    return Node(
        id=str(data["id"]),
        kind=_NODE_KINDS.get(data["kind"]) or NodeKind(data["kind"]),  # the call: its error
        file=data.get("file"),
        line=data.get("line"),
        end_line=data.get("end_line"),
        loc=int(data.get("loc", 0)),
        attrs=dict(data.get("attrs", {})),
    )


def _edge_to_dict(edge: Edge) -> dict[str, Any]:
    out: dict[str, Any] = {"source": edge.source, "target": edge.target, "kind": edge.kind.value}
    if edge.static_count:
        out["static_count"] = edge.static_count
    if edge.runtime_count:
        out["runtime_count"] = edge.runtime_count
    if edge.sites:
        out["sites"] = [str(s) for s in edge.sites]
    if edge.tags:
        out["tags"] = sorted(edge.tags)
    return out


def _edge_from_dict(data: dict[str, Any], ids: dict[str, str], sites: dict[str, Site]) -> Edge:
    # the hot loop of reading a large graph: positional arguments, no generator, no empty sets
    source, target = str(data["source"]), str(data["target"])
    texts = data.get("sites")
    tags = data.get("tags")
    return Edge(
        ids.get(source, source),
        ids.get(target, target),
        _EDGE_KINDS.get(data["kind"]) or EdgeKind(data["kind"]),  # the call: its error
        int(data.get("static_count", 0)),
        int(data.get("runtime_count", 0)),
        tuple([sites.get(text) or _new_site(text, sites) for text in texts]) if texts else (),
        frozenset(tags) if tags else _NO_TAGS,
    )


_NO_TAGS: frozenset[str] = frozenset()


def _new_site(text: str, seen: dict[str, Site]) -> Site:
    site = seen[text] = Site.parse(text)
    return site


def _diagnostic_to_dict(d: Diagnostic) -> dict[str, Any]:
    out: dict[str, Any] = {"file": d.file, "code": d.code, "message": d.message}
    if d.line is not None:
        out["line"] = d.line
    return out


def _diagnostic_from_dict(data: dict[str, Any]) -> Diagnostic:
    return Diagnostic(
        file=str(data["file"]),
        code=str(data["code"]),
        message=str(data["message"]),
        line=data.get("line"),
    )
