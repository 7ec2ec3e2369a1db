"""Checkout and order management."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from shop.api.helpers import admin_required, current_actor, json_body
from shop.api.serializers import order_to_dict, shipment_to_dict
from shop.db import get_session
from shop.errors import NotFound, ValidationError
from shop.services import accounts, billing, core
from shop.utils.validation import require_fields

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.post("/quote")
def quote() -> Any:
    """Price a basket without placing it (the storefront calls this on every cart change)."""
    session = get_session()
    payload = require_fields(json_body(), "customer_id", "items")
    customer = accounts.get_customer(session, int(payload["customer_id"]))
    address = core.resolve_address(session, customer, payload.get("shipping_address_id"))
    result = core.quote_order(session, customer, payload["items"], country=address.country,
                              coupon_code=payload.get("coupon_code"),
                              service_level=payload.get("service_level", "standard"))
    return jsonify(result.to_dict())


@bp.post("")
def place() -> Any:
    payload = require_fields(json_body(), "customer_id", "items")
    try:
        customer_id = int(payload["customer_id"])
    except (TypeError, ValueError):
        raise ValidationError("customer_id: must be a number") from None
    order = core.place_order(
        get_session(),
        customer_id,
        payload["items"],
        shipping_address_id=payload.get("shipping_address_id"),
        coupon_code=payload.get("coupon_code"),
        payment_method=payload.get("payment_method", "card"),
        card_token=payload.get("card_token"),
        use_store_credit=bool(payload.get("use_store_credit", False)),
        service_level=payload.get("service_level", "standard"),
        notes=payload.get("notes"),
    )
    return jsonify(order_to_dict(order)), 201, {"Location": f"/orders/{order.number}"}


@bp.get("/<number>")
def show(number: str) -> Any:
    order = core.get_order(get_session(), number)
    body = order_to_dict(order)
    body["timeline"] = core.order_timeline(order)
    return jsonify(body)


@bp.post("/<number>/cancel")
def cancel(number: str) -> Any:
    payload = json_body()
    order = core.cancel_order(get_session(), number, reason=payload.get("reason") or "customer request",
                              actor=payload.get("actor") or "customer")
    return jsonify(order_to_dict(order))


@bp.post("/<number>/refund")
@admin_required
def refund(number: str) -> Any:
    """Customer service refunds returned items (restocked) or a goodwill amount."""
    payload = json_body()
    refunds = billing.refund_order(
        get_session(), number,
        items=payload.get("items"),
        amount_cents=payload.get("amount_cents"),
        reason=payload.get("reason", ""),
        to_store_credit=bool(payload.get("to_store_credit", False)),
        restock=bool(payload.get("restock", True)),
        actor=current_actor(),
    )
    order = core.get_order(get_session(), number)
    body = order_to_dict(order)
    body["refunded_now_cents"] = sum(r.amount_cents for r in refunds)
    return jsonify(body)


@bp.get("/<number>/shipment")
def shipment(number: str) -> Any:
    order = core.get_order(get_session(), number)
    if order.shipment is None:
        raise NotFound(f"order {number} has no shipment")
    return jsonify(shipment_to_dict(order.shipment))


@bp.get("/<number>/invoice")
def invoice(number: str) -> Response:
    order = core.get_order(get_session(), number)
    return Response(billing.build_invoice(order), mimetype="text/plain")


@bp.get("/<number>/reorder")
def reorder(number: str) -> Any:
    order = core.get_order(get_session(), number)
    return jsonify({"items": core.reorder_items(order)})


@bp.post("/<number>/notes")
@admin_required
def add_note(number: str) -> Any:
    session = get_session()
    payload = require_fields(json_body(), "note")
    order = core.add_note(session, number, str(payload["note"]), current_actor())
    session.commit()
    return jsonify({"number": order.number, "notes": order.notes})
