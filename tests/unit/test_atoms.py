"""Atoms at each level, and what folds into them."""

import pytest

from decomposer.errors import InputError
from decomposer.model.atoms import AtomGraph
from decomposer.model.graph import EdgeKind
from decomposer.model.proposal import parse_constraints

SOURCE = {
    "app/__init__.py": "",
    "app/orders.py": """
        from app.billing import Invoice

        class Order:
            def place(self):
                def audit():
                    return Invoice()
                return audit()

        def checkout(conn):
            conn.execute("SELECT * FROM orders o JOIN invoices i ON i.order_id = o.id")
    """,
    "app/billing.py": """
        class Invoice:
            def issue(self, conn):
                conn.execute("INSERT INTO invoices (id) VALUES (1)")
    """,
}


@pytest.mark.parametrize(
    ("level", "atoms", "folded"),
    [
        ("module", {"app", "app.orders", "app.billing"}, "app.orders"),
        (
            "class",
            {
                "app",
                "app.orders",
                "app.billing",
                "app.orders.Order",
                "app.orders.checkout",
                "app.billing.Invoice",
            },
            "app.orders.Order",
        ),
        (
            "function",
            {
                "app",
                "app.orders",
                "app.billing",
                "app.orders.Order",
                "app.orders.checkout",
                "app.billing.Invoice",
                "app.orders.Order.place",
                "app.billing.Invoice.issue",
            },
            "app.orders.Order.place",
        ),
    ],
)
def test_levels_fold_code_into_atoms(graph_of, level, atoms, folded) -> None:
    graph = AtomGraph.from_graph(graph_of(SOURCE), level)
    assert set(graph.atoms) == atoms
    # the nested function always folds into the enclosing atom
    assert graph.atom_of["app.orders.Order.place.audit"] == folded
    calls = {(e.source, e.target) for e in graph.edges if e.kind == EdgeKind.INSTANTIATES}
    target = "app.billing" if level == "module" else "app.billing.Invoice"
    assert (folded, target) in calls
    assert graph.module_of(folded) == "app.orders"


def test_data_comes_along(graph_of) -> None:
    graph = AtomGraph.from_graph(graph_of(SOURCE), "class")
    assert graph.tables == ("invoices", "orders")
    kinds = {(a.atom, a.table, a.kind) for a in graph.access}
    assert ("app.billing.Invoice", "invoices", "writes") in kinds
    assert ("app.orders.checkout", "orders", "reads") in kinds
    assert graph.nodes["app.orders.checkout"].attrs["sql_joins"] == [["invoices", "orders"]]
    assert graph.writers() == {"invoices": {"app.billing.Invoice": 1}}


def test_an_unknown_level_is_refused(graph_of) -> None:
    with pytest.raises(InputError, match="unknown level 'package'"):
        AtomGraph.from_graph(graph_of(SOURCE), "package")


def test_constraints_are_checked_all_at_once() -> None:
    with pytest.raises(InputError) as info:
        parse_constraints({"pins": ["x"], "must_link": [["a"]], "odd": 1}, where="test")
    assert "'pins' should map atom ids to service names" in info.value.message
    assert any("must_link" in d for d in info.value.details)
    assert any("unknown keys odd" in d for d in info.value.details)
