"""Customer and ops notifications (e-mail only so far; SMS was specced but never shipped).

Notifications are written as ``queued`` rows in the caller's transaction and delivered by
the ``deliver_notification`` background task, so a slow mail server never slows down
checkout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.integrations.mailer import EmailMessage, MailDeliveryError, load_mailer
from shop.models import BackInStockRequest, Customer, Notification, NotificationPreference, Order, Product
from shop.tasks import enqueue
from shop.utils.dates import utcnow
from shop.utils.logs import get_logger, log_event
from shop.utils.money import format_money

log = get_logger("notifications")

MAX_ATTEMPTS = 3

TOPICS = ("orders", "shipping", "marketing", "stock")

# template -> (topic, subject, body). Bodies are str.format templates; missing keys are a
# bug, which is why render() fails loudly.
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "welcome": (
        "orders",
        "Welcome to the shop, {name}",
        "Hello {name},\n\nthank you for registering.{coupon_line}\n",
    ),
    "order_confirmation": (
        "orders",
        "Your order {number}",
        "Hello {name},\n\nwe have received your order {number} of {items} item(s) "
        "for {total}.\nWe will let you know when it ships.\n",
    ),
    "order_cancelled": (
        "orders",
        "Order {number} cancelled",
        "Hello {name},\n\nyour order {number} has been cancelled ({reason}). "
        "Any payment will be refunded within 5 business days.\n",
    ),
    "order_shipped": (
        "shipping",
        "Order {number} is on its way",
        "Hello {name},\n\nyour order {number} has shipped with {carrier}, tracking number "
        "{tracking_number}. Expected delivery: {eta}.\n",
    ),
    "order_delivered": (
        "shipping",
        "Order {number} delivered",
        "Hello {name},\n\nyour order {number} was delivered. Enjoy!\n",
    ),
    "refund_issued": (
        "orders",
        "Refund for order {number}",
        "Hello {name},\n\nwe have refunded {amount} for order {number}{destination}.\n",
    ),
    "store_credit": (
        "orders",
        "You received store credit",
        "Hello {name},\n\nwe added {amount} of store credit to your account: {reason}.\n",
    ),
    "invoice": (
        "orders",
        "Invoice for order {number}",
        "{invoice}",
    ),
    "payment_reminder": (
        "orders",
        "Payment reminder for order {number}",
        "Hello {name},\n\nour invoice for order {number} over {amount} was due on {due_date}. "
        "Please pay at your earliest convenience.\n",
    ),
    "back_in_stock": (
        "stock",
        "{product} is back in stock",
        "Hello {name},\n\n{product} is available again.\n",
    ),
    "low_stock": (
        "ops",
        "Low stock: {count} item(s)",
        "These items are at or below their reorder level:\n{lines}\n",
    ),
    "payment_disputed": (
        "ops",
        "Payment disputed on order {number}",
        "Payment {reference} of order {number} was disputed: {reason}\n",
    ),
}

# Topics a customer receives unless they opt out.
DEFAULT_ON = {"orders", "shipping", "stock"}


def render(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    topic, subject, body = TEMPLATES[template]
    return subject.format(**context), body.format(**context)


def create_default_preferences(session: Session, customer: Customer) -> None:
    for topic in TOPICS:
        enabled = customer.marketing_opt_in if topic == "marketing" else topic in DEFAULT_ON
        session.add(NotificationPreference(customer_id=customer.id, topic=topic, enabled=enabled))


def get_preferences(session: Session, customer_id: int) -> dict[str, bool]:
    rows = session.scalars(
        select(NotificationPreference).where(NotificationPreference.customer_id == customer_id,
                                             NotificationPreference.channel == "email")
    ).all()
    prefs = {topic: topic in DEFAULT_ON for topic in TOPICS}
    prefs.update({row.topic: row.enabled for row in rows})
    return prefs


def set_preferences(session: Session, customer: Customer, changes: Mapping[str, bool]) -> dict[str, bool]:
    for topic, enabled in changes.items():
        if topic not in TOPICS:
            continue
        row = session.scalar(
            select(NotificationPreference).where(
                NotificationPreference.customer_id == customer.id,
                NotificationPreference.topic == topic,
                NotificationPreference.channel == "email",
            )
        )
        if row is None:
            row = NotificationPreference(customer_id=customer.id, topic=topic, channel="email")
            session.add(row)
        row.enabled = bool(enabled)
        if topic == "marketing":
            customer.marketing_opt_in = bool(enabled)
    session.flush()
    return get_preferences(session, customer.id)


def wants(session: Session, customer: Customer, topic: str) -> bool:
    if topic in ("orders", "ops"):
        return True  # transactional mail cannot be switched off (legal says so)
    return get_preferences(session, customer.id).get(topic, False)


def notify_customer(session: Session, customer: Customer, template: str, *, order: Order | None = None,
                    **context: Any) -> Notification | None:
    """Queue a message to ``customer``; None if they opted out of the template's topic."""
    topic = TEMPLATES[template][0]
    if not wants(session, customer, topic):
        log_event(log, "notification.opted_out", customer=customer.id, template=template)
        return None
    context.setdefault("name", customer.name)
    if order is not None:
        context.setdefault("number", order.number)
        context.setdefault("total", format_money(order.total_cents, order.currency))
        context.setdefault("items", order.item_count)
    if template == "welcome":
        code = context.get("coupon_code")
        context["coupon_line"] = f" Your welcome coupon: {code}." if code else ""
    for key in ("amount_cents",):
        if key in context:
            context["amount"] = format_money(context[key])
    subject, body = render(template, context)
    notification = Notification(customer_id=customer.id, order_id=order.id if order else None,
                                template=template, recipient=customer.email, subject=subject, body=body)
    session.add(notification)
    session.flush()
    enqueue("deliver_notification", notification.id)
    return notification


def notify_ops(session: Session, template: str, **context: Any) -> Notification:
    subject, body = render(template, context)
    notification = Notification(template=template, recipient=current_app.config["OPS_EMAIL"],
                                subject=subject, body=body)
    session.add(notification)
    session.flush()
    enqueue("deliver_notification", notification.id)
    return notification


def deliver(session: Session, notification: Notification) -> bool:
    """Send one queued notification through the configured mailer."""
    if notification.status == "sent":
        return True
    notification.attempts += 1
    message = EmailMessage(to=notification.recipient, subject=notification.subject,
                           body=notification.body, sender=current_app.config["MAIL_FROM"],
                           headers={"X-Shop-Template": notification.template})
    try:
        load_mailer().send(message)
    except MailDeliveryError as exc:
        notification.status = "failed"
        log_event(log, "notification.failed", id=notification.id, error=str(exc))
        return False
    notification.status = "sent"
    notification.sent_at = utcnow()
    return True


def retry_failed(session: Session) -> int:
    """Re-queue failed notifications that have attempts left; returns how many."""
    failed = session.scalars(
        select(Notification).where(Notification.status == "failed", Notification.attempts < MAX_ATTEMPTS)
    ).all()
    for notification in failed:
        notification.status = "queued"
        enqueue("deliver_notification", notification.id)
    return len(failed)


def list_for_customer(session: Session, customer_id: int, limit: int = 50) -> list[Notification]:
    return list(session.scalars(
        select(Notification).where(Notification.customer_id == customer_id)
        .order_by(Notification.id.desc()).limit(limit)
    ))


def subscribe_back_in_stock(session: Session, customer: Customer, product: Product) -> BackInStockRequest:
    existing = session.scalar(
        select(BackInStockRequest).where(BackInStockRequest.customer_id == customer.id,
                                         BackInStockRequest.product_id == product.id)
    )
    if existing is not None:
        existing.notified_at = None  # subscribe again
        return existing
    request = BackInStockRequest(customer_id=customer.id, product_id=product.id)
    session.add(request)
    return request


def notify_back_in_stock(session: Session, product: Product) -> int:
    requests = session.scalars(
        select(BackInStockRequest).where(BackInStockRequest.product_id == product.id,
                                         BackInStockRequest.notified_at.is_(None))
    ).all()
    sent = 0
    for request in requests:
        customer = session.get(Customer, request.customer_id)
        if customer is None or customer.status != "active":
            continue
        if notify_customer(session, customer, "back_in_stock", product=product.name) is not None:
            sent += 1
        request.notified_at = utcnow()
    return sent
