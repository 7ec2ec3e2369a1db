"""Notifications: channels, preferences, reminders, retries, the outbox page."""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from core import notifications, services
from core.exceptions import NotificationError
from core.models import Appointment, MessageTemplate, Notification, NotificationPreference


def _soon(appointment, hours):
    start = timezone.now() + dt.timedelta(hours=hours)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=start, ends_at=start + dt.timedelta(minutes=20))


def test_reminder_command_reminds_once(world, on_commit):
    appointment = services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    far = services.book_appointment(
        world.patient, world.doctor, world.consultation, world.monday_10 + dt.timedelta(days=7)
    )
    _soon(appointment, 3)
    out = io.StringIO()
    call_command("send_appointment_reminders", "--dry-run", stdout=out)
    assert "Would remind 1 patient(s)." in out.getvalue()
    assert not Notification.objects.filter(template_key="appointment_reminder").exists()

    out = io.StringIO()
    with on_commit(execute=True):
        call_command("send_appointment_reminders", "--hours", "24", stdout=out)
    assert f"Reminded {world.patient.mrn}" in out.getvalue()
    appointment.refresh_from_db()
    far.refresh_from_db()
    assert appointment.reminder_sent_at is not None and far.reminder_sent_at is None
    assert mail.outbox[-1].subject.startswith("Reminder: appointment")

    out = io.StringIO()
    call_command("send_appointment_reminders", stdout=out)
    assert "Reminded 0 patient(s)." in out.getvalue()


def test_reminder_command_rejects_bad_window():
    with pytest.raises(CommandError):
        call_command("send_appointment_reminders", "--hours", "0")


def test_patient_without_channel_gets_skipped_notification(world):
    patient = services.register_patient(
        {"first_name": "Nora", "last_name": "Quiet", "date_of_birth": dt.date(1960, 5, 5)}
    )
    welcome = Notification.objects.get(patient=patient, template_key="welcome")
    assert welcome.status == Notification.SKIPPED
    assert welcome.error == "patient has no usable contact channel"


def test_sms_without_gateway_fails_and_retry_command_sends_after_fix(world, on_commit, monkeypatch):
    services.update_contact_details(world.patient, email="", sms_enabled=True)
    assert NotificationPreference.objects.get(patient=world.patient).sms_enabled
    with on_commit(execute=True):
        notification = notifications.notify("lab_results_ready", patient=world.patient, context={"order": 7})
    notification.refresh_from_db()
    assert notification.channel == Notification.SMS
    assert notification.status == Notification.FAILED
    assert notification.error == "no SMS gateway configured"

    sent = []
    monkeypatch.setattr(notifications, "_send_sms", lambda n: sent.append(n.body))
    out = io.StringIO()
    call_command("retry_notifications", stdout=out)
    notification.refresh_from_db()
    assert "1 notification(s) sent" in out.getvalue()
    assert notification.status == Notification.SENT and notification.attempts == 2
    assert sent == ["Dear Maria Lopez, the results of lab order 7 are available."]


def test_edited_message_template_overrides_default(world, on_commit):
    MessageTemplate.objects.create(key="welcome", subject="Hello {{ patient }}", body="MRN {{ mrn }} at {{ clinic }}")
    with on_commit(execute=True):
        patient = services.register_patient(
            {"first_name": "Ute", "last_name": "Roth", "date_of_birth": dt.date(1977, 7, 7), "email": "ute@example.org"}
        )
    assert mail.outbox[-1].subject == "Hello Ute Roth"
    assert mail.outbox[-1].body == f"MRN {patient.mrn} at Lindenhof Clinic"


def test_unknown_template_and_missing_recipient_raise(world):
    with pytest.raises(NotificationError, match="unknown message template"):
        notifications.notify("nope", patient=world.patient)
    with pytest.raises(NotificationError, match="needs a patient"):
        notifications.notify("welcome")


def test_notification_list_page_and_staff_inbox(world, login):
    services.order_lab_tests(world.patient, world.doctor, [world.potassium], priority="stat")
    client = login(world.lab_tech)
    response = client.get("/notifications/")
    assert response.status_code == 200
    keys = [n.template_key for n in response.context["notifications"]]
    assert "lab_stat_order" in keys and "welcome" in keys
    mine = client.get("/notifications/", {"mine": "1"})
    assert [n.template_key for n in mine.context["notifications"]] == ["lab_stat_order"]
    pending = client.get("/notifications/", {"status": "pending"})
    assert all(n.status == "pending" for n in pending.context["notifications"])
    assert [n.template_key for n in notifications.inbox(world.lab_tech)] == ["lab_stat_order"]


def test_api_patient_notifications(world, login):
    response = login(world.reception).get(f"/api/v1/patients/{world.patient.mrn}/notifications/")
    assert response.status_code == 200
    assert [n["template"] for n in response.json()["data"]] == ["welcome"]
    assert login(world.reception).get("/api/v1/patients/LH-0/notifications/").status_code == 404


def test_sms_gateway_is_called_when_configured(world, monkeypatch):
    calls = []

    class FakeResponse:
        status = 202

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def fake_urlopen(request, timeout):
        calls.append((request.full_url, request.data))
        return FakeResponse()

    monkeypatch.setattr(notifications.urllib.request, "urlopen", fake_urlopen)
    notification = Notification.objects.create(
        patient=world.patient, channel=Notification.SMS, template_key="x", subject="s", body="hello"
    )
    with override_settings(CLINIC=dict(settings.CLINIC, SMS_GATEWAY_URL="http://sms.invalid/send")):
        notifications.deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.status == Notification.SENT
    assert calls == [("http://sms.invalid/send", b'{"to": "+491512345678", "text": "hello"}')]
