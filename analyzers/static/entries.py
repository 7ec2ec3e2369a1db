"""Entry points: HTTP routes, tasks, signal receivers and commands (being written)."""

from __future__ import annotations

from analyzers.static.resolve import Resolver
from decomposer.model.graph import DependencyGraph


def add_entry_points(graph: DependencyGraph, resolver: Resolver) -> None:
    """Add `entry:*` nodes and their `handles` edges to the graph."""
