"""Django admin: the back office uses it for master data and corrections."""

from django.contrib import admin, messages
from django.db.models import Count

from core import billing, notifications, scheduling
from core.exceptions import ClinicError
from core.models import (
    Allergen,
    Appointment,
    AppointmentStaff,
    AppointmentType,
    Department,
    Drug,
    EmergencyContact,
    InsuranceClaim,
    InsurancePolicy,
    InsuranceProvider,
    Invoice,
    InvoiceLine,
    LabOrder,
    LabResult,
    LabTestType,
    MessageTemplate,
    Notification,
    OutstandingInvoice,
    Patient,
    Payment,
    Prescription,
    PrescriptionItem,
    Room,
    RoomReservation,
    Shift,
    Specialty,
    StaffMember,
    StockItem,
    StockMovement,
    Supplier,
)


class EmergencyContactInline(admin.TabularInline):
    model = EmergencyContact
    extra = 0


class InsurancePolicyInline(admin.TabularInline):
    model = InsurancePolicy
    extra = 0


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("mrn", "last_name", "first_name", "date_of_birth", "is_active")
    list_filter = ("is_active", "sex")
    search_fields = ("mrn", "last_name", "first_name", "email", "national_id")
    filter_horizontal = ("allergies",)
    inlines = [EmergencyContactInline, InsurancePolicyInline]


class ShiftInline(admin.TabularInline):
    model = Shift
    extra = 0


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ("__str__", "role", "department", "is_active")
    list_filter = ("role", "department", "is_active")
    inlines = [ShiftInline]


class AppointmentStaffInline(admin.TabularInline):
    model = AppointmentStaff
    extra = 0


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ("starts_at", "patient", "clinician", "room", "status")
    list_filter = ("status", "appointment_type", "clinician")
    date_hierarchy = "starts_at"
    raw_id_fields = ("patient", "follow_up_of")
    inlines = [AppointmentStaffInline]
    actions = ["release_rooms"]

    @admin.action(description="Release the rooms of the selected appointments")
    def release_rooms(self, request, queryset):
        released = sum(scheduling.release_room(appointment) for appointment in queryset)
        self.message_user(request, f"{released} room reservation(s) released.")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "kind", "department", "hourly_rate", "is_active")
    list_filter = ("kind", "department")


@admin.register(RoomReservation)
class RoomReservationAdmin(admin.ModelAdmin):
    list_display = ("room", "starts_at", "ends_at", "appointment", "released_at")


class StockItemInline(admin.TabularInline):
    model = StockItem
    extra = 0


@admin.register(Drug)
class DrugAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "strength", "unit_price", "reorder_level", "supplier")
    search_fields = ("code", "name")
    filter_horizontal = ("contraindications",)
    inlines = [StockItemInline]


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    list_display = ("drug", "batch_number", "expiry_date", "quantity", "location")
    list_filter = ("drug",)


class PrescriptionItemInline(admin.TabularInline):
    model = PrescriptionItem
    extra = 0


@admin.register(Prescription)
class PrescriptionAdmin(admin.ModelAdmin):
    list_display = ("pk", "patient", "prescriber", "status", "dispensed_at")
    list_filter = ("status",)
    inlines = [PrescriptionItemInline]


class LabResultInline(admin.TabularInline):
    model = LabResult
    extra = 0


@admin.register(LabOrder)
class LabOrderAdmin(admin.ModelAdmin):
    list_display = ("pk", "patient", "ordered_by", "priority", "status", "created_at")
    list_filter = ("status", "priority")
    inlines = [LabResultInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(test_count=Count("tests"))


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    raw_id_fields = ("appointment", "lab_order", "prescription_item")


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("number", "patient", "status", "issued_at", "due_date")
    list_filter = ("status",)
    search_fields = ("number", "patient__mrn", "patient__last_name")
    inlines = [InvoiceLineInline, PaymentInline]
    actions = ["issue_selected"]

    @admin.action(description="Issue the selected draft invoices")
    def issue_selected(self, request, queryset):
        issued = 0
        for invoice in queryset.filter(status=Invoice.DRAFT):
            try:
                billing.issue_invoice(invoice)
                issued += 1
            except ClinicError as exc:
                self.message_user(request, f"{invoice}: {exc.message}", level=messages.WARNING)
        self.message_user(request, f"{issued} invoice(s) issued.")


@admin.register(OutstandingInvoice)
class OutstandingInvoiceAdmin(admin.ModelAdmin):
    """Collections view: open invoices only."""

    list_display = ("number", "patient", "status", "due_date", "days_overdue")
    ordering = ("due_date",)

    @admin.display(description="Days overdue")
    def days_overdue(self, obj):
        return obj.days_overdue()


@admin.register(InsuranceClaim)
class InsuranceClaimAdmin(admin.ModelAdmin):
    list_display = ("claim_number", "invoice", "status", "amount_claimed", "amount_approved")
    list_filter = ("status", "policy__provider")
    actions = ["submit_selected"]

    @admin.action(description="Submit the selected draft claims")
    def submit_selected(self, request, queryset):
        submitted = 0
        for claim in queryset.filter(status=InsuranceClaim.DRAFT):
            try:
                billing.submit_claim(claim)
                submitted += 1
            except ClinicError as exc:
                self.message_user(request, f"{claim}: {exc.message}", level=messages.WARNING)
        self.message_user(request, f"{submitted} claim(s) submitted.")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("template_key", "channel", "status", "attempts", "created_at")
    list_filter = ("status", "channel", "template_key")
    actions = ["resend"]

    @admin.action(description="Send the selected notifications again")
    def resend(self, request, queryset):
        sent = sum(
            notifications.deliver(n.pk).status == Notification.SENT
            for n in queryset.exclude(status=Notification.SENT)
        )
        self.message_user(request, f"{sent} notification(s) sent.")


admin.site.register(Allergen)
admin.site.register(Department)
admin.site.register(Specialty)
admin.site.register(AppointmentType)
admin.site.register(Supplier)
admin.site.register(StockMovement)
admin.site.register(LabTestType)
admin.site.register(InsuranceProvider)
admin.site.register(MessageTemplate)

admin.site.site_header = "Lindenhof Clinic back office"
