"""Runtime settings, read from the environment.

Defaults are the production values as of the last pricing committee; override
with ``TRAVEL_*`` environment variables.
"""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    db_path: str = "travel.db"
    base_currency: str = "EUR"
    # how long an unpaid ("pay later") booking keeps its seats and rooms
    hold_minutes: int = 60
    # loyalty: points per whole EUR spent, before the tier multiplier
    points_per_eur: int = 1
    # value of one loyalty point when redeemed, in EUR cents
    point_value_cents: int = 1
    # completion bonus in percent of the points earned on the booking
    completion_bonus_pct: int = 10
    reminder_days_before: int = 3
    # cancellation: full refund up to this many days before departure, else half
    free_cancellation_days: int = 7
    late_cancellation_refund_pct: int = 50
    # job runner
    job_max_attempts: int = 3
    job_retry_minutes: int = 5
    # where "sent" notifications are written (our mail relay picks this up)
    outbox_path: str = ""


def load_settings(db_path=None):
    """Build :class:`Settings` from the environment (and an explicit db path)."""
    env = os.environ
    return Settings(
        db_path=db_path or env.get("TRAVEL_DB", "travel.db"),
        base_currency=env.get("TRAVEL_BASE_CURRENCY", "EUR"),
        hold_minutes=int(env.get("TRAVEL_HOLD_MINUTES", "60")),
        points_per_eur=int(env.get("TRAVEL_POINTS_PER_EUR", "1")),
        reminder_days_before=int(env.get("TRAVEL_REMINDER_DAYS", "3")),
        job_max_attempts=int(env.get("TRAVEL_JOB_MAX_ATTEMPTS", "3")),
        outbox_path=env.get("TRAVEL_OUTBOX", ""),
    )
