"""Date and time helpers.

The database stores naive UTC datetimes (SQLite has no time zones and nobody wanted to
migrate the old MySQL data). Always get "now" from :func:`utcnow` so tests can reason about
it and nobody accidentally stores local time again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

# Public holidays on which the warehouses do not ship. Only the fixed-date ones: the moving
# holidays are handled by the carriers' own calendars.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 3), (12, 25), (12, 26)}


def utcnow() -> datetime:
    """The current time as a naive UTC datetime, the way the database stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    return utcnow().date()


def parse_date(value: str | date | None, *, field: str = "date") -> date | None:
    """Parse ``YYYY-MM-DD``; ``None`` and ``""`` give ``None``. Raises ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{field}: expected YYYY-MM-DD, got {value!r}") from None


def parse_datetime(value: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp into naive UTC (offsets are converted, then dropped)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def date_range(start: date, end: date) -> Iterator[date]:
    """Every day from ``start`` to ``end``, both included."""
    current = start
    while current <= end:
        yield current
        current += timedelta(days=1)


def is_business_day(day: date, holidays: Iterable[date] = ()) -> bool:
    if day.weekday() >= 5:
        return False
    if (day.month, day.day) in FIXED_HOLIDAYS:
        return False
    return day not in set(holidays)


def add_business_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """The date ``days`` business days after ``start`` (weekends and holidays skipped)."""
    holiday_set = set(holidays)
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current, holiday_set):
            remaining -= 1
    return current


def isoformat(value: datetime | date | None) -> str | None:
    """ISO string for JSON output; datetimes get a trailing ``Z`` because they are UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def days_ago(days: int, *, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=days)
