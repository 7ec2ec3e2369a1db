"""Booking trips: the one-transaction happy path and every way it can fail."""

import json

import pytest


def test_book_trip_holds_prices_pays_and_awards_points_in_one_go(travel, lisbon_trip):
    out = travel.ok("book-trip", *lisbon_trip, "--card", "tok_visa")
    assert "confirmed: charged €806.90 of €806.90, 806 points earned" in out
    ref = travel.reference_from(out)

    booking = travel.booking(ref)
    assert booking["status"] == "confirmed"
    assert (booking["total_cents"], booking["paid_cents"], booking["currency"]) == (
        80690, 80690, "EUR")
    assert (booking["trip_start"], booking["trip_end"]) == ("2030-07-03", "2030-07-06")
    assert booking["points_earned"] == 806 and booking["hold_expires_at"] is None

    # flights: two legs, two seats each, sold
    holds = travel.rows("SELECT status, seats FROM seat_holds WHERE booking_id = ?",
                        (booking["id"],))
    assert holds == [{"status": "sold", "seats": 2}] * 2
    assert travel.inventory(travel.flight("TA101", "2030-07-03")) == {
        "capacity": 150, "held": 0, "sold": 2}
    # hotel: three nights sold, check-out night untouched
    nights = travel.rows(
        "SELECT night, held, sold FROM room_inventory WHERE room_type_id = ? "
        "AND night BETWEEN '2030-07-02' AND '2030-07-06' ORDER BY night",
        (travel.room_type("Hotel Alfama", "Double"),))
    assert [(n["night"][-2:], n["held"], n["sold"]) for n in nights] == [
        ("02", 0, 0), ("03", 0, 1), ("04", 0, 1), ("05", 0, 1), ("06", 0, 0)]
    # bookings, pricing, payments, loyalty, notifications
    items = travel.rows("SELECT kind, amount_cents FROM booking_items WHERE booking_id = ?",
                        (booking["id"],))
    assert [i["kind"] for i in items] == ["flight", "flight", "hotel"]
    assert sum(i["amount_cents"] for i in items) == 80690
    assert travel.value("SELECT booking_id FROM price_quotes") == booking["id"]
    payment = travel.one("SELECT * FROM payments")
    assert (payment["method"], payment["amount_cents"], payment["status"]) == (
        "card", 80690, "captured")
    assert payment["gateway_ref"].startswith("ch_")
    assert travel.value("SELECT outcome FROM payment_attempts") == "approved"
    account = travel.one("SELECT * FROM loyalty_accounts la JOIN customers c "
                         "ON c.id = la.customer_id WHERE c.email = 'alice@example.com'")
    assert (account["points_balance"], account["lifetime_points"]) == (806, 806)
    assert travel.value("SELECT template FROM notifications") == "booking_confirmed"
    assert travel.count("jobs") == 0


def test_no_seats_left_rolls_everything_back(travel):
    rome = ["--flight", travel.flight("TA301", "2030-07-04"),
            "--room-type", travel.room_type("Albergo Trastevere", "Double"),
            "--check-in", "2030-07-04", "--check-out", "2030-07-06"]
    travel.book("--customer", "alice@example.com", *rome, "--pax", "3", "--rooms", "2",
                "--card", "tok_visa")
    snapshot = {t: travel.count(t) for t in ("bookings", "seat_holds", "room_holds",
                                             "payments", "loyalty_transactions",
                                             "notifications", "price_quotes",
                                             "booking_items")}
    code, _, err = travel.run("book-trip", "--customer", "bob@example.com", *rome, "--pax", "2",
                              "--card", "tok_visa")
    assert code == 1
    assert "only 1 economy seat(s) left" in err
    assert {t: travel.count(t) for t in snapshot} == snapshot
    assert travel.inventory(travel.flight("TA301", "2030-07-04")) == {
        "capacity": 4, "held": 0, "sold": 3}
    assert travel.value("SELECT SUM(held) FROM room_inventory") == 0
    assert travel.count("payment_attempts", "customer_id = 2") == 0


def test_room_sold_out_mid_stay_releases_seats_already_held(travel):
    single = travel.room_type("Pensão Pequena", "Single")
    flight = travel.flight("TA101", "2030-07-03")
    travel.book("--customer", "bob@example.com", "--flight", flight, "--room-type", single,
                "--check-in", "2030-07-03", "--check-out", "2030-07-05", "--card", "tok_visa")
    code, _, err = travel.run("book-trip", "--customer", "carol@example.com", "--flight",
                              flight, "--room-type", single, "--check-in", "2030-07-04",
                              "--check-out", "2030-07-06", "--card", "tok_visa")
    assert code == 1 and "not available on 2030-07-04" in err
    # the seat held for carol before the hotel failed is back on sale
    assert travel.inventory(flight) == {"capacity": 150, "held": 0, "sold": 1}
    assert travel.count("bookings") == 1
    assert travel.count("seat_holds") == 1


@pytest.mark.parametrize("token, reason", [("tok_decline", "do_not_honor"),
                                           ("tok_insufficient", "insufficient_funds")])
def test_payment_declined_rolls_back_but_logs_attempt(travel, lisbon_trip, token, reason):
    code, out, err = travel.run("book-trip", *lisbon_trip, "--card", token)
    assert code == 3 and out == ""
    assert f"card declined ({reason})" in err
    for table in ("bookings", "booking_items", "seat_holds", "room_holds", "payments",
                  "price_quotes", "loyalty_transactions", "notifications", "jobs"):
        assert travel.count(table) == 0, table
    assert travel.value("SELECT SUM(held) + SUM(sold) FROM flight_inventory") == 0
    assert travel.value("SELECT SUM(held) + SUM(sold) FROM room_inventory") == 0
    assert travel.value("SELECT points_balance FROM loyalty_accounts WHERE customer_id = 1") == 0
    attempt = travel.one("SELECT * FROM payment_attempts")
    assert (attempt["outcome"], attempt["amount_cents"], attempt["customer_id"]) == (
        "declined", 80690, 1)
    assert attempt["booking_reference"].startswith("TA-")


def test_gateway_outage_is_reported_as_retryable(travel, lisbon_trip):
    code, _, err = travel.run("book-trip", *lisbon_trip, "--card", "tok_gateway_down")
    assert code == 4 and "timed out" in err
    assert travel.count("bookings") == 0
    assert travel.value("SELECT outcome FROM payment_attempts") == "error"


def test_book_trip_needs_a_way_to_pay(travel, lisbon_trip):
    code, _, err = travel.run("book-trip", *lisbon_trip)
    assert code == 1 and "card token or --pay-later" in err
    with pytest.raises(SystemExit) as exc:
        travel.run("book-trip", *lisbon_trip, "--card", "tok_visa", "--pay-later")
    assert exc.value.code == 2
    code, _, err = travel.run("book-trip", *lisbon_trip, "--card", "4111111111111111")
    assert code == 1 and "not a card token" in err
    assert travel.count("bookings") == 0


def test_redeeming_points_pays_part_of_the_trip(travel, lisbon_trip):
    travel.book(*lisbon_trip, "--card", "tok_visa")  # 806 points
    out = travel.ok("book-trip", "--customer", "alice@example.com",
                    "--flight", travel.flight("TA201", "2030-07-02"),
                    "--use-points", "500", "--card", "tok_visa")
    # 74.00 fare + 29.05 tax = 103.05; 500 points are worth 5.00
    assert "charged €98.05 of €103.05, 98 points earned" in out
    booking = travel.booking(travel.reference_from(out))
    assert (booking["points_redeemed"], booking["paid_cents"]) == (500, 10305)
    pays = travel.rows("SELECT method, amount_cents FROM payments WHERE booking_id = ? "
                       "ORDER BY id", (booking["id"],))
    assert pays == [{"method": "points", "amount_cents": 500},
                    {"method": "card", "amount_cents": 9805}]
    account = travel.one("SELECT * FROM loyalty_accounts WHERE customer_id = 1")
    assert (account["points_balance"], account["lifetime_points"]) == (806 - 500 + 98, 904)
    kinds = [r["kind"] for r in travel.rows(
        "SELECT kind FROM loyalty_transactions WHERE customer_id = 1 ORDER BY id")]
    assert kinds == ["earn", "redeem", "earn"]


def test_redeeming_too_many_points_or_without_card_changes_nothing(travel, lisbon_trip):
    travel.book(*lisbon_trip, "--card", "tok_visa")  # 806 points
    flight = travel.flight("TA201", "2030-07-02")
    code, _, err = travel.run("book-trip", "--customer", "alice@example.com", "--flight", flight,
                              "--use-points", "5000", "--card", "tok_visa")
    assert code == 1 and "only 806 points available" in err
    # points are debited, then the missing card aborts the whole transaction
    code, _, err = travel.run("book-trip", "--customer", "alice@example.com", "--flight", flight,
                              "--use-points", "100")
    assert code == 1 and "give a card token too" in err
    assert travel.value("SELECT points_balance FROM loyalty_accounts WHERE customer_id = 1") == 806
    assert travel.count("bookings") == 1
    assert travel.count("payments", "method = 'points'") == 0


def test_pay_later_holds_inventory_until_paid(travel):
    flight = travel.flight("TA101", "2030-07-03")
    single = travel.room_type("Pensão Pequena", "Single")
    out = travel.ok("book-trip", "--customer", "bob@example.com", "--flight", flight,
                    "--room-type", single, "--check-in", "2030-07-03",
                    "--check-out", "2030-07-05", "--pay-later")
    assert "held until 2030-06-01T10:00:00: $234.84 to pay" in out
    ref = travel.reference_from(out)
    booking = travel.booking(ref)
    assert (booking["status"], booking["hold_expires_at"]) == ("held", "2030-06-01T10:00:00")
    assert travel.inventory(flight) == {"capacity": 150, "held": 1, "sold": 0}
    job = travel.one("SELECT * FROM jobs")
    assert (job["kind"], job["run_at"], json.loads(job["payload"])) == (
        "expire_hold", "2030-06-01T10:00:00", {"booking_id": booking["id"]})
    assert travel.value("SELECT template FROM notifications") == "booking_held"
    assert travel.count("payments") == 0

    travel.at("2030-06-01T09:45:00")
    out = travel.ok("pay-booking", ref, "--card", "tok_mastercard")
    assert "charged $234.84, 217 points earned" in out  # 217.44 EUR
    booking = travel.booking(ref)
    assert (booking["status"], booking["paid_cents"]) == ("confirmed", 23484)
    assert travel.inventory(flight) == {"capacity": 150, "held": 0, "sold": 1}
    assert travel.value("SELECT sold FROM room_inventory WHERE room_type_id = ? "
                        "AND night = '2030-07-04'", (single,)) == 1
    assert travel.count("jobs") == 0  # the expiry job is no longer needed
    code, _, err = travel.run("pay-booking", ref, "--card", "tok_visa")
    assert code == 1 and "is confirmed, not held" in err


def test_pay_booking_declined_keeps_the_hold(travel):
    flight = travel.flight("TA201", "2030-07-05")
    ref = travel.book("--customer", "carol@example.com", "--flight", flight, "--pax", "2",
                      "--pay-later")
    code, _, err = travel.run("pay-booking", ref, "--card", "tok_decline")
    assert code == 3 and "declined" in err
    assert travel.booking(ref)["status"] == "held"
    assert travel.inventory(flight) == {"capacity": 120, "held": 2, "sold": 0}
    assert travel.one("SELECT outcome, currency FROM payment_attempts") == {
        "outcome": "declined", "currency": "GBP"}
    assert travel.count("jobs", "kind = 'expire_hold' AND status = 'pending'") == 1


def test_pay_booking_after_the_hold_expired(travel):
    ref = travel.book("--customer", "bob@example.com", "--flight",
                      travel.flight("TA641", "2030-07-09"), "--pay-later")
    travel.at("2030-06-01T10:00:01")
    code, _, err = travel.run("pay-booking", ref, "--card", "tok_visa")
    assert code == 1 and "expired at 2030-06-01T10:00:00" in err
    code, _, err = travel.run("pay-booking", "TA-NOSUCH", "--card", "tok_visa")
    assert code == 1 and "no booking" in err


def test_show_booking_text_and_json(travel, lisbon_trip):
    ref = travel.book(*lisbon_trip, "--card", "tok_visa")
    out = travel.ok("show-booking", ref.lower())
    assert out.startswith(f"{ref}  confirmed  Alice Martin <alice@example.com>")
    assert "trip 2030-07-03 .. 2030-07-06" in out
    assert "total €806.90  paid €806.90  refunded €0.00" in out
    data = json.loads(travel.ok("show-booking", ref, "--json"))
    assert data["booking"]["reference"] == ref
    assert len(data["items"]) == 3 and len(data["seat_holds"]) == 2
    assert len(data["room_holds"]) == 1 and len(data["payments"]) == 1
    assert data["quote"]["total_cents"] == 80690
    code, _, err = travel.run("show-booking", "TA-ZZZZZZ")
    assert code == 1 and "no booking 'TA-ZZZZZZ'" in err


def test_list_bookings_filters_by_customer_and_status(travel, lisbon_trip):
    confirmed = travel.book(*lisbon_trip, "--card", "tok_visa")
    held = travel.book("--customer", "bob@example.com", "--flight",
                       travel.flight("TA202", "2030-07-06"), "--pay-later")
    out = travel.ok("list-bookings")
    assert confirmed in out and held in out
    out = travel.ok("list-bookings", "--status", "held")
    assert held in out and confirmed not in out
    out = travel.ok("list-bookings", "--customer", "alice@example.com", "--status", "confirmed",
                    "--status", "cancelled")
    assert confirmed in out and held not in out
    assert travel.ok("list-bookings", "--customer", "carol@example.com").strip() == "no bookings"
