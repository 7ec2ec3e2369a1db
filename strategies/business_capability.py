"""Business capabilities: the services a business would name (billing, shipping, catalogue).

Capabilities come from a capability map in the options, or are inferred from the code's
vocabulary: TF-IDF over each atom's terms, smoothed over its code neighbours; the words
that occur together form the capabilities, spherical k-means started from them places the
atoms that speak clearly, coupling refines them, and the rest follow their call neighbours
(docs/strategy-business_capability.md).
"""

from __future__ import annotations

import fnmatch
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from decomposer.errors import ConfigError
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph
from decomposer.model.proposal import Reason
from decomposer.plugins import StrategyInput, StrategyResult
from decomposer.terms import business_terms
from strategies._business_capability_vocabulary import data_terms, documents
from strategies._ddd_subdomain_placement import (
    FOLLOW_WEIGHTS,
    communities_to_k,
    data_of,
    normalised,
    reaches_data,
    settle,
    strongest,
)
from strategies.common import cluster_weights, coupling, louvain, number_options

#: Options (`[tool.decomposer.strategies.business_capability]`) and their defaults.
DEFAULTS: dict[str, float] = {
    "smoothing": 0.5,  # share of an atom's vector taken from its code neighbours
    "max_df": 0.8,  # a term in more than this share of the worded atoms says nothing
    "min_similarity": 0.4,  # below it an atom's words do not decide (its neighbours do)
    "coupling": 0.25,  # weight of the coupling share next to the similarity when refining
    "resolution": 1.0,  # Louvain resolution on the term graph
    "min_keyword_similarity": 0.15,  # capability map: below it, keywords do not decide
}
CAPABILITY_KEYS = ("keywords", "paths", "routes")
#: Each term keeps its ties to this many others it occurs with most (a graph linear in
#: the vocabulary, whatever the corpus).
NEIGHBOURS = 30
_WHERE = "[tool.decomposer.strategies.business_capability]"


@dataclass(frozen=True)
class Capability:
    """One entry of the capability map."""

    name: str
    keywords: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # globs on atom ids or file paths
    routes: tuple[str, ...] = ()  # prefixes of route paths, command or task names


@dataclass
class Vectors:
    """The atoms' TF-IDF rows (own words) and their smoothed rows, with the vocabulary."""

    order: list[str]
    own: sparse.csr_matrix
    smooth: sparse.csr_matrix
    vocabulary: list[str]

    def worded(self) -> list[int]:
        """Rows of the atoms that have words of their own."""
        counts = np.diff(self.own.indptr)
        return [i for i in range(len(self.order)) if counts[i] > 0]


class BusinessCapabilityStrategy:
    name: ClassVar[str] = "business_capability"
    summary: ClassVar[str] = (
        "business capabilities from a capability map or the code's vocabulary (TF-IDF, "
        "spherical k-means), refined by coupling"
    )

    def decompose(self, request: StrategyInput) -> StrategyResult:
        atoms, graph = request.atoms, request.graph
        options, capabilities = parse_options(request.options)
        docs = documents(atoms, graph)
        if not capabilities:
            # the ubiquitous language: the words that name the data; verbs and technical
            # words would make capabilities of "list" and "export"
            domain = {t for words in data_terms(graph).values() for t in words}
            if domain:
                docs = {a: [t for t in words if t in domain] for a, words in docs.items()}
        vectors = vectorise(atoms, docs, options)
        if capabilities:
            placed = from_map(capabilities, atoms, graph, vectors, options)
            if request.k is not None and request.k != len(capabilities):
                k_choice = f"{placed[3]} (the map decides: the target of {request.k} is ignored)"
                placed = (*placed[:3], k_choice, placed[4])
        else:
            placed = inferred(request, vectors, options)
        fixed, scores, reasons, k_choice, names = placed
        fixed = refine(fixed, scores, atoms, options["coupling"])
        reach = reaches_data(atoms, data_of(atoms, graph))
        settled = settle(atoms, graph, fixed, {}, reach)
        for atom, why in settled.reasons.items():
            reasons[atom] = [*reasons.get(atom, []), *why]
        used = set(settled.clusters.values())
        return StrategyResult(
            clusters=settled.clusters,
            k_choice=k_choice,
            reasons=reasons,
            names={c: n for c, n in names.items() if c in used},
        )


Placed = tuple[
    dict[str, str], dict[str, dict[str, float]], dict[str, list[Reason]], str, dict[str, str]
]


# -- options ------------------------------------------------------------------------------


def parse_options(given: Mapping[str, Any]) -> tuple[dict[str, float], list[Capability]]:
    options = number_options(
        BusinessCapabilityStrategy.name, given, DEFAULTS, own=("capabilities",)
    )
    capabilities = parse_capabilities(given["capabilities"]) if "capabilities" in given else []
    for key in ("smoothing", "max_df"):
        if options[key] > 1:
            raise ConfigError(
                f"{_WHERE} {key} should be between 0 and 1, got {options[key]}",
                hint="see docs/strategy-business_capability.md",
            )
    return options, capabilities


def parse_capabilities(value: Any) -> list[Capability]:
    """The capability map: {name = {keywords = [...], paths = [...], routes = [...]}}."""
    where = f"{_WHERE} capabilities"
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(
            f"{where} should be a table of capability name -> "
            "{keywords = [...], paths = [...], routes = [...]}",
            hint="see docs/strategy-business_capability.md",
        )
    found = []
    for name, body in value.items():
        if not isinstance(body, Mapping):
            raise ConfigError(
                f"{where}.{name} should be a table with keywords, paths and/or routes",
                hint='e.g. billing = {keywords = ["invoice", "payment"]}',
            )
        unknown = sorted(set(body) - set(CAPABILITY_KEYS))
        if unknown:
            raise ConfigError(
                f"{where}.{name} has an unknown key '{unknown[0]}'",
                hint=f"use {', '.join(CAPABILITY_KEYS)}",
            )
        lists: dict[str, tuple[str, ...]] = {}
        for key in CAPABILITY_KEYS:
            items = body.get(key, [])
            if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
                raise ConfigError(
                    f"{where}.{name}.{key} should be a list of non-empty strings",
                    hint=f"got {items!r}",
                )
            lists[key] = tuple(items)
        if not any(lists.values()):
            raise ConfigError(
                f"{where}.{name} has no keywords, paths or routes",
                hint="give at least one, or remove the capability",
            )
        found.append(Capability(str(name), **lists))
    return found


# -- vectors --------------------------------------------------------------------------------


def vectorise(
    atoms: AtomGraph, docs: Mapping[str, list[str]], options: Mapping[str, float]
) -> Vectors:
    order = list(atoms.atoms)
    own, vocabulary = tfidf([docs[a] for a in order], options["max_df"])
    return Vectors(order, own, smoothed(own, atoms, order, options["smoothing"]), vocabulary)


def tfidf(docs: Sequence[list[str]], max_df: float) -> tuple[sparse.csr_matrix, list[str]]:
    """Sparse TF-IDF rows (sublinear term frequency, L2-normalised) and the vocabulary. A
    term in more than `max_df` of the worded atoms is dropped (but never one in two)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    worded = sum(1 for d in docs if d)
    if not worded:
        return sparse.csr_matrix((len(docs), 0)), []
    limit = max(2, int(max_df * worded))
    vectorizer = TfidfVectorizer(
        analyzer=_identity, sublinear_tf=True, max_df=limit if limit < worded else 1.0
    )
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # every term pruned
        return sparse.csr_matrix((len(docs), 0)), []
    return sparse.csr_matrix(matrix), [str(t) for t in vectorizer.get_feature_names_out()]


def _identity(doc: list[str]) -> list[str]:
    return doc


def smoothed(
    matrix: sparse.csr_matrix, atoms: AtomGraph, order: list[str], smoothing: float
) -> sparse.csr_matrix:
    """Each row mixed with the mean of its code neighbours' rows, then re-normalised: a
    handler whose own name says little borrows the words of what it calls."""
    from sklearn.preprocessing import normalize

    if not smoothing or matrix.shape[1] == 0:
        return matrix
    index = {a: i for i, a in enumerate(order)}
    rows, cols, weights = [], [], []
    for edge in atoms.edges:
        weight = FOLLOW_WEIGHTS.get(edge.kind, 0.0) * edge.count
        if weight:
            a, b = index[edge.source], index[edge.target]
            rows += [a, b]
            cols += [b, a]
            weights += [weight, weight]
    n = len(order)
    adjacency = sparse.csr_matrix((weights, (rows, cols)), shape=(n, n))
    neighbours = normalize(normalize(adjacency, norm="l1") @ matrix)
    return sparse.csr_matrix(normalize(matrix * (1 - smoothing) + neighbours * smoothing))


# -- inferred capabilities ------------------------------------------------------------------


def inferred(request: StrategyInput, vectors: Vectors, options: Mapping[str, float]) -> Placed:
    """Capabilities from the words that occur together, atoms by similarity to them."""
    worded = vectors.worded()
    if len(worded) < 2 or not vectors.vocabulary:
        return {}, {}, {}, "no vocabulary: atoms follow their neighbours", {}
    rows = vectors.smooth[worded]
    groups, k_choice = term_groups(rows, vectors.vocabulary, request, options)
    labels = sorted(groups)
    centres = _centres(groups, labels, vectors.vocabulary)
    centres = spherical_kmeans(rows, centres, request.seed)
    similarity = np.asarray(rows @ centres.T)
    fixed: dict[str, str] = {}
    scores: dict[str, dict[str, float]] = {}
    reasons: dict[str, list[Reason]] = {}
    names = _names(groups, labels, np.argmax(similarity, axis=1), worded, vectors)
    for row, i in enumerate(worded):
        best = int(np.argmax(similarity[row]))
        if similarity[row, best] < options["min_similarity"]:
            continue
        atom = vectors.order[i]
        fixed[atom] = labels[best]
        scores[atom] = {c: float(similarity[row, j]) for j, c in enumerate(labels)}
        terms = _telling_terms(vectors.own, i, centres[best], vectors.vocabulary)
        text = (
            f"TF-IDF similarity {similarity[row, best]:.2f} to capability {names[labels[best]]}"
            f" ({', '.join(terms) or 'words of its neighbours'})"
        )
        reasons[atom] = [Reason("terms", text, float(similarity[row, best]), tuple(terms))]
    return fixed, scores, reasons, k_choice, names


def term_groups(
    rows: sparse.csr_matrix,
    vocabulary: list[str],
    request: StrategyInput,
    options: Mapping[str, float],
) -> tuple[dict[str, list[str]], str]:
    """label -> the terms of one capability: Louvain communities of the term graph (terms
    tied by how much they occur together in the smoothed rows), fitted to K."""
    graph = normalised(strongest((rows.T @ rows).tocsr(), vocabulary, NEIGHBOURS))
    terms = sorted(vocabulary)
    resolution = options["resolution"]
    if request.k is None:
        found = louvain(graph, terms, request.seed, resolution)
        k_choice = (
            f"chosen: {len(set(found.values()))} capabilities, the Louvain communities of the "
            f"terms that occur together (resolution {resolution})"
        )
    else:
        found = communities_to_k(graph, terms, request.k, request.seed, resolution)
        k_choice = f"given: {request.k} services"
    groups: dict[str, list[str]] = {}
    for term, label in sorted(found.items()):
        groups.setdefault(label, []).append(term)
    return groups, k_choice


def _centres(groups: Mapping[str, list[str]], labels: list[str], vocabulary: list[str]):
    """One unit row per capability: its terms, equally."""
    from sklearn.preprocessing import normalize

    column = {t: j for j, t in enumerate(vocabulary)}
    centres = np.zeros((len(labels), len(vocabulary)))
    for row, label in enumerate(labels):
        for term in groups[label]:
            centres[row, column[term]] = 1.0
    return normalize(centres)


def _names(
    groups: Mapping[str, list[str]],
    labels: list[str],
    best: np.ndarray,
    worded: list[int],
    vectors: Vectors,
) -> dict[str, str]:
    """Each capability is called by the word of its group that most of its atoms use."""
    column = {t: j for j, t in enumerate(vectors.vocabulary)}
    using: dict[str, Counter[int]] = {label: Counter() for label in labels}
    for row, i in enumerate(worded):
        start, end = vectors.own.indptr[i], vectors.own.indptr[i + 1]
        using[labels[int(best[row])]].update(int(j) for j in vectors.own.indices[start:end])
    return {
        label: max(groups[label], key=lambda t: (using[label][column[t]], t)) for label in labels
    }


def spherical_kmeans(rows: sparse.csr_matrix, centres: np.ndarray, seed: int) -> np.ndarray:
    """k-means on the unit rows, started from the term groups (so deterministic and tied to
    the vocabulary), its centres normalised: cosine k-means."""
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import normalize

    if rows.shape[0] <= len(centres):
        return centres
    model = KMeans(n_clusters=len(centres), init=centres, n_init=1, random_state=seed)
    with warnings.catch_warnings():  # fewer distinct rows than centres is fine here
        warnings.simplefilter("ignore")
        model.fit(rows)
    return np.asarray(normalize(model.cluster_centers_))


def _telling_terms(
    matrix: sparse.csr_matrix, i: int, centre: np.ndarray, vocabulary: list[str]
) -> list[str]:
    """The terms of row i that weigh most in the capability's centre."""
    start, end = matrix.indptr[i], matrix.indptr[i + 1]
    weights = {
        int(j): float(v * centre[j])
        for j, v in zip(matrix.indices[start:end], matrix.data[start:end], strict=True)
    }
    ranked = sorted(weights, key=lambda j: (-weights[j], vocabulary[j]))
    return [vocabulary[j] for j in ranked[:3] if weights[j] > 0]


def refine(
    fixed: Mapping[str, str],
    scores: Mapping[str, Mapping[str, float]],
    atoms: AtomGraph,
    weight: float,
    rounds: int = 3,
) -> dict[str, str]:
    """Structural refinement: an atom placed by its words moves when similarity plus
    `weight` x its coupling share to another capability beats its own (a few rounds,
    sorted order: deterministic)."""
    result = dict(fixed)
    if not weight:
        return result
    adjacency = coupling(atoms, tables=False)
    for _ in range(rounds):
        moved = False
        for atom in sorted(result):
            if atom not in scores:
                continue
            ties = cluster_weights(atom, adjacency, result)
            total = sum(ties.values()) or 1.0
            combined = {c: s + weight * ties.get(c, 0.0) / total for c, s in scores[atom].items()}
            best = max(combined, key=lambda c: (combined[c], c == result[atom], c))
            if best != result[atom]:
                result[atom] = best
                moved = True
        if not moved:
            break
    return result


# -- the capability map ---------------------------------------------------------------------


def from_map(
    capabilities: list[Capability],
    atoms: AtomGraph,
    graph: DependencyGraph,
    vectors: Vectors,
    options: Mapping[str, float],
) -> Placed:
    """Path globs decide first, then route prefixes, then keywords by TF-IDF similarity."""
    fixed: dict[str, str] = {}
    reasons: dict[str, list[Reason]] = {}
    for atom in vectors.order:
        node = atoms.nodes[atom]
        for capability in capabilities:
            glob = next((g for g in capability.paths if _matches(g, atom, node.file)), None)
            if glob is not None:
                fixed[atom] = capability.name
                text = f"matches path {glob} of capability {capability.name}"
                reasons[atom] = [Reason("capability-path", text, 1.0, (glob,))]
                break
    for entry, handlers in atoms.declared_entries():
        route = _entry_text(graph, entry)
        owner, prefix = next(
            ((c, r) for c in capabilities for r in c.routes if route.startswith(r)), (None, "")
        )
        if owner is None:
            continue
        for atom in handlers:
            if atom not in fixed:
                fixed[atom] = owner.name
                text = f"handles {route}, under {prefix} of capability {owner.name}"
                reasons[atom] = [Reason("capability-route", text, 1.0, (entry,))]
    scores: dict[str, dict[str, float]] = {}
    column = {t: j for j, t in enumerate(vectors.vocabulary)}
    keywords = np.zeros((len(capabilities), len(vectors.vocabulary)))
    for row, capability in enumerate(capabilities):
        for keyword in capability.keywords:
            for term in business_terms(keyword) or [keyword.lower()]:
                if term in column:
                    keywords[row, column[term]] = 1.0
    norms = np.linalg.norm(keywords, axis=1, keepdims=True)
    keywords = np.divide(keywords, norms, out=np.zeros_like(keywords), where=norms > 0)
    # own words only: a helper should not inherit a keyword from its callers here (the
    # placement after the map lets it follow them when nothing else claims it)
    similarity = np.asarray(vectors.own @ keywords.T)
    names = [c.name for c in capabilities]
    for i, atom in enumerate(vectors.order):
        best = int(np.argmax(similarity[i])) if len(names) else 0
        if atom in fixed or similarity[i, best] < options["min_keyword_similarity"]:
            continue
        fixed[atom] = names[best]
        scores[atom] = {c: float(similarity[i, j]) for j, c in enumerate(names)}
        hits = _telling_terms(vectors.own, i, keywords[best], vectors.vocabulary)
        text = (
            f"keyword similarity {similarity[i, best]:.2f} to capability {names[best]}"
            f" ({', '.join(hits) or 'words of its neighbours'})"
        )
        reasons[atom] = [
            Reason("capability-keywords", text, float(similarity[i, best]), tuple(hits))
        ]
    k_choice = f"given: {len(capabilities)} capabilities in the capability map"
    return fixed, scores, reasons, k_choice, {n: n for n in names}


def _matches(glob: str, atom: str, file: str | None) -> bool:
    return fnmatch.fnmatchcase(atom, glob) or bool(file and fnmatch.fnmatchcase(file, glob))


def _entry_text(graph: DependencyGraph, entry: str) -> str:
    """A route's path, else the command, task or signal name of the entry id."""
    path = graph.node(entry).attrs.get("path") if entry in graph else None
    return str(path) if path else entry.split(":", 2)[-1]
