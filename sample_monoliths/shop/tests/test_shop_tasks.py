"""Background jobs, each run through the worker."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from shop.models import Customer, DailySales, Notification, Order, Payment, StockReservation
from shop.tasks.queue import registered_tasks
from shop.utils.dates import today, utcnow

ALICE, BOB = 1, 2


def _enqueue(app, name, *args, **kwargs):
    from shop.tasks import enqueue

    with app.app_context():
        return enqueue(name, *args, **kwargs)


def test_every_task_is_registered(app, worker):
    worker()  # imports TASK_MODULES

    assert registered_tasks() == sorted([
        "check_order_consistency", "deliver_notification", "expire_unpaid_orders", "low_stock_alert",
        "notify_back_in_stock", "release_stale_reservations", "retry_failed_notifications",
        "review_credit_limits", "send_invoice", "send_payment_reminders", "snapshot_daily_sales",
        "sync_tracking",
    ])


def test_order_confirmation_and_invoice_are_mailed(place, worker, mailer, db):
    order = place().get_json()

    stats = worker()

    assert stats.by_task == {"deliver_notification": 1, "send_invoice": 1}
    subjects = [m.subject for m in mailer.sent_to("alice@example.com")]
    assert subjects == [f"Your order {order['number']}", f"Invoice {order['number']}"]
    with db() as session:
        statuses = session.scalars(select(Notification.status).where(Notification.order_id.is_not(None))).all()
        assert statuses == ["sent", "sent"]


def test_bounced_notification_is_retried_later(place, worker, mailer, app, db):
    mailer.bounce.add("alice@example.com")
    place()

    worker()
    with db() as session:
        failed = session.scalar(select(Notification).where(Notification.template == "order_confirmation"))
        assert (failed.status, failed.attempts) == ("failed", 1)

    mailer.bounce.clear()
    _enqueue(app, "retry_failed_notifications")
    stats = worker()

    assert stats.results("retry_failed_notifications") == [1]
    with db() as session:
        sent = session.scalar(select(Notification).where(Notification.template == "order_confirmation"))
        assert (sent.status, sent.attempts) == ("sent", 2)


def test_invoice_for_a_vanished_order_is_skipped(app, worker, mailer):
    _enqueue(app, "send_invoice", 12345)
    _enqueue(app, "deliver_notification", 12345)

    stats = worker()

    assert stats.results("send_invoice") == [False]
    assert stats.results("deliver_notification") == [False]
    assert mailer.outbox == []


def test_low_stock_alert_after_an_order_empties_the_shelf(place, worker, mailer):
    place(items=[{"sku": "LMP-700", "quantity": 8}])

    stats = worker()

    assert stats.results("low_stock_alert") == [1]
    [alert] = mailer.sent_to("ops@shop.example")
    assert "LMP-700" in alert.body and "BER: 4 left" in alert.body


def test_payment_reminders_for_overdue_invoices(app, place, worker, mailer, db):
    order = place(customer_id=BOB, payment_method="invoice", card_token=None).get_json()
    worker()

    _enqueue(app, "send_payment_reminders", on=(today() + timedelta(days=30)).isoformat())
    _enqueue(app, "send_payment_reminders")  # nothing is overdue today
    stats = worker()

    assert stats.results("send_payment_reminders") == [1, 0]
    reminder = [m for m in mailer.sent_to("bob@bobs-bistro.example") if "reminder" in m.subject]
    assert order["number"] in reminder[0].subject
    with db() as session:
        assert session.scalar(select(Payment.reminders_sent)) == 1


def test_unpaid_invoice_orders_expire(app, place, worker, db):
    order = place(customer_id=BOB, payment_method="invoice", card_token=None).get_json()
    fresh = place(customer_id=BOB, payment_method="invoice", card_token=None).get_json()
    with db() as session:
        session.execute(update(Order).where(Order.number == order["number"])
                        .values(placed_at=utcnow() - timedelta(days=10)))
        session.commit()

    _enqueue(app, "expire_unpaid_orders")
    stats = worker()

    assert stats.results("expire_unpaid_orders") == [[order["number"]]]
    with db() as session:
        statuses = dict(session.execute(select(Order.number, Order.status)).all())
        assert statuses == {order["number"]: "cancelled", fresh["number"]: "awaiting_payment"}
        assert session.scalar(select(Payment.status).join(Order).where(Order.number == order["number"])) == "voided"
        assert session.get(Customer, BOB).credit_reserved_cents == fresh["total_cents"]


def test_stale_reservations_are_released(app, place, worker, db):
    order = place().get_json()
    with db() as session:
        # what the 2022 payment outage left behind: cancelled orders still holding stock
        session.execute(update(Order).where(Order.number == order["number"]).values(status="cancelled"))
        session.execute(update(StockReservation).values(created_at=utcnow() - timedelta(days=3)))
        session.commit()

    _enqueue(app, "release_stale_reservations", older_than_days=1)
    stats = worker()

    assert stats.results("release_stale_reservations") == [1]
    availability = app.test_client().get("/products/KET-100/availability").get_json()
    assert availability["available"] == 50


def test_tracking_sync_marks_delivered(app, shipped_order, carrier, worker, client):
    tracking = shipped_order["shipment"]["tracking_number"]
    carrier.push_event(tracking, "picked_up", "Berlin")
    carrier.push_event(tracking, "delivered", "Berlin-Mitte")

    _enqueue(app, "sync_tracking")
    stats = worker()

    assert stats.results("sync_tracking") == [2]
    shipment = client.get(f"/orders/{shipped_order['number']}/shipment").get_json()
    assert shipment["status"] == "delivered"
    assert [e["status"] for e in shipment["events"]][-2:] == ["picked_up", "delivered"]
    _enqueue(app, "sync_tracking", shipped_order["shipment"]["id"])
    assert worker().results("sync_tracking") == [0]


def test_failing_job_is_retried_then_dead_lettered(app, worker, client, admin):
    _enqueue(app, "sync_tracking", shipment_id=999)

    stats = worker()

    assert (stats.processed, stats.retried, stats.dead) == (4, 3, 1)
    dead = client.get("/admin/tasks", headers=admin).get_json()["dead"]
    assert dead[0]["task"] == "sync_tracking"
    assert "NotFound" in dead[0]["error"]


def test_daily_sales_snapshot(app, client, admin, place, worker, db):
    first = place().get_json()
    second = place(items=[{"sku": "SHR-500", "quantity": 2}]).get_json()

    _enqueue(app, "snapshot_daily_sales", today().isoformat())
    _enqueue(app, "snapshot_daily_sales")  # re-running rewrites the same row
    stats = worker()

    assert stats.results("snapshot_daily_sales")[-1] == {
        "orders": 2, "net_cents": first["total_cents"] + second["total_cents"]}
    with db() as session:
        [row] = session.scalars(select(DailySales)).all()
        assert (row.day, row.items_sold) == (today(), 4)
    report = client.get("/admin/reports/sales", headers=admin).get_json()
    assert report["snapshots"] == [{"day": today().isoformat(), "orders": 2, "net_cents": row.net_cents}]


def test_credit_review_raises_limits_of_good_customers(app, client, admin, place, worker, db):
    for _ in range(3):
        order = place(items=[{"sku": "SHR-500", "quantity": 1}]).get_json()
        client.post(f"/admin/shipments/{order['shipment']['id']}/ship", headers=admin)
        client.post(f"/admin/shipments/{order['shipment']['id']}/deliver", headers=admin)

    _enqueue(app, "review_credit_limits")
    stats = worker()

    assert stats.results("review_credit_limits") == [[ALICE]]
    with db() as session:
        assert session.get(Customer, ALICE).credit_limit_cents == 75_000
        assert session.get(Customer, ALICE).credit_reserved_cents == 0


def test_order_consistency_check(app, place, worker, db):
    good = place().get_json()
    bad = place().get_json()
    with db() as session:
        session.execute(update(Order).where(Order.number == bad["number"]).values(total_cents=1))
        session.commit()

    _enqueue(app, "check_order_consistency")
    _enqueue(app, "check_order_consistency", [good["number"]])
    stats = worker()

    assert stats.results("check_order_consistency") == [[f"{bad['number']}: total does not add up"], []]
