import json

import pytest

from decomposer.errors import InputError
from decomposer.files import dumps
from decomposer.model.graph import (
    MAX_SITES,
    DependencyGraph,
    Diagnostic,
    Edge,
    EdgeKind,
    Node,
    NodeKind,
    Site,
)
from decomposer.model.graph_json import graph_from_dict, graph_to_dict


def small_graph() -> DependencyGraph:
    graph = DependencyGraph.build(
        [
            Node("shop", NodeKind.MODULE, "shop/__init__.py", 1, 3, 2, {"package": True}),
            Node("shop.orders", NodeKind.MODULE, "shop/orders.py", 1, 40, 30),
            Node(
                "shop.orders.Order",
                NodeKind.CLASS,
                "shop/orders.py",
                3,
                20,
                15,
                {"bases": ["external.Base"]},
            ),
            Node("external:sqlalchemy", NodeKind.EXTERNAL),
        ],
        [
            Edge("shop", "shop.orders", EdgeKind.CONTAINS, 1),
            Edge(
                "shop.orders.Order",
                "external:sqlalchemy",
                EdgeKind.INHERITS,
                1,
                sites=(Site("shop/orders.py", 3),),
            ),
            Edge(
                "shop.orders",
                "external:sqlalchemy",
                EdgeKind.IMPORTS,
                2,
                0,
                (Site("shop/orders.py", 1),),
                frozenset({"conditional"}),
            ),
        ],
        [Diagnostic("shop/bad.py", "syntax-error", "expected ':'", 4)],
    )
    return graph


def test_same_fact_twice_merges_counts_sites_and_common_tags() -> None:
    graph = small_graph()
    graph.add_edge(
        Edge(
            "shop.orders",
            "external:sqlalchemy",
            EdgeKind.IMPORTS,
            1,
            3,
            (Site("shop/orders.py", 9),),
            frozenset({"conditional", "local"}),
        )
    )
    edge = graph.edge("shop.orders", "external:sqlalchemy", EdgeKind.IMPORTS)
    assert edge is not None
    assert (edge.static_count, edge.runtime_count) == (3, 3)
    assert [str(s) for s in edge.sites] == ["shop/orders.py:1", "shop/orders.py:9"]
    assert edge.tags == {"conditional"}
    assert graph.count_edges()["imports"] == 1


def test_different_kinds_between_the_same_nodes_are_separate_edges() -> None:
    graph = small_graph()
    graph.add_edge(Edge("shop.orders.Order", "external:sqlalchemy", EdgeKind.CALLS, 1))
    kinds = {e.kind for e in graph.out_edges("shop.orders.Order")}
    assert kinds == {EdgeKind.INHERITS, EdgeKind.CALLS}


def test_sites_are_capped_but_counts_stay_exact() -> None:
    graph = small_graph()
    for line in range(100):
        graph.add_edge(
            Edge(
                "shop",
                "shop.orders.Order",
                EdgeKind.REFERENCES,
                1,
                sites=(Site("shop/__init__.py", line + 1),),
            )
        )
    edge = graph.edge("shop", "shop.orders.Order", EdgeKind.REFERENCES)
    assert edge is not None and edge.static_count == 100
    assert len(edge.sites) == MAX_SITES


def test_edge_to_an_unknown_node_is_refused() -> None:
    with pytest.raises(KeyError, match="nowhere"):
        small_graph().add_edge(Edge("shop", "nowhere", EdgeKind.CALLS, 1))


def test_queries() -> None:
    graph = small_graph()
    assert graph.children("shop") == ["shop.orders"]
    assert graph.parent("shop.orders") == "shop"
    assert graph.count_nodes()["module"] == 2
    assert [n.id for n in graph.nodes(NodeKind.CLASS)] == ["shop.orders.Order"]
    assert {e.source for e in graph.in_edges("external:sqlalchemy")} == {
        "shop.orders",
        "shop.orders.Order",
    }


def test_json_round_trip_is_exact() -> None:
    graph = small_graph()
    text = dumps(graph_to_dict(graph))
    again = graph_from_dict(json.loads(text))
    assert again == graph
    assert dumps(graph_to_dict(again)) == text


def test_json_is_stable_whatever_the_insertion_order() -> None:
    graph = small_graph()
    reordered = DependencyGraph.build(
        reversed(list(graph.nodes())), reversed(list(graph.edges())), graph.diagnostics()
    )
    assert dumps(graph_to_dict(reordered)) == dumps(graph_to_dict(graph))


def test_wrong_schema_is_a_clear_error() -> None:
    data = graph_to_dict(small_graph())
    data["schema"] = 7
    with pytest.raises(InputError, match="schema 7; this decomposer reads schema 2"):
        graph_from_dict(data, where="old.json")


def test_malformed_graph_names_the_problem() -> None:
    data = graph_to_dict(small_graph())
    data["edges"][0]["kind"] = "teleports"
    with pytest.raises(InputError, match="not a valid decomposer graph"):
        graph_from_dict(data)


def test_a_graph_file_loads_exactly_while_its_edges_are_let_go(tmp_path) -> None:
    from decomposer.pipeline import load_graph

    graph = small_graph()
    text = dumps(graph_to_dict(graph))
    path = tmp_path / "graph.json"
    path.write_text(text)
    assert dumps(graph_to_dict(load_graph(path))) == text
    data = json.loads(text)
    data["edges"][-1]["kind"] = "teleports"  # the last edge: read after all the others
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=f"graph {path} is not a valid decomposer graph"):
        load_graph(path)
