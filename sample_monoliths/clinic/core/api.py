"""
JSON API for the check-in kiosk and the patient app (``/api/v1/``).

Authentication: staff session or a kiosk token (see ``decorators.api_view``).
CSRF is off for these endpoints; the kiosk sends a token header instead.
"""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import billing, inventory, scheduling, serializers, services
from core.decorators import api_view
from core.exceptions import PatientError
from core.forms import PatientForm
from core.models import (
    Allergen,
    Appointment,
    AppointmentType,
    InsuranceProvider,
    Invoice,
    LabOrder,
    LabTestType,
    Patient,
    Prescription,
    StaffMember,
)
from core.utils import json_error, json_ok, paginate, parse_date, parse_datetime


@csrf_exempt
@require_http_methods(["GET", "POST"])
@api_view()
def patients(request):
    """``GET`` search patients (``?q=``), ``POST`` register one."""
    if request.method == "GET":
        page = paginate(Patient.objects.active().search(request.GET.get("q")), request.GET.get("page"))
        return json_ok(
            {
                "results": [serializers.patient_to_dict(p) for p in page.object_list],
                "page": page.number,
                "pages": page.paginator.num_pages,
            }
        )
    payload = request.json
    # The form's "allergies" field takes ids; the app sends names (see below).
    form = PatientForm(data={key: value for key, value in payload.items() if key != "allergies"})
    if not form.is_valid():
        return json_error("invalid patient data", status=422, code="invalid", fields=form.errors.get_json_data())
    allergies = Allergen.objects.filter(name__in=payload.get("allergies", []))
    policy = None
    if payload.get("insurance"):
        policy = _policy_from_payload(payload["insurance"])
    patient = services.register_patient(
        form.patient_data(),
        allergies=allergies,
        contacts=payload.get("contacts", []),
        policy=policy,
        registered_by=request.staff,
    )
    return json_ok(serializers.patient_to_dict(patient, with_contacts=True), status=201)


def _policy_from_payload(data):
    try:
        provider = InsuranceProvider.objects.get(payer_id=data["payer_id"])
        return {
            "provider": provider,
            "policy_number": data["policy_number"],
            "valid_from": parse_date(data.get("valid_from"), default=timezone.localdate()),
        }
    except (KeyError, InsuranceProvider.DoesNotExist) as exc:
        raise PatientError("insurance needs a known payer_id and a policy_number") from exc


@require_GET
@api_view()
def patient_detail(request, mrn):
    patient = get_object_or_404(Patient, mrn=mrn)
    data = serializers.patient_to_dict(patient, with_contacts=True)
    data["summary"] = services.patient_summary(patient)
    return json_ok(data)


@require_GET
@api_view()
def available_slots(request):
    """Free start times of a clinician on a day for an appointment type."""
    clinician = get_object_or_404(StaffMember, pk=request.GET.get("clinician"))
    appointment_type = get_object_or_404(AppointmentType, code=request.GET.get("type"))
    day = parse_date(request.GET.get("day"))
    if day is None:
        return json_error("day=YYYY-MM-DD is required")
    slots = scheduling.available_slots(clinician, day, appointment_type)
    return json_ok([timezone.localtime(slot).isoformat() for slot in slots])


@csrf_exempt
@require_POST
@api_view()
def book(request):
    """Book an appointment from the kiosk or the app."""
    data = request.json
    try:
        patient = Patient.objects.get(mrn=data["patient"])
        clinician = StaffMember.objects.get(pk=data["clinician"])
        appointment_type = AppointmentType.objects.get(code=data["type"])
        starts_at = parse_datetime(data["starts_at"])
    except (KeyError, ValueError, Patient.DoesNotExist, StaffMember.DoesNotExist, AppointmentType.DoesNotExist):
        return json_error("patient, clinician, type and starts_at are required and must exist", status=422)
    appointment = services.book_appointment(
        patient,
        clinician,
        appointment_type,
        starts_at,
        reason=data.get("reason", ""),
        booked_by=request.staff,
    )
    return json_ok(serializers.appointment_to_dict(appointment), status=201)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(api_view(), name="dispatch")
class AppointmentResource(View):
    """``GET`` an appointment, ``PATCH`` to move it, ``DELETE`` to cancel it."""

    http_method_names = ["get", "patch", "delete"]

    def get_object(self, pk):
        return get_object_or_404(
            Appointment.objects.select_related("patient", "clinician__user", "room", "appointment_type"), pk=pk
        )

    def get(self, request, pk):
        return json_ok(serializers.appointment_to_dict(self.get_object(pk)))

    def patch(self, request, pk):
        appointment = self.get_object(pk)
        try:
            new_start = parse_datetime(request.json["starts_at"])
        except (KeyError, ValueError):
            return json_error("starts_at (ISO 8601) is required", status=422)
        services.reschedule_appointment(appointment, new_start, changed_by=request.staff)
        return json_ok(serializers.appointment_to_dict(appointment))

    def delete(self, request, pk):
        appointment = self.get_object(pk)
        services.cancel_appointment(
            appointment, reason=request.GET.get("reason", "cancelled via app"), cancelled_by=request.staff
        )
        return json_ok(serializers.appointment_to_dict(appointment))


@csrf_exempt
@require_POST
@api_view(StaffMember.PHARMACIST)
def dispense(request, pk):
    prescription = get_object_or_404(Prescription, pk=pk)
    services.dispense_prescription(prescription, request.staff)
    return json_ok(serializers.prescription_to_dict(prescription))


@require_GET
@api_view(StaffMember.PHARMACIST, StaffMember.DOCTOR)
def low_stock(request):
    return json_ok(
        {
            "low": [serializers.stock_to_dict(drug) for drug in inventory.low_stock()],
            "reorder": inventory.reorder_suggestions(),
        }
    )


@csrf_exempt
@require_POST
@api_view(StaffMember.LAB_TECH)
def lab_results(request, pk):
    """Analyser interface: post one or more results of an order."""
    order = get_object_or_404(LabOrder, pk=pk)
    results = request.json.get("results") or []
    if not results:
        return json_error("results: a non-empty list is required", status=422)
    if order.status == LabOrder.ORDERED:
        services.collect_specimen(order)
    for entry in results:
        test_type = LabTestType.objects.filter(code=entry.get("test")).first()
        if test_type is None:
            return json_error(f"unknown test {entry.get('test')!r}", status=422)
        services.record_lab_result(
            order,
            test_type,
            value=entry.get("value"),
            text_value=entry.get("text", ""),
            recorded_by=request.staff,
        )
    order.refresh_from_db()
    return json_ok(serializers.lab_order_to_dict(order), status=201)


@require_GET
@api_view()
def invoice_detail(request, number):
    invoice = get_object_or_404(Invoice, number=number)
    return json_ok(serializers.invoice_to_dict(invoice))


@csrf_exempt
@require_POST
@api_view(StaffMember.BILLING)
def claims(request):
    """Create and submit a claim for an invoice: ``{"invoice": "INV-..."}``."""
    invoice = get_object_or_404(Invoice, number=request.json.get("invoice"))
    claim = billing.create_claim(invoice)
    billing.submit_claim(claim)
    return json_ok(serializers.claim_to_dict(claim), status=201)


@require_GET
@api_view()
def patient_notifications(request, mrn):
    patient = get_object_or_404(Patient, mrn=mrn)
    items = patient.notifications.order_by("-created_at")[:50]
    return json_ok([serializers.notification_to_dict(n) for n in items])
