"""Model -> JSON. The field names are part of the public API; add, never rename."""

from __future__ import annotations

from typing import Any

from shop.models import (
    Address,
    Category,
    Coupon,
    Customer,
    Notification,
    Order,
    Payment,
    Product,
    Shipment,
    StockMovement,
)
from shop.utils.dates import isoformat
from shop.utils.money import format_money


def customer_to_dict(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "email": customer.email,
        "name": customer.name,
        "phone": customer.phone,
        "status": customer.status,
        "is_business": customer.is_business,
        "vat_number": customer.vat_number,
        "marketing_opt_in": customer.marketing_opt_in,
        "created_at": isoformat(customer.created_at),
    }


def address_to_dict(address: Address) -> dict[str, Any]:
    return {
        "id": address.id,
        "label": address.label,
        "recipient": address.recipient,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postcode": address.postcode,
        "country": address.country,
        "is_default": address.is_default,
    }


def category_to_dict(category: Category) -> dict[str, Any]:
    return {"slug": category.slug, "name": category.name, "path": category.path()}


def product_to_dict(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "price_cents": product.price_cents,
        "price": format_money(product.price_cents, product.currency),
        "currency": product.currency,
        "weight_grams": product.weight_grams,
        "active": product.active,
        "categories": [c.slug for c in product.categories],
    }


def payment_to_dict(payment: Payment) -> dict[str, Any]:
    return {
        "reference": payment.reference,
        "method": payment.method,
        "amount_cents": payment.amount_cents,
        "status": payment.status,
        "refunded_cents": sum(r.amount_cents for r in payment.refunds),
        "due_date": isoformat(payment.due_date),
        "captured_at": isoformat(payment.captured_at),
    }


def shipment_to_dict(shipment: Shipment) -> dict[str, Any]:
    return {
        "id": shipment.id,
        "order": shipment.order.number,
        "carrier": shipment.carrier,
        "service_level": shipment.service_level,
        "status": shipment.status,
        "tracking_number": shipment.tracking_number,
        "warehouse": shipment.warehouse.code if shipment.warehouse else None,
        "estimated_delivery": isoformat(shipment.estimated_delivery),
        "shipped_at": isoformat(shipment.shipped_at),
        "delivered_at": isoformat(shipment.delivered_at),
        "events": [
            {"status": e.status, "location": e.location, "at": isoformat(e.occurred_at)}
            for e in shipment.tracking_events
        ],
    }


def order_to_dict(order: Order, *, detail: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": order.number,
        "customer_id": order.customer_id,
        "status": order.status,
        "currency": order.currency,
        "subtotal_cents": order.subtotal_cents,
        "discount_cents": order.discount_cents,
        "shipping_cents": order.shipping_cents,
        "tax_cents": order.tax_cents,
        "total_cents": order.total_cents,
        "total": format_money(order.total_cents, order.currency),
        "payment_method": order.payment_method,
        "paid_cents": order.paid_cents,
        "refunded_cents": order.refunded_cents,
        "placed_at": isoformat(order.placed_at),
    }
    if detail:
        data["lines"] = [
            {"sku": line.sku, "name": line.name, "quantity": line.quantity,
             "unit_price_cents": line.unit_price_cents, "discount_cents": line.discount_cents,
             "total_cents": line.line_total_cents, "returned_quantity": line.returned_quantity}
            for line in order.lines
        ]
        data["payments"] = [payment_to_dict(p) for p in order.payments]
        data["shipment"] = shipment_to_dict(order.shipment) if order.shipment else None
        data["coupon"] = order.coupon.code if order.coupon else None
        data["ship_to"] = order.ship_to
    return data


def notification_to_dict(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "template": notification.template,
        "subject": notification.subject,
        "status": notification.status,
        "created_at": isoformat(notification.created_at),
        "sent_at": isoformat(notification.sent_at),
    }


def coupon_to_dict(coupon: Coupon) -> dict[str, Any]:
    return {
        "code": coupon.code,
        "kind": coupon.kind,
        "value": coupon.value,
        "description": coupon.description,
        "min_order_cents": coupon.min_order_cents,
        "max_redemptions": coupon.max_redemptions,
        "times_redeemed": coupon.times_redeemed,
        "customer_id": coupon.customer_id,
        "active": coupon.active,
        "expires_at": isoformat(coupon.expires_at),
    }


def movement_to_dict(movement: StockMovement) -> dict[str, Any]:
    return {
        "kind": movement.kind,
        "quantity": movement.quantity,
        "warehouse": movement.stock_item.warehouse.code,
        "order_id": movement.order_id,
        "note": movement.note,
        "at": isoformat(movement.created_at),
    }
