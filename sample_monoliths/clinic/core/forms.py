"""Forms of the front-office screens."""

import datetime as dt

from django import forms
from django.forms import inlineformset_factory
from django.utils import timezone

from core.models import (
    Allergen,
    AppointmentType,
    Drug,
    InsuranceProvider,
    LabOrder,
    LabResult,
    LabTestType,
    Patient,
    Payment,
    Prescription,
    PrescriptionItem,
    Room,
    StaffMember,
)
from core.utils import normalize_phone


class PatientForm(forms.ModelForm):
    """Registration and master-data form for a patient."""

    allergies = forms.ModelMultipleChoiceField(
        queryset=Allergen.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Patient
        fields = [
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "email",
            "phone",
            "street",
            "postcode",
            "city",
            "national_id",
            "primary_physician",
            "allergies",
            "notes",
        ]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born > timezone.localdate():
            raise forms.ValidationError("Date of birth lies in the future.")
        if born.year < 1900:
            raise forms.ValidationError("Please check the year of birth.")
        return born

    def clean_phone(self):
        phone = self.cleaned_data.get("phone")
        try:
            return normalize_phone(phone)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_national_id(self):
        return self.cleaned_data.get("national_id") or None

    def patient_data(self):
        """Cleaned values without the many-to-many field (for services.register_patient)."""
        data = dict(self.cleaned_data)
        data.pop("allergies", None)
        return data


class InsuranceForm(forms.Form):
    """Optional insurance section of the registration screen."""

    provider = forms.ModelChoiceField(queryset=InsuranceProvider.objects.all(), required=False)
    policy_number = forms.CharField(max_length=40, required=False)
    valid_from = forms.DateField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("provider") and not cleaned.get("policy_number"):
            self.add_error("policy_number", "Policy number is required with an insurer.")
        return cleaned

    def policy_data(self):
        if not self.cleaned_data.get("provider"):
            return None
        return {
            "provider": self.cleaned_data["provider"],
            "policy_number": self.cleaned_data["policy_number"],
            "valid_from": self.cleaned_data.get("valid_from") or timezone.localdate(),
        }


class AppointmentBookingForm(forms.Form):
    """Front-desk booking form; availability is checked by the service on save."""

    patient = forms.ModelChoiceField(queryset=Patient.objects.active())
    clinician = forms.ModelChoiceField(
        queryset=StaffMember.objects.filter(is_active=True, role__in=[StaffMember.DOCTOR, StaffMember.NURSE])
    )
    appointment_type = forms.ModelChoiceField(queryset=AppointmentType.objects.all())
    starts_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_active=True), required=False)
    reason = forms.CharField(widget=forms.Textarea, required=False)

    def clean_starts_at(self):
        starts_at = self.cleaned_data["starts_at"]
        if starts_at <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        if starts_at.minute % 5:
            raise forms.ValidationError("Appointments start on a five-minute mark.")
        return starts_at


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)


class PrescriptionForm(forms.ModelForm):
    class Meta:
        model = Prescription
        fields = ["notes"]


class PrescriptionItemForm(forms.ModelForm):
    drug = forms.ModelChoiceField(queryset=Drug.objects.all())

    class Meta:
        model = PrescriptionItem
        fields = ["drug", "dosage", "quantity"]


PrescriptionItemFormSet = inlineformset_factory(
    Prescription,
    PrescriptionItem,
    form=PrescriptionItemForm,
    extra=2,
    can_delete=False,
    min_num=1,
    validate_min=True,
)


class RestockForm(forms.Form):
    """A delivery arriving at the pharmacy."""

    drug = forms.ModelChoiceField(queryset=Drug.objects.all())
    batch_number = forms.CharField(max_length=40)
    quantity = forms.IntegerField(min_value=1)
    expiry_date = forms.DateField()
    reference = forms.CharField(max_length=60, required=False)

    def clean_expiry_date(self):
        expiry = self.cleaned_data["expiry_date"]
        if expiry <= timezone.localdate() + dt.timedelta(days=30):
            raise forms.ValidationError("We do not accept batches expiring within 30 days.")
        return expiry


class LabOrderForm(forms.ModelForm):
    tests = forms.ModelMultipleChoiceField(
        queryset=LabTestType.objects.all(), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = LabOrder
        fields = ["tests", "priority", "notes"]


class LabResultForm(forms.ModelForm):
    test_type = forms.ModelChoiceField(queryset=LabTestType.objects.all())

    class Meta:
        model = LabResult
        fields = ["test_type", "value", "text_value"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("value") is None and not cleaned.get("text_value"):
            raise forms.ValidationError("Enter a value or a text result.")
        return cleaned


class PaymentForm(forms.ModelForm):
    class Meta:
        model = Payment
        fields = ["amount", "method", "reference"]

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError("Amount must be positive.")
        return amount


class ClaimDecisionForm(forms.Form):
    approved_amount = forms.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    reason = forms.CharField(max_length=200, required=False)


class ReportPeriodForm(forms.Form):
    """Date range of the management reports (defaults: this month)."""

    start = forms.DateField(required=False)
    end = forms.DateField(required=False)

    def period(self):
        today = timezone.localdate()
        cleaned = getattr(self, "cleaned_data", {})
        start = cleaned.get("start") or today.replace(day=1)
        end = cleaned.get("end") or today
        if end < start:
            start, end = end, start
        return start, end
