"""Sales, product, customer and stock reports.

These are plain SQL on purpose: finance wrote the first versions in the database console
and wanted to keep reading them. They join across every part of the schema.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shop.models import DailySales
from shop.utils.dates import utcnow
from shop.utils.money import sum_cents

# Orders that count as sales: placed and not cancelled.
SOLD_STATUSES = ("confirmed", "awaiting_payment", "shipped", "delivered", "partially_refunded", "refunded")

SALES_BY_DAY_SQL = """
SELECT date(o.placed_at)                          AS day,
       COUNT(DISTINCT o.id)                       AS orders,
       COALESCE(SUM(o.subtotal_cents), 0)         AS gross_cents,
       COALESCE(SUM(o.discount_cents), 0)         AS discount_cents,
       COALESCE(SUM(o.total_cents), 0)            AS total_cents,
       COALESCE(SUM(r.refunded), 0)               AS refund_cents,
       COALESCE(SUM(l.items), 0)                  AS items
FROM orders o
LEFT JOIN (SELECT order_id, SUM(quantity) AS items FROM order_lines GROUP BY order_id) l
       ON l.order_id = o.id
LEFT JOIN (SELECT p.order_id, SUM(rf.amount_cents) AS refunded
             FROM refunds rf JOIN payments p ON p.id = rf.payment_id
            GROUP BY p.order_id) r
       ON r.order_id = o.id
WHERE o.status IN ({statuses})
  AND date(o.placed_at) BETWEEN :start AND :end
GROUP BY date(o.placed_at)
ORDER BY day
"""

TOP_PRODUCTS_SQL = """
SELECT p.sku, p.name,
       COALESCE((SELECT MIN(c.name) FROM categories c
                   JOIN product_categories pc ON pc.category_id = c.id
                  WHERE pc.product_id = p.id), '-')            AS category,
       SUM(l.quantity - l.returned_quantity)                   AS units,
       SUM(l.unit_price_cents * l.quantity - l.discount_cents) AS revenue_cents,
       (SELECT COALESCE(SUM(si.on_hand - si.reserved), 0)
          FROM stock_items si WHERE si.product_id = p.id)      AS available
FROM order_lines l
JOIN orders o   ON o.id = l.order_id
JOIN products p ON p.id = l.product_id
WHERE o.status IN ({statuses})
  AND date(o.placed_at) BETWEEN :start AND :end
GROUP BY p.id
ORDER BY revenue_cents DESC, p.sku
LIMIT :limit
"""

CUSTOMER_SUMMARY_SQL = """
SELECT cu.id, cu.email, cu.name, cu.credit_limit_cents, cu.credit_reserved_cents, cu.store_credit_cents,
       COUNT(DISTINCT o.id)                                  AS orders,
       COALESCE(SUM(CASE WHEN pay.status IN ('captured', 'partially_refunded', 'refunded')
                         THEN pay.amount_cents ELSE 0 END), 0) AS paid_cents,
       (SELECT COALESCE(SUM(rf.amount_cents), 0) FROM refunds rf
          JOIN payments p2 ON p2.id = rf.payment_id
          JOIN orders o2 ON o2.id = p2.order_id
         WHERE o2.customer_id = cu.id)                       AS refunded_cents,
       (SELECT COUNT(*) FROM coupon_redemptions cr
         WHERE cr.customer_id = cu.id AND cr.reversed = 0)   AS coupons_used,
       (SELECT COUNT(*) FROM shipments s JOIN orders o3 ON o3.id = s.order_id
         WHERE o3.customer_id = cu.id AND s.status = 'delivered') AS deliveries,
       (SELECT COUNT(*) FROM notifications n WHERE n.customer_id = cu.id) AS messages
FROM customers cu
LEFT JOIN orders o     ON o.customer_id = cu.id AND o.status != 'cancelled'
LEFT JOIN payments pay ON pay.order_id = o.id
WHERE cu.id = :customer_id
GROUP BY cu.id
"""

INVENTORY_VALUATION_SQL = """
SELECT w.code AS warehouse, p.sku, p.name,
       si.on_hand, si.reserved, si.on_hand - si.reserved AS available,
       si.on_hand * p.price_cents AS value_cents,
       (SELECT MAX(m.created_at) FROM stock_movements m WHERE m.stock_item_id = si.id) AS last_movement
FROM stock_items si
JOIN products p   ON p.id = si.product_id
JOIN warehouses w ON w.id = si.warehouse_id
WHERE si.on_hand > 0 OR si.reserved > 0
ORDER BY w.code, p.sku
"""

ORDER_PIPELINE_SQL = """
SELECT o.status AS order_status,
       COALESCE(s.status, 'none') AS shipment_status,
       COUNT(*) AS orders,
       SUM(o.total_cents) AS total_cents,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'pending')
                THEN 1 ELSE 0 END) AS unpaid
FROM orders o
LEFT JOIN shipments s ON s.order_id = o.id
GROUP BY o.status, COALESCE(s.status, 'none')
ORDER BY o.status, shipment_status
"""


def _in_list(values: tuple[str, ...]) -> str:
    # Constants only -- never pass user input here.
    return ", ".join(f"'{v}'" for v in values)


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in result]


def sales_by_day(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    sql = text(SALES_BY_DAY_SQL.format(statuses=_in_list(SOLD_STATUSES)))
    rows = _rows(session.execute(sql, {"start": start.isoformat(), "end": end.isoformat()}))
    for row in rows:
        row["net_cents"] = row["total_cents"] - row["refund_cents"]
    return rows


def sales_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    keys = ("orders", "items", "gross_cents", "discount_cents", "total_cents", "refund_cents", "net_cents")
    return {key: sum_cents(row[key] for row in rows) for key in keys}


def top_products(session: Session, start: date, end: date, limit: int = 10) -> list[dict[str, Any]]:
    sql = text(TOP_PRODUCTS_SQL.format(statuses=_in_list(SOLD_STATUSES)))
    return _rows(session.execute(sql, {"start": start.isoformat(), "end": end.isoformat(), "limit": limit}))


def customer_summary(session: Session, customer_id: int) -> dict[str, Any] | None:
    row = session.execute(text(CUSTOMER_SUMMARY_SQL), {"customer_id": customer_id}).first()
    return dict(row._mapping) if row else None


def inventory_valuation(session: Session) -> dict[str, Any]:
    rows = _rows(session.execute(text(INVENTORY_VALUATION_SQL)))
    by_warehouse: dict[str, int] = {}
    for row in rows:
        by_warehouse[row["warehouse"]] = by_warehouse.get(row["warehouse"], 0) + row["value_cents"]
    return {"items": rows, "by_warehouse": by_warehouse, "total_cents": sum(by_warehouse.values())}


def order_pipeline(session: Session) -> list[dict[str, Any]]:
    return _rows(session.execute(text(ORDER_PIPELINE_SQL)))


def snapshot_day(session: Session, day: date) -> DailySales:
    """Write (or rewrite) the ``daily_sales`` row for ``day``."""
    rows = sales_by_day(session, day, day)
    totals = sales_totals(rows)
    snapshot = session.scalar(select(DailySales).where(DailySales.day == day))
    if snapshot is None:
        snapshot = DailySales(day=day)
        session.add(snapshot)
    snapshot.orders_count = totals["orders"]
    snapshot.items_sold = totals["items"]
    snapshot.gross_cents = totals["gross_cents"]
    snapshot.discount_cents = totals["discount_cents"]
    snapshot.refund_cents = totals["refund_cents"]
    snapshot.net_cents = totals["net_cents"]
    snapshot.computed_at = utcnow()
    return snapshot


def snapshots(session: Session, start: date, end: date) -> list[DailySales]:
    return list(session.scalars(
        select(DailySales).where(DailySales.day.between(start, end)).order_by(DailySales.day)
    ))
