"""Customer accounts: registration, profile, addresses, credit and preferences."""

from __future__ import annotations

from sqlalchemy import select

from shop.models import Coupon, Customer, NotificationPreference

ALICE, BOB, CAROL = 1, 2, 3

NEW_CUSTOMER = {
    "email": "Dora@Example.com",
    "name": "Dora Lang",
    "phone": "0049 30 1234567",
    "marketing_opt_in": True,
    "address": {"line1": "Alexanderplatz 1", "city": "Berlin", "postcode": "10178", "country": "de"},
}


def test_register_customer_creates_account_coupon_preferences_and_welcome_mail(client, db, worker, mailer):
    response = client.post("/customers", json=NEW_CUSTOMER)

    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "dora@example.com"
    assert body["phone"] == "+49301234567"
    assert body["addresses"][0]["is_default"] is True
    assert body["addresses"][0]["country"] == "DE"
    assert response.headers["Location"] == f"/customers/{body['id']}"
    with db() as session:
        customer = session.get(Customer, body["id"])
        assert customer.credit_limit_cents == 50_000
        coupon = session.scalar(select(Coupon).where(Coupon.customer_id == customer.id))
        assert coupon.code.startswith("WELCOME-") and coupon.value == 10
        prefs = session.scalars(
            select(NotificationPreference).where(NotificationPreference.customer_id == customer.id)
        ).all()
        assert {p.topic: p.enabled for p in prefs} == {"orders": True, "shipping": True, "marketing": True,
                                                      "stock": True}

    stats = worker()

    assert stats.succeeded == 1
    [welcome] = mailer.sent_to("dora@example.com")
    assert welcome.subject == "Welcome to the shop, Dora Lang"
    assert coupon.code in welcome.body


def test_welcome_coupon_can_be_used_once_by_its_owner_only(client, place, db):
    dora = client.post("/customers", json=NEW_CUSTOMER).get_json()
    with db() as session:
        code = session.scalar(select(Coupon.code).where(Coupon.customer_id == dora["id"]))

    stolen = place(customer_id=ALICE, coupon_code=code)
    used = place(customer_id=dora["id"], coupon_code=code)
    again = place(customer_id=dora["id"], coupon_code=code)

    assert stolen.status_code == 422 and "another customer" in stolen.get_json()["message"]
    assert used.status_code == 201 and used.get_json()["discount_cents"] == 800
    assert again.status_code == 422


def test_register_business_customer_needs_vat_number(client):
    payload = {"email": "buyer@acme.example", "name": "ACME GmbH", "is_business": True}

    refused = client.post("/customers", json=payload)
    accepted = client.post("/customers", json={**payload, "vat_number": "DE123456789"})

    assert refused.status_code == 422
    assert refused.get_json()["details"] == {"vat_number": "required"}
    assert accepted.status_code == 201
    assert accepted.get_json()["is_business"] is True


def test_register_rejects_duplicates_and_bad_input(client):
    assert client.post("/customers", json={"email": "alice@example.com", "name": "A"}).status_code == 409
    bad_email = client.post("/customers", json={"email": "not-an-email", "name": "X"})
    assert bad_email.status_code == 422
    assert bad_email.get_json()["details"] == {"email": "not a valid e-mail address"}
    missing = client.post("/customers", json={"name": "No Mail"})
    assert missing.get_json()["details"] == {"email": "required"}
    bad_postcode = client.post("/customers", json={**NEW_CUSTOMER, "address": {**NEW_CUSTOMER["address"],
                                                                               "postcode": "ABC"}})
    assert bad_postcode.status_code == 422


def test_show_and_update_customer(client, db):
    assert client.get(f"/customers/{ALICE}").get_json()["name"] == "Alice Meyer"
    assert client.get("/customers/999").status_code == 404

    response = client.patch(f"/customers/{ALICE}", json={"name": "Alice Meyer-Schmidt", "marketing_opt_in": True})

    assert response.status_code == 200
    assert response.get_json()["marketing_opt_in"] is True
    with db() as session:
        marketing = session.scalar(select(NotificationPreference).where(
            NotificationPreference.customer_id == ALICE, NotificationPreference.topic == "marketing"))
        assert marketing.enabled is True
    assert client.patch(f"/customers/{ALICE}", json={"email": "carol@example.com"}).status_code == 409
    assert client.patch(f"/customers/{ALICE}", json={"name": ""}).status_code == 422


def test_addresses_can_be_added_and_made_default(client):
    response = client.post(f"/customers/{ALICE}/addresses", json={
        "label": "office", "line1": "Friedrichstr. 100", "city": "Berlin", "postcode": "10117",
        "country": "DE", "is_default": True,
    })

    assert response.status_code == 201
    addresses = client.get(f"/customers/{ALICE}/addresses").get_json()
    assert [(a["label"], a["is_default"]) for a in addresses] == [("home", False), ("office", True)]
    assert client.post(f"/customers/{ALICE}/addresses", json={"line1": "x", "city": "y", "postcode": "1",
                                                              "country": "US"}).status_code == 422


def test_credit_summary_shows_reserved_credit_and_ledger(client, place):
    order = place(items=[{"sku": "PAN-200", "quantity": 1}]).get_json()

    credit = client.get(f"/customers/{ALICE}/credit").get_json()

    assert credit["credit_limit_cents"] == 50_000
    assert credit["credit_reserved_cents"] == order["total_cents"]
    assert credit["available_credit_cents"] == 50_000 - order["total_cents"]
    assert credit["ledger"][0]["kind"] == "reserve"


def test_notification_preferences_and_history(client, place, worker):
    assert client.get(f"/customers/{ALICE}/preferences").get_json()["marketing"] is False

    prefs = client.put(f"/customers/{ALICE}/preferences", json={"shipping": False, "marketing": True})

    assert prefs.get_json() == {"orders": True, "shipping": False, "marketing": True, "stock": True}
    assert client.get(f"/customers/{ALICE}").get_json()["marketing_opt_in"] is True
    place()
    worker()
    history = client.get(f"/customers/{ALICE}/notifications").get_json()
    assert [(n["template"], n["status"]) for n in history] == [("invoice", "sent"), ("order_confirmation", "sent")]
    assert client.get("/customers/999/notifications").status_code == 404
