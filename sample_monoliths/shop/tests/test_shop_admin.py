"""Back office: stock, coupons, customer credit, reports, the task queue and health."""

from __future__ import annotations

from sqlalchemy import select

from shop.models import StockItem, StockMovement
from shop.utils.dates import today

ALICE, BOB, CAROL = 1, 2, 3


def _item(session, sku, warehouse):
    return session.scalar(select(StockItem).where(StockItem.product.has(sku=sku),
                                                  StockItem.warehouse.has(code=warehouse)))


def test_admin_routes_need_the_token(client):
    assert client.get("/admin/stock/low").status_code == 403
    assert client.get("/admin/stock/low", headers={"X-Admin-Token": "wrong"}).status_code == 403


def test_restock_into_a_new_warehouse(client, admin, db):
    response = client.post("/admin/stock/restock", headers=admin,
                           json={"sku": "PAN-200", "quantity": 12, "warehouse": "ams", "note": "PO-4711"})

    assert response.status_code == 200
    assert response.get_json() == {"sku": "PAN-200", "warehouse": "AMS", "on_hand": 12, "available": 12}
    with db() as session:
        assert session.scalar(select(StockMovement.note).order_by(StockMovement.id.desc())) == "PO-4711"
    assert client.post("/admin/stock/restock", headers=admin,
                       json={"sku": "PAN-200", "quantity": -1}).status_code == 422
    assert client.post("/admin/stock/restock", headers=admin,
                       json={"sku": "PAN-200", "quantity": 1, "warehouse": "XXX"}).status_code == 404


def test_stocktake_adjustment_cannot_go_below_reserved(client, admin, place, db):
    assert place(items=[{"sku": "KNF-300", "quantity": 1}]).status_code == 201

    below = client.post("/admin/stock/adjust", headers=admin, json={"sku": "KNF-300", "on_hand": 0})
    counted = client.post("/admin/stock/adjust", headers=admin,
                          json={"sku": "KNF-300", "on_hand": 2, "reason": "stocktake 2030"})

    assert below.status_code == 409
    assert counted.get_json() == {"sku": "KNF-300", "warehouse": "BER", "on_hand": 2, "available": 1}
    movements = client.get("/admin/stock/KNF-300/movements", headers=admin).get_json()
    assert [(m["kind"], m["quantity"], m["warehouse"]) for m in movements][:2] == [
        ("adjust", -1, "BER"), ("reserve", 1, "BER")]
    assert client.post("/admin/stock/adjust", headers=admin, json={"sku": "KNF-300"}).status_code == 422


def test_transfer_between_warehouses(client, admin, db):
    response = client.post("/admin/stock/transfer", headers=admin,
                           json={"sku": "SHR-500", "quantity": 10, "from": "AMS", "to": "BER"})

    assert response.get_json() == {"from": {"warehouse": "AMS", "on_hand": 20},
                                   "to": {"warehouse": "BER", "on_hand": 10}}
    too_many = client.post("/admin/stock/transfer", headers=admin,
                           json={"sku": "SHR-500", "quantity": 100, "from": "AMS", "to": "BER"})
    assert too_many.status_code == 409


def test_low_stock_list(client, admin):
    low = client.get("/admin/stock/low", headers=admin).get_json()

    assert [(i["sku"], i["warehouse"], i["available"]) for i in low] == [("KNF-300", "AMS", 2),
                                                                         ("KNF-300", "BER", 3)]


def test_campaign_coupon_lifecycle(client, admin, place):
    created = client.post("/admin/coupons", headers=admin, json={
        "code": "summer25", "kind": "percent", "value": 25, "max_redemptions": 100,
        "expires_at": "2099-08-31T23:59:59Z",
    })
    assert created.status_code == 201
    assert created.get_json()["code"] == "SUMMER25"
    assert place(coupon_code="SUMMER25").get_json()["discount_cents"] == 2_000

    deactivated = client.post("/admin/coupons/SUMMER25/deactivate", headers=admin)

    assert deactivated.get_json()["active"] is False
    assert place(coupon_code="SUMMER25").status_code == 422
    active = [c["code"] for c in client.get("/admin/coupons?active=1", headers=admin).get_json()]
    assert "SUMMER25" not in active and "SPRING10" in active
    assert client.post("/admin/coupons", headers=admin, json={"kind": "percent", "value": 150}).status_code == 422
    assert client.post("/admin/coupons", headers=admin, json={"code": "SPRING10", "kind": "fixed",
                                                              "value": 100}).status_code == 409
    assert client.post("/admin/coupons/NOPE/deactivate", headers=admin).status_code == 404


def test_expired_and_future_coupons_are_refused(client, admin, place):
    client.post("/admin/coupons", headers=admin, json={"code": "OLD", "kind": "fixed", "value": 100,
                                                       "expires_at": "2001-01-01T00:00:00"})
    client.post("/admin/coupons", headers=admin, json={"code": "LATER", "kind": "fixed", "value": 100,
                                                       "starts_at": "2099-01-01T00:00:00"})

    assert "expired" in place(coupon_code="OLD").get_json()["message"]
    assert "not valid yet" in place(coupon_code="LATER").get_json()["message"]
    assert place(coupon_code="NOSUCH").status_code == 422


def test_raising_the_credit_limit_lets_a_customer_order(client, admin, place):
    assert place(customer_id=CAROL).status_code == 402

    raised = client.post(f"/admin/customers/{CAROL}/credit-limit", headers=admin,
                         json={"credit_limit_cents": 20_000})

    assert raised.get_json()["credit_limit_cents"] == 20_000
    entry = raised.get_json()["ledger"][0]
    assert (entry["kind"], entry["amount_cents"]) == ("limit_change", 17_000)
    assert place(customer_id=CAROL).status_code == 201


def test_goodwill_store_credit(client, admin, worker, mailer):
    response = client.post(f"/admin/customers/{ALICE}/store-credit", headers=admin,
                           json={"amount_cents": 1_500, "reason": "parcel was late"})

    assert response.status_code == 201
    assert response.get_json()["store_credit_cents"] == 1_500
    worker()
    [mail] = mailer.sent_to("alice@example.com")
    assert "€15.00" in mail.body and "parcel was late" in mail.body


def test_blocked_customer_cannot_order(client, admin, place):
    blocked = client.post(f"/admin/customers/{ALICE}/status", headers=admin, json={"status": "blocked"})

    assert blocked.get_json()["status"] == "blocked"
    assert place().status_code == 403
    assert client.post(f"/admin/customers/{ALICE}/status", headers=admin,
                       json={"status": "vip"}).status_code == 422


def test_customer_with_unpaid_orders_cannot_be_closed(client, admin, place):
    place(customer_id=BOB, payment_method="invoice", card_token=None)

    response = client.post(f"/admin/customers/{BOB}/status", headers=admin, json={"status": "closed"})

    assert response.status_code == 409


def test_sales_and_product_reports(client, admin, place, shipped_order):
    place(items=[{"sku": "PAN-200", "quantity": 1}], coupon_code="SPRING10")
    client.post(f"/orders/{shipped_order['number']}/refund", headers=admin, json={"amount_cents": 500})
    day = today().isoformat()

    report = client.get(f"/admin/reports/sales?start={day}&end={day}", headers=admin).get_json()
    top = client.get(f"/admin/reports/top-products?start={day}&end={day}&limit=2", headers=admin).get_json()

    assert report["totals"]["orders"] == 2
    assert report["totals"]["items"] == 4
    assert report["totals"]["discount_cents"] == 450
    assert report["totals"]["refund_cents"] == 500
    assert report["totals"]["net_cents"] == report["totals"]["total_cents"] - 500
    assert [(p["sku"], p["units"]) for p in top] == [("KET-100", 2), ("PAN-200", 1)]
    assert top[0]["category"] == "Kitchen"
    assert client.get("/admin/reports/sales?start=2030-02-30", headers=admin).status_code == 422
    assert client.get("/admin/reports/sales?start=2030-01-02&end=2030-01-01", headers=admin).status_code == 422


def test_customer_inventory_and_pipeline_reports(client, admin, place, shipped_order):
    place(customer_id=BOB, payment_method="invoice", card_token=None)

    customer = client.get(f"/admin/reports/customers/{ALICE}", headers=admin).get_json()
    inventory = client.get("/admin/reports/inventory", headers=admin).get_json()
    pipeline = client.get("/admin/reports/pipeline", headers=admin).get_json()

    assert customer["orders"] == 1
    assert customer["paid_cents"] == shipped_order["total_cents"]
    assert customer["credit_reserved_cents"] == shipped_order["total_cents"]
    assert inventory["by_warehouse"]["BER"] > 0
    assert inventory["total_cents"] == sum(i["value_cents"] for i in inventory["items"])
    assert {(r["order_status"], r["shipment_status"], r["unpaid"]) for r in pipeline} == {
        ("shipped", "shipped", 0), ("awaiting_payment", "pending", 1)}
    assert client.get("/admin/reports/customers/999", headers=admin).status_code == 404


def test_task_queue_page_and_run_now_button(client, admin, worker):
    queued = client.post("/admin/tasks/snapshot_daily_sales", headers=admin, json={"kwargs": {}})
    overview = client.get("/admin/tasks", headers=admin).get_json()

    assert queued.status_code == 202
    assert "send_invoice" in overview["registered"]
    assert [job["task"] for job in overview["pending"]] == ["snapshot_daily_sales"]
    assert client.post("/admin/tasks/no_such_task", headers=admin).status_code == 404
    assert worker().results("snapshot_daily_sales") == [{"orders": 0, "net_cents": 0}]


def test_health(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert client.get("/nope").get_json()["error"] == "not_found"
    assert client.delete("/health").status_code == 405
