"""CSV exports for finance (orders) and the warehouse (stock)."""

from __future__ import annotations

import csv
from datetime import date
from typing import IO

from sqlalchemy import text
from sqlalchemy.orm import Session

from shop.reporting.sales import inventory_valuation
from shop.utils.money import from_cents

# The "everything" export: one row per order line with customer, payment, shipment and
# coupon columns. Finance loads it into their spreadsheet every month.
ORDER_EXPORT_SQL = """
SELECT o.number, date(o.placed_at) AS placed_on, o.status, o.currency,
       cu.email AS customer_email, cu.is_business,
       l.sku, l.name AS product, l.quantity, l.returned_quantity,
       l.unit_price_cents, l.discount_cents AS line_discount_cents,
       o.shipping_cents, o.tax_cents, o.total_cents,
       (SELECT group_concat(p.method || ':' || p.status, ' ')
          FROM payments p WHERE p.order_id = o.id)            AS payments,
       (SELECT COALESCE(SUM(rf.amount_cents), 0) FROM refunds rf
          JOIN payments p ON p.id = rf.payment_id WHERE p.order_id = o.id) AS refunded_cents,
       s.carrier, s.tracking_number, s.status AS shipment_status, w.code AS warehouse,
       cp.code AS coupon
FROM orders o
JOIN customers cu     ON cu.id = o.customer_id
JOIN order_lines l    ON l.order_id = o.id
LEFT JOIN shipments s ON s.order_id = o.id
LEFT JOIN warehouses w ON w.id = s.warehouse_id
LEFT JOIN coupons cp  ON cp.id = o.coupon_id
WHERE date(o.placed_at) BETWEEN :start AND :end
ORDER BY o.placed_at, o.number, l.id
"""

MONEY_COLUMNS = ("unit_price_cents", "line_discount_cents", "shipping_cents", "tax_cents", "total_cents",
                 "refunded_cents")


def export_orders_csv(session: Session, start: date, end: date, out: IO[str]) -> int:
    """Write the order export to ``out``; returns the number of data rows."""
    result = session.execute(text(ORDER_EXPORT_SQL), {"start": start.isoformat(), "end": end.isoformat()})
    columns = list(result.keys())
    writer = csv.writer(out)
    writer.writerow([c.removesuffix("_cents") if c in MONEY_COLUMNS else c for c in columns])
    count = 0
    for row in result:
        values = dict(row._mapping)
        for column in MONEY_COLUMNS:
            values[column] = str(from_cents(values[column] or 0, values["currency"]))
        writer.writerow([values[c] for c in columns])
        count += 1
    return count


def export_stock_csv(session: Session, out: IO[str]) -> int:
    valuation = inventory_valuation(session)
    writer = csv.writer(out)
    writer.writerow(["warehouse", "sku", "name", "on_hand", "reserved", "available", "value"])
    for item in valuation["items"]:
        writer.writerow([item["warehouse"], item["sku"], item["name"], item["on_hand"], item["reserved"],
                         item["available"], str(from_cents(item["value_cents"]))])
    return len(valuation["items"])
