"""Stock: what the warehouses hold, what is promised to orders, and every movement.

``StockItem.on_hand`` counts physical units on the shelf; ``StockItem.reserved`` the units
promised to confirmed orders that have not shipped yet. Every change writes a
``StockMovement`` so the warehouse team can reconcile with the stocktake.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.errors import Conflict, NotFound, OutOfStock
from shop.models import (
    Order,
    OrderLine,
    OrderStatus,
    Product,
    StockItem,
    StockMovement,
    StockReservation,
    Warehouse,
)
from shop.tasks import enqueue
from shop.utils.dates import days_ago, utcnow
from shop.utils.logs import get_logger, log_event
from shop.utils.validation import positive_int

log = get_logger("inventory")


@dataclass
class StockLevel:
    warehouse: str
    on_hand: int
    reserved: int
    available: int


@dataclass
class LowStockItem:
    sku: str
    name: str
    warehouse: str
    available: int
    reorder_level: int


def get_warehouse(session: Session, code: str | None = None) -> Warehouse:
    code = (code or current_app.config["DEFAULT_WAREHOUSE"]).upper()
    warehouse = session.scalar(select(Warehouse).where(Warehouse.code == code))
    if warehouse is None:
        raise NotFound(f"warehouse {code} does not exist")
    return warehouse


def _product_by_sku(session: Session, sku: str) -> Product:
    product = session.scalar(select(Product).where(Product.sku == sku.upper()))
    if product is None:
        raise NotFound(f"product {sku} does not exist")
    return product


def get_stock_item(session: Session, product: Product, warehouse: Warehouse, create: bool = False) -> StockItem | None:
    item = session.scalar(
        select(StockItem).where(StockItem.product_id == product.id, StockItem.warehouse_id == warehouse.id)
    )
    if item is None and create:
        item = StockItem(product=product, warehouse=warehouse, on_hand=0, reserved=0,
                         reorder_level=current_app.config["LOW_STOCK_THRESHOLD"])
        session.add(item)
        session.flush()
    return item


def stock_levels(session: Session, product: Product) -> list[StockLevel]:
    rows = session.execute(
        select(StockItem, Warehouse.code)
        .join(Warehouse)
        .where(StockItem.product_id == product.id)
        .order_by(Warehouse.priority, Warehouse.code)
    ).all()
    return [StockLevel(code, item.on_hand, item.reserved, item.available) for item, code in rows]


def available_quantity(session: Session, product_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(StockItem.on_hand - StockItem.reserved), 0))
        .where(StockItem.product_id == product_id)
    )
    return int(total or 0)


def _record(session: Session, item: StockItem, kind: str, quantity: int, *, order_id: int | None = None,
            note: str | None = None) -> StockMovement:
    movement = StockMovement(stock_item=item, kind=kind, quantity=quantity, order_id=order_id, note=note)
    session.add(movement)
    return movement


def reserve_line(session: Session, order: Order, line: OrderLine) -> list[StockReservation]:
    """Reserve stock for one order line, across warehouses in priority order.

    Raises OutOfStock (and reserves nothing for the line) if the warehouses together do
    not have enough.
    """
    items = session.scalars(
        select(StockItem).join(Warehouse)
        .where(StockItem.product_id == line.product_id)
        .order_by(Warehouse.priority, Warehouse.code)
        .with_for_update()
    ).all()
    available = sum(max(0, item.available) for item in items)
    if available < line.quantity:
        raise OutOfStock(line.sku, line.quantity, available)
    remaining = line.quantity
    reservations = []
    for item in items:
        if remaining == 0:
            break
        take = min(remaining, max(0, item.available))
        if take == 0:
            continue
        item.reserved += take
        reservation = StockReservation(order_id=order.id, order_line_id=line.id, stock_item_id=item.id,
                                       quantity=take)
        session.add(reservation)
        _record(session, item, "reserve", take, order_id=order.id, note=f"line {line.id}")
        reservations.append(reservation)
        remaining -= take
    return reservations


def reserve_for_order(session: Session, order: Order) -> list[StockReservation]:
    reservations: list[StockReservation] = []
    for line in order.lines:
        reservations.extend(reserve_line(session, order, line))
    return reservations


def active_reservations(session: Session, order: Order) -> list[StockReservation]:
    return list(session.scalars(
        select(StockReservation).where(StockReservation.order_id == order.id,
                                       StockReservation.status == "active")
    ))


def release_reservation(session: Session, reservation: StockReservation, note: str) -> None:
    item = reservation.stock_item
    item.reserved = max(0, item.reserved - reservation.quantity)
    reservation.status = "released"
    reservation.closed_at = utcnow()
    _record(session, item, "release", reservation.quantity, order_id=reservation.order_id, note=note)


def release_stale_reservations(session: Session, older_than_days: int = 1) -> int:
    """Repair job: release reservations still active on cancelled or refunded orders.

    Should never find anything; it did after the 2022 payment outage, so it stays.
    """
    stale = session.scalars(
        select(StockReservation)
        .join(Order, Order.id == StockReservation.order_id)
        .where(
            StockReservation.status == "active",
            Order.status.in_([OrderStatus.CANCELLED, OrderStatus.REFUNDED]),
            StockReservation.created_at <= days_ago(older_than_days),
        )
    ).all()
    for reservation in stale:
        release_reservation(session, reservation, "stale reservation released")
    if stale:
        log_event(log, "stock.stale_released", count=len(stale))
    return len(stale)


def consume_for_order(session: Session, order: Order) -> int:
    """The order left the warehouse: reserved units leave ``on_hand`` for good."""
    shipped = 0
    for reservation in active_reservations(session, order):
        item = reservation.stock_item
        item.on_hand -= reservation.quantity
        item.reserved -= reservation.quantity
        reservation.status = "consumed"
        reservation.closed_at = utcnow()
        _record(session, item, "ship", -reservation.quantity, order_id=order.id)
        shipped += reservation.quantity
    return shipped


def warehouse_for_order(session: Session, order: Order) -> Warehouse | None:
    """The warehouse holding most of the order's reserved units (ships the parcel)."""
    row = session.execute(
        select(StockItem.warehouse_id, func.sum(StockReservation.quantity).label("units"))
        .join(StockReservation, StockReservation.stock_item_id == StockItem.id)
        .where(StockReservation.order_id == order.id)
        .group_by(StockItem.warehouse_id)
        .order_by(func.sum(StockReservation.quantity).desc(), StockItem.warehouse_id)
    ).first()
    return session.get(Warehouse, row.warehouse_id) if row else None


def restock(session: Session, sku: str, quantity: int, warehouse_code: str | None = None,
            note: str | None = None) -> StockItem:
    """Goods received from a supplier."""
    quantity = positive_int(quantity, "quantity")
    product = _product_by_sku(session, sku)
    warehouse = get_warehouse(session, warehouse_code)
    item = get_stock_item(session, product, warehouse, create=True)
    assert item is not None
    was_sold_out = available_quantity(session, product.id) <= 0
    item.on_hand += quantity
    _record(session, item, "restock", quantity, note=note)
    log_event(log, "stock.restocked", sku=product.sku, warehouse=warehouse.code, quantity=quantity)
    if was_sold_out:
        enqueue("notify_back_in_stock", product.id)
    return item


def adjust(session: Session, sku: str, counted: int, warehouse_code: str | None = None,
           reason: str = "stocktake") -> StockItem:
    """Set ``on_hand`` to what the stocktake counted."""
    counted = positive_int(counted, "on_hand", allow_zero=True)
    product = _product_by_sku(session, sku)
    warehouse = get_warehouse(session, warehouse_code)
    item = get_stock_item(session, product, warehouse, create=True)
    assert item is not None
    if counted < item.reserved:
        raise Conflict(f"{item.reserved} units of {sku} are reserved for orders; cannot set stock to {counted}")
    delta = counted - item.on_hand
    if delta:
        item.on_hand = counted
        _record(session, item, "adjust", delta, note=reason)
    return item


def transfer(session: Session, sku: str, quantity: int, from_code: str, to_code: str) -> tuple[StockItem, StockItem]:
    quantity = positive_int(quantity, "quantity")
    product = _product_by_sku(session, sku)
    source = get_stock_item(session, product, get_warehouse(session, from_code))
    if source is None or source.available < quantity:
        raise OutOfStock(product.sku, quantity, source.available if source else 0)
    target = get_stock_item(session, product, get_warehouse(session, to_code), create=True)
    assert target is not None
    source.on_hand -= quantity
    target.on_hand += quantity
    _record(session, source, "adjust", -quantity, note=f"transfer to {to_code.upper()}")
    _record(session, target, "adjust", quantity, note=f"transfer from {from_code.upper()}")
    return source, target


def receive_return(session: Session, line: OrderLine, quantity: int, warehouse: Warehouse | None = None) -> StockItem:
    """Returned goods go back on the shelf of the warehouse that shipped them."""
    warehouse = warehouse or get_warehouse(session)
    item = get_stock_item(session, line.product, warehouse, create=True)
    assert item is not None
    item.on_hand += quantity
    _record(session, item, "return", quantity, order_id=line.order_id, note=f"return of line {line.id}")
    return item


def low_stock(session: Session, product_ids: list[int] | None = None) -> list[LowStockItem]:
    stmt = (
        select(StockItem, Product, Warehouse)
        .join(Product, Product.id == StockItem.product_id)
        .join(Warehouse, Warehouse.id == StockItem.warehouse_id)
        .where(Product.active.is_(True), StockItem.on_hand - StockItem.reserved <= StockItem.reorder_level)
        .order_by(Product.sku, Warehouse.code)
    )
    if product_ids:
        stmt = stmt.where(StockItem.product_id.in_(product_ids))
    return [
        LowStockItem(product.sku, product.name, warehouse.code, item.available, item.reorder_level)
        for item, product, warehouse in session.execute(stmt)
    ]


def movements(session: Session, sku: str, limit: int = 50) -> list[StockMovement]:
    product = _product_by_sku(session, sku)
    return list(session.scalars(
        select(StockMovement).join(StockItem)
        .where(StockItem.product_id == product.id)
        .order_by(StockMovement.id.desc())
        .limit(limit)
    ))
