"""The resource strategy: one candidate service per resource (a table, with the dependent
tables that merge into it along foreign keys) holding every operation on it, then fitted to
K by merging the most coupled resources. docs/strategy-resource.md describes it step by step.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, ClassVar

from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, NodeKind
from decomposer.model.proposal import Reason
from decomposer.plugins import StrategyInput, StrategyResult
from decomposer.terms import TECHNICAL, business_terms, split_identifier
from decomposer.truth import SHARED
from strategies._resource_common import (
    Merger,
    containers,
    data_free,
    directed_ties,
    glue,
    grow,
    k_range,
    libraries,
    merge_choosing_k,
    merge_to_k,
    structural_fallback,
)
from strategies.common import coupling, fit_to_k, number_options

DEFAULTS: dict[str, Any] = {
    # a table's resource joins the resource of a table it points to when it is at most this
    # share of the parent's size and more coupled to the parent than to anything else
    "dependent_size": 0.5,
    # an atom that only reads goes to the resource it reads most only when that resource has
    # at least this share of its reads; else it is a cross-resource query and follows calls
    "query_share": 0.5,
    # a noun of class and function names that matches no table is a resource of its own when
    # this many atoms (with no data access) carry it; 0 turns nouns off
    "noun_min_atoms": 3,
    # a module whose code touches no data, used from at least this share of the resources,
    # is a library (shared); so is any such atom on its own
    "library_share": 0.15,
    # a module atom goes with its members when this share of them agrees, else it is shared
    "module_majority": 0.5,
    # how much an atom follows its callers, next to what it calls (1.0)
    "called_by_weight": 0.5,
}

WRITE_WEIGHT = 3.0
READ_WEIGHT = 1.0


class ResourceStrategy:
    name: ClassVar[str] = "resource"
    summary: ClassVar[str] = (
        "one service per resource (table, model, noun) with all operations on it; "
        "dependent tables merge into their parent"
    )

    def decompose(self, request: StrategyInput) -> StrategyResult:
        options = number_options(self.name, request.options, DEFAULTS)
        atoms = request.atoms
        reasons: dict[str, list[Reason]] = defaultdict(list)
        labels = _data_labels(atoms, request.graph, options, reasons)
        data = set(labels) | {a.atom for a in atoms.access}
        models = model_atoms(request.graph, atoms)
        nouns = _noun_labels(atoms, labels, models, int(options["noun_min_atoms"]))
        for atom, (label, term) in nouns.items():
            labels[atom] = label
            text = f"its name says '{term}', the noun of resource {label.removeprefix('noun:')}"
            reasons[atom].append(Reason("noun", text, 0.5, (term,)))
        if not labels:
            note = "no tables, models or nouns to build resources on: structural fallback"
            return structural_fallback(request, note)
        seeded = set(labels)
        ties = directed_ties(atoms, float(options["called_by_weight"]))
        # a query over several resources follows its calls, then (what is left) its tables
        tables: dict[str, dict[str, float]] = defaultdict(dict)
        table_labels = {}
        for access in atoms.access:
            node = "table:" + access.table
            table_labels[node] = access.table
            weight = (WRITE_WEIGHT if access.kind == "writes" else READ_WEIGHT) * access.count
            tables[access.atom][node] = tables[access.atom].get(node, 0.0) + weight
            tables[node][access.atom] = 0.0  # the table pulls; it is never pulled

        def spread(labels: dict[str, str], allowed: list[str]) -> dict[str, str]:
            grow(labels, ties, allowed)
            labels.update(table_labels)
            grow(labels, tables, allowed)
            return grow(labels, ties, allowed)

        first = spread(dict(labels), list(atoms.atoms))
        free = data_free(atoms, data)
        library = libraries(atoms, first, free, float(options["library_share"]))
        library.update(glue(atoms, first, library, free, float(options["library_share"])))
        # grown again without the library, so that helpers pull nothing into a resource
        labels = {a: label for a, label in labels.items() if a not in library}
        spread(labels, [a for a in atoms.atoms if a not in library])
        for atom in sorted(a for a in set(labels) - seeded if a in atoms.nodes):
            row = {**ties.get(atom, {}), **tables.get(atom, {})}
            reasons[atom].append(_follow_reason(atom, labels, row))
        clusters = {a: c for a, c in labels.items() if a in atoms.nodes}
        loose = [a for a in atoms.atoms if a not in labels and a not in library]
        adjacency = coupling(atoms)
        for table in atoms.tables:
            # tables take part in the merging as members of their resource
            if "table:" + table in adjacency:
                clusters["table:" + table] = table
        merger = Merger(clusters, adjacency)
        merged = merge_dependents(atoms, merger, float(options["dependent_size"]))
        clusters = merger.result()
        resources = len(set(clusters.values()))
        clusters, k_choice = _fit(clusters, adjacency, request, resources)
        clusters = {a: clusters.get(a, SHARED) for a in atoms.atoms}
        for atom, text in library.items():
            reasons[atom].append(Reason("shared", text, 1.0))
        containers(clusters, atoms, request.graph, float(options["module_majority"]), loose)
        for table, (parent, why) in merged.items():
            text = f"table {table} is a dependent of {parent} (foreign key; {why})"
            for model in models.get(table, []):
                reasons[model].append(Reason("dependent", text, 0.3, (table, parent)))
        names = _names(clusters, set(atoms.tables))
        return StrategyResult(clusters, k_choice, dict(reasons), names)


def merge_dependents(atoms: AtomGraph, merger: Merger, size: float) -> dict[str, tuple[str, str]]:
    """Join each small dependent resource to its parent; child table -> (parent table,
    why).

    A table T is a dependent of a table P it has a foreign key to when T's resource (its
    code and table) has at most `size` times as many members as P's and is coupled to P's
    more than to any other resource: order lines are written and read by the code of orders.
    Small resources are looked at first, so chains resolve (tracking events -> shipments).
    """
    parents: dict[str, list[str]] = defaultdict(list)
    for source, target in atoms.foreign_keys:
        if source != target:
            parents[source].append(target)
    merged: dict[str, tuple[str, str]] = {}
    order = sorted(atoms.tables, key=lambda t: (merger.size.get(merger.find(t), 0), t))
    for table in order:
        own = merger.find(table)
        if own not in merger.alive:
            continue
        ties = merger.between[own]
        if not ties:
            continue
        top = max(ties, key=lambda c: (merger.gain(own, c), c))
        for parent in sorted(parents.get(table, [])):
            theirs = merger.find(parent)
            if theirs == top and merger.size[own] <= size * merger.size[theirs]:
                why = (
                    f"{merger.size[own]} members against {merger.size[theirs]}, "
                    f"most coupled to {parent}"
                )
                merger.join(own, theirs)
                merged[table] = (parent, why)
                break
    return merged


def _data_labels(
    atoms: AtomGraph,
    graph: DependencyGraph,
    options: dict[str, Any],
    reasons: dict[str, list[Reason]],
) -> dict[str, str]:
    """Atoms placed by data, each table its own resource for now: model classes with their
    table, writers with the table they write most, readers with the table they read (when
    one table has `query_share` of their reads)."""
    labels: dict[str, str] = {}
    for table, found in sorted(model_atoms(graph, atoms).items()):
        for model in found:
            if model in labels:
                continue
            labels[model] = table
            reasons[model].append(Reason("model", f"maps table {table}", 1.0, (table,)))
    share = float(options["query_share"])
    for atom in atoms.atoms:
        if atom in labels:
            continue
        # typeshed types Counter values as int; float weights work (python/typeshed#3438)
        writes: Counter[str] = Counter()
        reads: Counter[str] = Counter()
        for access in atoms.accesses_of(atom):
            if access.kind == "writes":
                writes[access.table] += WRITE_WEIGHT * access.count  # type: ignore[assignment]
            else:
                reads[access.table] += READ_WEIGHT * access.count  # type: ignore[assignment]
        if writes:
            best = max(writes, key=lambda r: (writes[r], reads[r], r))
            what = "writes"
        elif reads:
            best = max(reads, key=lambda r: (reads[r], r))
            if reads[best] < share * sum(reads.values()):
                continue  # a query across resources: its calls decide
            what = "reads"
        else:
            continue
        labels[atom] = best
        counts = writes or reads
        others = sorted(t for t in counts if t != best)
        text = f"{what} {best}" + (f" (more than {', '.join(others[:3])})" if others else "")
        reasons[atom].append(Reason(what, text, counts[best] / sum(counts.values()), (best,)))
    return labels


def model_atoms(graph: DependencyGraph, atoms: AtomGraph) -> dict[str, list[str]]:
    """table -> the atoms of the model classes mapped to it (from each class's own
    `attrs.table`, so it holds however the modules are named)."""
    found: dict[str, set[str]] = defaultdict(set)
    for node in graph.nodes(NodeKind.CLASS):
        table = node.attrs.get("table")
        if table and node.id in atoms.atom_of:
            found[table].add(atoms.atom_of[node.id])
    return {table: sorted(models) for table, models in found.items()}


def _noun_labels(
    atoms: AtomGraph, labels: dict[str, str], models: dict[str, list[str]], min_atoms: int
) -> dict[str, tuple[str, str]]:
    """Atoms with no data evidence whose names carry a noun: the resource whose table or
    model names use that noun, else (a noun that ends some class name, carried by `min_atoms` such atoms and
    by no table) a resource of its own. Each atom takes its rarest noun, the most telling."""
    if min_atoms <= 0:
        return {}
    table_terms: dict[str, Counter[str]] = defaultdict(Counter)
    for table in atoms.tables:
        # a table's nouns: its name's and its models' (core_insuranceclaim: InsuranceClaim)
        names = [table, *(m.rpartition(".")[2] for m in models.get(table, []))]
        for term in {t for name in names for t in business_terms(name)}:
            table_terms[term][table] += 1
    carriers: dict[str, list[str]] = defaultdict(list)
    words: dict[str, list[str]] = {}
    heads: set[str] = set()  # the last word of a class name is a noun (PaymentGateway)
    for atom in atoms.atoms:
        kind = atoms.nodes[atom].kind
        words_of_name = split_identifier(atom.rpartition(".")[2])
        if kind == NodeKind.CLASS and words_of_name and words_of_name[-1] not in TECHNICAL:
            heads.add(words_of_name[-1])
        if atom in labels or kind == NodeKind.MODULE:
            continue
        words[atom] = sorted(set(business_terms(atom.rpartition(".")[2])))
        for term in words[atom]:
            carriers[term].append(atom)
    found: dict[str, tuple[str, str]] = {}
    for atom, terms in words.items():
        usable = [
            t for t in terms if t in table_terms or (t in heads and len(carriers[t]) >= min_atoms)
        ]
        if not usable:
            continue
        # a table noun beats a free noun; then the rarest noun
        term = min(usable, key=lambda t: (t not in table_terms, len(carriers[t]), t))
        if term in table_terms:
            counts = table_terms[term]
            found[atom] = (max(counts, key=lambda r: (counts[r], r)), term)
        else:
            found[atom] = ("noun:" + term, term)
    return found


def _follow_reason(atom: str, labels: dict[str, str], row: dict[str, float]) -> Reason:
    """Why a grown atom took its resource: its strongest ties (`row`) inside it."""
    label = labels[atom]
    mine = sorted(
        ((w, other) for other, w in row.items() if labels.get(other) == label),
        key=lambda item: (-item[0], item[1]),
    )
    total = sum(row.values()) or 1.0
    names = [other.removeprefix("table:") for _, other in mine[:3]]
    shown = ", ".join(n.rpartition(".")[2] for n in names)
    weight = sum(w for w, _ in mine) / total
    text = f"follows its strongest ties, {shown}, to resource {label}"
    return Reason("calls", text, weight, tuple(names))


def _fit(
    clusters: dict[str, str],
    adjacency: dict[str, dict[str, float]],
    request: StrategyInput,
    resources: int,
) -> tuple[dict[str, str], str]:
    """K given: merge the most coupled resources down to K (or split the largest, when there
    are fewer resources than K). K not given: the K of highest modularity on the merge path."""
    if request.k is not None:
        if resources >= request.k:
            fitted = merge_to_k(clusters, adjacency, request.k, request.atoms.modules.get)
        else:
            fitted = fit_to_k(clusters, adjacency, request.k, request.seed)
        return fitted, f"given: {request.k} services ({resources} resources before fitting)"
    low, high = k_range(len(request.atoms))
    found, k, score = merge_choosing_k(clusters, adjacency, low, high, request.atoms.modules.get)
    return found, (
        f"chosen: {k} services, the highest modularity ({score:.3f}) while merging "
        f"{resources} resources down to {low}"
    )


def _names(clusters: dict[str, str], tables: set[str]) -> dict[str, str]:
    """A service is named after the table its cluster grew from; one that grew from a noun
    is left to the core, which names it after the tables it writes."""
    return {label: label for label in set(clusters.values()) if label in tables}
