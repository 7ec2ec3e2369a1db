"""
Pharmacy stock: restocking, adjustments, expiry and reorder suggestions.

Dispensing does NOT go through here: ``core.services.dispense_prescription``
takes stock itself (it needs to pick batches inside its own transaction).
Both write the ``pharmacy_stock`` table, so keep the two in step when you
change how quantities are tracked.
"""

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from core.exceptions import ClinicError
from core.models import Allergen, Drug, StockItem, StockMovement, Supplier
from core.utils import log_event, money


def available_quantity(drug, on=None):
    """Units of ``drug`` in unexpired batches on the day ``on``."""
    on = on or timezone.localdate()
    total = StockItem.objects.filter(drug=drug, expiry_date__gt=on).aggregate(total=Sum("quantity"))
    return total["total"] or 0


def restock(drug, quantity, batch_number, expiry_date, performed_by=None, reference="", location=""):
    """
    Put a delivery on the shelf.

    A batch number already on file is topped up (suppliers split deliveries);
    otherwise a new batch row is created. Every change writes a movement row.
    """
    if quantity <= 0:
        raise ClinicError("restock quantity must be positive")
    if expiry_date <= timezone.localdate():
        raise ClinicError(f"batch {batch_number} is already expired")
    with transaction.atomic():
        item = StockItem.objects.select_for_update().filter(drug=drug, batch_number=batch_number).first()
        if item is None:
            item = StockItem.objects.create(
                drug=drug,
                batch_number=batch_number,
                expiry_date=expiry_date,
                quantity=quantity,
                location=location,
            )
        else:
            if item.expiry_date != expiry_date:
                raise ClinicError(
                    f"batch {batch_number} is on file with expiry {item.expiry_date}, not {expiry_date}"
                )
            StockItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity)
            item.refresh_from_db()
            # Saving (not only update()) so the post_save low-stock check runs.
            item.save(update_fields=["updated_at"])
        StockMovement.objects.create(
            stock_item=item,
            change=quantity,
            reason=StockMovement.RESTOCK,
            reference=reference,
            performed_by=performed_by,
        )
    log_event("stock.restock", drug=drug.code, batch=batch_number, quantity=quantity)
    return item


def adjust_stock(item, change, performed_by=None, reason=StockMovement.ADJUST, reference=""):
    """Correct a batch after a count (``change`` may be negative)."""
    if item.quantity + change < 0:
        raise ClinicError(f"{item} would go negative")
    with transaction.atomic():
        item.quantity = F("quantity") + change
        item.save(update_fields=["quantity", "updated_at"])
        item.refresh_from_db()
        StockMovement.objects.create(
            stock_item=item, change=change, reason=reason, reference=reference, performed_by=performed_by
        )
    return item


def expire_stock(today=None):
    """Write off every batch that expired; returns the batches written off."""
    today = today or timezone.localdate()
    expired = list(StockItem.objects.filter(expiry_date__lte=today, quantity__gt=0))
    for item in expired:
        adjust_stock(item, -item.quantity, reason=StockMovement.EXPIRE, reference=f"expired {item.expiry_date}")
    return expired


def low_stock(on=None):
    """Drugs whose unexpired stock is at or below their reorder level, with quantities."""
    on = on or timezone.localdate()
    drugs = Drug.objects.annotate(
        on_hand=Sum("stock_items__quantity", filter=Q(stock_items__expiry_date__gt=on), default=0)
    ).filter(on_hand__lte=F("reorder_level"))
    return list(drugs.order_by("name"))


def reorder_suggestions(on=None):
    """Per supplier, what to order to get every low drug back over its level."""
    suggestions = {}
    for drug in low_stock(on):
        supplier = drug.supplier.name if drug.supplier_id else "(no supplier)"
        shortfall = drug.reorder_level - drug.on_hand
        quantity = max(drug.reorder_quantity, shortfall)
        suggestions.setdefault(supplier, []).append(
            {"drug": drug.code, "name": drug.name, "on_hand": drug.on_hand, "order": quantity}
        )
    return suggestions


def stock_value(on=None):
    """Purchase value of all unexpired stock."""
    on = on or timezone.localdate()
    total = StockItem.objects.filter(expiry_date__gt=on).aggregate(
        value=Sum(F("quantity") * F("drug__unit_price"))
    )["value"]
    return money(total)


def _parse_row(row, line_number):
    try:
        price = Decimal(row["unit_price"])
    except (KeyError, InvalidOperation) as exc:
        raise ClinicError(f"line {line_number}: bad or missing unit_price") from exc
    code = (row.get("code") or "").strip()
    name = (row.get("name") or "").strip()
    if not code or not name:
        raise ClinicError(f"line {line_number}: code and name are required")
    return code, name, price


def import_drug_catalog(text, dry_run=False):
    """
    Load the wholesaler's CSV formulary export.

    Columns: ``code,name,form,strength,unit_price,supplier,contraindications``
    (contraindications separated by ``;``). Existing drugs are updated by code.
    Returns ``(created, updated)`` counts.
    """
    reader = csv.DictReader(io.StringIO(text))
    created = updated = 0
    with transaction.atomic():
        for line_number, row in enumerate(reader, start=2):
            code, name, price = _parse_row(row, line_number)
            supplier = None
            if (row.get("supplier") or "").strip():
                supplier, _ = Supplier.objects.get_or_create(name=row["supplier"].strip())
            drug, was_created = Drug.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "form": (row.get("form") or "").strip(),
                    "strength": (row.get("strength") or "").strip(),
                    "unit_price": price,
                    "supplier": supplier,
                },
            )
            allergens = [a.strip() for a in (row.get("contraindications") or "").split(";") if a.strip()]
            drug.contraindications.set(
                [Allergen.objects.get_or_create(name=a, defaults={"category": Allergen.DRUG})[0] for a in allergens]
            )
            created += was_created
            updated += not was_created
        if dry_run:
            transaction.set_rollback(True)
    return created, updated


def expiring_soon(days=30, today=None):
    """Batches with stock that expire within ``days``."""
    today = today or timezone.localdate()
    return list(
        StockItem.objects.filter(
            quantity__gt=0, expiry_date__gt=today, expiry_date__lte=today + dt.timedelta(days=days)
        ).select_related("drug")
    )
