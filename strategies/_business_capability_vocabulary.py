"""The vocabulary of each atom, as the business-capability strategy reads it: the business
terms of its name, of the methods inside it, of the tables it uses and of the routes and
commands it handles (the graph keeps no docstrings). Weighted by repeating a term.
"""

from __future__ import annotations

import re
from collections import defaultdict

from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, NodeKind
from decomposer.terms import business_terms

#: How many times a term counts, by where it was found.
NAME = 3
MEMBER = 1
WRITES = 2
READS = 1
MODEL = 3
ENTRY = 2

#: Route parameters (<int:id>, {item_id}, (?P<year>…)) are not vocabulary.
_PARAMETER = re.compile(r"<[^>]*>|\{[^}]*\}|\([^)]*\)")


def documents(atoms: AtomGraph, graph: DependencyGraph) -> dict[str, list[str]]:
    """atom -> its terms, repeated by weight (an empty list when it has none)."""
    docs: dict[str, list[str]] = {atom: [] for atom in atoms.atoms}
    for atom in atoms.atoms:
        docs[atom].extend(business_terms(_short(atom)) * NAME)
    for node_id, atom in sorted(atoms.atom_of.items()):
        if node_id != atom:  # methods and nested functions folded into the atom
            docs[atom].extend(business_terms(_short(node_id)) * MEMBER)
    table_terms = data_terms(graph)
    for access in atoms.access:
        weight = WRITES if access.kind == "writes" else READS
        docs[access.atom].extend(table_terms.get(access.table, []) * weight)
    for atom, node in atoms.nodes.items():
        table = node.attrs.get("table")
        if isinstance(table, str):  # a model class
            docs[atom].extend(table_terms.get(table, business_terms(table)) * MODEL)
    for entry, handlers in atoms.declared_entries():
        words = entry_terms(graph, entry)
        for atom in handlers:
            docs[atom].extend(words * ENTRY)
    return docs


def entry_terms(graph: DependencyGraph, entry: str) -> list[str]:
    """The business terms of a route path, command, task or signal sender."""
    attrs = graph.node(entry).attrs if entry in graph else {}
    text = attrs.get("path") or entry.split(":", 2)[-1]
    if attrs.get("kind") == "signal":
        text = _short(str(attrs.get("sender", "")))
    return business_terms(_PARAMETER.sub(" ", str(text)))


def data_terms(graph: DependencyGraph) -> dict[str, list[str]]:
    """table -> the terms of its name and of its model classes' names (once each)."""
    found: dict[str, list[str]] = defaultdict(list)
    for node in graph.nodes(NodeKind.TABLE):
        table = node.id.removeprefix("table:")
        words = business_terms(table)
        for model in node.attrs.get("models", ()):
            words += business_terms(_short(model))
        found[table] = sorted(set(words))
    return dict(found)


def _short(node_id: str) -> str:
    return node_id.rpartition(".")[2]
