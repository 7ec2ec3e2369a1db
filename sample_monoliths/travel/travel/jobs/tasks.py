"""Job handlers.  Each takes ``(conn, payload, settings)`` and returns a message."""

from datetime import timedelta

from travel.common.util import now
from travel.jobs.runner import job, purge_finished
from travel.repositories import booking_repo
from travel.services import booking_engine, notifications, pricing


@job("expire_hold")
def expire_hold(conn, payload, settings):
    """Release one unpaid booking (enqueued when the hold is taken)."""
    expired = booking_engine.expire_booking(conn, payload["booking_id"])
    return "expired" if expired else "nothing to do"


@job("expire_holds", every_minutes=15)
def expire_unpaid_holds(conn, payload, settings):
    """Safety net: expire every hold past its time, in case a job was lost."""
    count = 0
    for booking in booking_repo.expired_holds(conn, now().isoformat(timespec="seconds")):
        count += booking_engine.expire_booking(conn, booking["id"])
    return f"{count} hold(s) expired"


@job("award_completion_points", every_minutes=24 * 60)
def award_completion_points(conn, payload, settings):
    """Complete finished trips and credit the loyalty completion bonus."""
    trips, points = booking_engine.complete_finished_trips(conn, settings)
    return f"{trips} trip(s) completed, {points} bonus point(s)"


@job("send_trip_reminders", every_minutes=60)
def send_trip_reminders(conn, payload, settings):
    count = notifications.queue_trip_reminders(conn, settings.reminder_days_before)
    return f"{count} reminder(s) queued"


@job("deliver_notifications", every_minutes=5)
def deliver_notifications(conn, payload, settings):
    count = notifications.deliver_pending(conn, settings.outbox_path)
    return f"{count} notification(s) delivered"


@job("purge_stale_data", every_minutes=24 * 60)
def purge_stale_data(conn, payload, settings):
    """Housekeeping: old stand-alone quotes and finished jobs."""
    cutoff = (now() - timedelta(days=int(payload.get("days", 1)))).isoformat(timespec="seconds")
    quotes = pricing.purge_stale_quotes(conn, cutoff)
    jobs = purge_finished(conn, cutoff)
    return f"purged {quotes} quote(s), {jobs} job(s)"
