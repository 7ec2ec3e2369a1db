"""Management commands: catalogue import, stock check, demo seed."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from core.models import Drug, Notification, Patient, StaffMember, StockItem, StockMovement

CATALOG = """code,name,form,strength,unit_price,supplier,contraindications
IBU400,Ibuprofen,tablet,400 mg,0.15,Pharma Nord GmbH,
CEF250,Cefuroxime,tablet,250 mg,0.90,MedSupply AG,Penicillin;Cephalosporins
"""


def test_import_drugs_creates_and_updates(world, tmp_path):
    path = tmp_path / "formulary.csv"
    path.write_text(CATALOG, encoding="utf-8")
    out = io.StringIO()
    call_command("import_drugs", str(path), "--dry-run", stdout=out)
    assert "[dry run] created=1 updated=1" in out.getvalue()
    assert not Drug.objects.filter(code="CEF250").exists()

    out = io.StringIO()
    call_command("import_drugs", str(path), stdout=out)
    assert "created=1 updated=1" in out.getvalue()
    cef = Drug.objects.get(code="CEF250")
    assert cef.supplier.name == "MedSupply AG"
    assert set(cef.contraindications.values_list("name", flat=True)) == {"Penicillin", "Cephalosporins"}
    assert str(Drug.objects.get(code="IBU400").unit_price) == "0.15"
    # the patient is allergic to penicillin, so cefuroxime is refused now
    assert world.patient.is_allergic_to(cef)


def test_import_drugs_reports_bad_input(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_drugs", str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,unit_price\nX1,Thing,abc\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2: bad or missing unit_price"):
        call_command("import_drugs", str(bad))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("code,name,unit_price\nX2,Br\xfccke,1\n".encode("latin-1"))
    with pytest.raises(CommandError, match="is not utf-8"):
        call_command("import_drugs", str(latin))
    assert not Drug.objects.filter(code__in=["X1", "X2"]).exists()


def test_stock_check_writes_off_expired_and_lists_reorders(world):
    StockItem.objects.filter(drug=world.morphine).update(quantity=5)
    soon = StockItem.objects.create(
        drug=world.amoxicillin, batch_number="AMX-OLD", expiry_date=timezone.localdate() + dt.timedelta(days=10), quantity=4
    )
    out = io.StringIO()
    call_command("stock_check", "--notify", stdout=out)
    text = out.getvalue()
    assert "expired: IBU400 batch IBU-X" in text
    assert f"expiring {soon.expiry_date}: AMOX500 batch AMX-OLD (4)" in text
    assert "reorder from (no supplier): 100 x MORPH10 (on hand 5)" in text
    assert StockItem.objects.get(batch_number="IBU-X").quantity == 0
    assert StockMovement.objects.get(reason=StockMovement.EXPIRE).change == -50
    assert Notification.objects.filter(template_key="low_stock", staff=world.pharmacist).exists()

    out = io.StringIO()
    call_command("stock_check", "--no-expire", "--days", "5", stdout=out)
    assert "expired:" not in out.getvalue() and "AMX-OLD" not in out.getvalue()


def test_seed_demo_data_builds_a_usable_clinic():
    out = io.StringIO()
    call_command("seed_demo_data", stdout=out)
    assert "demo data ready" in out.getvalue()
    assert StaffMember.objects.count() == 7
    assert Patient.objects.count() == 2
    assert StockItem.objects.get(batch_number="AMOX500-SEED").quantity == 200
    with pytest.raises(CommandError, match="already has staff"):
        call_command("seed_demo_data")
    call_command("seed_demo_data", "--force", stdout=io.StringIO())
    assert Patient.objects.count() == 2
