"""Management reports.  Straight SQL across every area, read-only.

Finance reads ``sales``, network planning ``load-factor``, the hotel desk
``occupancy``, support ``ledger`` and marketing ``loyalty``.
"""

from travel.common.util import format_money, format_table


def sales_report(conn, date_from, date_to):
    """Bookings and money taken per day and currency (by booking creation date)."""
    rows = conn.execute(
        """
        SELECT date(b.created_at) AS day, b.currency,
               COUNT(DISTINCT b.id) AS bookings,
               COALESCE(SUM(p.amount_cents), 0) AS taken_cents,
               COALESCE(SUM(CASE WHEN p.method = 'points' THEN p.amount_cents END), 0)
                   AS points_cents,
               (SELECT COALESCE(SUM(r.amount_cents), 0) FROM refunds r
                  JOIN payments p2 ON p2.id = r.payment_id
                  JOIN bookings b2 ON b2.id = p2.booking_id
                 WHERE date(b2.created_at) = date(b.created_at) AND b2.currency = b.currency)
                   AS refunded_cents
        FROM bookings b
        LEFT JOIN payments p ON p.booking_id = b.id
        WHERE date(b.created_at) BETWEEN ? AND ?
          AND b.status IN ('confirmed', 'cancelled', 'completed')
        GROUP BY day, b.currency
        ORDER BY day, b.currency
        """,
        (date_from, date_to),
    ).fetchall()
    return [dict(r) for r in rows]


def load_factor_report(conn, date_from, date_to):
    """Seats sold vs capacity per flight and cabin."""
    rows = conn.execute(
        """
        SELECT f.flight_no, f.origin, f.destination, f.departs_at, i.cabin,
               i.capacity, i.sold, i.held,
               ROUND(100.0 * i.sold / i.capacity, 1) AS load_factor
        FROM flights f JOIN flight_inventory i ON i.flight_id = f.id
        WHERE date(f.departs_at) BETWEEN ? AND ? AND i.capacity > 0
        ORDER BY f.departs_at, f.flight_no, i.cabin
        """,
        (date_from, date_to),
    ).fetchall()
    return [dict(r) for r in rows]


def occupancy_report(conn, date_from, date_to):
    """Room-nights sold vs available per hotel."""
    rows = conn.execute(
        """
        SELECT h.name AS hotel, h.city, SUM(ri.total) AS room_nights,
               SUM(ri.sold) AS sold, SUM(ri.held) AS held,
               ROUND(100.0 * SUM(ri.sold) / SUM(ri.total), 1) AS occupancy
        FROM hotels h
        JOIN room_types rt ON rt.hotel_id = h.id
        JOIN room_inventory ri ON ri.room_type_id = rt.id
        WHERE ri.night BETWEEN ? AND ?
        GROUP BY h.id
        ORDER BY h.city, h.name
        """,
        (date_from, date_to),
    ).fetchall()
    return [dict(r) for r in rows]


def booking_ledger(conn):
    """One row per booking with everything finance and support ask about.

    The query everybody copies: it joins customers, items, flights, hotels,
    quotes, payments, refunds and loyalty.
    """
    rows = conn.execute(
        """
        SELECT b.reference, b.status, c.email, b.currency, b.total_cents, b.paid_cents,
               b.refunded_cents,
               GROUP_CONCAT(DISTINCT f.flight_no) AS flights,
               GROUP_CONCAT(DISTINCT h.name) AS hotels,
               q.total_eur_cents,
               (SELECT COUNT(*) FROM payments p WHERE p.booking_id = b.id) AS payments,
               (SELECT COALESCE(SUM(r.amount_cents), 0) FROM refunds r
                  JOIN payments p ON p.id = r.payment_id WHERE p.booking_id = b.id) AS refunds,
               COALESCE((SELECT SUM(lt.points) FROM loyalty_transactions lt
                          WHERE lt.booking_id = b.id), 0) AS net_points,
               la.tier
        FROM bookings b
        JOIN customers c ON c.id = b.customer_id
        LEFT JOIN loyalty_accounts la ON la.customer_id = c.id
        LEFT JOIN booking_items bi ON bi.booking_id = b.id
        LEFT JOIN flights f ON bi.kind = 'flight' AND f.id = bi.ref_id
        LEFT JOIN room_types rt ON bi.kind = 'hotel' AND rt.id = bi.ref_id
        LEFT JOIN hotels h ON h.id = rt.hotel_id
        LEFT JOIN price_quotes q ON q.id = (SELECT MAX(id) FROM price_quotes
                                             WHERE booking_id = b.id)
        GROUP BY b.id
        ORDER BY b.id
        """
    ).fetchall()
    return [dict(r) for r in rows]


def loyalty_leaderboard(conn, limit=10):
    rows = conn.execute(
        """
        SELECT c.name, c.email, a.tier, a.points_balance, a.lifetime_points,
               (SELECT COUNT(*) FROM bookings b WHERE b.customer_id = c.id
                  AND b.status IN ('confirmed', 'completed')) AS trips
        FROM loyalty_accounts a JOIN customers c ON c.id = a.customer_id
        ORDER BY a.lifetime_points DESC, c.email
        LIMIT ?
        """,
        (limit,),
    ).fetchall()
    return [dict(r) for r in rows]


def render(kind, rows):
    """Format report rows for the terminal; money columns get currency formatting."""
    if not rows:
        return f"({kind}: no data)"
    headers = list(rows[0].keys())
    body = []
    for row in rows:
        out = []
        for key in headers:
            value = row[key]
            if key.endswith("_cents") and value is not None:
                currency = "EUR" if "_eur_" in key else row.get("currency", "EUR")
                value = format_money(value, currency)
            out.append(value)
        body.append(out)
    return format_table(body, headers)


REPORTS = {
    "sales": sales_report,
    "load-factor": load_factor_report,
    "occupancy": occupancy_report,
    "ledger": booking_ledger,
    "loyalty": loyalty_leaderboard,
}
