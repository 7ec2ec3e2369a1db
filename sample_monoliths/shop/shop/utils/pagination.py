"""Pagination of SQLAlchemy ``select()`` statements for the list endpoints."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from shop.utils.validation import positive_int

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self, serialize: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        return {
            "items": [serialize(item) for item in self.items],
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
            "pages": self.pages,
        }


def page_args(args: Mapping[str, Any]) -> tuple[int, int]:
    """Read ``page`` and ``per_page`` from query-string arguments."""
    page = positive_int(args.get("page", 1), "page")
    per_page = positive_int(args.get("per_page", DEFAULT_PER_PAGE), "per_page", maximum=MAX_PER_PAGE)
    return page, per_page


def paginate(session: Session, stmt: Select[Any], page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> Page:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)
