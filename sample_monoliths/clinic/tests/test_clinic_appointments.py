"""Booking, moving, cancelling and closing appointments (scheduling + billing + notifications)."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from core import billing, services
from core.exceptions import SchedulingConflict
from core.models import Appointment, AppointmentStaff, Invoice, InvoiceLine, Notification, RoomReservation


def _book_form(world, starts_at, **extra):
    data = {
        "patient": world.patient.pk,
        "clinician": world.doctor.pk,
        "appointment_type": world.consultation.pk,
        "starts_at": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M"),
        "reason": "cough",
    }
    data.update(extra)
    return data


def test_book_appointment_reserves_room_opens_invoice_and_notifies(world, login, on_commit):
    client = login(world.reception)
    assert client.get("/appointments/book/", {"patient": world.patient.pk}).status_code == 200
    with on_commit(execute=True):
        response = client.post("/appointments/book/", _book_form(world, world.monday_10))
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/appointments/{appointment.pk}/"
    assert appointment.status == Appointment.BOOKED
    assert appointment.booked_by == world.reception
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=20)
    # the GEN doctor gets a GEN consultation room
    assert appointment.room == world.room1
    reservation = RoomReservation.objects.get(appointment=appointment)
    assert (reservation.starts_at, reservation.ends_at) == (appointment.starts_at, appointment.ends_at)
    invoice = Invoice.objects.get(appointment=appointment)
    assert invoice.status == Invoice.DRAFT
    assert invoice.total == Decimal("75.00")  # 30 base fee + 45 clinician fee
    notification = Notification.objects.get(patient=world.patient, template_key="appointment_booked")
    assert notification.status == Notification.SENT
    assert "Room 101" in mail.outbox[-1].body

    detail = client.get(f"/appointments/{appointment.pk}/")
    assert detail.status_code == 200
    assert b"Consultation for Maria Lopez" in detail.content


def test_double_booking_the_clinician_fails_and_leaves_nothing_behind(world, login):
    services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    other = services.register_patient(
        {"first_name": "Karl", "last_name": "Brandt", "date_of_birth": dt.date(1950, 11, 3)}
    )
    response = login(world.reception).post(
        "/appointments/book/", _book_form(world, world.monday_10 + dt.timedelta(minutes=10), patient=other.pk)
    )
    assert response.status_code == 400
    assert "already has an appointment" in response.content.decode()
    assert Appointment.objects.count() == 1
    assert RoomReservation.objects.count() == 1
    assert Invoice.objects.filter(patient=other).count() == 0


def test_booking_outside_shift_or_in_the_past_is_refused(world, login):
    client = login(world.reception)
    saturday = world.monday_10 + dt.timedelta(days=5)
    response = client.post("/appointments/book/", _book_form(world, saturday))
    assert response.status_code == 400
    assert "not on shift" in response.content.decode()
    past = client.post("/appointments/book/", _book_form(world, timezone.now() - dt.timedelta(days=1)))
    assert past.status_code == 400
    assert past.context["form"].errors["starts_at"]
    assert not Appointment.objects.exists()


def test_booking_fails_when_no_room_of_the_kind_is_free(world):
    services.book_appointment(world.patient, world.cardiologist, world.ecg, world.monday_10)
    other = services.register_patient({"first_name": "E", "last_name": "F", "date_of_birth": dt.date(1970, 1, 1)})
    with pytest.raises(SchedulingConflict, match="no procedure room"):
        services.book_appointment(other, world.doctor, world.ecg, world.monday_10 + dt.timedelta(minutes=15))
    assert Appointment.objects.count() == 1


def test_failure_in_billing_rolls_back_room_and_appointment(world, monkeypatch):
    """The booking is one transaction: a billing error undoes the room reservation too."""

    def broken_add_line(*args, **kwargs):
        raise billing.BillingError("ledger is locked")

    monkeypatch.setattr(billing, "add_line", broken_add_line)
    with pytest.raises(billing.BillingError):
        services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    assert not Appointment.objects.exists()
    assert not RoomReservation.objects.exists()
    assert not Invoice.objects.filter(appointment__isnull=False).exists()
    assert not Notification.objects.filter(template_key="appointment_booked").exists()


def test_procedure_booking_bills_room_time_and_assistant(world):
    appointment = services.book_appointment(
        world.patient, world.cardiologist, world.ecg, world.monday_10, assistants=[(world.nurse, "assistant")]
    )
    assert appointment.room == world.procedure_room
    lines = {line.kind: line for line in InvoiceLine.objects.filter(appointment=appointment)}
    assert lines["consultation"].unit_price == Decimal("170.00")
    assert lines["room"].quantity == Decimal("0.75") and lines["room"].amount == Decimal("45.00")
    assert AppointmentStaff.objects.get(appointment=appointment).staff == world.nurse
    # the nurse is now busy at that time
    with pytest.raises(SchedulingConflict):
        services.book_appointment(world.patient, world.nurse, world.consultation, world.monday_10)


def test_cancel_early_voids_invoice_and_frees_room(world, login, on_commit):
    appointment = services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    with on_commit(execute=True):
        response = login(world.reception).post(f"/appointments/{appointment.pk}/cancel/", {"reason": "feeling better"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.CANCELLED
    assert appointment.room_reservation.released_at is not None
    assert Invoice.objects.get(appointment=appointment).status == Invoice.VOID
    assert "feeling better" in mail.outbox[-1].body
    # the slot is free again
    services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    # cancelling twice is an error shown as a message
    again = login(world.reception).post(f"/appointments/{appointment.pk}/cancel/", follow=True)
    assert "cannot be cancelled" in again.content.decode()


def test_late_cancellation_charges_a_fee(world, login):
    appointment = services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    soon = timezone.now() + dt.timedelta(hours=2)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=soon, ends_at=soon + dt.timedelta(minutes=20))
    login(world.reception).post(f"/appointments/{appointment.pk}/cancel/", {"reason": "traffic"})
    invoice = Invoice.objects.get(appointment=appointment)
    assert invoice.status == Invoice.DRAFT
    assert [(line.kind, line.amount) for line in invoice.lines.all()] == [("fee", Decimal("25.00"))]


def test_check_in_and_complete_issues_the_invoice(world, login, on_commit):
    appointment = services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    # too early to check in
    login(world.reception).post(f"/appointments/{appointment.pk}/check-in/")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.BOOKED

    now = timezone.now()
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=now, ends_at=now + dt.timedelta(minutes=20))
    assert login(world.reception).post(f"/appointments/{appointment.pk}/check-in/").status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.CHECKED_IN

    with on_commit(execute=True):
        response = login(world.doctor).post(f"/appointments/{appointment.pk}/complete/", {"notes": "bronchitis"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.COMPLETED
    assert appointment.clinical_notes == "bronchitis"
    invoice = Invoice.objects.get(appointment=appointment)
    assert invoice.status == Invoice.ISSUED
    assert invoice.number.startswith(f"INV-{timezone.localdate().year}-")
    assert invoice.due_date == timezone.localdate() + dt.timedelta(days=30)
    assert any(m.subject == f"Invoice {invoice.number}" for m in mail.outbox)
    # receptionists cannot complete visits
    assert login(world.reception).post(f"/appointments/{appointment.pk}/complete/").status_code == 403


def test_no_show_signal_replaces_bill_with_fee(world, login, on_commit):
    appointment = services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    # not started yet: refused
    login(world.reception).post(f"/appointments/{appointment.pk}/no-show/")
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.BOOKED

    past = timezone.now() - dt.timedelta(hours=1)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=past, ends_at=past + dt.timedelta(minutes=20))
    with on_commit(execute=True):
        login(world.reception).post(f"/appointments/{appointment.pk}/no-show/")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.NO_SHOW
    assert appointment.room_reservation.released_at is not None
    invoice = Invoice.objects.get(appointment=appointment)
    assert [(line.kind, line.amount) for line in invoice.lines.all()] == [("fee", Decimal("40.00"))]
    assert Notification.objects.get(template_key="no_show").status == Notification.SENT


def test_day_schedule_page(world, login):
    services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    client = login(world.nurse)
    day = world.monday_10.date().isoformat()
    response = client.get("/schedule/", {"day": day})
    assert response.status_code == 200
    assert len(response.context["appointments"]) == 1
    assert response.context["occupancy"] == {"101": 20}
    mine = client.get("/schedule/", {"day": day, "clinician": world.cardiologist.pk})
    assert mine.context["appointments"] == []


def test_home_page_shows_the_clinicians_day(world, login):
    appointment = services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    now = timezone.now()
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=now, ends_at=now + dt.timedelta(minutes=20))
    response = login(world.doctor).get("/")
    assert response.status_code == 200
    assert [a.pk for a in response.context["schedule"]] == [appointment.pk]
    assert response.context["numbers"]["appointments_today"] == 1
    assert login(world.clerk).get("/").context["schedule"] == []


def test_api_slots_book_get_move_and_cancel(world, login, on_commit):
    client = login(world.reception)
    day = world.monday_10.date().isoformat()
    slots = client.get("/api/v1/slots/", {"clinician": world.doctor.pk, "type": "CONS", "day": day}).json()["data"]
    assert len(slots) == 35  # 08:00 .. 16:30 every 15 minutes (20 min visits, shift ends 17:00)
    ten = timezone.localtime(world.monday_10).isoformat()
    assert ten in slots
    assert client.get("/api/v1/slots/", {"clinician": world.doctor.pk, "type": "CONS"}).status_code == 400

    with on_commit(execute=True):
        booked = client.post(
            "/api/v1/appointments/",
            json.dumps({"patient": world.patient.mrn, "clinician": world.doctor.pk, "type": "CONS", "starts_at": ten}),
            content_type="application/json",
        )
    assert booked.status_code == 201
    appointment_id = booked.json()["data"]["id"]
    slots_after = client.get("/api/v1/slots/", {"clinician": world.doctor.pk, "type": "CONS", "day": day}).json()["data"]
    assert ten not in slots_after

    conflict = client.post(
        "/api/v1/appointments/",
        json.dumps({"patient": world.patient.mrn, "clinician": world.doctor.pk, "type": "CONS", "starts_at": ten}),
        content_type="application/json",
    )
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "scheduling_conflict"
    missing = client.post("/api/v1/appointments/", json.dumps({"patient": "nope"}), content_type="application/json")
    assert missing.status_code == 422

    got = client.get(f"/api/v1/appointments/{appointment_id}/").json()["data"]
    assert got["room"] == "101" and got["status"] == "booked"

    later = timezone.localtime(world.monday_10 + dt.timedelta(hours=3)).isoformat()
    moved = client.patch(
        f"/api/v1/appointments/{appointment_id}/", json.dumps({"starts_at": later}), content_type="application/json"
    )
    assert moved.status_code == 200
    assert moved.json()["data"]["starts_at"] == later
    assert RoomReservation.objects.get(appointment_id=appointment_id).starts_at == world.monday_10 + dt.timedelta(hours=3)
    bad_move = client.patch(f"/api/v1/appointments/{appointment_id}/", json.dumps({}), content_type="application/json")
    assert bad_move.status_code == 422

    cancelled = client.delete(f"/api/v1/appointments/{appointment_id}/")
    assert cancelled.status_code == 200
    assert cancelled.json()["data"]["status"] == "cancelled"
    assert client.delete(f"/api/v1/appointments/{appointment_id}/").status_code == 409


def test_add_assistant_and_quote(world):
    appointment = services.book_appointment(world.patient, world.cardiologist, world.ecg, world.monday_10)
    link = services.add_assistant(appointment, world.nurse, role="trainee")
    assert (link.staff, link.role) == (world.nurse, "trainee")
    assert list(appointment.assisting_staff.all()) == [world.nurse]
    assert services.visit_cost_estimate(world.ecg, world.cardiologist, [world.hb]) == "EUR 176.50"
    services.cancel_appointment(appointment, reason="rescheduled by phone")
    with pytest.raises(services.AppointmentStateError):
        services.add_assistant(appointment, world.doctor)
