"""Demo data for local development, staging and the test-suite.

``python -m travel seed-demo --start 2030-07-01`` fills an empty database with
five airports, two weeks of flights, hotels with room inventory, fares, taxes,
seasonal rules, exchange rates and three customers.
"""

from datetime import datetime, timedelta

from travel.common.errors import InvalidState
from travel.common.util import ISO_DATE, ISO_MINUTE, date_range, now_iso, parse_date
from travel.db import scalar, transaction
from travel.repositories import customer_repo

AIRPORTS = [
    ("AMS", "Amsterdam", "NL"),
    ("LIS", "Lisbon", "PT"),
    ("BCN", "Barcelona", "ES"),
    ("FCO", "Rome", "IT"),
    ("JFK", "New York", "US"),
]

# flight number, origin, destination, departure time, minutes, economy/business seats,
# economy/business fare (EUR cents)
ROUTES = [
    ("TA101", "AMS", "LIS", "07:40", 180, 150, 12, 8900, 32900),
    ("TA102", "LIS", "AMS", "12:15", 175, 150, 12, 8900, 32900),
    ("TA201", "AMS", "BCN", "09:05", 140, 120, 8, 7400, 25900),
    ("TA202", "BCN", "AMS", "13:30", 140, 120, 8, 7400, 25900),
    ("TA301", "AMS", "FCO", "06:55", 150, 4, 0, 6900, 0),  # the small turboprop
    ("TA302", "FCO", "AMS", "18:20", 150, 4, 0, 6900, 0),
    ("TA641", "AMS", "JFK", "10:45", 500, 280, 30, 41900, 189000),
    ("TA642", "JFK", "AMS", "18:05", 440, 280, 30, 41900, 189000),
]

# hotel, city, country, airport, stars, [(room type, max guests, nightly rate, rooms)]
HOTELS = [
    ("Hotel Alfama", "Lisbon", "PT", "LIS", 4,
     [("Double", 2, 11000, 10), ("Family", 4, 18500, 3)]),
    ("Pensão Pequena", "Lisbon", "PT", "LIS", 2, [("Single", 1, 4500, 1)]),
    ("Casa Gòtic", "Barcelona", "ES", "BCN", 3, [("Double", 2, 9500, 8)]),
    ("Albergo Trastevere", "Rome", "IT", "FCO", 3, [("Double", 2, 10500, 6)]),
    ("Midtown Lofts", "New York", "US", "JFK", 4,
     [("King", 2, 26000, 12), ("Suite", 4, 54000, 2)]),
]

TAX_RULES = [
    ("NL", "flight", "Dutch air passenger tax", 0, 2905),
    ("PT", "flight", "Lisbon airport charge", 0, 1850),
    ("ES", "flight", "Spanish airport charge", 0, 1620),
    ("IT", "flight", "Italian municipal surcharge", 0, 650),
    ("US", "flight", "US transportation tax", 750, 2180),
    ("PT", "hotel", "IVA", 600, 0),
    ("PT", "hotel", "Lisbon tourist tax", 0, 200),
    ("ES", "hotel", "IVA", 1000, 0),
    ("IT", "hotel", "Tassa di soggiorno", 0, 350),
    ("US", "hotel", "NYC hotel tax", 1475, 150),
]

EXCHANGE_RATES = [("USD", 1.08), ("GBP", 0.85)]

CUSTOMERS = [
    ("Alice Martin", "alice@example.com", "EUR"),
    ("Bob Smith", "bob@example.com", "USD"),
    ("Carol Jones", "carol@example.com", "GBP"),
]


def seed_airports(conn):
    conn.executemany("INSERT OR IGNORE INTO airports (code, city, country) VALUES (?, ?, ?)",
                     AIRPORTS)


def seed_flights(conn, start, days):
    """Daily flights on every route, with inventory and fares."""
    flights = 0
    for day in date_range(start, days):
        for no, origin, dest, dep, minutes, eco, biz, eco_fare, biz_fare in ROUTES:
            departs = f"{day}T{dep}"
            # all times are local and we ignore time zones here, like the old loader did
            arrives = (datetime.strptime(departs, ISO_MINUTE)
                       + timedelta(minutes=minutes)).strftime(ISO_MINUTE)
            cur = conn.execute(
                "INSERT INTO flights (flight_no, origin, destination, departs_at, arrives_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (no, origin, dest, departs, arrives),
            )
            cabins = [("economy", eco, eco_fare)] + ([("business", biz, biz_fare)] if biz else [])
            conn.executemany(
                "INSERT INTO flight_inventory (flight_id, cabin, capacity) VALUES (?, ?, ?)",
                [(cur.lastrowid, cabin, seats) for cabin, seats, _ in cabins],
            )
            conn.executemany(
                "INSERT INTO fares (flight_id, cabin, base_cents) VALUES (?, ?, ?)",
                [(cur.lastrowid, cabin, fare) for cabin, _, fare in cabins],
            )
            flights += 1
    return flights


def seed_hotels(conn, start, days):
    """Hotels and room inventory from the day before ``start`` for ``days`` + 2 nights."""
    first_night = (parse_date(start) - timedelta(days=1)).strftime(ISO_DATE)
    nights = date_range(first_night, days + 2)
    for name, city, country, airport, stars, room_types in HOTELS:
        hotel_id = conn.execute(
            "INSERT INTO hotels (name, city, country, airport_code, stars) VALUES (?, ?, ?, ?, ?)",
            (name, city, country, airport, stars),
        ).lastrowid
        for rt_name, guests, rate, rooms in room_types:
            rt_id = conn.execute(
                "INSERT INTO room_types (hotel_id, name, max_guests, base_rate_cents) "
                "VALUES (?, ?, ?, ?)",
                (hotel_id, rt_name, guests, rate),
            ).lastrowid
            conn.executemany(
                "INSERT INTO room_inventory (room_type_id, night, total) VALUES (?, ?, ?)",
                [(rt_id, night, rooms) for night in nights],
            )
    return len(HOTELS)


def seed_pricing_rules(conn, start):
    """Taxes, exchange rates and the summer season of ``start``'s year."""
    year = parse_date(start).year
    conn.executemany(
        "INSERT INTO tax_rules (country, applies_to, name, rate_bp, flat_cents) "
        "VALUES (?, ?, ?, ?, ?)",
        TAX_RULES,
    )
    conn.executemany(
        "INSERT INTO seasonal_rules (name, applies_to, starts_on, ends_on, adjustment_pct) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            ("summer peak flights", "flight", f"{year}-07-10", f"{year}-08-31", 15),
            ("summer peak hotels", "hotel", f"{year}-07-10", f"{year}-08-31", 20),
            ("new year", "any", f"{year}-12-28", f"{year + 1}-01-02", 25),
        ],
    )
    ts = now_iso()
    conn.executemany(
        "INSERT OR REPLACE INTO exchange_rates (currency, units_per_eur, updated_at) "
        "VALUES (?, ?, ?)",
        [(cur, rate, ts) for cur, rate in EXCHANGE_RATES],
    )


def seed_customers(conn):
    return [customer_repo.create(conn, name, email, currency) for name, email, currency in
            CUSTOMERS]


def seed_demo(conn, start, days=14):
    """Load all demo data in one transaction.  Refuses to run twice."""
    if scalar(conn, "SELECT COUNT(*) FROM flights", default=0):
        raise InvalidState("database already has flights; seed-demo only runs on an empty db")
    with transaction(conn):
        seed_airports(conn)
        flights = seed_flights(conn, start, days)
        hotels = seed_hotels(conn, start, days)
        seed_pricing_rules(conn, start)
        customers = seed_customers(conn)
    return {"flights": flights, "hotels": hotels, "customers": len(customers)}
