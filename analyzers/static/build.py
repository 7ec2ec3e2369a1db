"""From every file's facts to the graph: code first, then data, then entry points."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from analyzers.static.entries import add_entry_points
from analyzers.static.resolve import GraphBuilder, Resolver
from decomposer.model.graph import DependencyGraph


def build_graph(
    graph: DependencyGraph, facts_by_file: dict[str, dict[str, Any]], excluded: Iterable[str]
) -> None:
    resolver = Resolver(facts_by_file, excluded)
    GraphBuilder(graph, resolver).build()
    add_entry_points(graph, resolver)
