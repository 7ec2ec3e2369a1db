"""Bookings and their line items."""

from travel import queries
from travel.common.errors import NotFound
from travel.common.util import now_iso


def get_by_reference(conn, reference):
    row = conn.execute(queries.SELECT_BOOKING_BY_REF, (reference.upper(),)).fetchone()
    if row is None:
        raise NotFound(f"no booking {reference!r}")
    return row


def get(conn, booking_id):
    row = conn.execute(queries.SELECT_BOOKING_BY_ID, (booking_id,)).fetchone()
    if row is None:
        raise NotFound(f"no booking with id {booking_id}")
    return row


def insert(conn, reference, customer_id, currency, trip_start, trip_end):
    ts = now_iso()
    cur = conn.execute(
        queries.INSERT_BOOKING, (reference, customer_id, currency, trip_start, trip_end, ts, ts)
    )
    return cur.lastrowid


def add_item(conn, booking_id, kind, ref_id, description, quantity, amount_cents=0):
    conn.execute(
        queries.INSERT_BOOKING_ITEM,
        (booking_id, kind, ref_id, description, quantity, amount_cents),
    )


def items(conn, booking_id):
    return conn.execute(
        "SELECT * FROM booking_items WHERE booking_id = ? ORDER BY id", (booking_id,)
    ).fetchall()


def set_status(conn, booking_id, status):
    conn.execute(queries.UPDATE_BOOKING_STATUS, (status, now_iso(), booking_id))


def set_totals(conn, booking_id, total_cents, currency, hold_expires_at=None):
    conn.execute(
        "UPDATE bookings SET total_cents = ?, currency = ?, hold_expires_at = ?, updated_at = ? "
        "WHERE id = ?",
        (total_cents, currency, hold_expires_at, now_iso(), booking_id),
    )


def for_customer(conn, customer_id):
    return conn.execute(
        "SELECT * FROM bookings WHERE customer_id = ? ORDER BY created_at DESC, id DESC",
        (customer_id,),
    ).fetchall()


def expired_holds(conn, as_of):
    return conn.execute(
        "SELECT * FROM bookings WHERE status = 'held' AND hold_expires_at <= ? ORDER BY id",
        (as_of,),
    ).fetchall()


def search(conn, customer_id=None, statuses=None, limit=50):
    """Bookings filtered by customer and/or status, newest first (call centre list)."""
    where, params = [], []
    if customer_id is not None:
        where.append("b.customer_id = ?")
        params.append(customer_id)
    if statuses:
        where.append("b.status IN (%s)" % ", ".join("?" * len(statuses)))
        params.extend(statuses)
    sql = (
        "SELECT b.*, c.email, (SELECT COUNT(*) FROM booking_items i WHERE i.booking_id = b.id) "
        "AS items FROM bookings b JOIN customers c ON c.id = b.customer_id"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY b.id DESC LIMIT %d" % int(limit)
    return conn.execute(sql, params).fetchall()
