"""Traces merged into a statically analysed graph: runtime counts, calls only a run shows,
use-case entries with their tables and transactions, and what strategies and findings make
of them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from analyzers.runtime.analyzer import CodeIndex, Merge, RuntimeAnalyzer
from analyzers.runtime.trace_file import new_trace
from decomposer.cache import NoCache
from decomposer.config import AnalyzeSettings
from decomposer.errors import ConfigError
from decomposer.findings import find
from decomposer.metrics import table_owners
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, Node, NodeKind
from decomposer.model.graph_json import graph_from_dict, graph_to_dict
from decomposer.model.proposal import Constraints
from decomposer.pipeline import NoProgress
from decomposer.plugins import AnalysisContext, StrategyInput
from strategies._business_capability_vocabulary import documents
from strategies.use_case import UseCaseStrategy

# A shop whose payment is picked by name (getattr: static analysis cannot follow it) and
# whose checkout writes orders and order lines in one connection block, stock elsewhere.
SHOP = {
    "shop/__init__.py": "",
    "shop/db.py": """
        import sqlite3

        def connect():
            return sqlite3.connect(":memory:")
    """,
    "shop/orders.py": """
        from shop import payments, stock
        from shop.db import connect


        class OrderService:
            def place(self, customer_id):
                conn = connect()
                with conn:
                    conn.execute("INSERT INTO orders (customer_id) VALUES (?)", (customer_id,))
                    conn.execute("INSERT INTO order_lines (order_id) VALUES (1)")
                pay = getattr(payments, "charge_" + "card")
                pay(customer_id)
                stock.reserve(1)
                return sorted([1], key=lambda x: x)


        def checkout(customer_id):
            def audit():
                return customer_id
            audit()
            return OrderService().place(customer_id)
    """,
    "shop/payments.py": """
        from shop.db import connect


        def charge_card(customer_id):
            conn = connect()
            conn.execute("INSERT INTO payments (customer_id) VALUES (?)", (customer_id,))
            conn.commit()
    """,
    "shop/stock.py": """
        from shop.db import connect


        def reserve(product_id):
            connect().execute("UPDATE stock SET n = n - 1 WHERE id = ?", (product_id,))
    """,
}

ORDERS = "shop/orders.py"


def trace(root: Path, *segments: dict) -> dict:
    return new_trace(
        "sys.monitoring",
        list(segments),
        python="3.12.1",
        command=["pytest"],
        exit_code=0,
        source_roots=[str(root)],
    )


def segment(use_case: str, calls=(), functions=(), sql=(), transactions=(), runs=1) -> dict:
    return {
        "use_case": use_case,
        "kind": use_case.split(":", 1)[0],
        "runs": runs,
        "calls": [list(c) for c in calls],
        "functions": [list(f) for f in functions],
        "sql": list(sql),
        "transactions": list(transactions),
    }


def sql(statement: str, reads=(), writes=(), transaction=None, count=1) -> dict:
    return {
        "statement": statement,
        "count": count,
        "reads": list(reads),
        "writes": list(writes),
        "transaction": transaction,
    }


CHECKOUT = segment(
    "test:tests/test_orders.py::test_checkout",
    calls=[
        ("tests/test_orders.py", "test_checkout", ORDERS, "checkout", 1),
        (ORDERS, "checkout", ORDERS, "checkout.<locals>.audit", 1),
        (ORDERS, "checkout", ORDERS, "OrderService.place", 1),
        (ORDERS, "OrderService.place", "shop/db.py", "connect", 1),
        (ORDERS, "OrderService.place", "shop/payments.py", "charge_card", 1),
        (ORDERS, "OrderService.place", "shop/stock.py", "reserve", 1),
        (ORDERS, "OrderService.place", ORDERS, "OrderService.place.<locals>.<lambda>", 1),
        ("shop/payments.py", "charge_card", "shop/db.py", "connect", 1),
        ("shop/stock.py", "reserve", "shop/db.py", "connect", 1),
    ],
    functions=[
        ("tests/test_orders.py", "test_checkout", 1),
        (ORDERS, "checkout", 1),
        (ORDERS, "checkout.<locals>.audit", 1),
        (ORDERS, "OrderService.place", 1),
        ("shop/db.py", "connect", 3),
        ("shop/payments.py", "charge_card", 1),
        ("shop/stock.py", "reserve", 1),
    ],
    sql=[
        sql("INSERT INTO orders (customer_id) VALUES (?)", writes=["orders"], transaction=1),
        sql(
            "INSERT INTO order_lines (order_id) VALUES (1)", writes=["order_lines"], transaction=1
        ),
        sql("INSERT INTO payments (customer_id) VALUES (?)", writes=["payments"], transaction=2),
        sql("UPDATE stock SET n = n - 1 WHERE id = ?", reads=["stock"], writes=["stock"]),
        sql("INSERT INTO audit_log (what) VALUES (?)", writes=["audit_log"], transaction=3),
        sql("SELECT * FROM coupons", reads=["coupons"], transaction=4),
    ],
    transactions=[
        {"id": 1, "outcome": "commit", "reads": [], "writes": ["order_lines", "orders"]},
        {"id": 2, "outcome": "commit", "reads": [], "writes": ["payments"]},
        # payments and stock in one run-time transaction static analysis cannot see
        {"id": 3, "outcome": "commit", "reads": [], "writes": ["audit_log", "payments", "stock"]},
        {"id": 4, "outcome": "rollback", "reads": ["coupons"], "writes": []},
    ],
)


def merged(graph_of, tmp_path: Path, *segments: dict) -> tuple[DependencyGraph, dict]:
    graph = graph_of(SHOP)
    root = tmp_path / "project"
    merge = Merge(graph, root)
    merge.add(trace(root, *segments), "trace.json")
    return graph, merge.figures()


def test_a_call_only_the_run_shows_is_added_and_a_known_one_gets_its_count(
    graph_of, tmp_path: Path
) -> None:
    static = graph_of(SHOP)
    dynamic = ("shop.orders.OrderService.place", "shop.payments.charge_card")
    known = ("shop.orders.OrderService.place", "shop.db.connect")
    assert static.edge(*dynamic, EdgeKind.CALLS) is None
    before = static.edge(*known, EdgeKind.CALLS)
    assert before is not None and before.static_count and not before.runtime_count

    graph, figures = merged(graph_of, tmp_path, CHECKOUT)
    added = graph.edge(*dynamic, EdgeKind.CALLS)
    assert (added.static_count, added.runtime_count) == (0, 1)
    confirmed = graph.edge(*known, EdgeKind.CALLS)
    assert (confirmed.static_count, confirmed.runtime_count) == (before.static_count, 1)
    assert confirmed.sites == before.sites
    assert figures["edges_added"] == 1  # place -> charge_card
    # checkout -> place, checkout -> audit, place -> connect, place -> reserve, the two connects
    assert figures["edges_confirmed"] == 6


def test_locals_and_lambdas_are_charged_to_code_the_graph_has(graph_of, tmp_path: Path) -> None:
    graph, figures = merged(graph_of, tmp_path, CHECKOUT)
    # a nested function the graph has gets its own row; a lambda is its function's
    audit = graph.edge("shop.orders.checkout", "shop.orders.checkout.audit", EdgeKind.CALLS)
    assert audit is not None and audit.runtime_count == 1
    assert (
        graph.edge(
            "shop.orders.OrderService.place", "shop.orders.OrderService.place", EdgeKind.CALLS
        )
        is None
    )
    # the test's own rows matched no code (tests are not analysed): counted, named
    assert figures["rows_unmatched"] == 2
    assert figures["unmatched_first"] == ["tests/test_orders.py"]


def test_each_segment_is_a_use_case_entry_with_its_code_and_tables(
    graph_of, tmp_path: Path
) -> None:
    graph, figures = merged(graph_of, tmp_path, CHECKOUT)
    entry = "entry:usecase:test:tests/test_orders.py::test_checkout"
    node = graph.node(entry)
    assert node.kind == NodeKind.ENTRY
    assert node.attrs["kind"] == "test"
    assert node.attrs["label"] == "tests/test_orders.py::test_checkout"
    assert node.attrs["runs"] == 1 and node.attrs["traces"] == ["trace.json"]
    handled = {e.target: e.runtime_count for e in graph.out_edges(entry, EdgeKind.HANDLES)}
    assert handled == {
        "shop.orders.checkout": 1,
        "shop.orders.checkout.audit": 1,
        "shop.orders.OrderService.place": 1,
        "shop.db.connect": 3,
        "shop.payments.charge_card": 1,
        "shop.stock.reserve": 1,
    }
    writes = {e.target for e in graph.out_edges(entry, EdgeKind.WRITES)}
    reads = {e.target for e in graph.out_edges(entry, EdgeKind.READS)}
    assert writes == {
        f"table:{t}" for t in ("orders", "order_lines", "payments", "stock", "audit_log")
    }
    assert reads == {"table:stock", "table:coupons"}
    # tables only the run showed become table nodes, marked as such
    assert graph.node("table:audit_log").attrs == {"runtime": True}
    assert graph.node("table:orders").attrs.get("runtime") is None
    assert figures["tables_added"] == 2 and figures["segments"] == 1


def test_a_committed_transaction_belongs_to_the_code_that_ran_its_writers(
    graph_of, tmp_path: Path
) -> None:
    graph, figures = merged(graph_of, tmp_path, CHECKOUT)
    place = graph.node("shop.orders.OrderService.place")
    kinds = [(t["kind"], t["tables"]) for t in place.attrs["transactions"]]
    # the static connection block already holds orders + order_lines: not repeated; payments
    # + stock (written by charge_card and reserve, both called from place) is new
    assert kinds == [
        ("connection", ["order_lines", "orders"]),
        ("trace", ["audit_log", "payments", "stock"]),
    ]
    record = place.attrs["transactions"][1]
    # in the order the transaction's statements ran, then the rest by name
    assert record["steps"] == [
        [place.line, "audit_log"],
        [place.line, "payments"],
        [place.line, "stock"],
    ]
    # the rolled-back one and the single-table payment (static already has it) add nothing
    assert figures["transactions"] == 1
    entry = graph.node("entry:usecase:test:tests/test_orders.py::test_checkout")
    assert entry.attrs["transactions"] == [
        {"code": "shop.orders.OrderService.place", "tables": ["order_lines", "orders"]},
        {"code": "shop.payments.charge_card", "tables": ["payments"]},
        {"code": "shop.orders.OrderService.place", "tables": ["audit_log", "payments", "stock"]},
    ]


def test_findings_see_a_traced_transaction_as_a_saga(graph_of, tmp_path: Path) -> None:
    graph, _ = merged(graph_of, tmp_path, CHECKOUT)
    atoms = AtomGraph.from_graph(graph, "class")
    traced = [t for t in atoms.transactions if t.kind == "trace"]
    assert [(t.atom, sorted(t.tables)) for t in traced] == [
        ("shop.orders.OrderService", ["audit_log", "payments", "stock"])
    ]
    assignment = {a: "payments" if a.startswith("shop.payments") else "orders" for a in atoms}
    assignment["shop.stock.reserve"] = "stock"
    owners = table_owners(atoms, assignment)
    sagas = [f for f in find(atoms, assignment, owners, {}) if f.kind == "saga"]
    assert any(
        f.details.get("transaction") == "trace" and {"payments", "stock"} <= set(f.services)
        for f in sagas
    ), [f.title for f in sagas]


def test_the_same_use_case_in_two_traces_adds_up(graph_of, tmp_path: Path) -> None:
    graph = graph_of(SHOP)
    root = tmp_path / "project"
    merge = Merge(graph, root)
    merge.add(trace(root, CHECKOUT), "one.json")
    merge.add(trace(root, {**CHECKOUT, "runs": 2}), "two.json")
    entry = graph.node("entry:usecase:test:tests/test_orders.py::test_checkout")
    assert entry.attrs["runs"] == 3 and entry.attrs["traces"] == ["one.json", "two.json"]
    added = graph.edge(
        "shop.orders.OrderService.place", "shop.payments.charge_card", EdgeKind.CALLS
    )
    assert added.runtime_count == 2
    assert len(entry.attrs["transactions"]) == 3  # the same ones, not repeated
    assert merge.figures()["traces"] == 2


@pytest.mark.parametrize(
    ("layout", "trace_root", "file", "expected"),
    [
        # traced and analysed in one place: the file's place below the analysed folder decides
        ("flat", ".", "shop/orders.py", "shop.orders"),
        ("src", "src", "shop/orders.py", "shop.orders"),
        ("src", ".", "src/shop/orders.py", "shop.orders"),
        # the trace's root holds the analysed folder: files outside it are not project code
        ("flat", "..", "project/shop/orders.py", "shop.orders"),
        ("flat", "..", "elsewhere/shop/orders.py", None),
        ("flat", ".", "tests/test_orders.py", None),
        # a trace recorded on another machine: the module's path below a source root
        ("src", "/ci/build/src", "shop/orders.py", "shop.orders"),
        ("src", "/ci/build", "src/shop/orders.py", "shop.orders"),
        ("flat", "/ci/build", "shop/__init__.py", "shop"),
        ("flat", "/ci/build", "vendor/lib.py", None),
    ],
)
def test_trace_files_find_their_module_by_the_source_roots_position(
    tree, layout: str, trace_root: str, file: str, expected: str | None
) -> None:
    prefix = "src/" if layout == "src" else ""
    root = tree({f"{prefix}shop/__init__.py": "", f"{prefix}shop/orders.py": "X = 1\n"})
    graph = DependencyGraph.build(
        [
            Node(
                "shop", NodeKind.MODULE, file=f"{prefix}shop/__init__.py", attrs={"package": True}
            ),
            Node("shop.orders", NodeKind.MODULE, file=f"{prefix}shop/orders.py"),
        ]
    )
    roots = (trace_root if trace_root.startswith("/") else str(root / trace_root),)
    assert CodeIndex(graph, root).module(file, roots) == expected


def test_qualnames_map_to_nodes_and_unknown_ones_to_none() -> None:
    nodes = ["m", "m.C", "m.C.run", "m.f", "m.f.inner"]
    graph = DependencyGraph.build(
        Node(n, NodeKind.MODULE if n == "m" else NodeKind.FUNCTION) for n in nodes
    )
    index = CodeIndex(graph, Path("/nowhere"))
    assert index.inside("m", "<module>") == "m"
    assert index.inside("m", "C.run") == "m.C.run"
    assert index.inside("m", "f.<locals>.inner") == "m.f.inner"
    assert index.inside("m", "f.<locals>.inner.<locals>.<lambda>") == "m.f.inner"
    assert index.inside("m", "f.<locals>.Made.method") == "m.f"
    assert index.inside("m", "C.run.<locals>.<genexpr>") == "m.C.run"
    assert index.inside("m", "Gone.run") is None
    assert index.inside("m", "C.gone") is None
    # imports name code by dotted path, without a file
    assert index.node("", "m.C.run", ()) == "m.C.run"
    assert index.node("", "m", ()) == "m"
    assert index.node("", "other.C.run", ()) is None


def test_the_graph_round_trip_keeps_what_traces_added(graph_of, tmp_path: Path) -> None:
    graph, _ = merged(graph_of, tmp_path, CHECKOUT)
    data = graph_to_dict(graph, {"decomposer": "test"})
    again = graph_from_dict(data)
    assert again == graph
    assert graph_to_dict(again, {"decomposer": "test"}) == data
    entry = again.node("entry:usecase:test:tests/test_orders.py::test_checkout")
    assert entry.attrs["transactions"]
    assert (
        again.edge(
            "shop.orders.OrderService.place", "shop.payments.charge_card", EdgeKind.CALLS
        ).runtime_count
        == 1
    )


def context(root: Path, *traces: str) -> AnalysisContext:
    settings = AnalyzeSettings(traces=traces)
    return AnalysisContext(root, settings, NoCache(), NoProgress())


def test_the_fingerprint_follows_the_traces_content(tmp_path: Path) -> None:
    path = tmp_path / "trace.json"
    path.write_text('{"a": 1}')
    analyzer = RuntimeAnalyzer()
    first = analyzer.fingerprint(context(tmp_path, "trace.json"))
    assert analyzer.fingerprint(context(tmp_path, "trace.json")) == first
    path.write_text('{"a": 2}')
    assert analyzer.fingerprint(context(tmp_path, "trace.json")) != first
    assert analyzer.fingerprint(context(tmp_path)) != first


def test_a_missing_trace_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"trace file .*gone\.json does not exist"):
        RuntimeAnalyzer().fingerprint(context(tmp_path, "gone.json"))
    (tmp_path / "traces").mkdir()
    with pytest.raises(ConfigError, match=r"trace file .*traces is a folder"):
        RuntimeAnalyzer().fingerprint(context(tmp_path, "traces"))


def test_without_traces_the_analyzer_adds_nothing(graph_of, tmp_path: Path) -> None:
    graph = graph_of(SHOP)
    before = graph_to_dict(graph, {})
    assert RuntimeAnalyzer().analyze(context(tmp_path / "project"), graph) == {"traces": 0}
    assert graph_to_dict(graph, {}) == before


# -- the use-case strategy on traced segments -------------------------------------------------


def traced_graph() -> DependencyGraph:
    """Four modules; a static route reaches everything through one dispatcher, while the
    traces show two use cases, each running its own pair of modules."""
    nodes = [Node("app", NodeKind.MODULE)]
    edges = []
    for module in ("a1", "a2", "b1", "b2"):
        nodes += [
            Node(f"app.{module}", NodeKind.MODULE),
            Node(f"app.{module}.run", NodeKind.FUNCTION),
        ]
        edges += [
            Edge(f"app.{module}", f"app.{module}.run", EdgeKind.CONTAINS, 1),
            Edge("app.dispatch", f"app.{module}.run", EdgeKind.CALLS, 1),
        ]
    nodes += [
        Node("app.dispatch", NodeKind.MODULE),
        Node("entry:http:POST /do", NodeKind.ENTRY, attrs={"kind": "http"}),
        Node("entry:usecase:test:t::a", NodeKind.ENTRY, attrs={"kind": "test"}),
        Node("entry:usecase:test:t::b", NodeKind.ENTRY, attrs={"kind": "test"}),
        Node("entry:usecase:process:main", NodeKind.ENTRY, attrs={"kind": "process"}),
    ]
    edges += [
        Edge("entry:http:POST /do", "app.dispatch", EdgeKind.HANDLES, 1),
        Edge("app.a1.run", "app.a2.run", EdgeKind.CALLS, 0, 1),
        Edge("app.b1.run", "app.b2.run", EdgeKind.CALLS, 0, 1),
    ]
    for case, modules in (("a", ("a1", "a2")), ("b", ("b1", "b2"))):
        for module in modules:
            edges.append(
                Edge(f"entry:usecase:test:t::{case}", f"app.{module}.run", EdgeKind.HANDLES, 0, 1)
            )
    for module in ("a1", "b1"):
        edges.append(
            Edge("entry:usecase:process:main", f"app.{module}.run", EdgeKind.HANDLES, 0, 1)
        )
    return DependencyGraph.build(nodes, edges)


def test_use_case_groups_atoms_by_traced_segments() -> None:
    graph = traced_graph()
    atoms = AtomGraph.from_graph(graph, "class")
    result = UseCaseStrategy().decompose(StrategyInput(atoms, graph, 2, 0, {}, Constraints()))
    groups = defaultdict(set)
    for atom, cluster in result.clusters.items():
        if atom.endswith(".run"):
            groups[cluster].add(atom)
    assert sorted(map(sorted, groups.values())) == [
        ["app.a1.run", "app.a2.run"],
        ["app.b1.run", "app.b2.run"],
    ]
    # the traced segments are the use cases; the process segment is not one
    assert "2 use cases (traced segments)" in result.k_choice
    assert "t::a" in result.reasons["app.a2.run"][0].text


def test_use_case_keeps_static_reach_without_traced_segments() -> None:
    graph = traced_graph()
    atoms = AtomGraph.from_graph(graph, "class")
    for entry in [e for e in atoms.entries if e.startswith("entry:usecase:")]:
        del atoms.entries[entry]
    result = UseCaseStrategy().decompose(StrategyInput(atoms, graph, 2, 0, {}, Constraints()))
    assert "1 use cases (traced)" in result.k_choice


def test_use_case_takes_traced_requests_before_tests() -> None:
    graph = traced_graph()
    nodes = list(graph.nodes()) + [
        Node("entry:usecase:http:POST /a", NodeKind.ENTRY, attrs={"kind": "http"})
    ]
    edges = list(graph.edges()) + [
        Edge("entry:usecase:http:POST /a", "app.a1.run", EdgeKind.HANDLES, 0, 1)
    ]
    graph = DependencyGraph.build(nodes, edges)
    atoms = AtomGraph.from_graph(graph, "class")
    result = UseCaseStrategy().decompose(StrategyInput(atoms, graph, 1, 0, {}, Constraints()))
    # the test segments hold what their fixtures ran: the request alone is the use case
    assert "1 use cases (traced segments)" in result.k_choice


def test_a_traced_call_is_coupling_evidence_once_however_often_it_ran() -> None:
    graph = traced_graph()
    edges = list(graph.edges()) + [Edge("app.a1.run", "app.b1.run", EdgeKind.CALLS, 2, 99)]
    atoms = AtomGraph.from_graph(DependencyGraph.build(list(graph.nodes()), edges), "module")
    weights = atoms.coupling({EdgeKind.CALLS: 1.0})
    assert weights["app.a1"]["app.a2"] == 1  # seen only at run time
    assert weights["app.a1"]["app.b1"] == 3  # two call sites, and the trace saw it


def test_business_capability_reads_words_from_static_entries_only() -> None:
    graph = traced_graph()
    nodes = list(graph.nodes()) + [
        Node("entry:usecase:http:POST /invoices", NodeKind.ENTRY, attrs={"kind": "http"}),
        Node("entry:http:POST /refunds", NodeKind.ENTRY, attrs={"kind": "http"}),
    ]
    edges = list(graph.edges()) + [
        Edge("entry:usecase:http:POST /invoices", "app.a1.run", EdgeKind.HANDLES, 0, 1),
        Edge("entry:http:POST /refunds", "app.a1.run", EdgeKind.HANDLES, 1),
    ]
    graph = DependencyGraph.build(nodes, edges)
    words = documents(AtomGraph.from_graph(graph, "class"), graph)["app.a1.run"]
    # a traced segment "handles" everything it ran: its words would land everywhere
    assert "refund" in words
    assert "invoice" not in words


def test_findings_read_entry_points_from_the_code_not_from_traced_segments() -> None:
    graph = traced_graph()
    atoms = AtomGraph.from_graph(graph, "class")
    assignment = {a: "b" if ".b" in a or ".a2" in a else "a" for a in atoms.atoms}
    found = find(atoms, assignment, table_owners(atoms, assignment), {})
    chains = sorted(f.id for f in found if f.kind == "sync-call-chain")
    # the traced a1 -> a2 crosses services, but the code's entry point already reaches it:
    # one chain, from the route
    assert chains == ["sync-call-chain:entry:http:POST /do"]
    assert not [f for f in found if any("entry:usecase:" in e for e in f.evidence)]
