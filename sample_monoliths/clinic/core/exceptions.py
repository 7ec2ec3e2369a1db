"""
Domain exceptions.

Views translate these into form errors (HTML) or 4xx responses (API), so every
exception carries a short machine-readable ``code`` next to its message.
"""


class ClinicError(Exception):
    """Base class of every business-rule violation in the clinic."""

    code = "clinic_error"
    status = 400

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self):
        """Serialisable form used by the JSON API."""
        payload = {"error": self.code, "message": self.message}
        if self.details:
            payload["details"] = self.details
        return payload


class PatientError(ClinicError):
    """A patient record cannot be created or changed as asked."""

    code = "patient_error"


class SchedulingConflict(ClinicError):
    """The clinician, the room or the patient is not free at that time."""

    code = "scheduling_conflict"
    status = 409


class AppointmentStateError(ClinicError):
    """The appointment is not in a state that allows the transition."""

    code = "appointment_state"
    status = 409


class PrescriptionError(ClinicError):
    """A prescription cannot be written or dispensed (allergies, state...)."""

    code = "prescription_error"
    status = 409


class OutOfStock(PrescriptionError):
    """Not enough unexpired stock of a drug to dispense."""

    code = "out_of_stock"


class LabError(ClinicError):
    """A lab order or result is not valid."""

    code = "lab_error"


class BillingError(ClinicError):
    """Invoices and payments: wrong state, over-payment and the like."""

    code = "billing_error"
    status = 409


class ClaimError(BillingError):
    """An insurance claim cannot be created, submitted or decided."""

    code = "claim_error"


class NotificationError(ClinicError):
    """A message could not be rendered or delivered."""

    code = "notification_error"
    status = 502
