"""Customer notifications (e-mail only, for now).

Messages are queued in the ``notifications`` table inside whatever transaction
produced them and delivered later by the ``deliver_notifications`` job, which
appends them to the outbox file our mail relay tails.
"""

from travel import queries
from travel.common.util import dumps, format_money, loads, now_iso

TEMPLATES = {
    "booking_confirmed": (
        "Your trip {reference} is confirmed",
        "Thank you! We charged {amount} for trip {reference}.",
    ),
    "booking_held": (
        "Trip {reference} is on hold",
        "We are holding trip {reference} for you until {expires}. Total {amount}.",
    ),
    "booking_cancelled": (
        "Trip {reference} cancelled",
        "Trip {reference} has been cancelled. Refund: {refund}.",
    ),
    "hold_expired": (
        "Your hold on {reference} expired",
        "We released the seats and rooms held for {reference}.",
    ),
    "trip_reminder": (
        "Your trip is coming up",
        "Trip {reference} starts on {trip_start}. Have a good trip!",
    ),
}


def queue(conn, customer_id, booking_id, template, **payload):
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template}")
    return conn.execute(
        queries.INSERT_NOTIFICATION,
        (customer_id, booking_id, "email", template, dumps(payload), now_iso()),
    ).lastrowid


def render(template, payload):
    subject, body = TEMPLATES[template]
    data = dict(payload)
    for key in ("amount", "refund"):
        if key in data and isinstance(data[key], int):
            data[key] = format_money(data[key], data.get("currency", "EUR"))
    return subject.format(**data), body.format(**data)


def queue_trip_reminders(conn, days_before):
    """Queue one reminder per confirmed trip starting within ``days_before`` days.

    Done in a single INSERT ... SELECT; the NOT EXISTS keeps it idempotent.
    """
    ts = now_iso()
    cur = conn.execute(
        """
        INSERT INTO notifications (customer_id, booking_id, channel, template, payload,
                                   status, created_at)
        SELECT b.customer_id, b.id, 'email', 'trip_reminder',
               json_object('reference', b.reference, 'trip_start', b.trip_start),
               'queued', ?
        FROM bookings b
        WHERE b.status = 'confirmed'
          AND b.trip_start > date(?)
          AND b.trip_start <= date(?, '+' || ? || ' days')
          AND NOT EXISTS (SELECT 1 FROM notifications n
                          WHERE n.booking_id = b.id AND n.template = 'trip_reminder')
        """,
        (ts, ts, ts, days_before),
    )
    return cur.rowcount


def deliver_pending(conn, outbox_path, limit=100):
    """'Send' queued notifications: append them to the outbox and mark them sent."""
    rows = conn.execute(
        "SELECT n.*, c.email FROM notifications n JOIN customers c ON c.id = n.customer_id "
        "WHERE n.status = 'queued' ORDER BY n.id LIMIT ?",
        (limit,),
    ).fetchall()
    if not rows:
        return 0
    lines = []
    for row in rows:
        subject, body = render(row["template"], loads(row["payload"]))
        lines.append(f"To: {row['email']}\nSubject: {subject}\n\n{body}\n.\n")
    if outbox_path:
        with open(outbox_path, "a", encoding="utf-8") as fh:
            fh.writelines(lines)
    ts = now_iso()
    conn.executemany(
        "UPDATE notifications SET status = 'sent', sent_at = ? WHERE id = ?",
        [(ts, row["id"]) for row in rows],
    )
    return len(rows)
