"""Patient registration and master data, through the HTML pages and the API."""

import json

from django.core import mail
from django.test import Client, override_settings

from core.models import EmergencyContact, InsurancePolicy, Notification, NotificationPreference, Patient


def test_register_patient_through_form_creates_record_preferences_policy_and_welcome(world, login, on_commit):
    client = login(world.reception)
    assert client.get("/patients/new/").status_code == 200
    with on_commit(execute=True):
        response = client.post(
            "/patients/new/",
            {
                "first_name": "Jonas",
                "last_name": "Berg",
                "date_of_birth": "1990-02-03",
                "sex": "m",
                "email": "jonas@example.org",
                "phone": "030 1234567",
                "allergies": [world.latex.pk],
                "ins-provider": world.insurer.pk,
                "ins-policy_number": "B-42",
                "ins-valid_from": "2024-01-01",
            },
        )
    patient = Patient.objects.get(last_name="Berg")
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert patient.mrn.startswith("LH-")
    assert patient.phone == "+49301234567"
    assert list(patient.allergies.values_list("name", flat=True)) == ["Latex"]
    assert NotificationPreference.objects.get(patient=patient).sms_enabled is True
    assert InsurancePolicy.objects.get(patient=patient).policy_number == "B-42"
    welcome = Notification.objects.get(patient=patient, template_key="welcome")
    assert welcome.status == Notification.SENT
    assert mail.outbox[-1].to == ["jonas@example.org"]
    assert patient.mrn in mail.outbox[-1].body


def test_register_duplicate_patient_is_refused(world, login):
    client = login(world.reception)
    response = client.post(
        "/patients/new/",
        {"first_name": "maria", "last_name": "LOPEZ", "date_of_birth": "1985-04-12", "sex": "f"},
    )
    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    assert Patient.objects.filter(last_name__iexact="lopez").count() == 1


def test_register_rejects_future_birth_date_and_insurer_without_number(world, login):
    client = login(world.reception)
    response = client.post(
        "/patients/new/",
        {"first_name": "A", "last_name": "B", "date_of_birth": "2999-01-01", "sex": "u", "ins-provider": world.insurer.pk},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["date_of_birth"]
    assert response.context["insurance_form"].errors["policy_number"]
    assert not Patient.objects.filter(last_name="B").exists()


def test_patient_pages_require_login_and_role(world, login):
    anonymous = Client()
    response = anonymous.get("/patients/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # the pharmacist may look patients up but not register them
    assert login(world.pharmacist).get("/patients/").status_code == 200
    assert login(world.pharmacist).get("/patients/new/").status_code == 403


def test_patient_list_search_detail_and_edit(world, login):
    client = login(world.reception)
    response = client.get("/patients/", {"q": "lop"})
    assert response.status_code == 200
    assert list(response.context["object_list"]) == [world.patient]
    assert client.get("/patients/", {"q": "nobody"}).context["object_list"].count() == 0

    detail = client.get(f"/patients/{world.patient.pk}/")
    assert detail.status_code == 200
    assert detail.context["summary"]["allergies"] == ["Penicillin"]
    assert detail.context["summary"]["insurance"] == "AOK Demo A-100200"

    response = client.post(
        f"/patients/{world.patient.pk}/edit/",
        {"first_name": "Maria", "last_name": "Lopez-Garcia", "date_of_birth": "1985-04-12", "sex": "f",
         "phone": "+49 151 2345678", "allergies": [world.penicillin.pk]},
    )
    assert response.status_code == 302
    world.patient.refresh_from_db()
    assert world.patient.last_name == "Lopez-Garcia"


def test_deactivate_patient_cancels_future_appointments(world, login):
    from core import services

    appointment = services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    response = login(world.reception).post(f"/patients/{world.patient.pk}/deactivate/", {"reason": "moved away"})
    assert response.status_code == 302
    world.patient.refresh_from_db()
    appointment.refresh_from_db()
    assert world.patient.is_active is False
    assert appointment.status == "cancelled"
    assert appointment.room_reservation.released_at is not None
    # a deactivated patient is gone from the default list
    assert login(world.reception).get("/patients/").context["object_list"].count() == 0
    assert login(world.reception).get("/patients/", {"inactive": "1"}).context["object_list"].count() == 1


def test_api_register_and_search_patient(world, login, on_commit):
    client = login(world.reception)
    payload = {
        "first_name": "Ida",
        "last_name": "Kurz",
        "date_of_birth": "2001-07-30",
        "sex": "f",
        "email": "ida@example.org",
        "allergies": ["Penicillin"],
        "contacts": [{"name": "Otto Kurz", "relationship": "father", "phone": "+4917012345"}],
        "insurance": {"payer_id": "AOK01", "policy_number": "K-1"},
    }
    with on_commit(execute=True):
        response = client.post("/api/v1/patients/", json.dumps(payload), content_type="application/json")
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["allergies"] == ["Penicillin"]
    assert data["contacts"][0]["name"] == "Otto Kurz"
    patient = Patient.objects.get(mrn=data["mrn"])
    assert EmergencyContact.objects.filter(patient=patient).count() == 1
    assert patient.policies.get().provider == world.insurer

    listing = client.get("/api/v1/patients/", {"q": "kurz"}).json()["data"]
    assert [p["mrn"] for p in listing["results"]] == [patient.mrn]

    detail = client.get(f"/api/v1/patients/{patient.mrn}/").json()["data"]
    assert detail["summary"]["open_balance"] == "0.00"


def test_api_register_validation_and_auth_failures(world, login):
    client = login(world.reception)
    bad = client.post("/api/v1/patients/", json.dumps({"first_name": "X"}), content_type="application/json")
    assert bad.status_code == 422
    assert "last_name" in bad.json()["details"]["fields"]

    not_json = client.post("/api/v1/patients/", "{oops", content_type="application/json")
    assert not_json.status_code == 400

    unknown_insurer = client.post(
        "/api/v1/patients/",
        json.dumps({"first_name": "Y", "last_name": "Z", "date_of_birth": "2000-01-01", "sex": "u",
                    "insurance": {"payer_id": "NOPE", "policy_number": "1"}}),
        content_type="application/json",
    )
    assert unknown_insurer.status_code == 400
    assert unknown_insurer.json()["error"] == "patient_error"
    assert not Patient.objects.filter(last_name="Z").exists()

    assert Client().get("/api/v1/patients/").status_code == 401


def test_api_kiosk_token_authentication(world):
    from django.conf import settings

    clinic = dict(settings.CLINIC, API_TOKENS=["kiosk-secret"])
    with override_settings(CLINIC=clinic):
        ok = Client().get("/api/v1/patients/", HTTP_X_CLINIC_TOKEN="kiosk-secret")
        wrong = Client().get("/api/v1/patients/", HTTP_X_CLINIC_TOKEN="guess")
    assert ok.status_code == 200
    assert ok.json()["data"]["results"][0]["mrn"] == world.patient.mrn
    assert ok["X-Request-ID"]
    assert wrong.status_code == 401


def test_healthcheck():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
