"""The background jobs.

Listed in ``TASK_MODULES`` so the worker imports this module. Every job gets its own
session (``get_session()``) which the worker commits when the job returns; jobs look their
rows up again by id because the row may be gone (see the note in ``shop.tasks.queue``).
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from shop.db import get_session
from shop.integrations.mailer import EmailMessage, load_mailer
from shop.models import Notification, Order, Product
from shop.reporting import sales
from shop.services import accounts, billing, core, fulfilment, messaging, stock
from shop.tasks.queue import task
from shop.utils.dates import parse_date, today, utcnow
from shop.utils.logs import get_logger, log_event

log = get_logger("tasks.jobs")


@task("deliver_notification")
def deliver_notification(notification_id: int) -> bool:
    session = get_session()
    notification = session.get(Notification, notification_id)
    if notification is None:
        log_event(log, "notification.missing", id=notification_id)
        return False
    return messaging.deliver(session, notification)


@task("retry_failed_notifications")
def retry_failed_notifications() -> int:
    return messaging.retry_failed(get_session())


@task("send_invoice", max_retries=5)
def send_invoice(order_id: int) -> bool:
    """E-mail the invoice. Sent straight through the mailer: invoices ignore preferences."""
    session = get_session()
    order = session.get(Order, order_id)
    if order is None:
        log_event(log, "invoice.order_missing", order_id=order_id)
        return False
    body = billing.build_invoice(order)
    load_mailer().send(EmailMessage(to=order.customer.email, subject=f"Invoice {order.number}", body=body,
                                    sender=current_app.config["MAIL_FROM"],
                                    headers={"X-Shop-Template": "invoice"}))
    session.add(Notification(customer_id=order.customer_id, order_id=order.id, template="invoice",
                             recipient=order.customer.email, subject=f"Invoice {order.number}", body=body,
                             status="sent", attempts=1, sent_at=utcnow()))
    return True


@task("send_payment_reminders")
def send_payment_reminders(on: str | None = None) -> int:
    return billing.send_payment_reminders(get_session(), parse_date(on))


@task("low_stock_alert")
def low_stock_alert(product_ids: list[int] | None = None) -> int:
    """Tell ops which items need reordering."""
    session = get_session()
    low = stock.low_stock(session, product_ids)
    if not low:
        return 0
    lines = "\n".join(f"  {item.sku} ({item.name}) at {item.warehouse}: {item.available} left, "
                      f"reorder level {item.reorder_level}" for item in low)
    messaging.notify_ops(session, "low_stock", count=len(low), lines=lines)
    return len(low)


@task("notify_back_in_stock")
def notify_back_in_stock(product_id: int) -> int:
    session = get_session()
    product = session.get(Product, product_id)
    if product is None or stock.available_quantity(session, product_id) <= 0:
        return 0
    return messaging.notify_back_in_stock(session, product)


@task("release_stale_reservations")
def release_stale_reservations(older_than_days: int = 1) -> int:
    return stock.release_stale_reservations(get_session(), older_than_days)


@task("expire_unpaid_orders")
def expire_unpaid_orders(older_than_days: int | None = None) -> list[str]:
    return core.expire_unpaid_orders(get_session(), older_than_days)


@task("sync_tracking")
def sync_tracking(shipment_id: int | None = None) -> int:
    """Poll the carrier for new scans of one shipment, or of all shipments in transit."""
    session = get_session()
    if shipment_id is not None:
        shipments = [fulfilment.get_shipment(session, shipment_id)]
    else:
        shipments = fulfilment.shipments_in_transit(session)
    return sum(fulfilment.sync_tracking(session, shipment) for shipment in shipments)


@task("snapshot_daily_sales")
def snapshot_daily_sales(day: str | None = None) -> dict[str, int]:
    session = get_session()
    target: date = parse_date(day) or today()
    snapshot = sales.snapshot_day(session, target)
    return {"orders": snapshot.orders_count, "net_cents": snapshot.net_cents}


@task("review_credit_limits")
def review_credit_limits() -> list[int]:
    raised = accounts.review_credit_limits(get_session())
    return [customer.id for customer in raised]


@task("check_order_consistency")
def check_order_consistency(numbers: list[str] | None = None) -> list[str]:
    session = get_session()
    stmt = select(Order).order_by(Order.id)
    if numbers:
        stmt = stmt.where(Order.number.in_(numbers))
    problems = core.check_order_consistency(session, session.scalars(stmt).all())
    for problem in problems:
        log_event(log, "order.inconsistent", problem=problem)
    return problems
