"""Request helpers shared by the blueprints."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from flask import current_app, request

from shop.errors import Forbidden, ValidationError
from shop.utils.dates import parse_date, today

F = TypeVar("F", bound=Callable[..., Any])


def json_body() -> dict[str, Any]:
    """The request's JSON object (``{}`` for an empty body)."""
    if not request.get_data():
        return {}
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError("expected a JSON object body")
    return payload


def admin_required(view: F) -> F:
    """Back-office routes: the ``X-Admin-Token`` header must match ``ADMIN_TOKEN``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = request.headers.get("X-Admin-Token", "")
        if not hmac.compare_digest(token, current_app.config["ADMIN_TOKEN"]):
            raise Forbidden("admin token missing or wrong")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_actor(default: str = "admin") -> str:
    return request.headers.get("X-Actor", default)[:100]


def date_args(default_days: int = 30) -> tuple[date, date]:
    """``start``/``end`` query arguments, defaulting to the last ``default_days`` days."""
    try:
        end = parse_date(request.args.get("end"), field="end") or today()
        start = parse_date(request.args.get("start"), field="start") or end - timedelta(days=default_days)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if start > end:
        raise ValidationError("start is after end", details={"start": "after end"})
    return start, end
