"""Hotels, room types and per-night room inventory."""

from travel import queries
from travel.common.errors import NotFound
from travel.common.util import nights_between


def get_room_type(conn, room_type_id):
    row = conn.execute(queries.SELECT_ROOM_TYPE, (room_type_id,)).fetchone()
    if row is None:
        raise NotFound(f"no room type with id {room_type_id}")
    return row


def find_hotels(conn, city, check_in, check_out, guests, rooms=1):
    """Room types in a city with ``rooms`` free on every night of the stay.

    The subquery counts nights with enough availability; a room type qualifies
    only when that equals the length of the stay.
    """
    nights = nights_between(check_in, check_out)
    return conn.execute(
        """
        SELECT h.id AS hotel_id, h.name AS hotel_name, h.stars, rt.id AS room_type_id,
               rt.name AS room_name, rt.max_guests, rt.base_rate_cents,
               (SELECT MIN(ri.total - ri.held - ri.sold) FROM room_inventory ri
                 WHERE ri.room_type_id = rt.id AND ri.night >= ? AND ri.night < ?) AS available
        FROM hotels h
        JOIN room_types rt ON rt.hotel_id = h.id
        WHERE lower(h.city) = lower(?) AND rt.max_guests * ? >= ?
          AND (SELECT COUNT(*) FROM room_inventory ri
                WHERE ri.room_type_id = rt.id AND ri.night >= ? AND ri.night < ?
                  AND ri.total - ri.held - ri.sold >= ?) = ?
        ORDER BY rt.base_rate_cents, h.name
        """,
        (check_in, check_out, city, rooms, guests, check_in, check_out, rooms, len(nights)),
    ).fetchall()


def insert_hotel(conn, name, city, country, airport_code, stars=3):
    return conn.execute(
        "INSERT INTO hotels (name, city, country, airport_code, stars) VALUES (?, ?, ?, ?, ?)",
        (name, city, country, airport_code, stars),
    ).lastrowid


def insert_room_type(conn, hotel_id, name, max_guests, base_rate_cents):
    return conn.execute(
        "INSERT INTO room_types (hotel_id, name, max_guests, base_rate_cents) VALUES (?, ?, ?, ?)",
        (hotel_id, name, max_guests, base_rate_cents),
    ).lastrowid


def open_inventory(conn, room_type_id, nights, rooms):
    """Make ``rooms`` rooms sellable on each of ``nights`` (existing nights untouched)."""
    conn.executemany(
        "INSERT OR IGNORE INTO room_inventory (room_type_id, night, total) VALUES (?, ?, ?)",
        [(room_type_id, night, rooms) for night in nights],
    )


def holds_for_booking(conn, booking_id, status=None):
    sql = "SELECT * FROM room_holds WHERE booking_id = ?"
    params = [booking_id]
    if status:
        sql += " AND status = ?"
        params.append(status)
    return conn.execute(sql + " ORDER BY id", params).fetchall()


def mark_holds(conn, booking_id, old_status, new_status):
    conn.execute(
        "UPDATE room_holds SET status = ? WHERE booking_id = ? AND status = ?",
        (new_status, booking_id, old_status),
    )
