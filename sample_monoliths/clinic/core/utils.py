"""
Small helpers used all over the code base.

Historically this started as the place for money rounding and grew from there.
Please keep it free of model imports at module level: models.py imports this
module, so a top-level model import here would be circular.
"""

import datetime as dt
import json
import logging
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import JsonResponse
from django.utils import timezone

logger = logging.getLogger("clinic")

CENT = Decimal("0.01")
_PHONE_JUNK = re.compile(r"[\s\-()./]")


def clinic_setting(key, default=None):
    """Return one entry of ``settings.CLINIC`` (the business configuration)."""
    return getattr(settings, "CLINIC", {}).get(key, default)


def money(value):
    """Round anything number-like to cents, half up, as accounting wants it."""
    if value is None:
        return Decimal("0.00")
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount, currency=None):
    """Format an amount for humans: ``EUR 1,234.50``."""
    currency = currency or clinic_setting("CURRENCY", "EUR")
    return f"{currency} {money(amount):,.2f}"


def percent_of(amount, percent):
    """``percent`` % of ``amount``, rounded to cents."""
    return money(money(amount) * Decimal(str(percent)) / Decimal("100"))


def next_sequence_number(model, field, prefix, year=None, width=6):
    """
    Next human-readable number like ``INV-2024-000042`` for ``model.field``.

    Looks at the highest existing number of the year. Two concurrent callers can
    get the same number; the unique constraint on the field catches that and the
    caller retries (it has happened twice in production, both at month end).
    """
    year = year or timezone.localdate().year
    stem = f"{prefix}-{year}-"
    last = (
        model._default_manager.filter(**{f"{field}__startswith": stem})
        .order_by(f"-{field}")
        .values_list(field, flat=True)
        .first()
    )
    counter = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{counter:0{width}d}"


def normalize_phone(raw, default_country="+49"):
    """Normalise a phone number to ``+<country><number>`` or return ``""``."""
    if not raw:
        return ""
    number = _PHONE_JUNK.sub("", str(raw))
    if number.startswith("00"):
        number = "+" + number[2:]
    elif number.startswith("0"):
        number = default_country + number[1:]
    elif not number.startswith("+"):
        number = default_country + number
    if not number[1:].isdigit() or len(number) < 8:
        raise ValueError(f"not a phone number: {raw!r}")
    return number


def mask(value, keep=3):
    """Mask an identifier for log lines: ``LH-000123`` -> ``******123``."""
    value = str(value or "")
    if len(value) <= keep:
        return value
    return "*" * (len(value) - keep) + value[-keep:]


def age_on(birth_date, on=None):
    """Age in whole years on the day ``on`` (today by default)."""
    if birth_date is None:
        return None
    on = on or timezone.localdate()
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def ensure_aware(value):
    """Make a naive datetime aware in the clinic's time zone."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, timezone.get_current_timezone())
    return value


def parse_date(value, default=None):
    """Parse ``YYYY-MM-DD`` from a query string; ``default`` when missing or bad."""
    if not value:
        return default
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return default


def parse_datetime(value):
    """Parse an ISO 8601 timestamp into an aware datetime, or raise ValueError."""
    if isinstance(value, dt.datetime):
        return ensure_aware(value)
    parsed = dt.datetime.fromisoformat(str(value))
    return ensure_aware(parsed)


def day_bounds(day):
    """Aware ``[start, end)`` datetimes of a local calendar day."""
    start = ensure_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def overlaps(a_start, a_end, b_start, b_end):
    """True when the half-open intervals ``[a_start, a_end)`` and ``[b_start, b_end)`` meet."""
    return a_start < b_end and b_start < a_end


def daterange(start, end):
    """Yield every date from ``start`` up to and including ``end``."""
    current = start
    while current <= end:
        yield current
        current += dt.timedelta(days=1)


def chunked(items, size):
    """Split a sequence into lists of at most ``size`` items."""
    items = list(items)
    for index in range(0, len(items), size):
        yield items[index : index + size]


def json_ok(data=None, status=200):
    """Successful JSON response with the envelope the mobile app expects."""
    return JsonResponse({"ok": True, "data": data}, status=status)


def json_error(message, status=400, code="bad_request", **details):
    """Error JSON response; ``details`` end up under the ``details`` key."""
    payload = {"ok": False, "error": code, "message": message}
    if details:
        payload["details"] = details
    return JsonResponse(payload, status=status)


def read_json_body(request):
    """Decode a JSON request body; raise ValueError with a readable message.

    Form-encoded posts (old kiosk firmware) are accepted too and returned as a dict.
    """
    if request.content_type != "application/json":
        return request.POST.dict()
    if not request.body:
        return {}
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("request body must be a JSON object")
    return data


def paginate(queryset, page, per_page=25):
    """Return one page of ``queryset``; bad page numbers fall back sensibly."""
    paginator = Paginator(queryset, per_page)
    try:
        return paginator.page(page)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


def log_event(event, **fields):
    """Structured-ish log line, grep-able by ``event=`` in Kibana."""
    rendered = " ".join(f"{key}={value}" for key, value in sorted(fields.items()))
    logger.info("event=%s %s", event, rendered)
