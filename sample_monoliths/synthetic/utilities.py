"""Source of the helper modules under ``<package>/common``, and how service code calls them.

Each template is a complete module plus call snippets (one or more lines, formatted with
``ident``, ``payload``, ``topic`` and ``session``) that service code pastes into its
functions. Asking for more utility modules than there are templates reuses them under
numbered names (``text_2``), as copied helpers accumulate in real code bases.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UtilityTemplate:
    source: str
    calls: tuple[tuple[str, str], ...]  # (imported name, statement template)


UTILITY_TEMPLATES: dict[str, UtilityTemplate] = {
    "text": UtilityTemplate(
        '''"""Small string helpers."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(value: str) -> str:
    """Lowercase ASCII words joined by dashes."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return _NON_WORD.sub("-", ascii_text.lower()).strip("-")


def truncate(value: str, limit: int = 80, ellipsis: str = "...") -> str:
    """At most limit characters, ending in ellipsis when shortened."""
    if len(value) <= limit:
        return value
    return value[: max(0, limit - len(ellipsis))] + ellipsis
''',
        (
            ("slugify", 'slug = slugify("{topic}-" + str({ident}))'),
            ("truncate", 'summary = truncate(str({payload}.get("notes", "")), 120)'),
        ),
    ),
    "clock": UtilityTemplate(
        '''"""Time helpers: always timezone-aware, always UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(tz=UTC)


def business_days_between(start: date, end: date) -> int:
    """Weekdays from start (inclusive) to end (exclusive)."""
    days = 0
    current = start
    while current < end:
        if current.weekday() < 5:
            days += 1
        current += timedelta(days=1)
    return days
''',
        (
            ("utcnow", "now = utcnow()"),
        ),
    ),
    "money": UtilityTemplate(
        '''"""Money arithmetic with explicit rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def round_money(value: Decimal) -> Decimal:
    """Round to cents, banker's rounding."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def to_money(value: object) -> Decimal:
    """Parse a number sent by a client into a rounded Decimal."""
    return round_money(Decimal(str(value)))


def split_evenly(total: Decimal, parts: int) -> list[Decimal]:
    """Split total into parts that add up exactly."""
    share = round_money(total / parts)
    shares = [share] * parts
    shares[-1] = total - share * (parts - 1)
    return shares
''',
        (
            ("to_money", 'amount = to_money({payload}.get("amount", "0"))'),
        ),
    ),
    "pagination": UtilityTemplate(
        '''"""Page and page-size handling for list endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
MAX_PAGE_SIZE = 200


def clamp_page(page: int, per_page: int) -> tuple[int, int]:
    """A valid (page, per_page) pair."""
    return max(1, page), min(MAX_PAGE_SIZE, max(1, per_page))


def paginate(items: Sequence[T], page: int, per_page: int) -> list[T]:
    """One page of items."""
    page, per_page = clamp_page(page, per_page)
    start = (page - 1) * per_page
    return list(items[start : start + per_page])
''',
        (("clamp_page", 'page, per_page = clamp_page(int({payload}.get("page", 1)), 50)'),),
    ),
    "validation": UtilityTemplate(
        '''"""Generic payload checks shared by the schema modules."""

from __future__ import annotations

from typing import Any


def require_fields(payload: dict[str, Any], *names: str) -> list[str]:
    """One message per missing or empty field."""
    return [f"{name} is required" for name in names if payload.get(name) in (None, "")]


def ensure_positive(value: Any, name: str) -> None:
    """Raise ValueError unless value is a positive number."""
    if not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{name} must be positive")
''',
        (
            ("require_fields", 'missing = require_fields({payload}, "reference")'),
            ("ensure_positive", "ensure_positive({ident} or 1, \"id\")"),
        ),
    ),
    "audit": UtilityTemplate(
        '''"""Structured audit logging."""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger("audit")


def log_event(topic: str, **fields: Any) -> None:
    """Write one audit line with a topic and key-value fields."""
    logger.info("%s %s", topic, json.dumps(fields, default=str, sort_keys=True))
''',
        (("log_event", 'log_event("{topic}", ref={ident})'),),
    ),
    "caching": UtilityTemplate(
        '''"""A tiny process-local cache with explicit invalidation."""

from __future__ import annotations

from typing import Any

_CACHE: dict[tuple[str, Any], Any] = {}


def remember(namespace: str, key: Any, value: Any) -> Any:
    """Store value and return it."""
    _CACHE[(namespace, key)] = value
    return value


def invalidate(namespace: str, key: Any) -> None:
    """Forget one cached value."""
    _CACHE.pop((namespace, key), None)
''',
        (
            ("invalidate", 'invalidate("{topic}", {ident})'),
            ("remember", 'remember("{topic}", {ident}, {payload})'),
        ),
    ),
    "ids": UtilityTemplate(
        '''"""Human-friendly references."""

from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_uppercase + string.digits


def new_reference(prefix: str, length: int = 8) -> str:
    """prefix-XXXXXXXX with unambiguous characters."""
    return prefix + "-" + "".join(secrets.choice(ALPHABET) for _ in range(length))
''',
        (("new_reference", 'reference = new_reference("{topic}".split(".")[0].upper())'),),
    ),
    "flags": UtilityTemplate(
        '''"""Feature flags read from the environment."""

from __future__ import annotations

import os


def is_enabled(flag: str) -> bool:
    """FLAG_<NAME>=1 turns a flag on."""
    return os.environ.get("FLAG_" + flag.upper().replace(".", "_"), "") == "1"
''',
        (("is_enabled", 'enabled = is_enabled("{topic}")'),),
    ),
    "metrics": UtilityTemplate(
        '''"""Counters and timings sent to the metrics backend."""

from __future__ import annotations

from collections import Counter

COUNTERS: Counter[str] = Counter()


def increment(name: str, value: int = 1) -> None:
    """Add value to a named counter."""
    COUNTERS[name] += value


def gauge(name: str, value: float) -> None:
    """Record the current value of something."""
    COUNTERS[name] = int(value)
''',
        (("increment", 'increment("{topic}")'), ("gauge", 'gauge("{topic}", 1.0)')),
    ),
    "retry": UtilityTemplate(
        '''"""Retry bookkeeping for flaky downstream calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def with_retry(action: Callable[[], T], attempts: int = 3) -> T:
    """Run action, retrying on any exception up to attempts times."""
    for attempt in range(attempts):
        try:
            return action()
        except Exception:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def retry_later(topic: str, ref: object) -> None:
    """Remember that topic/ref should be retried by the scheduler."""
    _PENDING.append((topic, ref))


_PENDING: list[tuple[str, object]] = []
''',
        (("retry_later", 'retry_later("{topic}", {ident})'),),
    ),
    "serialization": UtilityTemplate(
        '''"""Turning domain objects into JSON-safe values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Recursively convert decimals, dates and containers."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value
''',
        (("to_jsonable", "body = to_jsonable({payload})"),),
    ),
    "http": UtilityTemplate(
        '''"""Problem-details bodies for HTTP errors."""

from __future__ import annotations

from typing import Any


def problem(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    """An RFC 7807 body."""
    return {"status": status, "detail": detail, **extra}
''',
        (("problem", 'error_body = problem(409, "{topic} conflict", ref={ident})'),),
    ),
    "auth": UtilityTemplate(
        '''"""Who is calling: the current user, from the request context."""

from __future__ import annotations

import contextvars

_CURRENT_USER: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_user", default=None
)


def current_user_id() -> int | None:
    """The id of the authenticated caller, if any."""
    return _CURRENT_USER.get()


def require_user() -> int:
    """The caller's id; PermissionError for anonymous calls."""
    user = current_user_id()
    if user is None:
        raise PermissionError("login required")
    return user
''',
        (("current_user_id", "actor_id = current_user_id()"), ("require_user",
                                                                "actor_id = require_user()")),
    ),
    "i18n": UtilityTemplate(
        '''"""Message catalogue lookups."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {"en": {}, "de": {}, "fr": {}}


def translate(key: str, locale: str = "en") -> str:
    """The message for key in locale, or the key itself."""
    return MESSAGES.get(locale, {}).get(key, key)
''',
        (("translate", 'message = translate("{topic}", "en")'),),
    ),
    "ratelimit": UtilityTemplate(
        '''"""Per-key rate limiting with a fixed window."""

from __future__ import annotations

import time

_WINDOWS: dict[str, tuple[int, int]] = {}


def allow(key: str, limit: int = 60) -> bool:
    """True while key has made fewer than limit calls this minute."""
    window = int(time.time() // 60)
    start, count = _WINDOWS.get(key, (window, 0))
    if start != window:
        start, count = window, 0
    _WINDOWS[key] = (start, count + 1)
    return count < limit
''',
        (("allow", 'allowed = allow("{topic}")'),),
    ),
}
