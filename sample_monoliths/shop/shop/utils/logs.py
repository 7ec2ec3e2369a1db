"""Logging helpers: one logger hierarchy under ``shop`` and key=value structured events.

Ops grep the logs with ``event=order.placed`` style queries, so log business events through
:func:`log_event` rather than free-form messages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ROOT_LOGGER = "shop"
DEFAULT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def get_logger(name: str) -> logging.Logger:
    """A logger below ``shop``: ``get_logger("orders")`` -> ``shop.orders``."""
    if name == ROOT_LOGGER or name.startswith(ROOT_LOGGER + "."):
        return logging.getLogger(name)
    return logging.getLogger(f"{ROOT_LOGGER}.{name}")


def kv(**fields: Any) -> str:
    """Render fields as ``key=value`` pairs, quoting values with spaces."""
    parts = []
    for key, value in sorted(fields.items()):
        text = "-" if value is None else str(value)
        if " " in text or "=" in text:
            text = '"' + text.replace('"', '\\"') + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    if logger.isEnabledFor(level):
        logger.log(level, "event=%s %s", event, kv(**fields))


@contextmanager
def timed(logger: logging.Logger, operation: str, **fields: Any) -> Iterator[None]:
    """Log how long the block took, and whether it failed."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except Exception:
        outcome = "error"
        raise
    finally:
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        log_event(logger, operation, logging.DEBUG, outcome=outcome, ms=elapsed_ms, **fields)


def configure_logging(level: str | int = "INFO", fmt: str = DEFAULT_FORMAT) -> logging.Logger:
    """Attach one stream handler to the ``shop`` logger (idempotent)."""
    logger = logging.getLogger(ROOT_LOGGER)
    logger.setLevel(level)
    if not any(getattr(h, "_shop_handler", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(fmt))
        handler._shop_handler = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    return logger
