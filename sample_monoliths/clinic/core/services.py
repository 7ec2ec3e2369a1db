"""
Business operations of the clinic.

This module is what every view, API endpoint and management command calls.
It started as "appointment services" and collected the patient, pharmacy and
lab workflows over the years because they all need to book, bill and notify.
New code should still go through here so the rules stay in one place.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import billing, inventory, notifications, scheduling
from core.exceptions import (
    AppointmentStateError,
    LabError,
    OutOfStock,
    PatientError,
    PrescriptionError,
    SchedulingConflict,
)
from core.models import (
    Appointment,
    AppointmentStaff,
    EmergencyContact,
    InsurancePolicy,
    Invoice,
    InvoiceLine,
    LabOrder,
    LabResult,
    NotificationPreference,
    Patient,
    Prescription,
    PrescriptionItem,
    StaffMember,
    StockItem,
    StockMovement,
)
from core.utils import clinic_setting, ensure_aware, format_money, log_event, money, next_sequence_number, normalize_phone

# ---------------------------------------------------------------------------
# Patients
# ---------------------------------------------------------------------------


def generate_mrn():
    """Next medical record number, e.g. ``LH-2024-000123``."""
    return next_sequence_number(Patient, "mrn", clinic_setting("MRN_PREFIX", "LH"))


def find_duplicate_patient(first_name, last_name, date_of_birth, national_id=None):
    """An existing patient that is probably the same person, or None."""
    if national_id:
        match = Patient.objects.filter(national_id=national_id).first()
        if match is not None:
            return match
    return Patient.objects.filter(
        first_name__iexact=first_name.strip(),
        last_name__iexact=last_name.strip(),
        date_of_birth=date_of_birth,
    ).first()


def register_patient(data, allergies=(), contacts=(), policy=None, registered_by=None):
    """
    Register a new patient.

    ``data`` holds Patient field values (as cleaned by ``PatientForm``),
    ``contacts`` dicts for emergency contacts, ``policy`` a dict with
    ``provider``, ``policy_number``, ``valid_from`` (and optional coverage).
    Creates the preference row (via signal), the policy, and sends a welcome.
    """
    data = dict(data)
    duplicate = find_duplicate_patient(
        data["first_name"], data["last_name"], data["date_of_birth"], data.get("national_id")
    )
    if duplicate is not None:
        raise PatientError(f"patient already registered as {duplicate.mrn}", mrn=duplicate.mrn)
    try:
        data["phone"] = normalize_phone(data.get("phone"))
    except ValueError as exc:
        raise PatientError(str(exc)) from exc
    data["national_id"] = data.get("national_id") or None
    with transaction.atomic():
        patient = Patient.objects.create(mrn=generate_mrn(), **data)
        if allergies:
            patient.allergies.set(allergies)
        for contact in contacts:
            EmergencyContact.objects.create(patient=patient, **contact)
        if policy:
            InsurancePolicy.objects.create(patient=patient, **policy)
        notifications.notify("welcome", patient=patient, context={"mrn": patient.mrn})
    log_event("patient.registered", mrn=patient.mrn, by=getattr(registered_by, "pk", None))
    return patient


def update_contact_details(patient, email=None, phone=None, sms_enabled=None):
    """Change how we reach a patient; keeps the notification preferences in step."""
    if email is not None:
        patient.email = email
    if phone is not None:
        try:
            patient.phone = normalize_phone(phone)
        except ValueError as exc:
            raise PatientError(str(exc)) from exc
    patient.save()
    if sms_enabled is not None:
        prefs, _ = NotificationPreference.objects.get_or_create(patient=patient)
        prefs.sms_enabled = sms_enabled and bool(patient.phone)
        prefs.save()
    return patient


def deactivate_patient(patient, reason="", by=None):
    """Close a patient record: cancel future visits, open prescriptions and lab orders."""
    with transaction.atomic():
        for appointment in patient.appointments.upcoming():
            cancel_appointment(appointment, reason=reason or "patient record closed", cancelled_by=by, notify=False)
        patient.prescriptions.filter(status=Prescription.ISSUED).update(status=Prescription.CANCELLED)
        patient.lab_orders.filter(status__in=(LabOrder.ORDERED, LabOrder.COLLECTED)).update(
            status=LabOrder.CANCELLED
        )
        patient.is_active = False
        patient.notes = (patient.notes + f"\nDeactivated: {reason}").strip()
        patient.save()
    return patient


def patient_summary(patient):
    """Everything the front desk wants on one screen, as plain data."""
    today = timezone.localdate()
    upcoming = patient.appointments.upcoming().select_related("clinician__user", "room")
    open_rx = patient.prescriptions.filter(status=Prescription.ISSUED).prefetch_related("items__drug")
    recent_labs = patient.lab_orders.order_by("-created_at")[:5]
    policy = billing.primary_policy(patient, on=today)
    return {
        "mrn": patient.mrn,
        "name": patient.full_name,
        "age": patient.age,
        "allergies": [a.name for a in patient.allergies.all()],
        "upcoming_appointments": [
            {
                "id": appt.pk,
                "starts_at": appt.starts_at.isoformat(),
                "clinician": str(appt.clinician),
                "room": appt.room.number if appt.room_id else None,
            }
            for appt in upcoming
        ],
        "open_prescriptions": [
            {"id": rx.pk, "items": [str(item) for item in rx.items.all()]} for rx in open_rx
        ],
        "recent_lab_orders": [{"id": order.pk, "status": order.status} for order in recent_labs],
        "insurance": str(policy) if policy else None,
        "open_balance": str(billing.patient_balance(patient)),
        "unsent_notifications": patient.notifications.exclude(status="sent").count(),
    }


# ---------------------------------------------------------------------------
# Appointments
# ---------------------------------------------------------------------------


def _appointment_context(appointment):
    return {
        "clinician": str(appointment.clinician),
        "when": timezone.localtime(appointment.starts_at).strftime("%d.%m.%Y %H:%M"),
        "room": str(appointment.room) if appointment.room_id else "reception",
    }


def _bill_appointment(appointment):
    """Put the consultation and the room time on the appointment's invoice."""
    invoice = billing.open_invoice(appointment.patient, appointment=appointment)
    appointment_type = appointment.appointment_type
    fee = money(appointment_type.base_fee + appointment.clinician.consultation_fee)
    if fee > 0:
        billing.add_line(
            invoice,
            InvoiceLine.CONSULTATION,
            f"{appointment_type.name} with {appointment.clinician}",
            fee,
            appointment=appointment,
        )
    room = appointment.room
    if room is not None and room.hourly_rate > 0:
        hours = Decimal(appointment.duration.total_seconds()) / Decimal(3600)
        billing.add_line(
            invoice,
            InvoiceLine.ROOM,
            f"{room} ({appointment_type.duration_minutes} min)",
            room.hourly_rate,
            quantity=hours.quantize(Decimal("0.01")),
            appointment=appointment,
        )
    return invoice


def book_appointment(
    patient,
    clinician,
    appointment_type,
    starts_at,
    room=None,
    reason="",
    booked_by=None,
    assistants=(),
    follow_up_of=None,
):
    """
    Book a visit: check availability, reserve a room, open the invoice, notify.

    All of it happens in one transaction; any failure leaves nothing behind.
    ``assistants`` is a sequence of ``(staff_member, role)`` pairs.
    """
    starts_at = ensure_aware(starts_at)
    if starts_at <= timezone.now():
        raise SchedulingConflict("appointments cannot be booked in the past")
    if not patient.is_active:
        raise PatientError(f"patient {patient.mrn} is not active")
    if not clinician.is_clinician:
        raise SchedulingConflict(f"{clinician} does not see patients")
    ends_at = scheduling.end_time_for(appointment_type, starts_at)

    with transaction.atomic():
        # Serialise bookings per clinician (row lock; a no-op on SQLite).
        StaffMember.objects.select_for_update().filter(pk=clinician.pk).exists()
        scheduling.check_clinician_available(clinician, starts_at, ends_at)
        if scheduling.patient_conflicts(patient, starts_at, ends_at).exists():
            raise SchedulingConflict(f"{patient.full_name} already has an appointment then")
        if room is None:
            room = scheduling.find_free_room(
                appointment_type.room_kind, starts_at, ends_at, department=clinician.department
            )
            if room is None:
                raise SchedulingConflict(f"no {appointment_type.room_kind} room is free then")
        elif room.kind != appointment_type.room_kind:
            raise SchedulingConflict(f"{room} is not a {appointment_type.room_kind} room")

        appointment = Appointment.objects.create(
            patient=patient,
            clinician=clinician,
            room=room,
            appointment_type=appointment_type,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            booked_by=booked_by,
            follow_up_of=follow_up_of,
        )
        for staff, role in assistants:
            scheduling.check_clinician_available(staff, starts_at, ends_at)
            AppointmentStaff.objects.create(appointment=appointment, staff=staff, role=role)
        scheduling.reserve_room(room, appointment)
        _bill_appointment(appointment)
        notifications.notify(
            "appointment_booked", patient=patient, context=_appointment_context(appointment)
        )
    log_event("appointment.booked", id=appointment.pk, clinician=clinician.pk, room=room.number)
    return appointment


def cancel_appointment(appointment, reason="", cancelled_by=None, now=None, notify=True):
    """
    Cancel an open appointment and free its room.

    Cancelling less than ``LATE_CANCELLATION_HOURS`` before the start keeps the
    invoice with a late-cancellation fee instead of the visit; otherwise the
    draft invoice is voided.
    """
    if not appointment.is_open:
        raise AppointmentStateError(f"appointment is {appointment.status}, it cannot be cancelled")
    now = now or timezone.now()
    late_window = dt.timedelta(hours=clinic_setting("LATE_CANCELLATION_HOURS", 24))
    is_late = appointment.starts_at - now < late_window
    with transaction.atomic():
        appointment.status = Appointment.CANCELLED
        appointment.cancellation_reason = reason[:200]
        appointment.save()
        scheduling.release_room(appointment)
        invoice = appointment.invoices.filter(status=Invoice.DRAFT).first()
        if invoice is not None:
            if is_late:
                invoice.lines.all().delete()
                billing.add_line(
                    invoice,
                    InvoiceLine.FEE,
                    "Late cancellation fee",
                    Decimal(clinic_setting("LATE_CANCELLATION_FEE", "0")),
                    appointment=appointment,
                )
            else:
                billing.void_invoice(invoice, reason="appointment cancelled")
        if notify:
            context = _appointment_context(appointment)
            context["reason"] = reason or "no reason given"
            notifications.notify("appointment_cancelled", patient=appointment.patient, context=context)
    log_event("appointment.cancelled", id=appointment.pk, late=is_late, by=getattr(cancelled_by, "pk", None))
    return appointment


def reschedule_appointment(appointment, new_start, changed_by=None):
    """Move an appointment, keeping its room when the room is free at the new time."""
    if appointment.status != Appointment.BOOKED:
        raise AppointmentStateError("only booked appointments can be moved")
    new_start = ensure_aware(new_start)
    if new_start <= timezone.now():
        raise SchedulingConflict("appointments cannot be moved into the past")
    new_end = scheduling.end_time_for(appointment.appointment_type, new_start)
    with transaction.atomic():
        scheduling.check_clinician_available(appointment.clinician, new_start, new_end, exclude=appointment)
        if scheduling.patient_conflicts(appointment.patient, new_start, new_end, exclude=appointment).exists():
            raise SchedulingConflict("patient already has an appointment then")
        room = appointment.room
        if room is None or not scheduling.room_is_free(room, new_start, new_end, exclude_appointment=appointment):
            room = scheduling.find_free_room(
                appointment.appointment_type.room_kind, new_start, new_end, exclude_appointment=appointment
            )
            if room is None:
                raise SchedulingConflict("no room is free at the new time")
        appointment.starts_at, appointment.ends_at, appointment.room = new_start, new_end, room
        appointment.reminder_sent_at = None
        appointment.save()
        scheduling.reserve_room(room, appointment)
        notifications.notify(
            "appointment_rescheduled", patient=appointment.patient, context=_appointment_context(appointment)
        )
    log_event("appointment.rescheduled", id=appointment.pk, by=getattr(changed_by, "pk", None))
    return appointment


def check_in(appointment, now=None):
    """Patient arrived at the front desk."""
    now = now or timezone.now()
    if appointment.status != Appointment.BOOKED:
        raise AppointmentStateError(f"appointment is {appointment.status}, cannot check in")
    if timezone.localtime(appointment.starts_at).date() != timezone.localtime(now).date():
        raise AppointmentStateError("check-in is only possible on the day of the appointment")
    appointment.status = Appointment.CHECKED_IN
    appointment.save()
    return appointment


def complete_appointment(appointment, clinical_notes="", issue_invoice=True):
    """Close the visit, release the room and issue its invoice."""
    if not appointment.is_open:
        raise AppointmentStateError(f"appointment is {appointment.status}, cannot complete")
    with transaction.atomic():
        appointment.status = Appointment.COMPLETED
        if clinical_notes:
            appointment.clinical_notes = clinical_notes
        appointment.save()
        scheduling.release_room(appointment)
        invoice = appointment.invoices.filter(status=Invoice.DRAFT).first()
        if issue_invoice and invoice is not None and invoice.lines.exists():
            billing.issue_invoice(invoice)
    return appointment


def mark_no_show(appointment):
    """The patient did not come. The fee and the letter are added by a signal receiver."""
    if appointment.status != Appointment.BOOKED:
        raise AppointmentStateError("only booked appointments can be marked as no-show")
    if appointment.starts_at > timezone.now():
        raise AppointmentStateError("the appointment has not started yet")
    with transaction.atomic():
        appointment.status = Appointment.NO_SHOW
        appointment.save()
        scheduling.release_room(appointment)
    return appointment


def add_assistant(appointment, staff, role="assistant"):
    """Add a nurse, interpreter or trainee to an appointment."""
    if not appointment.is_open:
        raise AppointmentStateError("appointment is closed")
    scheduling.check_clinician_available(staff, appointment.starts_at, appointment.ends_at)
    link, _ = AppointmentStaff.objects.get_or_create(
        appointment=appointment, staff=staff, defaults={"role": role}
    )
    return link


# ---------------------------------------------------------------------------
# Pharmacy
# ---------------------------------------------------------------------------


def write_prescription(patient, prescriber, items, appointment=None, notes=""):
    """
    Write a prescription. ``items`` are dicts with ``drug``, ``dosage``, ``quantity``.

    Refuses drugs the patient is allergic to (contraindicated allergens).
    """
    if prescriber.role != StaffMember.DOCTOR:
        raise PrescriptionError("only doctors may prescribe")
    if not items:
        raise PrescriptionError("a prescription needs at least one drug")
    for item in items:
        if patient.is_allergic_to(item["drug"]):
            raise PrescriptionError(
                f"{patient.full_name} is allergic to an ingredient of {item['drug']}",
                drug=item["drug"].code,
            )
        if item["quantity"] <= 0:
            raise PrescriptionError("quantities must be positive")
    with transaction.atomic():
        prescription = Prescription.objects.create(
            patient=patient, prescriber=prescriber, appointment=appointment, notes=notes
        )
        for item in items:
            PrescriptionItem.objects.create(prescription=prescription, **item)
    return prescription


def _take_from_stock(item, needed, today, reference, pharmacist):
    """Take ``needed`` units of the item's drug, earliest expiry first (FEFO)."""
    batches = list(
        StockItem.objects.select_for_update()
        .filter(drug=item.drug, expiry_date__gt=today, quantity__gt=0)
        .order_by("expiry_date", "pk")
    )
    on_hand = sum(batch.quantity for batch in batches)
    if on_hand < needed:
        raise OutOfStock(
            f"only {on_hand} of {needed} units of {item.drug} in stock",
            drug=item.drug.code,
            on_hand=on_hand,
        )
    for batch in batches:
        if needed == 0:
            break
        take = min(batch.quantity, needed)
        StockItem.objects.filter(pk=batch.pk).update(quantity=F("quantity") - take, updated_at=timezone.now())
        StockMovement.objects.create(
            stock_item=batch,
            change=-take,
            reason=StockMovement.DISPENSE,
            reference=reference,
            performed_by=pharmacist,
        )
        needed -= take


def dispense_prescription(prescription, pharmacist, today=None):
    """
    Hand out a prescription: take stock, bill the drugs, tell the patient.

    Stock is decremented here directly (not through ``core.inventory``) because
    the batches must be locked in the same transaction as the billing.
    """
    if prescription.status != Prescription.ISSUED:
        raise PrescriptionError(f"prescription is {prescription.status}")
    if pharmacist.role != StaffMember.PHARMACIST:
        raise PrescriptionError("only pharmacists may dispense")
    today = today or timezone.localdate()
    reference = f"RX-{prescription.pk}"
    items = list(prescription.items.select_related("drug"))
    if any(item.drug.controlled for item in items) and not pharmacist.license_number:
        raise PrescriptionError("controlled drugs need a licensed pharmacist")
    with transaction.atomic():
        invoice = billing.open_invoice(prescription.patient)
        for item in items:
            if item.outstanding <= 0:
                continue
            _take_from_stock(item, item.outstanding, today, reference, pharmacist)
            billing.add_line(
                invoice,
                InvoiceLine.DRUG,
                f"{item.drug} ({item.dosage})",
                item.drug.unit_price,
                quantity=item.outstanding,
                prescription_item=item,
            )
            item.dispensed_quantity = item.quantity
            item.save(update_fields=["dispensed_quantity"])
            _warn_if_low(item.drug, today)
        prescription.status = Prescription.DISPENSED
        prescription.dispensed_at = timezone.now()
        prescription.dispensed_by = pharmacist
        prescription.save()
        notifications.notify(
            "prescription_ready", patient=prescription.patient, context={"prescription": reference}
        )
    log_event("prescription.dispensed", id=prescription.pk, by=pharmacist.pk)
    return prescription


def _warn_if_low(drug, today):
    # The StockItem post_save receiver does the same for restocks and
    # adjustments; dispensing uses update() which sends no signal.
    quantity = inventory.available_quantity(drug, on=today)
    if quantity <= drug.reorder_level and clinic_setting("LOW_STOCK_NOTIFY", True):
        notifications.notify_role(
            StaffMember.PHARMACIST,
            "low_stock",
            {"drug": str(drug), "quantity": quantity, "reorder_level": drug.reorder_level},
        )


def cancel_prescription(prescription):
    """Withdraw a prescription that was not dispensed yet."""
    if prescription.status != Prescription.ISSUED:
        raise PrescriptionError(f"prescription is {prescription.status}")
    prescription.status = Prescription.CANCELLED
    prescription.save(update_fields=["status", "updated_at"])
    return prescription


# ---------------------------------------------------------------------------
# Laboratory
# ---------------------------------------------------------------------------


def order_lab_tests(patient, ordered_by, test_types, appointment=None, priority="routine", notes=""):
    """
    Order lab tests. The tests are billed by the ``m2m_changed`` receiver when
    they are attached to the order; STAT orders page the lab.
    """
    test_types = list(test_types)
    if not test_types:
        raise LabError("choose at least one test")
    if not ordered_by.is_clinician:
        raise LabError("only clinicians may order lab tests")
    with transaction.atomic():
        order = LabOrder.objects.create(
            patient=patient, ordered_by=ordered_by, appointment=appointment, priority=priority, notes=notes
        )
        order.tests.add(*test_types)
        if priority == "stat":
            notifications.notify_role(
                StaffMember.LAB_TECH,
                "lab_stat_order",
                {"tests": ", ".join(t.code for t in test_types), "order": order.pk, "patient": patient.full_name},
            )
    return order


def collect_specimen(order, collected_by=None, now=None):
    """Mark the specimen as taken."""
    if order.status != LabOrder.ORDERED:
        raise LabError(f"order is {order.status}")
    order.status = LabOrder.COLLECTED
    order.collected_at = now or timezone.now()
    order.save(update_fields=["status", "collected_at", "updated_at"])
    return order


def flag_for(test_type, value):
    """Classify a numeric value against the test's ranges."""
    if value is None:
        return LabResult.NORMAL
    if test_type.critical_high is not None and value >= test_type.critical_high:
        return LabResult.CRITICAL
    if test_type.reference_high is not None and value > test_type.reference_high:
        return LabResult.HIGH
    if test_type.reference_low is not None and value < test_type.reference_low:
        return LabResult.LOW
    return LabResult.NORMAL


def record_lab_result(order, test_type, value=None, text_value="", recorded_by=None):
    """
    Store the result of one test of an order.

    Completing the order and telling patient and clinician is done by the
    ``LabResult`` post_save receiver.
    """
    if order.status == LabOrder.ORDERED:
        raise LabError("specimen has not been collected yet")
    if order.status in (LabOrder.CANCELLED, LabOrder.COMPLETED):
        raise LabError(f"order is {order.status}")
    if not order.tests.filter(pk=test_type.pk).exists():
        raise LabError(f"{test_type.code} was not ordered on this order")
    if value is None and not text_value:
        raise LabError("a result needs a value or a text")
    value = Decimal(str(value)) if value is not None else None
    result, _ = LabResult.objects.update_or_create(
        order=order,
        test_type=test_type,
        defaults={
            "value": value,
            "text_value": text_value,
            "flag": flag_for(test_type, value),
            "recorded_by": recorded_by,
            "recorded_at": timezone.now(),
        },
    )
    return result


def cancel_lab_order(order, reason=""):
    """Cancel an order without results and take its tests off the invoice."""
    if order.results.exists():
        raise LabError("order already has results")
    with transaction.atomic():
        order.status = LabOrder.CANCELLED
        order.notes = (order.notes + f"\nCancelled: {reason}").strip()
        order.save()
        InvoiceLine.objects.filter(lab_order=order, invoice__status=Invoice.DRAFT).delete()
    return order


def visit_cost_estimate(appointment_type, clinician, test_types=()):
    """What a visit will cost the patient before insurance (front desk quotes)."""
    total = appointment_type.base_fee + clinician.consultation_fee
    total += sum((t.price for t in test_types), Decimal("0"))
    return format_money(total)
