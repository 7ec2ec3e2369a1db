"""The dependency graph seen at one level of granularity: atoms and what joins them.

An atom is the unit a decomposition assigns to a service. `--level` picks it:

    module     every module
    class      classes and module-level functions; a module's own top-level code is the
               module atom (the default)
    function   functions and methods, classes (their bodies), modules

Everything below an atom folds into it (a method into its class at the class level, a nested
function into its function), and the edges of folded nodes become edges of their atoms.
Tables, foreign keys, transactions and entry points come along, so strategies and metrics
all read the same small structure instead of walking the graph again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from decomposer.errors import InputError
from decomposer.model.graph import (
    TRACED_ENTRY_PREFIX,
    DependencyGraph,
    Edge,
    EdgeKind,
    Node,
    NodeKind,
    Site,
)

LEVELS = ("module", "class", "function")
DEFAULT_LEVEL = "class"

#: Edges between code atoms (data edges are kept apart: `AtomGraph.access`).
CODE_KINDS = (
    EdgeKind.CALLS,
    EdgeKind.INSTANTIATES,
    EdgeKind.INHERITS,
    EdgeKind.REFERENCES,
    EdgeKind.IMPORTS,
    EdgeKind.CO_CHANGES,
)


@dataclass(frozen=True, slots=True)
class AtomEdge:
    """Every edge of one kind from one atom to another, added up."""

    source: str
    target: str
    kind: EdgeKind
    static_count: int
    runtime_count: int
    sites: tuple[Site, ...] = ()

    @property
    def count(self) -> int:
        """The edge's weight as coupling evidence: its call sites, plus one when a trace saw
        it run. How often it ran is load, not coupling (see `icp_runtime`): a call made in
        every test of a suite would otherwise outweigh everything static analysis found."""
        return self.static_count + (1 if self.runtime_count else 0)


@dataclass(frozen=True, slots=True)
class Access:
    """An atom reading or writing a table (`kind` is "reads" or "writes")."""

    atom: str
    table: str
    kind: str
    count: int
    sites: tuple[Site, ...] = ()


@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction scope: the atom that opens it and the tables written inside."""

    atom: str
    kind: str
    line: int
    tables: frozenset[str]
    #: (line, table) in the order the scope first writes each table
    steps: tuple[tuple[int, str], ...] = ()


@dataclass
class AtomGraph:
    level: str
    atoms: tuple[str, ...]
    nodes: dict[str, Node]  # atom -> its node
    atom_of: dict[str, str]  # every code node id -> the atom it folds into
    modules: dict[str, str]  # atom -> the module it lives in
    edges: tuple[AtomEdge, ...]
    tables: tuple[str, ...]  # table names, without the "table:" prefix
    access: tuple[Access, ...]
    foreign_keys: tuple[tuple[str, str], ...]
    transactions: tuple[Transaction, ...]
    #: entry point id -> the atoms of its handlers
    entries: dict[str, tuple[str, ...]]
    _index: dict[str, dict[str, list]] = field(default_factory=dict, repr=False)

    def module_of(self, atom: str) -> str:
        """The module an atom lives in."""
        return self.modules[atom]

    def declared_entries(self) -> list[tuple[str, tuple[str, ...]]]:
        """The entry points the code declares, with their handlers, sorted: `entries` without
        traced use cases, whose `handles` edges name everything they ran (a test's fixtures
        included) rather than a handler."""
        return sorted(
            (entry, handlers)
            for entry, handlers in self.entries.items()
            if not entry.startswith(TRACED_ENTRY_PREFIX)
        )

    def out_edges(self, atom: str) -> list[AtomEdge]:
        return self._indexed("out", self.edges, lambda e: e.source).get(atom, [])

    def in_edges(self, atom: str) -> list[AtomEdge]:
        return self._indexed("in", self.edges, lambda e: e.target).get(atom, [])

    def accesses_of(self, atom: str) -> list[Access]:
        return self._indexed("access", self.access, lambda a: a.atom).get(atom, [])

    def _indexed(self, name: str, items: tuple, key: Any) -> dict[str, list]:
        """An index built on first use (most callers need one or two of them)."""
        if name not in self._index:
            index: dict[str, list] = {}
            for item in items:
                index.setdefault(key(item), []).append(item)
            self._index[name] = index
        return self._index[name]

    def coupling(self, weights: Mapping[EdgeKind, float]) -> dict[str, dict[str, float]]:
        """Undirected weighted adjacency between atoms: sum of weight x count per pair."""
        adjacency: dict[str, dict[str, float]] = defaultdict(dict)
        for edge in self.edges:
            weight = weights.get(edge.kind, 0.0) * edge.count
            if weight:
                a, b = edge.source, edge.target
                adjacency[a][b] = adjacency[a].get(b, 0.0) + weight
                adjacency[b][a] = adjacency[b].get(a, 0.0) + weight
        return dict(adjacency)

    def writers(self) -> dict[str, dict[str, int]]:
        """table -> atom -> how often the atom writes it."""
        return self._accessors("writes")

    def readers(self) -> dict[str, dict[str, int]]:
        """table -> atom -> how often the atom reads it."""
        return self._accessors("reads")

    def _accessors(self, kind: str) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = defaultdict(dict)
        for access in self.access:
            if access.kind == kind:
                found[access.table][access.atom] = access.count
        return dict(found)

    @classmethod
    def from_graph(cls, graph: DependencyGraph, level: str = DEFAULT_LEVEL) -> AtomGraph:
        if level not in LEVELS:
            raise InputError(f"unknown level '{level}'", hint=f"use one of: {', '.join(LEVELS)}")
        code = {n.id: n for n in graph.nodes() if n.kind in _CODE}
        by_kind: dict[EdgeKind, list[Edge]] = defaultdict(list)
        for edge in graph.edges():  # once: walking a large graph's edges is not free
            by_kind[edge.kind].append(edge)
        parents = {e.target: e.source for e in by_kind[EdgeKind.CONTAINS]}

        def kind_of(node_id: str) -> NodeKind | None:
            node = code.get(node_id)
            return None if node is None else node.kind

        folded: dict[str, str] = {}
        for node_id in sorted(code):
            atom_of(node_id, level, kind_of, parents.get, folded)
        atoms = tuple(sorted(set(folded.values())))
        edges: dict[tuple[str, str, EdgeKind], list[Edge]] = defaultdict(list)
        access: dict[tuple[str, str, str], list[Edge]] = defaultdict(list)
        for kind in CODE_KINDS:  # a loop per kind: at a million lines, per-edge tests cost
            # the module-to-module co-change edges (tagged "files") count those commits
            skip_hunks = kind == EdgeKind.CO_CHANGES and level == "module"
            for edge in by_kind[kind]:
                if skip_hunks and "hunks" in edge.tags:
                    continue
                source, target = folded.get(edge.source), folded.get(edge.target)
                if source and target and source != target:
                    edges[(source, target, kind)].append(edge)
        for kind in _ACCESS:
            for edge in by_kind[kind]:
                source = folded.get(edge.source)
                if source:
                    access[(source, _table(edge.target), kind.value)].append(edge)
        entries: dict[str, set[str]] = defaultdict(set)
        for edge in by_kind[EdgeKind.HANDLES]:
            if edge.target in folded:
                entries[edge.source].add(folded[edge.target])
        nodes = {atom: code[atom] for atom in atoms}
        for atom, attrs in _folded_attrs(code, folded).items():
            nodes[atom] = replace(nodes[atom], attrs={**nodes[atom].attrs, **attrs})
        transactions = []
        for node_id, node in sorted(code.items()):
            for found in node.attrs.get("transactions", ()):
                transactions.append(
                    Transaction(
                        folded[node_id],
                        found["kind"],
                        found["line"],
                        frozenset(found["tables"]),
                        tuple((line, table) for line, table in found.get("steps", ())),
                    )
                )
        return cls(
            level=level,
            atoms=atoms,
            nodes=nodes,
            atom_of=folded,
            modules={atom: module_of(atom, kind_of, parents.get) for atom in atoms},
            edges=tuple(summed(key, found) for key, found in sorted(edges.items())),
            tables=tuple(sorted(_table(n.id) for n in graph.nodes(NodeKind.TABLE))),
            access=tuple(
                Access(atom, table, kind, sum(e.count for e in found), sites_of(found))
                for (atom, table, kind), found in sorted(access.items())
            ),
            foreign_keys=tuple(
                sorted((_table(e.source), _table(e.target)) for e in by_kind[EdgeKind.FOREIGN_KEY])
            ),
            transactions=tuple(transactions),
            entries={entry: tuple(sorted(found)) for entry, found in sorted(entries.items())},
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self.atoms)

    def __len__(self) -> int:
        return len(self.atoms)


_CODE = (NodeKind.MODULE, NodeKind.CLASS, NodeKind.FUNCTION)
_ACCESS = (EdgeKind.READS, EdgeKind.WRITES)


def atom_of(
    node_id: str,
    level: str,
    kind_of: Callable[[str], NodeKind | None],
    parent_of: Callable[[str], str | None],
    memo: dict[str, str],
) -> str:
    """The atom a code node folds into at `level`. `kind_of` gives a code id's kind (None for
    anything else), `parent_of` the code that contains it (None at the top)."""
    if node_id in memo:
        return memo[node_id]
    kind = kind_of(node_id)
    parent = parent_of(node_id)
    parent_kind = kind_of(parent) if parent is not None else None
    if kind == NodeKind.MODULE or parent is None or parent_kind is None:
        atom = node_id
    elif parent_kind == NodeKind.MODULE and level != "module":
        atom = node_id  # a top-level class or function
    elif (
        level == "function"
        and kind == NodeKind.FUNCTION
        and parent_kind == NodeKind.CLASS
        and kind_of(parent_of(parent) or "") == NodeKind.MODULE
    ):
        atom = node_id  # a method of a top-level class
    else:
        atom = atom_of(parent, level, kind_of, parent_of, memo)
    memo[node_id] = atom
    return atom


# Attributes of code inside an atom that are the atom's too: SQL joins, in-process state.
_FOLDED = ("sql_joins", "state")


def _folded_attrs(code: dict[str, Node], atom_of: dict[str, str]) -> dict[str, dict[str, list]]:
    found: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for node_id in sorted(code):
        for key in _FOLDED:
            values = code[node_id].attrs.get(key)
            if values:
                found[atom_of[node_id]][key].extend(values)
    return {
        atom: {key: distinct(values) for key, values in attrs.items()}
        for atom, attrs in found.items()
    }


def distinct(values: list) -> list:
    """The values without repeats (JSON values: compared by their repr), in order."""
    seen, kept = set(), []
    for value in values:
        key = repr(value)
        if key not in seen:
            seen.add(key)
            kept.append(value)
    return kept


def module_of(
    atom: str,
    kind_of: Callable[[str], NodeKind | None],
    parent_of: Callable[[str], str | None],
) -> str:
    """The module an atom lives in: up the code that contains it (see `atom_of`)."""
    current = atom
    while kind_of(current) != NodeKind.MODULE:
        parent = parent_of(current)
        if parent is None or kind_of(parent) is None:
            break
        current = parent
    return current


def summed(key: tuple[str, str, EdgeKind], found: list[Edge]) -> AtomEdge:
    """The atom edge `key` (source, target, kind) of the graph's edges folded into it."""
    source, target, kind = key
    if len(found) == 1:  # most atom edges: one edge, nothing to add up
        edge = found[0]
        return AtomEdge(
            source, target, kind, edge.static_count, edge.runtime_count, sites_of(found)
        )
    return AtomEdge(
        source,
        target,
        kind,
        sum(e.static_count for e in found),
        sum(e.runtime_count for e in found),
        sites_of(found),
    )


def sites_of(edges: list[Edge]) -> tuple[Site, ...]:
    """The edges' sites, sorted, without repeats, at most 20."""
    if len(edges) == 1 and len(edges[0].sites) <= 1:  # most edges: nothing to merge
        return edges[0].sites
    return tuple(sorted({site for e in edges for site in e.sites}))[:20]


def _table(node_id: str) -> str:
    return node_id.removeprefix("table:")
