"""The booking engine.

Everything to do with a trip goes through here: searching, quoting, booking
(seats + room + price + payment + points in one transaction), paying held
bookings, cancelling, expiring holds and completing trips.  It started as
``book_flight()`` in 2014; hotels were bolted on in 2016 and loyalty in 2018.

Yes, it is too big.  See README "known tangles" before adding to it.
"""

from dataclasses import dataclass, field

from travel import queries
from travel.common.errors import (
    GatewayError,
    InvalidState,
    PaymentDeclined,
    SoldOut,
    ValidationError,
)
from travel.common.util import (
    add_minutes,
    dumps,
    new_reference,
    nights_between,
    now_iso,
    parse_date,
    today,
)
from travel.db import transaction
from travel.jobs import runner
from travel.repositories import booking_repo, customer_repo, flight_repo, hotel_repo
from travel.services import inventory, loyalty, notifications, payments, pricing

FINAL_STATES = ("cancelled", "expired", "completed")


@dataclass
class TripRequest:
    """What the customer asked for.  Flights and hotel are both optional, not both."""

    customer_email: str
    flight_ids: list = field(default_factory=list)  # outbound first, then return
    cabin: str = "economy"
    passengers: int = 1
    room_type_id: int | None = None
    check_in: str | None = None
    check_out: str | None = None
    rooms: int = 1
    currency: str | None = None
    card_token: str | None = None
    pay_later: bool = False
    use_points: int = 0

    @property
    def stay(self):
        if self.room_type_id is None:
            return None
        return (self.room_type_id, self.check_in, self.check_out, self.rooms)

    @property
    def legs(self):
        return [(flight_id, self.cabin) for flight_id in self.flight_ids]


@dataclass
class BookingResult:
    reference: str
    booking_id: int
    status: str
    currency: str
    total_cents: int
    charged_cents: int = 0
    points_earned: int = 0
    hold_expires_at: str | None = None


# ------------------------------------------------------------------- search


def search_flights(conn, origin, destination, day, passengers=1, cabin="economy",
                   currency="EUR"):
    """Flights with enough seats, each with its price per passenger in ``currency``."""
    parse_date(day)
    flight_repo.get_airport(conn, origin)
    flight_repo.get_airport(conn, destination)
    results = []
    for row in flight_repo.find_flights(conn, origin, destination, day, cabin, passengers):
        line = pricing.price_flight(conn, row["id"], cabin, 1)
        results.append({
            "flight_id": row["id"],
            "flight_no": row["flight_no"],
            "departs_at": row["departs_at"],
            "arrives_at": row["arrives_at"],
            "cabin": cabin,
            "available": row["available"],
            "price_cents": pricing.convert(conn, line.total_cents, "EUR", currency),
            "currency": currency.upper(),
        })
    return results


def search_hotels(conn, city, check_in, check_out, guests=1, rooms=1, currency="EUR"):
    """Room types free for the whole stay, cheapest first, with the stay's price."""
    results = []
    for row in hotel_repo.find_hotels(conn, city, check_in, check_out, guests, rooms):
        line = pricing.price_stay(conn, row["room_type_id"], check_in, check_out, rooms)
        results.append({
            "room_type_id": row["room_type_id"],
            "hotel": row["hotel_name"],
            "stars": row["stars"],
            "room": row["room_name"],
            "available": row["available"],
            "price_cents": pricing.convert(conn, line.total_cents, "EUR", currency),
            "currency": currency.upper(),
        })
    return results


# ----------------------------------------------------------------- quoting


def validate_request(conn, req):
    """Check the request makes sense before touching inventory."""
    if not req.flight_ids and req.room_type_id is None:
        raise ValidationError("a trip needs at least a flight or a hotel")
    if req.passengers < 1 or req.rooms < 1:
        raise ValidationError("passengers and rooms must be at least 1")
    if len(req.flight_ids) > 2:
        raise ValidationError("at most an outbound and a return flight")
    if req.use_points < 0:
        raise ValidationError("points to use cannot be negative")
    flights = [flight_repo.get_flight(conn, fid) for fid in req.flight_ids]
    for flight in flights:
        if flight["status"] != "scheduled":
            raise InvalidState(f"flight {flight['flight_no']} is {flight['status']}")
    if len(flights) == 2 and flights[1]["departs_at"] <= flights[0]["arrives_at"]:
        raise ValidationError("the return flight leaves before the outbound one lands")
    if req.room_type_id is not None:
        if not (req.check_in and req.check_out):
            raise ValidationError("a hotel stay needs check-in and check-out dates")
        nights_between(req.check_in, req.check_out)
        room = hotel_repo.get_room_type(conn, req.room_type_id)
        if room["max_guests"] * req.rooms < req.passengers:
            raise ValidationError(
                f"{req.rooms} x {room['name']} sleeps {room['max_guests'] * req.rooms}, "
                f"not {req.passengers}"
            )
    return flights


def _trip_dates(flights, req):
    days = []
    for flight in flights:
        days.extend([flight["departs_at"][:10], flight["arrives_at"][:10]])
    if req.room_type_id is not None:
        days.extend([req.check_in, req.check_out])
    return min(days), max(days)


def quote_trip(conn, req):
    """Price a trip without holding anything; the quote is stored for 24 hours."""
    validate_request(conn, req)
    customer = customer_repo.get_by_email(conn, req.customer_email)
    currency = (req.currency or customer["home_currency"]).upper()
    quote = pricing.price_trip(conn, req.legs, req.passengers, req.stay, currency)
    with transaction(conn):
        pricing.store_quote(conn, quote)
    return quote


# ----------------------------------------------------------------- holding


def _hold_seats(conn, booking_id, flight_id, cabin, seats, expires_at):
    """Hold seats on a flight or raise SoldOut.  Must run inside a transaction."""
    cur = conn.execute(queries.HOLD_SEATS, (seats, flight_id, cabin, seats))
    if cur.rowcount != 1:
        left = flight_repo.get_inventory(conn, flight_id, cabin)["available"]
        raise SoldOut(f"only {left} {cabin} seat(s) left on flight {flight_id}, need {seats}")
    conn.execute(queries.INSERT_SEAT_HOLD,
                 (booking_id, flight_id, cabin, seats, expires_at, now_iso()))


def _hold_room(conn, booking_id, room_type_id, check_in, check_out, rooms, expires_at):
    """Hold ``rooms`` rooms for every night of the stay or raise SoldOut."""
    for night in nights_between(check_in, check_out):
        cur = conn.execute(queries.HOLD_ROOM_NIGHT, (rooms, room_type_id, night, rooms))
        if cur.rowcount != 1:
            raise SoldOut(f"room type {room_type_id} is not available on {night}")
    conn.execute(queries.INSERT_ROOM_HOLD,
                 (booking_id, room_type_id, check_in, check_out, rooms, expires_at, now_iso()))


# ----------------------------------------------------------------- booking


def book_trip(conn, req, settings):
    """Book a trip: hold seats and room, price, pay, award points.  One transaction.

    With ``req.pay_later`` the booking stays ``held`` until paid with
    :func:`pay_booking` or expired by the ``expire_hold`` job.  If anything
    fails (sold out, card declined, ...) nothing is written, except the
    declined attempt in ``payment_attempts``.
    """
    flights = validate_request(conn, req)
    customer = customer_repo.get_by_email(conn, req.customer_email)
    currency = (req.currency or customer["home_currency"]).upper()
    if not req.pay_later and not req.card_token and not req.use_points:
        raise ValidationError("give a card token or --pay-later")
    reference = new_reference()
    expires_at = add_minutes(now_iso(), settings.hold_minutes)
    trip_start, trip_end = _trip_dates(flights, req)
    attempted = {"amount": 0}
    try:
        with transaction(conn):
            booking_id = booking_repo.insert(conn, reference, customer["id"], currency,
                                             trip_start, trip_end)
            for flight_id in req.flight_ids:
                _hold_seats(conn, booking_id, flight_id, req.cabin, req.passengers, expires_at)
            if req.room_type_id is not None:
                _hold_room(conn, booking_id, req.room_type_id, req.check_in, req.check_out,
                           req.rooms, expires_at)

            quote = pricing.price_trip(conn, req.legs, req.passengers, req.stay, currency)
            pricing.store_quote(conn, quote, booking_id)
            for line, amount in zip(quote.lines, quote.line_totals, strict=True):
                booking_repo.add_item(conn, booking_id, line.kind, line.ref_id,
                                      line.description, line.quantity, amount)
            attempted["amount"] = quote.total_cents

            if req.pay_later:
                booking_repo.set_totals(conn, booking_id, quote.total_cents, currency, expires_at)
                booking_repo.set_status(conn, booking_id, "held")
                runner.enqueue(conn, "expire_hold", {"booking_id": booking_id}, run_at=expires_at)
                notifications.queue(conn, customer["id"], booking_id, "booking_held",
                                    reference=reference, expires=expires_at,
                                    amount=quote.total_cents, currency=currency)
                return BookingResult(reference, booking_id, "held", currency, quote.total_cents,
                                     hold_expires_at=expires_at)

            booking_repo.set_totals(conn, booking_id, quote.total_cents, currency)
            charged, earned = _settle(conn, booking_id, req.card_token, req.use_points, settings)
    except (PaymentDeclined, GatewayError) as exc:
        # the booking is gone; keep a trace of the attempt for fraud and support
        outcome = "declined" if isinstance(exc, PaymentDeclined) else "error"
        payments.record_attempt(conn, customer["id"], reference, attempted["amount"], currency,
                                outcome, str(exc))
        raise
    return BookingResult(reference, booking_id, "confirmed", currency, quote.total_cents,
                         charged_cents=charged, points_earned=earned)


def _settle(conn, booking_id, card_token, use_points, settings):
    """Take payment for a booking and confirm it (inside the caller's transaction).

    Points are redeemed first, the card pays the rest, held inventory becomes
    sold, and loyalty points are earned on the card part.
    """
    booking = booking_repo.get(conn, booking_id)
    currency, total = booking["currency"], booking["total_cents"]
    points_value = 0
    if use_points:
        loyalty.check_redeemable(conn, booking["customer_id"], use_points)
        points_value = pricing.convert(conn, use_points * settings.point_value_cents, "EUR",
                                       currency)
        if points_value > total:
            raise ValidationError("that is more points than the trip costs")
        payments.redeem_points(conn, booking_id, booking["customer_id"], use_points,
                               points_value, currency)
    cash = total - points_value
    if cash > 0 and not card_token:
        raise ValidationError("the points do not cover the trip; give a card token too")
    cash_eur = pricing.convert(conn, cash, currency, "EUR")
    payments.charge_card(conn, booking, card_token, cash, currency, cash_eur)

    inventory.sell_held_seats(conn, booking_id)
    inventory.sell_held_rooms(conn, booking_id)

    earned = loyalty.points_for_spend(conn, booking["customer_id"], cash_eur, settings)
    loyalty.award_points(conn, booking["customer_id"], booking_id, earned,
                         note=f"trip {booking['reference']}")
    conn.execute(
        "UPDATE bookings SET status = 'confirmed', points_earned = ?, hold_expires_at = NULL, "
        "updated_at = ? WHERE id = ?",
        (earned, now_iso(), booking_id),
    )
    notifications.queue(conn, booking["customer_id"], booking_id, "booking_confirmed",
                        reference=booking["reference"], amount=cash, currency=currency)
    return cash, earned


def pay_booking(conn, reference, card_token, settings, use_points=0):
    """Pay a held booking before its hold expires."""
    booking = booking_repo.get_by_reference(conn, reference)
    if booking["status"] != "held":
        raise InvalidState(f"booking {booking['reference']} is {booking['status']}, not held")
    if booking["hold_expires_at"] <= now_iso():
        raise InvalidState(f"the hold on {booking['reference']} expired at "
                           f"{booking['hold_expires_at']}")
    try:
        with transaction(conn):
            charged, earned = _settle(conn, booking["id"], card_token, use_points, settings)
            _drop_pending_jobs(conn, "expire_hold", booking["id"])
    except (PaymentDeclined, GatewayError) as exc:
        outcome = "declined" if isinstance(exc, PaymentDeclined) else "error"
        payments.record_attempt(conn, booking["customer_id"], booking["reference"],
                                booking["total_cents"], booking["currency"], outcome, str(exc))
        raise
    return BookingResult(booking["reference"], booking["id"], "confirmed", booking["currency"],
                         booking["total_cents"], charged_cents=charged, points_earned=earned)


# -------------------------------------------------------------- cancelling


def refund_percentage(booking, settings):
    """Refund policy: free until N days before the trip, then partial, then nothing."""
    if booking["status"] != "confirmed":
        return 0
    days_left = (parse_date(booking["trip_start"]) - today()).days
    if days_left < 0:
        raise InvalidState(f"trip {booking['reference']} has already started")
    if days_left >= settings.free_cancellation_days:
        return 100
    return settings.late_cancellation_refund_pct


def _drop_pending_jobs(conn, kind, booking_id):
    conn.execute(
        "DELETE FROM jobs WHERE kind = ? AND status = 'pending' AND payload = ?",
        (kind, dumps({"booking_id": booking_id})),
    )


def _cancel(conn, booking, refund_pct, reason):
    """Cancel inside the caller's transaction; returns the amount refunded."""
    refunded = payments.refund_booking(conn, booking, refund_pct, reason) if refund_pct else 0
    if booking["points_earned"]:
        loyalty.clawback_points(conn, booking["customer_id"], booking["id"],
                                booking["points_earned"], note=f"{booking['reference']} cancelled")
    inventory.release_seats(conn, booking["id"])
    inventory.release_rooms(conn, booking["id"])
    booking_repo.set_status(conn, booking["id"], "cancelled")
    _drop_pending_jobs(conn, "expire_hold", booking["id"])
    notifications.queue(conn, booking["customer_id"], booking["id"], "booking_cancelled",
                        reference=booking["reference"], refund=refunded,
                        currency=booking["currency"])
    return refunded


def cancel_booking(conn, reference, settings, reason="customer request"):
    """Cancel a held or confirmed booking, refunding per :func:`refund_percentage`."""
    booking = booking_repo.get_by_reference(conn, reference)
    if booking["status"] in FINAL_STATES:
        raise InvalidState(f"booking {booking['reference']} is already {booking['status']}")
    pct = refund_percentage(booking, settings)
    with transaction(conn):
        refunded = _cancel(conn, booking, pct, reason)
    return {"reference": booking["reference"], "refund_pct": pct, "refunded_cents": refunded,
            "currency": booking["currency"]}


def cancel_flight(conn, flight_id, settings):
    """Ops cancelled a flight: cancel every live booking on it with a full refund."""
    flight = flight_repo.get_flight(conn, flight_id)
    affected = conn.execute(
        """
        SELECT * FROM bookings WHERE status IN ('held', 'confirmed') AND id IN (
            SELECT booking_id FROM seat_holds WHERE flight_id = ? AND status != 'released')
        ORDER BY id
        """,
        (flight_id,),
    ).fetchall()
    with transaction(conn):
        flight_repo.cancel_flight(conn, flight_id)
        refunds = [_cancel(conn, b, 100, f"flight {flight['flight_no']} cancelled")
                   for b in affected]
    return {"flight_no": flight["flight_no"], "bookings": len(affected),
            "refunded_cents": sum(refunds)}


# ------------------------------------------------------------- life cycle


def expire_booking(conn, booking_id):
    """Release an unpaid hold once it is past its expiry.  True if it expired."""
    booking = booking_repo.get(conn, booking_id)
    if booking["status"] != "held" or booking["hold_expires_at"] > now_iso():
        return False
    with transaction(conn):
        inventory.release_seats(conn, booking_id)
        inventory.release_rooms(conn, booking_id)
        booking_repo.set_status(conn, booking_id, "expired")
        notifications.queue(conn, booking["customer_id"], booking_id, "hold_expired",
                            reference=booking["reference"])
    return True


def complete_finished_trips(conn, settings):
    """Mark trips that ended as completed and pay the completion bonus."""
    done = conn.execute(
        "SELECT * FROM bookings WHERE status = 'confirmed' AND trip_end < date(?) ORDER BY id",
        (now_iso(),),
    ).fetchall()
    bonus_total = 0
    for booking in done:
        with transaction(conn):
            booking_repo.set_status(conn, booking["id"], "completed")
            bonus_total += loyalty.award_completion_bonus(conn, booking, settings)
    return len(done), bonus_total


# ----------------------------------------------------------------- display


def booking_summary(conn, reference):
    """Everything support needs to see about a booking, across all areas."""
    booking = booking_repo.get_by_reference(conn, reference)
    customer = customer_repo.get(conn, booking["customer_id"])
    return {
        "booking": dict(booking),
        "customer": {"name": customer["name"], "email": customer["email"]},
        "items": [dict(r) for r in booking_repo.items(conn, booking["id"])],
        "seat_holds": [dict(r) for r in flight_repo.holds_for_booking(conn, booking["id"])],
        "room_holds": [dict(r) for r in hotel_repo.holds_for_booking(conn, booking["id"])],
        "payments": [dict(r) for r in payments.payments_for_booking(conn, booking["id"])],
        "quote": dict(pricing.quote_for_booking(conn, booking["id"]) or {}),
    }
