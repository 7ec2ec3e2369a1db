"""The dependency graph: frozen records over a private networkx MultiDiGraph.

One node per id, one edge per (source, target, kind). Adding the same fact twice merges its
evidence (counts added, call sites kept), so analyzers can add edges without bookkeeping.
Callers never touch networkx attribute dicts; they use the named queries below.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

#: How many call sites an edge keeps; counts stay exact beyond it.
MAX_SITES = 20
#: Entry nodes of use cases seen running (runtime traces): `entry:usecase:http:POST /orders`.
#: Their `handles` edges go to everything the use case ran, not to a handler.
TRACED_ENTRY_PREFIX = "entry:usecase:"


class NodeKind(StrEnum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    TABLE = "table"
    ENTRY = "entry"
    EXTERNAL = "external"


class EdgeKind(StrEnum):
    CONTAINS = "contains"
    IMPORTS = "imports"
    CALLS = "calls"
    INHERITS = "inherits"
    INSTANTIATES = "instantiates"
    REFERENCES = "references"
    READS = "reads"
    WRITES = "writes"
    FOREIGN_KEY = "foreign_key"
    HANDLES = "handles"
    CO_CHANGES = "co_changes"
    SAME_TRANSACTION = "same_transaction"


@dataclass(frozen=True, slots=True, order=True)
class Site:
    """A place in the analysed source: a path relative to the analysed root, and a line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    @classmethod
    def parse(cls, text: str) -> Site:
        file, _, line = text.rpartition(":")
        return cls(file, int(line))


@dataclass(frozen=True, slots=True)
class Node:
    """A module, class, function, table, entry point or external package.

    `attrs` holds what only some kinds have (a class's `bases`, a function's `decorators`,
    a table's `models`); values are JSON types so the graph round-trips exactly.
    """

    id: str
    kind: NodeKind
    file: str | None = None
    line: int | None = None
    end_line: int | None = None
    loc: int = 0
    attrs: dict[str, Any] = field(default_factory=dict, compare=True, hash=False)


@dataclass(frozen=True, slots=True)
class Edge:
    """One fact: `source` depends on `target` in the way `kind` says, with its evidence.

    `tags` qualify every occurrence of the fact (an import seen only under
    `if TYPE_CHECKING:` is tagged `type_checking`); merging keeps the tags both sides share.
    """

    source: str
    target: str
    kind: EdgeKind
    static_count: int = 0
    runtime_count: int = 0
    sites: tuple[Site, ...] = ()
    tags: frozenset[str] = frozenset()

    @property
    def count(self) -> int:
        return self.static_count + self.runtime_count

    def merged_with(self, other: Edge) -> Edge:
        sites = tuple(sorted(set(self.sites) | set(other.sites)))[:MAX_SITES]
        return replace(
            self,
            static_count=self.static_count + other.static_count,
            runtime_count=self.runtime_count + other.runtime_count,
            sites=sites,
            tags=self.tags & other.tags,
        )


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """A problem with one analysed file: kept in the graph, never raised."""

    file: str
    code: str  # e.g. "syntax-error", "undecodable", "unresolved-import"
    message: str
    line: int | None = None


class DependencyGraph:
    """Typed façade over a MultiDiGraph: one node per id, one edge per (source, target, kind)."""

    def __init__(self) -> None:
        import networkx  # imported here: a run that reuses the last graph never needs it

        self._g: nx.MultiDiGraph = networkx.MultiDiGraph()
        self._diagnostics: set[Diagnostic] = set()

    # -- building ---------------------------------------------------------------------------

    def add_node(self, node: Node) -> None:
        """Add a node; a node already present keeps its record (the first analyzer wins)."""
        if node.id not in self._g or "node" not in self._g.nodes[node.id]:
            self._g.add_node(node.id, node=node)

    def replace_node(self, node: Node) -> None:
        self._g.add_node(node.id, node=node)

    def add_edge(self, edge: Edge) -> None:
        """Add an edge; the same (source, target, kind) seen again merges the evidence."""
        for end in (edge.source, edge.target):
            if end not in self._g:
                raise KeyError(f"edge {edge.source} -> {edge.target} names unknown node {end}")
        old = self._g.get_edge_data(edge.source, edge.target, key=edge.kind)
        if old is not None:
            edge = old["edge"].merged_with(edge)
        self._g.add_edge(edge.source, edge.target, key=edge.kind, edge=edge)

    def add_diagnostic(self, diagnostic: Diagnostic) -> None:
        self._diagnostics.add(diagnostic)

    # -- queries ----------------------------------------------------------------------------

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._g

    def __len__(self) -> int:
        return self._g.number_of_nodes()

    def node(self, node_id: str) -> Node:
        return self._g.nodes[node_id]["node"]  # type: ignore[no-any-return]

    def nodes(self, kind: NodeKind | None = None) -> Iterator[Node]:
        for _, data in self._g.nodes(data="node"):
            if kind is None or data.kind == kind:
                yield data

    def edge(self, source: str, target: str, kind: EdgeKind) -> Edge | None:
        data = self._g.get_edge_data(source, target, key=kind)
        return None if data is None else data["edge"]

    def edges(self, kind: EdgeKind | None = None) -> Iterator[Edge]:
        for _, _, key, edge in self._g.edges(keys=True, data="edge"):
            if kind is None or key == kind:
                yield edge

    def out_edges(self, node_id: str, kind: EdgeKind | None = None) -> Iterator[Edge]:
        for _, _, key, edge in self._g.out_edges(node_id, keys=True, data="edge"):
            if kind is None or key == kind:
                yield edge

    def in_edges(self, node_id: str, kind: EdgeKind | None = None) -> Iterator[Edge]:
        for _, _, key, edge in self._g.in_edges(node_id, keys=True, data="edge"):
            if kind is None or key == kind:
                yield edge

    def children(self, node_id: str) -> list[str]:
        """Ids directly contained in `node_id` (a package's modules, a class's methods)."""
        return sorted(e.target for e in self.out_edges(node_id, EdgeKind.CONTAINS))

    def parent(self, node_id: str) -> str | None:
        for edge in self.in_edges(node_id, EdgeKind.CONTAINS):
            return edge.source
        return None

    def diagnostics(self) -> list[Diagnostic]:
        return sorted(self._diagnostics, key=_diagnostic_order)

    def count_nodes(self) -> dict[str, int]:
        counts = dict.fromkeys((k.value for k in NodeKind), 0)
        for node in self.nodes():
            counts[node.kind.value] += 1
        return counts

    def count_edges(self) -> dict[str, int]:
        counts = dict.fromkeys((k.value for k in EdgeKind), 0)
        for _, _, key in self._g.edges(keys=True):
            counts[str(key)] += 1
        return counts

    def as_networkx(self) -> nx.MultiDiGraph:
        """A read-only view for algorithms (community detection, reachability)."""
        return self._g.copy(as_view=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DependencyGraph):
            return NotImplemented
        return (
            sorted(self.nodes(), key=_node_order) == sorted(other.nodes(), key=_node_order)
            and sorted(self.edges(), key=_edge_order) == sorted(other.edges(), key=_edge_order)
            and self._diagnostics == other._diagnostics
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    @classmethod
    def build(
        cls,
        nodes: Iterable[Node],
        edges: Iterable[Edge] = (),
        diagnostics: Iterable[Diagnostic] = (),
    ) -> DependencyGraph:
        graph = cls()
        for node in nodes:
            graph.add_node(node)
        for edge in edges:
            graph.add_edge(edge)
        for diagnostic in diagnostics:
            graph.add_diagnostic(diagnostic)
        return graph


def _node_order(node: Node) -> str:
    return node.id


def _edge_order(edge: Edge) -> tuple[str, str, str]:
    return (edge.source, edge.target, edge.kind.value)


def _diagnostic_order(d: Diagnostic) -> tuple[str, int, str, str]:
    return (d.file, d.line or 0, d.code, d.message)
