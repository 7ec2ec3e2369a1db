"""strategies._louvain gives networkx's Louvain communities, seed for seed."""

import random

import networkx as nx
import pytest

from strategies import _louvain


def _random_graph(nodes: int, edges: int, seed: int) -> list[tuple[int, int, float]]:
    """Weighted edges (a < b, sorted) over planted groups of about ten nodes, with noise;
    even seeds use whole weights, so that moves tie and the visiting order decides."""
    rng = random.Random(seed)
    weights = [1.0, 1.0, 2.0] if seed % 2 == 0 else [0.5, 1.0, 2.0, rng.random() * 3]
    found: dict[tuple[int, int], float] = {}
    while len(found) < edges:
        a = rng.randrange(nodes)
        b = a - a % 10 + rng.randrange(10) if rng.random() < 0.8 else rng.randrange(nodes)
        if a != b and b < nodes:
            found[min(a, b), max(a, b)] = rng.choice(weights)
    return sorted((a, b, w) for (a, b), w in found.items())


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("resolution", [0.5, 1.0, 1.7])
def test_the_communities_are_networkx_s(seed: int, resolution: float) -> None:
    nodes = 60 + 37 * seed
    edges = _random_graph(nodes, nodes * 3, seed)
    graph = nx.Graph()
    graph.add_nodes_from(range(nodes))
    graph.add_weighted_edges_from(edges)
    expected = nx.community.louvain_communities(graph, resolution=resolution, seed=seed)
    adjacency: list[dict[int, float]] = [{} for _ in range(nodes)]
    for a, b, w in edges:
        adjacency[a][b] = adjacency[b][a] = w
    found = _louvain.communities(adjacency, resolution, seed)
    assert sorted(map(sorted, found)) == sorted(map(sorted, expected))
    assert 1 < len(found) < nodes  # a real clustering, not a trivial one


def test_a_graph_without_edges_is_one_community_per_node() -> None:
    assert _louvain.communities([{}, {}, {}], 1.0, 0) == [{0}, {1}, {2}]
