"""Payments, refunds and invoices.

Three ways to pay: card (charged through the configured gateway at checkout), store credit
(deducted from the customer's balance) and invoice (business customers only; the payment
stays ``pending`` until the bank transfer arrives and the processor's webhook tells us).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.errors import Conflict, NotFound, PaymentDeclined, ValidationError
from shop.integrations.gateways import load_gateway
from shop.models import CreditTransaction, Customer, Order, OrderStatus, Payment, Refund
from shop.services import accounts, core, messaging, stock
from shop.utils.dates import today, utcnow
from shop.utils.ids import payment_reference
from shop.utils.logs import get_logger, log_event
from shop.utils.money import format_money
from shop.utils.validation import positive_int

log = get_logger("payments")

PAYMENT_METHODS = ("card", "invoice")
REFUNDABLE_STATUSES = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PARTIALLY_REFUNDED)


def take_payment(session: Session, order: Order, *, method: str, card_token: str | None = None,
                 use_store_credit: bool = False) -> list[Payment]:
    """Pay for ``order``: store credit first (if asked), the rest by card or invoice.

    Raises PaymentDeclined if the card is declined; the caller rolls back.
    """
    if method not in PAYMENT_METHODS:
        raise ValidationError(f"unknown payment method {method}", details={"payment_method": "unknown"})
    customer = order.customer
    due = order.total_cents
    payments: list[Payment] = []

    if use_store_credit and customer.store_credit_cents > 0 and due > 0:
        used = min(customer.store_credit_cents, due)
        # Store credit lives on the customer row, so payments writes customers here.
        customer.store_credit_cents -= used
        session.add(CreditTransaction(customer=customer, order_id=order.id, kind="store_credit_spent",
                                      amount_cents=-used, note=f"order {order.number}"))
        payments.append(_new_payment(session, order, "store_credit", used, status="captured"))
        due -= used

    if due > 0 and method == "card":
        if not card_token:
            raise ValidationError("card_token is required for card payments", details={"card_token": "required"})
        result = load_gateway().charge(due, order.currency, card_token, idempotency_key=f"order-{order.number}",
                                       description=f"Order {order.number}")
        if not result.ok:
            log_event(log, "payment.declined", order=order.number, code=result.code)
            raise PaymentDeclined(result.message, details={"decline_code": result.code})
        payment = _new_payment(session, order, "card", due, status="captured")
        payment.gateway_reference = result.reference
        payments.append(payment)
    elif due > 0 and method == "invoice":
        if not customer.is_business:
            raise ValidationError("only business customers can pay by invoice",
                                  details={"payment_method": "invoice not allowed"})
        payment = _new_payment(session, order, "invoice", due, status="pending")
        payment.due_date = today() + timedelta(days=current_app.config["INVOICE_DUE_DAYS"])
        payments.append(payment)

    session.flush()
    return payments


def _new_payment(session: Session, order: Order, method: str, amount_cents: int, status: str) -> Payment:
    payment = Payment(order=order, method=method, amount_cents=amount_cents, currency=order.currency,
                      status=status, reference=payment_reference())
    session.add(payment)
    if status == "captured":
        payment.captured_at = utcnow()
    return payment


def issue_store_credit(session: Session, customer: Customer, amount_cents: int, order: Order | None,
                       note: str) -> None:
    customer.store_credit_cents += amount_cents
    session.add(CreditTransaction(customer=customer, order_id=order.id if order else None,
                                  kind="store_credit_issued", amount_cents=amount_cents, note=note))


def refund_payment(session: Session, payment: Payment, amount_cents: int, reason: str,
                   to_store_credit: bool = False) -> Refund | None:
    """Give back ``amount_cents`` of ``payment``. Pending invoices are voided instead."""
    if payment.status == "pending":
        payment.status = "voided"
        return None
    if amount_cents > payment.refundable_cents:
        raise Conflict(f"payment {payment.reference} has only {payment.refundable_cents} cents refundable")
    refund = Refund(payment=payment, amount_cents=amount_cents, reason=reason)
    session.add(refund)
    if payment.method == "store_credit" or to_store_credit:
        issue_store_credit(session, payment.order.customer, amount_cents, payment.order,
                           f"refund of {payment.reference}")
        refund.to_store_credit = True
    else:
        result = load_gateway().refund(payment.gateway_reference or "", amount_cents)
        if not result.ok:
            raise Conflict(f"the payment processor refused the refund: {result.message}",
                           details={"gateway_code": result.code})
        refund.gateway_reference = result.reference
    payment.status = "refunded" if payment.refundable_cents == 0 else "partially_refunded"
    return refund


def _refund_amount_for_items(order: Order, items: Sequence[Mapping[str, Any]]) -> tuple[int, list[tuple[Any, int]]]:
    """Amount to refund for returned items, net of line discounts, plus the returned lines."""
    by_sku = {line.sku: line for line in order.lines}
    amount = 0
    returned = []
    for item in items:
        sku = str(item.get("sku", "")).upper()
        line = by_sku.get(sku)
        if line is None:
            raise ValidationError(f"order {order.number} has no line {sku}", details={"sku": sku})
        quantity = positive_int(item.get("quantity", 1), "quantity")
        if quantity > line.quantity - line.returned_quantity:
            raise ValidationError(f"only {line.quantity - line.returned_quantity} of {sku} can be returned")
        per_unit = line.line_total_cents / line.quantity
        amount += round(per_unit * quantity)
        returned.append((line, quantity))
    # VAT was charged on top; refund it proportionally.
    taxable = order.subtotal_cents - order.discount_cents + order.shipping_cents
    if taxable > 0 and order.tax_cents:
        amount += round(order.tax_cents * amount / taxable)
    return amount, returned


def refund_order(session: Session, number: str, *, items: Sequence[Mapping[str, Any]] | None = None,
                 amount_cents: int | None = None, reason: str = "", to_store_credit: bool = False,
                 restock: bool = True, actor: str = "system") -> list[Refund]:
    """Refund (part of) a shipped or delivered order, in one transaction.

    Either ``items`` (returned goods, restocked) or a goodwill ``amount_cents``.
    """
    order = core.get_order(session, number)
    try:
        if order.status not in REFUNDABLE_STATUSES:
            raise Conflict(f"order {number} is {order.status}; only shipped or delivered orders are refunded "
                           "(cancel it instead)")
        returned: list[tuple[Any, int]] = []
        if items:
            amount, returned = _refund_amount_for_items(order, items)
        elif amount_cents is not None:
            amount = positive_int(amount_cents, "amount_cents")
        else:
            raise ValidationError("give items or amount_cents")
        refundable = [p for p in order.payments if p.refundable_cents > 0]
        available = sum(p.refundable_cents for p in refundable)
        if amount > available:
            raise Conflict(f"only {available} cents of order {number} can still be refunded")
        # Store credit payments are refunded first, then cards.
        refundable.sort(key=lambda p: (p.method != "store_credit", p.id))
        shares = _fill(amount, [p.refundable_cents for p in refundable])
        refunds = []
        for payment, share in zip(refundable, shares, strict=True):
            if share:
                refund = refund_payment(session, payment, share, reason, to_store_credit=to_store_credit)
                if refund is not None:
                    refunds.append(refund)
        warehouse = order.shipment.warehouse if order.shipment else None
        for line, quantity in returned:
            line.returned_quantity += quantity
            if restock:
                stock.receive_return(session, line, quantity, warehouse)
        fully = sum(p.refundable_cents for p in order.payments) == 0
        core.transition(order, OrderStatus.REFUNDED if fully else OrderStatus.PARTIALLY_REFUNDED,
                        actor=actor, note=f"refund {amount} cents: {reason}")
        destination = " as store credit" if to_store_credit else ""
        messaging.notify_customer(session, order.customer, "refund_issued", order=order,
                                  amount=format_money(amount, order.currency), destination=destination)
        session.commit()
    except Exception:
        session.rollback()
        raise
    log_event(log, "order.refunded", order=number, amount=amount, actor=actor)
    return refunds


def _fill(amount: int, capacities: list[int]) -> list[int]:
    """Take ``amount`` from the capacities in order."""
    shares = []
    for capacity in capacities:
        take = min(capacity, amount)
        shares.append(take)
        amount -= take
    return shares


def find_payment(session: Session, reference: str) -> Payment:
    payment = session.scalar(select(Payment).where(Payment.reference == reference))
    if payment is None:
        raise NotFound(f"payment {reference} does not exist")
    return payment


def mark_invoice_paid(session: Session, reference: str, amount_cents: int) -> Payment:
    """The bank transfer for an invoice arrived."""
    payment = find_payment(session, reference)
    if payment.method != "invoice":
        raise Conflict(f"payment {reference} is not an invoice")
    if payment.status == "captured":
        return payment  # webhooks are delivered at least once
    if payment.status != "pending":
        raise Conflict(f"payment {reference} is {payment.status}")
    if amount_cents != payment.amount_cents:
        raise Conflict(f"expected {payment.amount_cents} cents, received {amount_cents}")
    payment.status = "captured"
    payment.captured_at = utcnow()
    order = payment.order
    if order.status == OrderStatus.AWAITING_PAYMENT:
        core.transition(order, OrderStatus.CONFIRMED, actor="bank", note=f"invoice {reference} paid")
    core.settle_credit(session, order)
    return payment


def record_dispute(session: Session, reference: str, reason: str) -> Payment:
    """A chargeback: the card holder disputed the payment with their bank."""
    payment = find_payment(session, reference)
    payment.status = "disputed"
    messaging.notify_ops(session, "payment_disputed", number=payment.order.number,
                         reference=reference, reason=reason)
    # Disputing customers lose their credit until customer service has talked to them.
    accounts.set_credit_limit(session, payment.order.customer, 0, "dispute")
    return payment


def build_invoice(order: Order) -> str:
    """Plain-text invoice (the PDF renderer was never finished)."""
    customer = order.customer
    lines = [
        f"INVOICE {order.number}",
        f"Date: {(order.placed_at or utcnow()).date().isoformat()}",
        f"Customer: {customer.name} <{customer.email}>",
    ]
    if customer.vat_number:
        lines.append(f"VAT number: {customer.vat_number}")
    lines.append(f"Ship to: {order.ship_to}")
    lines.append("")
    for line in order.lines:
        lines.append(f"{line.quantity:>4} x {line.sku:<12} {line.name:<30} "
                     f"{format_money(line.line_total_cents, order.currency):>12}")
    lines.append("")
    lines.append(f"Subtotal: {format_money(order.subtotal_cents, order.currency)}")
    if order.discount_cents:
        lines.append(f"Discount: -{format_money(order.discount_cents, order.currency)}")
    lines.append(f"Shipping: {format_money(order.shipping_cents, order.currency)}")
    lines.append(f"VAT: {format_money(order.tax_cents, order.currency)}")
    lines.append(f"Total: {format_money(order.total_cents, order.currency)}")
    pending = [p for p in order.payments if p.method == "invoice" and p.status == "pending"]
    for payment in pending:
        lines.append(f"Please transfer {format_money(payment.amount_cents, order.currency)} "
                     f"quoting {payment.reference} by {payment.due_date.isoformat() if payment.due_date else 'now'}.")
    if not pending:
        lines.append("Paid in full. Thank you!")
    return "\n".join(lines) + "\n"


def overdue_invoices(session: Session, on: date | None = None) -> list[Payment]:
    return list(session.scalars(
        select(Payment).where(Payment.method == "invoice", Payment.status == "pending",
                              Payment.due_date < (on or today()))
        .order_by(Payment.due_date)
    ))


def send_payment_reminders(session: Session, on: date | None = None) -> int:
    sent = 0
    for payment in overdue_invoices(session, on):
        order = payment.order
        messaging.notify_customer(session, order.customer, "payment_reminder", order=order,
                                  amount=format_money(payment.amount_cents, payment.currency),
                                  due_date=payment.due_date.isoformat() if payment.due_date else "")
        payment.reminders_sent += 1
        sent += 1
    return sent

