"""The facts of one file (see collect.py for their shape), without importing libcst."""

from __future__ import annotations

import json
from typing import Any

#: What each scope's code does: its calls, references, strings, with blocks, mutations, mutable
#: containers and global writes. With the module's imports, they are read only to resolve the
#: module itself (or a function that code in another module calls), so the facts hold them as
#: JSON text, "body", decoded on first use (`with_body`): a warm check at a million lines
#: reads every file's facts and resolves only the modules that changed.
BODY_KEYS = ("c", "r", "s", "w", "m", "u", "g")


def packed(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts with their body as JSON text (the shape they are cached in)."""
    head = {key: value for key, value in facts.items() if key != "imports"}
    head["scopes"] = {
        scope: {key: value for key, value in data.items() if key not in BODY_KEYS}
        for scope, data in facts["scopes"].items()
    }
    body = {
        "imports": facts["imports"],
        "scopes": {
            scope: {key: data[key] for key in BODY_KEYS} for scope, data in facts["scopes"].items()
        },
    }
    head["body"] = json.dumps(body, separators=(",", ":"))
    return head


def with_body(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts with their body decoded into them: in place, once."""
    body = facts.pop("body", None)
    if body is not None:
        decoded = json.loads(body)
        facts["imports"] = decoded["imports"]
        scopes = facts["scopes"]
        for scope, data in decoded["scopes"].items():
            scopes[scope].update(data)
    return facts


def empty_facts(
    module: str, is_package: bool, lines: int, loc: int, diagnostic: list[Any] | None = None
) -> dict[str, Any]:
    """The facts of a file that yielded nothing but, perhaps, one diagnostic."""
    return packed(
        {
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
    )
