"""Each sample's truth file agrees with the graph decomposer builds of that sample."""

from pathlib import Path

import pytest

from decomposer.model.graph import NodeKind
from decomposer.truth import SHARED, load_truth

ATOM_KINDS = (NodeKind.MODULE, NodeKind.CLASS, NodeKind.FUNCTION)


@pytest.mark.parametrize("sample", ["shop", "clinic", "travel"])
def test_every_member_is_a_node_and_every_atom_has_one_group(analysed, sample) -> None:
    graph = analysed[sample]
    truth = load_truth(Path(f"sample_monoliths/{sample}/expected_decomposition.json"))
    missing = sorted(m for m in truth.members if m not in graph)
    assert missing == []
    uncovered = []
    for node in graph.nodes():
        if node.kind not in ATOM_KINDS:
            continue
        module = node.id if node.kind == NodeKind.MODULE else _module_of(graph, node.id)
        if truth.group_of(node.id, module) is None:
            uncovered.append(node.id)
    assert sorted(uncovered) == []
    assert set(truth.members.values()) <= {*truth.services, SHARED}
    assert len(truth.services) >= 5 and truth.tables


def _module_of(graph, node_id: str) -> str:
    parent = graph.parent(node_id)
    while parent is not None and graph.node(parent).kind != NodeKind.MODULE:
        parent = graph.parent(parent)
    assert parent is not None
    return parent
