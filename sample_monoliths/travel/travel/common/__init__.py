"""Helpers shared by every part of the platform (money, dates, errors)."""

from travel.common.errors import (
    GatewayError,
    InvalidState,
    NotFound,
    PaymentDeclined,
    SoldOut,
    TravelError,
    ValidationError,
)

__all__ = [
    "GatewayError",
    "InvalidState",
    "NotFound",
    "PaymentDeclined",
    "SoldOut",
    "TravelError",
    "ValidationError",
]
