"""Customer accounts: registration, profile, addresses, credit, orders, notifications."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from shop.api.helpers import json_body
from shop.api.serializers import (
    address_to_dict,
    customer_to_dict,
    notification_to_dict,
    order_to_dict,
)
from shop.db import get_session
from shop.services import accounts, core, messaging
from shop.utils.pagination import page_args, paginate

bp = Blueprint("customers", __name__, url_prefix="/customers")


@bp.post("")
def register() -> Any:
    session = get_session()
    customer = accounts.register_customer(session, json_body())
    session.commit()
    body = customer_to_dict(customer)
    body["addresses"] = [address_to_dict(a) for a in customer.addresses]
    return jsonify(body), 201, {"Location": f"/customers/{customer.id}"}


@bp.get("/<int:customer_id>")
def show(customer_id: int) -> Any:
    customer = accounts.get_customer(get_session(), customer_id)
    body = customer_to_dict(customer)
    body["addresses"] = [address_to_dict(a) for a in customer.addresses]
    return jsonify(body)


@bp.patch("/<int:customer_id>")
def update(customer_id: int) -> Any:
    session = get_session()
    customer = accounts.update_customer(session, accounts.get_customer(session, customer_id), json_body())
    session.commit()
    return jsonify(customer_to_dict(customer))


@bp.get("/<int:customer_id>/addresses")
def list_addresses(customer_id: int) -> Any:
    customer = accounts.get_customer(get_session(), customer_id)
    return jsonify([address_to_dict(a) for a in customer.addresses])


@bp.post("/<int:customer_id>/addresses")
def add_address(customer_id: int) -> Any:
    session = get_session()
    address = accounts.add_address(session, accounts.get_customer(session, customer_id), json_body())
    session.commit()
    return jsonify(address_to_dict(address)), 201


@bp.get("/<int:customer_id>/credit")
def credit(customer_id: int) -> Any:
    session = get_session()
    return jsonify(accounts.credit_summary(session, accounts.get_customer(session, customer_id)))


@bp.get("/<int:customer_id>/orders")
def orders(customer_id: int) -> Any:
    session = get_session()
    accounts.get_customer(session, customer_id)
    page, per_page = page_args(request.args)
    result = paginate(session, core.customer_orders_query(customer_id, request.args.get("status")), page, per_page)
    return jsonify(result.to_dict(lambda o: order_to_dict(o, detail=False)))


@bp.get("/<int:customer_id>/notifications")
def notifications(customer_id: int) -> Any:
    session = get_session()
    accounts.get_customer(session, customer_id)
    return jsonify([notification_to_dict(n) for n in messaging.list_for_customer(session, customer_id)])


@bp.get("/<int:customer_id>/preferences")
def preferences(customer_id: int) -> Any:
    session = get_session()
    accounts.get_customer(session, customer_id)
    return jsonify(messaging.get_preferences(session, customer_id))


@bp.put("/<int:customer_id>/preferences")
def update_preferences(customer_id: int) -> Any:
    session = get_session()
    customer = accounts.get_customer(session, customer_id)
    changes = {k: bool(v) for k, v in json_body().items()}
    prefs = messaging.set_preferences(session, customer, changes)
    session.commit()
    return jsonify(prefs)
