"""Cancelling bookings and flights: refunds, released inventory, loyalty clawback."""


def _alice_points(travel):
    return travel.one("SELECT points_balance, lifetime_points, tier FROM loyalty_accounts "
                      "WHERE customer_id = 1")


def test_cancel_early_refunds_everything_and_releases_inventory(travel, lisbon_trip):
    ref = travel.book(*lisbon_trip, "--card", "tok_visa")
    out = travel.ok("cancel-booking", ref, "--reason", "changed plans")
    assert f"booking {ref} cancelled, refunded €806.90 (100%)" in out

    booking = travel.booking(ref)
    assert (booking["status"], booking["refunded_cents"]) == ("cancelled", 80690)
    assert travel.value("SELECT status FROM payments") == "refunded"
    refund = travel.one("SELECT amount_cents, reason FROM refunds")
    assert refund == {"amount_cents": 80690, "reason": "changed plans"}
    assert travel.value("SELECT SUM(held) + SUM(sold) FROM flight_inventory") == 0
    assert travel.value("SELECT SUM(held) + SUM(sold) FROM room_inventory") == 0
    assert {r["status"] for r in travel.rows("SELECT status FROM seat_holds")} == {"released"}
    assert travel.value("SELECT status FROM room_holds") == "released"
    # earned points are clawed back, lifetime points (and tier) are kept
    assert _alice_points(travel) == {"points_balance": 0, "lifetime_points": 806,
                                     "tier": "blue"}
    assert travel.value("SELECT points FROM loyalty_transactions WHERE kind = 'clawback'") == -806
    templates = [r["template"] for r in travel.rows("SELECT template FROM notifications "
                                                    "ORDER BY id")]
    assert templates == ["booking_confirmed", "booking_cancelled"]


def test_cancel_twice_is_refused(travel, lisbon_trip):
    ref = travel.book(*lisbon_trip, "--card", "tok_visa")
    travel.ok("cancel-booking", ref)
    code, _, err = travel.run("cancel-booking", ref)
    assert code == 1 and "already cancelled" in err
    assert travel.count("refunds") == 1


def test_late_cancellation_refunds_half(travel, lisbon_trip):
    ref = travel.book(*lisbon_trip, "--card", "tok_visa")
    travel.at("2030-06-28T12:00:00")  # five days before departure
    out = travel.ok("cancel-booking", ref)
    assert "refunded €403.45 (50%)" in out
    assert travel.value("SELECT status FROM payments") == "partially_refunded"
    assert travel.booking(ref)["refunded_cents"] == 40345
    assert travel.value("SELECT SUM(sold) FROM flight_inventory") == 0


def test_cannot_cancel_a_trip_that_started(travel, lisbon_trip):
    ref = travel.book(*lisbon_trip, "--card", "tok_visa")
    travel.at("2030-07-04T08:00:00")
    code, _, err = travel.run("cancel-booking", ref)
    assert code == 1 and "already started" in err
    assert travel.booking(ref)["status"] == "confirmed"
    assert travel.count("refunds") == 0


def test_cancel_held_booking_releases_hold_without_refund(travel):
    flight = travel.flight("TA202", "2030-07-08")
    ref = travel.book("--customer", "carol@example.com", "--flight", flight, "--pax", "3",
                      "--pay-later")
    out = travel.ok("cancel-booking", ref)
    assert "refunded £0.00 (0%)" in out
    assert travel.booking(ref)["status"] == "cancelled"
    assert travel.inventory(flight) == {"capacity": 120, "held": 0, "sold": 0}
    assert travel.count("jobs") == 0  # its expiry job was withdrawn
    assert travel.count("refunds") == 0


def test_cancel_restores_redeemed_points(travel, lisbon_trip):
    travel.book(*lisbon_trip, "--card", "tok_visa")  # 806 points
    ref = travel.book("--customer", "alice@example.com", "--flight",
                      travel.flight("TA201", "2030-07-02"), "--use-points", "500",
                      "--card", "tok_visa")
    assert _alice_points(travel)["points_balance"] == 404
    out = travel.ok("cancel-booking", ref)
    assert "refunded €103.05 (100%)" in out
    assert _alice_points(travel)["points_balance"] == 806
    kinds = [r["kind"] for r in travel.rows("SELECT kind FROM loyalty_transactions "
                                            "WHERE booking_id = ? ORDER BY id",
                                            (travel.booking(ref)["id"],))]
    assert kinds == ["redeem", "earn", "restore", "clawback"]
    assert travel.rows("SELECT p.method, r.amount_cents FROM refunds r "
                       "JOIN payments p ON p.id = r.payment_id ORDER BY r.id") == [
        {"method": "points", "amount_cents": 500}, {"method": "card", "amount_cents": 9805}]


def test_cancel_flight_cancels_and_refunds_its_bookings(travel, lisbon_trip):
    flight = travel.flight("TA101", "2030-07-03")
    alice = travel.book(*lisbon_trip, "--card", "tok_visa")
    bob = travel.book("--customer", "bob@example.com", "--flight", flight, "--pay-later")
    other = travel.book("--customer", "carol@example.com", "--flight",
                        travel.flight("TA101", "2030-07-04"), "--card", "tok_visa")
    travel.at("2030-06-30T08:00:00")  # inside the late window: ops cancellations refund fully
    out = travel.ok("cancel-flight", flight)
    assert "flight TA101 cancelled; 2 booking(s) cancelled and refunded" in out
    assert travel.value("SELECT status FROM flights WHERE id = ?", (flight,)) == "cancelled"
    assert travel.booking(alice)["refunded_cents"] == 80690
    assert travel.booking(bob)["status"] == "cancelled"
    assert travel.booking(other)["status"] == "confirmed"
    # alice's return flight and hotel are released too
    assert travel.inventory(travel.flight("TA102", "2030-07-06"))["sold"] == 0
    assert travel.value("SELECT SUM(sold) FROM room_inventory") == 0
    assert travel.ok("search-flights", "--from", "AMS", "--to", "LIS", "--date",
                     "2030-07-03").strip() == "no flights found"
    code, _, err = travel.run("book-trip", "--customer", "bob@example.com", "--flight", flight,
                              "--card", "tok_visa")
    assert code == 1 and "TA101 is cancelled" in err
    code, _, err = travel.run("cancel-flight", "99999")
    assert code == 1 and "no flight" in err
