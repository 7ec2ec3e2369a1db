"""Payments: refunds, invoices paid by bank transfer, disputes and the configured gateway."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from shop.integrations.gateways import DeclineAllGateway, sign_payload
from shop.models import Customer, Notification, Refund, StockItem, StockMovement

ALICE, BOB = 1, 2


def _signed(client, payload, secret="whsec-dev"):
    body = json.dumps(payload).encode()
    return client.post("/webhooks/payments", data=body, content_type="application/json",
                       headers={"X-Signature": sign_payload(body, secret)})


def test_refund_returned_item_restocks_and_refunds_card(client, admin, shipped_order, db, gateway):
    response = client.post(f"/orders/{shipped_order['number']}/refund", headers=admin,
                           json={"items": [{"sku": "KET-100", "quantity": 1}], "reason": "dented"})

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "partially_refunded"
    # 39.99 net plus its share of the order's VAT (21.75 on 114.48, shipping was free)
    assert shipped_order["tax_cents"] == 2_175
    assert body["refunded_now_cents"] == 3_999 + 760
    assert body["lines"][0]["returned_quantity"] == 1
    assert body["payments"][0]["status"] == "partially_refunded"
    assert next(iter(gateway.charges.values()))["refunded"] == body["refunded_now_cents"]
    with db() as session:
        kettle = session.scalar(select(StockItem).where(StockItem.product.has(sku="KET-100"),
                                                        StockItem.warehouse.has(code="BER")))
        assert kettle.on_hand == 38 + 1
        assert session.scalar(select(StockMovement.kind).order_by(StockMovement.id.desc())) == "return"


def test_full_refund_to_store_credit(client, admin, shipped_order, db):
    response = client.post(f"/orders/{shipped_order['number']}/refund", headers=admin,
                           json={"amount_cents": shipped_order["total_cents"], "to_store_credit": True,
                                 "reason": "goodwill", "restock": False})

    assert response.status_code == 200
    assert response.get_json()["status"] == "refunded"
    assert response.get_json()["refunded_cents"] == shipped_order["total_cents"]
    with db() as session:
        alice = session.get(Customer, ALICE)
        assert alice.store_credit_cents == shipped_order["total_cents"]
        assert session.scalar(select(Refund.to_store_credit)) is True
    again = client.post(f"/orders/{shipped_order['number']}/refund", headers=admin, json={"amount_cents": 1})
    assert again.status_code == 409


def test_refund_rules(client, admin, place, shipped_order):
    unshipped = place().get_json()

    assert client.post(f"/orders/{unshipped['number']}/refund", headers=admin,
                       json={"amount_cents": 100}).status_code == 409
    assert client.post(f"/orders/{shipped_order['number']}/refund", headers=admin,
                       json={"amount_cents": 10_000_000}).status_code == 409
    assert client.post(f"/orders/{shipped_order['number']}/refund", headers=admin,
                       json={"items": [{"sku": "KET-100", "quantity": 3}]}).status_code == 422
    assert client.post(f"/orders/{shipped_order['number']}/refund", headers=admin, json={}).status_code == 422
    assert client.post(f"/orders/{shipped_order['number']}/refund", json={"amount_cents": 1}).status_code == 403


def test_failed_gateway_refund_changes_nothing(client, admin, shipped_order, gateway, db):
    gateway.fail_refunds = True

    response = client.post(f"/orders/{shipped_order['number']}/refund", headers=admin,
                           json={"items": [{"sku": "LMP-700", "quantity": 1}]})

    assert response.status_code == 409
    assert response.get_json()["details"] == {"gateway_code": "processor_unavailable"}
    assert client.get(f"/orders/{shipped_order['number']}").get_json()["status"] == "shipped"
    with db() as session:
        assert session.scalar(select(func.count(Refund.id))) == 0


def test_invoice_paid_webhook_confirms_order_and_settles_credit_after_delivery(client, admin, place, db):
    order = place(customer_id=BOB, items=[{"sku": "KET-100", "quantity": 1}], payment_method="invoice",
                  card_token=None).get_json()
    reference = order["payments"][0]["reference"]

    wrong_amount = _signed(client, {"type": "invoice.paid", "reference": reference, "amount_cents": 1})
    paid = _signed(client, {"type": "invoice.paid", "reference": reference, "amount_cents": order["total_cents"]})
    duplicate = _signed(client, {"type": "invoice.paid", "reference": reference,
                                 "amount_cents": order["total_cents"]})

    assert wrong_amount.status_code == 409
    assert paid.get_json() == {"reference": reference, "status": "captured"}
    assert duplicate.status_code == 200
    assert client.get(f"/orders/{order['number']}").get_json()["status"] == "confirmed"
    client.post(f"/admin/shipments/{order['shipment']['id']}/ship", headers=admin)
    client.post(f"/admin/shipments/{order['shipment']['id']}/deliver", headers=admin)
    with db() as session:
        assert session.get(Customer, BOB).credit_reserved_cents == 0


def test_dispute_blocks_credit_and_alerts_ops(client, place, db, worker, mailer):
    order = place().get_json()

    response = _signed(client, {"type": "charge.disputed", "reference": order["payments"][0]["reference"],
                                "reason": "fraudulent"})

    assert response.get_json()["status"] == "disputed"
    assert client.get(f"/customers/{ALICE}/credit").get_json()["credit_limit_cents"] == 0
    worker()
    [alert] = mailer.sent_to("ops@shop.example")
    assert "fraudulent" in alert.body
    with db() as session:
        assert session.scalar(select(Notification.template).where(Notification.customer_id.is_(None))) == \
            "payment_disputed"


def test_payment_webhook_signature_and_unknown_events(client):
    body = json.dumps({"type": "invoice.paid", "reference": "PAY-X"}).encode()
    unsigned = client.post("/webhooks/payments", data=body, content_type="application/json")
    forged = _signed(client, {"type": "invoice.paid", "reference": "PAY-X"}, secret="guess")
    ignored = _signed(client, {"type": "payout.created", "reference": "PO-1"})
    unknown = _signed(client, {"type": "invoice.paid", "reference": "PAY-X", "amount_cents": 5})

    assert unsigned.status_code == 403
    assert forged.status_code == 403
    assert ignored.status_code == 202
    assert unknown.status_code == 404


def test_gateway_is_loaded_from_the_configured_dotted_path(app, place, db):
    app.config["PAYMENT_GATEWAY"] = "shop.integrations.gateways.DeclineAllGateway"

    response = place()

    assert response.status_code == 402
    assert response.get_json()["details"] == {"decline_code": "processor_unavailable"}
    assert isinstance(app.extensions["shop.payment_gateway"], DeclineAllGateway)
    with db() as session:
        assert session.get(Customer, ALICE).credit_reserved_cents == 0
