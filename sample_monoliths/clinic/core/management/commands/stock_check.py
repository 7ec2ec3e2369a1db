"""Cron (daily): write off expired batches and list what to reorder."""

from django.core.management.base import BaseCommand

from core import inventory, notifications
from core.models import StaffMember


class Command(BaseCommand):
    help = "Write off expired stock, report low stock and batches expiring soon."

    def add_arguments(self, parser):
        parser.add_argument("--no-expire", action="store_true", help="do not write off expired batches")
        parser.add_argument("--days", type=int, default=30, help="'expiring soon' window in days")
        parser.add_argument("--notify", action="store_true", help="message the pharmacists about low stock")

    def handle(self, *args, **options):
        if not options["no_expire"]:
            for item in inventory.expire_stock():
                self.stdout.write(f"expired: {item.drug.code} batch {item.batch_number}")
        for item in inventory.expiring_soon(days=options["days"]):
            self.stdout.write(f"expiring {item.expiry_date}: {item.drug.code} batch {item.batch_number} ({item.quantity})")
        suggestions = inventory.reorder_suggestions()
        for supplier, lines in suggestions.items():
            for line in lines:
                self.stdout.write(f"reorder from {supplier}: {line['order']} x {line['drug']} (on hand {line['on_hand']})")
                if options["notify"]:
                    notifications.notify_role(
                        StaffMember.PHARMACIST,
                        "low_stock",
                        {"drug": line["name"], "quantity": line["on_hand"], "reorder_level": "-"},
                    )
        self.stdout.write(self.style.SUCCESS(f"stock value {inventory.stock_value()}"))
