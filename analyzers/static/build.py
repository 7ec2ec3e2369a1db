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
    excluded = list(excluded)
    resolver = Resolver(facts_by_file, excluded)
    # the models first: they give `apps.get_model("shop", "Order")` its class, and a name
    # resolved before that (the resolver remembers every answer) would stay unresolved
    tables = Tables(resolver, sql_files or {})
    cache, keys = parts or (NoCache(), {})
    store = PartStore(
        cache,
        {module: keys.get(resolver.file_of[module]) for module in resolver.modules},
        context_key(resolver, tables, excluded),
    )
    builder = GraphBuilder(resolver)
    access = Access(resolver, tables)
    transactions = Transactions(resolver)
    found: list[ModulePart] = []
    resolved = 0
    for module in sorted(resolver.modules):
        part = store.reuse(module, resolver.file_of[module])
        if part is None:
            resolved += 1
            resolver.start_part()
            part = ModulePart(
                builder.part(module),
                access.part(module),
                transactions.scopes(module),
                module_state(resolver, module),
            )
            store.keep(module, part, resolver.consulted_modules())
        found.append(part)
    # what follows reads the whole tree: from a clean slate too, whichever parts were reused
    resolver.start_part()
    builder.add_modules(graph)
    builder.add_parts(graph, [part.code for part in found])
    progress(1)
    tables.add_to(graph)
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
    return resolved
