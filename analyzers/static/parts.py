"""Each module's resolved part of the graph, kept in the analysis cache with the facts it was
resolved from, so that after an edit only some modules are resolved again.

A module's part (the nodes and edges of its code, the tables it reads and writes, its
transaction scopes, the state it changes in process) is resolved from a clean slate
(`Resolver.start_part`). It depends only on the module's facts, on the facts of the modules it
read while being resolved (its `deps`, recorded with it), and on what all parts share
(`context`): the versions, which modules exist, the excludes, and the models and tables of the
whole tree. A part is reused while its own facts, and those of every module it read, are
unchanged; a change to what all parts share resolves every module again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from analyzers.static.access import AccessPart
from analyzers.static.resolve import CodePart, Resolver
from analyzers.static.runner import FACTS_VERSION
from analyzers.static.tables import Tables
from analyzers.static.transactions import Scope
from decomposer import __version__
from decomposer.cache import Cache, content_key
from decomposer.model.graph import Diagnostic, Edge, EdgeKind, Node, NodeKind, Site

#: Bump when a part's record changes shape.
PART_VERSION = "part-2"


@dataclass
class ModulePart:
    code: CodePart
    access: AccessPart
    transactions: list[Scope]
    state: dict[str, list[dict[str, Any]]]  # scope -> the state it changes


def context_key(resolver: Resolver, tables: Tables, excluded: Iterable[str]) -> str:
    """What every part depends on besides the facts of the modules it read: the versions of
    decomposer, of the facts and of the parts, which modules exist, the excludes, the models
    and tables."""
    return content_key(
        __version__,
        FACTS_VERSION,
        PART_VERSION,
        "\n".join(sorted(resolver.modules)),
        repr(sorted(resolver.duplicates)),
        "\n".join(sorted(excluded)),
        tables.fingerprint(),
    )


class PartStore:
    """Parts in the cache, under their module, its facts and the context."""

    def __init__(self, cache: Cache, keys: Mapping[str, str | None], context: str) -> None:
        #: module -> the cache key of its facts; None for facts that are not kept (a file
        #: that timed out or changed while it was read): parts that read them are not kept.
        self.cache = cache
        self.keys = keys
        self.context = context

    def _key(self, module: str, name: str = "part") -> str | None:
        """Where the module's part (or what `name` makes of it) is kept."""
        own = self.keys.get(module)
        return None if own is None else content_key(name, self.context, module, own)

    def reuse(self, module: str, rel: str) -> tuple[ModulePart, dict[str, str]] | None:
        """The module's kept part and what it was resolved from, if none of that changed."""
        record = self._valid(self._key(module))
        if record is None:
            return None
        try:
            return _part_from_json(record, rel), record["deps"]
        except (AttributeError, KeyError, TypeError, ValueError):  # another shape: resolve again
            return None

    def keep(self, module: str, part: ModulePart, consulted: set[str]) -> dict[str, str] | None:
        """Keep a part just resolved, with the facts of every module it read; return those
        (None when one of them is not kept, nor then the part)."""
        key = self._key(module)
        deps = {m: self.keys.get(m) for m in sorted(consulted | {module})}
        if key is None or None in deps.values():
            return None
        found = cast(dict[str, str], deps)
        if self.cache.writable:
            self.cache.put(key, {"deps": found, **_part_to_json(part)})
        return found

    def read_ahead(self, modules: Iterable[str], name: str = "part") -> None:
        """Start reading the modules' kept parts (or what `name` made of them)."""
        self.cache.read_ahead(key for module in modules if (key := self._key(module, name)))

    def reuse_reduction(self, name: str, module: str) -> Any | None:
        """What `name` kept of the module's part, if nothing it came from changed."""
        record = self._valid(self._key(module, name))
        return None if record is None else record.get("value")

    def keep_reduction(
        self, name: str, module: str, value: Any, deps: dict[str, str], read: set[str]
    ) -> None:
        """Keep what `name` made of the module's part (whose facts it came from: `deps`),
        also reading the facts of the modules in `read`."""
        key = self._key(module, name)
        found = {**deps, **{m: self.keys.get(m) for m in sorted(read - deps.keys())}}
        if key is not None and None not in found.values() and self.cache.writable:
            self.cache.put(key, {"deps": found, "value": value})

    def _valid(self, key: str | None) -> dict[str, Any] | None:
        """The record under `key`, if the facts of every module it was made from are those
        of today."""
        record = self.cache.read(key) if key is not None else None
        if not isinstance(record, dict) or not isinstance(record.get("deps"), dict):
            return None
        if any(self.keys.get(m) != k for m, k in record["deps"].items()):
            return None
        return record


# -- records: sites are lines, all in the module's own file -------------------------------------


def _part_to_json(part: ModulePart) -> dict[str, Any]:
    code, access = part.code, part.access
    return {
        "nodes": [[n.id, n.kind.value, n.line, n.end_line, n.loc, n.attrs] for n in code.nodes],
        "edges": [
            [e.source, e.target, e.kind.value, e.static_count, _lines(e.sites), sorted(e.tags)]
            for e in code.edges.values()
        ],
        "externals": sorted(code.externals),
        "diagnostics": [[d.code, d.message, d.line] for d in code.diagnostics],
        "access": [
            [scope, table, kind, _lines(sites)]
            for (scope, table, kind), sites in access.edges.items()
        ],
        "joins": [
            [scope, sorted(map(list, pairs))] for scope, pairs in access.joins.items() if pairs
        ],
        "transactions": [
            [t.code, t.kind, t.first, t.last, [list(call) for call in t.calls]]
            for t in part.transactions
        ],
        "state": part.state,
    }


def _part_from_json(record: Mapping[str, Any], rel: str) -> ModulePart:
    site = sites_in(rel)
    code = CodePart()
    node_kinds = {kind.value: kind for kind in NodeKind}
    for node_id, kind, line, end_line, loc, attrs in record["nodes"]:
        code.nodes.append(Node(node_id, node_kinds[kind], rel, line, end_line, loc, attrs))
    edge_kinds = {kind.value: kind for kind in EdgeKind}
    for source, target, kind, count, lines, tags in record["edges"]:
        edge_kind = edge_kinds[kind]
        code.edges[(source, target, edge_kind)] = Edge(
            source, target, edge_kind, count, 0, tuple(map(site, lines)), frozenset(tags)
        )
    code.externals = set(record["externals"])
    code.diagnostics = [
        Diagnostic(rel, c, message, line) for c, message, line in record["diagnostics"]
    ]
    access = AccessPart()
    for scope, table, kind, lines in record["access"]:
        access.edges[(scope, table, kind)] = [site(line) for line in lines]
    for scope, pairs in record["joins"]:
        access.joins[scope] = {(a, b) for a, b in pairs}
    transactions = [
        Scope(code_id, kind, first, last, tuple(map(tuple, calls)))
        for code_id, kind, first, last, calls in record["transactions"]
    ]
    return ModulePart(code, access, transactions, record["state"])


def sites_in(rel: str) -> Callable[[int], Site]:
    """The site of a line of `rel`: one object per line, however often it is asked for."""
    sites: dict[int, Site] = {}

    def site(line: int) -> Site:
        found = sites.get(line)
        if found is None:
            found = sites[line] = Site(rel, line)
        return found

    return site


def _lines(found: Iterable[Site]) -> list[int]:
    return [s.line for s in found]
