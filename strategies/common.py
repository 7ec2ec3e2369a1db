"""Building blocks the strategies share: community detection on a weighted adjacency, fitting
a clustering to K services, refining it by coupling, and choosing K when none is given.

Adjacency is a dict of dicts (`{atom: {other: weight}}`, symmetric), so memory grows with the
edges, never with atoms squared.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable, Mapping
from typing import Any

import networkx as nx

from decomposer.decompose import TABLE_WEIGHTS
from decomposer.errors import ConfigError
from decomposer.metrics import COUPLING_WEIGHTS
from decomposer.model.atoms import AtomGraph
from strategies import _louvain

Adjacency = Mapping[str, Mapping[str, float]]

#: Without a target, K is searched in [MIN_K, min(MAX_K, atoms / MIN_ATOMS_PER_SERVICE)].
MIN_K = 2
MAX_K = 20
MIN_ATOMS_PER_SERVICE = 5


def coupling(atoms: AtomGraph, *, tables: bool = True) -> dict[str, dict[str, float]]:
    """The weighted undirected adjacency of the atoms (decomposer.metrics.COUPLING_WEIGHTS),
    and with `tables` the tables too, as nodes "table:<name>" joined to the atoms that
    access them (writes 2, reads 1 per access) and to the tables they reference (1): atoms
    that share data pull together without a pair per two accessors (that would be quadratic).
    """
    adjacency = atoms.coupling(COUPLING_WEIGHTS)
    if tables:
        for access in atoms.access:
            _link(
                adjacency,
                access.atom,
                "table:" + access.table,
                TABLE_WEIGHTS[access.kind] * access.count,
            )
        for source, target in atoms.foreign_keys:
            if source != target:
                _link(adjacency, "table:" + source, "table:" + target, 1.0)
    return adjacency


def _link(adjacency: dict[str, dict[str, float]], a: str, b: str, weight: float) -> None:
    adjacency.setdefault(a, {})[b] = adjacency.get(a, {}).get(b, 0.0) + weight
    adjacency.setdefault(b, {})[a] = adjacency.get(b, {}).get(a, 0.0) + weight


def graph_of(adjacency: Adjacency, nodes: list[str]) -> nx.Graph:
    """An undirected weighted networkx graph, built in a fixed order (Louvain's result
    depends on the order nodes and edges are visited)."""
    graph = nx.Graph()
    graph.add_nodes_from(sorted(nodes))
    for a in sorted(adjacency):
        for b, weight in sorted(adjacency[a].items()):
            if a < b and weight > 0 and a in graph and b in graph:
                graph.add_edge(a, b, weight=weight)
    return graph


def own_name(node: str, modules: Container[str] = ()) -> str:
    """The part of a node id that survives moving its module: a class or function keeps its
    name, an entry point or table node its whole id, a module nothing."""
    if node.startswith(("uc:", "table:")):
        return node
    if node in modules:
        return ""
    return node.rpartition(".")[2]


def structural_order(
    nodes: Iterable[str], adjacency: Adjacency, modules: Container[str] = ()
) -> list[str]:
    """The nodes in an order that survives renaming modules: by their own name, weighted
    degree and a digest of their neighbours' own names and weights (two same-named functions
    of different modules almost always differ in what they touch), the id only breaking
    what is still tied."""
    names = _OwnNames(modules)

    def key(node: str) -> tuple[str, float, str, str]:
        row = adjacency.get(node, {})
        around = sorted((names[other], round(w, 9)) for other, w in row.items())
        digest = hashlib.blake2b(repr(around).encode(), digest_size=8).hexdigest()
        return names[node], -round(sum(row.values()), 9), digest, node

    return sorted(set(nodes), key=key)


class _OwnNames(dict[str, str]):
    """node -> own_name(node), each worked out once (a node is some thousand rows' neighbour)."""

    def __init__(self, modules: Container[str]) -> None:
        super().__init__()
        self.modules = modules

    def __missing__(self, node: str) -> str:
        name = self[node] = own_name(node, self.modules)
        return name


def louvain(
    adjacency: Adjacency,
    nodes: Iterable[str],
    seed: int,
    resolution: float = 1.0,
    modules: Container[str] = (),
) -> dict[str, str]:
    """Louvain communities (node -> "c<i>") that do not depend on module names.

    Louvain's result depends on the order nodes and edges are visited; ordering them by id
    would let renaming a module change the result. Here nodes go by their own name and
    weighted degree first, the id only breaking what is still tied.
    """
    order = structural_order(nodes, adjacency, modules)
    rank = {n: i for i, n in enumerate(order)}
    edges = sorted(
        (rank[a], rank[b], weight)
        for a in order
        for b, weight in adjacency.get(a, {}).items()
        if b in rank and rank[a] < rank[b] and weight > 0
    )
    graph: list[dict[int, float]] = [{} for _ in order]
    for i, j, weight in edges:  # in this order: neighbours are met as networkx meets them
        graph[i][j] = graph[j][i] = weight
    found = [[order[i] for i in c] for c in _louvain.communities(graph, resolution, seed)]
    ordered = sorted(
        (sorted(c, key=rank.__getitem__) for c in found), key=lambda c: (-len(c), rank[c[0]])
    )
    return {n: f"c{i}" for i, members in enumerate(ordered) for n in members}


def modularity(adjacency: Adjacency, clusters: Mapping[str, str]) -> float:
    """Newman's modularity of a clustering on the weighted adjacency (higher is better).

    The nodes it leaves out (tables, where atoms are clustered) count as one more community.
    Their share of the score is the same for every clustering of the atoms, so comparing
    clusterings (`choose_k`) is not affected, but the value is not the atoms' modularity alone.
    """
    total = sum(w for a in adjacency for w in adjacency[a].values()) / 2
    if total == 0:
        return 0.0
    inside: dict[str | None, float] = defaultdict(float)
    degree: dict[str | None, float] = defaultdict(float)
    for a, row in adjacency.items():
        ca = clusters.get(a)
        for b, weight in row.items():
            degree[ca] += weight
            if clusters.get(b) == ca:
                inside[ca] += weight
    return sum(inside[c] / (2 * total) - (degree[c] / (2 * total)) ** 2 for c in degree)


def cluster_weights(
    atom: str, adjacency: Adjacency, clusters: Mapping[str, str]
) -> dict[str, float]:
    found: dict[str, float] = defaultdict(float)
    for other, weight in adjacency.get(atom, {}).items():
        cluster = clusters.get(other)
        if cluster is not None:
            found[cluster] += weight
    return found


def fit_to_k(
    clusters: Mapping[str, str], adjacency: Adjacency, k: int, seed: int
) -> dict[str, str]:
    """Merge or split clusters until there are `k` (or as close as the graph allows).

    Merging: the smallest cluster joins the one it is most coupled to (the largest other
    one when it is coupled to none). Splitting: the largest cluster is cut by Louvain on its
    own edges, at rising resolution until it falls apart.
    """
    result = dict(clusters)
    members: dict[str, set[str]] = defaultdict(set)
    for atom, cluster in result.items():
        members[cluster].add(atom)
    while len(members) > k:
        smallest = min(members, key=lambda c: (len(members[c]), c))
        ties: dict[str, float] = defaultdict(float)
        for atom in members[smallest]:
            for cluster, weight in cluster_weights(atom, adjacency, result).items():
                if cluster != smallest:
                    ties[cluster] += weight
        others = [c for c in members if c != smallest]
        target = max(others, key=lambda c: (ties.get(c, 0.0), len(members[c]), c))
        for atom in members.pop(smallest):
            result[atom] = target
            members[target].add(atom)
    fresh = 0
    while len(members) < k:
        largest = max(members, key=lambda c: (len(members[c]), c))
        parts = _split(sorted(members[largest]), adjacency, seed)
        if parts is None:
            break
        for part in parts[1:]:
            fresh += 1
            label = f"{largest}.{fresh}"
            for atom in part:
                result[atom] = label
                members[largest].discard(atom)
                members[label].add(atom)
    return result


def _split(nodes: list[str], adjacency: Adjacency, seed: int) -> list[list[str]] | None:
    """Two parts of a cluster, or None when it will not come apart."""
    if len(nodes) < 2:
        return None
    inside = set(nodes)
    sub = {a: {b: w for b, w in adjacency.get(a, {}).items() if b in inside} for a in nodes}
    for resolution in (1.0, 2.0, 4.0, 8.0):
        found = louvain(sub, nodes, seed, resolution)
        if len(set(found.values())) > 1:
            two = fit_to_k(found, sub, 2, seed)
            parts: dict[str, list[str]] = defaultdict(list)
            for atom in nodes:
                parts[two[atom]].append(atom)
            return sorted(parts.values(), key=lambda p: (-len(p), p[0]))
    # no edges inside to cut along: split the sorted ids in half (same module, same half)
    middle = len(nodes) // 2
    return [nodes[:middle], nodes[middle:]]


def refine(
    clusters: Mapping[str, str],
    adjacency: Adjacency,
    *,
    rounds: int = 3,
    fixed: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Move each atom to the cluster it is most coupled to, when that beats its own (a few
    rounds, atoms in sorted order, so the result is deterministic). Clusters never empty."""
    result = dict(clusters)
    sizes: dict[str, int] = defaultdict(int)
    for cluster in result.values():
        sizes[cluster] += 1
    for _ in range(rounds):
        moved = False
        for atom in sorted(result):
            if atom in fixed:
                continue
            own = result[atom]
            ties = cluster_weights(atom, adjacency, result)
            best = max(ties, key=lambda c: (ties[c], c == own, c), default=own)
            if best != own and ties[best] > ties.get(own, 0.0) and sizes[own] > 1:
                result[atom] = best
                sizes[own] -= 1
                sizes[best] += 1
                moved = True
        if not moved:
            break
    return result


def choose_k(
    cluster_with_k: Callable[[int], dict[str, str]], adjacency: Adjacency, atom_count: int
) -> tuple[dict[str, str], str]:
    """Try every K in the search range and keep the clustering of highest modularity."""
    high = max(MIN_K, min(MAX_K, atom_count // MIN_ATOMS_PER_SERVICE))
    best: tuple[float, int, dict[str, str]] | None = None
    for k in range(MIN_K, high + 1):
        clusters = cluster_with_k(k)
        score = modularity(adjacency, clusters)
        if best is None or score > best[0] + 1e-9:
            best = (score, k, clusters)
    assert best is not None
    score, k, clusters = best
    count = len(set(clusters.values()))
    return clusters, (
        f"chosen: {count} services, the highest modularity ({score:.3f}) of K = {MIN_K}..{high}"
    )


def attach_isolated(
    clusters: dict[str, str], atoms: list[str], module_of: Callable[[str], str]
) -> dict[str, str]:
    """Atoms with no cluster (nothing joins them to anything) go where most atoms of their
    module went: the package is a hint, used only when there is no other evidence."""
    by_module: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for atom, cluster in clusters.items():
        by_module[module_of(atom)][cluster] += 1
    sizes = Counter(clusters.values())
    largest = max(sizes, key=lambda c: (sizes[c], c), default="c0")
    for atom in atoms:
        if atom not in clusters:
            votes = by_module.get(module_of(atom))
            clusters[atom] = max(votes, key=lambda c: (votes[c], c)) if votes else largest
    return clusters


def number_options(
    strategy: str,
    given: Mapping[str, Any],
    defaults: Mapping[str, float],
    *,
    own: tuple[str, ...] = (),
) -> dict[str, float]:
    """The defaults with the given options (`[tool.decomposer.strategies.<strategy>]`) over
    them, each a number >= 0; keys in `own` are left to the strategy to read and check."""
    where = f"[tool.decomposer.strategies.{strategy}]"
    options = dict(defaults)
    for key, value in given.items():
        if key in own:
            continue
        if key not in defaults:
            known = ", ".join(sorted([*defaults, *own]))
            raise ConfigError(f"unknown option '{key}' in {where}", hint=f"known options: {known}")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(
                f"option '{key}' in {where} should be a number >= 0, got {value!r}",
                hint=f"docs/strategies.md links to the options of {strategy}",
            )
        options[key] = float(value)
    return options
