"""The back office (Django admin) with the clinic's registrations and actions."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core import billing, services
from core.models import InsuranceClaim, Invoice, Notification, RoomReservation


@pytest.fixture
def admin_client(world):
    user = get_user_model().objects.create_superuser("admin", "admin@lindenhof.example", None)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "patient", "staffmember", "appointment", "room", "roomreservation", "drug", "stockitem",
        "prescription", "laborder", "invoice", "outstandinginvoice", "insuranceclaim", "notification",
        "allergen", "labtesttype",
    ],
)
def test_admin_changelists_render(admin_client, world, model):
    services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    response = admin_client.get(f"/admin/core/{model}/")
    assert response.status_code == 200


def test_admin_change_form_with_inlines(admin_client, world):
    assert admin_client.get(f"/admin/core/patient/{world.patient.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/core/drug/{world.ibuprofen.pk}/change/").status_code == 200


def test_admin_issue_invoices_action(admin_client, world):
    good = billing.open_invoice(world.patient)
    billing.add_line(good, "fee", "Certificate", "15.00")
    assert billing.open_invoice(world.patient) == good  # the running draft is reused
    other = services.register_patient({"first_name": "A", "last_name": "B", "date_of_birth": dt.date(1990, 1, 1)})
    lonely = billing.open_invoice(other)  # no lines: cannot be issued
    response = admin_client.post(
        "/admin/core/invoice/",
        {"action": "issue_selected", "_selected_action": [good.pk, lonely.pk]},
        follow=True,
    )
    assert response.status_code == 200
    good.refresh_from_db()
    lonely.refresh_from_db()
    assert good.status == Invoice.ISSUED
    assert lonely.status == Invoice.DRAFT
    assert "1 invoice(s) issued." in response.content.decode()


def test_admin_submit_claims_and_outstanding_proxy(admin_client, world):
    invoice = billing.open_invoice(world.patient)
    billing.add_line(invoice, "fee", "Certificate", "50.00")
    billing.issue_invoice(invoice)
    claim = billing.create_claim(invoice)
    response = admin_client.post(
        "/admin/core/insuranceclaim/", {"action": "submit_selected", "_selected_action": [claim.pk]}, follow=True
    )
    assert "1 claim(s) submitted." in response.content.decode()
    assert InsuranceClaim.objects.get().status == InsuranceClaim.SUBMITTED
    outstanding = admin_client.get("/admin/core/outstandinginvoice/")
    assert invoice.number in outstanding.content.decode()


def test_admin_release_rooms_and_resend_notifications(admin_client, world):
    appointment = services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    admin_client.post("/admin/core/appointment/", {"action": "release_rooms", "_selected_action": [appointment.pk]})
    assert RoomReservation.objects.get().released_at is not None

    pending = list(Notification.objects.filter(status=Notification.PENDING).values_list("pk", flat=True))
    response = admin_client.post(
        "/admin/core/notification/", {"action": "resend", "_selected_action": pending}, follow=True
    )
    assert f"{len(pending)} notification(s) sent." in response.content.decode()
    assert not Notification.objects.filter(status=Notification.PENDING).exists()
