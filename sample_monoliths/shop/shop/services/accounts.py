"""Customer accounts: registration, addresses, credit -- and coupons.

Coupons ended up here because the first coupons were the welcome coupons handed out at
registration; the marketing team's campaign coupons were bolted on later.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.errors import Conflict, CouponInvalid, NotFound, ValidationError
from shop.models import (
    Address,
    Coupon,
    CouponRedemption,
    CreditTransaction,
    Customer,
    Order,
    OrderStatus,
    Payment,
)
from shop.services import messaging
from shop.utils.dates import parse_datetime, utcnow
from shop.utils.ids import coupon_code
from shop.utils.logs import get_logger, log_event
from shop.utils.validation import (
    one_of,
    optional_str,
    positive_int,
    require_fields,
    validate_country,
    validate_email,
    validate_phone,
    validate_postcode,
)

log = get_logger("accounts")

CUSTOMER_STATUSES = ("active", "blocked", "closed")
COUPON_KINDS = ("percent", "fixed", "free_shipping")


# --------------------------------------------------------------------------- customers


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return customer


def find_customer_by_email(session: Session, email: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.email == email.strip().lower()))


def register_customer(session: Session, payload: Mapping[str, Any]) -> Customer:
    """Create a customer account, with an address, preferences and a welcome coupon.

    The caller commits.
    """
    require_fields(payload, "email", "name")
    email = validate_email(payload["email"])
    if find_customer_by_email(session, email) is not None:
        raise Conflict(f"{email} is already registered", details={"email": "taken"})
    is_business = bool(payload.get("is_business", False))
    vat_number = optional_str(payload, "vat_number", max_length=32)
    if is_business and not vat_number:
        raise ValidationError("business customers need a VAT number", details={"vat_number": "required"})
    config = current_app.config
    customer = Customer(
        email=email,
        name=optional_str(payload, "name", max_length=200) or "",
        phone=validate_phone(payload.get("phone")),
        is_business=is_business,
        vat_number=vat_number,
        marketing_opt_in=bool(payload.get("marketing_opt_in", False)),
        credit_limit_cents=(
            config["BUSINESS_CREDIT_LIMIT_CENTS"] if is_business else config["DEFAULT_CREDIT_LIMIT_CENTS"]
        ),
    )
    session.add(customer)
    if payload.get("address"):
        add_address(session, customer, payload["address"])
    session.flush()
    messaging.create_default_preferences(session, customer)
    coupon = None
    if not is_business:
        coupon = issue_welcome_coupon(session, customer)
    messaging.notify_customer(
        session, customer, "welcome", coupon_code=coupon.code if coupon else None
    )
    log_event(log, "customer.registered", customer=customer.id, business=is_business)
    return customer


def update_customer(session: Session, customer: Customer, payload: Mapping[str, Any]) -> Customer:
    if "name" in payload:
        name = optional_str(payload, "name", max_length=200)
        if not name:
            raise ValidationError("name: required", details={"name": "required"})
        customer.name = name
    if "phone" in payload:
        customer.phone = validate_phone(payload.get("phone"))
    if "email" in payload:
        email = validate_email(payload["email"])
        other = find_customer_by_email(session, email)
        if other is not None and other.id != customer.id:
            raise Conflict(f"{email} is already registered", details={"email": "taken"})
        customer.email = email
    if "marketing_opt_in" in payload:
        customer.marketing_opt_in = bool(payload["marketing_opt_in"])
        # keep the notification preference in sync with the old flag
        messaging.set_preferences(session, customer, {"marketing": customer.marketing_opt_in})
    return customer


def set_status(session: Session, customer: Customer, status: str, actor: str) -> Customer:
    one_of(status, CUSTOMER_STATUSES, "status")
    if status != "active":
        open_orders = session.scalar(
            select(func.count(Order.id)).where(
                Order.customer_id == customer.id,
                Order.status.in_([OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT]),
            )
        )
        if open_orders:
            raise Conflict(f"customer has {open_orders} unpaid orders")
    log_event(log, "customer.status", customer=customer.id, status=status, actor=actor)
    customer.status = status
    return customer


def add_address(session: Session, customer: Customer, payload: Mapping[str, Any]) -> Address:
    require_fields(payload, "line1", "city", "postcode", "country")
    country = validate_country(payload["country"])
    address = Address(
        label=optional_str(payload, "label", max_length=50) or "home",
        recipient=optional_str(payload, "recipient", max_length=200) or customer.name,
        line1=optional_str(payload, "line1", max_length=200) or "",
        line2=optional_str(payload, "line2", max_length=200),
        city=optional_str(payload, "city", max_length=100) or "",
        postcode=validate_postcode(country, payload["postcode"]),
        country=country,
    )
    make_default = bool(payload.get("is_default")) or not customer.addresses
    if make_default:
        for other in customer.addresses:
            other.is_default = False
    address.is_default = make_default
    customer.addresses.append(address)
    session.add(address)
    return address


# --------------------------------------------------------------------------- credit


def credit_summary(session: Session, customer: Customer, ledger_size: int = 20) -> dict[str, Any]:
    ledger = session.scalars(
        select(CreditTransaction)
        .where(CreditTransaction.customer_id == customer.id)
        .order_by(CreditTransaction.id.desc())
        .limit(ledger_size)
    ).all()
    return {
        "customer_id": customer.id,
        "credit_limit_cents": customer.credit_limit_cents,
        "credit_reserved_cents": customer.credit_reserved_cents,
        "available_credit_cents": customer.available_credit_cents,
        "store_credit_cents": customer.store_credit_cents,
        "ledger": [
            {"kind": t.kind, "amount_cents": t.amount_cents, "order_id": t.order_id,
             "note": t.note, "created_at": t.created_at.isoformat()}
            for t in ledger
        ],
    }


def set_credit_limit(session: Session, customer: Customer, limit_cents: int, actor: str) -> Customer:
    limit_cents = positive_int(limit_cents, "credit_limit_cents", allow_zero=True)
    if limit_cents < customer.credit_reserved_cents:
        # Allowed (risk lowers limits of customers in arrears) but new orders will fail.
        log_event(log, "credit.limit_below_reserved", customer=customer.id,
                  limit=limit_cents, reserved=customer.credit_reserved_cents)
    delta = limit_cents - customer.credit_limit_cents
    customer.credit_limit_cents = limit_cents
    session.add(CreditTransaction(customer=customer, kind="limit_change", amount_cents=delta,
                                  note=f"limit set to {limit_cents} by {actor}"))
    return customer


def grant_store_credit(session: Session, customer: Customer, amount_cents: int, reason: str,
                       actor: str) -> CreditTransaction:
    """Goodwill credit from customer service (apologies for late parcels and the like)."""
    amount_cents = positive_int(amount_cents, "amount_cents")
    customer.store_credit_cents += amount_cents
    entry = CreditTransaction(customer=customer, kind="store_credit_issued", amount_cents=amount_cents,
                              note=f"{reason} ({actor})")
    session.add(entry)
    messaging.notify_customer(session, customer, "store_credit", amount_cents=amount_cents, reason=reason)
    return entry


def review_credit_limits(session: Session) -> list[Customer]:
    """Raise the limit of consumers with a good payment history (run weekly).

    Three delivered orders and no disputed payment earn one step, up to the maximum.
    """
    config = current_app.config
    step, maximum = config["CREDIT_LIMIT_STEP_CENTS"], config["CREDIT_LIMIT_MAX_CENTS"]
    delivered = (
        select(Order.customer_id, func.count(Order.id).label("n"))
        .where(Order.status == OrderStatus.DELIVERED)
        .group_by(Order.customer_id)
        .subquery()
    )
    disputed = select(Order.customer_id).join(Payment).where(Payment.status == "disputed")
    candidates = session.scalars(
        select(Customer)
        .join(delivered, delivered.c.customer_id == Customer.id)
        .where(
            delivered.c.n >= 3,
            Customer.is_business.is_(False),
            Customer.status == "active",
            Customer.credit_limit_cents < maximum,
            Customer.id.not_in(disputed),
        )
    ).all()
    for customer in candidates:
        set_credit_limit(session, customer, min(maximum, customer.credit_limit_cents + step), "credit-review")
    return list(candidates)


# --------------------------------------------------------------------------- coupons


def find_coupon(session: Session, code: str) -> Coupon:
    coupon = session.scalar(select(Coupon).where(Coupon.code == code.strip().upper()))
    if coupon is None:
        raise NotFound(f"coupon {code} does not exist")
    return coupon


def list_coupons(session: Session, active_only: bool = False) -> list[Coupon]:
    stmt = select(Coupon).order_by(Coupon.code)
    if active_only:
        stmt = stmt.where(Coupon.active.is_(True))
    return list(session.scalars(stmt))


def create_coupon(session: Session, payload: Mapping[str, Any]) -> Coupon:
    require_fields(payload, "kind")
    kind = one_of(payload["kind"], COUPON_KINDS, "kind")
    value = 0
    if kind == "percent":
        value = positive_int(payload.get("value"), "value", maximum=100)
    elif kind == "fixed":
        value = positive_int(payload.get("value"), "value")
    code = (payload.get("code") or coupon_code("PROMO")).strip().upper()
    if session.scalar(select(Coupon.id).where(Coupon.code == code)) is not None:
        raise Conflict(f"coupon {code} exists", details={"code": "taken"})
    try:
        starts_at = parse_datetime(payload.get("starts_at"))
        expires_at = parse_datetime(payload.get("expires_at"))
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if starts_at and expires_at and expires_at <= starts_at:
        raise ValidationError("expires_at must be after starts_at", details={"expires_at": "before start"})
    max_redemptions = payload.get("max_redemptions")
    coupon = Coupon(
        code=code,
        kind=kind,
        value=value,
        description=optional_str(payload, "description") or "",
        min_order_cents=positive_int(payload.get("min_order_cents", 0), "min_order_cents", allow_zero=True),
        max_redemptions=positive_int(max_redemptions, "max_redemptions") if max_redemptions else None,
        per_customer_limit=positive_int(payload.get("per_customer_limit", 1), "per_customer_limit"),
        customer_id=payload.get("customer_id"),
        starts_at=starts_at,
        expires_at=expires_at,
    )
    session.add(coupon)
    return coupon


def issue_welcome_coupon(session: Session, customer: Customer) -> Coupon:
    percent = current_app.config["WELCOME_COUPON_PERCENT"]
    coupon = Coupon(code=coupon_code("WELCOME"), kind="percent", value=percent,
                    description=f"{percent}% welcome discount", customer_id=customer.id,
                    per_customer_limit=1, max_redemptions=1)
    session.add(coupon)
    return coupon


def deactivate_coupon(session: Session, code: str) -> Coupon:
    coupon = find_coupon(session, code)
    coupon.active = False
    return coupon


def validate_coupon(session: Session, code: str, customer: Customer, subtotal_cents: int,
                    now: datetime | None = None) -> Coupon:
    """The coupon, if ``customer`` may use it on an order of ``subtotal_cents``."""
    now = now or utcnow()
    try:
        coupon = find_coupon(session, code)
    except NotFound:
        raise CouponInvalid(f"coupon {code} does not exist") from None
    if not coupon.active:
        raise CouponInvalid(f"coupon {coupon.code} is no longer valid")
    if coupon.starts_at and now < coupon.starts_at:
        raise CouponInvalid(f"coupon {coupon.code} is not valid yet")
    if coupon.expires_at and now >= coupon.expires_at:
        raise CouponInvalid(f"coupon {coupon.code} has expired")
    if coupon.customer_id is not None and coupon.customer_id != customer.id:
        raise CouponInvalid(f"coupon {coupon.code} belongs to another customer")
    if coupon.max_redemptions is not None and coupon.times_redeemed >= coupon.max_redemptions:
        raise CouponInvalid(f"coupon {coupon.code} has been used up")
    if subtotal_cents < coupon.min_order_cents:
        raise CouponInvalid(
            f"coupon {coupon.code} needs an order of at least {coupon.min_order_cents} cents",
            details={"min_order_cents": coupon.min_order_cents},
        )
    used = session.scalar(
        select(func.count(CouponRedemption.id)).where(
            CouponRedemption.coupon_id == coupon.id,
            CouponRedemption.customer_id == customer.id,
            CouponRedemption.reversed.is_(False),
        )
    )
    if used >= coupon.per_customer_limit:
        raise CouponInvalid(f"you have already used coupon {coupon.code}")
    return coupon


def redeem_coupon(session: Session, coupon: Coupon, customer: Customer, order: Order,
                  discount_cents: int) -> CouponRedemption:
    redemption = CouponRedemption(coupon=coupon, customer_id=customer.id, order_id=order.id,
                                  discount_cents=discount_cents)
    coupon.times_redeemed += 1
    session.add(redemption)
    return redemption


def release_coupon(session: Session, order: Order) -> None:
    """Give the coupon of a cancelled order back to the customer."""
    redemptions = session.scalars(
        select(CouponRedemption).where(CouponRedemption.order_id == order.id,
                                       CouponRedemption.reversed.is_(False))
    ).all()
    for redemption in redemptions:
        redemption.reversed = True
        redemption.coupon.times_redeemed = max(0, redemption.coupon.times_redeemed - 1)
