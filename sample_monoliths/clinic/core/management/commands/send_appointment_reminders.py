"""Cron (hourly): remind patients of their upcoming appointments."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core import notifications


class Command(BaseCommand):
    help = "Send reminders for appointments starting within the next N hours."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=None, help="look-ahead window (default: setting)")
        parser.add_argument("--dry-run", action="store_true", help="only list who would be reminded")

    def handle(self, *args, hours=None, dry_run=False, **options):
        if hours is not None and hours <= 0:
            raise CommandError("--hours must be positive")
        with transaction.atomic():
            reminded = notifications.send_appointment_reminders(hours=hours, dry_run=dry_run)
        verb = "Would remind" if dry_run else "Reminded"
        for appointment in reminded:
            self.stdout.write(f"{verb} {appointment.patient.mrn} for {appointment.starts_at:%Y-%m-%d %H:%M}")
        self.stdout.write(self.style.SUCCESS(f"{verb} {len(reminded)} patient(s)."))
