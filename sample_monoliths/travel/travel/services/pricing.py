"""Pricing: fares, hotel rates, seasonal rules, taxes and currency conversion.

Everything is priced in EUR cents first and converted to the customer's
currency at the very end, line by line, so that the lines always add up to the
total the customer sees.
"""

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from travel.common.errors import NotFound, ValidationError
from travel.common.util import nights_between, now_iso, percent_of, round_cents

BASE_CURRENCY = "EUR"


@dataclass
class PricedLine:
    """One priced component of a trip (a flight leg or a hotel stay)."""

    kind: str
    ref_id: int
    description: str
    quantity: int
    base_cents: int
    seasonal_cents: int = 0
    taxes_cents: int = 0
    tax_names: list = field(default_factory=list)

    @property
    def total_cents(self):
        return self.base_cents + self.seasonal_cents + self.taxes_cents


@dataclass
class Quote:
    """A priced trip in ``currency``; ``lines`` stay in EUR for auditing."""

    currency: str
    lines: list
    base_cents: int = 0
    seasonal_cents: int = 0
    taxes_cents: int = 0
    total_cents: int = 0
    total_eur_cents: int = 0
    line_totals: list = field(default_factory=list)  # per line, in ``currency``

    def to_json(self):
        return json.dumps([asdict(line) for line in self.lines], sort_keys=True)


# --------------------------------------------------------------- currencies


def get_rate(conn, currency):
    """Units of ``currency`` per 1 EUR, as a Decimal."""
    currency = currency.upper()
    if currency == BASE_CURRENCY:
        return Decimal(1)
    row = conn.execute(
        "SELECT units_per_eur FROM exchange_rates WHERE currency = ?", (currency,)
    ).fetchone()
    if row is None:
        raise ValidationError(f"no exchange rate for {currency}")
    return Decimal(str(row["units_per_eur"]))


def convert(conn, cents, from_currency, to_currency):
    """Convert integer cents between currencies via EUR, rounding half up."""
    if from_currency.upper() == to_currency.upper():
        return int(cents)
    eur = Decimal(cents) / get_rate(conn, from_currency)
    return round_cents(eur * get_rate(conn, to_currency))


def set_exchange_rate(conn, currency, units_per_eur):
    """Insert or update a rate (treasury sends these every morning)."""
    if units_per_eur <= 0:
        raise ValidationError("exchange rate must be positive")
    conn.execute(
        """
        INSERT INTO exchange_rates (currency, units_per_eur, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (currency) DO UPDATE SET units_per_eur = excluded.units_per_eur,
                                             updated_at = excluded.updated_at
        """,
        (currency.upper(), float(units_per_eur), now_iso()),
    )


# ----------------------------------------------------------- seasons, taxes


def seasonal_adjustment_pct(conn, applies_to, day):
    """Sum of all seasonal adjustments active on ``day`` for flights or hotels."""
    row = conn.execute(
        "SELECT COALESCE(SUM(adjustment_pct), 0) AS pct FROM seasonal_rules "
        "WHERE applies_to IN (?, 'any') AND starts_on <= ? AND ends_on >= ?",
        (applies_to, day, day),
    ).fetchone()
    return int(row["pct"])


def taxes_for(conn, country, applies_to, net_cents, units):
    """Taxes on ``net_cents`` for ``units`` passengers / room-nights.

    Returns ``(total_cents, [names])``.
    """
    rules = conn.execute(
        "SELECT name, rate_bp, flat_cents FROM tax_rules WHERE country = ? AND applies_to = ? "
        "ORDER BY id",
        (country, applies_to),
    ).fetchall()
    total = 0
    names = []
    for rule in rules:
        total += round_cents(Decimal(net_cents) * rule["rate_bp"] / 10000)
        total += rule["flat_cents"] * units
        names.append(rule["name"])
    return total, names


# ---------------------------------------------------------------- components


def fare_for(conn, flight_id, cabin):
    row = conn.execute(
        "SELECT base_cents FROM fares WHERE flight_id = ? AND cabin = ?", (flight_id, cabin)
    ).fetchone()
    if row is None:
        raise NotFound(f"no {cabin} fare filed for flight {flight_id}")
    return row["base_cents"]


def set_fare(conn, flight_id, cabin, base_cents):
    conn.execute(
        "INSERT INTO fares (flight_id, cabin, base_cents) VALUES (?, ?, ?) "
        "ON CONFLICT (flight_id, cabin) DO UPDATE SET base_cents = excluded.base_cents",
        (flight_id, cabin, base_cents),
    )


def price_flight(conn, flight_id, cabin, passengers):
    """Price one flight leg for ``passengers`` people (EUR)."""
    # reads the flights/airports tables directly -- pricing never had an API for this
    flight = conn.execute(
        "SELECT f.flight_no, f.departs_at, f.origin, f.destination, a.country "
        "FROM flights f JOIN airports a ON a.code = f.origin WHERE f.id = ?",
        (flight_id,),
    ).fetchone()
    if flight is None:
        raise NotFound(f"no flight with id {flight_id}")
    base = fare_for(conn, flight_id, cabin) * passengers
    seasonal = percent_of(base, seasonal_adjustment_pct(conn, "flight", flight["departs_at"][:10]))
    taxes, names = taxes_for(conn, flight["country"], "flight", base + seasonal, passengers)
    return PricedLine(
        kind="flight",
        ref_id=flight_id,
        description=f"{flight['flight_no']} {flight['origin']}-{flight['destination']} "
        f"{flight['departs_at']} {cabin}",
        quantity=passengers,
        base_cents=base,
        seasonal_cents=seasonal,
        taxes_cents=taxes,
        tax_names=names,
    )


def price_stay(conn, room_type_id, check_in, check_out, rooms):
    """Price a hotel stay night by night (seasonal rules can change mid-stay)."""
    room = conn.execute(
        "SELECT rt.name, rt.base_rate_cents, h.name AS hotel, h.country FROM room_types rt "
        "JOIN hotels h ON h.id = rt.hotel_id WHERE rt.id = ?",
        (room_type_id,),
    ).fetchone()
    if room is None:
        raise NotFound(f"no room type with id {room_type_id}")
    nights = nights_between(check_in, check_out)
    base = seasonal = 0
    for night in nights:
        nightly = room["base_rate_cents"] * rooms
        base += nightly
        seasonal += percent_of(nightly, seasonal_adjustment_pct(conn, "hotel", night))
    taxes, names = taxes_for(conn, room["country"], "hotel", base + seasonal, len(nights) * rooms)
    return PricedLine(
        kind="hotel",
        ref_id=room_type_id,
        description=f"{room['hotel']} {room['name']} {check_in}..{check_out} x{rooms}",
        quantity=rooms,
        base_cents=base,
        seasonal_cents=seasonal,
        taxes_cents=taxes,
        tax_names=names,
    )


def price_trip(conn, legs, passengers, stay=None, currency=BASE_CURRENCY):
    """Price flight legs (``[(flight_id, cabin), ...]``) plus an optional stay.

    ``stay`` is ``(room_type_id, check_in, check_out, rooms)``.
    """
    lines = [price_flight(conn, flight_id, cabin, passengers) for flight_id, cabin in legs]
    if stay is not None:
        lines.append(price_stay(conn, *stay))
    if not lines:
        raise ValidationError("nothing to price")
    quote = Quote(currency=currency.upper(), lines=lines)
    for line in lines:
        quote.base_cents += convert(conn, line.base_cents, BASE_CURRENCY, currency)
        quote.seasonal_cents += convert(conn, line.seasonal_cents, BASE_CURRENCY, currency)
        quote.taxes_cents += convert(conn, line.taxes_cents, BASE_CURRENCY, currency)
        quote.total_eur_cents += line.total_cents
    # line totals are the sum of converted parts so that the lines add up
    quote.line_totals = [
        sum(convert(conn, c, BASE_CURRENCY, currency)
            for c in (line.base_cents, line.seasonal_cents, line.taxes_cents))
        for line in lines
    ]
    quote.total_cents = quote.base_cents + quote.seasonal_cents + quote.taxes_cents
    return quote


def store_quote(conn, quote, booking_id=None):
    """Persist a quote (for the booking, or stand-alone from the ``quote`` command)."""
    return conn.execute(
        "INSERT INTO price_quotes (booking_id, currency, base_cents, seasonal_cents, taxes_cents, "
        "total_cents, total_eur_cents, lines, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            booking_id,
            quote.currency,
            quote.base_cents,
            quote.seasonal_cents,
            quote.taxes_cents,
            quote.total_cents,
            quote.total_eur_cents,
            quote.to_json(),
            now_iso(),
        ),
    ).lastrowid


def quote_for_booking(conn, booking_id):
    return conn.execute(
        "SELECT * FROM price_quotes WHERE booking_id = ? ORDER BY id DESC LIMIT 1", (booking_id,)
    ).fetchone()


def purge_stale_quotes(conn, older_than):
    """Delete stand-alone quotes (no booking) created before ``older_than``."""
    cur = conn.execute(
        "DELETE FROM price_quotes WHERE booking_id IS NULL AND created_at < ?", (older_than,)
    )
    return cur.rowcount
