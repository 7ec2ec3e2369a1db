"""The database models. All of them.

This file started as the models of the original 2015 shop and every team has added to it
since. Amounts are integer cents (see ``shop.utils.money``), timestamps naive UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shop.utils.dates import utcnow


class Base(DeclarativeBase):
    """Declarative base of every model."""


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --------------------------------------------------------------------------- customers


class Customer(TimestampMixin, Base):
    """A buyer. Business customers pay by invoice and get a higher credit limit.

    ``credit_limit_cents`` caps the value of a customer's open (undelivered or unpaid)
    orders; ``credit_reserved_cents`` is how much of it open orders use right now.
    ``store_credit_cents`` is money we owe the customer (refunds, goodwill) that can be
    spent at checkout.
    """

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[Optional[str]] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default="active")
    is_business: Mapped[bool] = mapped_column(Boolean, default=False)
    vat_number: Mapped[Optional[str]] = mapped_column(String(32))
    credit_limit_cents: Mapped[int] = mapped_column(Integer, default=0)
    credit_reserved_cents: Mapped[int] = mapped_column(Integer, default=0)
    store_credit_cents: Mapped[int] = mapped_column(Integer, default=0)
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)

    addresses: Mapped[list[Address]] = relationship(back_populates="customer", cascade="all, delete-orphan")
    orders: Mapped[list[Order]] = relationship(back_populates="customer")
    credit_transactions: Mapped[list[CreditTransaction]] = relationship(back_populates="customer")

    @property
    def available_credit_cents(self) -> int:
        return self.credit_limit_cents - self.credit_reserved_cents

    def default_address(self) -> Optional[Address]:
        for address in self.addresses:
            if address.is_default:
                return address
        return self.addresses[0] if self.addresses else None


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    label: Mapped[str] = mapped_column(String(50), default="home")
    recipient: Mapped[str] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[Optional[str]] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="addresses")

    def one_line(self) -> str:
        parts = [self.recipient, self.line1, self.line2, f"{self.postcode} {self.city}", self.country]
        return ", ".join(p for p in parts if p)


class CreditTransaction(Base):
    """Ledger of every change to a customer's reserved credit and store credit."""

    __tablename__ = "credit_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("orders.id"))
    # reserve / release / limit_change / store_credit_issued / store_credit_spent
    kind: Mapped[str] = mapped_column(String(30))
    amount_cents: Mapped[int] = mapped_column(Integer)
    note: Mapped[Optional[str]] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="credit_transactions")


# --------------------------------------------------------------------------- catalogue

product_categories = Table(
    "product_categories",
    Base.metadata,
    Column("product_id", ForeignKey("products.id"), primary_key=True),
    Column("category_id", ForeignKey("categories.id"), primary_key=True),
)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("categories.id"))

    parent: Mapped[Optional[Category]] = relationship(remote_side="Category.id", back_populates="children")
    children: Mapped[list[Category]] = relationship(back_populates="parent")
    products: Mapped[list[Product]] = relationship(secondary=product_categories, back_populates="categories")

    def path(self) -> list[str]:
        node: Optional[Category] = self
        names: list[str] = []
        while node is not None:
            names.append(node.name)
            node = node.parent
        return list(reversed(names))


class Product(TimestampMixin, Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    weight_grams: Mapped[int] = mapped_column(Integer, default=500)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    categories: Mapped[list[Category]] = relationship(secondary=product_categories, back_populates="products")
    stock_items: Mapped[list[StockItem]] = relationship(back_populates="product")
    price_changes: Mapped[list[PriceChange]] = relationship(
        back_populates="product", order_by="PriceChange.changed_at"
    )


class PriceChange(Base):
    __tablename__ = "price_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    old_price_cents: Mapped[int] = mapped_column(Integer)
    new_price_cents: Mapped[int] = mapped_column(Integer)
    changed_by: Mapped[str] = mapped_column(String(100), default="system")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship(back_populates="price_changes")


# --------------------------------------------------------------------------- inventory


class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    priority: Mapped[int] = mapped_column(Integer, default=100)

    stock_items: Mapped[list[StockItem]] = relationship(back_populates="warehouse")


class StockItem(Base):
    """How many units of a product a warehouse holds, and how many are promised to orders."""

    __tablename__ = "stock_items"
    __table_args__ = (UniqueConstraint("product_id", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    reorder_level: Mapped[int] = mapped_column(Integer, default=5)

    product: Mapped[Product] = relationship(back_populates="stock_items")
    warehouse: Mapped[Warehouse] = relationship(back_populates="stock_items")

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(Base):
    """Append-only log of stock changes. ``quantity`` is signed (+ in, - out)."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    stock_item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"), index=True)
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("orders.id"))
    # restock / adjust / reserve / release / ship / return / import
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)
    note: Mapped[Optional[str]] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    stock_item: Mapped[StockItem] = relationship()


class StockReservation(Base):
    __tablename__ = "stock_reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    stock_item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active/released/consumed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[Optional[datetime]] = mapped_column()

    stock_item: Mapped[StockItem] = relationship()


# --------------------------------------------------------------------------- orders


class OrderStatus(StrEnum):
    PENDING = "pending"
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class Order(TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(30), default=OrderStatus.PENDING.value)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    subtotal_cents: Mapped[int] = mapped_column(Integer, default=0)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    shipping_cents: Mapped[int] = mapped_column(Integer, default=0)
    tax_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    payment_method: Mapped[str] = mapped_column(String(20), default="card")
    coupon_id: Mapped[Optional[int]] = mapped_column(ForeignKey("coupons.id"))
    shipping_address_id: Mapped[Optional[int]] = mapped_column(ForeignKey("addresses.id"))
    # Address snapshot: the customer may edit or delete the address later.
    ship_to: Mapped[str] = mapped_column(String(500), default="")
    ship_country: Mapped[str] = mapped_column(String(2), default="DE")
    notes: Mapped[Optional[str]] = mapped_column(Text)
    placed_at: Mapped[Optional[datetime]] = mapped_column()

    customer: Mapped[Customer] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )
    payments: Mapped[list[Payment]] = relationship(back_populates="order", order_by="Payment.id")
    shipment: Mapped[Optional[Shipment]] = relationship(back_populates="order", uselist=False)
    coupon: Mapped[Optional[Coupon]] = relationship()

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments if p.status in ("captured", "partially_refunded", "refunded"))

    @property
    def refunded_cents(self) -> int:
        return sum(r.amount_cents for p in self.payments for r in p.refunds)


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity - self.discount_cents


class OrderEvent(Base):
    """Status history of an order, shown in the back office timeline."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[Optional[str]] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100), default="system")
    note: Mapped[Optional[str]] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")


# --------------------------------------------------------------------------- payments


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))  # card / store_credit / invoice
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # pending / captured / voided / partially_refunded / refunded / disputed
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    gateway_reference: Mapped[Optional[str]] = mapped_column(String(64))
    due_date: Mapped[Optional[date]] = mapped_column(Date)
    captured_at: Mapped[Optional[datetime]] = mapped_column()
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="payments")
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    @property
    def refundable_cents(self) -> int:
        if self.status not in ("captured", "partially_refunded"):
            return 0
        return self.amount_cents - sum(r.amount_cents for r in self.refunds)


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(255), default="")
    to_store_credit: Mapped[bool] = mapped_column(Boolean, default=False)
    gateway_reference: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="refunds")


# --------------------------------------------------------------------------- shipping


class Shipment(TimestampMixin, Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    warehouse_id: Mapped[Optional[int]] = mapped_column(ForeignKey("warehouses.id"))
    carrier: Mapped[str] = mapped_column(String(20))
    service_level: Mapped[str] = mapped_column(String(20), default="standard")
    # pending / shipped / in_transit / delivered / cancelled / returned
    status: Mapped[str] = mapped_column(String(20), default="pending")
    tracking_number: Mapped[Optional[str]] = mapped_column(String(40), unique=True)
    cost_cents: Mapped[int] = mapped_column(Integer, default=0)
    weight_grams: Mapped[int] = mapped_column(Integer, default=0)
    ship_to: Mapped[str] = mapped_column(String(500))
    country: Mapped[str] = mapped_column(String(2))
    estimated_delivery: Mapped[Optional[date]] = mapped_column(Date)
    shipped_at: Mapped[Optional[datetime]] = mapped_column()
    delivered_at: Mapped[Optional[datetime]] = mapped_column()

    order: Mapped[Order] = relationship(back_populates="shipment")
    warehouse: Mapped[Optional[Warehouse]] = relationship()
    tracking_events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment", order_by="TrackingEvent.occurred_at"
    )


class TrackingEvent(Base):
    __tablename__ = "tracking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    status: Mapped[str] = mapped_column(String(30))
    location: Mapped[Optional[str]] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    raw: Mapped[Optional[str]] = mapped_column(Text)

    shipment: Mapped[Shipment] = relationship(back_populates="tracking_events")


# --------------------------------------------------------------------------- notifications


class Notification(Base):
    """An outgoing message. Rows are written ``queued`` and sent by a background task."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("orders.id"))
    channel: Mapped[str] = mapped_column(String(10), default="email")
    template: Mapped[str] = mapped_column(String(50))
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued / sent / failed / skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column()


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("customer_id", "topic", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    topic: Mapped[str] = mapped_column(String(30))  # orders / shipping / marketing / stock
    channel: Mapped[str] = mapped_column(String(10), default="email")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class BackInStockRequest(Base):
    __tablename__ = "back_in_stock_requests"
    __table_args__ = (UniqueConstraint("customer_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[Optional[datetime]] = mapped_column()


# --------------------------------------------------------------------------- coupons


class Coupon(Base):
    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(20))  # percent / fixed / free_shipping
    value: Mapped[int] = mapped_column(Integer, default=0)  # percent, or cents for "fixed"
    min_order_cents: Mapped[int] = mapped_column(Integer, default=0)
    max_redemptions: Mapped[Optional[int]] = mapped_column(Integer)
    per_customer_limit: Mapped[int] = mapped_column(Integer, default=1)
    times_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    # Personal coupons (welcome, apology) belong to one customer.
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customers.id"))
    starts_at: Mapped[Optional[datetime]] = mapped_column()
    expires_at: Mapped[Optional[datetime]] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    redemptions: Mapped[list[CouponRedemption]] = relationship(back_populates="coupon")


class CouponRedemption(Base):
    __tablename__ = "coupon_redemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    discount_cents: Mapped[int] = mapped_column(Integer)
    reversed: Mapped[bool] = mapped_column(Boolean, default=False)
    redeemed_at: Mapped[datetime] = mapped_column(default=utcnow)

    coupon: Mapped[Coupon] = relationship(back_populates="redemptions")


# --------------------------------------------------------------------------- reporting


class DailySales(Base):
    """Nightly snapshot of one day's sales, so the dashboards do not scan ``orders``."""

    __tablename__ = "daily_sales"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    items_sold: Mapped[int] = mapped_column(Integer, default=0)
    gross_cents: Mapped[int] = mapped_column(Integer, default=0)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    refund_cents: Mapped[int] = mapped_column(Integer, default=0)
    net_cents: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
