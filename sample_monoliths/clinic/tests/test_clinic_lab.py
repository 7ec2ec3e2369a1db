"""Lab orders and results (lab writes invoice lines through a signal)."""

import json
from decimal import Decimal

import pytest

from core import services
from core.exceptions import LabError
from core.models import Invoice, InvoiceLine, LabOrder, LabResult, Notification


def test_order_lab_tests_through_form_bills_each_test(world, login):
    client = login(world.doctor)
    url = f"/patients/{world.patient.pk}/lab-orders/new/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"tests": [world.hb.pk, world.potassium.pk], "priority": "routine", "notes": "fasting"})
    order = LabOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/lab/orders/{order.pk}/"
    assert order.ordered_by == world.doctor and order.status == LabOrder.ORDERED
    assert set(order.tests.values_list("code", flat=True)) == {"HB", "K"}
    lines = InvoiceLine.objects.filter(lab_order=order).order_by("description")
    assert [(line.description, line.amount) for line in lines] == [
        ("Lab: Haemoglobin", Decimal("6.50")),
        ("Lab: Potassium", Decimal("4.20")),
    ]
    assert lines[0].invoice.status == Invoice.DRAFT


def test_lab_order_form_needs_a_test_and_a_clinician(world, login):
    response = login(world.doctor).post(f"/patients/{world.patient.pk}/lab-orders/new/", {"priority": "routine"})
    assert response.status_code == 400
    assert response.context["form"].errors["tests"]
    assert login(world.lab_tech).get(f"/patients/{world.patient.pk}/lab-orders/new/").status_code == 403
    with pytest.raises(LabError):
        services.order_lab_tests(world.patient, world.doctor, [])


def test_lab_tests_ordered_during_a_visit_go_on_the_visit_invoice(world):
    appointment = services.book_appointment(world.patient, world.doctor, world.consultation, world.monday_10)
    order = services.order_lab_tests(world.patient, world.doctor, [world.hb], appointment=appointment)
    line = InvoiceLine.objects.get(lab_order=order)
    assert line.invoice.appointment == appointment
    assert line.invoice.total == Decimal("81.50")  # 75 visit + 6.50 Hb


def test_stat_order_pages_the_lab(world):
    services.order_lab_tests(world.patient, world.doctor, [world.potassium], priority="stat")
    page = Notification.objects.get(template_key="lab_stat_order")
    assert page.staff == world.lab_tech
    assert "K" in page.body


def test_collect_and_record_results_completes_order_and_notifies(world, login, on_commit):
    order = services.order_lab_tests(world.patient, world.doctor, [world.hb, world.potassium])
    tech = login(world.lab_tech)
    # results before collection are refused
    early = tech.post(f"/lab/orders/{order.pk}/results/", {"test_type": world.hb.pk, "value": "13.1"})
    assert early.status_code == 400
    assert "not been collected" in early.content.decode()

    assert tech.post(f"/lab/orders/{order.pk}/collect/").status_code == 302
    order.refresh_from_db()
    assert order.status == LabOrder.COLLECTED and order.collected_at is not None

    assert tech.post(f"/lab/orders/{order.pk}/results/", {"test_type": world.hb.pk, "value": "11.2"}).status_code == 302
    order.refresh_from_db()
    assert order.status == LabOrder.COLLECTED  # potassium still missing
    with on_commit(execute=True):
        tech.post(f"/lab/orders/{order.pk}/results/", {"test_type": world.potassium.pk, "value": "4.0"})
    order.refresh_from_db()
    assert order.status == LabOrder.COMPLETED and order.completed_at is not None
    flags = dict(LabResult.objects.filter(order=order).values_list("test_type__code", "flag"))
    assert flags == {"HB": "low", "K": "normal"}
    ready = Notification.objects.get(template_key="lab_results_ready")
    assert ready.patient == world.patient and ready.status == Notification.SENT

    detail = tech.get(f"/lab/orders/{order.pk}/")
    assert detail.status_code == 200
    assert len(detail.context["results"]) == 2
    # completed orders take no more results
    late = tech.post(f"/lab/orders/{order.pk}/results/", {"test_type": world.hb.pk, "value": "12.5"})
    assert late.status_code == 400


def test_result_for_a_test_not_ordered_or_without_value_is_refused(world, login):
    order = services.order_lab_tests(world.patient, world.doctor, [world.hb])
    services.collect_specimen(order)
    tech = login(world.lab_tech)
    wrong = tech.post(f"/lab/orders/{order.pk}/results/", {"test_type": world.potassium.pk, "value": "4"})
    assert wrong.status_code == 400 and "was not ordered" in wrong.content.decode()
    empty = tech.post(f"/lab/orders/{order.pk}/results/", {"test_type": world.hb.pk})
    assert empty.status_code == 400
    assert not LabResult.objects.exists()
    assert login(world.doctor).post(f"/lab/orders/{order.pk}/results/", {"test_type": world.hb.pk}).status_code == 403


def test_critical_value_pages_the_ordering_clinician(world, login):
    order = services.order_lab_tests(world.patient, world.doctor, [world.potassium])
    response = login(world.lab_tech).post(
        f"/api/v1/lab/orders/{order.pk}/results/",
        json.dumps({"results": [{"test": "K", "value": 7.1}]}),
        content_type="application/json",
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["status"] == "completed"
    assert data["results"][0]["flag"] == "critical"
    critical = Notification.objects.get(template_key="lab_critical_result")
    assert critical.staff == world.doctor
    assert "Potassium = 7.1 mmol/l" in critical.body


def test_api_lab_results_failures(world, login):
    order = services.order_lab_tests(world.patient, world.doctor, [world.hb])
    tech = login(world.lab_tech)
    url = f"/api/v1/lab/orders/{order.pk}/results/"
    assert tech.post(url, json.dumps({"results": []}), content_type="application/json").status_code == 422
    unknown = tech.post(url, json.dumps({"results": [{"test": "XYZ", "value": 1}]}), content_type="application/json")
    assert unknown.status_code == 422
    assert login(world.nurse).post(url, json.dumps({"results": []}), content_type="application/json").status_code == 403


def test_cancel_lab_order_takes_tests_off_the_invoice(world):
    order = services.order_lab_tests(world.patient, world.doctor, [world.hb, world.potassium])
    services.cancel_lab_order(order, reason="patient refused")
    assert order.status == LabOrder.CANCELLED
    assert not InvoiceLine.objects.filter(lab_order=order).exists()
    done = services.order_lab_tests(world.patient, world.doctor, [world.hb])
    services.collect_specimen(done)
    services.record_lab_result(done, world.hb, value=14)
    with pytest.raises(LabError, match="already has results"):
        services.cancel_lab_order(done)
