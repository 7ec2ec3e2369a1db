"""Shipping: the pick list, shipping, delivery, tracking webhooks and credit settlement."""

from __future__ import annotations

from sqlalchemy import select

from shop.models import Customer, StockItem, StockMovement, TrackingEvent
from shop.utils.ids import is_valid_tracking_number

ALICE, BOB = 1, 2
CARRIER = {"X-Carrier-Token": "carrier-dev"}


def test_pick_list_shows_pending_shipments(client, admin, place):
    order = place().get_json()

    pending = client.get("/admin/shipments?status=pending", headers=admin).get_json()

    assert [s["order"] for s in pending] == [order["number"]]
    assert client.get("/admin/shipments?status=delivered", headers=admin).get_json() == []


def test_ship_order_buys_label_and_takes_units_off_the_shelf(client, admin, place, db, worker, mailer):
    order = place(items=[{"sku": "KET-100", "quantity": 2}]).get_json()

    response = client.post(f"/admin/shipments/{order['shipment']['id']}/ship", headers=admin)

    assert response.status_code == 200
    shipment = response.get_json()
    assert shipment["status"] == "shipped"
    assert is_valid_tracking_number(shipment["tracking_number"])
    assert shipment["events"][0]["status"] == "label_created"
    assert client.get(f"/orders/{order['number']}").get_json()["status"] == "shipped"
    with db() as session:
        kettle = session.scalar(select(StockItem).where(StockItem.product.has(sku="KET-100"),
                                                        StockItem.warehouse.has(code="BER")))
        assert (kettle.on_hand, kettle.reserved) == (38, 0)
        kinds = session.scalars(select(StockMovement.kind).where(StockMovement.order_id.is_not(None))).all()
        assert kinds == ["reserve", "ship"]
    worker()
    shipped_mail = [m for m in mailer.sent_to("alice@example.com") if "on its way" in m.subject]
    assert shipment["tracking_number"] in shipped_mail[0].body
    assert client.post(f"/admin/shipments/{order['shipment']['id']}/ship", headers=admin).status_code == 409


def test_order_shipment_endpoint(client, shipped_order):
    shipment = client.get(f"/orders/{shipped_order['number']}/shipment").get_json()

    assert shipment["carrier"] == "DHL"
    assert shipment["tracking_number"] == shipped_order["shipment"]["tracking_number"]


def test_cancelled_order_cannot_ship(client, admin, place):
    order = place().get_json()
    client.post(f"/orders/{order['number']}/cancel", json={})

    response = client.post(f"/admin/shipments/{order['shipment']['id']}/ship", headers=admin)

    assert response.status_code == 409
    assert client.post("/admin/shipments/999/ship", headers=admin).status_code == 404


def test_manual_delivery_releases_the_credit_reservation(client, admin, shipped_order, db):
    with db() as session:
        assert session.get(Customer, ALICE).credit_reserved_cents == shipped_order["total_cents"]

    response = client.post(f"/admin/shipments/{shipped_order['shipment']['id']}/deliver", headers=admin)

    assert response.status_code == 200
    assert response.get_json()["status"] == "delivered"
    assert client.get(f"/orders/{shipped_order['number']}").get_json()["status"] == "delivered"
    credit = client.get(f"/customers/{ALICE}/credit").get_json()
    assert credit["credit_reserved_cents"] == 0
    assert credit["ledger"][0]["kind"] == "release"


def test_carrier_webhook_moves_shipment_to_delivered(client, shipped_order, db):
    tracking = shipped_order["shipment"]["tracking_number"]

    response = client.post("/webhooks/carrier", headers=CARRIER, json={"events": [
        {"tracking_number": tracking, "status": "in_transit", "location": "Hannover",
         "occurred_at": "2030-01-02T08:00:00Z"},
        {"tracking_number": tracking, "status": "delivered", "location": "Berlin",
         "occurred_at": "2030-01-03T10:30:00+01:00"},
    ]})

    assert response.status_code == 200
    assert response.get_json() == {"accepted": 2}
    shipment = client.get(f"/orders/{shipped_order['number']}/shipment").get_json()
    assert shipment["status"] == "delivered"
    assert shipment["delivered_at"] == "2030-01-03T09:30:00Z"
    with db() as session:
        assert session.scalar(select(TrackingEvent.location).where(TrackingEvent.status == "in_transit")) == \
            "Hannover"


def test_carrier_webhook_rejects_bad_token_and_payloads(client, shipped_order):
    assert client.post("/webhooks/carrier", json={"events": []}).status_code == 403
    assert client.post("/webhooks/carrier", headers=CARRIER, json={"events": "x"}).status_code == 422
    unknown = client.post("/webhooks/carrier", headers=CARRIER, json={"events": [
        {"tracking_number": "DHL000000000000", "status": "delivered"}]})
    assert unknown.status_code == 404
    malformed = client.post("/webhooks/carrier", headers=CARRIER, json={"events": [
        {"tracking_number": "DHL123", "status": "delivered"}]})
    assert malformed.get_json()["details"] == {"tracking_number": "invalid"}


def test_invoice_order_keeps_credit_until_paid_even_when_delivered(client, admin, place, db):
    order = place(customer_id=BOB, items=[{"sku": "LMP-700", "quantity": 2}], payment_method="invoice",
                  card_token=None).get_json()
    client.post(f"/admin/shipments/{order['shipment']['id']}/ship", headers=admin)
    client.post(f"/admin/shipments/{order['shipment']['id']}/deliver", headers=admin)

    with db() as session:
        assert session.get(Customer, BOB).credit_reserved_cents == order["total_cents"]
