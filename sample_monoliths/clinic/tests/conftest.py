"""
Test setup for the clinic sample (plain Django test machinery, no pytest-django).

Django is configured when this conftest is imported: the sample root goes on
``sys.path`` and ``DJANGO_SETTINGS_MODULE`` points at ``clinic.settings``. The
test database (in-memory SQLite, built by running the real migrations) lives
for the whole session; every test runs inside a transaction that is rolled
back afterwards, like ``django.test.TestCase`` does.
"""

import datetime as dt
import os
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

SAMPLE_ROOT = Path(__file__).resolve().parents[1]
if str(SAMPLE_ROOT) not in sys.path:
    sys.path.insert(0, str(SAMPLE_ROOT))

# Keep a developer's CLINIC_* settings out of the tests.
for _name in [name for name in os.environ if name.startswith("CLINIC_")]:
    del os.environ[_name]
os.environ["DJANGO_SETTINGS_MODULE"] = "clinic.settings"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client, TestCase  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)
from django.utils import timezone  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def django_test_database():
    """Create the test database once (migrations included) and drop it at the end."""
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    yield
    teardown_databases(old_config, verbosity=0)
    teardown_test_environment()


@pytest.fixture(autouse=True)
def db(django_test_database):
    """Run each test in a transaction that is rolled back afterwards."""
    atomic = transaction.atomic()
    atomic.__enter__()
    mail.outbox = []
    try:
        yield
    finally:
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def on_commit():
    """``with on_commit(execute=True): ...`` runs the on_commit callbacks (deliveries)."""
    return TestCase.captureOnCommitCallbacks


def next_weekday(weekday=0, hour=10, minute=0, min_days=2):
    """An aware local datetime on the next ``weekday`` at least ``min_days`` ahead."""
    day = timezone.localdate() + dt.timedelta(days=min_days)
    while day.weekday() != weekday:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def make_staff(username, role, department, fee="0", license_number="", weekdays=range(5), email=True):
    """A user with a StaffMember profile working 08:00-17:00 on ``weekdays``."""
    from core.models import Shift, StaffMember

    user = get_user_model().objects.create_user(
        username=username,
        first_name=username.split(".")[-1].title(),
        last_name=username.split(".")[0].title(),
        email=f"{username}@lindenhof.example" if email else "",
    )
    staff = StaffMember.objects.create(
        user=user,
        role=role,
        department=department,
        consultation_fee=Decimal(fee),
        license_number=license_number,
    )
    for weekday in weekdays:
        Shift.objects.create(staff=staff, weekday=weekday, starts=dt.time(8), ends=dt.time(17))
    return staff


@pytest.fixture
def world():
    """A small clinic: departments, staff, rooms, drugs with stock, lab tests, an insurer, a patient."""
    from core import services
    from core.models import (
        Allergen,
        AppointmentType,
        Department,
        Drug,
        InsuranceProvider,
        LabTestType,
        Room,
        StaffMember,
        StockItem,
        Supplier,
    )

    gen = Department.objects.create(code="GEN", name="General practice")
    card = Department.objects.create(code="CARD", name="Cardiology", parent=gen)
    pharmacy = Department.objects.create(code="PHAR", name="Pharmacy")
    lab = Department.objects.create(code="LAB", name="Laboratory")

    w = SimpleNamespace(gen=gen, card=card)
    w.doctor = make_staff("dr.weber", StaffMember.DOCTOR, gen, fee="45.00")
    w.cardiologist = make_staff("dr.yilmaz", StaffMember.DOCTOR, card, fee="80.00")
    w.nurse = make_staff("n.schulz", StaffMember.NURSE, gen)
    w.pharmacist = make_staff("p.novak", StaffMember.PHARMACIST, pharmacy, license_number="PH-1")
    w.lab_tech = make_staff("l.meyer", StaffMember.LAB_TECH, lab)
    w.reception = make_staff("r.klein", StaffMember.RECEPTION, gen)
    w.clerk = make_staff("b.fischer", StaffMember.BILLING, None)

    w.room1 = Room.objects.create(number="101", kind=Room.CONSULTATION, department=gen)
    w.room2 = Room.objects.create(number="102", kind=Room.CONSULTATION, department=gen)
    w.procedure_room = Room.objects.create(
        number="201", kind=Room.PROCEDURE, department=card, hourly_rate=Decimal("60.00")
    )
    w.consultation = AppointmentType.objects.create(
        code="CONS", name="Consultation", duration_minutes=20, base_fee=Decimal("30.00")
    )
    w.ecg = AppointmentType.objects.create(
        code="ECG", name="Stress ECG", duration_minutes=45, base_fee=Decimal("90.00"), room_kind=Room.PROCEDURE
    )

    w.penicillin = Allergen.objects.create(name="Penicillin")
    w.latex = Allergen.objects.create(name="Latex", category=Allergen.ENVIRONMENT)
    supplier = Supplier.objects.create(name="Pharma Nord GmbH")
    w.amoxicillin = Drug.objects.create(
        code="AMOX500", name="Amoxicillin", strength="500 mg", unit_price=Decimal("0.45"), supplier=supplier
    )
    w.amoxicillin.contraindications.add(w.penicillin)
    w.ibuprofen = Drug.objects.create(
        code="IBU400", name="Ibuprofen", strength="400 mg", unit_price=Decimal("0.12"),
        supplier=supplier, reorder_level=20,
    )
    w.morphine = Drug.objects.create(
        code="MORPH10", name="Morphine", strength="10 mg", unit_price=Decimal("1.10"), controlled=True
    )
    today = timezone.localdate()
    w.ibu_old = StockItem.objects.create(
        drug=w.ibuprofen, batch_number="IBU-A", expiry_date=today + dt.timedelta(days=60), quantity=30
    )
    w.ibu_new = StockItem.objects.create(
        drug=w.ibuprofen, batch_number="IBU-B", expiry_date=today + dt.timedelta(days=400), quantity=100
    )
    w.ibu_expired = StockItem.objects.create(
        drug=w.ibuprofen, batch_number="IBU-X", expiry_date=today - dt.timedelta(days=1), quantity=50
    )
    StockItem.objects.create(
        drug=w.amoxicillin, batch_number="AMX-1", expiry_date=today + dt.timedelta(days=200), quantity=80
    )
    StockItem.objects.create(
        drug=w.morphine, batch_number="MOR-1", expiry_date=today + dt.timedelta(days=200), quantity=40
    )

    w.hb = LabTestType.objects.create(
        code="HB", name="Haemoglobin", unit="g/dl", price=Decimal("6.50"),
        reference_low=Decimal("12"), reference_high=Decimal("17.5"),
    )
    w.potassium = LabTestType.objects.create(
        code="K", name="Potassium", unit="mmol/l", price=Decimal("4.20"),
        reference_low=Decimal("3.5"), reference_high=Decimal("5.1"), critical_high=Decimal("6.5"),
    )
    w.insurer = InsuranceProvider.objects.create(
        name="AOK Demo", payer_id="AOK01", claims_email="claims@aok.example",
        default_coverage_percent=Decimal("80"),
    )
    w.patient = services.register_patient(
        {
            "first_name": "Maria",
            "last_name": "Lopez",
            "date_of_birth": dt.date(1985, 4, 12),
            "email": "maria.lopez@example.org",
            "phone": "0151 2345678",
        },
        allergies=[w.penicillin],
        policy={"provider": w.insurer, "policy_number": "A-100200", "valid_from": dt.date(2020, 1, 1)},
    )
    w.monday_10 = next_weekday(0, 10)
    return w


@pytest.fixture
def login():
    """``login(staff)`` -> a test client logged in as that staff member."""

    def _login(staff):
        client = Client()
        client.force_login(staff.user)
        return client

    return _login
