"""The atom graph `decomposer check` needs, made from each module's resolved part without
assembling the graph: every atom, but only the edges between atoms of two services.

An edge inside a service, or touching shared code or code in no service, changes no rule and
no metric of the check but one: the static calls inside services count towards ICP's
denominator, so each module's share keeps their number (`inside_calls`). A module's share
(`share`) is kept in the cache beside its part and reused on the same terms (parts.py), under
a name that holds the level and the boundaries. Everything else comes out as `from_graph`
makes it from the whole graph (the tests compare the two), but for the steps of each
transaction, which no rule reads: its tables are there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from analyzers.static.build import Modules
from analyzers.static.parts import ModulePart, sites_in
from analyzers.static.resolve import Resolver
from analyzers.static.tables import table_id
from analyzers.static.transactions import Reach, Scope
from decomposer.model.atoms import (
    CODE_KINDS,
    Access,
    AtomEdge,
    AtomGraph,
    Transaction,
    atom_of,
    distinct,
    module_of,
    sites_of,
    summed,
)
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, Node, NodeKind, Site
from decomposer.truth import SHARED

#: Bump when a share's record changes shape.
SHARE_VERSION = "share-2"

_CODE_KINDS = frozenset(CODE_KINDS)
_CALLS = EdgeKind.CALLS


@dataclass
class Crossings:
    #: every atom; of the edges, only those between atoms of two different services
    atoms: AtomGraph
    #: static calls between atoms of the same service, left out of `atoms`
    inside_calls: int
    #: the tables and their foreign keys
    graph: DependencyGraph
    #: of every module, as the graph's summary counts them
    lines_of_code: int


def share(
    resolver: Resolver,
    module: str,
    part: ModulePart,
    level: str,
    service_of: Callable[[str], str | None],
) -> tuple[dict[str, Any], set[str]]:
    """One module's share of the check's atom graph (JSON types, lines for sites: they are
    all in the module's file), and the modules whose facts it read besides those of the part."""
    read: set[str] = set()

    def kind_of(node_id: str) -> NodeKind | None:
        kind = resolver.kind_of(node_id)
        if kind is not None and kind != NodeKind.MODULE:
            read.add(node_id)  # its definition's record
        return kind

    def parent_of(node_id: str) -> str | None:
        record = resolver.defs.get(node_id)
        if record is None:  # a module: its package does not matter, it is an atom itself
            return None
        return record[5] if resolver.is_code(record[5]) else None

    memo: dict[str, str] = {}

    def atom(node_id: str) -> str | None:
        if kind_of(node_id) is None:
            return None
        return atom_of(node_id, level, kind_of, parent_of, memo)

    own = sorted([module, *(node.id for node in part.code.nodes)])
    atoms = sorted({atom(node_id) or node_id for node_id in own})
    folded: dict[tuple[str, str, EdgeKind], list[Edge]] = defaultdict(list)
    callees: dict[str, list[str]] = defaultdict(list)
    for (source, target, kind), edge in part.code.edges.items():
        # the calls a transaction's reach follows: from a function to a function
        if kind == _CALLS and kind_of(target) == kind_of(source) == NodeKind.FUNCTION:
            callees[source].append(target)
        if kind in _CODE_KINDS:
            a, b = atom(source), atom(target)
            if a and b and a != b:
                folded[(a, b, kind)].append(edge)
    edges, inside = [], 0
    for key in sorted(folded):
        a, b = service_of(key[0]), service_of(key[1])
        if a is None or b is None or SHARED in (a, b):
            continue
        found = summed(key, folded[key])
        if a != b:
            edges.append([*key[:2], key[2].value, found.static_count, _lines(found.sites)])
        elif key[2] == _CALLS:
            inside += found.static_count
    access: dict[tuple[str, str, str], list[Edge]] = defaultdict(list)
    writes: dict[str, list[list[Any]]] = defaultdict(list)
    for (scope, table, how), sites in part.access.edges.items():
        if how == "writes":
            writes[scope].extend([table, site.line] for site in sites)
        holder = atom(scope)
        if holder is not None:  # as `Access.add_to` keeps only the scopes in the graph
            unique = tuple(sorted(set(sites)))
            edge = Edge(scope, table_id(table), EdgeKind(how), len(sites), 0, unique)
            access[(holder, table, how)].append(edge)
    joins: dict[str, list[list[str]]] = defaultdict(list)
    for scope, pairs in sorted(part.access.joins.items()):
        holder = atom(scope)
        if holder is not None and pairs:
            joins[holder].extend([list(pair) for pair in sorted(pairs)])
    record = {
        "atoms": [[a, module_of(a, kind_of, parent_of)] for a in atoms],
        "edges": edges,
        "inside_calls": inside,
        "access": [
            [a, table, how, sum(e.count for e in found), _lines(sites_of(found))]
            for (a, table, how), found in sorted(access.items())
        ],
        "joins": [[a, distinct(found)] for a, found in sorted(joins.items())],
        "callees": [[f, sorted(found)] for f, found in sorted(callees.items())],
        "writes": sorted(writes.items()),
        "scopes": [
            [s.code, atom(s.code), s.kind, s.first, s.last, [list(c) for c in s.calls]]
            for s in part.transactions
        ],
    }
    return record, {m for m in map(resolver.module_of, read) if m is not None}


def assemble(modules: Modules, shares: dict[str, dict[str, Any]], level: str) -> Crossings:
    """The check's atom graph from every module's share."""
    resolver = modules.resolver
    graph = DependencyGraph()
    modules.tables.add_to(graph)
    atoms: dict[str, str] = {}
    nodes: dict[str, Node] = {}
    edges, access, inside = [], [], 0
    joins: dict[str, list[list[str]]] = {}
    callees: dict[str, list[str]] = {}
    writes: dict[str, list[tuple[str, int]]] = {}
    scopes, atom_of_code = [], {}
    tables = {n.id.removeprefix("table:") for n in graph.nodes(NodeKind.TABLE)}
    for module, record in shares.items():
        rel = resolver.file_of[module]
        site = sites_in(rel)
        for atom, home in record["atoms"]:
            atoms[atom] = home
            nodes[atom] = Node(atom, cast(NodeKind, resolver.kind_of(atom)), rel)
        for source, target, kind, count, lines in record["edges"]:
            edges.append(
                AtomEdge(source, target, EdgeKind(kind), count, 0, tuple(map(site, lines)))
            )
        inside += record["inside_calls"]
        for atom, table, kind, count, lines in record["access"]:
            access.append(Access(atom, table, kind, count, tuple(map(site, lines))))
            tables.add(table)
        for atom, pairs in record["joins"]:
            joins[atom] = pairs
        callees.update((f, found) for f, found in record["callees"])
        for scope, found in record["writes"]:
            writes[scope] = [(table, line) for table, line in found]
        for code, atom, kind, first, last, calls in record["scopes"]:
            atom_of_code[code] = atom
            scopes.append(Scope(code, kind, first, last, tuple(map(tuple, calls))))
    for atom, pairs in joins.items():
        node = nodes[atom]
        nodes[atom] = Node(node.id, node.kind, node.file, attrs={"sql_joins": pairs})
    reach = Reach(writes, lambda function: callees.get(function, ()))
    opened = []  # (code, the order it was met in, the transaction)
    for order, scope in enumerate(scopes):
        written = reach.of_scope(scope)
        if written:
            atom = atom_of_code[scope.code]
            opened.append((scope.code, order, Transaction(atom, scope.kind, scope.first, written)))
    transactions = [transaction for _, _, transaction in sorted(opened)]
    foreign_keys = sorted(
        (e.source.removeprefix("table:"), e.target.removeprefix("table:"))
        for e in graph.edges(EdgeKind.FOREIGN_KEY)
    )
    return Crossings(
        AtomGraph(
            level=level,
            atoms=tuple(sorted(atoms)),
            nodes=nodes,
            atom_of={},
            modules=atoms,
            edges=tuple(sorted(edges, key=_edge_key)),
            tables=tuple(sorted(tables)),
            access=tuple(sorted(access, key=_access_key)),
            foreign_keys=tuple(foreign_keys),
            transactions=tuple(transactions),
            entries={},
        ),
        inside,
        graph,
        sum(facts["loc"] for facts in resolver.modules.values()),
    )


def _lines(sites: Iterable[Site]) -> list[int]:
    return [s.line for s in sites]


def _edge_key(edge: AtomEdge) -> tuple[str, str, EdgeKind]:
    return edge.source, edge.target, edge.kind


def _access_key(access: Access) -> tuple[str, str, str]:
    return access.atom, access.table, access.kind
