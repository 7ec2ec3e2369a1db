"""Invoices, payments and insurance claims."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from core import billing, services
from core.exceptions import BillingError, ClaimError
from core.models import InsuranceClaim, InsurancePolicy, Invoice, Notification, Payment


@pytest.fixture
def issued_invoice(world):
    """A completed visit's issued invoice over 75.00."""
    appointment = services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    services.complete_appointment(appointment, clinical_notes="ok")
    return Invoice.objects.get(appointment=appointment)


def test_issue_draft_invoice_from_detail_page(world, login, on_commit):
    prescription = services.write_prescription(
        world.patient, world.doctor, [{"drug": world.ibuprofen, "dosage": "1-0-0", "quantity": 20}]
    )
    services.dispense_prescription(prescription, world.pharmacist)
    invoice = Invoice.objects.get(status=Invoice.DRAFT)
    client = login(world.clerk)
    page = client.get(f"/invoices/{invoice.pk}/")
    assert page.status_code == 200
    assert page.context["object"].total == Decimal("2.40")
    with on_commit(execute=True):
        assert client.post(f"/invoices/{invoice.pk}/issue/").status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.ISSUED and invoice.number
    assert mail.outbox[-1].subject == f"Invoice {invoice.number}"
    # issuing twice only shows an error
    again = client.post(f"/invoices/{invoice.pk}/issue/", follow=True)
    assert "already issued" in again.content.decode()


def test_empty_invoice_cannot_be_issued(world):
    invoice = billing.open_invoice(world.patient)
    with pytest.raises(BillingError, match="without lines"):
        billing.issue_invoice(invoice)


def test_invoice_numbers_are_sequential(world):
    first = billing.open_invoice(world.patient)
    billing.add_line(first, "fee", "Copy of records", "5.00")
    billing.issue_invoice(first)
    second = billing.open_invoice(world.patient)
    billing.add_line(second, "fee", "Certificate", "15.00")
    billing.issue_invoice(second)
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"INV-{year}-000001", f"INV-{year}-000002")
    with pytest.raises(BillingError, match="only go on drafts"):
        billing.add_line(first, "fee", "late addition", "1.00")


def test_partial_then_full_payment(world, login, issued_invoice):
    client = login(world.reception)
    client.post(f"/invoices/{issued_invoice.pk}/payments/", {"amount": "25.00", "method": "card", "reference": "T1"})
    issued_invoice.refresh_from_db()
    assert issued_invoice.status == Invoice.PARTIALLY_PAID
    assert issued_invoice.balance == Decimal("50.00")

    too_much = client.post(
        f"/invoices/{issued_invoice.pk}/payments/", {"amount": "80.00", "method": "cash"}, follow=True
    )
    assert "exceeds the open balance" in too_much.content.decode()
    invalid = client.post(f"/invoices/{issued_invoice.pk}/payments/", {"amount": "-1", "method": "cash"}, follow=True)
    assert "Invalid payment" in invalid.content.decode()

    client.post(f"/invoices/{issued_invoice.pk}/payments/", {"amount": "50.00", "method": "cash"})
    issued_invoice.refresh_from_db()
    assert issued_invoice.status == Invoice.PAID
    assert Payment.objects.filter(invoice=issued_invoice).count() == 2
    assert login(world.pharmacist).post(f"/invoices/{issued_invoice.pk}/payments/", {}).status_code == 403


def test_patient_invoice_list(world, login, issued_invoice):
    response = login(world.reception).get(f"/patients/{world.patient.pk}/invoices/")
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [issued_invoice]
    assert response.context["balance"] == Decimal("75.00")


def test_claim_submit_and_full_approval(world, login, issued_invoice, on_commit):
    client = login(world.clerk)
    response = client.post(f"/invoices/{issued_invoice.pk}/claim/")
    assert response.status_code == 302
    claim = InsuranceClaim.objects.get(invoice=issued_invoice)
    assert claim.status == InsuranceClaim.SUBMITTED
    assert claim.amount_claimed == Decimal("60.00")  # 80 % of 75.00
    assert claim.policy.policy_number == "A-100200"
    assert mail.outbox[-1].to == ["claims@aok.example"]
    assert claim.claim_number in mail.outbox[-1].subject

    # nothing left to claim while the first claim is pending
    second = client.post(f"/invoices/{issued_invoice.pk}/claim/", follow=True)
    assert "nothing left to claim" in second.content.decode()

    assert client.get(f"/claims/{claim.pk}/decide/").status_code == 200
    with on_commit(execute=True):
        decided = client.post(f"/claims/{claim.pk}/decide/", {"approved_amount": "60.00"})
    assert decided.status_code == 302
    claim.refresh_from_db()
    issued_invoice.refresh_from_db()
    assert claim.status == InsuranceClaim.APPROVED
    assert issued_invoice.status == Invoice.PARTIALLY_PAID
    assert issued_invoice.payments.get().method == "insurance"
    letter = Notification.objects.get(template_key="claim_decided")
    assert "Approved" in letter.body and letter.status == Notification.SENT


def test_claim_rejection_and_invalid_decision(world, login, issued_invoice):
    claim = billing.submit_claim(billing.create_claim(issued_invoice))
    client = login(world.clerk)
    too_much = client.post(f"/claims/{claim.pk}/decide/", {"approved_amount": "99.00"})
    assert too_much.status_code == 409
    client.post(f"/claims/{claim.pk}/decide/", {"approved_amount": "0", "reason": "not covered"})
    claim.refresh_from_db()
    assert claim.status == InsuranceClaim.REJECTED and claim.rejection_reason == "not covered"
    assert not issued_invoice.payments.exists()
    # a rejected claim frees the amount for a new claim
    assert billing.create_claim(issued_invoice).amount_claimed == Decimal("60.00")
    assert login(world.reception).get(f"/claims/{claim.pk}/decide/").status_code == 403


def test_claim_needs_valid_policy_and_issued_invoice(world, issued_invoice):
    draft = billing.open_invoice(world.patient)
    with pytest.raises(ClaimError, match="issued invoices"):
        billing.create_claim(draft)
    InsurancePolicy.objects.update(valid_until=dt.date(2021, 1, 1))
    with pytest.raises(ClaimError, match="no valid insurance"):
        billing.create_claim(issued_invoice)


def test_api_invoice_and_claim(world, login, issued_invoice):
    client = login(world.clerk)
    data = client.get(f"/api/v1/invoices/{issued_invoice.number}/").json()["data"]
    assert data["total"] == "75.00" and data["balance"] == "75.00"
    assert [line["kind"] for line in data["lines"]] == ["consultation"]

    created = client.post("/api/v1/claims/", json.dumps({"invoice": issued_invoice.number}), content_type="application/json")
    assert created.status_code == 201
    assert created.json()["data"]["status"] == "submitted"
    again = client.post("/api/v1/claims/", json.dumps({"invoice": issued_invoice.number}), content_type="application/json")
    assert again.status_code == 409 and again.json()["error"] == "claim_error"
    assert client.post("/api/v1/claims/", json.dumps({"invoice": "INV-0"}), content_type="application/json").status_code == 404


def test_nightly_billing_issues_old_drafts_and_flags_overdue(world, issued_invoice, on_commit):
    draft = billing.open_invoice(world.patient)
    billing.add_line(draft, "fee", "Records copy", "5.00")
    Invoice.objects.filter(pk=draft.pk).update(created_at=timezone.now() - dt.timedelta(days=5))
    empty = billing.open_invoice(services.register_patient(
        {"first_name": "N", "last_name": "O", "date_of_birth": dt.date(1999, 9, 9)}
    ))
    Invoice.objects.filter(pk=empty.pk).update(created_at=timezone.now() - dt.timedelta(days=5))

    later = (timezone.localdate() + dt.timedelta(days=31)).isoformat()
    out, err = io.StringIO(), io.StringIO()
    with on_commit(execute=True):
        call_command("nightly_billing", "--date", later, stdout=out, stderr=err)
    draft.refresh_from_db()
    issued_invoice.refresh_from_db()
    assert draft.status == Invoice.OVERDUE  # issued today, due in 30 days < later
    assert issued_invoice.status == Invoice.OVERDUE
    assert "issued=1 skipped=1 overdue=2" in out.getvalue()
    assert "without lines" in err.getvalue()
    assert Notification.objects.filter(template_key="invoice_overdue").count() == 2


def test_nightly_billing_rejects_bad_date():
    with pytest.raises(CommandError, match="bad --date"):
        call_command("nightly_billing", "--date", "yesterday")

