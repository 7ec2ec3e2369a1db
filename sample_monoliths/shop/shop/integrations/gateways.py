"""Payment gateways.

Production talks to the card processor through its SDK (``shop_payments_sdk``, vendored on
the payment hosts only); everywhere else :class:`FakeCardGateway` is configured. The class
to use comes from the ``PAYMENT_GATEWAY`` setting, a dotted path such as
``"shop.integrations.gateways.FakeCardGateway"``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from shop.utils.ids import payment_reference
from shop.utils.loading import instantiate
from shop.utils.logs import get_logger, log_event

log = get_logger("payments.gateway")

EXTENSION_KEY = "shop.payment_gateway"


@dataclass
class GatewayResult:
    ok: bool
    reference: str | None = None
    code: str = "ok"
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class PaymentGateway:
    """What the shop needs from a card processor."""

    name = "abstract"

    def charge(self, amount_cents: int, currency: str, token: str, *, idempotency_key: str,
               description: str = "") -> GatewayResult:
        raise NotImplementedError

    def refund(self, reference: str, amount_cents: int) -> GatewayResult:
        raise NotImplementedError


class FakeCardGateway(PaymentGateway):
    """An in-memory card processor with the processor's test tokens.

    ``tok_visa`` and friends succeed, the ``tok_declined`` family fails with the
    processor's decline codes. Charges are idempotent on ``idempotency_key`` like the real
    thing.
    """

    name = "fake"

    DECLINES = {
        "tok_declined": ("card_declined", "The card was declined."),
        "tok_insufficient_funds": ("insufficient_funds", "The card has insufficient funds."),
        "tok_expired": ("expired_card", "The card has expired."),
        "tok_fraud": ("suspected_fraud", "The payment was blocked."),
    }

    def __init__(self, fail_refunds: bool = False) -> None:
        self.fail_refunds = fail_refunds
        self.charges: dict[str, dict[str, Any]] = {}
        self._by_idempotency_key: dict[str, GatewayResult] = {}

    def charge(self, amount_cents: int, currency: str, token: str, *, idempotency_key: str,
               description: str = "") -> GatewayResult:
        if idempotency_key in self._by_idempotency_key:
            return self._by_idempotency_key[idempotency_key]
        if not token or not token.startswith("tok_"):
            result = GatewayResult(False, code="invalid_token", message="Unknown card token.")
        elif token in self.DECLINES:
            code, message = self.DECLINES[token]
            result = GatewayResult(False, code=code, message=message)
        elif amount_cents <= 0:
            result = GatewayResult(False, code="invalid_amount", message="Amount must be positive.")
        else:
            reference = payment_reference("ch")
            self.charges[reference] = {"amount": amount_cents, "currency": currency,
                                       "refunded": 0, "description": description}
            result = GatewayResult(True, reference=reference, raw={"amount": amount_cents})
        self._by_idempotency_key[idempotency_key] = result
        log_event(log, "gateway.charge", ok=result.ok, code=result.code, amount=amount_cents)
        return result

    def refund(self, reference: str, amount_cents: int) -> GatewayResult:
        charge = self.charges.get(reference)
        if self.fail_refunds:
            return GatewayResult(False, code="processor_unavailable", message="Try again later.")
        if charge is None:
            return GatewayResult(False, code="no_such_charge", message=f"Unknown charge {reference}.")
        if charge["refunded"] + amount_cents > charge["amount"]:
            return GatewayResult(False, code="amount_too_large", message="Refund exceeds the charge.")
        charge["refunded"] += amount_cents
        log_event(log, "gateway.refund", reference=reference, amount=amount_cents)
        return GatewayResult(True, reference=payment_reference("re"))


class DeclineAllGateway(FakeCardGateway):
    """Configured during processor maintenance windows: every charge is declined."""

    name = "maintenance"

    def charge(self, amount_cents: int, currency: str, token: str, *, idempotency_key: str,
               description: str = "") -> GatewayResult:
        return GatewayResult(False, code="processor_unavailable",
                             message="Card payments are unavailable, please try again later.")


def load_gateway(app: Flask | None = None) -> PaymentGateway:
    """The configured gateway instance, created on first use and kept on the app."""
    app = app or current_app
    gateway = app.extensions.get(EXTENSION_KEY)
    if gateway is None:
        gateway = instantiate(app.config["PAYMENT_GATEWAY"], **app.config.get("PAYMENT_GATEWAY_OPTIONS", {}))
        app.extensions[EXTENSION_KEY] = gateway
    return gateway


def sign_payload(payload: bytes, secret: str) -> str:
    """The signature the processor puts in the ``X-Signature`` header of its webhooks."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def verify_signature(payload: bytes, signature: str | None, secret: str) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(sign_payload(payload, secret), signature)
