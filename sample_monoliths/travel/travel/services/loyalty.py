"""TravelAir Miles: points, tiers and statements.

Points are earned on the cash part of a booking (1 point per EUR by default,
times the tier's multiplier), can be redeemed at checkout (see
:mod:`travel.services.payments`) and are clawed back when a booking is
refunded.  Tiers are based on lifetime points and never go down.
"""

from travel import queries
from travel.common.errors import NotFound, ValidationError
from travel.common.util import now_iso, percent_of


def get_account(conn, customer_id):
    row = conn.execute(queries.SELECT_LOYALTY_ACCOUNT, (customer_id,)).fetchone()
    if row is None:
        raise NotFound(f"customer {customer_id} has no loyalty account")
    return row


def tiers(conn):
    return conn.execute("SELECT * FROM loyalty_tiers ORDER BY sort_order").fetchall()


def tier_for(conn, lifetime_points):
    """Highest tier whose threshold ``lifetime_points`` reaches."""
    row = conn.execute(
        "SELECT name FROM loyalty_tiers WHERE min_points <= ? ORDER BY min_points DESC LIMIT 1",
        (lifetime_points,),
    ).fetchone()
    return row["name"]


def earn_multiplier_pct(conn, customer_id):
    row = conn.execute(
        "SELECT t.earn_multiplier_pct FROM loyalty_accounts a "
        "JOIN loyalty_tiers t ON t.name = a.tier WHERE a.customer_id = ?",
        (customer_id,),
    ).fetchone()
    return row["earn_multiplier_pct"] if row else 100


def points_for_spend(conn, customer_id, eur_cents, settings):
    """Points earned for spending ``eur_cents`` (cash only, never on redeemed points)."""
    base = (max(eur_cents, 0) // 100) * settings.points_per_eur
    return percent_of(base, earn_multiplier_pct(conn, customer_id))


def award_points(conn, customer_id, booking_id, points, kind="earn", note=None):
    """Credit points and upgrade the tier if the threshold is crossed."""
    if points <= 0:
        return 0
    ts = now_iso()
    conn.execute(queries.INSERT_LOYALTY_TXN, (customer_id, booking_id, kind, points, note, ts))
    conn.execute(queries.ADJUST_LOYALTY_BALANCE, (points, points, ts, customer_id))
    recompute_tier(conn, customer_id)
    return points


def clawback_points(conn, customer_id, booking_id, points, note="booking refunded"):
    """Take back points earned on a booking.  The balance is floored at zero."""
    if points <= 0:
        return 0
    ts = now_iso()
    conn.execute(
        queries.INSERT_LOYALTY_TXN, (customer_id, booking_id, "clawback", -points, note, ts)
    )
    conn.execute(queries.ADJUST_LOYALTY_BALANCE, (-points, 0, ts, customer_id))
    return points


def recompute_tier(conn, customer_id):
    """Move the account up to the tier its lifetime points deserve."""
    account = get_account(conn, customer_id)
    new_tier = tier_for(conn, account["lifetime_points"])
    current = conn.execute(
        "SELECT sort_order FROM loyalty_tiers WHERE name = ?", (account["tier"],)
    ).fetchone()
    target = conn.execute(
        "SELECT sort_order FROM loyalty_tiers WHERE name = ?", (new_tier,)
    ).fetchone()
    if target["sort_order"] > current["sort_order"]:
        conn.execute(
            "UPDATE loyalty_accounts SET tier = ?, updated_at = ? WHERE customer_id = ?",
            (new_tier, now_iso(), customer_id),
        )
        return new_tier
    return account["tier"]


def check_redeemable(conn, customer_id, points):
    if points < 0:
        raise ValidationError("cannot redeem a negative number of points")
    balance = get_account(conn, customer_id)["points_balance"]
    if points > balance:
        raise ValidationError(f"only {balance} points available, {points} requested")


def award_completion_bonus(conn, booking, settings):
    """Bonus for a completed trip: a percentage of the points earned on it."""
    bonus = percent_of(booking["points_earned"], settings.completion_bonus_pct)
    return award_points(
        conn, booking["customer_id"], booking["id"], bonus, kind="bonus",
        note=f"trip {booking['reference']} completed",
    )


def statement(conn, customer_id, limit=50):
    """Account summary plus the latest transactions with their booking reference."""
    account = get_account(conn, customer_id)
    rows = conn.execute(
        """
        SELECT t.created_at, t.kind, t.points, t.note, b.reference
        FROM loyalty_transactions t
        LEFT JOIN bookings b ON b.id = t.booking_id
        WHERE t.customer_id = ?
        ORDER BY t.id DESC
        LIMIT ?
        """,
        (customer_id, limit),
    ).fetchall()
    next_tier = conn.execute(
        "SELECT name, min_points FROM loyalty_tiers WHERE min_points > ? "
        "ORDER BY min_points LIMIT 1",
        (account["lifetime_points"],),
    ).fetchone()
    return {
        "tier": account["tier"],
        "balance": account["points_balance"],
        "lifetime": account["lifetime_points"],
        "next_tier": next_tier["name"] if next_tier else None,
        "points_to_next_tier": (next_tier["min_points"] - account["lifetime_points"])
        if next_tier
        else 0,
        "transactions": [dict(r) for r in rows],
    }
