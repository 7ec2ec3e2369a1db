"""DDD subdomains: cluster the domain entities (tables and their model classes) into bounded
contexts, then give every code atom to the context whose entities it writes, then reads,
then uses; code with no data of its own follows its call neighbours (docs/strategy-ddd_subdomain.md).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import ClassVar

from scipy import sparse

from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, EdgeKind, NodeKind
from decomposer.model.proposal import Reason
from decomposer.plugins import StrategyInput, StrategyResult
from decomposer.terms import business_terms
from strategies._ddd_subdomain_placement import (
    DataUse,
    communities_to_k,
    data_of,
    normalised,
    reaches_data,
    settle,
    strongest,
)
from strategies.common import (
    attach_isolated,
    coupling,
    fit_to_k,
    louvain,
    modularity,
    number_options,
)

#: Options (`[tool.decomposer.strategies.ddd_subdomain]`) and their defaults.
DEFAULTS: dict[str, float] = {
    # entity graph: how strongly each relation ties two tables
    "foreign_key": 0.5,
    "transaction": 0.25,
    "co_use": 1.0,
    "call_co_use": 0.25,
    "module_co_use": 1.0,
    "terms": 1.0,
    # placement: how much each kind of access pulls an atom to a context; orders of
    # magnitude apart, so the entities an atom writes decide, reads only break ties
    # between the contexts it writes (or decide when it writes nothing), and so on
    "model": 1000.0,
    "writes": 100.0,
    "reads": 10.0,
    "uses": 1.0,
    "weak": 2.0,
    "resolution": 1.0,
}


class DddSubdomainStrategy:
    name: ClassVar[str] = "ddd_subdomain"
    summary: ClassVar[str] = (
        "bounded contexts of the entities (foreign keys, transactions, co-use); code follows "
        "the entities it writes, reads, then calls"
    )

    def decompose(self, request: StrategyInput) -> StrategyResult:
        atoms, graph = request.atoms, request.graph
        options = number_options(self.name, request.options, DEFAULTS)
        data = data_of(atoms, graph)
        tables = sorted({t for use in data.values() for t in use.tables()} | set(atoms.tables))
        if not tables:
            return _without_data(request)
        relations = entity_relations(atoms, graph, data, options)
        contexts, k_choice = _contexts(relations, tables, request, options)
        language = context_language(graph, contexts)
        fixed: dict[str, str] = {}
        prior: dict[str, dict[str, float]] = {}
        reasons: dict[str, list[Reason]] = {}
        for atom, use in sorted(data.items()):
            placed = place(atom, use, contexts, language, options)
            if placed is None:
                continue
            best, scores, why = placed
            reasons[atom] = why
            total = sum(scores.values())
            if use.model or use.writes or scores[best] >= 0.5 * total:
                fixed[atom] = best
            else:  # reads spread over several contexts (a report): weak evidence
                prior[atom] = {c: options["weak"] * s / total for c, s in scores.items()}
        reach = reaches_data(atoms, data)
        for atom in atoms.atoms:
            if atom not in reach and atom not in fixed:
                found = speaks(atom, language)
                if found is not None:
                    fixed[atom], reasons[atom] = found
        settled = settle(atoms, graph, fixed, prior, reach)
        for atom, why in settled.reasons.items():
            reasons[atom] = [*reasons.get(atom, []), *why]
        used = set(settled.clusters.values())
        return StrategyResult(
            clusters=settled.clusters,
            k_choice=k_choice,
            reasons=reasons,
            names={c: c for c in set(contexts.values()) if c in used},
        )


# -- entities and their relations -----------------------------------------------------------


def entity_relations(
    atoms: AtomGraph,
    graph: DependencyGraph,
    data: Mapping[str, DataUse],
    options: Mapping[str, float],
) -> dict[str, dict[str, float]]:
    """The weighted entity graph: table -> table -> how strongly they belong together.

    Each group of tables (a transaction's writes, an atom's tables, a module's writes) ties
    its pairs with weights that add up to about one whatever its size, so a saga writing
    ten tables does not outweigh ten narrow writes. Sums of pairs are sparse products
    (groups x tables), and each table keeps only its NEIGHBOURS strongest ties."""
    tables = sorted({t for use in data.values() for t in use.tables()} | set(atoms.tables))
    index = {t: i for i, t in enumerate(tables)}
    total = sparse.csr_matrix((len(tables), len(tables)))
    fks = [(index[a], index[b]) for a, b in atoms.foreign_keys if a != b]
    if fks and options["foreign_key"]:
        rows, cols = zip(*fks, strict=True)
        total = total + options["foreign_key"] * _matrix(rows, cols, [1.0] * len(fks), tables)
    groups = [{t: 1.0 for t in tx.tables} for tx in atoms.transactions]
    total = total + options["transaction"] * _pairs(groups, index)
    order = sorted(data)
    profiles = [_profile(data[atom]) for atom in order]
    total = total + options["co_use"] * _pairs(profiles, index)
    if options["call_co_use"]:
        # co-use one call apart: a function and the helper it calls work on one aggregate
        row_of = {atom: i for i, atom in enumerate(order)}
        calls = [
            (row_of[e.source], row_of[e.target])
            for e in atoms.edges
            if e.kind in (EdgeKind.CALLS, EdgeKind.INSTANTIATES)
            and e.source in row_of
            and e.target in row_of
        ]
        if calls:
            m = _rows(profiles, index)
            rows, cols = zip(*calls, strict=True)
            hop = _square(rows, cols, [1.0] * len(calls), len(order))
            product = m.T @ hop @ m
            total = total + options["call_co_use"] * (product + product.T)
    if options["module_co_use"]:
        by_module: dict[str, dict[str, float]] = defaultdict(dict)
        for atom in order:
            for table in data[atom].writes:
                by_module[atoms.module_of(atom)][table] = 1.0
        total = total + options["module_co_use"] * _pairs(list(by_module.values()), index)
    relations = strongest(total.tocsr(), tables, NEIGHBOURS)
    if options["terms"]:
        _language_links(relations, graph, options["terms"])
    return relations


#: Each table keeps its strongest ties to this many others (the weak rest is noise, and
#: the clustering runs on a graph linear in the tables).
NEIGHBOURS = 30


def _rows(groups: Sequence[Mapping[str, float]], index: Mapping[str, int]) -> sparse.csr_matrix:
    """One row per group, its weights over the tables scaled to sum to 1."""
    rows, cols, values = [], [], []
    for row, weights in enumerate(groups):
        norm = sum(weights.values())
        for table, weight in weights.items():
            if table in index and norm:
                rows.append(row)
                cols.append(index[table])
                values.append(weight / norm)
    return sparse.csr_matrix((values, (rows, cols)), shape=(len(groups), len(index)))


def _pairs(groups: Sequence[Mapping[str, float]], index: Mapping[str, int]) -> sparse.csr_matrix:
    """Every pair of tables in a group tied by 2 x their shares of the group (so a pair
    alone weighs 1/2, and the ties of a wide group are thin)."""
    m = _rows(groups, index)
    product = (m.T @ m).tolil()
    product.setdiag(0)
    return 2 * product.tocsr()


def _matrix(rows, cols, values, tables: list[str]) -> sparse.csr_matrix:
    n = len(tables)
    single = sparse.csr_matrix((values, (rows, cols)), shape=(n, n))
    return single + single.T


def _square(rows, cols, values, n: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((values, (rows, cols)), shape=(n, n))


def _profile(use: DataUse) -> dict[str, float]:
    """An atom's tables, weighted (writes count twice)."""
    found: dict[str, float] = defaultdict(float)
    for table in use.writes:
        found[table] += 2.0
    for table in set(use.reads) | set(use.uses):
        found[table] += 1.0
    return dict(found)


def _link(relations: dict[str, dict[str, float]], a: str, b: str, weight: float) -> None:
    if a != b and weight > 0:
        relations[a][b] = relations[a].get(b, 0.0) + weight
        relations[b][a] = relations[b].get(a, 0.0) + weight


def entity_terms(graph: DependencyGraph, *, qualifiers: bool = False) -> dict[str, set[str]]:
    """table -> the business terms of its name and its model classes' names; with
    `qualifiers` only the first term of each name, the one that says whose part it is
    (order in order_lines, seat in seat_holds), not the generic head (line, hold)."""
    found: dict[str, set[str]] = {}
    for node in graph.nodes(NodeKind.TABLE):
        table = node.id.removeprefix("table:")
        names = [table, *(m.rpartition(".")[2] for m in node.attrs.get("models", ()))]
        terms: set[str] = set()
        for name in names:
            words = business_terms(name)
            terms.update(words[:1] if qualifiers else words)
        found[table] = terms
    return found


def _language_links(relations: dict[str, dict[str, float]], graph: DependencyGraph, scale: float):
    """Tables whose names have the same rare qualifier (stock_items, stock_movements; orders,
    order_lines) are related."""
    terms = entity_terms(graph, qualifiers=True)
    frequency = Counter(t for found in terms.values() for t in found)
    having: dict[str, list[str]] = defaultdict(list)
    for table, found in sorted(terms.items()):
        for term in found:
            having[term].append(table)
    for term, tables in sorted(having.items()):
        # a term most tables share (an app prefix) says nothing
        if len(tables) < 2 or len(tables) > max(2, len(terms) // 4):
            continue
        idf = math.log(len(terms) / frequency[term])
        for i, a in enumerate(tables):
            for b in tables[i + 1 :]:
                _link(relations, a, b, scale * idf / (len(tables) - 1))


def _contexts(
    relations: Mapping[str, Mapping[str, float]],
    tables: list[str],
    request: StrategyInput,
    options: Mapping[str, float],
) -> tuple[dict[str, str], str]:
    """table -> bounded context: Louvain on the normalised entity graph, fitted to K
    (`communities_to_k`) when there is a target."""
    normal = normalised(relations)
    if request.k is None:
        found = louvain(normal, tables, request.seed, options["resolution"])
        count = len(set(found.values()))
        k_choice = (
            f"chosen: {count} bounded contexts, the Louvain communities of the entity graph "
            f"(modularity {modularity(normal, found):.3f}, resolution {options['resolution']})"
        )
        return _named(found, normal), k_choice
    found = communities_to_k(normal, tables, request.k, request.seed, options["resolution"])
    return _named(found, normal), f"given: {request.k} services"


def _named(contexts: Mapping[str, str], relations: Mapping[str, Mapping[str, float]]):
    """Each context labelled by its aggregate root: the table most tied to the others in it
    (orders rather than order_lines)."""
    members: dict[str, list[str]] = defaultdict(list)
    for table, context in contexts.items():
        members[context].append(table)
    labels: dict[str, str] = {}
    for context, tables in members.items():
        inside = set(tables)

        def strength(t: str, inside: set[str] = inside) -> float:
            return sum(w for o, w in relations.get(t, {}).items() if o in inside)

        root = max(sorted(tables), key=lambda t: (strength(t), -len(t)))
        labels[context] = root
    return {table: labels[context] for table, context in contexts.items()}


def context_language(graph: DependencyGraph, contexts: Mapping[str, str]) -> dict[str, set[str]]:
    """context -> the ubiquitous language: terms of its tables and model classes."""
    language: dict[str, set[str]] = defaultdict(set)
    for table, terms in entity_terms(graph).items():
        if table in contexts:
            language[contexts[table]].update(terms)
    return dict(language)


# -- placing code ---------------------------------------------------------------------------


def place(
    atom: str,
    use: DataUse,
    contexts: Mapping[str, str],
    language: Mapping[str, set[str]],
    options: Mapping[str, float],
) -> tuple[str, dict[str, float], list[Reason]] | None:
    """The context an atom's own data use points to, every context's score, and why; None
    when it uses no entity."""
    score: dict[str, float] = defaultdict(float)
    why: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    kinds = (("writes", use.writes), ("reads", use.reads), ("uses", use.uses))
    for kind, counts in kinds:
        for table, count in counts.items():
            context = contexts.get(table)
            if context is not None:
                score[context] += options[kind] * math.log1p(count) / math.log(2)
                why[context][kind].append(table)
    if use.model and use.model in contexts:
        score[contexts[use.model]] += options["model"]
        why[contexts[use.model]]["maps"].append(use.model)
    if not score:
        return None
    terms = set(business_terms(atom.rpartition(".")[2]))
    for context in score:
        # the ubiquitous language breaks ties: less than one read can outweigh
        score[context] += 0.1 * len(terms & language.get(context, set()))
    best = max(score, key=lambda c: (score[c], c))
    total = sum(score.values())
    reasons = []
    for kind in ("maps", "writes", "reads", "uses"):
        tables = sorted(set(why[best].get(kind, ())))
        if tables:
            text = f"{_verb(kind)} {_listed(tables)}, entities of context {best}"
            reasons.append(Reason(f"ddd-{kind}", text, score[best] / total, tuple(tables)))
    # the strongest rivals, so a reader sees what was outweighed
    for rival in sorted((c for c in score if c != best), key=lambda c: (-score[c], c))[:2]:
        kind = next(k for k in ("maps", "writes", "reads", "uses") if why[rival].get(k))
        tables = sorted(set(why[rival][kind]))
        text = f"also {_verb(kind)} {_listed(tables)} of context {rival} (outweighed)"
        reasons.append(Reason("ddd-rival", text, score[rival] / total, tuple(tables)))
    return best, dict(score), reasons


def _verb(kind: str) -> str:
    return {"maps": "is the model of", "uses": "uses the model of"}.get(kind, kind)


def _listed(names: list[str]) -> str:
    more = f" and {len(names) - 4} more" if len(names) > 4 else ""
    return ", ".join(names[:4]) + more


def speaks(atom: str, language: Mapping[str, set[str]]) -> tuple[str, list[Reason]] | None:
    """The one context whose ubiquitous language an atom's name speaks (`PatientError`,
    `invoice_to_dict`), for code that touches no entity; None when it speaks none or several."""
    terms = set(business_terms(atom.rpartition(".")[2]))
    matches = {c: terms & words for c, words in language.items() if terms & words}
    if len(matches) != 1:
        return None
    ((context, words),) = matches.items()
    text = f"touches no entity, but its name speaks the language of context {context}"
    return context, [
        Reason("ddd-terms", text + f" ({', '.join(sorted(words))})", 0.5, tuple(sorted(words)))
    ]


def _without_data(request: StrategyInput) -> StrategyResult:
    """No tables at all: no entities to build contexts from, so communities of the code."""
    atoms = request.atoms
    if not atoms.atoms:
        return StrategyResult(clusters={}, k_choice="no code and no tables: nothing to cut")
    adjacency = coupling(atoms)
    connected = sorted(n for n, row in adjacency.items() if row)
    found = louvain(adjacency, connected, request.seed) if connected else {}
    base = attach_isolated(
        {a: c for a, c in found.items() if a in atoms.nodes}, list(atoms.atoms), atoms.module_of
    )
    k = request.k or max(1, len(set(base.values())))
    clusters = fit_to_k(base, adjacency, k, request.seed)
    found_k = len(set(clusters.values()))
    return StrategyResult(
        clusters={a: clusters[a] for a in atoms.atoms},
        k_choice=f"no tables in the graph: {found_k} communities of the code instead of "
        f"bounded contexts ({'given' if request.k else 'Louvain'})",
    )
