"""
Hand-written JSON serialisation for the API.

(We never adopted Django REST framework; the mobile app team wanted stable,
flat payloads and these functions are what they got.)
"""

from django.utils import timezone

from core.utils import money


def _iso(value):
    if value is None:
        return None
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def staff_to_dict(staff):
    return {
        "id": staff.pk,
        "name": staff.display_name,
        "role": staff.role,
        "department": staff.department.code if staff.department_id else None,
    }


def patient_to_dict(patient, with_contacts=False):
    data = {
        "id": patient.pk,
        "mrn": patient.mrn,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": _iso(patient.date_of_birth),
        "age": patient.age,
        "email": patient.email,
        "phone": patient.phone,
        "is_active": patient.is_active,
        "primary_physician": patient.primary_physician_id,
    }
    if with_contacts:
        data["contacts"] = [
            {"name": c.name, "relationship": c.relationship, "phone": c.phone}
            for c in patient.contacts.all()
        ]
        data["allergies"] = [a.name for a in patient.allergies.all()]
    return data


def appointment_to_dict(appointment):
    return {
        "id": appointment.pk,
        "patient": appointment.patient.mrn,
        "clinician": staff_to_dict(appointment.clinician),
        "type": appointment.appointment_type.code,
        "room": appointment.room.number if appointment.room_id else None,
        "starts_at": _iso(appointment.starts_at),
        "ends_at": _iso(appointment.ends_at),
        "status": appointment.status,
        "assisting": [
            {"staff": link.staff_id, "role": link.role}
            for link in appointment.appointmentstaff_set.all()
        ],
    }


def prescription_to_dict(prescription):
    return {
        "id": prescription.pk,
        "patient": prescription.patient.mrn,
        "prescriber": prescription.prescriber_id,
        "status": prescription.status,
        "dispensed_at": _iso(prescription.dispensed_at),
        "items": [
            {
                "drug": item.drug.code,
                "name": str(item.drug),
                "dosage": item.dosage,
                "quantity": item.quantity,
                "dispensed": item.dispensed_quantity,
            }
            for item in prescription.items.select_related("drug")
        ],
    }


def stock_to_dict(drug):
    return {
        "drug": drug.code,
        "name": drug.name,
        "on_hand": getattr(drug, "on_hand", None),
        "reorder_level": drug.reorder_level,
        "supplier": drug.supplier.name if drug.supplier_id else None,
    }


def lab_result_to_dict(result):
    return {
        "test": result.test_type.code,
        "value": str(result.value) if result.value is not None else None,
        "text": result.text_value,
        "unit": result.test_type.unit,
        "flag": result.flag,
        "recorded_at": _iso(result.recorded_at),
    }


def lab_order_to_dict(order):
    return {
        "id": order.pk,
        "patient": order.patient.mrn,
        "status": order.status,
        "priority": order.priority,
        "tests": [t.code for t in order.tests.all()],
        "results": [lab_result_to_dict(r) for r in order.results.select_related("test_type")],
    }


def invoice_to_dict(invoice):
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "patient": invoice.patient.mrn,
        "status": invoice.status,
        "currency": invoice.currency,
        "issued_at": _iso(invoice.issued_at),
        "due_date": _iso(invoice.due_date),
        "total": str(invoice.total),
        "paid": str(invoice.amount_paid),
        "balance": str(invoice.balance),
        "lines": [
            {"kind": line.kind, "description": line.description, "amount": str(money(line.amount))}
            for line in invoice.lines.all()
        ],
    }


def claim_to_dict(claim):
    return {
        "id": claim.pk,
        "claim_number": claim.claim_number,
        "invoice": claim.invoice.number,
        "insurer": claim.policy.provider.name,
        "status": claim.status,
        "claimed": str(claim.amount_claimed),
        "approved": str(claim.amount_approved) if claim.amount_approved is not None else None,
    }


def notification_to_dict(notification):
    return {
        "id": notification.pk,
        "template": notification.template_key,
        "channel": notification.channel,
        "subject": notification.subject,
        "status": notification.status,
        "sent_at": _iso(notification.sent_at),
    }
