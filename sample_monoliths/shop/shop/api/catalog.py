"""Catalogue browsing for the storefront, and product maintenance for the back office."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from shop.api.helpers import admin_required, current_actor, json_body
from shop.api.serializers import category_to_dict, product_to_dict
from shop.db import get_session
from shop.errors import ValidationError
from shop.services import accounts, catalog, messaging, stock
from shop.utils.pagination import page_args, paginate

bp = Blueprint("catalog", __name__)


@bp.get("/products")
def list_products() -> Any:
    session = get_session()
    page, per_page = page_args(request.args)
    stmt = catalog.products_query(q=request.args.get("q"), category=request.args.get("category"))
    return jsonify(paginate(session, stmt, page, per_page).to_dict(product_to_dict))


@bp.get("/products/<sku>")
def show_product(sku: str) -> Any:
    session = get_session()
    product = catalog.get_product(session, sku)
    body = product_to_dict(product)
    body["in_stock"] = stock.available_quantity(session, product.id) > 0
    return jsonify(body)


@bp.get("/products/<sku>/availability")
def availability(sku: str) -> Any:
    session = get_session()
    product = catalog.get_product(session, sku)
    levels = stock.stock_levels(session, product)
    return jsonify({
        "sku": product.sku,
        "available": sum(max(0, level.available) for level in levels),
        "warehouses": [{"warehouse": level.warehouse, "available": level.available} for level in levels],
    })


@bp.post("/products/<sku>/notify-me")
def notify_me(sku: str) -> Any:
    """Ask to be e-mailed when a sold-out product is back."""
    session = get_session()
    payload = json_body()
    if "customer_id" not in payload:
        raise ValidationError("customer_id: required", details={"customer_id": "required"})
    customer = accounts.get_customer(session, int(payload["customer_id"]))
    product = catalog.get_product(session, sku)
    messaging.subscribe_back_in_stock(session, customer, product)
    session.commit()
    return jsonify({"sku": product.sku, "subscribed": True}), 201


@bp.post("/products")
@admin_required
def create_product() -> Any:
    session = get_session()
    product = catalog.create_product(session, json_body())
    session.commit()
    return jsonify(product_to_dict(product)), 201


@bp.patch("/products/<sku>")
@admin_required
def update_product(sku: str) -> Any:
    session = get_session()
    product = catalog.update_product(session, catalog.get_product(session, sku), json_body(), current_actor())
    session.commit()
    body = product_to_dict(product)
    body["price_history"] = [
        {"old": c.old_price_cents, "new": c.new_price_cents, "by": c.changed_by} for c in product.price_changes
    ]
    return jsonify(body)


@bp.get("/categories")
def list_categories() -> Any:
    return jsonify(catalog.list_categories(get_session()))


@bp.post("/categories")
@admin_required
def create_category() -> Any:
    session = get_session()
    payload = json_body()
    category = catalog.create_category(session, str(payload.get("slug", "")), str(payload.get("name", "")),
                                       payload.get("parent"))
    session.commit()
    return jsonify(category_to_dict(category)), 201
