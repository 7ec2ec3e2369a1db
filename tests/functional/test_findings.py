"""Findings on the samples, with each sample's intended decomposition as the proposal."""

import json
from pathlib import Path

import pytest

from decomposer.decompose import complete
from decomposer.findings import _cycles, extraction_order, find
from decomposer.metrics import table_owners
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, Node, NodeKind
from decomposer.model.proposal import parse_proposal

SAMPLES = Path(__file__).resolve().parents[2] / "sample_monoliths"


def intended(analysed, sample: str) -> dict:
    """The truth file read as a proposal, completed with findings."""
    truth = json.loads((SAMPLES / sample / "expected_decomposition.json").read_text())
    data = {
        "schema": 1,
        "level": "class",
        "services": {n: {"members": s["members"]} for n, s in truth["services"].items()},
        "shared": {"members": truth["shared"]["members"]},
    }
    proposal, atoms = parse_proposal(data, analysed[sample], where=sample)
    return complete(proposal, atoms).to_dict()


@pytest.fixture(scope="module")
def shop(analysed) -> dict:
    return intended(analysed, "shop")


def by_id(proposal: dict) -> dict[str, dict]:
    return {f["id"]: f for f in proposal["findings"]}


def test_order_placement_is_a_saga_across_the_owners_it_writes(shop) -> None:
    [saga] = [
        f for f in shop["findings"] if f["id"].startswith("saga:shop.services.core.place_order:")
    ]
    steps = saga["details"]["steps"]
    services = [step["service"] for step in steps]
    assert {"customers", "inventory", "payments", "shipping", "orders"} <= set(services)
    assert saga["severity"] == "high"
    assert saga["details"]["coordination"] == "orchestration"
    reservations = next(s for s in steps if "stock_reservations" in s["tables"])
    assert reservations["service"] == "inventory"
    assert "shop.services.stock.reserve_line" in reservations["code"]
    assert all(step["compensation"] for step in steps)
    assert "outbox" in saga["advice"]


def test_the_cross_area_reports_are_cqrs_candidates(shop) -> None:
    found = by_id(shop)
    summary = found["cqrs:shop.reporting.sales.customer_summary"]
    assert {"orders", "payments", "customers"} <= set(summary["services"])
    assert "orders" in summary["details"]["tables"]


def test_shared_tables_and_cross_service_keys_are_listed(shop) -> None:
    found = by_id(shop)
    owners = {t: o["owner"] for t, o in shop["tables"].items()}
    shared = [f for f in found.values() if f["kind"] == "shared-table"]
    assert shared
    for finding in shared:
        table = finding["id"].removeprefix("shared-table:")
        assert len(shop["tables"][table]["writers"]) >= 2
        assert finding["details"]["owner"] == owners[table]
    keys = [f for f in found.values() if f["kind"] == "cross-service-foreign-key"]
    assert "cross-service-foreign-key:order_lines->products" in found
    for finding in keys:
        source, target = finding["id"].removeprefix("cross-service-foreign-key:").split("->")
        assert owners[source] != owners[target]


def test_ids_are_stable_and_severities_ordered(analysed, shop) -> None:
    again = intended(analysed, "shop")
    assert [f["id"] for f in again["findings"]] == [f["id"] for f in shop["findings"]]
    order = ["high", "medium", "low", "info"]
    ranks = [order.index(f["severity"]) for f in shop["findings"]]
    assert ranks == sorted(ranks)


def test_in_process_state_is_flagged_inside_its_service(analysed) -> None:
    travel = by_id(intended(analysed, "travel"))
    state = travel["stateful:travel.services.payments._gateway:global"]
    assert state["severity"] == "medium"
    assert state["evidence"][0].startswith("travel/services/payments.py:")


def test_the_extraction_order_takes_every_service_once(shop) -> None:
    order = [step["service"] for step in shop["extraction_order"]]
    assert sorted(order) == sorted(shop["services"])
    costs = [step["cost"] for step in shop["extraction_order"]]
    assert costs[0] == min(costs)


def test_a_cycle_is_reported_once_with_the_lightest_cut() -> None:
    dependencies = {"a": {"b": 10}, "b": {"c": 8}, "c": {"a": 1, "d": 3}, "d": {}}
    [finding] = _cycles(dependencies)
    assert finding.id == "service-cycle:a+b+c"
    assert finding.details["cut"] == [["c", "a", 1]]


def test_extraction_starts_with_the_least_coupled_service(analysed) -> None:
    from decomposer.model.atoms import AtomGraph

    atoms = AtomGraph.from_graph(analysed["shop"])
    dependencies = {"core": {"edge": 1, "hub": 9}, "hub": {"core": 9}, "edge": {}}
    order = extraction_order(atoms, {}, {}, dependencies)
    assert [step["service"] for step in order] == ["edge", "core", "hub"]
    assert order[0]["calls_in"] == {"core": 1}


def _transaction_graph() -> AtomGraph:
    """app.orders.checkout opens a transaction writing orders and payments; it calls
    app.payments.charge (which writes payments) but never app.payments.refund (which does too).
    """
    functions = ["checkout", "charge", "refund", "save"]
    modules = {"checkout": "app.orders", "save": "app.orders"} | {
        "charge": "app.payments",
        "refund": "app.payments",
    }
    nodes = [Node(m, NodeKind.MODULE, file=f"{m}.py") for m in ("app.orders", "app.payments")]
    nodes += [Node("table:orders", NodeKind.TABLE), Node("table:payments", NodeKind.TABLE)]
    transaction = {"kind": "atomic", "line": 3, "tables": ["orders", "payments"]}
    for name in functions:
        attrs = {"transactions": [transaction]} if name == "checkout" else {}
        nodes.append(Node(f"{modules[name]}.{name}", NodeKind.FUNCTION, attrs=attrs))
    edges = [Edge(modules[n], f"{modules[n]}.{n}", EdgeKind.CONTAINS) for n in functions]
    edges += [
        Edge("app.orders.checkout", "app.orders.save", EdgeKind.CALLS, 1),
        Edge("app.orders.checkout", "app.payments.charge", EdgeKind.CALLS, 1),
        Edge("app.orders.save", "table:orders", EdgeKind.WRITES, 1),
        Edge("app.payments.charge", "table:payments", EdgeKind.WRITES, 1),
        Edge("app.payments.refund", "table:payments", EdgeKind.WRITES, 1),
        Edge("entry:http:POST /checkout", "app.orders.checkout", EdgeKind.HANDLES, 1),
    ]
    nodes.append(Node("entry:http:POST /checkout", NodeKind.ENTRY))
    return AtomGraph.from_graph(DependencyGraph.build(nodes, edges))


def test_a_transaction_saga_names_only_the_writers_it_reaches() -> None:
    atoms = _transaction_graph()
    assignment = {a: "payments" if ".payments" in a else "orders" for a in atoms.atoms}
    owners = table_owners(atoms, assignment)
    sagas = {f.id: f for f in find(atoms, assignment, owners, {}) if f.kind == "saga"}
    saga = sagas["saga:app.orders.checkout:3"]
    steps = {step["service"]: step["code"] for step in saga.details["steps"]}
    assert steps == {"orders": ["app.orders.save"], "payments": ["app.payments.charge"]}
    # the use case runs that transaction over the same services: no second saga
    assert "saga:entry:http:POST /checkout" not in sagas


def _save_and_charge_saga(transaction: dict, orders: list[str], payments: list[str]):
    """The one saga of a transaction in orders' save, which writes the `orders` tables and
    calls payments' charge, which writes the `payments` tables."""
    nodes = [Node(m, NodeKind.MODULE, file=f"{m}.py") for m in ("app.orders", "app.payments")]
    nodes += [Node(f"table:{t}", NodeKind.TABLE) for t in [*orders, *payments]]
    nodes += [
        Node("app.orders.save", NodeKind.FUNCTION, attrs={"transactions": [transaction]}),
        Node("app.payments.charge", NodeKind.FUNCTION),
    ]
    edges = [
        Edge("app.orders", "app.orders.save", EdgeKind.CONTAINS),
        Edge("app.payments", "app.payments.charge", EdgeKind.CONTAINS),
        Edge("app.orders.save", "app.payments.charge", EdgeKind.CALLS, 1),
    ]
    edges += [Edge("app.orders.save", f"table:{t}", EdgeKind.WRITES, 1) for t in orders]
    edges += [Edge("app.payments.charge", f"table:{t}", EdgeKind.WRITES, 1) for t in payments]
    atoms = AtomGraph.from_graph(DependencyGraph.build(nodes, edges))
    assignment = {a: "payments" if ".payments" in a else "orders" for a in atoms.atoms}
    owners = table_owners(atoms, assignment)
    [saga] = [f for f in find(atoms, assignment, owners, {}) if f.kind == "saga"]
    return saga


def test_a_saga_step_lists_its_first_tables_and_counts_them_all() -> None:
    tables = [f"a{n:02d}" for n in range(12)]  # all written by orders' save, first
    transaction = {"kind": "atomic", "line": 3, "tables": [*tables, "payments"]}
    saga = _save_and_charge_saga(transaction, tables, ["payments"])
    orders = next(s for s in saga.details["steps"] if s["service"] == "orders")
    assert orders["tables"] == tables[:10]
    assert orders["tables_total"] == 12
    assert "a09 and 2 more tables" in orders["compensation"]
    payments = next(s for s in saga.details["steps"] if s["service"] == "payments")
    assert "tables_total" not in payments


def test_a_transaction_alternating_between_services_gets_one_step_per_service() -> None:
    # orders' save writes o0, then payments' charge p0, then o1, p1 …: 16 runs of 2 services
    orders, payments = [f"o{n}" for n in range(8)], [f"p{n}" for n in range(8)]
    alternating = [t for pair in zip(orders, payments, strict=True) for t in pair]
    steps = [[10 + i, t] for i, t in enumerate(alternating)]
    transaction = {"kind": "atomic", "line": 3, "tables": [t for _, t in steps], "steps": steps}
    saga = _save_and_charge_saga(transaction, orders, payments)
    first, second = saga.details["steps"]
    assert (first["service"], first["runs"], first["tables"]) == ("orders", 8, orders)
    assert first["code"] == ["app.orders.save"]
    assert (second["service"], second["runs"], second["tables"]) == ("payments", 8, payments)
    assert second["code"] == ["app.payments.charge"]
    assert "(16 runs)" in saga.advice


def _entry_points_graph() -> AtomGraph:
    """Three entry points run app.orders.checkout (orders + payments, no transaction of its
    own); a fourth runs app.orders.restock, which also writes stock. Both call charge."""
    modules = ("app.orders", "app.payments")
    nodes = [Node(m, NodeKind.MODULE, file=f"{m}.py") for m in modules]
    nodes += [Node(f"table:{t}", NodeKind.TABLE) for t in ("orders", "payments", "stock")]
    functions = ["app.orders.checkout", "app.orders.restock", "app.payments.charge"]
    nodes += [Node(f, NodeKind.FUNCTION) for f in functions]
    entries = ["entry:http:POST /checkout", "entry:http:POST /buy", "entry:task:reorder"]
    nodes += [Node(e, NodeKind.ENTRY) for e in [*entries, "entry:http:POST /restock"]]
    edges = [Edge(f.rpartition(".")[0], f, EdgeKind.CONTAINS) for f in functions]
    edges += [
        Edge("app.orders.checkout", "app.payments.charge", EdgeKind.CALLS, 1),
        Edge("app.orders.restock", "app.payments.charge", EdgeKind.CALLS, 1),
        Edge("app.orders.checkout", "table:orders", EdgeKind.WRITES, 1),
        Edge("app.orders.restock", "table:orders", EdgeKind.WRITES, 1),
        Edge("app.orders.restock", "table:stock", EdgeKind.WRITES, 1),
        Edge("app.payments.charge", "table:payments", EdgeKind.WRITES, 1),
        Edge("entry:http:POST /restock", "app.orders.restock", EdgeKind.HANDLES, 1),
    ]
    edges += [Edge(e, "app.orders.checkout", EdgeKind.HANDLES, 1) for e in entries]
    return AtomGraph.from_graph(DependencyGraph.build(nodes, edges))


def test_use_cases_writing_the_same_tables_are_one_saga() -> None:
    atoms = _entry_points_graph()
    entries = ["entry:http:POST /buy", "entry:http:POST /checkout", "entry:task:reorder"]
    assignment = {a: "payments" if ".payments" in a else "orders" for a in atoms.atoms}
    owners = table_owners(atoms, assignment)
    sagas = {f.id: f for f in find(atoms, assignment, owners, {}) if f.kind == "saga"}
    assert sorted(sagas) == ["saga:entry:http:POST /buy", "saga:entry:http:POST /restock"]
    grouped = sagas["saga:entry:http:POST /buy"]
    assert grouped.evidence == tuple(entries)
    assert grouped.details["use_cases"] == 3
    assert grouped.title == (
        "use cases http:POST /buy and 2 more write tables of 2 services in separate transactions"
    )
    assert [s["tables"] for s in grouped.details["steps"]] == [["orders"], ["payments"]]
    alone = sagas["saga:entry:http:POST /restock"]
    assert alone.evidence == ("entry:http:POST /restock",)
    assert alone.title.startswith("use case http:POST /restock writes tables of 2 services")
    assert [s["tables"] for s in alone.details["steps"]] == [["orders", "stock"], ["payments"]]


def test_entry_points_making_the_same_calls_are_one_sync_chain() -> None:
    atoms = _entry_points_graph()
    assignment = {a: "payments" if ".payments" in a else "orders" for a in atoms.atoms}
    owners = table_owners(atoms, assignment)
    found = find(atoms, assignment, owners, {})
    chains = {f.id: f for f in found if f.kind == "sync-call-chain"}
    # the three routes make the same call, orders -> payments; the task is off the request path
    assert sorted(chains) == [
        "sync-call-chain:entry:http:POST /buy",
        "sync-call-chain:entry:task:reorder",
    ]
    routes = chains["sync-call-chain:entry:http:POST /buy"]
    assert routes.evidence[:3] == (
        "entry:http:POST /buy",
        "entry:http:POST /checkout",
        "entry:http:POST /restock",
    )
    assert routes.details["entry_points"] == 3
    assert routes.details["calls"] == ["orders -> payments"]
    assert routes.title == (
        "http:POST /buy and 2 more call across 1 service boundary (2 services)"
    )
    task = chains["sync-call-chain:entry:task:reorder"]
    assert task.severity == "low" and task.details["entry_points"] == 1
    assert task.title == "task:reorder calls across 1 service boundary (2 services)"
