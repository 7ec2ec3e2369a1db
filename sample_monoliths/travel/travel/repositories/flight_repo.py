"""Flights, airports and seat inventory."""

from travel import queries
from travel.common.errors import NotFound
from travel.common.util import now_iso


def get_airport(conn, code):
    row = conn.execute("SELECT * FROM airports WHERE code = ?", (code.upper(),)).fetchone()
    if row is None:
        raise NotFound(f"unknown airport {code!r}")
    return row


def get_flight(conn, flight_id):
    row = conn.execute(queries.SELECT_FLIGHT, (flight_id,)).fetchone()
    if row is None:
        raise NotFound(f"no flight with id {flight_id}")
    return row


def find_flights(conn, origin, destination, day, cabin, seats):
    """Scheduled flights on a route and day with at least ``seats`` free in ``cabin``."""
    return conn.execute(
        """
        SELECT f.id, f.flight_no, f.origin, f.destination, f.departs_at, f.arrives_at,
               i.cabin, i.capacity - i.held - i.sold AS available
        FROM flights f
        JOIN flight_inventory i ON i.flight_id = f.id
        WHERE f.origin = ? AND f.destination = ? AND date(f.departs_at) = ?
          AND f.status = 'scheduled' AND i.cabin = ?
          AND i.capacity - i.held - i.sold >= ?
        ORDER BY f.departs_at
        """,
        (origin.upper(), destination.upper(), day, cabin, seats),
    ).fetchall()


def get_inventory(conn, flight_id, cabin):
    row = conn.execute(queries.SELECT_FLIGHT_INVENTORY, (flight_id, cabin)).fetchone()
    if row is None:
        raise NotFound(f"flight {flight_id} has no {cabin} cabin")
    return row


def insert_flight(conn, flight_no, origin, destination, departs_at, arrives_at, carrier="TA"):
    cur = conn.execute(
        "INSERT INTO flights (flight_no, carrier, origin, destination, departs_at, arrives_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (flight_no, carrier, origin.upper(), destination.upper(), departs_at, arrives_at),
    )
    return cur.lastrowid


def insert_inventory(conn, flight_id, capacities):
    """``capacities`` maps cabin → number of seats."""
    conn.executemany(
        "INSERT INTO flight_inventory (flight_id, cabin, capacity) VALUES (?, ?, ?)",
        [(flight_id, cabin, seats) for cabin, seats in capacities.items()],
    )


def holds_for_booking(conn, booking_id, status=None):
    sql = "SELECT * FROM seat_holds WHERE booking_id = ?"
    params = [booking_id]
    if status:
        sql += " AND status = ?"
        params.append(status)
    return conn.execute(sql + " ORDER BY id", params).fetchall()


def mark_holds(conn, booking_id, old_status, new_status):
    conn.execute(
        "UPDATE seat_holds SET status = ? WHERE booking_id = ? AND status = ?",
        (new_status, booking_id, old_status),
    )


def cancel_flight(conn, flight_id):
    """Ops cancelled a flight (weather, crew).  Bookings are handled by the caller."""
    conn.execute(
        "UPDATE flights SET status = 'cancelled' WHERE id = ? AND status = 'scheduled'",
        (flight_id,),
    )
    return now_iso()
