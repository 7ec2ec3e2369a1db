"""Load classes and modules named by dotted paths in the settings.

The payment gateway, the mailer and the carrier are configured as strings (see
``shop.settings``) so that staging can swap in a sandbox gateway without a code change.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType
from typing import Any


class ImproperlyConfigured(RuntimeError):
    """A dotted path in the settings points at nothing."""


def import_string(dotted_path: str) -> Any:
    """Import ``package.module.Attribute`` and return the attribute."""
    try:
        module_path, attribute = dotted_path.rsplit(".", 1)
    except ValueError:
        raise ImproperlyConfigured(f"{dotted_path!r} is not a dotted path") from None
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"cannot import {module_path!r}: {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImproperlyConfigured(f"{module_path!r} has no attribute {attribute!r}") from None


def instantiate(dotted_path: str, **options: Any) -> Any:
    """Import a class by dotted path and create an instance with ``options``."""
    factory = import_string(dotted_path)
    if not callable(factory):
        raise ImproperlyConfigured(f"{dotted_path!r} is not callable")
    return factory(**options)


def import_modules(names: Iterable[str]) -> list[ModuleType]:
    """Import every module in ``names`` (used to discover background tasks)."""
    return [importlib.import_module(name) for name in names]
