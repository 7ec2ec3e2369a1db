"""The data decomposer reads statically from each sample agrees with what the sample's own
ORM or database reports when the code really runs (in a subprocess, so the samples' Django
settings and import paths stay out of this test process)."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from decomposer.model.graph import DependencyGraph, EdgeKind, NodeKind
from decomposer.truth import load_truth

SAMPLES = Path(__file__).resolve().parents[2] / "sample_monoliths"

# Each prints {"tables": [...], "foreign_keys": [[table, referenced], ...],
# "models": {class id: table}} as the running code sees them.
DATABASE_VIEW = {
    "shop": """
        from shop.models import Base
        tables = Base.metadata.tables.values()
        print(json.dumps({
            "tables": [t.name for t in tables],
            "foreign_keys": [[t.name, fk.column.table.name] for t in tables for fk in t.foreign_keys],
            "models": {f"{m.class_.__module__}.{m.class_.__qualname__}": m.local_table.name
                       for m in Base.registry.mappers},
        }))
    """,
    "clinic": """
        import os, django
        os.environ["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
        django.setup()
        from django.apps import apps
        models = list(apps.get_app_config("core").get_models(include_auto_created=True))
        print(json.dumps({
            "tables": [m._meta.db_table for m in models if not m._meta.proxy],
            "foreign_keys": [[m._meta.db_table, f.related_model._meta.db_table]
                             for m in models if not m._meta.proxy
                             for f in m._meta.local_fields if f.is_relation],
            "models": {f"{m.__module__}.{m.__qualname__}": m._meta.db_table
                       for m in models if not m._meta.auto_created},
        }))
    """,
    "travel": """
        import sqlite3
        db = sqlite3.connect(":memory:")
        db.executescript(open("travel/schema.sql").read())
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        print(json.dumps({
            "tables": tables,
            "foreign_keys": [[t, row[2]] for t in tables
                             for row in db.execute(f"PRAGMA foreign_key_list({t})")],
            "models": {},
        }))
    """,
}


@pytest.fixture(scope="module")
def database_view() -> dict[str, dict]:
    views = {}
    for sample, script in DATABASE_VIEW.items():
        code = "import json, sys\nsys.path.insert(0, '.')\n" + textwrap.dedent(script)
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=SAMPLES / sample,
            capture_output=True,
            text=True,
            check=True,
        )
        views[sample] = json.loads(result.stdout)
    return views


def _pairs(graph: DependencyGraph, kind: EdgeKind) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in graph.edges(kind)}


@pytest.mark.parametrize("sample", ["shop", "clinic", "travel"])
def test_tables_are_the_ones_the_database_has(analysed, database_view, sample) -> None:
    graph = analysed[sample]
    project_tables = {
        n.id.removeprefix("table:")
        for n in graph.nodes(NodeKind.TABLE)
        if not n.attrs.get("external")
    }
    assert project_tables == set(database_view[sample]["tables"])
    truth = load_truth(SAMPLES / sample / "expected_decomposition.json")
    assert set(truth.tables) <= project_tables


@pytest.mark.parametrize("sample", ["shop", "clinic", "travel"])
def test_foreign_keys_are_the_ones_the_database_has(analysed, database_view, sample) -> None:
    declared = {(f"table:{a}", f"table:{b}") for a, b in database_view[sample]["foreign_keys"]}
    assert _pairs(analysed[sample], EdgeKind.FOREIGN_KEY) == declared


@pytest.mark.parametrize("sample", ["shop", "clinic"])
def test_models_carry_the_table_their_orm_maps_them_to(analysed, database_view, sample):
    graph = analysed[sample]
    for model, table in database_view[sample]["models"].items():
        assert graph.node(model).attrs["table"] == table, model
        assert model in graph.node(f"table:{table}").attrs["models"]


# (code, table) pairs read off the samples' source, one per rule that must find them.
READS = {
    "shop": [
        ("shop.services.stock.reserve_line", "stock_items"),  # select(StockItem)
        ("shop.services.stock.reserve_line", "warehouses"),  # select(...).join(Warehouse)
    ],
    "clinic": [
        ("core.reports.revenue_by_month", "core_invoiceline"),  # InvoiceLine.objects.filter
    ],
    "travel": [],
}
WRITES = {
    "shop": [
        ("shop.services.stock.reserve_line", "stock_reservations"),  # StockReservation(...)
        # customer.name = name, on a mapped object the session flushes
        ("shop.services.accounts.update_customer", "customers"),
    ],
    "clinic": [
        ("core.services.register_patient", "core_patient"),  # Patient.objects.create
        ("core.services.register_patient", "core_patient_allergies"),  # patient.allergies.set
    ],
    "travel": [
        ("travel.services.booking_engine._hold_seats", "flight_inventory"),  # queries.HOLD_SEATS
        ("travel.services.booking_engine._hold_seats", "seat_holds"),
        ("travel.services.pricing.store_quote", "price_quotes"),  # execute("INSERT ...")
    ],
}


@pytest.mark.parametrize("sample", ["shop", "clinic", "travel"])
def test_access_edges_follow_the_code(analysed, sample) -> None:
    graph = analysed[sample]
    reads = _pairs(graph, EdgeKind.READS)
    writes = _pairs(graph, EdgeKind.WRITES)
    for code, table in READS[sample]:
        assert (code, f"table:{table}") in reads
    for code, table in WRITES[sample]:
        assert (code, f"table:{table}") in writes
    truth = load_truth(SAMPLES / sample / "expected_decomposition.json")
    touched = {target.removeprefix("table:") for _, target in reads | writes}
    assert set(truth.tables) - touched <= UNTOUCHED[sample]


# Tables the code only reaches in ways static analysis does not follow (documented in
# docs/data.md).
UNTOUCHED = {
    "shop": {"product_categories"},  # appended to through Product.categories
    "clinic": {"core_staffmember_specialties"},  # saved by a ModelForm and the admin
    "travel": set(),
}


@pytest.mark.parametrize("sample", ["shop", "clinic", "travel"])
def test_transactions_list_the_tables_written_inside(analysed, sample) -> None:
    graph = analysed[sample]
    scopes = [n for n in graph.nodes() if "transactions" in n.attrs]
    assert scopes
    for node in scopes:
        for transaction in node.attrs["transactions"]:
            assert transaction["tables"]
            assert all(f"table:{t}" in graph for t in transaction["tables"])
            # each table once, in the order the scope first writes it
            assert sorted(t for _, t in transaction["steps"]) == transaction["tables"]
            assert [line for line, _ in transaction["steps"]] == sorted(
                line for line, _ in transaction["steps"]
            )


# (scope, kind, tables that must be in its transaction): each transaction rule once.
TRANSACTIONS = {
    # with transaction.atomic(): creates, allergies.set, and what notify() writes
    "clinic": (
        "core.services.register_patient",
        "atomic",
        {"core_patient", "core_patient_allergies", "core_emergencycontact"},
    ),
    # with transaction(conn): a project context manager that runs BEGIN ... COMMIT
    "travel": ("travel.services.booking_engine.quote_trip", "context manager", {"price_quotes"}),
    # session.commit() in a function that calls the services that write
    "shop": ("shop.cli.grant_credit_command", "commit", {"credit_transactions", "customers"}),
}


@pytest.mark.parametrize("sample", ["shop", "clinic", "travel"])
def test_transaction_scopes_include_what_their_callees_write(analysed, sample) -> None:
    scope, kind, tables = TRANSACTIONS[sample]
    found = analysed[sample].node(scope).attrs["transactions"]
    assert any(t["kind"] == kind and tables <= set(t["tables"]) for t in found), found
