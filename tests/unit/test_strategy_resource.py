"""The resource strategy on small graphs whose right answer is known by construction."""

from collections import defaultdict

import pytest

from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, Node, NodeKind
from decomposer.model.proposal import Constraints
from decomposer.plugins import StrategyInput
from decomposer.truth import SHARED
from strategies.resource import ResourceStrategy

# A tiny shop. Tables: orders, order_lines (-> orders), customers, payments (-> orders).
MODELS = {
    "app.models.Order": "orders",
    "app.models.OrderLine": "order_lines",
    "app.models.Customer": "customers",
    "app.models.Payment": "payments",
}
ACCESS = [  # (function, table, kind, count)
    ("app.ordering.place", "orders", "writes", 2),
    ("app.ordering.place", "order_lines", "writes", 1),
    ("app.ordering.place", "customers", "reads", 1),
    ("app.ordering.show", "orders", "reads", 1),
    ("app.ordering.show", "order_lines", "reads", 1),
    ("app.accounts.register", "customers", "writes", 1),
    ("app.accounts.lookup", "customers", "reads", 1),
    ("app.billing.charge", "payments", "writes", 1),
    ("app.billing.charge", "orders", "reads", 1),
    ("app.billing.refund", "payments", "writes", 1),
    ("app.billing.refund", "order_lines", "reads", 1),
    ("app.ordering.place", "payments", "reads", 1),
]
CALLS = [
    ("app.web.place_view", "app.ordering.place"),
    ("app.web.show_view", "app.ordering.show"),
    ("app.web.register_view", "app.accounts.register"),
    ("app.web.pay_view", "app.billing.charge"),
    ("app.ordering.place", "app.billing.charge"),
    ("app.ordering.place", "app.accounts.lookup"),
    ("app.ordering.place", "app.util.fmt"),
    ("app.accounts.register", "app.util.fmt"),
    ("app.billing.charge", "app.util.fmt"),
    ("app.billing.refund", "app.util.fmt"),
]
FOREIGN_KEYS = [("order_lines", "orders"), ("payments", "orders")]
EXPECTED = {
    "orders": {
        "app.models.Order",
        "app.models.OrderLine",
        "app.ordering.place",
        "app.ordering.show",
        "app.web.place_view",
        "app.web.show_view",
    },
    "customers": {
        "app.models.Customer",
        "app.accounts.register",
        "app.accounts.lookup",
        "app.web.register_view",
    },
    "payments": {
        "app.models.Payment",
        "app.billing.charge",
        "app.billing.refund",
        "app.web.pay_view",
    },
}


def shop_graph(rename=lambda module: module) -> DependencyGraph:
    """The tiny shop; `rename` moves modules (the package path is never the signal)."""
    members = defaultdict(set)
    for name in [*MODELS, *(a for a, *_ in ACCESS), *(x for pair in CALLS for x in pair)]:
        module, _, own = name.rpartition(".")
        members[module].add(own)

    def node_id(name: str) -> str:
        module, _, own = name.rpartition(".")
        return f"{rename(module)}.{own}"

    nodes, edges = [], []
    for module, names in members.items():
        nodes.append(Node(rename(module), NodeKind.MODULE))
        for own in names:
            name = f"{module}.{own}"
            kind = NodeKind.CLASS if own[0].isupper() else NodeKind.FUNCTION
            attrs = {"table": MODELS[name]} if name in MODELS else {}
            nodes.append(Node(node_id(name), kind, attrs=attrs))
            edges.append(Edge(rename(module), node_id(name), EdgeKind.CONTAINS, 1))
    for table in sorted({t for t in MODELS.values()}):
        nodes.append(Node("table:" + table, NodeKind.TABLE))
    for source, target in CALLS:
        edges.append(Edge(node_id(source), node_id(target), EdgeKind.CALLS, 1))
    for atom, table, kind, count in ACCESS:
        edges.append(Edge(node_id(atom), "table:" + table, EdgeKind(kind), count))
    for source, target in FOREIGN_KEYS:
        edges.append(Edge("table:" + source, "table:" + target, EdgeKind.FOREIGN_KEY, 1))
    return DependencyGraph.build(nodes, edges)


def run(graph: DependencyGraph, k: int | None, options=None, seed: int = 0):
    atoms = AtomGraph.from_graph(graph, "class")
    request = StrategyInput(atoms, graph, k, seed, options or {}, Constraints())
    return ResourceStrategy().decompose(request)


def partition(clusters: dict[str, str]) -> set[frozenset[str]]:
    found = defaultdict(set)
    for atom, cluster in clusters.items():
        found[cluster].add(atom)
    return {frozenset(members) for members in found.values()}


def service_of(clusters: dict[str, str], atoms: set[str]) -> set[str]:
    return {clusters[a] for a in atoms}


def test_one_service_per_resource_with_dependents_merged_into_their_parent() -> None:
    result = run(shop_graph(), 3)
    clusters = result.clusters
    labels = [service_of(clusters, members) for members in EXPECTED.values()]
    assert all(len(found) == 1 for found in labels), labels
    assert len(set().union(*labels)) == 3  # three different services
    # order lines are a dependent of orders: their model sits with the Order model
    assert clusters["app.models.OrderLine"] == clusters["app.models.Order"]
    texts = [r.text for r in result.reasons["app.models.OrderLine"]]
    assert any("order_lines is a dependent of orders" in t for t in texts), texts


def test_a_helper_used_by_every_resource_and_touching_no_data_is_shared() -> None:
    clusters = run(shop_graph(), 3).clusters
    assert clusters["app.util.fmt"] == SHARED
    # the models module holds models of every resource: a shell, shared
    assert clusters["app.models"] == SHARED
    # a module whose code all serves one resource goes with it
    assert clusters["app.billing"] == clusters["app.billing.charge"]


def test_writes_decide_before_reads_and_calls_and_reasons_say_so() -> None:
    result = run(shop_graph(), 3)
    clusters = result.clusters
    # place writes orders and reads customers: it is an operation on orders
    assert clusters["app.ordering.place"] == clusters["app.models.Order"]
    # charge writes payments and reads orders: payments
    assert clusters["app.billing.charge"] == clusters["app.models.Payment"]
    place = [(r.kind, r.text) for r in result.reasons["app.ordering.place"]]
    assert ("writes", "writes orders (more than order_lines)") in place, place
    # a view only calls: it follows what it calls, and says which resource that is
    view = [r for r in result.reasons["app.web.pay_view"] if r.kind == "calls"]
    assert view and view[0].text == "follows its strongest ties, charge, to resource payments"


def test_fitting_to_fewer_services_merges_the_most_coupled_resources() -> None:
    clusters = run(shop_graph(), 2).clusters
    # payments point to orders and read them, orders call and read payments: they merge;
    # customers, read once and called once from orders, stay apart
    assert clusters["app.billing.charge"] == clusters["app.ordering.place"]
    assert clusters["app.accounts.register"] != clusters["app.ordering.place"]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_k_is_honoured(k: int) -> None:
    clusters = run(shop_graph(), k).clusters
    assert len({c for c in clusters.values() if c != SHARED}) == k


def test_without_k_the_choice_is_explained() -> None:
    result = run(shop_graph(), None)
    assert result.k_choice.startswith("chosen: ")
    assert "modularity" in result.k_choice


def test_deterministic_for_a_seed() -> None:
    first = run(shop_graph(), 3, seed=4)
    second = run(shop_graph(), 3, seed=4)
    assert first.clusters == second.clusters
    assert first.reasons == second.reasons


def test_moving_every_module_under_an_opaque_name_changes_nothing() -> None:
    original = run(shop_graph(), 3).clusters
    modules = sorted({a.rpartition(".")[0] for a in original if "." in a} | {"app.models"})
    # reversed order, so that sorting by id no longer follows the old packages
    opaque = {m: f"flat.m{len(modules) - i:02d}" for i, m in enumerate(modules)}
    moved = run(shop_graph(lambda m: opaque.get(m, m)), 3).clusters
    back = {new: old for old, new in opaque.items()}
    restored = {}
    for atom, cluster in moved.items():
        module, _, own = atom.rpartition(".")
        restored[back[atom] if atom in back else f"{back[module]}.{own}"] = cluster
    assert partition(restored) == partition(original)


def test_a_graph_without_tables_still_gets_k_services() -> None:
    nodes = [Node("m", NodeKind.MODULE)] + [Node(f"m.f{i}", NodeKind.FUNCTION) for i in range(6)]
    edges = [Edge("m", f"m.f{i}", EdgeKind.CONTAINS, 1) for i in range(6)]
    edges += [Edge("m.f0", "m.f1", EdgeKind.CALLS, 1), Edge("m.f2", "m.f3", EdgeKind.CALLS, 1)]
    result = run(DependencyGraph.build(nodes, edges), 2)
    assert set(result.clusters) == {"m", *(f"m.f{i}" for i in range(6))}
