"""SQL statements used in more than one place.

Started as "let's stop copy-pasting the booking insert" and became the place
where any statement two modules needed ended up.  Keep the names in
VERB_OBJECT form.  Placeholders are always ``?``.
"""

# ------------------------------------------------------------------ flights

SELECT_FLIGHT = """
    SELECT f.*, o.city AS origin_city, o.country AS origin_country,
           d.city AS destination_city, d.country AS destination_country
    FROM flights f
    JOIN airports o ON o.code = f.origin
    JOIN airports d ON d.code = f.destination
    WHERE f.id = ?
"""

SELECT_FLIGHT_INVENTORY = """
    SELECT flight_id, cabin, capacity, held, sold, capacity - held - sold AS available
    FROM flight_inventory WHERE flight_id = ? AND cabin = ?
"""

HOLD_SEATS = """
    UPDATE flight_inventory SET held = held + ?
    WHERE flight_id = ? AND cabin = ? AND capacity - held - sold >= ?
"""

INSERT_SEAT_HOLD = """
    INSERT INTO seat_holds (booking_id, flight_id, cabin, seats, status, expires_at, created_at)
    VALUES (?, ?, ?, ?, 'held', ?, ?)
"""

# ------------------------------------------------------------------- hotels

SELECT_ROOM_TYPE = """
    SELECT rt.*, h.name AS hotel_name, h.city, h.country, h.airport_code
    FROM room_types rt JOIN hotels h ON h.id = rt.hotel_id
    WHERE rt.id = ?
"""

HOLD_ROOM_NIGHT = """
    UPDATE room_inventory SET held = held + ?
    WHERE room_type_id = ? AND night = ? AND total - held - sold >= ?
"""

INSERT_ROOM_HOLD = """
    INSERT INTO room_holds (booking_id, room_type_id, check_in, check_out, rooms, status,
                            expires_at, created_at)
    VALUES (?, ?, ?, ?, ?, 'held', ?, ?)
"""

# ----------------------------------------------------------------- bookings

INSERT_BOOKING = """
    INSERT INTO bookings (reference, customer_id, status, currency, trip_start, trip_end,
                          created_at, updated_at)
    VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)
"""

INSERT_BOOKING_ITEM = """
    INSERT INTO booking_items (booking_id, kind, ref_id, description, quantity, amount_cents)
    VALUES (?, ?, ?, ?, ?, ?)
"""

SELECT_BOOKING_BY_REF = "SELECT * FROM bookings WHERE reference = ?"

SELECT_BOOKING_BY_ID = "SELECT * FROM bookings WHERE id = ?"

UPDATE_BOOKING_STATUS = "UPDATE bookings SET status = ?, updated_at = ? WHERE id = ?"

SELECT_CUSTOMER_BY_EMAIL = "SELECT * FROM customers WHERE email = ?"

# ---------------------------------------------------------------- payments

INSERT_PAYMENT = """
    INSERT INTO payments (booking_id, method, amount_cents, currency, status, gateway_ref,
                          created_at)
    VALUES (?, ?, ?, ?, 'captured', ?, ?)
"""

UPDATE_BOOKING_PAID = """
    UPDATE bookings SET paid_cents = paid_cents + ?, updated_at = ? WHERE id = ?
"""

# ----------------------------------------------------------------- loyalty

SELECT_LOYALTY_ACCOUNT = "SELECT * FROM loyalty_accounts WHERE customer_id = ?"

INSERT_LOYALTY_TXN = """
    INSERT INTO loyalty_transactions (customer_id, booking_id, kind, points, note, created_at)
    VALUES (?, ?, ?, ?, ?, ?)
"""

# balance may never go negative; lifetime only grows on earn/bonus
ADJUST_LOYALTY_BALANCE = """
    UPDATE loyalty_accounts
    SET points_balance = MAX(points_balance + ?, 0),
        lifetime_points = lifetime_points + ?,
        updated_at = ?
    WHERE customer_id = ?
"""

# -------------------------------------------------------------------- jobs

INSERT_JOB = """
    INSERT INTO jobs (kind, payload, run_at, status, created_at)
    VALUES (?, ?, ?, 'pending', ?)
"""

SELECT_DUE_JOBS = """
    SELECT * FROM jobs WHERE status = 'pending' AND run_at <= ? ORDER BY run_at, id LIMIT ?
"""

# ---------------------------------------------------------- notifications

INSERT_NOTIFICATION = """
    INSERT INTO notifications (customer_id, booking_id, channel, template, payload, status,
                               created_at)
    VALUES (?, ?, ?, ?, ?, 'queued', ?)
"""
