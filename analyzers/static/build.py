"""From every file's facts to the graph: code first, then data, then entry points."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from analyzers.static.access import Access
from analyzers.static.entries import add_entry_points
from analyzers.static.parts import ModulePart, PartStore, context_key
from analyzers.static.resolve import GraphBuilder, Resolver
from analyzers.static.state import add_state, module_state
from analyzers.static.tables import Tables
from analyzers.static.transactions import Transactions, add_transactions
from decomposer.cache import Cache, NoCache
from decomposer.model.graph import DependencyGraph

#: The passes of `build_graph`, each reported to `progress` when it is done.
PASSES = 6


class Modules:
    """A tree's modules, resolved one at a time: each module's part is reused from the cache
    while nothing it was resolved from has changed (see parts.py)."""

    def __init__(
        self,
        facts_by_file: dict[str, dict[str, Any]],
        excluded: Iterable[str],
        sql_files: dict[str, dict[str, Any]] | None,
        parts: tuple[Cache, Mapping[str, str | None]] | None,
    ) -> None:
        excluded = list(excluded)
        self.resolver = resolver = Resolver(facts_by_file, excluded)
        # the models first: they give `apps.get_model("shop", "Order")` its class, and a name
        # resolved before that (the resolver remembers every answer) would stay unresolved
        self.tables = Tables(resolver, sql_files or {})
        cache, keys = parts or (NoCache(), {})
        self.store = PartStore(
            cache,
            {module: keys.get(resolver.file_of[module]) for module in resolver.modules},
            context_key(resolver, self.tables, excluded),
        )
        self.builder = GraphBuilder(resolver)
        self.access = Access(resolver, self.tables)
        self.transactions = Transactions(resolver)
        #: how many modules were resolved (the others' parts reused)
        self.resolved = 0

    def part(self, module: str) -> tuple[ModulePart, dict[str, str] | None]:
        """The module's part, and the facts keys of the modules it was resolved from (None
        when one of them is not kept)."""
        found = self.store.reuse(module, self.resolver.file_of[module])
        if found is not None:
            return found
        self.resolved += 1
        resolver = self.resolver
        resolver.start_part()
        part = ModulePart(
            self.builder.part(module),
            self.access.part(module),
            self.transactions.scopes(module),
            module_state(resolver, module),
        )
        return part, self.store.keep(module, part, resolver.consulted_modules())


def build_graph(
    graph: DependencyGraph,
    facts_by_file: dict[str, dict[str, Any]],
    excluded: Iterable[str],
    sql_files: dict[str, dict[str, Any]] | None = None,
    progress: Callable[[int], None] = lambda done: None,
    parts: tuple[Cache, Mapping[str, str | None]] | None = None,
    entry_points: bool = True,
) -> int:
    """Build the graph; return how many modules were resolved (the others' parts reused).

    `sql_files`: the summaries of the tree's .sql files (schemas), by path. `parts`: the cache
    that keeps each module's resolved part, and the cache key of every file's facts (None for
    facts not kept). `entry_points`: whether to find them (the last pass). On a large tree the
    passes take a while each (half a minute in all at a million lines): `progress` hears of
    every one."""
    modules = Modules(facts_by_file, excluded, sql_files, parts)
    resolver, access = modules.resolver, modules.access
    modules.store.read_ahead(resolver.modules)
    found = [modules.part(module)[0] for module in sorted(resolver.modules)]
    # what follows reads the whole tree: from a clean slate too, whichever parts were reused
    resolver.start_part()
    modules.builder.add_modules(graph)
    modules.builder.add_parts(graph, [part.code for part in found])
    progress(1)
    modules.tables.add_to(graph)
    progress(1)
    for part in found:
        access.add(part.access)
    access.add_to(graph)
    progress(1)
    add_transactions(graph, access, [scope for part in found for scope in part.transactions])
    progress(1)
    add_state(graph, resolver, [part.state for part in found])
    progress(1)
    if entry_points:
        add_entry_points(graph, resolver)
        progress(1)
    return modules.resolved


#: What a command keeps of one module's part: its value, and the modules whose facts it read
#: beyond those the part was resolved from.
Reduce = Callable[[Resolver, str, ModulePart], tuple[Any, set[str]]]


def reduce_parts(
    facts_by_file: dict[str, dict[str, Any]],
    excluded: Iterable[str],
    sql_files: dict[str, dict[str, Any]] | None,
    parts: tuple[Cache, Mapping[str, str | None]],
    name: str,
    reduce: Reduce,
) -> tuple[Modules, dict[str, Any]]:
    """What `reduce` makes of every module's part, by module, without assembling the graph.

    The reductions are kept in the cache beside the parts (`name` tells them apart: it names
    the reduction and everything it depends on besides the facts), reused on the same
    conditions: a module whose reduction is kept is not even read back."""
    modules = Modules(facts_by_file, excluded, sql_files, parts)
    store = modules.store
    store.read_ahead(modules.resolver.modules, name)
    found = {}
    for module in sorted(modules.resolver.modules):
        value = store.reuse_reduction(name, module)
        if value is None:
            part, deps = modules.part(module)
            value, read = reduce(modules.resolver, module, part)
            if deps is not None:
                store.keep_reduction(name, module, value, deps, read)
        found[module] = value
    return modules, found
