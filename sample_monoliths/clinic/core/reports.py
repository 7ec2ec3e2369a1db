"""
Management reports.

These run directly against the database and cut across every area of the
clinic; the finance team's monthly pack is built from them. The department
activity report is raw SQL because the ORM version took 40 s on the old MySQL
box (2019); it has stayed raw since.
"""

import datetime as dt
from collections import OrderedDict

from django.db import connection
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core import inventory
from core.models import (
    Appointment,
    InsuranceClaim,
    Invoice,
    InvoiceLine,
    LabOrder,
    Notification,
    Patient,
    Payment,
    Prescription,
)
from core.utils import day_bounds, money


def _period_bounds(start, end):
    """Aware datetimes covering the whole local days ``start``..``end``."""
    return day_bounds(start)[0], day_bounds(end)[1]


def revenue_by_month(year):
    """Billed (issued) and collected amounts per month of ``year``."""
    billed = (
        InvoiceLine.objects.filter(invoice__issued_at__year=year)
        .exclude(invoice__status=Invoice.VOID)
        .annotate(month=TruncMonth("invoice__issued_at"))
        .values("month")
        .annotate(total=Sum(F("quantity") * F("unit_price")))
        .order_by("month")
    )
    collected = (
        Payment.objects.filter(received_at__year=year)
        .annotate(month=TruncMonth("received_at"))
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by("month")
    )
    rows = OrderedDict()
    for month in range(1, 13):
        rows[month] = {"month": month, "billed": money(0), "collected": money(0)}
    for row in billed:
        rows[row["month"].month]["billed"] = money(row["total"])
    for row in collected:
        rows[row["month"].month]["collected"] = money(row["total"])
    return list(rows.values())


def revenue_by_kind(start, end):
    """Billed amount per invoice line kind (consultation, lab, drug, ...)."""
    since, until = _period_bounds(start, end)
    rows = (
        InvoiceLine.objects.filter(invoice__issued_at__gte=since, invoice__issued_at__lt=until)
        .exclude(invoice__status=Invoice.VOID)
        .values("kind")
        .annotate(total=Sum(F("quantity") * F("unit_price")), lines=Count("id"))
        .order_by("kind")
    )
    return [{"kind": r["kind"], "total": money(r["total"]), "lines": r["lines"]} for r in rows]


DEPARTMENT_ACTIVITY_SQL = """
    SELECT d.code                                   AS department,
           d.name                                   AS department_name,
           COUNT(DISTINCT a.id)                     AS appointments,
           COUNT(DISTINCT a.patient_id)             AS patients,
           COUNT(DISTINCT r.id)                     AS rooms_used,
           COUNT(DISTINCT lo.id)                    AS lab_orders,
           COUNT(DISTINCT rx.id)                    AS prescriptions,
           COALESCE((
               -- billed per department in a subquery: joining the lines above
               -- would multiply them by lab orders x prescriptions (bug #412)
               SELECT SUM(il.quantity * il.unit_price)
                 FROM core_invoiceline il
                 JOIN core_invoice i      ON i.id = il.invoice_id AND i.status <> 'void'
                 JOIN core_appointment a2 ON a2.id = il.appointment_id
                 JOIN core_staffmember s2 ON s2.id = a2.clinician_id
                WHERE s2.department_id = d.id
                  AND a2.starts_at >= %(since)s AND a2.starts_at < %(until)s
                  AND a2.status <> 'cancelled'
           ), 0)                                    AS billed
      FROM core_department d
      JOIN core_staffmember s        ON s.department_id = d.id
      JOIN core_appointment a        ON a.clinician_id = s.id
      LEFT JOIN core_room r          ON r.id = a.room_id
      LEFT JOIN core_laborder lo     ON lo.appointment_id = a.id
      LEFT JOIN core_prescription rx ON rx.appointment_id = a.id
     WHERE a.starts_at >= %(since)s AND a.starts_at < %(until)s
       AND a.status <> 'cancelled'
     GROUP BY d.id, d.code, d.name
     ORDER BY billed DESC, d.code
"""


def department_activity(start, end):
    """
    Per department: appointments, patients, rooms, lab orders, prescriptions and
    billed revenue of those visits. One query over eight tables.
    """
    since, until = _period_bounds(start, end)
    # Raw SQL gets no field conversion: stored datetimes are UTC strings.
    params = {
        "since": connection.ops.adapt_datetimefield_value(since),
        "until": connection.ops.adapt_datetimefield_value(until),
    }
    with connection.cursor() as cursor:
        cursor.execute(DEPARTMENT_ACTIVITY_SQL, params)
        columns = [col[0] for col in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["billed"] = money(row["billed"])
    return rows


def clinician_utilisation(start, end):
    """Booked minutes and completed visits per clinician."""
    since, until = _period_bounds(start, end)
    duration = ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())
    rows = (
        Appointment.objects.filter(starts_at__gte=since, starts_at__lt=until)
        .exclude(status=Appointment.CANCELLED)
        .values("clinician__id", "clinician__user__first_name", "clinician__user__last_name")
        .annotate(
            visits=Count("id"),
            completed=Count("id", filter=Q(status=Appointment.COMPLETED)),
            no_shows=Count("id", filter=Q(status=Appointment.NO_SHOW)),
            booked=Sum(duration),
        )
        .order_by("clinician__user__last_name")
    )
    return [
        {
            "clinician": f"{r['clinician__user__first_name']} {r['clinician__user__last_name']}".strip(),
            "visits": r["visits"],
            "completed": r["completed"],
            "no_shows": r["no_shows"],
            "booked_minutes": int(r["booked"].total_seconds() // 60) if r["booked"] else 0,
        }
        for r in rows
    ]


def lab_turnaround(start, end):
    """Average hours from order to completion per priority, and late orders."""
    since, until = _period_bounds(start, end)
    completed = LabOrder.objects.filter(
        status=LabOrder.COMPLETED, created_at__gte=since, created_at__lt=until
    )
    turnaround = ExpressionWrapper(F("completed_at") - F("created_at"), output_field=DurationField())
    rows = completed.values("priority").annotate(orders=Count("id"), average=Avg(turnaround))
    return [
        {
            "priority": r["priority"],
            "orders": r["orders"],
            "average_hours": round(r["average"].total_seconds() / 3600, 1) if r["average"] else None,
        }
        for r in rows.order_by("priority")
    ]


def claims_summary():
    """Number and amounts of claims per insurer and status."""
    rows = (
        InsuranceClaim.objects.values("policy__provider__name", "status")
        .annotate(claims=Count("id"), claimed=Sum("amount_claimed"), approved=Sum("amount_approved"))
        .order_by("policy__provider__name", "status")
    )
    return [
        {
            "insurer": r["policy__provider__name"],
            "status": r["status"],
            "claims": r["claims"],
            "claimed": money(r["claimed"]),
            "approved": money(r["approved"]),
        }
        for r in rows
    ]


def outstanding_receivables(today=None):
    """Open balances bucketed by age (current, 1-30, 31-60, >60 days overdue)."""
    today = today or timezone.localdate()
    buckets = OrderedDict((name, money(0)) for name in ("current", "1-30", "31-60", "60+"))
    for invoice in Invoice.objects.filter(status__in=Invoice.OPEN_STATUSES):
        late = (today - invoice.due_date).days if invoice.due_date else 0
        key = "current" if late <= 0 else "1-30" if late <= 30 else "31-60" if late <= 60 else "60+"
        buckets[key] += invoice.balance
    return buckets


def dashboard(today=None):
    """Numbers for the start page, one per area."""
    today = today or timezone.localdate()
    start, end = day_bounds(today)
    week_ago = start - dt.timedelta(days=7)
    return {
        "patients_active": Patient.objects.active().count(),
        "new_patients_week": Patient.objects.filter(created_at__gte=week_ago).count(),
        "appointments_today": Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=Appointment.CANCELLED)
        .count(),
        "prescriptions_waiting": Prescription.objects.filter(status=Prescription.ISSUED).count(),
        "lab_orders_open": LabOrder.objects.exclude(
            status__in=(LabOrder.COMPLETED, LabOrder.CANCELLED)
        ).count(),
        "low_stock_drugs": len(inventory.low_stock(today)),
        "stock_value": inventory.stock_value(today),
        "receivables": sum(outstanding_receivables(today).values(), money(0)),
        "claims_pending": InsuranceClaim.objects.filter(status=InsuranceClaim.SUBMITTED).count(),
        "notifications_failed": Notification.objects.filter(status=Notification.FAILED).count(),
    }
