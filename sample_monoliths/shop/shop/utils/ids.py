"""Identifiers that humans see: order numbers, coupon codes, tracking numbers.

Database ids never leave the building for orders (customers could guess how many orders we
take a day); the public identifier is the order number.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from shop.utils.dates import utcnow

# No 0/O, 1/I: customers read these codes out over the phone.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def random_token(length: int = 8, alphabet: str = ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def order_number(now: datetime | None = None) -> str:
    """``SO-250131-7KQ2MX``: prefix, order date, six random characters."""
    stamp = (now or utcnow()).strftime("%y%m%d")
    return f"SO-{stamp}-{random_token(6)}"


def coupon_code(prefix: str = "PROMO", length: int = 6) -> str:
    return f"{prefix.upper()}-{random_token(length)}"


def luhn_check_digit(digits: str) -> int:
    """The Luhn check digit for a string of digits (the carriers use it in labels)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def tracking_number(carrier_code: str) -> str:
    """A carrier tracking number: carrier prefix, 11 digits and a Luhn check digit."""
    body = "".join(secrets.choice("0123456789") for _ in range(11))
    return f"{carrier_code.upper()}{body}{luhn_check_digit(body)}"


def is_valid_tracking_number(value: str) -> bool:
    digits = value[-12:]
    if len(value) < 13 or not digits.isdigit():
        return False
    return luhn_check_digit(digits[:-1]) == int(digits[-1])


def payment_reference(prefix: str = "PAY") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16].upper()}"

