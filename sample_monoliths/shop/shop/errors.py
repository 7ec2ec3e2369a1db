"""Exceptions raised by the services and turned into JSON errors by the API layer.

Every error carries an HTTP status and a stable machine-readable ``code``; the storefront
switches on the code, so never rename one.
"""

from __future__ import annotations

from typing import Any


class ShopError(Exception):
    """Base class of every expected, user-facing failure."""

    status_code = 400
    code = "shop_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            payload["details"] = self.details
        return payload


class ValidationError(ShopError):
    status_code = 422
    code = "validation_error"


class NotFound(ShopError):
    status_code = 404
    code = "not_found"


class Forbidden(ShopError):
    status_code = 403
    code = "forbidden"


class Conflict(ShopError):
    status_code = 409
    code = "conflict"


class InvalidStateTransition(Conflict):
    code = "invalid_state_transition"


class InsufficientCredit(ShopError):
    """The order would take the customer over their credit limit."""

    status_code = 402
    code = "insufficient_credit"


class OutOfStock(Conflict):
    """Not enough sellable stock in any warehouse for one line of an order."""

    code = "out_of_stock"

    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(
            f"only {available} of {sku} available, {requested} requested",
            details={"sku": sku, "requested": requested, "available": available},
        )
        self.sku = sku


class PaymentDeclined(ShopError):
    status_code = 402
    code = "payment_declined"


class CouponInvalid(ShopError):
    status_code = 422
    code = "coupon_invalid"
