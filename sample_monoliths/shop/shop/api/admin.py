"""Back office: stock, coupons, shipping, customer credit, reports and the task queue.

Everything the ops, warehouse and customer service teams click in the admin UI.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from shop.api.helpers import admin_required, current_actor, date_args, json_body
from shop.api.serializers import coupon_to_dict, customer_to_dict, movement_to_dict, shipment_to_dict
from shop.db import get_session
from shop.errors import NotFound, ValidationError
from shop.reporting import sales
from shop.services import accounts, fulfilment, stock
from shop.tasks import enqueue
from shop.tasks.queue import get_queue, registered_tasks
from shop.utils.validation import positive_int, require_fields

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def _check_token() -> None:
    """Every admin route needs the token."""


# --------------------------------------------------------------------------- stock


@bp.get("/stock/low")
def low_stock() -> Any:
    items = stock.low_stock(get_session())
    return jsonify([item.__dict__ for item in items])


@bp.post("/stock/restock")
def restock() -> Any:
    session = get_session()
    payload = require_fields(json_body(), "sku", "quantity")
    item = stock.restock(session, payload["sku"], payload["quantity"], payload.get("warehouse"),
                         note=payload.get("note") or f"delivery booked by {current_actor()}")
    session.commit()
    return jsonify({"sku": item.product.sku, "warehouse": item.warehouse.code, "on_hand": item.on_hand,
                    "available": item.available})


@bp.post("/stock/adjust")
def adjust() -> Any:
    session = get_session()
    payload = require_fields(json_body(), "sku")
    if "on_hand" not in payload:
        raise ValidationError("on_hand: required", details={"on_hand": "required"})
    item = stock.adjust(session, payload["sku"], payload["on_hand"], payload.get("warehouse"),
                        reason=payload.get("reason") or "stocktake")
    session.commit()
    return jsonify({"sku": item.product.sku, "warehouse": item.warehouse.code, "on_hand": item.on_hand,
                    "available": item.available})


@bp.post("/stock/transfer")
def transfer() -> Any:
    session = get_session()
    payload = require_fields(json_body(), "sku", "quantity", "from", "to")
    source, target = stock.transfer(session, payload["sku"], payload["quantity"], payload["from"], payload["to"])
    session.commit()
    return jsonify({"from": {"warehouse": source.warehouse.code, "on_hand": source.on_hand},
                    "to": {"warehouse": target.warehouse.code, "on_hand": target.on_hand}})


@bp.get("/stock/<sku>/movements")
def movements(sku: str) -> Any:
    return jsonify([movement_to_dict(m) for m in stock.movements(get_session(), sku)])


# --------------------------------------------------------------------------- coupons


@bp.get("/coupons")
def list_coupons() -> Any:
    active_only = request.args.get("active") == "1"
    return jsonify([coupon_to_dict(c) for c in accounts.list_coupons(get_session(), active_only)])


@bp.post("/coupons")
def create_coupon() -> Any:
    session = get_session()
    coupon = accounts.create_coupon(session, json_body())
    session.commit()
    return jsonify(coupon_to_dict(coupon)), 201


@bp.post("/coupons/<code>/deactivate")
def deactivate_coupon(code: str) -> Any:
    session = get_session()
    coupon = accounts.deactivate_coupon(session, code)
    session.commit()
    return jsonify(coupon_to_dict(coupon))


# --------------------------------------------------------------------------- shipping


@bp.get("/shipments")
def list_shipments() -> Any:
    shipments = fulfilment.list_shipments(get_session(), request.args.get("status"))
    return jsonify([shipment_to_dict(s) for s in shipments])


@bp.post("/shipments/<int:shipment_id>/ship")
def ship(shipment_id: int) -> Any:
    session = get_session()
    shipment = fulfilment.ship(session, shipment_id, actor=current_actor("warehouse"))
    session.commit()
    return jsonify(shipment_to_dict(shipment))


@bp.post("/shipments/<int:shipment_id>/deliver")
def deliver(shipment_id: int) -> Any:
    """Manual delivery confirmation, for parcels the carrier forgot to scan."""
    session = get_session()
    shipment = fulfilment.mark_delivered(session, fulfilment.get_shipment(session, shipment_id))
    session.commit()
    return jsonify(shipment_to_dict(shipment))


# --------------------------------------------------------------------------- customers and credit


@bp.post("/customers/<int:customer_id>/credit-limit")
def set_credit_limit(customer_id: int) -> Any:
    session = get_session()
    payload = require_fields(json_body(), "credit_limit_cents")
    customer = accounts.set_credit_limit(session, accounts.get_customer(session, customer_id),
                                         payload["credit_limit_cents"], current_actor())
    session.commit()
    return jsonify(accounts.credit_summary(session, customer))


@bp.post("/customers/<int:customer_id>/store-credit")
def grant_store_credit(customer_id: int) -> Any:
    session = get_session()
    payload = require_fields(json_body(), "amount_cents", "reason")
    customer = accounts.get_customer(session, customer_id)
    accounts.grant_store_credit(session, customer, payload["amount_cents"], payload["reason"], current_actor())
    session.commit()
    return jsonify(accounts.credit_summary(session, customer)), 201


@bp.post("/customers/<int:customer_id>/status")
def set_customer_status(customer_id: int) -> Any:
    session = get_session()
    payload = require_fields(json_body(), "status")
    customer = accounts.set_status(session, accounts.get_customer(session, customer_id), payload["status"],
                                   current_actor())
    session.commit()
    return jsonify(customer_to_dict(customer))


# --------------------------------------------------------------------------- reports


@bp.get("/reports/sales")
def sales_report() -> Any:
    start, end = date_args()
    session = get_session()
    rows = sales.sales_by_day(session, start, end)
    snapshots = [{"day": s.day.isoformat(), "orders": s.orders_count, "net_cents": s.net_cents}
                 for s in sales.snapshots(session, start, end)]
    return jsonify({"start": start.isoformat(), "end": end.isoformat(), "days": rows,
                    "totals": sales.sales_totals(rows), "snapshots": snapshots})


@bp.get("/reports/top-products")
def top_products_report() -> Any:
    start, end = date_args()
    limit = positive_int(request.args.get("limit", 10), "limit", maximum=100)
    return jsonify(sales.top_products(get_session(), start, end, limit))


@bp.get("/reports/customers/<int:customer_id>")
def customer_report(customer_id: int) -> Any:
    summary = sales.customer_summary(get_session(), customer_id)
    if summary is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return jsonify(summary)


@bp.get("/reports/inventory")
def inventory_report() -> Any:
    return jsonify(sales.inventory_valuation(get_session()))


@bp.get("/reports/pipeline")
def pipeline_report() -> Any:
    return jsonify(sales.order_pipeline(get_session()))


# --------------------------------------------------------------------------- task queue


@bp.get("/tasks")
def task_queue() -> Any:
    queue = get_queue()
    return jsonify({
        "registered": registered_tasks(),
        "pending": [{"id": j.id, "task": j.name, "attempts": j.attempts} for j in queue.pending()],
        "dead": [{"id": j.id, "task": j.name, "error": j.last_error} for j in queue.dead],
    })


@bp.post("/tasks/<name>")
def run_task(name: str) -> Any:
    """Queue a task by hand (the "run now" buttons on the ops page)."""
    payload = json_body()
    try:
        job = enqueue(name, *payload.get("args", []), **payload.get("kwargs", {}))
    except KeyError:
        raise NotFound(f"no task named {name}") from None
    return jsonify({"id": job.id, "task": job.name}), 202
