"""Management reports: ORM aggregations and the raw SQL department report."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from core import billing, reports, services
from core.models import Appointment, LabOrder
from core.utils import day_bounds


def _visit_today(world, clinician, appointment_type, hour_offset=0):
    """A completed visit that took place today (booked ahead, then moved into today)."""
    appointment = services.book_appointment(
        world.patient, clinician, appointment_type, world.monday_10 + dt.timedelta(hours=hour_offset)
    )
    # early today, whatever the time of the test run
    start = day_bounds(timezone.localdate())[0] + dt.timedelta(minutes=1, hours=hour_offset)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=start, ends_at=start + dt.timedelta(minutes=appointment_type.duration_minutes)
    )
    appointment.refresh_from_db()
    return appointment


def test_department_activity_raw_sql_joins_every_area(world):
    visit = _visit_today(world, world.doctor, world.consultation)
    services.order_lab_tests(world.patient, world.doctor, [world.hb], appointment=visit)
    services.write_prescription(
        world.patient, world.doctor, [{"drug": world.ibuprofen, "dosage": "1", "quantity": 2}], appointment=visit
    )
    _visit_today(world, world.cardiologist, world.ecg, hour_offset=1)
    today = timezone.localdate()
    rows = {row["department"]: row for row in reports.department_activity(today, today)}
    assert set(rows) == {"GEN", "CARD"}
    assert rows["GEN"]["appointments"] == 1
    assert rows["GEN"]["lab_orders"] == 1
    assert rows["GEN"]["prescriptions"] == 1
    assert rows["GEN"]["billed"] == Decimal("81.50")  # 75 visit + 6.50 Hb ordered during the visit
    assert rows["CARD"]["rooms_used"] == 1
    assert rows["CARD"]["billed"] == Decimal("215.00")  # 170 + 45 room
    # other days are empty
    assert reports.department_activity(today - dt.timedelta(days=3), today - dt.timedelta(days=2)) == []


def test_reports_page_and_revenue_csv(world, login):
    visit = _visit_today(world, world.doctor, world.consultation)
    services.complete_appointment(visit)
    invoice = visit.invoices.get()
    billing.record_payment(invoice, "30.00", "card")
    order = services.order_lab_tests(world.patient, world.doctor, [world.potassium])
    services.collect_specimen(order)
    services.record_lab_result(order, world.potassium, value="4.4")

    client = login(world.clerk)
    response = client.get("/reports/")
    assert response.status_code == 200
    ctx = response.context
    assert ctx["revenue_by_kind"] == [{"kind": "consultation", "total": Decimal("75.00"), "lines": 1}]
    assert ctx["clinicians"][0]["completed"] == 1 and ctx["clinicians"][0]["booked_minutes"] == 20
    assert ctx["lab"][0]["priority"] == "routine" and ctx["lab"][0]["orders"] == 1
    assert ctx["receivables"]["current"] == Decimal("45.00")
    assert ctx["departments"][0]["department"] == "GEN"

    dated = client.get("/reports/", {"start": "2020-01-31", "end": "2020-01-01"})
    assert (dated.context["start"], dated.context["end"]) == (dt.date(2020, 1, 1), dt.date(2020, 1, 31))
    assert dated.context["departments"] == []

    csv_response = client.get("/reports/revenue.csv", {"year": timezone.localdate().year})
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"] == "text/csv"
    lines = csv_response.content.decode().splitlines()
    assert lines[0] == "month,billed,collected"
    month = timezone.localdate().month
    assert lines[month] == f"{month},75.00,30.00"
    assert client.get("/reports/revenue.csv", {"year": "soon"}).status_code == 400
    assert login(world.reception).get("/reports/").status_code == 403


def test_claims_summary_and_dashboard(world):
    visit = _visit_today(world, world.doctor, world.consultation)
    services.complete_appointment(visit)
    billing.submit_claim(billing.create_claim(visit.invoices.get()))
    assert reports.claims_summary() == [
        {"insurer": "AOK Demo", "status": "submitted", "claims": 1, "claimed": Decimal("60.00"), "approved": Decimal("0.00")}
    ]
    numbers = reports.dashboard()
    assert numbers["patients_active"] == 1
    assert numbers["appointments_today"] == 1
    assert numbers["claims_pending"] == 1
    assert numbers["receivables"] == Decimal("75.00")
    assert numbers["lab_orders_open"] == LabOrder.objects.count() == 0
