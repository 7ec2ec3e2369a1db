"""
Front-office pages (server-rendered HTML).

A mix of function-based views (the older screens) and class-based views
(everything written after the 2020 Django upgrade).
"""

import csv

from django.contrib import messages
from django.db.models import F, Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, FormView, ListView, TemplateView, UpdateView

from core import billing, inventory, reports, scheduling, services
from core.decorators import StaffRequiredMixin, staff_required
from core.exceptions import ClinicError
from core.forms import (
    AppointmentBookingForm,
    CancelForm,
    ClaimDecisionForm,
    InsuranceForm,
    LabOrderForm,
    LabResultForm,
    PatientForm,
    PaymentForm,
    PrescriptionForm,
    PrescriptionItemFormSet,
    ReportPeriodForm,
    RestockForm,
)
from core.models import (
    Appointment,
    Drug,
    InsuranceClaim,
    Invoice,
    LabOrder,
    Notification,
    Patient,
    Prescription,
    StaffMember,
)
from core.utils import paginate, parse_date

DOCTORS_AND_NURSES = (StaffMember.DOCTOR, StaffMember.NURSE)
FRONT_DESK = (StaffMember.RECEPTION, StaffMember.DOCTOR, StaffMember.NURSE)


@staff_required()
def home(request):
    """Start page: today's numbers and the user's schedule."""
    today = timezone.localdate()
    context = {
        "numbers": reports.dashboard(today),
        "schedule": scheduling.day_schedule(today, clinician=request.staff)
        if request.staff.is_clinician
        else [],
    }
    return render(request, "core/home.html", context)


# ---------------------------------------------------------------------------
# Patients
# ---------------------------------------------------------------------------


class PatientListView(StaffRequiredMixin, ListView):
    model = Patient
    paginate_by = 25
    template_name = "core/patient_list.html"

    def get_queryset(self):
        queryset = Patient.objects.search(self.request.GET.get("q"))
        if self.request.GET.get("inactive") != "1":
            queryset = queryset.active()
        return queryset.select_related("primary_physician__user")


class PatientDetailView(StaffRequiredMixin, DetailView):
    model = Patient
    template_name = "core/patient_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        patient = self.object
        context["summary"] = services.patient_summary(patient)
        context["invoices"] = patient.invoices.exclude(status=Invoice.VOID)[:10]
        context["appointments"] = patient.appointments.select_related("clinician__user")[:10]
        return context


class PatientCreateView(StaffRequiredMixin, CreateView):
    """Registration; the insurance section is a second, optional form."""

    model = Patient
    form_class = PatientForm
    template_name = "core/patient_form.html"
    allowed_roles = FRONT_DESK

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("insurance_form", InsuranceForm(prefix="ins"))
        return context

    def post(self, request, *args, **kwargs):
        self.object = None
        form = self.get_form()
        insurance_form = InsuranceForm(request.POST, prefix="ins")
        if not (form.is_valid() and insurance_form.is_valid()):
            return self.render_to_response(
                self.get_context_data(form=form, insurance_form=insurance_form)
            )
        try:
            self.object = services.register_patient(
                form.patient_data(),
                allergies=form.cleaned_data.get("allergies") or (),
                policy=insurance_form.policy_data(),
                registered_by=request.staff,
            )
        except ClinicError as exc:
            form.add_error(None, exc.message)
            return self.render_to_response(
                self.get_context_data(form=form, insurance_form=insurance_form)
            )
        messages.success(request, f"Registered {self.object.full_name} as {self.object.mrn}.")
        return redirect("core:patient-detail", pk=self.object.pk)


class PatientUpdateView(StaffRequiredMixin, UpdateView):
    model = Patient
    form_class = PatientForm
    template_name = "core/patient_form.html"
    allowed_roles = FRONT_DESK

    def get_success_url(self):
        return reverse("core:patient-detail", kwargs={"pk": self.object.pk})


@require_POST
@staff_required(StaffMember.RECEPTION, StaffMember.DOCTOR)
def deactivate_patient_view(request, pk):
    patient = get_object_or_404(Patient, pk=pk, is_active=True)
    services.deactivate_patient(patient, reason=request.POST.get("reason", ""), by=request.staff)
    messages.info(request, f"{patient.full_name} was deactivated.")
    return redirect("core:patient-list")


# ---------------------------------------------------------------------------
# Appointments
# ---------------------------------------------------------------------------


@staff_required(*FRONT_DESK)
def book_appointment_view(request):
    """Front-desk booking screen."""
    initial = {}
    if "patient" in request.GET:
        initial["patient"] = request.GET["patient"]
    form = AppointmentBookingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.book_appointment(
                data["patient"],
                data["clinician"],
                data["appointment_type"],
                data["starts_at"],
                room=data.get("room"),
                reason=data.get("reason", ""),
                booked_by=request.staff,
            )
        except ClinicError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Appointment booked.")
            return redirect("core:appointment-detail", pk=appointment.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "core/form.html", {"form": form, "title": "Book appointment"}, status=status)


class AppointmentDetailView(StaffRequiredMixin, DetailView):
    model = Appointment
    template_name = "core/appointment_detail.html"

    def get_queryset(self):
        return Appointment.objects.select_related(
            "patient", "clinician__user", "room", "appointment_type"
        ).prefetch_related("invoices", "prescriptions", "lab_orders")


@require_POST
@staff_required(*FRONT_DESK)
def cancel_appointment_view(request, pk):
    appointment = get_object_or_404(Appointment, pk=pk)
    form = CancelForm(request.POST)
    form.is_valid()
    try:
        services.cancel_appointment(
            appointment, reason=form.cleaned_data.get("reason", ""), cancelled_by=request.staff
        )
    except ClinicError as exc:
        messages.error(request, exc.message)
        return redirect("core:appointment-detail", pk=pk)
    messages.success(request, "Appointment cancelled.")
    return redirect("core:appointment-detail", pk=pk)


@require_POST
@staff_required(*FRONT_DESK)
def check_in_view(request, pk):
    appointment = get_object_or_404(Appointment, pk=pk)
    try:
        services.check_in(appointment)
    except ClinicError as exc:
        messages.error(request, exc.message)
    return redirect("core:appointment-detail", pk=pk)


@require_POST
@staff_required(*DOCTORS_AND_NURSES)
def complete_appointment_view(request, pk):
    appointment = get_object_or_404(Appointment, pk=pk)
    try:
        services.complete_appointment(appointment, clinical_notes=request.POST.get("notes", ""))
    except ClinicError as exc:
        messages.error(request, exc.message)
    return redirect("core:appointment-detail", pk=pk)


@require_POST
@staff_required(*FRONT_DESK)
def no_show_view(request, pk):
    appointment = get_object_or_404(Appointment, pk=pk)
    try:
        services.mark_no_show(appointment)
    except ClinicError as exc:
        messages.error(request, exc.message)
    return redirect("core:appointment-detail", pk=pk)


class DayScheduleView(StaffRequiredMixin, TemplateView):
    """Everybody's (or one clinician's) appointments of a day, and room usage."""

    template_name = "core/schedule.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        day = parse_date(self.request.GET.get("day"), default=timezone.localdate())
        clinician = None
        if self.request.GET.get("clinician"):
            clinician = get_object_or_404(StaffMember, pk=self.request.GET["clinician"])
        context.update(
            day=day,
            clinician=clinician,
            appointments=scheduling.day_schedule(day, clinician=clinician),
            occupancy=scheduling.room_occupancy(day),
        )
        return context


# ---------------------------------------------------------------------------
# Pharmacy
# ---------------------------------------------------------------------------


@staff_required(StaffMember.DOCTOR)
def prescription_create_view(request, patient_pk):
    """Write a prescription with one line per drug (inline formset)."""
    patient = get_object_or_404(Patient, pk=patient_pk, is_active=True)
    form = PrescriptionForm(request.POST or None)
    formset = PrescriptionItemFormSet(request.POST or None, prefix="items")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        items = [
            {"drug": f.cleaned_data["drug"], "dosage": f.cleaned_data["dosage"], "quantity": f.cleaned_data["quantity"]}
            for f in formset.forms
            if f.cleaned_data
        ]
        appointment = None
        if request.POST.get("appointment"):
            appointment = get_object_or_404(Appointment, pk=request.POST["appointment"], patient=patient)
        try:
            prescription = services.write_prescription(
                patient, request.staff, items, appointment=appointment, notes=form.cleaned_data["notes"]
            )
        except ClinicError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Prescription {prescription.pk} written.")
            return redirect("core:patient-detail", pk=patient.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "core/prescription_form.html",
        {"form": form, "formset": formset, "patient": patient},
        status=status,
    )


@require_POST
@staff_required(StaffMember.PHARMACIST)
def dispense_view(request, pk):
    prescription = get_object_or_404(Prescription, pk=pk)
    try:
        services.dispense_prescription(prescription, request.staff)
    except ClinicError as exc:
        messages.error(request, exc.message)
        return redirect("core:stock-list")
    messages.success(request, f"Prescription {pk} dispensed.")
    return redirect("core:patient-detail", pk=prescription.patient_id)


class StockListView(StaffRequiredMixin, ListView):
    """Drugs with their unexpired stock; ``?low=1`` shows only those to reorder."""

    template_name = "core/stock_list.html"
    context_object_name = "drugs"
    allowed_roles = (StaffMember.PHARMACIST,)

    def get_queryset(self):
        if self.request.GET.get("low") == "1":
            return inventory.low_stock()
        today = timezone.localdate()
        return Drug.objects.annotate(
            on_hand=Sum("stock_items__quantity", filter=Q(stock_items__expiry_date__gt=today), default=0)
        ).order_by("name")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["waiting"] = Prescription.objects.filter(status=Prescription.ISSUED).select_related("patient")
        context["stock_value"] = inventory.stock_value()
        return context


@staff_required(StaffMember.PHARMACIST)
def restock_view(request):
    form = RestockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inventory.restock(
                data["drug"],
                data["quantity"],
                data["batch_number"],
                data["expiry_date"],
                performed_by=request.staff,
                reference=data["reference"],
            )
        except ClinicError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"{data['quantity']} x {data['drug']} booked in.")
            return redirect("core:stock-list")
    status = 400 if request.method == "POST" else 200
    return render(request, "core/form.html", {"form": form, "title": "Restock"}, status=status)


# ---------------------------------------------------------------------------
# Laboratory
# ---------------------------------------------------------------------------


@staff_required(*DOCTORS_AND_NURSES)
def lab_order_create_view(request, patient_pk):
    patient = get_object_or_404(Patient, pk=patient_pk, is_active=True)
    form = LabOrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_lab_tests(
                patient,
                request.staff,
                form.cleaned_data["tests"],
                priority=form.cleaned_data["priority"],
                notes=form.cleaned_data["notes"],
            )
        except ClinicError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("core:lab-order-detail", pk=order.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "core/form.html", {"form": form, "title": f"Lab order for {patient}"}, status=status)


class LabOrderDetailView(StaffRequiredMixin, DetailView):
    model = LabOrder
    template_name = "core/lab_order_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["results"] = self.object.results.select_related("test_type")
        context["result_form"] = LabResultForm()
        return context


@require_POST
@staff_required(StaffMember.LAB_TECH, StaffMember.NURSE)
def collect_specimen_view(request, pk):
    order = get_object_or_404(LabOrder, pk=pk)
    try:
        services.collect_specimen(order, collected_by=request.staff)
    except ClinicError as exc:
        messages.error(request, exc.message)
    return redirect("core:lab-order-detail", pk=pk)


@require_POST
@staff_required(StaffMember.LAB_TECH)
def record_result_view(request, pk):
    order = get_object_or_404(LabOrder, pk=pk)
    form = LabResultForm(request.POST)
    if form.is_valid():
        try:
            services.record_lab_result(
                order,
                form.cleaned_data["test_type"],
                value=form.cleaned_data.get("value"),
                text_value=form.cleaned_data.get("text_value", ""),
                recorded_by=request.staff,
            )
        except ClinicError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("core:lab-order-detail", pk=pk)
    return render(
        request,
        "core/lab_order_detail.html",
        {"object": order, "results": order.results.all(), "result_form": form},
        status=400,
    )


# ---------------------------------------------------------------------------
# Billing
# ---------------------------------------------------------------------------


class InvoiceDetailView(StaffRequiredMixin, DetailView):
    model = Invoice
    template_name = "core/invoice_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["lines"] = self.object.lines.all()
        context["payments"] = self.object.payments.all()
        context["claims"] = self.object.claims.select_related("policy__provider")
        context["payment_form"] = PaymentForm()
        return context


@require_POST
@staff_required(StaffMember.BILLING, StaffMember.RECEPTION)
def issue_invoice_view(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        billing.issue_invoice(invoice, issued_by=request.staff)
    except ClinicError as exc:
        messages.error(request, exc.message)
    return redirect("core:invoice-detail", pk=pk)


@require_POST
@staff_required(StaffMember.BILLING, StaffMember.RECEPTION)
def record_payment_view(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            billing.record_payment(invoice, **form.cleaned_data)
        except ClinicError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Payment recorded.")
    else:
        messages.error(request, "Invalid payment.")
    return redirect("core:invoice-detail", pk=pk)


@require_POST
@staff_required(StaffMember.BILLING)
def create_claim_view(request, pk):
    """Create the insurance claim for an invoice and send it right away."""
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        claim = billing.create_claim(invoice)
        billing.submit_claim(claim)
    except ClinicError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Claim {claim.claim_number} submitted.")
    return redirect("core:invoice-detail", pk=pk)


@method_decorator(staff_required(StaffMember.BILLING), name="dispatch")
class ClaimDecisionView(FormView):
    """Enter the insurer's letter: approved amount or rejection."""

    form_class = ClaimDecisionForm
    template_name = "core/form.html"

    def dispatch(self, request, *args, **kwargs):
        self.claim = get_object_or_404(InsuranceClaim, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = f"Decision on claim {self.claim.claim_number}"
        return context

    def form_valid(self, form):
        try:
            billing.decide_claim(self.claim, form.cleaned_data["approved_amount"], form.cleaned_data["reason"])
        except ClinicError as exc:
            form.add_error(None, exc.message)
            return self.render_to_response(self.get_context_data(form=form), status=409)
        return redirect("core:invoice-detail", pk=self.claim.invoice_id)


# ---------------------------------------------------------------------------
# Notifications and reports
# ---------------------------------------------------------------------------


class NotificationListView(StaffRequiredMixin, ListView):
    """Outgoing messages; failed ones first so somebody looks at them."""

    template_name = "core/notification_list.html"
    context_object_name = "notifications"
    paginate_by = 50

    def get_queryset(self):
        queryset = Notification.objects.select_related("patient", "staff__user")
        status = self.request.GET.get("status")
        if status:
            queryset = queryset.filter(status=status)
        if self.request.GET.get("mine") == "1":
            queryset = queryset.filter(staff=self.request.staff)
        return queryset.order_by(F("status").asc(), "-created_at")


@staff_required(StaffMember.BILLING, StaffMember.DOCTOR)
def reports_view(request):
    """The management pack on one page."""
    form = ReportPeriodForm(request.GET)  # always bound: both fields are optional
    form.is_valid()
    start, end = form.period()
    context = {
        "form": form,
        "start": start,
        "end": end,
        "revenue_by_kind": reports.revenue_by_kind(start, end),
        "departments": reports.department_activity(start, end),
        "clinicians": reports.clinician_utilisation(start, end),
        "lab": reports.lab_turnaround(start, end),
        "claims": reports.claims_summary(),
        "receivables": reports.outstanding_receivables(),
        "reorder": inventory.reorder_suggestions(),
    }
    return render(request, "core/reports.html", context)


@staff_required(StaffMember.BILLING)
def revenue_csv_view(request):
    """Monthly revenue of a year as CSV for the accountants."""
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        return HttpResponse("year must be a number", status=400, content_type="text/plain")
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="revenue-{year}.csv"'
    writer = csv.writer(response)
    writer.writerow(["month", "billed", "collected"])
    for row in reports.revenue_by_month(year):
        writer.writerow([row["month"], row["billed"], row["collected"]])
    return response


@staff_required()
def patient_invoices_view(request, patient_pk):
    """All invoices of a patient, paginated, with the open balance."""
    patient = get_object_or_404(Patient, pk=patient_pk)
    page = paginate(patient.invoices.all(), request.GET.get("page"), per_page=20)
    return render(
        request,
        "core/invoice_list.html",
        {"patient": patient, "page": page, "balance": billing.patient_balance(patient)},
    )
