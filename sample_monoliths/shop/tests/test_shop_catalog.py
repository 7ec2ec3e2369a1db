"""Catalogue: browsing, product maintenance, categories, availability and back-in-stock."""

from __future__ import annotations

from sqlalchemy import select

from shop.models import BackInStockRequest, PriceChange, Product

ALICE = 1


def test_browse_products_with_search_category_and_pages(client):
    everything = client.get("/products?per_page=5").get_json()
    kitchen = client.get("/products?category=kitchen").get_json()
    search = client.get("/products?q=lamp").get_json()

    assert everything["total"] == 8
    assert len(everything["items"]) == 5
    assert everything["pages"] == 2
    assert sorted(p["sku"] for p in kitchen["items"]) == ["KET-100", "KNF-300", "MUG-800", "PAN-200"]
    assert [p["sku"] for p in search["items"]] == ["LMP-700"]
    assert sorted(search["items"][0]["categories"]) == ["home", "office"]
    assert client.get("/products?per_page=1000").status_code == 422


def test_product_detail_and_availability_across_warehouses(client):
    lamp = client.get("/products/lmp-700").get_json()
    availability = client.get("/products/LMP-700/availability").get_json()
    mug = client.get("/products/MUG-800").get_json()

    assert lamp["price"] == "€34.50"
    assert lamp["in_stock"] is True
    assert availability == {"sku": "LMP-700", "available": 24, "warehouses": [
        {"warehouse": "BER", "available": 12}, {"warehouse": "AMS", "available": 12}]}
    assert mug["in_stock"] is False
    assert client.get("/products/NOPE-1").status_code == 404


def test_create_product_needs_admin_token(client, admin):
    payload = {"sku": "tea-900", "name": "Teapot", "price": "24,90", "categories": ["kitchen"]}

    assert client.post("/products", json=payload).status_code == 403
    response = client.post("/products", json=payload, headers=admin)

    assert response.status_code == 201
    assert response.get_json()["sku"] == "TEA-900"
    assert response.get_json()["price_cents"] == 2_490
    assert client.post("/products", json=payload, headers=admin).status_code == 409
    assert client.post("/products", json={**payload, "sku": "TEA-901", "price": "free"},
                       headers=admin).status_code == 422


def test_price_change_is_recorded_and_used_by_new_orders(client, admin, place, db):
    response = client.patch("/products/KET-100", json={"price": "44.99", "description": "Now with a light"},
                            headers=admin)

    assert response.status_code == 200
    assert response.get_json()["price_history"] == [{"old": 3_999, "new": 4_499, "by": "test-admin"}]
    order = place(items=[{"sku": "KET-100", "quantity": 1}]).get_json()
    assert order["lines"][0]["unit_price_cents"] == 4_499
    with db() as session:
        assert session.scalar(select(PriceChange.changed_by)) == "test-admin"


def test_deactivated_products_disappear_and_cannot_be_ordered(client, admin, place):
    client.patch("/products/HOS-400", json={"active": False, "categories": ["garden"]}, headers=admin)

    garden = client.get("/products?category=garden").get_json()
    response = place(items=[{"sku": "HOS-400", "quantity": 1}])

    assert [p["sku"] for p in garden["items"]] == ["SHR-500"]
    assert response.status_code == 422
    assert response.get_json()["details"] == {"skus": ["HOS-400"]}


def test_category_tree_and_new_subcategory(client, admin):
    response = client.post("/categories", json={"slug": "bbq", "name": "Barbecue", "parent": "garden"},
                           headers=admin)

    assert response.status_code == 201
    assert response.get_json()["path"] == ["Home", "Garden", "Barbecue"]
    tree = client.get("/categories").get_json()
    home = next(c for c in tree if c["slug"] == "home")
    garden = next(c for c in home["children"] if c["slug"] == "garden")
    assert garden["children"] == [{"slug": "bbq", "name": "Barbecue", "children": []}]
    assert client.post("/categories", json={"slug": "bbq", "name": "Again"}, headers=admin).status_code == 409
    assert client.post("/categories", json={"slug": "no spaces!", "name": "x"}, headers=admin).status_code == 422


def test_back_in_stock_subscription_is_notified_after_restock(client, admin, db, worker, mailer):
    subscribed = client.post("/products/MUG-800/notify-me", json={"customer_id": ALICE})
    assert subscribed.status_code == 201
    assert client.post("/products/MUG-800/notify-me", json={}).status_code == 422

    client.post("/admin/stock/restock", json={"sku": "MUG-800", "quantity": 20}, headers=admin)
    stats = worker()

    assert stats.by_task == {"notify_back_in_stock": 1, "deliver_notification": 1}
    [mail] = mailer.sent_to("alice@example.com")
    assert mail.subject == "Mug, set of 4 is back in stock"
    with db() as session:
        request = session.scalar(select(BackInStockRequest))
        assert request.notified_at is not None
        assert session.scalar(select(Product.active).where(Product.sku == "MUG-800")) is True
