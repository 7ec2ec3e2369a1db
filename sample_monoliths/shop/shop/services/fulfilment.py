"""Shipping: quotes, shipments, labels and tracking.

A shipment is created (``pending``) when the order is placed so the warehouse sees it in
the pick list; it is ``shipped`` when the parcel is handed to the carrier and
``delivered`` when the carrier says so (webhook or the tracking sync task).
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.errors import InvalidStateTransition, NotFound, ValidationError
from shop.integrations.carriers import Quote, load_carrier
from shop.models import Order, OrderStatus, Shipment, TrackingEvent
from shop.services import core, messaging, stock
from shop.utils.dates import parse_datetime, utcnow
from shop.utils.logs import get_logger, log_event

log = get_logger("shipping")

SHIPPABLE_ORDER_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.AWAITING_PAYMENT)
CARRIER_STATUS_MAP = {
    "label_created": "shipped",
    "picked_up": "in_transit",
    "in_transit": "in_transit",
    "out_for_delivery": "in_transit",
    "delivered": "delivered",
    "returned_to_sender": "returned",
}


def quote_shipping(weight_grams: int, country: str, service_level: str = "standard",
                   subtotal_cents: int = 0) -> Quote:
    """What shipping costs the customer. Standard shipping is free above the threshold."""
    try:
        quote = load_carrier().quote(max(weight_grams, 1), country, service_level)
    except ValueError as exc:
        raise ValidationError(str(exc), details={"shipping": str(exc)}) from None
    if service_level == "standard" and subtotal_cents >= current_app.config["FREE_SHIPPING_THRESHOLD_CENTS"]:
        quote.cost_cents = 0
    return quote


def order_weight(order: Order) -> int:
    return sum(line.product.weight_grams * line.quantity for line in order.lines)


def create_shipment(session: Session, order: Order, *, service_level: str = "standard") -> Shipment:
    """Create the pending shipment of a just-placed order."""
    weight = order_weight(order)
    quote = quote_shipping(weight, order.ship_country, service_level)
    shipment = Shipment(
        order=order,
        warehouse=stock.warehouse_for_order(session, order),
        carrier=quote.carrier,
        service_level=service_level,
        cost_cents=quote.cost_cents,  # what we pay the carrier, not what the customer paid
        weight_grams=weight,
        ship_to=order.ship_to,
        country=order.ship_country,
        estimated_delivery=quote.estimated_delivery(),
    )
    session.add(shipment)
    return shipment


def get_shipment(session: Session, shipment_id: int) -> Shipment:
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} does not exist")
    return shipment


def find_by_tracking_number(session: Session, tracking_number: str) -> Shipment:
    shipment = session.scalar(select(Shipment).where(Shipment.tracking_number == tracking_number))
    if shipment is None:
        raise NotFound(f"no shipment with tracking number {tracking_number}")
    return shipment


def ship(session: Session, shipment_id: int, actor: str = "warehouse") -> Shipment:
    """The parcel was handed to the carrier: buy the label, take the units off the shelf."""
    shipment = get_shipment(session, shipment_id)
    order = shipment.order
    if shipment.status != "pending":
        raise InvalidStateTransition(f"shipment {shipment_id} is already {shipment.status}")
    if order.status not in SHIPPABLE_ORDER_STATUSES:
        raise InvalidStateTransition(f"order {order.number} is {order.status} and cannot ship")
    label = load_carrier().create_label(shipment.weight_grams or 1, shipment.country, shipment.service_level)
    shipment.tracking_number = label.tracking_number
    shipment.status = "shipped"
    shipment.shipped_at = utcnow()
    stock.consume_for_order(session, order)
    core.transition(order, OrderStatus.SHIPPED, actor=actor, note=f"tracking {label.tracking_number}")
    session.add(TrackingEvent(shipment=shipment, status="label_created", location=shipment.warehouse.code
                              if shipment.warehouse else None))
    messaging.notify_customer(session, order.customer, "order_shipped", order=order, carrier=shipment.carrier,
                              tracking_number=label.tracking_number,
                              eta=shipment.estimated_delivery.isoformat() if shipment.estimated_delivery else "soon")
    log_event(log, "shipment.shipped", order=order.number, tracking=label.tracking_number)
    return shipment


def mark_delivered(session: Session, shipment: Shipment, at: datetime | None = None) -> Shipment:
    if shipment.status == "delivered":
        return shipment
    if shipment.status not in ("shipped", "in_transit"):
        raise InvalidStateTransition(f"shipment {shipment.id} is {shipment.status}")
    shipment.status = "delivered"
    shipment.delivered_at = at or utcnow()
    order = shipment.order
    core.transition(order, OrderStatus.DELIVERED, actor="carrier")
    # Delivered and paid orders no longer count against the customer's credit limit.
    core.settle_credit(session, order)
    messaging.notify_customer(session, order.customer, "order_delivered", order=order)
    return shipment


def cancel_shipment(session: Session, order: Order) -> Shipment | None:
    shipment = order.shipment
    if shipment is None:
        return None
    if shipment.status != "pending":
        raise InvalidStateTransition(f"shipment of order {order.number} is already {shipment.status}")
    shipment.status = "cancelled"
    return shipment


def record_tracking_event(session: Session, tracking_number: str, carrier_status: str, *,
                          location: str | None = None, occurred_at: str | None = None,
                          raw: dict | None = None) -> TrackingEvent:
    """Store one carrier scan and move the shipment along."""
    shipment = find_by_tracking_number(session, tracking_number)
    try:
        when = parse_datetime(occurred_at) or utcnow()
    except ValueError:
        raise ValidationError(f"bad timestamp {occurred_at!r}") from None
    event = TrackingEvent(shipment=shipment, status=carrier_status, location=location, occurred_at=when,
                          raw=json.dumps(raw, sort_keys=True) if raw else None)
    session.add(event)
    new_status = CARRIER_STATUS_MAP.get(carrier_status)
    if new_status == "delivered":
        mark_delivered(session, shipment, when)
    elif new_status == "in_transit" and shipment.status == "shipped":
        shipment.status = "in_transit"
    elif new_status == "returned":
        shipment.status = "returned"
        log_event(log, "shipment.returned", order=shipment.order.number)
    return event


def sync_tracking(session: Session, shipment: Shipment) -> int:
    """Pull the carrier's scans for ``shipment``; returns how many were new."""
    if not shipment.tracking_number or shipment.status in ("delivered", "cancelled", "returned"):
        return 0
    known = {(e.status, e.location) for e in shipment.tracking_events}
    new = 0
    for scan in load_carrier().track(shipment.tracking_number):
        key = (scan["status"], scan.get("location") or None)
        if key in known:
            continue
        record_tracking_event(session, shipment.tracking_number, scan["status"],
                              location=scan.get("location") or None, occurred_at=scan.get("at"), raw=scan)
        known.add(key)
        new += 1
    return new


def shipments_in_transit(session: Session) -> list[Shipment]:
    return list(session.scalars(
        select(Shipment).where(Shipment.status.in_(["shipped", "in_transit"])).order_by(Shipment.id)
    ))


def list_shipments(session: Session, status: str | None = None, limit: int = 100) -> list[Shipment]:
    """The warehouse pick list (``status=pending``) and friends."""
    stmt = select(Shipment).order_by(Shipment.id).limit(limit)
    if status:
        stmt = stmt.where(Shipment.status == status)
    return list(session.scalars(stmt))
