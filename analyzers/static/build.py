"""From every file's facts to the graph: code first, then data, then entry points."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from analyzers.static.access import Access
from analyzers.static.entries import add_entry_points
from analyzers.static.resolve import GraphBuilder, Resolver
from analyzers.static.state import add_state
from analyzers.static.tables import Tables
from analyzers.static.transactions import Transactions
from decomposer.model.graph import DependencyGraph


def build_graph(
    graph: DependencyGraph,
    facts_by_file: dict[str, dict[str, Any]],
    excluded: Iterable[str],
    sql_files: dict[str, dict[str, Any]] | None = None,
) -> None:
    """`sql_files`: the summaries of the tree's .sql files (schemas), by path."""
    resolver = Resolver(facts_by_file, excluded)
    GraphBuilder(graph, resolver).build()
    tables = Tables(resolver, sql_files or {})
    tables.add_to(graph)
    access = Access(resolver, tables)
    access.collect()
    access.add_to(graph)
    Transactions(resolver, access, graph).add_to_graph()
    add_state(graph, resolver)
    add_entry_points(graph, resolver)
