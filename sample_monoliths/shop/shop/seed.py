"""Demo data for development databases (``flask seed-demo``) and the test suite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.models import (
    Address,
    Category,
    Coupon,
    Customer,
    NotificationPreference,
    Product,
    StockItem,
    StockMovement,
    Warehouse,
)

WAREHOUSES = [
    # code, name, country, priority (lower ships first)
    ("BER", "Berlin Tempelhof", "DE", 10),
    ("AMS", "Amsterdam Westpoort", "NL", 20),
]

CATEGORIES = [
    # slug, name, parent slug
    ("home", "Home", None),
    ("kitchen", "Kitchen", "home"),
    ("garden", "Garden", "home"),
    ("office", "Office", None),
]

PRODUCTS = [
    # sku, name, price cents, weight g, categories, stock per warehouse
    ("KET-100", "Kettle, brushed steel", 3_999, 1_200, ["kitchen"], {"BER": 40, "AMS": 10}),
    ("PAN-200", "Frying pan 28 cm", 4_500, 1_800, ["kitchen"], {"BER": 25}),
    ("KNF-300", "Chef's knife", 7_900, 300, ["kitchen"], {"BER": 3, "AMS": 2}),
    ("HOS-400", "Garden hose 25 m", 2_999, 3_500, ["garden"], {"BER": 15}),
    ("SHR-500", "Pruning shears", 1_899, 250, ["garden"], {"AMS": 30}),
    ("DSK-600", "Standing desk", 44_900, 28_000, ["office"], {"BER": 6}),
    ("LMP-700", "Desk lamp", 3_450, 900, ["office", "home"], {"BER": 12, "AMS": 12}),
    ("MUG-800", "Mug, set of 4", 1_990, 1_400, ["kitchen"], {}),
]

CUSTOMERS = [
    # email, name, business, vat, credit limit, address (line1, city, postcode, country)
    ("alice@example.com", "Alice Meyer", False, None, 50_000, ("Hauptstr. 1", "Berlin", "10115", "DE")),
    ("bob@bobs-bistro.example", "Bob's Bistro BV", True, "NL123456789B01", 500_000,
     ("Keizersgracht 10", "Amsterdam", "1015 CJ", "NL")),
    ("carol@example.com", "Carol Schulz", False, None, 3_000, ("Ringstr. 5", "Hamburg", "20095", "DE")),
]

COUPONS = [
    # code, kind, value, min order cents, description
    ("SPRING10", "percent", 10, 0, "Spring sale, 10% off"),
    ("FIVEOFF", "fixed", 500, 3_000, "5 EUR off orders over 30 EUR"),
    ("SHIPFREE", "free_shipping", 0, 0, "Free shipping"),
]


def seed_warehouses(session: Session) -> dict[str, Warehouse]:
    warehouses = {}
    for code, name, country, priority in WAREHOUSES:
        warehouses[code] = Warehouse(code=code, name=name, country=country, priority=priority)
        session.add(warehouses[code])
    return warehouses


def seed_catalog(session: Session) -> dict[str, Product]:
    categories: dict[str, Category] = {}
    for slug, name, parent in CATEGORIES:
        categories[slug] = Category(slug=slug, name=name, parent=categories.get(parent) if parent else None)
        session.add(categories[slug])
    products = {}
    for sku, name, price, weight, slugs, _ in PRODUCTS:
        products[sku] = Product(sku=sku, name=name, price_cents=price, weight_grams=weight,
                                description=f"{name}.", categories=[categories[s] for s in slugs])
        session.add(products[sku])
    return products


def seed_stock(session: Session, products: dict[str, Product], warehouses: dict[str, Warehouse]) -> int:
    units = 0
    for sku, *_, levels in PRODUCTS:
        for code, quantity in levels.items():
            item = StockItem(product=products[sku], warehouse=warehouses[code], on_hand=quantity,
                             reserved=0, reorder_level=5)
            session.add(item)
            session.add(StockMovement(stock_item=item, kind="restock", quantity=quantity, note="seed"))
            units += quantity
    return units


def seed_customers(session: Session) -> list[Customer]:
    customers = []
    for email, name, business, vat, limit, (line1, city, postcode, country) in CUSTOMERS:
        customer = Customer(email=email, name=name, is_business=business, vat_number=vat,
                            credit_limit_cents=limit)
        customer.addresses.append(Address(recipient=name, line1=line1, city=city, postcode=postcode,
                                          country=country, is_default=True))
        session.add(customer)
        customers.append(customer)
    session.flush()
    for customer in customers:
        for topic in ("orders", "shipping", "stock"):
            session.add(NotificationPreference(customer_id=customer.id, topic=topic, enabled=True))
    return customers


def seed_coupons(session: Session) -> list[Coupon]:
    coupons = [Coupon(code=code, kind=kind, value=value, min_order_cents=min_order, description=description,
                      per_customer_limit=1)
               for code, kind, value, min_order, description in COUPONS]
    session.add_all(coupons)
    return coupons


def seed_demo(session: Session) -> dict[str, Any]:
    """Load the demo data set unless the database already has products."""
    if session.scalar(select(func.count(Product.id))):
        return {"skipped": True}
    warehouses = seed_warehouses(session)
    products = seed_catalog(session)
    units = seed_stock(session, products, warehouses)
    customers = seed_customers(session)
    coupons = seed_coupons(session)
    session.flush()
    return {"skipped": False, "warehouses": len(warehouses), "products": len(products), "units": units,
            "customers": len(customers), "coupons": len(coupons)}
