"""Cron (02:00): issue forgotten drafts and flag overdue invoices."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core import billing
from core.exceptions import BillingError
from core.models import Invoice


class Command(BaseCommand):
    help = "Issue draft invoices older than N days and mark overdue invoices."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="run as of this day (YYYY-MM-DD), default today")
        parser.add_argument("--draft-age", type=int, default=3, help="issue drafts older than N days")
        parser.add_argument("--no-notify", action="store_true", help="do not write to patients")

    def handle(self, *args, **options):
        today = timezone.localdate()
        if options["date"]:
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"bad --date: {options['date']}") from exc
        notify = not options["no_notify"]
        cutoff = timezone.now() - dt.timedelta(days=options["draft_age"])

        issued = skipped = 0
        for invoice in Invoice.objects.filter(status=Invoice.DRAFT, created_at__lt=cutoff):
            try:
                billing.issue_invoice(invoice, notify_patient=notify)
                issued += 1
            except BillingError as exc:
                skipped += 1
                self.stderr.write(f"skipped draft {invoice.pk}: {exc.message}")

        overdue = billing.mark_overdue_invoices(today=today, notify_patients=notify)
        self.stdout.write(
            self.style.SUCCESS(f"issued={issued} skipped={skipped} overdue={len(overdue)}")
        )
