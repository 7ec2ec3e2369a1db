"""Load the wholesaler's formulary CSV into the drug catalogue."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import inventory
from core.exceptions import ClinicError


class Command(BaseCommand):
    help = "Import or update drugs from a CSV file (code,name,form,strength,unit_price,supplier,contraindications)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file")
        parser.add_argument("--dry-run", action="store_true", help="validate only, change nothing")
        parser.add_argument("--encoding", default="utf-8")

    def handle(self, *args, path, dry_run=False, encoding="utf-8", **options):
        csv_path = Path(path)
        if not csv_path.is_file():
            raise CommandError(f"no such file: {csv_path}")
        try:
            text = csv_path.read_text(encoding=encoding)
        except UnicodeDecodeError as exc:
            raise CommandError(f"{csv_path} is not {encoding}: {exc}") from exc
        try:
            created, updated = inventory.import_drug_catalog(text, dry_run=dry_run)
        except ClinicError as exc:
            raise CommandError(exc.message) from exc
        prefix = "[dry run] " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}created={created} updated={updated}"))
