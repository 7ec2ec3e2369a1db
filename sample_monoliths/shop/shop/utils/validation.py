"""Input validation shared by the API, the CLI importers and the webhooks.

These raise :class:`shop.errors.ValidationError` with a ``details`` dict mapping field names
to messages, which the API returns as-is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from shop.errors import ValidationError

EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
SKU_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-]{2,31}$")
PHONE_RE = re.compile(r"^\+?[0-9]{6,15}$")

# Countries we ship to, with the postcode format the carriers accept.
POSTCODE_PATTERNS = {
    "DE": re.compile(r"^\d{5}$"),
    "AT": re.compile(r"^\d{4}$"),
    "NL": re.compile(r"^\d{4} ?[A-Z]{2}$"),
    "BE": re.compile(r"^\d{4}$"),
    "FR": re.compile(r"^\d{5}$"),
    "IT": re.compile(r"^\d{5}$"),
    "ES": re.compile(r"^\d{5}$"),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
}
COUNTRIES = frozenset(POSTCODE_PATTERNS)


def fail(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", details={field: message})


def require_fields(payload: Mapping[str, Any] | None, *fields: str) -> Mapping[str, Any]:
    """Check that every field is present and not empty; returns the payload."""
    if payload is None or not isinstance(payload, Mapping):
        raise ValidationError("expected a JSON object")
    missing = {f: "required" for f in fields if payload.get(f) in (None, "", [])}
    if missing:
        raise ValidationError("missing fields: " + ", ".join(sorted(missing)), details=missing)
    return payload


def validate_email(value: Any, field: str = "email") -> str:
    if not isinstance(value, str) or not EMAIL_RE.match(value.strip()):
        raise fail(field, "not a valid e-mail address")
    return value.strip().lower()


def validate_sku(value: Any, field: str = "sku") -> str:
    text = str(value or "").strip().upper()
    if not SKU_RE.match(text):
        raise fail(field, "3-32 letters, digits or dashes")
    return text


def validate_phone(value: Any, field: str = "phone") -> str | None:
    if value in (None, ""):
        return None
    digits = re.sub(r"[\s\-/()]", "", str(value))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not PHONE_RE.match(digits):
        raise fail(field, "not a phone number")
    return digits


def validate_country(value: Any, field: str = "country") -> str:
    code = str(value or "").strip().upper()
    if code not in COUNTRIES:
        raise fail(field, "we do not ship to " + (code or "an empty country"))
    return code


def validate_postcode(country: str, value: Any, field: str = "postcode") -> str:
    text = str(value or "").strip().upper()
    pattern = POSTCODE_PATTERNS.get(country)
    if pattern is None or not pattern.match(text):
        raise fail(field, f"not a valid postcode for {country}")
    return text


def positive_int(value: Any, field: str, *, allow_zero: bool = False, maximum: int | None = None) -> int:
    """Parse an int that must be > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool):
        raise fail(field, "must be a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise fail(field, "must be a whole number") from None
    if isinstance(value, float) and value != number:
        raise fail(field, "must be a whole number")
    if number < 0 or (number == 0 and not allow_zero):
        raise fail(field, "must be positive")
    if maximum is not None and number > maximum:
        raise fail(field, f"must be at most {maximum}")
    return number


def one_of(value: Any, choices: Iterable[str], field: str) -> str:
    options = list(choices)
    if value not in options:
        raise fail(field, "must be one of " + ", ".join(options))
    return value


def optional_str(payload: Mapping[str, Any], field: str, *, max_length: int = 255) -> str | None:
    value = payload.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(field, "must be a string")
    value = value.strip()
    if len(value) > max_length:
        raise fail(field, f"at most {max_length} characters")
    return value or None
