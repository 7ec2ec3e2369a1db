"""Tables, foreign keys, reads/writes and transactions, one small snippet per rule."""

from __future__ import annotations

import textwrap

import pytest

from decomposer.model.graph import DependencyGraph, EdgeKind, NodeKind

DJANGO_APP = {
    "shop/__init__.py": "",
    "shop/orders/__init__.py": "",
    "shop/orders/apps.py": """
        from django.apps import AppConfig

        class OrdersConfig(AppConfig):
            name = "shop.orders"
            label = "sales"
    """,
}


def tables(graph: DependencyGraph) -> dict[str, dict]:
    return {n.id.removeprefix("table:"): n.attrs for n in graph.nodes(NodeKind.TABLE)}


def pairs(graph: DependencyGraph, kind: EdgeKind) -> set[tuple[str, str]]:
    return {(e.source, e.target.removeprefix("table:")) for e in graph.edges(kind)}


# -- Django models ----------------------------------------------------------------------------


def test_django_table_names_follow_app_label_and_meta(graph_of) -> None:
    graph = graph_of(
        {
            **DJANGO_APP,
            "shop/orders/models.py": """
                from django.db import models

                class Order(models.Model):
                    number = models.CharField(max_length=20, db_column="order_no")

                class Invoice(models.Model):
                    class Meta:
                        db_table = "billing_invoices"

                class Note(models.Model):
                    class Meta:
                        app_label = "notes"
            """,
            "shop/catalog/__init__.py": "",
            "shop/catalog/models.py": """
                from django.db.models import Model

                class Product(Model):
                    pass
            """,
        }
    )
    found = tables(graph)
    # AppConfig.label wins over the package name; no AppConfig: the package holding models.py
    assert set(found) == {"sales_order", "billing_invoices", "notes_note", "catalog_product"}
    assert found["sales_order"]["models"] == ["shop.orders.models.Order"]
    assert found["sales_order"]["columns"] == ["order_no"]
    assert graph.node("shop.orders.models.Invoice").attrs["table"] == "billing_invoices"


def test_django_abstract_proxy_and_multi_table_inheritance(graph_of) -> None:
    graph = graph_of(
        {
            **DJANGO_APP,
            "shop/orders/base.py": """
                from django.db import models

                class Stamped(models.Model):
                    created = models.DateTimeField()
                    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)

                    class Meta:
                        abstract = True
            """,
            "shop/orders/models.py": """
                from shop.orders.base import Stamped

                class Order(Stamped):
                    pass

                class OpenOrder(Order):
                    class Meta:
                        proxy = True

                class GiftOrder(Order):
                    pass
            """,
        }
    )
    found = tables(graph)
    assert "sales_stamped" not in found and "sales_openorder" not in found
    assert graph.node("shop.orders.base.Stamped").attrs["abstract"] is True
    assert found["sales_order"]["models"] == [
        "shop.orders.models.OpenOrder",
        "shop.orders.models.Order",
    ]
    assert graph.node("shop.orders.models.OpenOrder").attrs["table"] == "sales_order"
    foreign_keys = pairs(graph, EdgeKind.FOREIGN_KEY)
    # the abstract parent's field is a column of each concrete child
    assert ("table:sales_order", "auth_user") in foreign_keys
    assert ("table:sales_giftorder", "sales_order") in foreign_keys  # parent link
    assert found["auth_user"] == {"external": True}


def test_django_relations_string_self_and_join_tables(graph_of) -> None:
    graph = graph_of(
        {
            **DJANGO_APP,
            "shop/orders/models.py": """
                from django.db import models
                from shop.catalog.models import Product

                class Customer(models.Model):
                    referrer = models.ForeignKey("self", null=True, on_delete=models.SET_NULL)

                class Order(models.Model):
                    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
                    products = models.ManyToManyField(Product)
                    tags = models.ManyToManyField("catalog.Tag", db_table="order_tags")
                    lines = models.ManyToManyField(Product, through="Line", related_name="+")

                class Line(models.Model):
                    order = models.ForeignKey("sales.Order", on_delete=models.CASCADE)
                    product = models.OneToOneField(to="catalog.Product", on_delete=models.CASCADE)
            """,
            "shop/catalog/__init__.py": "",
            "shop/catalog/models.py": """
                from django.db import models

                class Product(models.Model):
                    pass

                class Tag(models.Model):
                    pass
            """,
        }
    )
    assert pairs(graph, EdgeKind.FOREIGN_KEY) == {
        ("table:sales_customer", "sales_customer"),
        ("table:sales_order", "sales_customer"),
        ("table:sales_order_products", "sales_order"),
        ("table:sales_order_products", "catalog_product"),
        ("table:order_tags", "sales_order"),
        ("table:order_tags", "catalog_tag"),
        ("table:sales_line", "sales_order"),
        ("table:sales_line", "catalog_product"),
    }
    assert tables(graph)["sales_order"]["columns"] == ["customer_id"]


def test_a_third_party_model_base_counts_when_the_body_has_django_fields(graph_of) -> None:
    graph = graph_of(
        {
            **DJANGO_APP,
            "shop/orders/models.py": """
                from django.db import models
                from mptt.models import MPTTModel
                from pydantic import BaseModel

                class Category(MPTTModel):
                    name = models.CharField(max_length=50)

                class Payload(BaseModel):
                    name: str
            """,
        }
    )
    assert set(tables(graph)) == {"sales_category"}


# -- SQLAlchemy ---------------------------------------------------------------------------


def test_sqlalchemy_declarative_and_table_objects(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/models.py": """
                from sqlalchemy import Column, ForeignKey, Integer, Table
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

                class Base(DeclarativeBase):
                    pass

                order_tags = Table(
                    "order_tags",
                    Base.metadata,
                    Column("order_id", ForeignKey("orders.id")),
                    Column("tag", Integer),
                )

                class Customer(Base):
                    __tablename__ = "customers"
                    id: Mapped[int] = mapped_column(primary_key=True)

                class Order(Base):
                    __tablename__ = "orders"
                    id = Column(Integer, primary_key=True)
                    customer_id: Mapped[int] = mapped_column(ForeignKey(Customer.id))
                    customer = relationship("Customer")

                class RushOrder(Order):
                    pass
            """,
        }
    )
    found = tables(graph)
    assert set(found) == {"customers", "orders", "order_tags"}
    assert found["orders"]["models"] == ["shop.models.Order", "shop.models.RushOrder"]
    assert found["orders"]["columns"] == ["customer_id", "id"]
    assert found["order_tags"]["columns"] == ["order_id", "tag"]
    assert pairs(graph, EdgeKind.FOREIGN_KEY) == {
        ("table:orders", "customers"),
        ("table:order_tags", "orders"),
    }
    assert "shop.models.Base" not in found["orders"]["models"]


def test_flask_sqlalchemy_names_tables_after_the_class(graph_of) -> None:
    graph = graph_of(
        {
            "app/__init__.py": "",
            "app/models.py": """
                from flask_sqlalchemy import SQLAlchemy

                db = SQLAlchemy()

                class Base(db.Model):
                    __abstract__ = True

                class OrderLine(Base):
                    id = db.Column(db.Integer, primary_key=True)
                    order_id = db.Column(db.ForeignKey("purchase_order.id"))

                class PurchaseOrder(db.Model):
                    id = db.Column(db.Integer, primary_key=True)
            """,
        }
    )
    assert set(tables(graph)) == {"order_line", "purchase_order"}
    assert pairs(graph, EdgeKind.FOREIGN_KEY) == {("table:order_line", "purchase_order")}


# -- raw SQL --------------------------------------------------------------------------------


def test_raw_sql_in_calls_constants_and_schema_files(graph_of) -> None:
    graph = graph_of(
        {
            "app/__init__.py": "",
            "app/queries.py": '''
                LATE = """
                    SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id
                """
                NOTE = "Select a product from the list"
            ''',
            "app/repo.py": """
                from sqlalchemy import text
                from app import queries

                def late(conn):
                    return conn.execute(queries.LATE).fetchall()

                def archive(conn, table):
                    conn.executemany("INSERT INTO archive (id) VALUES (?)", [(1,)])
                    conn.execute(text("DELETE FROM orders WHERE id = :id"), {"id": 1})
                    conn.execute(f"UPDATE {table} SET done = 1")

                def rename(cur):
                    sql = "UPDATE customers SET name = %(name)s"
                    cur.execute(sql, {"name": "x"})
            """,
            "app/schema.sql": """
                -- the schema; a comment with a ; in it
                CREATE TABLE customers (id INTEGER PRIMARY KEY);
                CREATE TABLE orders (id INTEGER PRIMARY KEY,
                                     customer_id INTEGER REFERENCES customers(id));
            """,
        }
    )
    reads, writes = pairs(graph, EdgeKind.READS), pairs(graph, EdgeKind.WRITES)
    assert ("app.repo.late", "orders") in reads and ("app.repo.late", "customers") in reads
    assert {("app.repo.archive", "archive"), ("app.repo.archive", "orders")} <= writes
    assert ("app.repo.rename", "customers") in writes
    assert graph.node("app.repo.late").attrs["sql_joins"] == [["customers", "orders"]]
    assert pairs(graph, EdgeKind.FOREIGN_KEY) == {("table:orders", "customers")}
    assert graph.node("table:orders").file == "app/schema.sql"
    assert graph.node("table:orders").line == 4
    assert "select a product" not in str(tables(graph)).lower()
    # a table named only by an f-string hole is not a table
    assert not any(name.startswith("?") for name in tables(graph))


# -- access through the ORMs ---------------------------------------------------------------

DJANGO_SHOP = {
    **DJANGO_APP,
    "shop/orders/models.py": """
        from django.db import models

        class Customer(models.Model):
            tags = models.ManyToManyField("Tag")

        class Tag(models.Model):
            pass

        class Order(models.Model):
            customer = models.ForeignKey(Customer, related_name="orders",
                                         on_delete=models.CASCADE)

            def close(self):
                self.save()
    """,
}


@pytest.mark.parametrize(
    ("body", "reads", "writes"),
    [
        ("Order.objects.filter(id=1).exists()", {"sales_order"}, set()),
        ("Order.objects.filter(id=1).update(x=1)", {"sales_order"}, {"sales_order"}),
        ("Order.objects.create()", set(), {"sales_order"}),
        ("o = Order.objects.get(pk=1)\n    o.save()", {"sales_order"}, {"sales_order"}),
        ("qs = Order.objects.all()\n    qs.delete()", {"sales_order"}, {"sales_order"}),
        ("o = Order()\n    o.delete()", set(), {"sales_order"}),
        ("o, new = Order.objects.get_or_create(pk=1)\n    o.save()", set(), {"sales_order"}),
        (
            "c = Customer.objects.get(pk=1)\n    c.orders.create()",
            {"sales_customer"},
            {"sales_order"},
        ),
        (
            "c = Customer.objects.get(pk=1)\n    c.tags.add(1)",
            {"sales_customer"},
            {"sales_customer_tags"},
        ),
        (
            "Customer.objects.first().tags.all()",
            {"sales_customer", "sales_customer_tags", "sales_tag"},
            set(),
        ),
        (
            "o = Order.objects.get(pk=1)\n    o.customer.save()",
            {"sales_order"},
            {"sales_customer"},
        ),
        (
            "Model = apps.get_model('sales', 'Order')\n    Model.objects.all().delete()",
            {"sales_order"},
            {"sales_order"},
        ),
        (  # the bare name is resolved first, as code: it must already know the model
            (
                "Model = apps.get_model('sales', 'Order')\n    print(Model)\n"
                "    Model.objects.all().delete()"
            ),
            {"sales_order"},
            {"sales_order"},
        ),
    ],
)
def test_django_reads_and_writes(graph_of, body, reads, writes) -> None:
    graph = graph_of(
        {
            **DJANGO_SHOP,
            "shop/orders/service.py": f"""
from django.apps import apps
from shop.orders.models import Customer, Order


def run(order: Order):
    {body}
""",
        }
    )
    scope = "shop.orders.service.run"
    assert {t for s, t in pairs(graph, EdgeKind.READS) if s == scope} == reads
    assert {t for s, t in pairs(graph, EdgeKind.WRITES) if s == scope} == writes


def test_code_naming_a_model_from_apps_get_model_depends_on_its_class(graph_of) -> None:
    graph = graph_of(
        {
            **DJANGO_SHOP,
            "shop/orders/service.py": """
from django.apps import apps


def run():
    Model = apps.get_model("sales", "Order")
    return Model
""",
        }
    )
    assert ("shop.orders.service.run", "shop.orders.models.Order") in pairs(
        graph, EdgeKind.REFERENCES
    )


def test_django_self_save_and_annotated_instances(graph_of) -> None:
    graph = graph_of(
        {
            **DJANGO_SHOP,
            "shop/orders/service.py": """
                from shop.orders.models import Order

                def touch(order: Order):
                    order.delete()
            """,
        }
    )
    writes = pairs(graph, EdgeKind.WRITES)
    assert ("shop.orders.models.Order.close", "sales_order") in writes
    assert ("shop.orders.service.touch", "sales_order") in writes


SQLALCHEMY_SHOP = {
    "shop/__init__.py": "",
    "shop/models.py": """
        from sqlalchemy import Column, ForeignKey, Integer, Table
        from sqlalchemy.orm import DeclarativeBase

        class Base(DeclarativeBase):
            pass

        audit = Table("audit", Base.metadata, Column("id", Integer))

        class Customer(Base):
            __tablename__ = "customers"
            id = Column(Integer, primary_key=True)

        class Order(Base):
            __tablename__ = "orders"
            id = Column(Integer, primary_key=True)
    """,
}


@pytest.mark.parametrize(
    ("body", "reads", "writes"),
    [
        ("session.execute(select(Order).join(Customer))", {"orders", "customers"}, set()),
        ("session.scalars(select(Order.id))", {"orders"}, set()),
        ("session.get(Order, 1)", {"orders"}, set()),
        ("session.query(Order, Customer.id).all()", {"orders", "customers"}, set()),
        ("session.execute(insert(Order).values(id=1))", set(), {"orders"}),
        ("session.execute(delete(Customer))", set(), {"customers"}),
        ("session.add(Order())", set(), {"orders"}),
        ("order.id = 2", set(), {"orders"}),
        ("session.delete(order)", set(), {"orders"}),
        ("session.execute(audit.insert())", set(), {"audit"}),
        ("session.execute(select(audit))", {"audit"}, set()),
        ("Order.__table__.delete()", set(), {"orders"}),
    ],
)
def test_sqlalchemy_reads_and_writes(graph_of, body, reads, writes) -> None:
    graph = graph_of(
        {
            **SQLALCHEMY_SHOP,
            "shop/service.py": f"""
from sqlalchemy import delete, insert, select
from shop.models import Customer, Order, audit


def run(session, order: Order):
    {body}
""",
        }
    )
    scope = "shop.service.run"
    assert {t for s, t in pairs(graph, EdgeKind.READS) if s == scope} == reads
    assert {t for s, t in pairs(graph, EdgeKind.WRITES) if s == scope} == writes


# -- transactions ---------------------------------------------------------------------------


def transactions(graph: DependencyGraph, scope: str) -> list[tuple[str, list[str]]]:
    return [(t["kind"], t["tables"]) for t in graph.node(scope).attrs.get("transactions", [])]


def test_django_atomic_covers_what_the_block_and_its_callees_write(graph_of) -> None:
    graph = graph_of(
        {
            **DJANGO_SHOP,
            "shop/orders/service.py": """
                from django.db import transaction
                from shop.orders.models import Customer, Order

                def make_customer():
                    return helper()

                def helper():
                    return Customer.objects.create()

                def place():
                    Order.objects.filter(pk=0).delete()  # outside the block
                    with transaction.atomic():
                        make_customer()
                        Order.objects.create()

                @transaction.atomic
                def cancel():
                    Order.objects.filter(pk=1).delete()

                def plain():
                    Order.objects.create()
            """,
        }
    )
    assert transactions(graph, "shop.orders.service.place") == [
        ("atomic", ["sales_customer", "sales_order"])
    ]
    assert transactions(graph, "shop.orders.service.cancel") == [("atomic", ["sales_order"])]
    assert transactions(graph, "shop.orders.service.plain") == []


def test_a_transactions_steps_give_the_first_line_that_writes_each_table(graph_of) -> None:
    source = """
        from django.db import transaction
        from shop.orders.models import Customer, Order

        def make_customer():
            return Customer.objects.create()

        def make_both():
            Order.objects.create()
            return make_customer()

        def place():
            with transaction.atomic():
                make_customer()  # first: sales_customer, through a call
                Customer.objects.create()
                Order.objects.create()  # first: sales_order, directly
                make_both()  # sales_order again, and sales_customer
    """
    graph = graph_of({**DJANGO_SHOP, "shop/orders/service.py": source})
    lines = textwrap.dedent(source).splitlines()

    def line_of(text: str) -> int:
        return next(n for n, line in enumerate(lines, 1) if text in line)

    [record] = graph.node("shop.orders.service.place").attrs["transactions"]
    assert record["tables"] == ["sales_customer", "sales_order"]
    assert record["steps"] == [
        [line_of("make_customer()  #"), "sales_customer"],
        [line_of("Order.objects.create()  #"), "sales_order"],
    ]


def test_sql_transactions_commits_connections_and_context_managers(graph_of) -> None:
    graph = graph_of(
        {
            "app/__init__.py": "",
            "app/db.py": """
                import sqlite3
                from contextlib import contextmanager

                @contextmanager
                def tx(conn):
                    conn.execute("BEGIN IMMEDIATE")
                    yield conn
                    conn.execute("COMMIT")

                def pay(conn):
                    with tx(conn):
                        conn.execute("UPDATE accounts SET balance = 0")
                        conn.execute("INSERT INTO ledger (id) VALUES (1)")

                def refund():
                    db = sqlite3.connect("x.db")
                    with db:
                        db.execute("DELETE FROM ledger")

                def close_day(session):
                    session.execute("UPDATE days SET closed = 1")
                    session.commit()

                def explicit(conn):
                    conn.executescript("BEGIN; DELETE FROM days; COMMIT;")

                def nested(session):
                    with session.begin():
                        close_day(session)
            """,
        }
    )
    assert transactions(graph, "app.db.pay") == [("context manager", ["accounts", "ledger"])]
    assert transactions(graph, "app.db.refund") == [("connection", ["ledger"])]
    assert transactions(graph, "app.db.close_day") == [("commit", ["days"])]
    assert transactions(graph, "app.db.explicit") == [("sql", ["days"])]
    assert transactions(graph, "app.db.nested") == [("begin", ["days"])]
