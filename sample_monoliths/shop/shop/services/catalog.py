"""The product catalogue: products, categories, prices, and the supplier CSV import."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from shop.errors import Conflict, NotFound, ShopError, ValidationError
from shop.models import Category, PriceChange, Product, StockItem, StockMovement
from shop.services import stock
from shop.utils.logs import get_logger, log_event
from shop.utils.money import MoneyError, to_cents
from shop.utils.validation import optional_str, positive_int, require_fields, validate_sku

log = get_logger("catalog")

CSV_COLUMNS = ("sku", "name", "price", "category", "weight_grams", "description", "stock")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": self.errors}


# --------------------------------------------------------------------------- queries


def products_query(q: str | None = None, category: str | None = None,
                   include_inactive: bool = False) -> Select[tuple[Product]]:
    stmt = select(Product).options(selectinload(Product.categories)).order_by(Product.name, Product.sku)
    if not include_inactive:
        stmt = stmt.where(Product.active.is_(True))
    if q:
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(or_(Product.name.ilike(pattern), Product.sku.ilike(pattern),
                              Product.description.ilike(pattern)))
    if category:
        stmt = stmt.where(Product.categories.any(Category.slug == category))
    return stmt


def get_product(session: Session, sku: str) -> Product:
    product = session.scalar(select(Product).where(Product.sku == sku.upper()))
    if product is None:
        raise NotFound(f"product {sku} does not exist")
    return product


def list_categories(session: Session) -> list[dict[str, Any]]:
    """Categories as a tree (the storefront's navigation)."""
    categories = session.scalars(select(Category).order_by(Category.name)).all()
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)

    def build(parent_id: int | None) -> list[dict[str, Any]]:
        return [{"slug": c.slug, "name": c.name, "children": build(c.id)} for c in children.get(parent_id, [])]

    return build(None)


def get_category(session: Session, slug: str) -> Category:
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise NotFound(f"category {slug} does not exist")
    return category


def create_category(session: Session, slug: str, name: str, parent_slug: str | None = None) -> Category:
    slug = slug.strip().lower()
    if not slug or not slug.replace("-", "").isalnum():
        raise ValidationError("slug: lowercase letters, digits and dashes", details={"slug": "invalid"})
    if session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
        raise Conflict(f"category {slug} exists")
    category = Category(slug=slug, name=name.strip() or slug)
    if parent_slug:
        category.parent = get_category(session, parent_slug)
    session.add(category)
    return category


def get_or_create_category(session: Session, slug: str) -> Category:
    existing = session.scalar(select(Category).where(Category.slug == slug))
    if existing is not None:
        return existing
    return create_category(session, slug, slug.replace("-", " ").title())


# --------------------------------------------------------------------------- changes


def _parse_price(payload: Mapping[str, Any]) -> int:
    if "price_cents" in payload:
        return positive_int(payload["price_cents"], "price_cents")
    try:
        cents = to_cents(payload.get("price"))
    except MoneyError:
        raise ValidationError("price: not an amount", details={"price": "invalid"}) from None
    if cents <= 0:
        raise ValidationError("price: must be positive", details={"price": "invalid"})
    return cents


def create_product(session: Session, payload: Mapping[str, Any]) -> Product:
    require_fields(payload, "sku", "name")
    sku = validate_sku(payload["sku"])
    if session.scalar(select(Product.id).where(Product.sku == sku)) is not None:
        raise Conflict(f"product {sku} exists", details={"sku": "taken"})
    product = Product(
        sku=sku,
        name=optional_str(payload, "name", max_length=200) or sku,
        description=optional_str(payload, "description", max_length=5000) or "",
        price_cents=_parse_price(payload),
        weight_grams=positive_int(payload.get("weight_grams", 500), "weight_grams"),
    )
    for slug in payload.get("categories", []):
        product.categories.append(get_category(session, slug))
    session.add(product)
    log_event(log, "product.created", sku=sku)
    return product


def change_price(session: Session, product: Product, new_price_cents: int, actor: str) -> PriceChange | None:
    if new_price_cents == product.price_cents:
        return None
    change = PriceChange(product=product, old_price_cents=product.price_cents, new_price_cents=new_price_cents,
                         changed_by=actor)
    product.price_cents = new_price_cents
    session.add(change)
    log_event(log, "product.repriced", sku=product.sku, old=change.old_price_cents, new=new_price_cents)
    return change


def update_product(session: Session, product: Product, payload: Mapping[str, Any], actor: str) -> Product:
    if "name" in payload:
        product.name = optional_str(payload, "name", max_length=200) or product.name
    if "description" in payload:
        product.description = optional_str(payload, "description", max_length=5000) or ""
    if "weight_grams" in payload:
        product.weight_grams = positive_int(payload["weight_grams"], "weight_grams")
    if "active" in payload:
        product.active = bool(payload["active"])
    if "price" in payload or "price_cents" in payload:
        change_price(session, product, _parse_price(payload), actor)
    if "categories" in payload:
        product.categories = [get_category(session, slug) for slug in payload["categories"]]
    return product


# --------------------------------------------------------------------------- supplier import


def parse_product_csv(stream: IO[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Read the supplier CSV; returns (valid rows, errors with line numbers)."""
    reader = csv.DictReader(stream)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("sku", "name", "price") if c not in header]
    if missing:
        return [], [f"line 1: missing columns {', '.join(missing)}"]
    rows, errors = [], []
    for line_no, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        try:
            rows.append({
                "sku": validate_sku(row["sku"]),
                "name": row["name"] or row["sku"],
                "price_cents": to_cents(row["price"]),
                "category": row.get("category") or None,
                "weight_grams": positive_int(row.get("weight_grams") or 500, "weight_grams"),
                "description": row.get("description", ""),
                "stock": positive_int(row.get("stock") or 0, "stock", allow_zero=True),
            })
        except (ShopError, MoneyError) as exc:
            errors.append(f"line {line_no}: {exc}")
    return rows, errors


def import_products(session: Session, rows: Iterable[Mapping[str, Any]], *, warehouse_code: str | None = None,
                    actor: str = "import") -> ImportResult:
    """Create or update products from parsed CSV rows; sets initial stock for new ones.

    The caller commits.
    """
    result = ImportResult()
    warehouse = stock.get_warehouse(session, warehouse_code)
    for row in rows:
        product = session.scalar(select(Product).where(Product.sku == row["sku"]))
        if product is None:
            product = Product(sku=row["sku"], name=row["name"], price_cents=row["price_cents"],
                              weight_grams=row["weight_grams"], description=row.get("description") or "")
            if row.get("category"):
                product.categories.append(get_or_create_category(session, row["category"]))
            session.add(product)
            session.flush()
            # Initial stock comes with the supplier file. The warehouse team wanted this
            # "just for the first delivery" -- it writes their tables directly.
            if row.get("stock"):
                item = StockItem(product=product, warehouse=warehouse, on_hand=row["stock"], reserved=0)
                session.add(item)
                session.add(StockMovement(stock_item=item, kind="import", quantity=row["stock"],
                                          note=f"initial stock ({actor})"))
            result.created += 1
            continue
        changed = False
        if product.name != row["name"]:
            product.name = row["name"]
            changed = True
        if product.weight_grams != row["weight_grams"]:
            product.weight_grams = row["weight_grams"]
            changed = True
        if change_price(session, product, row["price_cents"], actor) is not None:
            changed = True
        if not product.active:
            product.active = True
            changed = True
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1
    log_event(log, "catalog.imported", created=result.created, updated=result.updated)
    return result
