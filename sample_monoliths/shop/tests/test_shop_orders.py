"""Checkout: placing, quoting and cancelling orders, and the all-or-nothing transaction."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.models import (
    CouponRedemption,
    CreditTransaction,
    Customer,
    Notification,
    Order,
    Payment,
    Shipment,
    StockItem,
    StockMovement,
    StockReservation,
)

ALICE, BOB, CAROL = 1, 2, 3


def _stock(session, sku, warehouse="BER"):
    return session.scalar(
        select(StockItem).where(StockItem.product.has(sku=sku), StockItem.warehouse.has(code=warehouse))
    )


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_place_order_reserves_credit_and_stock_and_takes_payment(place, db, queue):
    response = place(items=[{"sku": "KET-100", "quantity": 2}])

    assert response.status_code == 201
    order = response.get_json()
    assert response.headers["Location"] == f"/orders/{order['number']}"
    assert order["status"] == "confirmed"
    assert order["subtotal_cents"] == 7_998
    assert order["shipping_cents"] == 690
    assert order["tax_cents"] == 1_651  # 19 % of 86.88
    assert order["total_cents"] == 10_339
    assert order["payments"][0]["method"] == "card"
    assert order["payments"][0]["status"] == "captured"
    assert order["paid_cents"] == 10_339
    assert order["shipment"]["status"] == "pending"
    assert order["shipment"]["warehouse"] == "BER"

    with db() as session:
        alice = session.get(Customer, ALICE)
        assert alice.credit_reserved_cents == 10_339
        kettle = _stock(session, "KET-100")
        assert (kettle.on_hand, kettle.reserved) == (40, 2)
        saved = session.scalar(select(Order).where(Order.number == order["number"]))
        assert [e.to_status for e in saved.events] == ["pending", "confirmed"]
        movements = session.scalars(select(StockMovement).where(StockMovement.order_id == saved.id)).all()
        assert [(m.kind, m.quantity) for m in movements] == [("reserve", 2)]
        ledger = session.scalars(select(CreditTransaction).where(CreditTransaction.order_id == saved.id)).all()
        assert [(t.kind, t.amount_cents) for t in ledger] == [("reserve", -10_339)]
        assert session.scalar(select(Notification.template).where(Notification.order_id == saved.id)) == \
            "order_confirmation"
    assert {job.name for job in queue.pending()} >= {"deliver_notification", "send_invoice"}


def test_quote_prices_basket_without_writing(client, db):
    response = client.post("/orders/quote", json={
        "customer_id": ALICE,
        "items": [{"sku": "DSK-600", "quantity": 1}, {"sku": "MUG-800", "quantity": 1}],
        "coupon_code": "SPRING10",
    })

    assert response.status_code == 200
    quote = response.get_json()
    assert quote["subtotal_cents"] == 46_890
    assert quote["discount_cents"] == 4_689
    assert quote["shipping_cents"] == 0  # free above 100 EUR
    assert quote["total_cents"] == 46_890 - 4_689 + quote["tax_cents"]
    assert quote["warnings"] == ["MUG-800: not enough stock"]
    assert sum(line["discount_cents"] for line in quote["lines"]) == 4_689
    with db() as session:
        assert _count(session, Order) == 0
        assert _count(session, CouponRedemption) == 0


def test_insufficient_credit_rolls_back_everything(place, db):
    response = place(customer_id=CAROL, items=[{"sku": "KET-100", "quantity": 1}])

    assert response.status_code == 402
    body = response.get_json()
    assert body["error"] == "insufficient_credit"
    assert body["details"]["available_credit_cents"] == 3_000
    with db() as session:
        assert _count(session, Order) == 0
        assert _count(session, StockReservation) == 0
        assert _count(session, Payment) == 0
        assert session.get(Customer, CAROL).credit_reserved_cents == 0
        assert _stock(session, "KET-100").reserved == 0


def test_out_of_stock_on_second_line_rolls_back_first_line(place, db, gateway):
    response = place(items=[{"sku": "KET-100", "quantity": 1}, {"sku": "MUG-800", "quantity": 1}])

    assert response.status_code == 409
    assert response.get_json()["details"] == {"sku": "MUG-800", "requested": 1, "available": 0}
    with db() as session:
        assert _stock(session, "KET-100").reserved == 0
        assert _count(session, StockMovement) == _count(session, StockItem)  # only the seed movements
        assert session.get(Customer, ALICE).credit_reserved_cents == 0
    assert gateway.charges == {}


def test_declined_card_rolls_back_stock_credit_and_coupon(place, db):
    response = place(items=[{"sku": "PAN-200", "quantity": 1}], card_token="tok_insufficient_funds",
                     coupon_code="SPRING10")

    assert response.status_code == 402
    assert response.get_json()["details"] == {"decline_code": "insufficient_funds"}
    with db() as session:
        assert _count(session, Order) == 0
        assert _count(session, CouponRedemption) == 0
        assert _stock(session, "PAN-200").reserved == 0
        assert session.get(Customer, ALICE).credit_reserved_cents == 0


def test_order_splits_across_warehouses_by_priority(place, db):
    response = place(items=[{"sku": "KNF-300", "quantity": 4}])

    assert response.status_code == 201
    with db() as session:
        assert _stock(session, "KNF-300", "BER").reserved == 3
        assert _stock(session, "KNF-300", "AMS").reserved == 1
        assert _count(session, StockReservation) == 2


def test_coupon_discount_is_spread_and_redeemed_once(place, client, db):
    first = place(items=[{"sku": "KET-100", "quantity": 1}, {"sku": "PAN-200", "quantity": 1}],
                  coupon_code="spring10")
    second = place(items=[{"sku": "PAN-200", "quantity": 1}], coupon_code="SPRING10")

    assert first.status_code == 201
    order = first.get_json()
    assert order["coupon"] == "SPRING10"
    assert order["discount_cents"] == 850  # 10 % of 84.99, rounded half up
    assert [line["discount_cents"] for line in order["lines"]] == [400, 450]
    assert second.status_code == 422
    assert second.get_json()["error"] == "coupon_invalid"
    with db() as session:
        assert _count(session, CouponRedemption) == 1
    coupons = client.get("/admin/coupons", headers={"X-Admin-Token": "admin-dev-token"}).get_json()
    assert {c["code"]: c["times_redeemed"] for c in coupons}["SPRING10"] == 1


def test_coupon_below_minimum_order_is_rejected(place):
    response = place(items=[{"sku": "SHR-500", "quantity": 1}], coupon_code="FIVEOFF")

    assert response.status_code == 422
    assert response.get_json()["details"] == {"min_order_cents": 3_000}


def test_free_shipping_coupon_and_express(place):
    response = place(items=[{"sku": "SHR-500", "quantity": 1}], coupon_code="SHIPFREE",
                     service_level="express")

    assert response.status_code == 201
    order = response.get_json()
    assert order["shipping_cents"] == 0
    assert order["shipment"]["service_level"] == "express"


def test_store_credit_is_spent_first_then_card(client, place, db, admin):
    client.post(f"/admin/customers/{ALICE}/store-credit", json={"amount_cents": 1_000, "reason": "late parcel"},
                headers=admin)

    response = place(items=[{"sku": "SHR-500", "quantity": 1}], use_store_credit=True)

    assert response.status_code == 201
    payments = response.get_json()["payments"]
    assert [(p["method"], p["status"]) for p in payments] == [("store_credit", "captured"), ("card", "captured")]
    assert payments[0]["amount_cents"] == 1_000
    assert sum(p["amount_cents"] for p in payments) == response.get_json()["total_cents"]
    with db() as session:
        assert session.get(Customer, ALICE).store_credit_cents == 0


def test_business_customer_pays_by_invoice(place, db):
    response = place(customer_id=BOB, items=[{"sku": "KET-100", "quantity": 10}], payment_method="invoice",
                     card_token=None)

    assert response.status_code == 201
    order = response.get_json()
    assert order["status"] == "awaiting_payment"
    assert order["tax_cents"] == 0  # reverse charge: NL business with VAT number
    assert order["lines"][0]["unit_price_cents"] == 3_799  # 5 % volume discount from 10 units
    payment = order["payments"][0]
    assert (payment["method"], payment["status"]) == ("invoice", "pending")
    assert payment["due_date"] is not None
    with db() as session:
        assert session.get(Customer, BOB).credit_reserved_cents == order["total_cents"]


def test_consumers_cannot_pay_by_invoice(place, db):
    response = place(items=[{"sku": "KET-100", "quantity": 1}], payment_method="invoice")

    assert response.status_code == 422
    with db() as session:
        assert _count(session, Order) == 0


def test_invalid_order_requests(client, place):
    assert place(items=[{"sku": "NOPE-1", "quantity": 1}]).status_code == 404
    assert place(items=[{"sku": "KET-100", "quantity": 0}]).status_code == 422
    assert place(customer_id=999).status_code == 404
    assert place(card_token=None).get_json()["details"] == {"card_token": "required"}
    assert client.post("/orders", json={"items": []}).status_code == 422
    assert client.post("/orders", data="not json", content_type="application/json").status_code == 422


def test_cancel_order_releases_everything_and_refunds_card(place, client, db, gateway):
    order = place(items=[{"sku": "KET-100", "quantity": 2}], coupon_code="SPRING10").get_json()

    response = client.post(f"/orders/{order['number']}/cancel", json={"reason": "changed my mind"})

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "cancelled"
    assert body["payments"][0]["status"] == "refunded"
    assert body["payments"][0]["refunded_cents"] == order["total_cents"]
    assert body["shipment"]["status"] == "cancelled"
    charge = gateway.charges[next(iter(gateway.charges))]
    assert charge["refunded"] == order["total_cents"]
    with db() as session:
        assert _stock(session, "KET-100").reserved == 0
        assert session.get(Customer, ALICE).credit_reserved_cents == 0
        redemption = session.scalar(select(CouponRedemption))
        assert redemption.reversed is True
        assert redemption.coupon.times_redeemed == 0
        assert session.scalar(select(Shipment.status)) == "cancelled"


def test_cancel_shipped_order_is_refused(shipped_order, client):
    response = client.post(f"/orders/{shipped_order['number']}/cancel", json={})

    assert response.status_code == 409
    assert response.get_json()["error"] == "invalid_state_transition"


def test_order_detail_timeline_invoice_reorder_and_notes(place, client, admin):
    order = place(items=[{"sku": "LMP-700", "quantity": 1}]).get_json()
    number = order["number"]

    detail = client.get(f"/orders/{number}").get_json()
    assert [step["to"] for step in detail["timeline"]] == ["pending", "confirmed"]

    invoice = client.get(f"/orders/{number}/invoice")
    assert invoice.mimetype == "text/plain"
    assert f"INVOICE {number}" in invoice.get_data(as_text=True)
    assert "Paid in full" in invoice.get_data(as_text=True)

    assert client.get(f"/orders/{number}/reorder").get_json() == {"items": [{"sku": "LMP-700", "quantity": 1}]}

    note = client.post(f"/orders/{number}/notes", json={"note": "gift wrap"}, headers=admin)
    assert note.get_json()["notes"] == "[test-admin] gift wrap"
    assert client.post(f"/orders/{number}/notes", json={"note": "x"}).status_code == 403

    assert client.get("/orders/SO-000000-NOPE").status_code == 404


def test_customer_order_history_is_paginated(place, client):
    for _ in range(3):
        assert place(items=[{"sku": "SHR-500", "quantity": 1}]).status_code == 201

    page = client.get(f"/customers/{ALICE}/orders?per_page=2").get_json()
    assert page["total"] == 3
    assert page["pages"] == 2
    assert len(page["items"]) == 2
    assert client.get(f"/customers/{ALICE}/orders?status=cancelled").get_json()["total"] == 0
