"""Background jobs: a ``jobs`` table polled by :mod:`travel.jobs.runner`.

Cron runs ``python -m travel run-jobs --recurring`` every minute in production.
"""
