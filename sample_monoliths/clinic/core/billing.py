"""
Invoices, payments and insurance claims.

Other areas call :func:`add_line` to bill what they did (consultations, room
time, lab tests, drugs). An appointment gets its own invoice; everything else
is added to the patient's current draft invoice, which the billing clerks issue
at the end of the visit (or the nightly job issues it for them).
"""

import datetime as dt
from decimal import Decimal

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from core import notifications
from core.exceptions import BillingError, ClaimError
from core.models import InsuranceClaim, InsurancePolicy, Invoice, InvoiceLine, Payment
from core.utils import clinic_setting, format_money, log_event, money, next_sequence_number, percent_of


def next_invoice_number():
    """Next free invoice number of the current year."""
    return next_sequence_number(Invoice, "number", clinic_setting("INVOICE_PREFIX", "INV"))


def next_claim_number():
    """Next free claim number of the current year."""
    return next_sequence_number(InsuranceClaim, "claim_number", clinic_setting("CLAIM_PREFIX", "CLM"))


def open_invoice(patient, appointment=None):
    """
    The draft invoice to add lines to.

    With ``appointment`` the invoice of that appointment (created if needed);
    otherwise the patient's newest draft invoice not tied to an appointment.
    """
    drafts = Invoice.objects.filter(patient=patient, status=Invoice.DRAFT)
    if appointment is not None:
        invoice = drafts.filter(appointment=appointment).first()
    else:
        invoice = drafts.filter(appointment__isnull=True).order_by("-created_at").first()
    if invoice is None:
        invoice = Invoice.objects.create(
            patient=patient,
            appointment=appointment,
            currency=clinic_setting("CURRENCY", "EUR"),
        )
    return invoice


def add_line(invoice, kind, description, unit_price, quantity=1, **references):
    """Add a line to a draft invoice. ``references`` are the InvoiceLine FKs."""
    if invoice.status != Invoice.DRAFT:
        raise BillingError(f"invoice {invoice} is {invoice.status}, lines can only go on drafts")
    line = InvoiceLine.objects.create(
        invoice=invoice,
        kind=kind,
        description=description[:200],
        quantity=Decimal(str(quantity)),
        unit_price=money(unit_price),
        **references,
    )
    return line


def bill_patient(patient, kind, description, unit_price, quantity=1, appointment=None, **references):
    """Shortcut: add a line to the patient's current draft invoice."""
    invoice = open_invoice(patient, appointment=appointment)
    return add_line(invoice, kind, description, unit_price, quantity, appointment=appointment, **references)


def issue_invoice(invoice, issued_by=None, notify_patient=True):
    """Freeze a draft invoice: give it a number, a due date, and tell the patient."""
    if invoice.status != Invoice.DRAFT:
        raise BillingError(f"invoice {invoice} was already issued")
    if not invoice.lines.exists():
        raise BillingError("an invoice without lines cannot be issued")
    today = timezone.localdate()
    invoice.status = Invoice.ISSUED
    invoice.issued_at = timezone.now()
    invoice.due_date = today + dt.timedelta(days=clinic_setting("INVOICE_DUE_DAYS", 30))
    for attempt in range(3):
        if not invoice.number:
            invoice.number = next_invoice_number()
        try:
            with transaction.atomic():
                invoice.save()
            break
        except IntegrityError:
            # Somebody took the number in the meantime; draw the next one.
            invoice.number = None
            if attempt == 2:
                raise
    if notify_patient:
        notifications.notify(
            "invoice_issued",
            patient=invoice.patient,
            context={
                "number": invoice.number,
                "total": format_money(invoice.total, invoice.currency),
                "due": invoice.due_date.strftime("%d.%m.%Y"),
            },
        )
    log_event("invoice.issued", number=invoice.number, by=getattr(issued_by, "pk", None))
    return invoice


def void_invoice(invoice, reason=""):
    """Cancel an invoice that has no payments."""
    if invoice.status == Invoice.VOID:
        return invoice
    if invoice.payments.exists():
        raise BillingError("invoice has payments; issue a credit note instead")
    invoice.status = Invoice.VOID
    invoice.notes = (invoice.notes + f"\nVoided: {reason}").strip()
    invoice.save(update_fields=["status", "notes", "updated_at"])
    return invoice


def _refresh_payment_status(invoice):
    balance = invoice.balance
    if balance <= 0:
        invoice.status = Invoice.PAID
    elif invoice.amount_paid > 0:
        invoice.status = Invoice.PARTIALLY_PAID
    invoice.save(update_fields=["status", "updated_at"])


def record_payment(invoice, amount, method, reference=""):
    """Book a payment against an issued invoice and update its status."""
    amount = money(amount)
    if amount <= 0:
        raise BillingError("payment amount must be positive")
    if invoice.status not in Invoice.OPEN_STATUSES:
        raise BillingError(f"invoice {invoice} is {invoice.status}; it takes no payments")
    if amount > invoice.balance:
        raise BillingError(
            f"payment of {amount} exceeds the open balance of {invoice.balance}",
            balance=str(invoice.balance),
        )
    with transaction.atomic():
        payment = Payment.objects.create(
            invoice=invoice, amount=amount, method=method, reference=reference
        )
        _refresh_payment_status(invoice)
    return payment


def primary_policy(patient, on=None):
    """The patient's valid primary insurance policy on the day, if any."""
    on = on or timezone.localdate()
    policies = InsurancePolicy.objects.filter(patient=patient).select_related("provider")
    valid = [policy for policy in policies if policy.is_valid_on(on)]
    valid.sort(key=lambda policy: not policy.is_primary)
    return valid[0] if valid else None


def insured_share(invoice, policy):
    """The part of the invoice the policy covers."""
    already_claimed = invoice.claims.exclude(status=InsuranceClaim.REJECTED).aggregate(
        total=Sum("amount_claimed")
    )["total"]
    share = percent_of(invoice.total, policy.effective_coverage)
    return max(money(share - money(already_claimed)), Decimal("0.00"))


def create_claim(invoice, policy=None):
    """Draft a claim for the insured share of an issued invoice."""
    if invoice.status in (Invoice.DRAFT, Invoice.VOID):
        raise ClaimError("claims can only be made for issued invoices")
    policy = policy or primary_policy(invoice.patient)
    if policy is None:
        raise ClaimError("patient has no valid insurance policy")
    if policy.patient_id != invoice.patient_id:
        raise ClaimError("policy belongs to another patient")
    amount = insured_share(invoice, policy)
    if amount <= 0:
        raise ClaimError("nothing left to claim on this invoice")
    return InsuranceClaim.objects.create(
        claim_number=next_claim_number(),
        invoice=invoice,
        policy=policy,
        amount_claimed=amount,
    )


def submit_claim(claim):
    """Send a draft claim to the insurer (by e-mail, until the EDI link exists)."""
    if claim.status != InsuranceClaim.DRAFT:
        raise ClaimError(f"claim {claim} was already submitted")
    provider = claim.policy.provider
    if not provider.claims_email:
        raise ClaimError(f"{provider} has no claims address on file")
    claim.status = InsuranceClaim.SUBMITTED
    claim.submitted_at = timezone.now()
    claim.save(update_fields=["status", "submitted_at", "updated_at"])
    subject, body = notifications.render(
        "claim_submitted",
        {
            "claim": claim.claim_number,
            "policy": claim.policy.policy_number,
            "amount": format_money(claim.amount_claimed),
        },
    )
    # Insurers are not recipients in the notification table, so the claim
    # e-mail goes out directly. The EDI integration will replace this.
    send_mail(subject, body, None, [provider.claims_email], fail_silently=False)
    log_event("claim.submitted", claim=claim.claim_number, payer=provider.payer_id)
    return claim


def decide_claim(claim, approved_amount, reason=""):
    """Record the insurer's decision; approved money is booked as a payment."""
    if claim.status != InsuranceClaim.SUBMITTED:
        raise ClaimError("only submitted claims can be decided")
    approved = money(approved_amount)
    if approved < 0 or approved > claim.amount_claimed:
        raise ClaimError("approved amount must be between 0 and the claimed amount")
    with transaction.atomic():
        if approved == 0:
            claim.status = InsuranceClaim.REJECTED
            claim.rejection_reason = reason or "rejected by insurer"
        elif approved < claim.amount_claimed:
            claim.status = InsuranceClaim.PARTIALLY_APPROVED
        else:
            claim.status = InsuranceClaim.APPROVED
        claim.amount_approved = approved
        claim.decided_at = timezone.now()
        claim.save()
        if approved > 0:
            record_payment(claim.invoice, approved, "insurance", reference=claim.claim_number)
    return claim


def mark_overdue_invoices(today=None, notify_patients=True):
    """Flag issued invoices past their due date; returns the invoices flagged."""
    today = today or timezone.localdate()
    overdue = list(
        Invoice.objects.filter(
            status__in=(Invoice.ISSUED, Invoice.PARTIALLY_PAID), due_date__lt=today
        ).select_related("patient")
    )
    for invoice in overdue:
        invoice.status = Invoice.OVERDUE
        invoice.save(update_fields=["status", "updated_at"])
        if notify_patients:
            notifications.notify(
                "invoice_overdue",
                patient=invoice.patient,
                context={
                    "number": invoice.number,
                    "balance": format_money(invoice.balance, invoice.currency),
                    "due": invoice.due_date.strftime("%d.%m.%Y"),
                },
            )
    return overdue


def patient_balance(patient):
    """Total open amount over all of a patient's invoices."""
    return sum(
        (invoice.balance for invoice in Invoice.objects.filter(patient=patient, status__in=Invoice.OPEN_STATUSES)),
        Decimal("0.00"),
    )
