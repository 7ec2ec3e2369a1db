"""The util module.  Everybody imports it; please keep it dependency free.

Historically this started as a place for money formatting and grew a clock,
reference generation and table printing.  The clock can be pinned with the
``TRAVEL_NOW`` environment variable (ISO timestamp), which the test-suite and
the staging replays rely on.
"""

import json
import os
import secrets
import string
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

ISO_DATE = "%Y-%m-%d"
ISO_MINUTE = "%Y-%m-%dT%H:%M"

# No 0/O or 1/I: references get read out over the phone.
_REF_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1I")

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def now():
    """Current time as a naive UTC datetime (or the pinned ``TRAVEL_NOW``)."""
    pinned = os.environ.get("TRAVEL_NOW")
    if pinned:
        return datetime.fromisoformat(pinned)
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def now_iso():
    """:func:`now` as an ISO string, the format every timestamp column uses."""
    return now().isoformat(timespec="seconds")


def today():
    return now().date()


def parse_date(value):
    """Parse ``YYYY-MM-DD`` (or pass a :class:`date` through)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return datetime.strptime(str(value), ISO_DATE).date()
    except ValueError:
        from travel.common.errors import ValidationError

        raise ValidationError(f"not a date (expected YYYY-MM-DD): {value!r}") from None


def parse_timestamp(value):
    """Parse an ISO timestamp as stored in the database."""
    return datetime.fromisoformat(value)


def add_minutes(ts, minutes):
    return (parse_timestamp(ts) + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def nights_between(check_in, check_out):
    """List the nights (as ISO date strings) of a stay; check-out night excluded."""
    start, end = parse_date(check_in), parse_date(check_out)
    if end <= start:
        from travel.common.errors import ValidationError

        raise ValidationError("check-out must be after check-in")
    return [(start + timedelta(days=i)).strftime(ISO_DATE) for i in range((end - start).days)]


def date_range(start, days):
    start = parse_date(start)
    return [(start + timedelta(days=i)).strftime(ISO_DATE) for i in range(days)]


def new_reference(prefix="TA"):
    """A booking reference such as ``TA-7KXQ2M``."""
    return prefix + "-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


def to_cents(amount):
    """Convert a user-typed amount ("12.50") into integer cents."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def round_cents(value):
    """Round a Decimal/float amount of cents to an int, half up (finance insisted)."""
    return int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def percent_of(cents, pct):
    return round_cents(Decimal(cents) * Decimal(pct) / Decimal(100))


def format_money(cents, currency="EUR"):
    """``format_money(123456, "EUR")`` → ``'€1,234.56'``."""
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{symbol}{cents // 100:,}.{cents % 100:02d}"


def dumps(obj):
    """Stable JSON for payload columns."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def loads(text):
    return json.loads(text) if text else {}


def format_table(rows, headers):
    """Render rows (sequences) as a fixed-width text table for the CLI."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def chunked(items, size):
    """Yield lists of at most ``size`` items."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
