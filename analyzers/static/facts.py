"""The facts of one file (see collect.py for their shape), without importing libcst."""

from __future__ import annotations

from typing import Any


def empty_facts(
    module: str, is_package: bool, lines: int, loc: int, diagnostic: list[Any] | None = None
) -> dict[str, Any]:
    """The facts of a file that yielded nothing but, perhaps, one diagnostic."""
    return {
        "module": module,
        "package": is_package,
        "lines": lines,
        "loc": loc,
        "all": None,
        "dynamic": False,
        "defs": [],
        "scopes": {},
        "imports": [],
        "attrs": {},
        "diagnostics": [diagnostic] if diagnostic else [],
    }
