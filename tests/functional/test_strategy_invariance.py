"""Folder names are a hint, not the signal: every strategy proposes nearly the same services
when every module of a sample is moved into one flat package under an opaque name.

The move is made on the graph (strategies only ever see the graph): each module becomes
`flat.mNNN` in a shuffled order, so neither the names nor their sort order carry the old
package structure; classes and functions keep their own names.
"""

import random
from dataclasses import replace
from pathlib import Path

import pytest

from decomposer import metrics
from decomposer.decompose import decompose
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, EdgeKind, NodeKind
from decomposer.model.proposal import Constraints
from decomposer.plugins import STRATEGIES, StrategyInput, default_registry
from decomposer.truth import load_truth

#: Agreement (adjusted Rand index) of the flat run with the original run, at least.
MIN_ARI = 0.8


def flatten(graph: DependencyGraph, seed: int = 7) -> tuple[DependencyGraph, dict[str, str]]:
    modules = sorted(n.id for n in graph.nodes(NodeKind.MODULE))
    random.Random(seed).shuffle(modules)
    new_module = {m: f"flat.m{i:03d}" for i, m in enumerate(modules)}

    def rename(node_id: str) -> str:
        parts = node_id.split(".")
        for i in range(len(parts), 0, -1):
            module = ".".join(parts[:i])
            if module in new_module:
                return ".".join([new_module[module], *parts[i:]])
        return node_id

    nodes = [replace(n, id=rename(n.id)) for n in graph.nodes()]
    for node in nodes:
        if node.kind == NodeKind.MODULE:
            nodes[nodes.index(node)] = replace(node, file=node.id.replace(".", "/") + ".py")
    nodes.append(replace(next(n for n in nodes if n.kind == NodeKind.MODULE), id="flat"))
    edges = [
        replace(e, source=rename(e.source), target=rename(e.target))
        for e in graph.edges()
        if not (e.kind == EdgeKind.CONTAINS and e.source in new_module and e.target in new_module)
    ]
    edges += [
        replace(next(iter(graph.edges(EdgeKind.CONTAINS))), source="flat", target=m, sites=())
        for m in new_module.values()
    ]
    flat = DependencyGraph.build(nodes, edges)
    return flat, {rename(n.id): n.id for n in graph.nodes()}


@pytest.mark.parametrize("strategy_name", default_registry().names(STRATEGIES))
@pytest.mark.parametrize("sample", ["shop", "clinic"])
def test_moving_every_module_into_one_flat_package_barely_changes_the_result(
    analysed, sample, strategy_name
) -> None:
    graph = analysed[sample]
    k = len(load_truth(Path(f"sample_monoliths/{sample}/expected_decomposition.json")).services)
    strategy = default_registry().strategy(strategy_name)

    def run(g: DependencyGraph) -> tuple[AtomGraph, dict[str, str]]:
        atoms = AtomGraph.from_graph(g)
        request = StrategyInput(atoms, g, k, 0, {}, Constraints())
        return atoms, decompose(strategy, request).assignment()

    atoms, original = run(graph)
    flat_graph, back = flatten(graph)
    _, flat = run(flat_graph)
    moved = {back[atom]: service for atom, service in flat.items() if atom in back}
    agreement = metrics.agreement(atoms, moved, original)
    assert agreement["ari"] >= MIN_ARI, agreement
