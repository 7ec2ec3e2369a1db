"""Money helpers.

All amounts are stored as integer minor units ("cents") since the 2019 migration away from
floats (INC-412: a rounding error that priced a sofa at 0.01 EUR). Use these helpers at the
edges -- parsing input and formatting output -- and do arithmetic on plain ints in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DEFAULT_CURRENCY = "EUR"

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF "}

# Number of digits after the decimal point. JPY is only here because the Japanese
# marketplace experiment (2021) left orders in the database that the reports still read.
MINOR_UNITS = {"EUR": 2, "GBP": 2, "USD": 2, "CHF": 2, "JPY": 0}


class MoneyError(ValueError):
    """An amount could not be parsed or does not make sense."""


def _exponent(currency: str) -> int:
    try:
        return MINOR_UNITS[currency.upper()]
    except KeyError:
        raise MoneyError(f"unsupported currency {currency!r}") from None


def to_cents(value: object, currency: str = DEFAULT_CURRENCY) -> int:
    """Parse an amount in major units ("12.50", 12.5, Decimal("12.5"), 12) into cents.

    Strings may use a comma as decimal separator, because the back office is used by people
    who type ``12,50``. More precision than the currency has is rounded half up.
    """
    if isinstance(value, bool) or value is None:
        raise MoneyError(f"not an amount: {value!r}")
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        for symbol in CURRENCY_SYMBOLS.values():
            text = text.replace(symbol.strip(), "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        value = text
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MoneyError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    scale = Decimal(10) ** _exponent(currency)
    return int((amount * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_cents(cents: int, currency: str = DEFAULT_CURRENCY) -> Decimal:
    """Turn cents back into a Decimal amount in major units."""
    exponent = _exponent(currency)
    return (Decimal(cents) / (Decimal(10) ** exponent)).quantize(Decimal(1).scaleb(-exponent))


def format_money(cents: int, currency: str = DEFAULT_CURRENCY) -> str:
    """Format for humans: ``format_money(-1250) == "-€12.50"``."""
    amount = from_cents(abs(cents), currency)
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), currency.upper() + " ")
    sign = "-" if cents < 0 else ""
    return f"{sign}{symbol}{amount:,}"


def percent_of(cents: int, percent: int | float | Decimal) -> int:
    """``percent`` percent of ``cents``, rounded half up to whole cents."""
    value = Decimal(cents) * Decimal(str(percent)) / Decimal(100)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def basis_points_of(cents: int, basis_points: int) -> int:
    """Like :func:`percent_of` but with the rate in basis points (1900 == 19 %)."""
    value = Decimal(cents) * Decimal(basis_points) / Decimal(10_000)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(total_cents: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_cents`` proportionally to ``weights`` without losing a cent.

    Uses the largest-remainder method, so ``sum(allocate(t, w)) == t`` always holds. Used to
    spread an order discount over its lines and a refund over several payments.
    """
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        shares = [0] * len(weights)
        shares[0] = total_cents
        return shares
    raw = [Decimal(total_cents) * Decimal(w) / Decimal(weight_sum) for w in weights]
    shares = [int(r) for r in raw]
    leftover = total_cents - sum(shares)
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)
    for index in by_remainder[:leftover]:
        shares[index] += 1
    return shares


def sum_cents(amounts: Iterable[int | None]) -> int:
    """Sum amounts, treating ``None`` (a NULL column) as zero."""
    return sum(a or 0 for a in amounts)

