"""
Patient and staff notifications (e-mail, SMS, internal inbox).

Every message is stored as a :class:`core.models.Notification` first and
delivered after the surrounding transaction commits, so nobody is told about a
booking that was rolled back. Texts come from :class:`MessageTemplate` rows
when the front office has edited them, else from :data:`DEFAULTS`.
"""

import datetime as dt
import json
import logging
import urllib.request

from django.core.mail import send_mail
from django.db import transaction
from django.template import Context, Template
from django.utils import timezone

from core.exceptions import NotificationError
from core.models import Appointment, MessageTemplate, Notification, NotificationPreference, StaffMember
from core.utils import clinic_setting, log_event, mask

logger = logging.getLogger("clinic.notifications")

DEFAULTS = {
    "welcome": (
        "Welcome to {{ clinic }}",
        "Dear {{ patient }}, your patient number is {{ mrn }}.",
    ),
    "appointment_booked": (
        "Your appointment on {{ when }}",
        "Dear {{ patient }}, you are booked with {{ clinician }} on {{ when }} in {{ room }}.",
    ),
    "appointment_cancelled": (
        "Appointment cancelled",
        "Dear {{ patient }}, your appointment on {{ when }} was cancelled: {{ reason }}.",
    ),
    "appointment_rescheduled": (
        "Appointment moved to {{ when }}",
        "Dear {{ patient }}, your appointment has been moved to {{ when }}.",
    ),
    "appointment_reminder": (
        "Reminder: appointment {{ when }}",
        "Dear {{ patient }}, this is a reminder of your appointment with {{ clinician }} on {{ when }}.",
    ),
    "no_show": (
        "You missed your appointment",
        "Dear {{ patient }}, you missed your appointment on {{ when }}. A fee of {{ fee }} applies.",
    ),
    "prescription_ready": (
        "Your prescription is ready",
        "Dear {{ patient }}, prescription {{ prescription }} has been dispensed.",
    ),
    "lab_results_ready": (
        "Your lab results are ready",
        "Dear {{ patient }}, the results of lab order {{ order }} are available.",
    ),
    "lab_critical_result": (
        "CRITICAL lab value for {{ patient }}",
        "{{ test }} = {{ value }} for {{ patient }} (order {{ order }}). Please act now.",
    ),
    "lab_stat_order": (
        "STAT lab order {{ order }}",
        "STAT order {{ order }} for {{ patient }}: {{ tests }}.",
    ),
    "low_stock": (
        "Low stock: {{ drug }}",
        "Only {{ quantity }} units of {{ drug }} left (reorder level {{ reorder_level }}).",
    ),
    "invoice_issued": (
        "Invoice {{ number }}",
        "Dear {{ patient }}, invoice {{ number }} over {{ total }} is due on {{ due }}.",
    ),
    "invoice_overdue": (
        "Invoice {{ number }} is overdue",
        "Dear {{ patient }}, invoice {{ number }} ({{ balance }} open) was due on {{ due }}.",
    ),
    "claim_submitted": (
        "Claim {{ claim }}",
        "Claim {{ claim }} for policy {{ policy }} over {{ amount }} is attached.",
    ),
    "claim_decided": (
        "Insurance decision on invoice {{ invoice }}",
        "Dear {{ patient }}, your insurer decided: {{ status }} ({{ approved }}).",
    ),
}


def render(template_key, context):
    """Render ``(subject, body)`` of a message for ``context``."""
    override = MessageTemplate.objects.filter(key=template_key).first()
    if override is not None:
        subject_src, body_src = override.subject, override.body
    elif template_key in DEFAULTS:
        subject_src, body_src = DEFAULTS[template_key]
    else:
        raise NotificationError(f"unknown message template {template_key!r}")
    ctx = Context({"clinic": clinic_setting("NAME", "the clinic"), **context}, autoescape=False)
    return Template(subject_src).render(ctx).strip(), Template(body_src).render(ctx).strip()


def preferred_channel(patient):
    """E-mail when allowed and known, else SMS when allowed, else None."""
    prefs = NotificationPreference.objects.filter(patient=patient).first()
    email_ok = prefs.email_enabled if prefs else True
    sms_ok = prefs.sms_enabled if prefs else False
    if email_ok and patient.email:
        return Notification.EMAIL
    if sms_ok and patient.phone:
        return Notification.SMS
    return None


def _storable(context):
    """The JSON-safe copy of a context that we keep on the notification row."""
    return json.loads(json.dumps(context, default=str))


def notify(template_key, patient=None, staff=None, context=None, channel=None):
    """
    Create a notification for a patient or a staff member and deliver it on commit.

    Patients without a usable channel get a ``skipped`` row, so the front desk
    can see that nobody was told. Staff messages go to the internal inbox unless
    ``channel`` says otherwise.
    """
    if patient is None and staff is None:
        raise NotificationError("a notification needs a patient or a staff member")
    context = dict(context or {})
    if patient is not None:
        context.setdefault("patient", patient.full_name)
        channel = channel or preferred_channel(patient)
    else:
        channel = channel or Notification.INTERNAL
    subject, body = render(template_key, context)
    notification = Notification.objects.create(
        patient=patient,
        staff=staff,
        channel=channel or Notification.EMAIL,
        template_key=template_key,
        subject=subject,
        body=body,
        context=_storable(context),
        status=Notification.PENDING if channel else Notification.SKIPPED,
        error="" if channel else "patient has no usable contact channel",
    )
    if channel:
        transaction.on_commit(lambda: deliver(notification.pk))
    return notification


def notify_role(role, template_key, context=None):
    """Notify every active staff member with ``role`` (internal inbox)."""
    recipients = StaffMember.objects.filter(role=role, is_active=True)
    return [notify(template_key, staff=member, context=context) for member in recipients]


def deliver(notification_id):
    """Send one pending notification; record success or the error."""
    notification = Notification.objects.select_related("patient", "staff__user").get(
        pk=notification_id
    )
    if notification.status == Notification.SENT:
        return notification
    notification.attempts += 1
    try:
        if notification.channel == Notification.EMAIL:
            _send_email(notification)
        elif notification.channel == Notification.SMS:
            _send_sms(notification)
        # internal messages are "delivered" by existing in the inbox
        notification.status = Notification.SENT
        notification.sent_at = timezone.now()
        notification.error = ""
    except Exception as exc:  # delivery must never break the caller
        logger.warning("notification %s failed: %s", notification.pk, exc)
        notification.status = Notification.FAILED
        notification.error = str(exc)[:300]
    notification.save(update_fields=["status", "sent_at", "error", "attempts", "updated_at"])
    log_event("notification.delivery", id=notification.pk, status=notification.status)
    return notification


def _recipient_email(notification):
    if notification.patient_id:
        return notification.patient.email
    return notification.staff.user.email


def _send_email(notification):
    address = _recipient_email(notification)
    if not address:
        raise NotificationError("recipient has no e-mail address")
    send_mail(
        notification.subject,
        notification.body,
        None,
        [address],
        fail_silently=False,
    )


def _send_sms(notification):
    gateway = clinic_setting("SMS_GATEWAY_URL")
    if not gateway:
        raise NotificationError("no SMS gateway configured")
    phone = notification.patient.phone if notification.patient_id else notification.staff.phone
    payload = json.dumps({"to": phone, "text": notification.body[:480]}).encode("utf-8")
    request = urllib.request.Request(
        gateway, data=payload, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - configured URL
        if response.status >= 300:
            raise NotificationError(f"SMS gateway answered {response.status}")
    logger.info("sms sent to %s", mask(phone))


def retry_failed(max_attempts=3):
    """Try failed notifications again; returns how many went out this time."""
    sent = 0
    candidates = Notification.objects.filter(status=Notification.FAILED, attempts__lt=max_attempts)
    for notification in candidates:
        if deliver(notification.pk).status == Notification.SENT:
            sent += 1
    return sent


def send_appointment_reminders(now=None, hours=None, dry_run=False):
    """
    Remind patients of appointments starting within the next ``hours``.

    Each appointment is reminded once (``reminder_sent_at``). Returns the
    appointments that were (or, with ``dry_run``, would be) reminded.
    """
    now = now or timezone.now()
    hours = hours if hours is not None else clinic_setting("REMINDER_HOURS_BEFORE", 24)
    window_end = now + dt.timedelta(hours=hours)
    due = (
        Appointment.objects.active()
        .filter(starts_at__gt=now, starts_at__lte=window_end, reminder_sent_at__isnull=True)
        .select_related("patient", "clinician__user", "room")
    )
    reminded = []
    for appointment in due:
        reminded.append(appointment)
        if dry_run:
            continue
        notify(
            "appointment_reminder",
            patient=appointment.patient,
            context={
                "clinician": str(appointment.clinician),
                "when": timezone.localtime(appointment.starts_at).strftime("%d.%m.%Y %H:%M"),
            },
        )
        appointment.reminder_sent_at = now
        appointment.save(update_fields=["reminder_sent_at", "updated_at"])
    return reminded


def inbox(staff, since=None):
    """Internal messages of a staff member, newest first."""
    messages = Notification.objects.filter(staff=staff, channel=Notification.INTERNAL)
    if since is not None:
        messages = messages.filter(created_at__gte=since)
    return messages.order_by("-created_at")
