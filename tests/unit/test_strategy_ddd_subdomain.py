"""The DDD-subdomain strategy on a tiny monolith whose right answer is known by construction,
and on the shop sample (K honoured, deterministic, folder names not the signal)."""

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from decomposer.cli import app
from decomposer.errors import ConfigError
from decomposer.metrics import agreement
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import DependencyGraph, EdgeKind, NodeKind
from decomposer.model.graph_json import graph_from_dict
from decomposer.model.proposal import Constraints
from decomposer.plugins import StrategyInput
from decomposer.truth import SHARED
from strategies.ddd_subdomain import DddSubdomainStrategy

# Two aggregates (orders + order_lines, stock_items + stock_movements), helpers both use,
# and a web module that mixes both areas. Raw SQL, so the analyzer sees every access.
TINY = {
    "app/__init__.py": "",
    "app/schema.sql": """
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, status TEXT);
        CREATE TABLE order_lines (id INTEGER PRIMARY KEY,
                                  order_id INTEGER REFERENCES orders(id), sku TEXT);
        CREATE TABLE stock_items (sku TEXT PRIMARY KEY, quantity INTEGER);
        CREATE TABLE stock_movements (id INTEGER PRIMARY KEY,
                                      sku TEXT REFERENCES stock_items(sku), delta INTEGER);
    """,
    "app/util.py": """
        def money(cents):
            return f"{cents / 100:.2f}"


        def clean(text):
            return text.strip()
    """,
    "app/orders.py": """
        from app import util


        def place_order(conn, customer, sku):
            conn.execute("INSERT INTO orders (customer) VALUES (?)", (util.clean(customer),))
            conn.execute("INSERT INTO order_lines (order_id, sku) VALUES (1, ?)", (sku,))
            return util.money(100)


        def cancel_order(conn, order_id):
            conn.execute("UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,))


        def order_lines(conn, order_id):
            return conn.execute("SELECT sku FROM order_lines WHERE order_id = ?", (order_id,))
    """,
    "app/stock.py": """
        from app import util


        def restock(conn, sku, quantity):
            conn.execute("UPDATE stock_items SET quantity = quantity + ? WHERE sku = ?",
                         (quantity, sku))
            conn.execute("INSERT INTO stock_movements (sku, delta) VALUES (?, ?)", (sku, quantity))
            return util.money(quantity)


        def stock_level(conn, sku):
            return conn.execute("SELECT quantity FROM stock_items WHERE sku = ?",
                                (util.clean(sku),))


        def reserve_for_order(conn, order_id, sku):
            # reads the order, writes stock: the write decides
            conn.execute("SELECT id FROM orders WHERE id = ?", (order_id,))
            conn.execute("SELECT id FROM order_lines WHERE order_id = ?", (order_id,))
            conn.execute("INSERT INTO stock_movements (sku, delta) VALUES (?, -1)", (sku,))
    """,
    "app/web.py": """
        from flask import Flask

        from app import orders, stock

        app = Flask(__name__)


        @app.route("/orders", methods=["POST"])
        def order_view():
            return orders.place_order(None, "x", "y")


        @app.route("/orders/<int:order_id>/cancel", methods=["POST"])
        def cancel_view(order_id):
            return orders.cancel_order(None, order_id)


        @app.route("/stock/<sku>", methods=["POST"])
        def restock_view(sku):
            return stock.restock(None, sku, 1)


        @app.route("/stock/<sku>")
        def level_view(sku):
            return stock.stock_level(None, sku)
    """,
}
ORDERS = {
    "app.orders",
    "app.orders.place_order",
    "app.orders.cancel_order",
    "app.orders.order_lines",
    "app.web.order_view",
    "app.web.cancel_view",
}
STOCK = {
    "app.stock",
    "app.stock.restock",
    "app.stock.stock_level",
    "app.stock.reserve_for_order",
    "app.web.restock_view",
    "app.web.level_view",
}
UTILITIES = {"app.util", "app.util.money", "app.util.clean"}


def run(graph: DependencyGraph, k: int | None = 2, seed: int = 0, **options):
    atoms = AtomGraph.from_graph(graph)
    request = StrategyInput(atoms, graph, k, seed, options, Constraints())
    return atoms, DddSubdomainStrategy().decompose(request)


def groups(clusters: dict[str, str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for atom, cluster in clusters.items():
        found.setdefault(cluster, set()).add(atom)
    return found


def test_code_follows_the_entities_it_writes_then_its_calls(graph_of) -> None:
    atoms, result = run(graph_of(TINY))
    by_cluster = groups(result.clusters)
    assert by_cluster[result.clusters["app.orders.place_order"]] >= ORDERS
    assert by_cluster[result.clusters["app.stock.restock"]] >= STOCK
    assert result.clusters["app.orders.place_order"] != result.clusters["app.stock.restock"]
    # helpers both areas call, reaching no data: a shared library
    assert {a for a in UTILITIES} <= by_cluster[SHARED]
    # the web module serves both areas equally: its own top-level code is shared glue
    assert result.clusters["app.web"] == SHARED
    assert set(result.clusters) == set(atoms.atoms)


def test_contexts_are_named_after_their_aggregate_root(graph_of) -> None:
    _, result = run(graph_of(TINY))
    assert result.clusters["app.orders.place_order"] == "orders"
    assert result.clusters["app.stock.restock"] == "stock_items"
    assert result.names == {"orders": "orders", "stock_items": "stock_items"}


def test_every_placement_says_which_entities_or_neighbours_decided_it(graph_of) -> None:
    _, result = run(graph_of(TINY))
    texts = {a: " ".join(r.text for r in reasons) for a, reasons in result.reasons.items()}
    assert "writes stock_movements" in texts["app.stock.reserve_for_order"]
    assert (
        "also reads order_lines, orders of context orders" in texts["app.stock.reserve_for_order"]
    )
    assert "follows restock" in texts["app.web.restock_view"]
    assert "used from 2 services" in texts["app.util.money"]


def test_without_a_target_the_entity_graph_chooses_k(graph_of) -> None:
    _, result = run(graph_of(TINY), k=None)
    assert len(set(result.clusters.values()) - {SHARED}) == 2
    assert result.k_choice.startswith("chosen: 2 bounded contexts")


def test_a_target_above_the_natural_contexts_splits_them(graph_of) -> None:
    _, result = run(graph_of(TINY), k=3)
    assert len(set(result.clusters.values()) - {SHARED}) == 3


def test_options_are_checked(graph_of) -> None:
    graph = graph_of(TINY)
    with pytest.raises(ConfigError, match="unknown option 'colour'"):
        run(graph, colour=1)
    with pytest.raises(ConfigError, match="option 'writes'"):
        run(graph, writes="many")


# -- on the shop sample ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> DependencyGraph:
    path = tmp_path_factory.mktemp("shop") / "graph.json"
    result = CliRunner().invoke(
        app, ["analyze", "sample_monoliths/shop", "-o", str(path), "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    return graph_from_dict(json.loads(path.read_text()))


def test_shop_gets_k_services_the_same_way_every_time(shop) -> None:
    _, first = run(shop, k=9, seed=3)
    _, second = run(shop, k=9, seed=3)
    assert first.clusters == second.clusters
    assert len(set(first.clusters.values()) - {SHARED}) == 9


def test_shop_orders_and_inventory_are_apart(shop) -> None:
    _, result = run(shop, k=9)
    clusters = result.clusters
    assert clusters["shop.models.Order"] == clusters["shop.models.OrderLine"]
    assert clusters["shop.services.stock.reserve_line"] == clusters["shop.models.StockItem"]
    assert clusters["shop.models.Order"] != clusters["shop.models.StockItem"]
    assert clusters["shop.utils.money.to_cents"] == SHARED


def flatten(graph: DependencyGraph, seed: int = 7) -> tuple[DependencyGraph, dict[str, str]]:
    """Every module moved to `flat.mNNN` in a shuffled order; classes and functions keep
    their names. Returns the new graph and new id -> old id."""
    modules = sorted(n.id for n in graph.nodes(NodeKind.MODULE))
    random.Random(seed).shuffle(modules)
    new = {m: f"flat.m{i:03d}" for i, m in enumerate(modules)}

    def rename(node_id: str) -> str:
        parts = node_id.split(".")
        for i in range(len(parts), 0, -1):
            if ".".join(parts[:i]) in new:
                return ".".join([new[".".join(parts[:i])], *parts[i:]])
        return node_id

    nodes = [replace(n, id=rename(n.id)) for n in graph.nodes()]
    edges = [
        replace(e, source=rename(e.source), target=rename(e.target))
        for e in graph.edges()
        if not (e.kind == EdgeKind.CONTAINS and e.source in new and e.target in new)
    ]
    return DependencyGraph.build(nodes, edges), {rename(n.id): n.id for n in graph.nodes()}


def test_shop_barely_changes_when_every_module_is_flat_and_opaque(shop) -> None:
    atoms, original = run(shop, k=9)
    flat, back = flatten(shop)
    _, moved = run(flat, k=9)
    renamed = {back[a]: c for a, c in moved.clusters.items()}
    assert agreement(atoms, renamed, original.clusters)["ari"] >= 0.9


def test_a_sample_without_tables_still_gets_k_services(graph_of) -> None:
    files = {k: v for k, v in TINY.items() if not k.endswith(".sql")}
    files["app/orders.py"] = "def place_order():\n    return 1\n"
    files["app/stock.py"] = "def restock():\n    return 2\n"
    _, result = run(graph_of(files))
    assert "no tables" in result.k_choice


def test_the_truth_of_the_shop_is_mostly_found(shop) -> None:
    from decomposer.truth import load_truth

    atoms, result = run(shop, k=9)
    truth = load_truth(Path("sample_monoliths/shop/expected_decomposition.json"))
    intended = {a: g for a in atoms.atoms if (g := truth.group_of(a, atoms.module_of(a)))}
    assert agreement(atoms, result.clusters, intended)["mojofm"] >= 75
