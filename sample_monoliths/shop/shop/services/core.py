"""Orders -- and, historically, everything that happens when one is placed.

This is the original checkout module. ``place_order`` checks the customer's credit,
reserves stock, redeems the coupon, takes the payment, creates the shipment and queues the
confirmation, all in one database transaction: either the whole order exists or nothing
does. It is also the module everyone is afraid to touch; please keep new features out of
it and call the other service modules instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from shop.errors import (
    Forbidden,
    InsufficientCredit,
    InvalidStateTransition,
    NotFound,
    ValidationError,
)
from shop.models import (
    Address,
    Coupon,
    CreditTransaction,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Product,
    StockMovement,
    StockReservation,
)
from shop.services import accounts, billing, fulfilment, messaging, pricing, stock
from shop.tasks import enqueue
from shop.utils.dates import days_ago, utcnow
from shop.utils.ids import order_number
from shop.utils.logs import get_logger, log_event, timed
from shop.utils.validation import one_of, positive_int, validate_sku

log = get_logger("orders")

MAX_LINES = 50
MAX_QUANTITY = 500
SERVICE_LEVELS = ("standard", "express")

ORDER_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.PENDING: {OrderStatus.CONFIRMED, OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED},
    OrderStatus.AWAITING_PAYMENT: {OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.CONFIRMED: {OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED},
    OrderStatus.DELIVERED: {OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED},
    OrderStatus.PARTIALLY_REFUNDED: {OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED,
                                     OrderStatus.DELIVERED},
    OrderStatus.REFUNDED: set(),
    OrderStatus.CANCELLED: set(),
}
CANCELLABLE = (OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT, OrderStatus.CONFIRMED)


@dataclass
class QuoteLine:
    product: Product
    quantity: int
    unit_price_cents: int
    discount_cents: int = 0

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents * self.quantity - self.discount_cents


@dataclass
class Quote:
    lines: list[QuoteLine]
    country: str
    service_level: str
    currency: str = "EUR"
    subtotal_cents: int = 0
    discount_cents: int = 0
    shipping_cents: int = 0
    tax_cents: int = 0
    coupon: Coupon | None = None
    weight_grams: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents + self.shipping_cents + self.tax_cents

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": [
                {"sku": line.product.sku, "name": line.product.name, "quantity": line.quantity,
                 "unit_price_cents": line.unit_price_cents, "discount_cents": line.discount_cents,
                 "total_cents": line.total_cents}
                for line in self.lines
            ],
            "currency": self.currency,
            "subtotal_cents": self.subtotal_cents,
            "discount_cents": self.discount_cents,
            "shipping_cents": self.shipping_cents,
            "tax_cents": self.tax_cents,
            "total_cents": self.total_cents,
            "coupon": self.coupon.code if self.coupon else None,
            "service_level": self.service_level,
            "warnings": self.warnings,
        }


# --------------------------------------------------------------------------- lookups


def get_order(session: Session, number: str) -> Order:
    order = session.scalar(select(Order).where(Order.number == number))
    if order is None:
        raise NotFound(f"order {number} does not exist")
    return order


def customer_orders_query(customer_id: int, status: str | None = None) -> Select[tuple[Order]]:
    stmt = select(Order).where(Order.customer_id == customer_id).order_by(Order.id.desc())
    if status:
        stmt = stmt.where(Order.status == status)
    return stmt


def transition(order: Order, to_status: str, *, actor: str = "system", note: str | None = None) -> None:
    """Move ``order`` to ``to_status``, recording the event. Raises on illegal moves."""
    current = order.status
    if to_status not in ORDER_TRANSITIONS.get(current, set()):
        raise InvalidStateTransition(f"order {order.number} cannot go from {current} to {to_status}")
    order.status = str(to_status)
    order.events.append(OrderEvent(from_status=current, to_status=str(to_status), actor=actor, note=note))


def order_timeline(order: Order) -> list[dict[str, Any]]:
    return [
        {"from": e.from_status, "to": e.to_status, "actor": e.actor, "note": e.note,
         "at": e.created_at.isoformat()}
        for e in order.events
    ]


def add_note(session: Session, number: str, note: str, actor: str) -> Order:
    order = get_order(session, number)
    order.notes = ((order.notes + "\n") if order.notes else "") + f"[{actor}] {note}"
    return order


# --------------------------------------------------------------------------- pricing a basket


def normalise_items(items: Any) -> list[tuple[str, int]]:
    """``[{"sku": ..., "quantity": ...}]`` -> ``[(SKU, qty)]`` with duplicates merged."""
    if not isinstance(items, list) or not items:
        raise ValidationError("items: at least one item is required", details={"items": "required"})
    if len(items) > MAX_LINES:
        raise ValidationError(f"items: at most {MAX_LINES} lines", details={"items": "too many"})
    merged: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValidationError(f"items[{index}]: expected an object")
        sku = validate_sku(item.get("sku"), field=f"items[{index}].sku")
        quantity = positive_int(item.get("quantity", 1), f"items[{index}].quantity", maximum=MAX_QUANTITY)
        merged[sku] = merged.get(sku, 0) + quantity
    return list(merged.items())


def quote_order(session: Session, customer: Customer, items: Any, *, country: str,
                coupon_code: str | None = None, service_level: str = "standard") -> Quote:
    """Price a basket for ``customer``: lines, coupon, shipping and VAT."""
    one_of(service_level, SERVICE_LEVELS, "service_level")
    wanted = normalise_items(items)
    skus = [sku for sku, _ in wanted]
    products = {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(skus)))}
    missing = [sku for sku in skus if sku not in products]
    if missing:
        raise NotFound("unknown products: " + ", ".join(missing), details={"skus": missing})
    inactive = [sku for sku in skus if not products[sku].active]
    if inactive:
        raise ValidationError("no longer sold: " + ", ".join(inactive), details={"skus": inactive})

    quote = Quote(lines=[], country=country, service_level=service_level,
                  currency=current_app.config["DEFAULT_CURRENCY"])
    for sku, quantity in wanted:
        product = products[sku]
        quote.lines.append(QuoteLine(product, quantity, pricing.unit_price(product, customer, quantity)))
        quote.weight_grams += product.weight_grams * quantity
        if stock.available_quantity(session, product.id) < quantity:
            quote.warnings.append(f"{sku}: not enough stock")
    quote.subtotal_cents = sum(line.total_cents for line in quote.lines)

    effect = pricing.CouponEffect()
    if coupon_code:
        quote.coupon = accounts.validate_coupon(session, coupon_code, customer, quote.subtotal_cents)
        effect = pricing.coupon_effect(quote.coupon, quote.subtotal_cents)
    quote.discount_cents = effect.discount_cents
    shares = pricing.spread_discount([line.total_cents for line in quote.lines], quote.discount_cents)
    for line, share in zip(quote.lines, shares, strict=True):
        line.discount_cents = share

    shipping = fulfilment.quote_shipping(quote.weight_grams, country, service_level,
                                         quote.subtotal_cents - quote.discount_cents)
    quote.shipping_cents = 0 if effect.free_shipping else shipping.cost_cents
    quote.tax_cents = pricing.tax_for(customer, country,
                                      quote.subtotal_cents - quote.discount_cents + quote.shipping_cents)
    return quote


# --------------------------------------------------------------------------- credit


def resolve_address(session: Session, customer: Customer, address_id: int | None) -> Address:
    if address_id is None:
        address = customer.default_address()
        if address is None:
            raise ValidationError("the customer has no address; add one first",
                                  details={"shipping_address_id": "required"})
        return address
    address = session.get(Address, address_id)
    if address is None or address.customer_id != customer.id:
        raise NotFound(f"address {address_id} does not belong to customer {customer.id}")
    return address


def settle_credit(session: Session, order: Order) -> bool:
    """Release the credit an order reserved once it is both delivered and paid.

    Called from shipping (delivery) and payments (invoice paid), whichever happens last.
    """
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED):
        return False
    if any(p.status == "pending" for p in order.payments):
        return False
    already = session.scalar(
        select(func.count(CreditTransaction.id)).where(CreditTransaction.order_id == order.id,
                                                       CreditTransaction.kind == "release")
    )
    if already:
        return False
    customer = order.customer
    customer.credit_reserved_cents = max(0, customer.credit_reserved_cents - order.total_cents)
    session.add(CreditTransaction(customer=customer, order_id=order.id, kind="release",
                                  amount_cents=order.total_cents, note=f"order {order.number} settled"))
    return True


# --------------------------------------------------------------------------- checkout


def place_order(session: Session, customer_id: int, items: Any, *, shipping_address_id: int | None = None,
                coupon_code: str | None = None, payment_method: str = "card", card_token: str | None = None,
                use_store_credit: bool = False, service_level: str = "standard",
                notes: str | None = None) -> Order:
    """Place an order: one transaction across credit, stock, coupons, payment, shipping.

    Any failure (credit, stock, coupon, declined card) rolls the whole thing back.
    """
    with timed(log, "order.place", customer=customer_id):
        try:
            customer = session.get(Customer, customer_id)
            if customer is None:
                raise NotFound(f"customer {customer_id} does not exist")
            if customer.status != "active":
                raise Forbidden(f"customer {customer_id} is {customer.status}")
            address = resolve_address(session, customer, shipping_address_id)
            quote = quote_order(session, customer, items, country=address.country, coupon_code=coupon_code,
                                service_level=service_level)

            order = Order(
                number=order_number(), customer=customer, status=OrderStatus.PENDING.value,
                currency=quote.currency, subtotal_cents=quote.subtotal_cents,
                discount_cents=quote.discount_cents, shipping_cents=quote.shipping_cents,
                tax_cents=quote.tax_cents, total_cents=quote.total_cents, payment_method=payment_method,
                coupon=quote.coupon, shipping_address_id=address.id, ship_to=address.one_line(),
                ship_country=address.country, notes=notes, placed_at=utcnow(),
            )
            for line in quote.lines:
                order.lines.append(OrderLine(
                    product=line.product, sku=line.product.sku, name=line.product.name,
                    unit_price_cents=line.unit_price_cents, quantity=line.quantity,
                    discount_cents=line.discount_cents,
                ))
            order.events.append(OrderEvent(from_status=None, to_status=OrderStatus.PENDING.value,
                                           actor=f"customer:{customer.id}"))
            session.add(order)
            session.flush()

            # 1. Credit. Written inline in 2016 by the credit team; the customers table is
            #    also updated by accounts (limits) and billing (store credit).
            if quote.total_cents > customer.available_credit_cents:
                raise InsufficientCredit(
                    f"order total {quote.total_cents} exceeds available credit {customer.available_credit_cents}",
                    details={"available_credit_cents": customer.available_credit_cents,
                             "total_cents": quote.total_cents},
                )
            customer.credit_reserved_cents += quote.total_cents
            session.add(CreditTransaction(customer=customer, order_id=order.id, kind="reserve",
                                          amount_cents=-quote.total_cents, note=f"order {order.number}"))

            # 2. Stock.
            stock.reserve_for_order(session, order)

            # 3. Coupon.
            if quote.coupon is not None:
                accounts.redeem_coupon(session, quote.coupon, customer, order, quote.discount_cents)

            # 4. Payment.
            payments = billing.take_payment(session, order, method=payment_method, card_token=card_token,
                                            use_store_credit=use_store_credit)
            paid = all(p.status == "captured" for p in payments)

            # 5. Shipment.
            fulfilment.create_shipment(session, order, service_level=service_level)

            # 6. Status and confirmation.
            transition(order, OrderStatus.CONFIRMED if paid else OrderStatus.AWAITING_PAYMENT,
                       actor=f"customer:{customer.id}")
            messaging.notify_customer(session, customer, "order_confirmation", order=order)

            session.commit()
        except Exception:
            session.rollback()
            raise

    log_event(log, "order.placed", order=order.number, customer=customer.id, total=order.total_cents,
              method=payment_method)
    enqueue("send_invoice", order.id)
    low = stock.low_stock(session, [line.product_id for line in order.lines])
    if low:
        enqueue("low_stock_alert", sorted({line.product_id for line in order.lines}))
    return order


def cancel_order(session: Session, number: str, *, reason: str = "customer request",
                 actor: str = "customer") -> Order:
    """Cancel an order that has not shipped: stock, credit, coupon, payment, shipment."""
    try:
        order = get_order(session, number)
        if order.status not in CANCELLABLE:
            raise InvalidStateTransition(f"order {number} is {order.status} and can no longer be cancelled")

        # Put the reserved units back. (Predates stock.release_reservation; same thing.)
        reservations = session.scalars(
            select(StockReservation).where(StockReservation.order_id == order.id,
                                           StockReservation.status == "active")
        ).all()
        for reservation in reservations:
            item = reservation.stock_item
            item.reserved -= reservation.quantity
            reservation.status = "released"
            reservation.closed_at = utcnow()
            session.add(StockMovement(stock_item=item, order_id=order.id, kind="release",
                                      quantity=reservation.quantity, note=f"cancelled: {reason}"))

        # Give the credit back.
        customer = order.customer
        customer.credit_reserved_cents = max(0, customer.credit_reserved_cents - order.total_cents)
        session.add(CreditTransaction(customer=customer, order_id=order.id, kind="release",
                                      amount_cents=order.total_cents, note=f"order {number} cancelled"))

        accounts.release_coupon(session, order)
        for payment in order.payments:
            if payment.status in ("captured", "pending"):
                refundable = payment.refundable_cents if payment.status == "captured" else 0
                billing.refund_payment(session, payment, refundable, f"order cancelled: {reason}")
        fulfilment.cancel_shipment(session, order)
        transition(order, OrderStatus.CANCELLED, actor=actor, note=reason)
        messaging.notify_customer(session, customer, "order_cancelled", order=order, reason=reason)
        session.commit()
    except Exception:
        session.rollback()
        raise
    log_event(log, "order.cancelled", order=number, actor=actor, reason=reason)
    return order


def expire_unpaid_orders(session: Session, older_than_days: int | None = None) -> list[str]:
    """Cancel invoice orders still awaiting payment (and unshipped) after the grace period."""
    days = older_than_days if older_than_days is not None else current_app.config["UNPAID_ORDER_EXPIRY_DAYS"]
    numbers = session.scalars(
        select(Order.number).where(Order.status == OrderStatus.AWAITING_PAYMENT,
                                   Order.placed_at <= days_ago(days))
    ).all()
    for number in numbers:
        cancel_order(session, number, reason="payment not received", actor="system")
    return list(numbers)


def reorder_items(order: Order) -> list[dict[str, Any]]:
    """The items of a previous order, for the storefront's "buy again" button."""
    return [{"sku": line.sku, "quantity": line.quantity} for line in order.lines if line.product.active]


def check_order_consistency(session: Session, orders: Sequence[Order]) -> list[str]:
    """Sanity checks used by ops after incidents: totals add up, lines match reservations."""
    problems = []
    for order in orders:
        lines_total = sum(line.line_total_cents for line in order.lines)
        if lines_total != order.subtotal_cents - order.discount_cents:
            problems.append(f"{order.number}: lines {lines_total} != subtotal-discount "
                            f"{order.subtotal_cents - order.discount_cents}")
        if order.total_cents != (order.subtotal_cents - order.discount_cents + order.shipping_cents
                                 + order.tax_cents):
            problems.append(f"{order.number}: total does not add up")
        reserved = session.scalar(
            select(func.coalesce(func.sum(StockReservation.quantity), 0))
            .where(StockReservation.order_id == order.id, StockReservation.status != "released")
        )
        if order.status not in (OrderStatus.CANCELLED,) and reserved != order.item_count:
            problems.append(f"{order.number}: {reserved} units reserved for {order.item_count} ordered")
    return problems
