"""From every file's facts to the graph: code first, then data, then entry points."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from analyzers.static.access import Access
from analyzers.static.entries import add_entry_points
from analyzers.static.resolve import GraphBuilder, Resolver
from analyzers.static.state import add_state
from analyzers.static.tables import Tables
from analyzers.static.transactions import Transactions
from decomposer.model.graph import DependencyGraph

#: The passes of `build_graph`, each reported to `progress` when it is done.
PASSES = 6


def build_graph(
    graph: DependencyGraph,
    facts_by_file: dict[str, dict[str, Any]],
    excluded: Iterable[str],
    sql_files: dict[str, dict[str, Any]] | None = None,
    progress: Callable[[int], None] = lambda done: None,
) -> None:
    """`sql_files`: the summaries of the tree's .sql files (schemas), by path. On a large tree
    the passes take a while each (half a minute in all at a million lines): `progress` hears
    of every one."""
    resolver = Resolver(facts_by_file, excluded)
    # the models first: they give `apps.get_model("shop", "Order")` its class, and a name
    # resolved before that (the resolver remembers every answer) would stay unresolved
    tables = Tables(resolver, sql_files or {})
    GraphBuilder(graph, resolver).build()
    progress(1)
    tables.add_to(graph)
    progress(1)
    access = Access(resolver, tables)
    access.collect()
    access.add_to(graph)
    progress(1)
    Transactions(resolver, access, graph).add_to_graph()
    progress(1)
    add_state(graph, resolver)
    progress(1)
    add_entry_points(graph, resolver)
    progress(1)
