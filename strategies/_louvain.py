"""Louvain community detection on plain lists and dicts.

The same algorithm, visiting order and arithmetic as networkx's `louvain_communities`
(networkx 3.6), so a seed gives the same communities; it only skips networkx's graph objects,
which cost more than the algorithm on a graph of 100,000 nodes. A test compares the two.
"""

from __future__ import annotations

import random
from collections import defaultdict

#: networkx's default: a level that raises modularity by no more than this ends the search.
THRESHOLD = 0.0000001


def communities(adjacency: list[dict[int, float]], resolution: float, seed: int) -> list[set[int]]:
    """Communities of nodes 0..n-1; `adjacency[u]` maps each neighbour to the edge's weight
    (symmetric, no self-loops), neighbours in the order networkx would have met them."""
    partition = [{u} for u in range(len(adjacency))]
    if not any(adjacency):
        return partition
    rng = random.Random(seed)
    graph = adjacency
    m = sum(_degrees(graph)) / 2
    modularity = _modularity(graph, list(range(len(graph))), resolution)
    node_of, improvement = _one_level(graph, m, resolution, rng)
    while improvement:
        partition = _members(partition, node_of)
        new_modularity = _modularity(graph, node_of, resolution)
        if new_modularity - modularity <= THRESHOLD:
            break
        modularity = new_modularity
        graph = _collapsed(graph, node_of)
        node_of, improvement = _one_level(graph, m, resolution, rng)
    return partition


def _degrees(graph: list[dict[int, float]]) -> list[float]:
    """Weighted degrees, a self-loop counted twice (as networkx does)."""
    return [sum(row.values()) + row.get(u, 0) for u, row in enumerate(graph)]


def _one_level(
    graph: list[dict[int, float]], m: float, resolution: float, rng: random.Random
) -> tuple[list[int], bool]:
    """Move each node to the neighbouring community that raises modularity most, until
    none moves: node -> its community (numbered from 0, in the order of the node each
    community started from), and whether any node moved."""
    count = len(graph)
    community = list(range(count))
    degrees = _degrees(graph)
    totals = list(degrees)
    neighbours = [{v: w for v, w in row.items() if v != u} for u, row in enumerate(graph)]
    order = list(range(count))
    rng.shuffle(order)
    scale = 2 * m**2
    improvement = False
    moves = 1
    while moves > 0:
        moves = 0
        for u in order:
            best_gain = 0.0
            best = own = community[u]
            weights: defaultdict[int, float] = defaultdict(float)
            for v, w in neighbours[u].items():
                weights[community[v]] += w
            degree = degrees[u]
            totals[best] -= degree
            remove_cost = -weights[best] / m + resolution * (totals[best] * degree) / scale
            for other, w in weights.items():
                gain = remove_cost + w / m - resolution * (totals[other] * degree) / scale
                if gain > best_gain:
                    best_gain = gain
                    best = other
            totals[best] += degree
            if best != own:
                improvement = True
                moves += 1
                community[u] = best
    # the emptied communities dropped, the others keeping their order, as networkx does
    kept = {c: i for i, c in enumerate(sorted(set(community)))}
    return [kept[c] for c in community], improvement


def _members(partition: list[set[int]], node_of: list[int]) -> list[set[int]]:
    """The original nodes of each community, the level's nodes being `partition`'s sets."""
    found: list[set[int]] = [set() for _ in range(max(node_of) + 1)]
    for node, community in enumerate(node_of):
        found[community] |= partition[node]
    return found


def _collapsed(graph: list[dict[int, float]], node_of: list[int]) -> list[dict[int, float]]:
    """One node per community, the weights between them summed, in networkx's edge order."""
    collapsed: list[dict[int, float]] = [{} for _ in range(max(node_of) + 1)]
    for u, row in enumerate(graph):
        a = node_of[u]
        for v, w in row.items():
            if v < u:
                continue  # each edge once, from its first end (networkx's `edges()`)
            b = node_of[v]
            total = w + collapsed[a].get(b, 0)
            collapsed[a][b] = total
            collapsed[b][a] = total
    return collapsed


def _modularity(graph: list[dict[int, float]], node_of: list[int], resolution: float) -> float:
    """Newman's modularity of the clustering (to decide whether a level is worth another)."""
    degrees = _degrees(graph)
    total = sum(degrees)
    inside: dict[int, float] = defaultdict(float)
    degree_of: dict[int, float] = defaultdict(float)
    for u, row in enumerate(graph):
        degree_of[node_of[u]] += degrees[u]
        for v, w in row.items():
            if v >= u and node_of[v] == node_of[u]:
                inside[node_of[u]] += w
    m = total / 2
    return sum(inside.values()) / m - resolution * sum(d * d for d in degree_of.values()) / (
        total * total
    )
