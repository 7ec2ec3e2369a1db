"""Management reports and the loyalty statement."""

import json

import pytest


@pytest.fixture
def busy_day(travel, lisbon_trip):
    """Three bookings: Alice confirmed (EUR), Bob held (USD), Carol cancelled (GBP)."""
    alice = travel.book(*lisbon_trip, "--card", "tok_visa")
    bob = travel.book("--customer", "bob@example.com", "--flight",
                      travel.flight("TA641", "2030-07-08"), "--pay-later")
    carol = travel.book("--customer", "carol@example.com", "--flight",
                        travel.flight("TA201", "2030-07-03"), "--room-type",
                        travel.room_type("Casa Gòtic", "Double"), "--check-in", "2030-07-03",
                        "--check-out", "2030-07-05", "--card", "tok_visa")
    travel.ok("cancel-booking", carol)
    return {"alice": alice, "bob": bob, "carol": carol}


def test_sales_report_by_day_and_currency(travel, busy_day):
    rows = json.loads(travel.ok("report", "sales", "--from", "2030-06-01", "--to", "2030-06-30",
                                "--json"))
    by_currency = {r["currency"]: r for r in rows}
    assert set(by_currency) == {"EUR", "GBP"}  # held bookings are not sales
    assert by_currency["EUR"]["taken_cents"] == 80690
    assert by_currency["GBP"]["refunded_cents"] == by_currency["GBP"]["taken_cents"] > 0
    out = travel.ok("report", "sales", "--from", "2030-06-01", "--to", "2030-06-30")
    assert "2030-06-01  EUR" in out and "€806.90" in out
    out = travel.ok("report", "sales", "--from", "2031-01-01", "--to", "2031-12-31")
    assert out.strip() == "(sales: no data)"


def test_load_factor_report(travel, busy_day):
    rows = json.loads(travel.ok("report", "load-factor", "--from", "2030-07-03", "--to",
                                "2030-07-03", "--json"))
    ta101 = [r for r in rows if r["flight_no"] == "TA101" and r["cabin"] == "economy"]
    assert ta101 == [{"flight_no": "TA101", "origin": "AMS", "destination": "LIS",
                      "departs_at": "2030-07-03T07:40", "cabin": "economy", "capacity": 150,
                      "sold": 2, "held": 0, "load_factor": 1.3}]
    # carol's cancelled seat is back on sale
    ta201 = [r for r in rows if r["flight_no"] == "TA201" and r["cabin"] == "economy"]
    assert ta201[0]["sold"] == 0
    assert len(rows) == 14  # 8 routes, 6 with a business cabin


def test_occupancy_report(travel, busy_day):
    out = travel.ok("report", "occupancy", "--from", "2030-07-03", "--to", "2030-07-05")
    assert "Hotel Alfama" in out
    rows = json.loads(travel.ok("report", "occupancy", "--from", "2030-07-03", "--to",
                                "2030-07-05", "--json"))
    alfama = next(r for r in rows if r["hotel"] == "Hotel Alfama")
    assert (alfama["room_nights"], alfama["sold"]) == (39, 3)
    assert next(r for r in rows if r["hotel"] == "Casa Gòtic")["sold"] == 0


def test_report_needs_a_period(travel):
    code, _, err = travel.run("report", "sales")
    assert code == 1 and "needs --from and --to" in err
    with pytest.raises(SystemExit) as exc:
        travel.run("report", "profit")
    assert exc.value.code == 2


def test_ledger_joins_every_area(travel, busy_day):
    rows = {r["reference"]: r for r in json.loads(travel.ok("report", "ledger", "--json"))}
    alice = rows[busy_day["alice"]]
    assert alice["flights"] == "TA101,TA102" and alice["hotels"] == "Hotel Alfama"
    assert (alice["payments"], alice["net_points"], alice["total_eur_cents"]) == (1, 806, 80690)
    carol = rows[busy_day["carol"]]
    assert carol["status"] == "cancelled" and carol["refunds"] == carol["paid_cents"]
    assert carol["net_points"] == 0 and carol["hotels"] == "Casa Gòtic"
    bob = rows[busy_day["bob"]]
    assert (bob["status"], bob["payments"], bob["currency"]) == ("held", 0, "USD")
    out = travel.ok("report", "ledger")
    assert busy_day["alice"] in out and "TA101,TA102" in out


def test_loyalty_leaderboard(travel, busy_day):
    rows = json.loads(travel.ok("report", "loyalty", "--json"))
    assert [r["email"] for r in rows] == ["alice@example.com", "carol@example.com",
                                          "bob@example.com"]
    assert rows[0]["trips"] == 1 and rows[0]["points_balance"] == 806
    assert rows[1]["points_balance"] == 0 and rows[1]["lifetime_points"] > 0


def test_loyalty_statement_shows_tier_progress(travel, lisbon_trip):
    travel.book(*lisbon_trip, "--card", "tok_visa")
    out = travel.ok("loyalty-statement", "alice@example.com")
    assert out.startswith("Alice Martin: blue tier, 806 points (806 lifetime)")
    assert "1194 points to silver" in out
    assert "earn" in out and "trip TA-" in out


def test_big_spender_moves_up_a_tier(travel):
    travel.book("--customer", "bob@example.com", "--cabin", "business", "--pax", "2",
                "--flight", travel.flight("TA641", "2030-07-05"),
                "--flight", travel.flight("TA642", "2030-07-09"), "--card", "tok_visa")
    data = json.loads(travel.ok("loyalty-statement", "bob@example.com", "--json"))
    assert data["tier"] == "silver"
    assert data["balance"] == data["lifetime"] > 2000
    assert data["next_tier"] == "gold"
    assert data["points_to_next_tier"] == 10000 - data["lifetime"]
    assert [t["kind"] for t in data["transactions"]] == ["earn"]


def test_loyalty_statement_unknown_customer(travel):
    code, _, err = travel.run("loyalty-statement", "nobody@example.com")
    assert code == 1 and "no customer" in err
    out = travel.ok("loyalty-statement", "carol@example.com")
    assert out.strip() == "Carol Jones: blue tier, 0 points (0 lifetime)\n2000 points to silver"
