"""Maintenance commands, run through Flask's CLI test runner."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from sqlalchemy import inspect, select, update

from shop.db import get_engine
from shop.models import (
    Base,
    Coupon,
    Customer,
    DailySales,
    Order,
    Payment,
    Product,
    StockItem,
    StockReservation,
)
from shop.utils.dates import today, utcnow

ALICE, BOB = 1, 2

SUPPLIER_CSV = """sku,name,price,category,weight_grams,stock
TEA-900,Teapot,"24,90",tea,800,15
KET-100,"Kettle, brushed steel",41.99,kitchen,1200,
bad sku!,Broken,1.00,,,
CUP-901,Tea cup,not-a-price,tea,100,4
"""


def test_init_db_creates_the_schema_on_an_empty_database(app, tmp_path):
    from shop.app import create_app

    empty = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}, env="testing")
    try:
        result = empty.test_cli_runner().invoke(args=["init-db"])

        assert result.exit_code == 0, result.output
        assert "database initialised" in result.output
        assert set(inspect(get_engine(empty)).get_table_names()) == set(Base.metadata.tables)
    finally:
        get_engine(empty).dispose()


def test_init_db_drop_wipes_a_development_database(app, db):
    result = app.test_cli_runner().invoke(args=["init-db", "--drop"])

    assert result.exit_code == 0, result.output
    with db() as session:
        assert session.scalars(select(Product)).all() == []


def test_seed_demo_is_idempotent(app, tmp_path):
    from shop.app import create_app

    fresh = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}, env="testing")
    try:
        runner = fresh.test_cli_runner()
        runner.invoke(args=["init-db"])
        first = runner.invoke(args=["seed-demo"])
        second = runner.invoke(args=["seed-demo"])

        assert first.output == "seeded 8 products, 155 units, 3 customers, 3 coupons\n"
        assert "nothing seeded" in second.output
    finally:
        get_engine(fresh).dispose()


def test_import_products_creates_updates_and_reports_bad_rows(app, db, tmp_path):
    path = tmp_path / "supplier.csv"
    path.write_text(SUPPLIER_CSV, encoding="utf-8")

    dry = app.test_cli_runner().invoke(args=["import-products", str(path), "--dry-run"])
    result = app.test_cli_runner().invoke(args=["import-products", str(path), "--warehouse", "AMS"])

    assert "2 valid rows, 2 errors (dry run)" in dry.output
    assert result.exit_code == 0, result.output
    assert "created 1, updated 1, unchanged 0, errors 2" in result.output
    assert "line 4" in result.output and "line 5" in result.output
    with db() as session:
        teapot = session.scalar(select(Product).where(Product.sku == "TEA-900"))
        assert teapot.price_cents == 2_490
        assert [c.slug for c in teapot.categories] == ["tea"]
        stock = session.scalar(select(StockItem).where(StockItem.product_id == teapot.id))
        assert (stock.warehouse.code, stock.on_hand) == ("AMS", 15)
        kettle = session.scalar(select(Product).where(Product.sku == "KET-100"))
        assert kettle.price_cents == 4_199
        assert kettle.price_changes[-1].changed_by == "import-products"


def test_import_products_rejects_a_file_without_the_columns(app, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("code,title\nA,B\n", encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["import-products", str(path)])

    assert result.exit_code == 1
    assert "missing columns sku, name, price" in result.output


def test_run_worker_processes_the_queue(app, place, mailer):
    place()

    result = app.test_cli_runner().invoke(args=["run-worker", "--max-jobs", "1"])
    rest = app.test_cli_runner().invoke(args=["run-worker"])

    assert result.output == "processed 1: 1 ok, 0 retried, 0 dead\n"
    assert rest.output == "processed 1: 1 ok, 0 retried, 0 dead\n"
    assert len(mailer.outbox) == 2


def test_expire_orders_command(app, place, db):
    order = place(customer_id=BOB, payment_method="invoice", card_token=None).get_json()
    with db() as session:
        session.execute(update(Order).values(placed_at=utcnow() - timedelta(days=30)))
        session.commit()

    result = app.test_cli_runner().invoke(args=["expire-orders", "--days", "14"])

    assert result.output == f"cancelled 1 unpaid orders: {order['number']}\n"
    with db() as session:
        assert session.scalar(select(Order.status)) == "cancelled"


def test_check_orders_command(app, place, db):
    order = place().get_json()
    runner = app.test_cli_runner()

    clean = runner.invoke(args=["check-orders"])
    with db() as session:
        session.execute(update(StockReservation).values(quantity=1))
        session.commit()
    broken = runner.invoke(args=["check-orders"])

    assert (clean.exit_code, clean.output) == (0, "0 problems\n")
    assert broken.exit_code == 1
    assert f"{order['number']}: 1 units reserved for 2 ordered" in broken.output


def test_release_stale_reservations_command(app, place, db):
    place()
    with db() as session:
        session.execute(update(Order).values(status="refunded"))
        session.execute(update(StockReservation).values(created_at=utcnow() - timedelta(days=5)))
        session.commit()

    result = app.test_cli_runner().invoke(args=["release-stale-reservations", "--days", "2"])

    assert result.output == "released 1 reservations\n"
    with db() as session:
        assert session.scalar(select(StockReservation.status)) == "released"


def test_sync_tracking_command(app, shipped_order, carrier):
    carrier.push_event(shipped_order["shipment"]["tracking_number"], "in_transit", "Leipzig")

    result = app.test_cli_runner().invoke(args=["sync-tracking"])

    assert result.output == "1 new tracking events\n"
    shipment = app.test_client().get(f"/orders/{shipped_order['number']}/shipment").get_json()
    assert shipment["status"] == "in_transit"


def test_send_reminders_command(app, place, db, queue):
    place(customer_id=BOB, payment_method="invoice", card_token=None)
    with db() as session:
        session.execute(update(Payment).values(due_date=today() - timedelta(days=1)))
        session.commit()

    result = app.test_cli_runner().invoke(args=["send-reminders"])

    assert result.output == "1 reminders queued\n"
    assert any(job.name == "deliver_notification" for job in queue.pending())


def test_grant_credit_command(app, db):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["grant-credit", "alice@example.com", "12,50", "--reason", "late parcel"])
    unknown = runner.invoke(args=["grant-credit", "nobody@example.com", "1", "--reason", "x"])
    bad_amount = runner.invoke(args=["grant-credit", "alice@example.com", "lots", "--reason", "x"])
    zero = runner.invoke(args=["grant-credit", "alice@example.com", "0", "--reason", "x"])

    assert result.output == "alice@example.com now has €12.50 store credit\n"
    assert unknown.exit_code == 1 and "no customer nobody@example.com" in unknown.output
    assert bad_amount.exit_code == 2
    assert zero.exit_code == 1 and "must be positive" in zero.output
    with db() as session:
        assert session.get(Customer, ALICE).store_credit_cents == 1_250


def test_create_coupon_command(app, db):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["create-coupon", "--code", "blackfriday", "--kind", "percent", "--value", "30",
                                 "--max-redemptions", "500", "--expires", "2099-11-30T23:59:59Z"])
    generated = runner.invoke(args=["create-coupon", "--kind", "free_shipping"])
    duplicate = runner.invoke(args=["create-coupon", "--code", "BLACKFRIDAY", "--kind", "fixed", "--value", "5"])

    assert result.output == "BLACKFRIDAY\n"
    assert generated.output.startswith("PROMO-")
    assert duplicate.exit_code == 1
    with db() as session:
        coupon = session.scalar(select(Coupon).where(Coupon.code == "BLACKFRIDAY"))
        assert (coupon.value, coupon.max_redemptions) == (30, 500)


def test_sales_report_command_prints_and_snapshots(app, place, db):
    order = place().get_json()
    runner = app.test_cli_runner()

    table = runner.invoke(args=["sales-report", "--snapshot"])
    as_json = runner.invoke(args=["sales-report", "--json", "--start", today().isoformat()])
    bad = runner.invoke(args=["sales-report", "--start", "yesterday"])

    assert "total" in table.output and "€103.39" in table.output
    assert json.loads(as_json.output)["totals"]["net_cents"] == order["total_cents"]
    assert bad.exit_code == 2
    with db() as session:
        assert len(session.scalars(select(DailySales)).all()) == 8  # 7 days back plus today


def test_export_orders_command(app, place, tmp_path):
    order = place(items=[{"sku": "KET-100", "quantity": 1}, {"sku": "PAN-200", "quantity": 1}],
                  coupon_code="SPRING10").get_json()
    out = tmp_path / "orders.csv"

    result = app.test_cli_runner().invoke(args=["export-orders", "--output", str(out)])

    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["number"], r["sku"]) for r in rows] == [(order["number"], "KET-100"), (order["number"], "PAN-200")]
    assert rows[0]["coupon"] == "SPRING10"
    assert rows[0]["payments"] == "card:captured"
    assert rows[0]["total"] == f"{order['total_cents'] / 100:.2f}"
    assert rows[0]["warehouse"] == "BER"


def test_export_stock_command(app):
    result = app.test_cli_runner().invoke(args=["export-stock"])

    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["warehouse", "sku", "name", "on_hand", "reserved", "available", "value"]
    assert ["BER", "DSK-600", "Standing desk", "6", "0", "6", "2694.00"] in rows
