"""Fixtures for the travel monolith's tests.

Every test gets its own SQLite file in tmp_path, created and seeded through the
real CLI entry point, and a pinned clock (``TRAVEL_NOW``): "now" is
2030-06-01 09:00 and the demo flights run daily from 2030-07-01 to 2030-07-14.
"""

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

SAMPLE_ROOT = Path(__file__).resolve().parents[1]
if str(SAMPLE_ROOT) not in sys.path:
    sys.path.insert(0, str(SAMPLE_ROOT))

from travel import cli  # noqa: E402

NOW = "2030-06-01T09:00:00"
START = "2030-07-01"


@pytest.fixture(autouse=True)
def _environment(monkeypatch):
    """Pin the clock and keep the developer's TRAVEL_* settings out of the tests."""
    for var in ("TRAVEL_DB", "TRAVEL_OUTBOX", "TRAVEL_HOLD_MINUTES", "TRAVEL_POINTS_PER_EUR",
                "TRAVEL_REMINDER_DAYS", "TRAVEL_JOB_MAX_ATTEMPTS", "TRAVEL_BASE_CURRENCY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TRAVEL_NOW", NOW)
    monkeypatch.setenv("TRAVEL_DB_SYNCHRONOUS", "OFF")  # throw-away databases


class Travel:
    """Drives the CLI in-process against one database and inspects the result."""

    def __init__(self, db_path, capsys, monkeypatch):
        self.db_path = str(db_path)
        self._capsys = capsys
        self._monkeypatch = monkeypatch

    def run(self, *argv):
        """Run ``travel --db DB argv...``; returns (exit code, stdout, stderr)."""
        self._capsys.readouterr()
        code = cli.main(["--db", self.db_path, *map(str, argv)])
        out, err = self._capsys.readouterr()
        return code, out, err

    def ok(self, *argv):
        code, out, err = self.run(*argv)
        assert code == 0, f"exit {code}: {err}"
        return out

    def at(self, timestamp):
        """Move the pinned clock."""
        self._monkeypatch.setenv("TRAVEL_NOW", timestamp)

    def rows(self, sql, params=()):
        conn = sqlite3.connect(self.db_path)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def one(self, sql, params=()):
        rows = self.rows(sql, params)
        assert len(rows) == 1, rows
        return rows[0]

    def value(self, sql, params=()):
        return next(iter(self.one(sql, params).values()))

    def flight(self, flight_no, day):
        return self.value(
            "SELECT id FROM flights WHERE flight_no = ? AND date(departs_at) = ?", (flight_no, day)
        )

    def room_type(self, hotel, room):
        return self.value(
            "SELECT rt.id FROM room_types rt JOIN hotels h ON h.id = rt.hotel_id "
            "WHERE h.name = ? AND rt.name = ?",
            (hotel, room),
        )

    def inventory(self, flight_id, cabin="economy"):
        return self.one(
            "SELECT capacity, held, sold FROM flight_inventory WHERE flight_id = ? AND cabin = ?",
            (flight_id, cabin),
        )

    def booking(self, reference):
        return self.one("SELECT * FROM bookings WHERE reference = ?", (reference,))

    def book(self, *argv):
        """``book-trip argv...``, which must succeed; returns the booking reference."""
        return self.reference_from(self.ok("book-trip", *argv))

    @staticmethod
    def reference_from(output):
        """Pull the booking reference out of ``booking TA-XXXXXX ...`` output."""
        for word in output.split():
            if word.startswith("TA-") and len(word) == 9:
                return word
        raise AssertionError(f"no booking reference in {output!r}")

    def count(self, table, where="1 = 1", params=()):
        return self.value(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)


@pytest.fixture
def empty_travel(tmp_path, capsys, monkeypatch):
    """A CLI driver on a database file that does not exist yet."""
    return Travel(tmp_path / "travel.db", capsys, monkeypatch)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory):
    """``init-db`` + ``seed-demo`` once per session, through the CLI; tests get copies."""
    path = tmp_path_factory.mktemp("template") / "travel.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRAVEL_NOW", NOW)
        mp.setenv("TRAVEL_DB_SYNCHRONOUS", "OFF")
        assert cli.main(["--db", str(path), "init-db"]) == 0
        assert cli.main(["--db", str(path), "seed-demo", "--start", START]) == 0
    return path


@pytest.fixture
def travel(empty_travel, seeded_template, capsys):
    """A CLI driver on an initialised database with the demo data."""
    capsys.readouterr()
    shutil.copyfile(seeded_template, empty_travel.db_path)
    return empty_travel


@pytest.fixture
def lisbon_trip(travel):
    """Arguments for Alice's Lisbon trip: 2 pax, TA101 out on 07-03, TA102 back 07-06."""
    return [
        "--customer", "alice@example.com",
        "--flight", travel.flight("TA101", "2030-07-03"),
        "--flight", travel.flight("TA102", "2030-07-06"),
        "--room-type", travel.room_type("Hotel Alfama", "Double"),
        "--check-in", "2030-07-03", "--check-out", "2030-07-06",
        "--pax", "2",
    ]
