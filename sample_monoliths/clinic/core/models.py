"""
Data model of the clinic.

Everything lives in this one module for historical reasons (the original
prototype was a single Django app and nobody found the time to split it).
The sections below roughly follow the order in which the features were added:
patients and staff (2016), scheduling (2016), pharmacy (2018), lab (2019),
billing and insurance (2019-2021), notifications (2022).
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.utils import timezone

from core.utils import age_on, money


class TimeStampedModel(models.Model):
    """Abstract base that adds creation and modification timestamps."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# ---------------------------------------------------------------------------
# Patients
# ---------------------------------------------------------------------------


class Allergen(TimeStampedModel):
    """Something a patient can be allergic to (a drug substance, food, ...)."""

    DRUG = "drug"
    FOOD = "food"
    ENVIRONMENT = "environment"
    CATEGORY_CHOICES = [(DRUG, "Drug"), (FOOD, "Food"), (ENVIRONMENT, "Environment")]

    name = models.CharField(max_length=120, unique=True)
    category = models.CharField(max_length=20, choices=CATEGORY_CHOICES, default=DRUG)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PatientQuerySet(models.QuerySet):
    """Queries the front desk runs all day."""

    def active(self):
        return self.filter(is_active=True)

    def search(self, term):
        term = (term or "").strip()
        if not term:
            return self
        return self.filter(
            Q(last_name__icontains=term)
            | Q(first_name__icontains=term)
            | Q(mrn__iexact=term)
            | Q(email__iexact=term)
        )


class Patient(TimeStampedModel):
    """A person treated at the clinic."""

    SEX_CHOICES = [("f", "Female"), ("m", "Male"), ("x", "Diverse"), ("u", "Unknown")]

    mrn = models.CharField("medical record number", max_length=20, unique=True)
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=SEX_CHOICES, default="u")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    street = models.CharField(max_length=200, blank=True)
    postcode = models.CharField(max_length=12, blank=True)
    city = models.CharField(max_length=80, blank=True)
    national_id = models.CharField(max_length=32, blank=True, null=True, unique=True)
    allergies = models.ManyToManyField(Allergen, blank=True, related_name="patients")
    primary_physician = models.ForeignKey(
        "core.StaffMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="primary_patients",
    )
    is_active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self):
        return f"{self.full_name} ({self.mrn})"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def age(self):
        return age_on(self.date_of_birth)

    def is_allergic_to(self, drug):
        """True when one of the drug's contraindicated allergens is on file."""
        return self.allergies.filter(contraindicated_drugs=drug).exists()


class EmergencyContact(TimeStampedModel):
    """Who to call when something happens to the patient."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=160)
    relationship = models.CharField(max_length=60, blank=True)
    phone = models.CharField(max_length=32)

    def __str__(self):
        return f"{self.name} for {self.patient_id}"


# ---------------------------------------------------------------------------
# Staff, departments, rooms
# ---------------------------------------------------------------------------


class Department(TimeStampedModel):
    """A department; sub-departments point at their parent."""

    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    floor = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name


class Specialty(models.Model):
    """A medical specialty (cardiology, paediatrics, ...)."""

    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        verbose_name_plural = "specialties"

    def __str__(self):
        return self.name


class StaffMember(TimeStampedModel):
    """An employee who logs in: clinicians, nurses, pharmacists, clerks."""

    DOCTOR = "doctor"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    LAB_TECH = "lab_tech"
    RECEPTION = "reception"
    BILLING = "billing"
    ROLE_CHOICES = [
        (DOCTOR, "Doctor"),
        (NURSE, "Nurse"),
        (PHARMACIST, "Pharmacist"),
        (LAB_TECH, "Lab technician"),
        (RECEPTION, "Receptionist"),
        (BILLING, "Billing clerk"),
    ]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff"
    )
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)
    specialties = models.ManyToManyField(Specialty, blank=True, related_name="staff")
    license_number = models.CharField(max_length=40, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    consultation_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user__last_name"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        full = self.user.get_full_name()
        return full or self.user.get_username()

    @property
    def is_clinician(self):
        return self.role in {self.DOCTOR, self.NURSE}


class Shift(models.Model):
    """Recurring weekly working hours of a staff member (local time)."""

    WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["staff", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="shift_ends_after_start")
        ]

    def __str__(self):
        return f"{self.staff} {self.get_weekday_display()} {self.starts}-{self.ends}"

    def covers(self, start, end):
        """True when the local datetimes ``start``..``end`` fall inside this shift."""
        return (
            start.weekday() == self.weekday
            and start.date() == end.date()
            and self.starts <= start.time()
            and end.time() <= self.ends
        )


class Room(TimeStampedModel):
    """A bookable room."""

    CONSULTATION = "consultation"
    PROCEDURE = "procedure"
    IMAGING = "imaging"
    LAB = "lab"
    KIND_CHOICES = [
        (CONSULTATION, "Consultation"),
        (PROCEDURE, "Procedure"),
        (IMAGING, "Imaging"),
        (LAB, "Laboratory"),
    ]

    number = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=80, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="rooms"
    )
    kind = models.CharField(max_length=20, choices=KIND_CHOICES, default=CONSULTATION)
    hourly_rate = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"Room {self.number}"


# ---------------------------------------------------------------------------
# Appointments
# ---------------------------------------------------------------------------


class AppointmentType(models.Model):
    """What kind of visit; decides duration, fee and the room needed."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    duration_minutes = models.PositiveIntegerField(default=15)
    base_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    room_kind = models.CharField(
        max_length=20, choices=Room.KIND_CHOICES, default=Room.CONSULTATION
    )

    def __str__(self):
        return self.name


class AppointmentQuerySet(models.QuerySet):
    """Appointment queries shared by views, reports and reminders."""

    ACTIVE_STATUSES = ("booked", "checked_in")

    def active(self):
        return self.filter(status__in=self.ACTIVE_STATUSES)

    def overlapping(self, starts_at, ends_at):
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)

    def on_day(self, day):
        return self.filter(starts_at__date=day)

    def upcoming(self):
        return self.active().filter(starts_at__gte=timezone.now())


class Appointment(TimeStampedModel):
    """A patient's visit with a clinician, usually in a room."""

    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    STATUS_CHOICES = [
        (BOOKED, "Booked"),
        (CHECKED_IN, "Checked in"),
        (COMPLETED, "Completed"),
        (CANCELLED, "Cancelled"),
        (NO_SHOW, "No show"),
    ]

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="appointments"
    )
    room = models.ForeignKey(
        "core.Room",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
    )
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=BOOKED)
    reason = models.TextField(blank=True)
    clinical_notes = models.TextField(blank=True)
    cancellation_reason = models.CharField(max_length=200, blank=True)
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    assisting_staff = models.ManyToManyField(
        StaffMember,
        through="AppointmentStaff",
        related_name="assisted_appointments",
        blank=True,
    )
    booked_by = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="booked_appointments",
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.patient.full_name} with {self.clinician} at {self.starts_at:%Y-%m-%d %H:%M}"

    @classmethod
    def from_db(cls, db, field_names, values):
        # Remember the status as loaded, so the post_save receivers can tell
        # which transition just happened.
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    @property
    def previous_status(self):
        return getattr(self, "_loaded_status", None)

    @property
    def duration(self):
        return self.ends_at - self.starts_at

    @property
    def is_open(self):
        return self.status in (self.BOOKED, self.CHECKED_IN)


class AppointmentStaff(models.Model):
    """Extra staff taking part in an appointment (the through model)."""

    ROLE_CHOICES = [("assistant", "Assistant"), ("interpreter", "Interpreter"), ("trainee", "Trainee")]

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE)
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, choices=ROLE_CHOICES, default="assistant")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("appointment", "staff")]


class RoomReservation(TimeStampedModel):
    """A room held for a time span, usually for one appointment."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="reservations")
    appointment = models.OneToOneField(
        Appointment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="room_reservation",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    purpose = models.CharField(max_length=120, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self):
        return f"{self.room} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self):
        return self.released_at is None


# ---------------------------------------------------------------------------
# Pharmacy
# ---------------------------------------------------------------------------


class Supplier(TimeStampedModel):
    """A wholesaler the pharmacy orders from."""

    name = models.CharField(max_length=120, unique=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(default=3)

    def __str__(self):
        return self.name


class Drug(TimeStampedModel):
    """A drug in the formulary."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    form = models.CharField(max_length=40, blank=True)
    strength = models.CharField(max_length=40, blank=True)
    unit_price = models.DecimalField(max_digits=8, decimal_places=2)
    controlled = models.BooleanField(default=False)
    reorder_level = models.PositiveIntegerField(default=20)
    reorder_quantity = models.PositiveIntegerField(default=100)
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="drugs"
    )
    contraindications = models.ManyToManyField(
        Allergen, blank=True, related_name="contraindicated_drugs"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} {self.strength}".strip()

    def quantity_on_hand(self, on=None):
        """Units in unexpired batches."""
        on = on or timezone.localdate()
        total = self.stock_items.filter(expiry_date__gt=on).aggregate(total=Sum("quantity"))
        return total["total"] or 0


class StockItem(TimeStampedModel):
    """One batch of a drug on the pharmacy shelf."""

    drug = models.ForeignKey(Drug, on_delete=models.PROTECT, related_name="stock_items")
    batch_number = models.CharField(max_length=40)
    expiry_date = models.DateField()
    quantity = models.IntegerField(default=0)
    location = models.CharField(max_length=40, blank=True)

    class Meta:
        db_table = "pharmacy_stock"
        ordering = ["expiry_date"]
        unique_together = [("drug", "batch_number")]

    def __str__(self):
        return f"{self.drug} batch {self.batch_number}"

    @property
    def is_expired(self):
        return self.expiry_date <= timezone.localdate()


class StockMovement(models.Model):
    """Audit trail of every change to a stock batch."""

    RESTOCK = "restock"
    DISPENSE = "dispense"
    ADJUST = "adjust"
    EXPIRE = "expire"
    REASON_CHOICES = [
        (RESTOCK, "Restock"),
        (DISPENSE, "Dispense"),
        (ADJUST, "Adjustment"),
        (EXPIRE, "Expired"),
    ]

    stock_item = models.ForeignKey(StockItem, on_delete=models.CASCADE, related_name="movements")
    change = models.IntegerField()
    reason = models.CharField(max_length=20, choices=REASON_CHOICES)
    reference = models.CharField(max_length=60, blank=True)
    performed_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]


class Prescription(TimeStampedModel):
    """A prescription written by a clinician, filled by the pharmacy."""

    ISSUED = "issued"
    DISPENSED = "dispensed"
    CANCELLED = "cancelled"
    STATUS_CHOICES = [(ISSUED, "Issued"), (DISPENSED, "Dispensed"), (CANCELLED, "Cancelled")]

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="prescriptions")
    prescriber = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="prescriptions_written"
    )
    appointment = models.ForeignKey(
        Appointment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prescriptions",
    )
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=ISSUED)
    notes = models.TextField(blank=True)
    dispensed_at = models.DateTimeField(null=True, blank=True)
    dispensed_by = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prescriptions_dispensed",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Rx {self.pk} for {self.patient.full_name}"


class PrescriptionItem(models.Model):
    """One drug line on a prescription."""

    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="items")
    drug = models.ForeignKey(Drug, on_delete=models.PROTECT, related_name="prescription_items")
    dosage = models.CharField(max_length=120)
    quantity = models.PositiveIntegerField()
    dispensed_quantity = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.quantity} x {self.drug}"

    @property
    def outstanding(self):
        return self.quantity - self.dispensed_quantity


# ---------------------------------------------------------------------------
# Laboratory
# ---------------------------------------------------------------------------


class LabTestType(models.Model):
    """A test the lab offers, with its price and reference range."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    specimen = models.CharField(max_length=40, default="blood")
    unit = models.CharField(max_length=20, blank=True)
    reference_low = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    critical_high = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    turnaround_hours = models.PositiveIntegerField(default=24)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class LabOrder(TimeStampedModel):
    """Tests ordered for a patient, processed by the lab."""

    ORDERED = "ordered"
    COLLECTED = "collected"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STATUS_CHOICES = [
        (ORDERED, "Ordered"),
        (COLLECTED, "Specimen collected"),
        (COMPLETED, "Completed"),
        (CANCELLED, "Cancelled"),
    ]
    PRIORITY_CHOICES = [("routine", "Routine"), ("urgent", "Urgent"), ("stat", "STAT")]

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="lab_orders")
    ordered_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="lab_orders"
    )
    appointment = models.ForeignKey(
        Appointment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lab_orders",
    )
    tests = models.ManyToManyField(LabTestType, related_name="orders")
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=ORDERED)
    priority = models.CharField(max_length=10, choices=PRIORITY_CHOICES, default="routine")
    collected_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Lab order {self.pk} ({self.patient.mrn})"

    def missing_results(self):
        """Test types ordered that have no result yet."""
        return self.tests.exclude(results__order=self)


class LabResult(TimeStampedModel):
    """The measured value of one test of one order."""

    NORMAL = "normal"
    LOW = "low"
    HIGH = "high"
    CRITICAL = "critical"
    FLAG_CHOICES = [(NORMAL, "Normal"), (LOW, "Low"), (HIGH, "High"), (CRITICAL, "Critical")]

    order = models.ForeignKey(LabOrder, on_delete=models.CASCADE, related_name="results")
    test_type = models.ForeignKey(LabTestType, on_delete=models.PROTECT, related_name="results")
    value = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    text_value = models.CharField(max_length=200, blank=True)
    flag = models.CharField(max_length=10, choices=FLAG_CHOICES, default=NORMAL)
    recorded_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        unique_together = [("order", "test_type")]

    def __str__(self):
        return f"{self.test_type.code}={self.value if self.value is not None else self.text_value}"


# ---------------------------------------------------------------------------
# Billing and insurance
# ---------------------------------------------------------------------------


class InsuranceProvider(TimeStampedModel):
    """A health insurer we send claims to."""

    name = models.CharField(max_length=120)
    payer_id = models.CharField(max_length=20, unique=True)
    claims_email = models.EmailField(blank=True)
    default_coverage_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("80")
    )

    def __str__(self):
        return self.name


class InsurancePolicy(TimeStampedModel):
    """A patient's insurance contract."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="policies")
    provider = models.ForeignKey(
        InsuranceProvider, on_delete=models.PROTECT, related_name="policies"
    )
    policy_number = models.CharField(max_length=40)
    coverage_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    is_primary = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "insurance policies"
        unique_together = [("provider", "policy_number")]

    def __str__(self):
        return f"{self.provider} {self.policy_number}"

    def is_valid_on(self, day):
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    @property
    def effective_coverage(self):
        if self.coverage_percent is not None:
            return self.coverage_percent
        return self.provider.default_coverage_percent


class Invoice(TimeStampedModel):
    """A bill to a patient; lines come from visits, lab work and the pharmacy."""

    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    VOID = "void"
    STATUS_CHOICES = [
        (DRAFT, "Draft"),
        (ISSUED, "Issued"),
        (PARTIALLY_PAID, "Partially paid"),
        (PAID, "Paid"),
        (OVERDUE, "Overdue"),
        (VOID, "Void"),
    ]
    OPEN_STATUSES = (ISSUED, PARTIALLY_PAID, OVERDUE)

    number = models.CharField(max_length=30, unique=True, null=True, blank=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="invoices")
    appointment = models.ForeignKey(
        Appointment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=DRAFT)
    currency = models.CharField(max_length=3, default="EUR")
    issued_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.number or f"Draft invoice {self.pk}"

    @property
    def total(self):
        total = self.lines.aggregate(total=Sum(F("quantity") * F("unit_price")))["total"]
        return money(total)

    @property
    def amount_paid(self):
        return money(self.payments.aggregate(total=Sum("amount"))["total"])

    @property
    def balance(self):
        return self.total - self.amount_paid

    def is_overdue(self, today=None):
        today = today or timezone.localdate()
        return self.status in self.OPEN_STATUSES and self.due_date is not None and self.due_date < today


class OutstandingInvoiceManager(models.Manager):
    """Only invoices a patient still has to pay."""

    def get_queryset(self):
        return super().get_queryset().filter(status__in=Invoice.OPEN_STATUSES)


class OutstandingInvoice(Invoice):
    """Proxy used by the collections screen in the admin."""

    objects = OutstandingInvoiceManager()

    class Meta:
        proxy = True
        verbose_name = "outstanding invoice"

    def days_overdue(self, today=None):
        today = today or timezone.localdate()
        if self.due_date is None or self.due_date >= today:
            return 0
        return (today - self.due_date).days


class InvoiceLine(models.Model):
    """One billed item. The optional references say where it came from."""

    CONSULTATION = "consultation"
    ROOM = "room"
    LAB = "lab"
    DRUG = "drug"
    FEE = "fee"
    KIND_CHOICES = [
        (CONSULTATION, "Consultation"),
        (ROOM, "Room"),
        (LAB, "Lab test"),
        (DRUG, "Drug"),
        (FEE, "Fee"),
    ]

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20, choices=KIND_CHOICES)
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lab_order = models.ForeignKey(
        LabOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoice_lines"
    )
    prescription_item = models.ForeignKey(
        PrescriptionItem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoice_lines",
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.description

    @property
    def amount(self):
        return money(self.quantity * self.unit_price)


class Payment(TimeStampedModel):
    """Money received against an invoice."""

    METHOD_CHOICES = [
        ("cash", "Cash"),
        ("card", "Card"),
        ("transfer", "Bank transfer"),
        ("insurance", "Insurance"),
    ]

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    method = models.CharField(max_length=20, choices=METHOD_CHOICES)
    reference = models.CharField(max_length=60, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.amount} on {self.invoice}"


class InsuranceClaim(TimeStampedModel):
    """A claim for the insured share of an invoice."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    REJECTED = "rejected"
    STATUS_CHOICES = [
        (DRAFT, "Draft"),
        (SUBMITTED, "Submitted"),
        (APPROVED, "Approved"),
        (PARTIALLY_APPROVED, "Partially approved"),
        (REJECTED, "Rejected"),
    ]
    DECIDED_STATUSES = (APPROVED, PARTIALLY_APPROVED, REJECTED)

    claim_number = models.CharField(max_length=30, unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="claims")
    policy = models.ForeignKey(InsurancePolicy, on_delete=models.PROTECT, related_name="claims")
    amount_claimed = models.DecimalField(max_digits=10, decimal_places=2)
    amount_approved = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.claim_number


# ---------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------


class MessageTemplate(models.Model):
    """An editable message text; overrides the built-in default of the same key."""

    key = models.CharField(max_length=60, unique=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="Django template syntax; see notifications.DEFAULTS.")

    def __str__(self):
        return self.key


class NotificationPreference(models.Model):
    """How a patient wants to be contacted."""

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_enabled = models.BooleanField(default=True)
    sms_enabled = models.BooleanField(default=False)
    reminder_hours_before = models.PositiveSmallIntegerField(default=24)
    language = models.CharField(max_length=8, default="en")

    def __str__(self):
        return f"Preferences of {self.patient_id}"


class Notification(TimeStampedModel):
    """A message to a patient or a staff member, and what became of it."""

    EMAIL = "email"
    SMS = "sms"
    INTERNAL = "internal"
    CHANNEL_CHOICES = [(EMAIL, "E-mail"), (SMS, "SMS"), (INTERNAL, "Internal inbox")]

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    STATUS_CHOICES = [
        (PENDING, "Pending"),
        (SENT, "Sent"),
        (FAILED, "Failed"),
        (SKIPPED, "Skipped"),
    ]

    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    staff = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=10, choices=CHANNEL_CHOICES, default=EMAIL)
    template_key = models.CharField(max_length=60)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(patient__isnull=False) | Q(staff__isnull=False),
                name="notification_has_recipient",
            )
        ]

    def __str__(self):
        return f"{self.template_key} -> {self.recipient_label}"

    @property
    def recipient_label(self):
        if self.patient_id:
            return self.patient.full_name
        return str(self.staff)


def default_due_date(issued_on=None, days=30):
    """Due date for an invoice issued on ``issued_on``."""
    issued_on = issued_on or timezone.localdate()
    return issued_on + dt.timedelta(days=days)
