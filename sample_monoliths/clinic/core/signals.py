"""
Signal receivers.

A lot of cross-area behaviour hangs off model signals here: preferences for
new patients, no-show fees, billing lab tests, completing lab orders and the
low-stock warning. Look here first when "something happens by itself".
"""

import logging
from decimal import Decimal

from django.apps import apps
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from core import billing, notifications
from core.models import (
    Appointment,
    InsuranceClaim,
    Invoice,
    LabOrder,
    LabResult,
    NotificationPreference,
    Patient,
    StaffMember,
    StockItem,
)
from core.utils import clinic_setting, format_money

logger = logging.getLogger("clinic.signals")


@receiver(post_save, sender=Patient, dispatch_uid="patient_default_preferences")
def create_notification_preferences(sender, instance, created, raw=False, **kwargs):
    """Every patient gets a preference row; SMS only when a phone is known."""
    if raw or not created:
        return
    NotificationPreference.objects.get_or_create(
        patient=instance, defaults={"sms_enabled": bool(instance.phone)}
    )


@receiver(pre_save, sender=Invoice, dispatch_uid="invoice_normalise_number")
def normalise_invoice_number(sender, instance, raw=False, **kwargs):
    """The admin saves an empty number as ``""``; the unique column needs NULL."""
    if not instance.number:
        instance.number = None
    if not instance.currency:
        instance.currency = clinic_setting("CURRENCY", "EUR")


@receiver(post_save, sender=Appointment, dispatch_uid="appointment_no_show_fee")
def bill_no_show(sender, instance, created, raw=False, **kwargs):
    """
    Charge the no-show fee when an appointment turns into a no-show.

    Uses the app registry instead of importing billing models, because this
    receiver was moved here from the old ``billing`` app and kept its style.
    """
    if raw or created or instance.status != Appointment.NO_SHOW:
        return
    if instance.previous_status == Appointment.NO_SHOW:
        return
    Invoice_ = apps.get_model("core", "Invoice")
    InvoiceLine_ = apps.get_model("core", "InvoiceLine")
    fee = Decimal(clinic_setting("NO_SHOW_FEE", "0"))
    invoice = Invoice_.objects.filter(appointment=instance, status=Invoice_.DRAFT).first()
    if invoice is None:
        invoice = Invoice_.objects.create(patient=instance.patient, appointment=instance)
    # The visit did not happen: replace whatever was billed by the fee.
    invoice.lines.all().delete()
    if fee > 0:
        InvoiceLine_.objects.create(
            invoice=invoice,
            kind=InvoiceLine_.FEE,
            description="Missed appointment fee",
            unit_price=fee,
            appointment=instance,
        )
    notifications.notify(
        "no_show",
        patient=instance.patient,
        context={
            "when": timezone.localtime(instance.starts_at).strftime("%d.%m.%Y %H:%M"),
            "fee": format_money(fee),
        },
    )
    instance._loaded_status = instance.status


@receiver(post_save, sender=Appointment, dispatch_uid="appointment_status_memory")
def remember_appointment_status(sender, instance, **kwargs):
    """Keep ``previous_status`` right for the next save of the same instance."""
    instance._loaded_status = instance.status


@receiver(m2m_changed, sender=LabOrder.tests.through, dispatch_uid="lab_order_bill_tests")
def bill_lab_tests(sender, instance, action, pk_set, reverse=False, **kwargs):
    """Bill each test when it is attached to an order (lab writes invoices)."""
    if action != "post_add" or reverse or not pk_set:
        return
    LabTestType = apps.get_model("core", "LabTestType")
    invoice = None
    if instance.appointment_id:
        # Tests ordered during a visit go on that visit's bill while it is open.
        invoice = Invoice.objects.filter(appointment=instance.appointment, status=Invoice.DRAFT).first()
    if invoice is None:
        invoice = billing.open_invoice(instance.patient)
    for test_type in LabTestType.objects.filter(pk__in=pk_set).order_by("code"):
        billing.add_line(
            invoice,
            "lab",
            f"Lab: {test_type.name}",
            test_type.price,
            lab_order=instance,
            appointment=instance.appointment,
        )


@receiver(post_save, sender=LabResult, dispatch_uid="lab_result_follow_up")
def lab_result_saved(sender, instance, created, raw=False, **kwargs):
    """Page the clinician on critical values; complete the order when all results are in."""
    if raw:
        return
    order = instance.order
    if instance.flag == LabResult.CRITICAL:
        notifications.notify(
            "lab_critical_result",
            staff=order.ordered_by,
            context={
                "test": instance.test_type.name,
                "value": f"{instance.value} {instance.test_type.unit}".strip(),
                "order": order.pk,
                "patient": order.patient.full_name,
            },
        )
    if order.status != LabOrder.COMPLETED and not order.missing_results().exists():
        order.status = LabOrder.COMPLETED
        order.completed_at = timezone.now()
        order.save(update_fields=["status", "completed_at", "updated_at"])
        notifications.notify("lab_results_ready", patient=order.patient, context={"order": order.pk})


@receiver(post_save, sender=StockItem, dispatch_uid="stock_low_warning")
def warn_low_stock(sender, instance, created, raw=False, update_fields=None, **kwargs):
    """Tell the pharmacists when a drug falls to its reorder level."""
    if raw or not clinic_setting("LOW_STOCK_NOTIFY", True):
        return
    drug = instance.drug
    on_hand = drug.quantity_on_hand()
    if on_hand > drug.reorder_level:
        return
    notifications.notify_role(
        StaffMember.PHARMACIST,
        "low_stock",
        {"drug": str(drug), "quantity": on_hand, "reorder_level": drug.reorder_level},
    )
    logger.info("low stock for %s: %s left", drug.code, on_hand)


@receiver(post_save, sender=InsuranceClaim, dispatch_uid="claim_decision_letter")
def claim_decided(sender, instance, created, raw=False, **kwargs):
    """Write to the patient once the insurer has decided."""
    if raw or created or instance.status not in InsuranceClaim.DECIDED_STATUSES:
        return
    if instance.decided_at is None or (timezone.now() - instance.decided_at).total_seconds() > 60:
        return  # an old decision being re-saved, e.g. from the admin
    invoice = instance.invoice
    notifications.notify(
        "claim_decided",
        patient=invoice.patient,
        context={
            "invoice": invoice.number,
            "status": instance.get_status_display(),
            "approved": format_money(instance.amount_approved or 0),
        },
    )
