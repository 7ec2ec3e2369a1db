"""Callbacks from the payment processor and the carrier."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from shop.api.helpers import json_body
from shop.db import get_session
from shop.errors import Forbidden, ValidationError
from shop.integrations.gateways import verify_signature
from shop.services import billing, fulfilment
from shop.utils.ids import is_valid_tracking_number
from shop.utils.logs import get_logger, log_event
from shop.utils.validation import positive_int, require_fields

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

log = get_logger("webhooks")


@bp.post("/payments")
def payment_event() -> Any:
    """Processor events: ``invoice.paid`` (bank transfer matched) and ``charge.disputed``."""
    if not verify_signature(request.get_data(), request.headers.get("X-Signature"),
                            current_app.config["PAYMENT_WEBHOOK_SECRET"]):
        raise Forbidden("bad webhook signature")
    session = get_session()
    payload = require_fields(json_body(), "type", "reference")
    event_type = payload["type"]
    if event_type == "invoice.paid":
        payment = billing.mark_invoice_paid(session, payload["reference"],
                                            positive_int(payload.get("amount_cents"), "amount_cents"))
    elif event_type == "charge.disputed":
        payment = billing.record_dispute(session, payload["reference"], payload.get("reason", "unknown"))
    else:
        log_event(log, "webhook.ignored", type=event_type)
        return jsonify({"ignored": event_type}), 202
    session.commit()
    return jsonify({"reference": payment.reference, "status": payment.status})


@bp.post("/carrier")
def carrier_event() -> Any:
    """Tracking scans pushed by the carrier."""
    token = request.headers.get("X-Carrier-Token", "")
    if not hmac.compare_digest(token, current_app.config["CARRIER_WEBHOOK_TOKEN"]):
        raise Forbidden("bad carrier token")
    session = get_session()
    payload = json_body()
    events = payload.get("events")
    if not isinstance(events, list):
        raise ValidationError("events: expected a list", details={"events": "required"})
    for event in events:
        require_fields(event, "tracking_number", "status")
        if not is_valid_tracking_number(str(event["tracking_number"])):
            raise ValidationError(f"bad tracking number {event['tracking_number']!r}",
                                  details={"tracking_number": "invalid"})
        fulfilment.record_tracking_event(session, event["tracking_number"], event["status"],
                                         location=event.get("location"), occurred_at=event.get("occurred_at"),
                                         raw=event)
    session.commit()
    return jsonify({"accepted": len(events)})
