"""Prices, discounts and VAT.

Catalogue prices are net; VAT is added at checkout according to the destination country.
EU business customers with a VAT number shipping outside Germany pay no VAT (reverse
charge).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from shop.models import Coupon, Customer, Product
from shop.utils.money import allocate, basis_points_of, percent_of

HOME_COUNTRY = "DE"

# Volume discount for business customers: (minimum quantity, percent off)
VOLUME_TIERS = [(50, 10), (10, 5)]


@dataclass
class CouponEffect:
    discount_cents: int = 0
    free_shipping: bool = False


def unit_price(product: Product, customer: Customer | None, quantity: int) -> int:
    """The net unit price ``customer`` pays for ``quantity`` units of ``product``."""
    price = product.price_cents
    if customer is not None and customer.is_business:
        for min_quantity, percent in VOLUME_TIERS:
            if quantity >= min_quantity:
                return price - percent_of(price, percent)
    return price


def vat_rate(country: str) -> int:
    """VAT rate for deliveries to ``country`` in basis points."""
    config = current_app.config
    return config["VAT_RATES"].get(country, config["DEFAULT_VAT_RATE"])


def is_reverse_charge(customer: Customer, country: str) -> bool:
    return bool(customer.is_business and customer.vat_number and country != HOME_COUNTRY)


def tax_for(customer: Customer, country: str, taxable_cents: int) -> int:
    if taxable_cents <= 0 or is_reverse_charge(customer, country):
        return 0
    return basis_points_of(taxable_cents, vat_rate(country))


def coupon_effect(coupon: Coupon | None, subtotal_cents: int) -> CouponEffect:
    """What ``coupon`` takes off an order with the given subtotal."""
    if coupon is None:
        return CouponEffect()
    if coupon.kind == "percent":
        return CouponEffect(discount_cents=percent_of(subtotal_cents, coupon.value))
    if coupon.kind == "fixed":
        return CouponEffect(discount_cents=min(coupon.value, subtotal_cents))
    if coupon.kind == "free_shipping":
        return CouponEffect(free_shipping=True)
    raise ValueError(f"unknown coupon kind {coupon.kind}")


def spread_discount(line_totals: list[int], discount_cents: int) -> list[int]:
    """Distribute an order-level discount over the lines, proportionally to their totals."""
    return allocate(discount_cents, line_totals)
