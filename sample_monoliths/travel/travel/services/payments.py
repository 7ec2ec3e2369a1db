"""Payments: card charges through the gateway, points as tender, refunds.

The real gateway client was replaced by :class:`FakeGateway` in every
environment but production years ago; production swaps in the vendor SDK
through :func:`set_gateway`.  Test card tokens:

    tok_visa           approved
    tok_mastercard     approved
    tok_decline        declined (do_not_honor)
    tok_insufficient   declined (insufficient_funds)
    tok_gateway_down   GatewayError (retryable)

NOTE: refunds write ``bookings`` (refunded_cents) and ``loyalty_accounts``
(restoring redeemed points) directly.  It was the quickest fix for INC-2291
and nobody has moved it since.
"""

import hashlib

from travel import queries
from travel.common.errors import (
    GatewayError,
    InvalidState,
    PaymentDeclined,
    ValidationError,
)
from travel.common.util import now_iso, percent_of
from travel.db import transaction

# single charges above this (in EUR cents) need manual review -> decline
MAX_CARD_CHARGE_EUR_CENTS = 2_000_000


class FakeGateway:
    """Deterministic stand-in for the card processor."""

    DECLINES = {"tok_decline": "do_not_honor", "tok_insufficient": "insufficient_funds"}

    def __init__(self):
        self.charges = {}

    def charge(self, token, amount_cents, currency, description):
        if token == "tok_gateway_down":
            raise GatewayError("payment gateway timed out, try again")
        if not token.startswith("tok_"):
            raise ValidationError(f"not a card token: {token!r}")
        if token in self.DECLINES:
            raise PaymentDeclined(f"card declined ({self.DECLINES[token]})", self.DECLINES[token])
        digest = hashlib.sha1(f"{token}:{amount_cents}:{description}".encode()).hexdigest()
        ref = "ch_" + digest[:12]
        self.charges[ref] = amount_cents
        return ref

    def refund(self, gateway_ref, amount_cents):
        return "re_" + hashlib.sha1(f"{gateway_ref}:{amount_cents}".encode()).hexdigest()[:12]


_gateway = FakeGateway()


def get_gateway():
    return _gateway


def set_gateway(gateway):
    global _gateway
    _gateway = gateway


def record_attempt(conn, customer_id, reference, amount_cents, currency, outcome, message=None):
    """Log a payment attempt.  Declines are logged after the booking rolled back."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO payment_attempts (customer_id, booking_reference, amount_cents, "
            "currency, outcome, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (customer_id, reference, amount_cents, currency, outcome, message, now_iso()),
        )


def redeem_points(conn, booking_id, customer_id, points, value_cents, currency):
    """Use loyalty points as tender: debit the account and record a 'points' payment."""
    ts = now_iso()
    cur = conn.execute(
        "UPDATE loyalty_accounts SET points_balance = points_balance - ?, updated_at = ? "
        "WHERE customer_id = ? AND points_balance >= ?",
        (points, ts, customer_id, points),
    )
    if cur.rowcount != 1:
        raise ValidationError("not enough loyalty points")
    conn.execute(
        queries.INSERT_LOYALTY_TXN,
        (customer_id, booking_id, "redeem", -points, "redeemed at checkout", ts),
    )
    conn.execute(
        queries.INSERT_PAYMENT, (booking_id, "points", value_cents, currency, f"pts_{points}", ts)
    )
    conn.execute(
        "UPDATE bookings SET points_redeemed = ?, updated_at = ? WHERE id = ?",
        (points, ts, booking_id),
    )
    conn.execute(queries.UPDATE_BOOKING_PAID, (value_cents, ts, booking_id))


def charge_card(conn, booking, card_token, amount_cents, currency, eur_cents):
    """Charge the card and record the payment; raises PaymentDeclined / GatewayError."""
    if amount_cents <= 0:
        return None
    if eur_cents > MAX_CARD_CHARGE_EUR_CENTS:
        raise PaymentDeclined("amount needs manual review", "review_required")
    gateway_ref = get_gateway().charge(
        card_token, amount_cents, currency, f"booking {booking['reference']}"
    )
    ts = now_iso()
    payment_id = conn.execute(
        queries.INSERT_PAYMENT,
        (booking["id"], "card", amount_cents, currency, gateway_ref, ts),
    ).lastrowid
    conn.execute(queries.UPDATE_BOOKING_PAID, (amount_cents, ts, booking["id"]))
    conn.execute(
        "INSERT INTO payment_attempts (customer_id, booking_reference, amount_cents, currency, "
        "outcome, message, created_at) VALUES (?, ?, ?, ?, 'approved', ?, ?)",
        (booking["customer_id"], booking["reference"], amount_cents, currency, gateway_ref, ts),
    )
    return payment_id


def payments_for_booking(conn, booking_id):
    return conn.execute(
        "SELECT * FROM payments WHERE booking_id = ? ORDER BY id", (booking_id,)
    ).fetchall()


def refund_booking(conn, booking, refund_pct, reason):
    """Refund ``refund_pct`` percent of every captured payment of a booking.

    Card payments are refunded through the gateway; points payments give the
    points back to the customer's loyalty account.  Returns the amount
    refunded in the booking currency (card + points value).
    """
    if refund_pct <= 0:
        return 0
    if booking["refunded_cents"] > 0:
        raise InvalidState(f"booking {booking['reference']} was already refunded")
    refunded = 0
    ts = now_iso()
    for payment in payments_for_booking(conn, booking["id"]):
        if payment["status"] != "captured":
            continue
        amount = percent_of(payment["amount_cents"], refund_pct)
        if payment["method"] == "card":
            get_gateway().refund(payment["gateway_ref"], amount)
        else:
            # points go back in full or in proportion, straight into the account
            points = percent_of(booking["points_redeemed"], refund_pct)
            conn.execute(
                "UPDATE loyalty_accounts SET points_balance = points_balance + ?, updated_at = ? "
                "WHERE customer_id = ?",
                (points, ts, booking["customer_id"]),
            )
            conn.execute(
                queries.INSERT_LOYALTY_TXN,
                (booking["customer_id"], booking["id"], "restore", points, reason, ts),
            )
        conn.execute(
            "INSERT INTO refunds (payment_id, amount_cents, reason, created_at) "
            "VALUES (?, ?, ?, ?)",
            (payment["id"], amount, reason, ts),
        )
        status = "refunded" if refund_pct >= 100 else "partially_refunded"
        conn.execute("UPDATE payments SET status = ? WHERE id = ?", (status, payment["id"]))
        refunded += amount
    conn.execute(
        "UPDATE bookings SET refunded_cents = refunded_cents + ?, updated_at = ? WHERE id = ?",
        (refunded, ts, booking["id"]),
    )
    return refunded
