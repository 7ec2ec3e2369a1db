"""The use-case strategy on small graphs whose right answer is known by construction."""

from collections import defaultdict

import pytest

from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, Node, NodeKind
from decomposer.model.proposal import Constraints
from decomposer.plugins import StrategyInput
from decomposer.truth import SHARED
from strategies.use_case import UseCaseStrategy, reached, use_cases

# Three areas, each with two routes calling its own service code; every service function
# logs through one helper, and one job of the catalog also reaches into stock once.
AREAS = {
    "orders": ["place", "cancel", "price", "persist"],
    "stock": ["reserve", "release", "count", "persist"],
    "catalog": ["show", "search", "render", "persist"],
}


def area_graph(
    rename=lambda module: module, runtime: set[tuple[str, str]] | None = None
) -> tuple[DependencyGraph, dict[str, set[str]]]:
    """The graph, and area -> its atoms. `runtime` marks edges as seen running (and makes
    the others static only); `rename` moves modules."""
    nodes = [
        Node(rename("app.log"), NodeKind.MODULE),
        Node(rename("app.log") + ".log", NodeKind.FUNCTION),
    ]
    edges = [Edge(rename("app.log"), rename("app.log") + ".log", EdgeKind.CONTAINS, 1)]
    expected: dict[str, set[str]] = defaultdict(set)

    def add(module: str, name: str, kind: NodeKind = NodeKind.FUNCTION) -> str:
        node_id = f"{rename(module)}.{name}"
        nodes.append(Node(node_id, kind))
        edges.append(Edge(rename(module), node_id, EdgeKind.CONTAINS, 1))
        return node_id

    def call(source: str, target: str) -> None:
        seen = runtime is not None and (source, target) in runtime
        edges.append(Edge(source, target, EdgeKind.CALLS, 1, 1 if seen else 0))

    for area, (first, second, helper, store) in AREAS.items():
        for module in (f"app.{area}_views", f"app.{area}_service"):
            nodes.append(Node(rename(module), NodeKind.MODULE))
        views = [
            add(f"app.{area}_views", f"{first}_view"),
            add(f"app.{area}_views", f"{second}_view"),
        ]
        service = [add(f"app.{area}_service", n) for n in (first, second, helper, store)]
        for i, view in enumerate(views):
            entry = f"entry:http:POST /{area}/{i}"
            nodes.append(Node(entry, NodeKind.ENTRY, attrs={"kind": "http"}))
            edges.append(Edge(entry, view, EdgeKind.HANDLES, 1))
            call(view, service[i])
            call(service[i], service[2])
            call(service[2], service[3])
            call(service[i], rename("app.log") + ".log")
        expected[area] |= {*views, *service}
    return DependencyGraph.build(nodes, edges), dict(expected)


def run(graph: DependencyGraph, k: int | None, options=None, seed: int = 0):
    atoms = AtomGraph.from_graph(graph, "class")
    request = StrategyInput(atoms, graph, k, seed, options or {}, Constraints())
    return UseCaseStrategy().decompose(request)


def partition(clusters: dict[str, str]) -> set[frozenset[str]]:
    found = defaultdict(set)
    for atom, cluster in clusters.items():
        found[cluster].add(atom)
    return {frozenset(members) for members in found.values()}


def test_atoms_reached_by_the_same_use_cases_form_a_service() -> None:
    graph, expected = area_graph()
    clusters = run(graph, 3).clusters
    found = [{clusters[a] for a in members} for members in expected.values()]
    assert all(len(labels) == 1 for labels in found), found
    assert len(set().union(*found)) == 3


def test_a_helper_reached_by_most_use_cases_is_shared_and_says_how_many() -> None:
    graph, _ = area_graph()
    result = run(graph, 3)
    assert result.clusters["app.log.log"] == SHARED
    [reason] = result.reasons["app.log.log"]
    assert reason.text == "reached by 6 of 6 use cases: a shared utility"


def test_reasons_name_the_use_cases_that_reach_an_atom() -> None:
    graph, _ = area_graph()
    result = run(graph, 3)
    [reason] = result.reasons["app.stock_service.count"]
    assert reason.kind == "use-case"
    assert "reached by 2 use cases, 2 of them in this service" in reason.text
    assert "http:POST /stock/0" in reason.text and "http:POST /stock/1" in reason.text


def test_the_walk_is_bounded_by_the_depth() -> None:
    graph, _ = area_graph()
    atoms = AtomGraph.from_graph(graph, "class")
    cases = use_cases(atoms, graph)
    # view (0) -> place (1) -> price (2) -> persist (3)
    shallow = reached(atoms, cases, 2, traced=False)
    deep = reached(atoms, cases, 3, traced=False)
    assert "app.orders_service.persist" not in shallow
    assert deep["app.orders_service.persist"] == {
        "entry:http:POST /orders/0": 3,
        "entry:http:POST /orders/1": 3,
    }
    assert shallow["app.orders_service.price"]["entry:http:POST /orders/0"] == 2


def test_with_runtime_data_only_edges_seen_running_are_followed() -> None:
    seen = {("app.orders_views.place_view", "app.orders_service.place")}
    graph, _ = area_graph(runtime=seen)
    atoms = AtomGraph.from_graph(graph, "class")
    walked = reached(atoms, use_cases(atoms, graph), 3, traced=True)
    assert set(walked) == {
        *(f"app.{a}_views.{AREAS[a][i]}_view" for a in AREAS for i in (0, 1)),
        "app.orders_service.place",
    }
    assert "traced" in run(graph, 3).k_choice


def test_traced_tests_count_as_use_cases() -> None:
    graph, _ = area_graph()
    graph.add_node(Node("entry:test:test_place", NodeKind.ENTRY, attrs={"kind": "test"}))
    graph.add_edge(
        Edge("entry:test:test_place", "app.orders_views.place_view", EdgeKind.HANDLES, 1)
    )
    atoms = AtomGraph.from_graph(graph, "class")
    assert "entry:test:test_place" in use_cases(atoms, graph)


def test_without_entry_points_it_falls_back_and_says_so() -> None:
    graph, _ = area_graph()
    nodes = [n for n in graph.nodes() if n.kind != NodeKind.ENTRY]
    edges = [e for e in graph.edges() if e.kind != EdgeKind.HANDLES]
    result = run(DependencyGraph.build(nodes, edges), 3)
    assert "no entry points" in result.k_choice
    assert len({c for c in result.clusters.values() if c != SHARED}) == 3
    assert all("no entry points" in r[0].text for r in result.reasons.values())


@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_k_is_honoured(k: int) -> None:
    graph, _ = area_graph()
    clusters = run(graph, k).clusters
    assert len({c for c in clusters.values() if c != SHARED}) == k


def test_without_k_the_choice_is_explained() -> None:
    graph, _ = area_graph()
    result = run(graph, None)
    assert result.k_choice.startswith("chosen: ")
    assert "6 use cases (static, 3 calls deep)" in result.k_choice


def test_deterministic_for_a_seed() -> None:
    graph, _ = area_graph()
    assert run(graph, 3, seed=5).clusters == run(graph, 3, seed=5).clusters


def test_moving_every_module_under_an_opaque_name_changes_nothing() -> None:
    graph, _ = area_graph()
    original = run(graph, 3).clusters
    modules = sorted({a.rpartition(".")[0] for a in original if a.count(".") == 2})
    opaque = {m: f"flat.m{len(modules) - i:02d}" for i, m in enumerate(modules)}
    moved, _ = area_graph(lambda m: opaque.get(m, m))
    back = {new: old for old, new in opaque.items()}
    restored = {}
    for atom, cluster in run(moved, 3).clusters.items():
        module, _, own = atom.rpartition(".")
        restored[back[atom] if atom in back else f"{back[module]}.{own}"] = cluster
    assert partition(restored) == partition(original)
