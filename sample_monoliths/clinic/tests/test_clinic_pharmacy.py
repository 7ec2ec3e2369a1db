"""Prescriptions, dispensing and stock (pharmacy writes the stock table and the invoices)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from core import inventory, services
from core.exceptions import PrescriptionError
from core.models import Invoice, InvoiceLine, Notification, Prescription, StockItem, StockMovement


def _rx_form(world, drug, quantity="10", dosage="1-0-1"):
    return {
        "notes": "after meals",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "1",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-drug": drug.pk,
        "items-0-dosage": dosage,
        "items-0-quantity": quantity,
    }


def test_doctor_writes_prescription_with_formset(world, login):
    client = login(world.doctor)
    url = f"/patients/{world.patient.pk}/prescriptions/new/"
    assert client.get(url).status_code == 200
    response = client.post(url, _rx_form(world, world.ibuprofen))
    assert response.status_code == 302
    prescription = Prescription.objects.get(patient=world.patient)
    assert prescription.prescriber == world.doctor
    assert prescription.status == Prescription.ISSUED
    assert [(i.drug.code, i.quantity, i.dosage) for i in prescription.items.all()] == [("IBU400", 10, "1-0-1")]


def test_prescription_for_allergen_is_refused(world, login):
    response = login(world.doctor).post(
        f"/patients/{world.patient.pk}/prescriptions/new/", _rx_form(world, world.amoxicillin)
    )
    assert response.status_code == 400
    assert "allergic" in response.content.decode()
    assert not Prescription.objects.exists()


def test_only_doctors_prescribe(world, login):
    response = login(world.nurse).get(f"/patients/{world.patient.pk}/prescriptions/new/")
    assert response.status_code == 403


def test_dispense_takes_earliest_expiring_stock_bills_and_notifies(world, login, on_commit):
    prescription = services.write_prescription(
        world.patient, world.doctor, [{"drug": world.ibuprofen, "dosage": "1-1-1", "quantity": 40}]
    )
    with on_commit(execute=True):
        response = login(world.pharmacist).post(f"/prescriptions/{prescription.pk}/dispense/")
    assert response.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == Prescription.DISPENSED
    assert prescription.dispensed_by == world.pharmacist
    # FEFO: the 30 units expiring first are used up, 10 come from the next batch,
    # the expired batch is never touched
    quantities = dict(StockItem.objects.filter(drug=world.ibuprofen).values_list("batch_number", "quantity"))
    assert quantities == {"IBU-A": 0, "IBU-B": 90, "IBU-X": 50}
    movements = StockMovement.objects.filter(reason=StockMovement.DISPENSE).order_by("change")
    assert [m.change for m in movements] == [-30, -10]
    assert {m.reference for m in movements} == {f"RX-{prescription.pk}"}
    line = InvoiceLine.objects.get(kind=InvoiceLine.DRUG)
    assert line.prescription_item == prescription.items.get()
    assert line.amount == Decimal("4.80")
    assert line.invoice.status == Invoice.DRAFT and line.invoice.appointment is None
    assert Notification.objects.get(template_key="prescription_ready").status == Notification.SENT
    assert "has been dispensed" in mail.outbox[-1].body
    # dispensing again is refused
    again = login(world.pharmacist).post(f"/prescriptions/{prescription.pk}/dispense/", follow=True)
    assert "prescription is dispensed" in again.content.decode()


def test_dispense_out_of_stock_changes_nothing(world, login):
    prescription = services.write_prescription(
        world.patient,
        world.doctor,
        [
            {"drug": world.morphine, "dosage": "1-0-0", "quantity": 5},
            {"drug": world.ibuprofen, "dosage": "1-0-0", "quantity": 500},
        ],
    )
    response = login(world.pharmacist).post(f"/prescriptions/{prescription.pk}/dispense/", follow=True)
    assert "only 130 of 500 units" in response.content.decode()
    prescription.refresh_from_db()
    assert prescription.status == Prescription.ISSUED
    assert StockItem.objects.get(batch_number="MOR-1").quantity == 40
    assert not StockMovement.objects.exists()
    assert not InvoiceLine.objects.filter(kind=InvoiceLine.DRUG).exists()


def test_dispensing_below_reorder_level_warns_pharmacists(world):
    prescription = services.write_prescription(
        world.patient, world.doctor, [{"drug": world.ibuprofen, "dosage": "1-0-0", "quantity": 115}]
    )
    services.dispense_prescription(prescription, world.pharmacist)
    warning = Notification.objects.get(template_key="low_stock")
    assert warning.staff == world.pharmacist
    assert warning.channel == Notification.INTERNAL
    assert "Only 15 units" in warning.body


def test_controlled_drug_needs_licensed_pharmacist(world):
    world.pharmacist.license_number = ""
    world.pharmacist.save()
    prescription = services.write_prescription(
        world.patient, world.doctor, [{"drug": world.morphine, "dosage": "1-0-0", "quantity": 5}]
    )
    with pytest.raises(PrescriptionError, match="licensed"):
        services.dispense_prescription(prescription, world.pharmacist)
    with pytest.raises(PrescriptionError, match="only pharmacists"):
        services.dispense_prescription(prescription, world.nurse)


def test_api_dispense(world, login):
    prescription = services.write_prescription(
        world.patient, world.doctor, [{"drug": world.morphine, "dosage": "0-0-1", "quantity": 5}]
    )
    response = login(world.pharmacist).post(f"/api/v1/prescriptions/{prescription.pk}/dispense/")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "dispensed"
    assert data["items"][0]["dispensed"] == 5
    assert StockItem.objects.get(batch_number="MOR-1").quantity == 35
    # other roles are turned away, nothing changes
    forbidden = login(world.doctor).post(f"/api/v1/prescriptions/{prescription.pk}/dispense/")
    assert forbidden.status_code == 403
    again = login(world.pharmacist).post(f"/api/v1/prescriptions/{prescription.pk}/dispense/")
    assert again.status_code == 409 and again.json()["error"] == "prescription_error"


def test_restock_form_tops_up_batch_and_records_movement(world, login):
    client = login(world.pharmacist)
    assert client.get("/pharmacy/restock/").status_code == 200
    expiry = (timezone.localdate() + dt.timedelta(days=400)).isoformat()
    response = client.post(
        "/pharmacy/restock/",
        {"drug": world.ibuprofen.pk, "batch_number": "IBU-B", "quantity": 50, "expiry_date": expiry, "reference": "DN-7"},
    )
    assert response.status_code == 302
    assert StockItem.objects.get(batch_number="IBU-B").quantity == 150
    movement = StockMovement.objects.get(reason=StockMovement.RESTOCK)
    assert (movement.change, movement.reference, movement.performed_by) == (50, "DN-7", world.pharmacist)

    new_batch = client.post(
        "/pharmacy/restock/",
        {"drug": world.amoxicillin.pk, "batch_number": "AMX-2", "quantity": 20, "expiry_date": expiry},
    )
    assert new_batch.status_code == 302
    assert StockItem.objects.get(batch_number="AMX-2").quantity == 20


def test_restock_rejects_short_expiry_and_conflicting_batch(world, login):
    client = login(world.pharmacist)
    soon = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    response = client.post(
        "/pharmacy/restock/", {"drug": world.ibuprofen.pk, "batch_number": "N1", "quantity": 5, "expiry_date": soon}
    )
    assert response.status_code == 400
    other_expiry = (timezone.localdate() + dt.timedelta(days=90)).isoformat()
    conflict = client.post(
        "/pharmacy/restock/",
        {"drug": world.ibuprofen.pk, "batch_number": "IBU-B", "quantity": 5, "expiry_date": other_expiry},
    )
    assert conflict.status_code == 400
    assert "is on file with expiry" in conflict.content.decode()
    assert StockItem.objects.get(batch_number="IBU-B").quantity == 100
    assert not StockMovement.objects.exists()


def test_stock_list_and_low_stock_views(world, login):
    services.write_prescription(world.patient, world.doctor, [{"drug": world.ibuprofen, "dosage": "x", "quantity": 1}])
    client = login(world.pharmacist)
    response = client.get("/pharmacy/stock/")
    assert response.status_code == 200
    on_hand = {drug.code: drug.on_hand for drug in response.context["drugs"]}
    assert on_hand == {"AMOX500": 80, "IBU400": 130, "MORPH10": 40}
    assert response.context["stock_value"] == Decimal("95.60")  # 80 x 0.45 + 130 x 0.12 + 40 x 1.10
    assert len(response.context["waiting"]) == 1

    StockItem.objects.filter(drug=world.morphine).update(quantity=3)
    low = client.get("/pharmacy/stock/", {"low": "1"})
    assert [drug.code for drug in low.context["drugs"]] == ["MORPH10"]
    assert login(world.reception).get("/pharmacy/stock/").status_code == 403

    api = client.get("/api/v1/pharmacy/low-stock/").json()["data"]
    assert [row["drug"] for row in api["low"]] == ["MORPH10"]
    assert api["reorder"] == {"(no supplier)": [{"drug": "MORPH10", "name": "Morphine", "on_hand": 3, "order": 100}]}


def test_stock_adjustment_to_reorder_level_triggers_signal(world):
    inventory.adjust_stock(world.ibu_new, -100, performed_by=world.pharmacist, reference="count 2024-03")
    world.ibu_new.refresh_from_db()
    assert world.ibu_new.quantity == 0
    assert not Notification.objects.filter(template_key="low_stock").exists()  # 30 left > 20
    inventory.adjust_stock(world.ibu_old, -15, performed_by=world.pharmacist, reference="broken blister")
    warning = Notification.objects.get(template_key="low_stock")
    assert "Only 15 units" in warning.body
    assert StockMovement.objects.filter(reason=StockMovement.ADJUST).count() == 2
