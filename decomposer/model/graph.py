"""The dependency graph: frozen records in plain adjacency dictionaries.

One node per id, one edge per (source, target, kind). Adding the same fact twice merges its
evidence (counts added, call sites kept), so analyzers can add edges without bookkeeping.
Callers use the named queries below; algorithms that need a networkx graph build their own,
small one. A million-line monolith has a million edges or more, and a networkx MultiDiGraph
keeps two dictionaries per edge where this keeps two entries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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


# A frozen dataclass's own __init__ sets each field through object.__setattr__; a slot's
# setter does the same twice as fast. The records built by the million (sites, edges) have
# an __init__ of their own that uses the setters; they stay frozen all the same.


@dataclass(frozen=True, slots=True, order=True, init=False)
class Site:
    """A place in the analysed source: a path relative to the analysed root, and a line."""

    file: str
    line: int

    def __init__(self, file: str, line: int) -> None:
        _SITE_SETTERS[0](self, file)
        _SITE_SETTERS[1](self, line)

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


_SITE_SETTERS = tuple(getattr(Site, name).__set__ for name in ("file", "line"))


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        source: str,
        target: str,
        kind: EdgeKind,
        static_count: int = 0,
        runtime_count: int = 0,
        sites: tuple[Site, ...] = (),
        tags: frozenset[str] = frozenset(),
    ) -> None:
        set_source, set_target, set_kind, set_static, set_runtime, set_sites, set_tags = (
            _EDGE_SETTERS
        )
        set_source(self, source)
        set_target(self, target)
        set_kind(self, kind)
        set_static(self, static_count)
        set_runtime(self, runtime_count)
        set_sites(self, sites)
        set_tags(self, tags)

    @property
    def count(self) -> int:
        return self.static_count + self.runtime_count

    def merged_with(self, other: Edge) -> Edge:
        sites = tuple(sorted(set(self.sites) | set(other.sites)))[:MAX_SITES]
        return Edge(  # not dataclasses.replace: a large graph merges many edges
            self.source,
            self.target,
            self.kind,
            self.static_count + other.static_count,
            self.runtime_count + other.runtime_count,
            sites,
            self.tags & other.tags,
        )


_EDGE_SETTERS = tuple(
    getattr(Edge, name).__set__
    for name in ("source", "target", "kind", "static_count", "runtime_count", "sites", "tags")
)


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """A problem with one analysed file: kept in the graph, never raised."""

    file: str
    code: str  # e.g. "syntax-error", "undecodable", "unresolved-import"
    message: str
    line: int | None = None


class DependencyGraph:
    """Nodes by id; each node's edges out and in, keyed by (other end, kind)."""

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._out: dict[str, dict[tuple[str, EdgeKind], Edge]] = {}
        self._in: dict[str, dict[tuple[str, EdgeKind], Edge]] = {}
        self._diagnostics: set[Diagnostic] = set()

    # -- building ---------------------------------------------------------------------------

    def add_node(self, node: Node) -> None:
        """Add a node; a node already present keeps its record (the first analyzer wins)."""
        if node.id not in self._nodes:
            self.replace_node(node)

    def replace_node(self, node: Node) -> None:
        if node.id not in self._nodes:
            self._out[node.id] = {}
            self._in[node.id] = {}
        self._nodes[node.id] = node

    def add_edge(self, edge: Edge) -> None:
        """Add an edge; the same (source, target, kind) seen again merges the evidence."""
        for end in (edge.source, edge.target):
            if end not in self._nodes:
                raise KeyError(f"edge {edge.source} -> {edge.target} names unknown node {end}")
        out = self._out[edge.source]
        old = out.get((edge.target, edge.kind))
        if old is not None:
            edge = old.merged_with(edge)
        out[(edge.target, edge.kind)] = edge
        self._in[edge.target][(edge.source, edge.kind)] = edge

    def add_diagnostic(self, diagnostic: Diagnostic) -> None:
        self._diagnostics.add(diagnostic)

    # -- queries ----------------------------------------------------------------------------

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def node(self, node_id: str) -> Node:
        return self._nodes[node_id]

    def nodes(self, kind: NodeKind | None = None) -> Iterator[Node]:
        for node in self._nodes.values():
            if kind is None or node.kind == kind:
                yield node

    def edge(self, source: str, target: str, kind: EdgeKind) -> Edge | None:
        return self._out.get(source, {}).get((target, kind))

    def edges(self, kind: EdgeKind | None = None) -> Iterator[Edge]:
        for out in self._out.values():
            for edge in out.values():
                if kind is None or edge.kind == kind:
                    yield edge

    def out_edges(self, node_id: str, kind: EdgeKind | None = None) -> Iterator[Edge]:
        for edge in self._out.get(node_id, {}).values():
            if kind is None or edge.kind == kind:
                yield edge

    def in_edges(self, node_id: str, kind: EdgeKind | None = None) -> Iterator[Edge]:
        for edge in self._in.get(node_id, {}).values():
            if kind is None or edge.kind == kind:
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
        # from the keys: an enum's `.value` per edge costs at a million lines
        counts = Counter(kind for out in self._out.values() for _, kind in out)
        return {kind.value: counts[kind] for kind in EdgeKind}

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
