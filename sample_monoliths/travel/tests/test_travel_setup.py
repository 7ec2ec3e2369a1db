"""Database setup and admin commands: init-db, seed-demo, add-customer, add-flight,
set-exchange-rate, plus the real ``python -m travel`` entry point."""

import os
import subprocess
import sys

import pytest

from travel import __version__

SAMPLE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_init_db_creates_schema_and_is_idempotent(empty_travel):
    out = empty_travel.ok("init-db")
    assert "24 tables" in out
    # a second run after a deploy must not fail or duplicate the seeded tiers
    empty_travel.ok("init-db")
    tiers = empty_travel.rows("SELECT name, min_points FROM loyalty_tiers ORDER BY sort_order")
    assert [(t["name"], t["min_points"]) for t in tiers] == [
        ("blue", 0), ("silver", 2000), ("gold", 10000)]


def test_seed_demo_loads_everything_once(empty_travel):
    empty_travel.ok("init-db")
    out = empty_travel.ok("seed-demo", "--start", "2030-07-01", "--days", "3")
    assert "seeded 24 flights, 5 hotels, 3 customers from 2030-07-01" in out
    assert empty_travel.count("flight_inventory") == 3 * 14
    assert empty_travel.count("fares") == empty_travel.count("flight_inventory")
    assert empty_travel.count("loyalty_accounts") == 3
    assert empty_travel.count("exchange_rates") == 2
    code, _, err = empty_travel.run("seed-demo", "--start", "2030-07-01")
    assert code == 1 and "already has flights" in err
    assert empty_travel.count("flights") == 24


def test_add_customer_opens_loyalty_account(travel):
    out = travel.ok("add-customer", "--name", "Dan Brown", "--email", "Dan@Example.com",
                    "--currency", "usd")
    assert "dan@example.com" in out
    customer = travel.one("SELECT * FROM customers WHERE email = 'dan@example.com'")
    assert customer["home_currency"] == "USD"
    account = travel.one("SELECT * FROM loyalty_accounts WHERE customer_id = ?",
                         (customer["id"],))
    assert (account["tier"], account["points_balance"]) == ("blue", 0)


def test_add_customer_rejects_duplicates_and_bad_email(travel):
    code, _, err = travel.run("add-customer", "--name", "A", "--email", "alice@example.com")
    assert code == 1 and "already exists" in err
    code, _, err = travel.run("add-customer", "--name", "X", "--email", "not-an-email")
    assert code == 1 and "not an e-mail" in err
    assert travel.count("customers") == 3
    assert travel.count("loyalty_accounts") == 3


def test_add_flight_schedules_inventory_and_fares(travel):
    out = travel.ok("add-flight", "--flight-no", "TA777", "--from", "LIS", "--to", "FCO",
                    "--departs", "2030-07-05T08:00", "--arrives", "2030-07-05T11:30",
                    "--economy", "2:99.50", "--business", "1:300")
    flight_id = int(out.split()[-1])
    assert travel.inventory(flight_id) == {"capacity": 2, "held": 0, "sold": 0}
    fares = travel.rows("SELECT cabin, base_cents FROM fares WHERE flight_id = ? ORDER BY cabin",
                        (flight_id,))
    assert fares == [{"cabin": "business", "base_cents": 30000},
                     {"cabin": "economy", "base_cents": 9950}]
    out = travel.ok("search-flights", "--from", "LIS", "--to", "FCO", "--date", "2030-07-05")
    assert "TA777" in out


def test_add_flight_unknown_airport_writes_nothing(travel):
    before = travel.count("flights")
    code, _, err = travel.run("add-flight", "--flight-no", "TA999", "--from", "AMS", "--to",
                              "XXX", "--departs", "2030-07-05T08:00",
                              "--arrives", "2030-07-05T09:00", "--economy", "10:50")
    assert code == 1 and "unknown airport" in err
    assert travel.count("flights") == before
    assert travel.count("fares", "flight_id > ?", (before,)) == 0


def test_add_flight_validates_arguments(travel):
    code, _, err = travel.run("add-flight", "--flight-no", "TA998", "--from", "AMS", "--to",
                              "LIS", "--departs", "2030-07-05T10:00",
                              "--arrives", "2030-07-05T09:00", "--economy", "10:50")
    assert code == 1 and "arrival must be after departure" in err
    code, _, err = travel.run("add-flight", "--flight-no", "TA998", "--from", "AMS", "--to",
                              "LIS", "--departs", "2030-07-05T10:00",
                              "--arrives", "2030-07-05T12:00")
    assert code == 1 and "--economy" in err
    with pytest.raises(SystemExit) as exc:
        travel.run("add-flight", "--flight-no", "TA998", "--from", "AMS", "--to", "LIS",
                   "--departs", "x", "--arrives", "y", "--economy", "lots")
    assert exc.value.code == 2


def test_set_exchange_rate_changes_prices(travel):
    flight = travel.flight("TA201", "2030-07-02")
    before = travel.ok("search-flights", "--from", "AMS", "--to", "BCN", "--date",
                       "2030-07-02", "--currency", "USD", "--json")
    travel.ok("set-exchange-rate", "usd", "2.0")
    assert travel.value("SELECT units_per_eur FROM exchange_rates WHERE currency = 'USD'") == 2.0
    after = travel.ok("search-flights", "--from", "AMS", "--to", "BCN", "--date", "2030-07-02",
                      "--currency", "USD", "--json")
    assert str(flight) in after and before != after
    assert '"price_cents": 20610' in after  # (7400 + 2905 tax) EUR cents * 2.0
    code, _, err = travel.run("set-exchange-rate", "CHF", "0")
    assert code == 1 and "positive" in err


def test_python_dash_m_travel_end_to_end(tmp_path):
    """The real entry point in a subprocess: init, seed, search, book."""
    db = str(tmp_path / "sub.db")
    env = dict(os.environ, TRAVEL_NOW="2030-06-01T09:00:00", PYTHONPATH=SAMPLE_ROOT)

    def run(*argv):
        return subprocess.run([sys.executable, "-m", "travel", "--db", db, *argv],
                              capture_output=True, text=True, env=env, cwd=SAMPLE_ROOT,
                              timeout=60)

    assert run("init-db").returncode == 0
    assert run("seed-demo", "--start", "2030-07-01", "--days", "2").returncode == 0
    search = run("search-flights", "--from", "AMS", "--to", "BCN", "--date", "2030-07-02")
    assert search.returncode == 0 and "TA201" in search.stdout
    flight_id = search.stdout.splitlines()[2].split()[0]
    booked = run("book-trip", "--customer", "bob@example.com", "--flight", flight_id,
                 "--card", "tok_visa")
    assert booked.returncode == 0, booked.stderr
    assert "confirmed" in booked.stdout
    declined = run("book-trip", "--customer", "bob@example.com", "--flight", flight_id,
                   "--card", "tok_decline")
    assert declined.returncode == 3
    assert "declined" in declined.stderr and "Traceback" not in declined.stderr
    version = run("--version")
    assert version.returncode == 0 and __version__ in version.stdout
    usage = run("no-such-command")
    assert usage.returncode == 2


def test_add_hotel_opens_rooms_for_booking(travel):
    out = travel.ok("add-hotel", "--name", "Porto Rio", "--city", "Lisbon", "--country", "pt",
                    "--airport", "lis", "--stars", "5", "--room", "Suite:3:250.00:2",
                    "--room", "Twin:2:120:5", "--first-night", "2030-07-01", "--nights", "10")
    assert "2 room type(s), 10 night(s) open" in out
    hotel = travel.one("SELECT * FROM hotels WHERE name = 'Porto Rio'")
    assert (hotel["country"], hotel["airport_code"], hotel["stars"]) == ("PT", "LIS", 5)
    assert travel.count("room_inventory", "room_type_id IN (SELECT id FROM room_types "
                        "WHERE hotel_id = ?)", (hotel["id"],)) == 20
    out = travel.ok("search-hotels", "--city", "Lisbon", "--check-in", "2030-07-02",
                    "--check-out", "2030-07-04", "--guests", "3")
    assert "Porto Rio" in out and "Suite" in out
    suite = travel.room_type("Porto Rio", "Suite")
    travel.book("--customer", "alice@example.com", "--room-type", suite, "--pax", "3",
                "--check-in", "2030-07-02", "--check-out", "2030-07-04", "--card", "tok_visa")
    assert travel.value("SELECT SUM(sold) FROM room_inventory WHERE room_type_id = ?",
                        (suite,)) == 2


def test_add_hotel_rejects_bad_input_without_writing(travel):
    hotels = travel.count("hotels")
    code, _, err = travel.run("add-hotel", "--name", "Nowhere Inn", "--city", "Atlantis",
                              "--country", "XX", "--airport", "ATL", "--room", "Double:2:90:3",
                              "--first-night", "2030-07-01")
    assert code == 1 and "unknown airport 'ATL'" in err
    code, _, err = travel.run("add-hotel", "--name", "Empty", "--city", "Rome", "--country",
                              "IT", "--airport", "FCO", "--first-night", "2030-07-01")
    assert code == 1 and "--room" in err
    with pytest.raises(SystemExit) as exc:
        travel.run("add-hotel", "--name", "Bad", "--city", "Rome", "--country", "IT",
                   "--airport", "FCO", "--room", "Double", "--first-night", "2030-07-01")
    assert exc.value.code == 2
    assert travel.count("hotels") == hotels
