"""Fill an empty database with a small, consistent demo clinic."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core import inventory, services
from core.models import (
    Allergen,
    AppointmentType,
    Department,
    Drug,
    InsuranceProvider,
    LabTestType,
    Room,
    Shift,
    Specialty,
    StaffMember,
    Supplier,
)

STAFF = [
    # username, first, last, role, department, fee
    ("dr.weber", "Anna", "Weber", StaffMember.DOCTOR, "GEN", "45.00"),
    ("dr.yilmaz", "Emre", "Yilmaz", StaffMember.DOCTOR, "CARD", "80.00"),
    ("n.schulz", "Lena", "Schulz", StaffMember.NURSE, "GEN", "0"),
    ("p.novak", "Jan", "Novak", StaffMember.PHARMACIST, "PHAR", "0"),
    ("l.meyer", "Tom", "Meyer", StaffMember.LAB_TECH, "LAB", "0"),
    ("r.klein", "Sara", "Klein", StaffMember.RECEPTION, "GEN", "0"),
    ("b.fischer", "Olaf", "Fischer", StaffMember.BILLING, "ADM", "0"),
]


class Command(BaseCommand):
    help = "Create demo departments, staff, rooms, drugs, lab tests and two patients."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="seed even if staff exist")

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if StaffMember.objects.exists() and not force:
            raise CommandError("database already has staff; use --force to seed anyway")
        departments = {}
        for code, name in [("GEN", "General practice"), ("CARD", "Cardiology"), ("PHAR", "Pharmacy"),
                           ("LAB", "Laboratory"), ("ADM", "Administration")]:
            departments[code], _ = Department.objects.get_or_create(code=code, defaults={"name": name})
        Department.objects.filter(code="CARD").update(parent=departments["GEN"])
        cardio, _ = Specialty.objects.get_or_create(code="CARD", defaults={"name": "Cardiology"})

        User = get_user_model()
        for username, first, last, role, dept, fee in STAFF:
            user, _ = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@lindenhof.example"}
            )
            staff, _ = StaffMember.objects.get_or_create(
                user=user,
                defaults={"role": role, "department": departments[dept], "consultation_fee": Decimal(fee),
                          "license_number": f"LIC-{username.upper()}"},
            )
            if dept == "CARD":
                staff.specialties.add(cardio)
            for weekday in range(5):
                Shift.objects.get_or_create(staff=staff, weekday=weekday, starts=dt.time(8), ends=dt.time(17))

        for number, kind, dept, rate in [("101", Room.CONSULTATION, "GEN", "0"), ("102", Room.CONSULTATION, "GEN", "0"),
                                         ("201", Room.PROCEDURE, "CARD", "60.00"), ("B01", Room.LAB, "LAB", "0")]:
            Room.objects.get_or_create(number=number, defaults={"kind": kind, "department": departments[dept],
                                                                "hourly_rate": Decimal(rate)})
        AppointmentType.objects.get_or_create(code="CONS", defaults={"name": "Consultation", "duration_minutes": 20, "base_fee": Decimal("30")})
        AppointmentType.objects.get_or_create(code="ECG", defaults={"name": "Stress ECG", "duration_minutes": 45,
                                                                    "base_fee": Decimal("90"), "room_kind": Room.PROCEDURE})

        penicillin, _ = Allergen.objects.get_or_create(name="Penicillin")
        supplier, _ = Supplier.objects.get_or_create(name="Pharma Nord GmbH", defaults={"email": "orders@pharmanord.example"})
        amox, _ = Drug.objects.get_or_create(code="AMOX500", defaults={"name": "Amoxicillin", "strength": "500 mg",
                                                                      "unit_price": Decimal("0.45"), "supplier": supplier})
        amox.contraindications.add(penicillin)
        ibu, _ = Drug.objects.get_or_create(code="IBU400", defaults={"name": "Ibuprofen", "strength": "400 mg",
                                                                    "unit_price": Decimal("0.12"), "supplier": supplier})
        expiry = timezone.localdate() + dt.timedelta(days=365)
        for drug in (amox, ibu):
            if not drug.stock_items.exists():
                inventory.restock(drug, 200, f"{drug.code}-SEED", expiry, reference="seed")

        LabTestType.objects.get_or_create(code="HB", defaults={"name": "Haemoglobin", "unit": "g/dl", "price": Decimal("6.50"),
                                                               "reference_low": Decimal("12"), "reference_high": Decimal("17.5")})
        LabTestType.objects.get_or_create(code="K", defaults={"name": "Potassium", "unit": "mmol/l", "price": Decimal("4.20"),
                                                              "reference_low": Decimal("3.5"), "reference_high": Decimal("5.1"),
                                                              "critical_high": Decimal("6.5")})
        insurer, _ = InsuranceProvider.objects.get_or_create(payer_id="AOK01", defaults={"name": "AOK Demo", "claims_email": "claims@aok.example"})

        if not services.find_duplicate_patient("Maria", "Lopez", dt.date(1985, 4, 12)):
            services.register_patient(
                {"first_name": "Maria", "last_name": "Lopez", "date_of_birth": dt.date(1985, 4, 12),
                 "email": "maria.lopez@example.org", "phone": "0151 2345678"},
                allergies=[penicillin],
                policy={"provider": insurer, "policy_number": "A-100200", "valid_from": dt.date(2020, 1, 1)},
            )
        if not services.find_duplicate_patient("Karl", "Brandt", dt.date(1950, 11, 3)):
            services.register_patient({"first_name": "Karl", "last_name": "Brandt", "date_of_birth": dt.date(1950, 11, 3)})
        self.stdout.write(self.style.SUCCESS("demo data ready"))
