"""Background jobs, driven through ``run-jobs`` / ``enqueue-job`` like cron and ops do."""

import json


def _jobs(travel):
    return travel.rows("SELECT kind, status, attempts FROM jobs ORDER BY id")


def test_expire_hold_job_releases_unpaid_booking_when_due(travel):
    flight = travel.flight("TA101", "2030-07-03")
    single = travel.room_type("Pensão Pequena", "Single")
    ref = travel.book("--customer", "bob@example.com", "--flight", flight, "--room-type", single,
                      "--check-in", "2030-07-03", "--check-out", "2030-07-05", "--pay-later")
    travel.at("2030-06-01T09:59:00")
    assert travel.ok("run-jobs").strip() == "0 job(s) run"
    assert travel.booking(ref)["status"] == "held"

    travel.at("2030-06-01T10:00:00")
    out = travel.ok("run-jobs")
    assert "expire_hold: done - expired" in out and "1 job(s) run" in out
    assert travel.booking(ref)["status"] == "expired"
    assert travel.inventory(flight) == {"capacity": 150, "held": 0, "sold": 0}
    assert travel.value("SELECT SUM(held) FROM room_inventory") == 0
    assert travel.one("SELECT status, finished_at FROM jobs") == {
        "status": "done", "finished_at": "2030-06-01T10:00:00"}
    assert travel.value("SELECT template FROM notifications ORDER BY id DESC LIMIT 1") == \
        "hold_expired"
    # the room is bookable again
    out = travel.ok("search-hotels", "--city", "Lisbon", "--check-in", "2030-07-03",
                    "--check-out", "2030-07-05")
    assert "Pensão Pequena" in out


def test_expire_hold_job_leaves_paid_bookings_alone(travel, lisbon_trip):
    ref = travel.book(*lisbon_trip, "--card", "tok_visa")
    booking_id = travel.booking(ref)["id"]
    travel.ok("enqueue-job", "expire_hold", "--payload", json.dumps({"booking_id": booking_id}))
    out = travel.ok("run-jobs")
    assert "expire_hold: done - nothing to do" in out
    assert travel.booking(ref)["status"] == "confirmed"


def test_expire_holds_sweep_catches_every_overdue_hold(travel):
    refs = [travel.book("--customer", email, "--flight", travel.flight("TA201", "2030-07-02"),
                        "--pay-later") for email in ("bob@example.com", "carol@example.com")]
    travel.at("2030-06-01T11:00:00")
    out = travel.ok("enqueue-job", "expire_holds", "--run-at", "2030-06-01T09:30:00")
    assert "queued: expire_holds" in out
    out = travel.ok("run-jobs")
    lines = out.splitlines()
    assert "expire_holds: done - 2 hold(s) expired" in lines[0]
    assert lines[1].endswith("expire_hold: done - nothing to do")
    assert [travel.booking(r)["status"] for r in refs] == ["expired", "expired"]
    assert travel.value("SELECT held FROM flight_inventory WHERE flight_id = ? "
                        "AND cabin = 'economy'", (travel.flight("TA201", "2030-07-02"),)) == 0


def test_run_jobs_recurring_schedules_each_recurring_job_once(travel):
    travel.at("2030-06-01T09:00:00")
    out = travel.ok("run-jobs", "--recurring")
    assert "5 job(s) run" in out
    kinds = sorted(r["kind"] for r in travel.rows("SELECT kind FROM jobs WHERE status = 'done'"))
    assert kinds == ["award_completion_points", "deliver_notifications", "expire_holds",
                     "purge_stale_data", "send_trip_reminders"]
    # each re-scheduled itself once, in the future; a second cron tick adds nothing
    pending = travel.rows("SELECT kind, run_at FROM jobs WHERE status = 'pending' ORDER BY kind")
    assert len(pending) == 5
    assert dict((p["kind"], p["run_at"]) for p in pending)["deliver_notifications"] == \
        "2030-06-01T09:05:00"
    assert travel.ok("run-jobs", "--recurring").strip() == "0 job(s) run"
    assert travel.count("jobs", "status = 'pending'") == 5


def test_award_completion_points_after_the_trip(travel, lisbon_trip):
    ref = travel.book(*lisbon_trip, "--card", "tok_visa")
    travel.ok("enqueue-job", "award_completion_points")
    assert "0 trip(s) completed" in travel.ok("run-jobs")

    travel.at("2030-07-07T03:00:00")
    travel.ok("enqueue-job", "award_completion_points")
    out = travel.ok("run-jobs")
    assert "award_completion_points: done - 1 trip(s) completed, 81 bonus point(s)" in out
    assert travel.booking(ref)["status"] == "completed"
    assert travel.one("SELECT kind, points, note FROM loyalty_transactions WHERE kind = 'bonus'"
                      ) == {"kind": "bonus", "points": 81, "note": f"trip {ref} completed"}
    lifetime = travel.value("SELECT lifetime_points FROM loyalty_accounts WHERE customer_id = 1")
    assert lifetime == 806 + 81
    # completed trips are never paid twice
    travel.ok("enqueue-job", "award_completion_points")
    assert "0 trip(s) completed, 0 bonus point(s)" in travel.ok("run-jobs")


def test_send_trip_reminders_once_per_trip(travel, lisbon_trip):
    confirmed = travel.book(*lisbon_trip, "--card", "tok_visa")
    travel.book("--customer", "bob@example.com", "--flight",
                travel.flight("TA101", "2030-07-03"), "--pay-later")  # held: no reminder
    travel.book("--customer", "carol@example.com", "--flight",
                travel.flight("TA201", "2030-07-09"), "--card", "tok_visa")  # too far ahead
    travel.at("2030-06-30T09:00:00")
    travel.ok("enqueue-job", "send_trip_reminders")
    assert "send_trip_reminders: done - 1 reminder(s) queued" in travel.ok("run-jobs")
    reminder = travel.one("SELECT n.payload, b.reference FROM notifications n "
                          "JOIN bookings b ON b.id = n.booking_id "
                          "WHERE n.template = 'trip_reminder'")
    assert reminder["reference"] == confirmed
    assert json.loads(reminder["payload"]) == {"reference": confirmed,
                                               "trip_start": "2030-07-03"}
    travel.ok("enqueue-job", "send_trip_reminders")
    assert "0 reminder(s) queued" in travel.ok("run-jobs")


def test_deliver_notifications_writes_the_outbox(travel, lisbon_trip, tmp_path, monkeypatch):
    outbox = tmp_path / "outbox.txt"
    monkeypatch.setenv("TRAVEL_OUTBOX", str(outbox))
    ref = travel.book(*lisbon_trip, "--card", "tok_visa")
    travel.ok("cancel-booking", ref)
    travel.ok("enqueue-job", "deliver_notifications")
    assert "2 notification(s) delivered" in travel.ok("run-jobs")
    text = outbox.read_text(encoding="utf-8")
    assert "To: alice@example.com\nSubject: Your trip " + ref + " is confirmed" in text
    assert "We charged €806.90 for trip " + ref in text
    assert f"Trip {ref} has been cancelled. Refund: €806.90." in text
    assert travel.count("notifications", "status = 'sent' AND sent_at IS NOT NULL") == 2
    travel.ok("enqueue-job", "deliver_notifications")
    assert "0 notification(s) delivered" in travel.ok("run-jobs")


def test_purge_stale_data_deletes_old_quotes_and_finished_jobs(travel, lisbon_trip):
    travel.ok("quote", *lisbon_trip)
    travel.book(*lisbon_trip, "--card", "tok_visa")
    travel.ok("enqueue-job", "deliver_notifications")
    travel.ok("run-jobs")
    travel.at("2030-06-03T09:00:00")
    travel.ok("enqueue-job", "purge_stale_data", "--payload", '{"days": 1}')
    out = travel.ok("run-jobs")
    assert "purged 1 quote(s), 1 job(s)" in out
    assert travel.value("SELECT booking_id FROM price_quotes") is not None
    # the run finished on the 1st is gone; today's runs and the next scheduled ones stay
    assert travel.count("jobs", "finished_at < '2030-06-02T09:00:00'") == 0
    assert sorted((j["kind"], j["status"]) for j in _jobs(travel)) == [
        ("deliver_notifications", "done"), ("deliver_notifications", "pending"),
        ("purge_stale_data", "done"), ("purge_stale_data", "pending")]


def test_unknown_job_kind_fails_without_stopping_the_runner(travel):
    travel.ok("enqueue-job", "launch_rockets")
    travel.ok("enqueue-job", "send_trip_reminders")
    code, out, _ = travel.run("run-jobs")
    assert code == 1
    assert "launch_rockets: failed - unknown job kind" in out
    assert "send_trip_reminders: done" in out
    assert travel.value("SELECT last_error FROM jobs WHERE kind = 'launch_rockets'") == \
        "no handler for job kind 'launch_rockets'"


def test_failing_job_is_retried_with_backoff_then_failed(travel):
    travel.ok("enqueue-job", "expire_hold", "--payload", '{"booking_id": 999}')
    out = travel.ok("run-jobs")
    assert "expire_hold: retry - travel.common.errors.NotFound: no booking with id 999" in out
    assert travel.one("SELECT status, attempts, run_at FROM jobs") == {
        "status": "pending", "attempts": 1, "run_at": "2030-06-01T09:05:00"}
    travel.at("2030-06-01T09:05:00")
    assert "retry" in travel.ok("run-jobs")
    assert travel.value("SELECT run_at FROM jobs") == "2030-06-01T09:15:00"
    travel.at("2030-06-01T09:15:00")
    code, out, _ = travel.run("run-jobs")
    assert code == 1 and "expire_hold: failed" in out
    assert _jobs(travel) == [{"kind": "expire_hold", "status": "failed", "attempts": 3}]
    travel.at("2030-06-02T09:00:00")
    assert travel.ok("run-jobs").strip() == "0 job(s) run"


def test_enqueue_job_rejects_bad_payload(travel):
    code, _, err = travel.run("enqueue-job", "expire_hold", "--payload", "{booking_id: 1}")
    assert code == 1 and "--payload is not JSON" in err
    assert travel.count("jobs") == 0
