"""Cron (every 15 min): retry failed notifications."""

from django.core.management.base import BaseCommand

from core import notifications


class Command(BaseCommand):
    help = "Deliver failed notifications again (up to --max-attempts tries each)."

    def add_arguments(self, parser):
        parser.add_argument("--max-attempts", type=int, default=3)

    def handle(self, *args, max_attempts=3, **options):
        sent = notifications.retry_failed(max_attempts=max_attempts)
        self.stdout.write(self.style.SUCCESS(f"{sent} notification(s) sent"))
