"""Seat and room inventory: opening it, selling holds, releasing them.

Holding happens in :mod:`travel.services.booking_engine` (it needed to be in
the same transaction and "for now" the SQL went there).  This module covers
the rest of the life cycle for both flights and hotels, plus the ops commands
that add flights.
"""

from travel.common.errors import ValidationError
from travel.common.util import date_range, parse_timestamp
from travel.db import transaction
from travel.repositories import flight_repo, hotel_repo
from travel.services import pricing

CABINS = ("economy", "business")


def add_flight(conn, flight_no, origin, destination, departs_at, arrives_at, capacities, fares):
    """Schedule a flight with its cabins and file its fares, all or nothing.

    ``capacities`` and ``fares`` map cabin → seats / base fare in EUR cents.
    """
    for cabin in capacities:
        if cabin not in CABINS:
            raise ValidationError(f"unknown cabin {cabin!r}")
        if cabin not in fares:
            raise ValidationError(f"no fare given for the {cabin} cabin")
    if parse_timestamp(arrives_at) <= parse_timestamp(departs_at):
        raise ValidationError("arrival must be after departure")
    with transaction(conn):
        flight_repo.get_airport(conn, origin)
        flight_repo.get_airport(conn, destination)
        flight_id = flight_repo.insert_flight(conn, flight_no, origin, destination,
                                              departs_at, arrives_at)
        flight_repo.insert_inventory(conn, flight_id, capacities)
        for cabin, base_cents in fares.items():
            pricing.set_fare(conn, flight_id, cabin, base_cents)
    return flight_id


def sell_held_seats(conn, booking_id):
    """Turn a booking's seat holds into sold seats (payment went through)."""
    for hold in flight_repo.holds_for_booking(conn, booking_id, status="held"):
        conn.execute(
            "UPDATE flight_inventory SET held = held - ?, sold = sold + ? "
            "WHERE flight_id = ? AND cabin = ?",
            (hold["seats"], hold["seats"], hold["flight_id"], hold["cabin"]),
        )
    flight_repo.mark_holds(conn, booking_id, "held", "sold")


def release_seats(conn, booking_id):
    """Give back a booking's held or sold seats.  Returns the number of seats."""
    released = 0
    for hold in flight_repo.holds_for_booking(conn, booking_id):
        column = {"held": "held", "sold": "sold"}.get(hold["status"])
        if column is None:
            continue
        conn.execute(
            f"UPDATE flight_inventory SET {column} = {column} - ? "
            "WHERE flight_id = ? AND cabin = ?",
            (hold["seats"], hold["flight_id"], hold["cabin"]),
        )
        released += hold["seats"]
    conn.execute(
        "UPDATE seat_holds SET status = 'released' WHERE booking_id = ? AND status != 'released'",
        (booking_id,),
    )
    return released


def add_hotel(conn, name, city, country, airport_code, stars, room_types, first_night, nights):
    """Add a hotel with room types and open inventory for ``nights`` nights.

    ``room_types`` is a list of ``(name, max_guests, base_rate_cents, rooms)``.
    """
    if nights < 1:
        raise ValidationError("open at least one night")
    with transaction(conn):
        flight_repo.get_airport(conn, airport_code)
        hotel_id = hotel_repo.insert_hotel(conn, name, city, country, airport_code, stars)
        for rt_name, max_guests, rate, rooms in room_types:
            rt_id = hotel_repo.insert_room_type(conn, hotel_id, rt_name, max_guests, rate)
            hotel_repo.open_inventory(conn, rt_id, date_range(first_night, nights), rooms)
    return hotel_id


def sell_held_rooms(conn, booking_id):
    for hold in hotel_repo.holds_for_booking(conn, booking_id, status="held"):
        conn.execute(
            "UPDATE room_inventory SET held = held - ?, sold = sold + ? "
            "WHERE room_type_id = ? AND night >= ? AND night < ?",
            (hold["rooms"], hold["rooms"], hold["room_type_id"], hold["check_in"],
             hold["check_out"]),
        )
    hotel_repo.mark_holds(conn, booking_id, "held", "sold")


def release_rooms(conn, booking_id):
    """Give back a booking's held or sold rooms.  Returns room-nights released."""
    released = 0
    for hold in hotel_repo.holds_for_booking(conn, booking_id):
        if hold["status"] not in ("held", "sold"):
            continue
        column = hold["status"]
        cur = conn.execute(
            f"UPDATE room_inventory SET {column} = {column} - ? "
            "WHERE room_type_id = ? AND night >= ? AND night < ?",
            (hold["rooms"], hold["room_type_id"], hold["check_in"], hold["check_out"]),
        )
        released += cur.rowcount * hold["rooms"]
    conn.execute(
        "UPDATE room_holds SET status = 'released' WHERE booking_id = ? AND status != 'released'",
        (booking_id,),
    )
    return released
