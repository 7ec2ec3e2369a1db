"""State that lives in the process: what stops a service from scaling out statelessly.

Recorded on the function (or class body, or module) that holds it, as
`attrs.state = [{"kind", "name", "line"}]`:

    module-state   a module-level container (`_cache = {}`, `defaultdict(list)`, …) that code
                   changes at run time (`_cache[k] = v`, `_cache.setdefault(...)`, `.append`)
    global         a name a function declares `global` and assigns (singletons, counters)
    class-state    a class attribute assigned at run time (`cls._instance = ...`)
    cache          a function memoised in process (`@lru_cache`, `@cache`, `@cached`)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from analyzers.static.resolve import Resolver
from decomposer.model.graph import DependencyGraph

# fmt: off
MUTATORS = frozenset({
    "append", "appendleft", "extend", "insert", "add", "update", "setdefault", "pop",
    "popitem", "popleft", "clear", "remove", "discard", "sort", "reverse", "__setitem__",
})
# fmt: on
CACHE_DECORATORS = frozenset({"lru_cache", "cache", "cached", "memoize", "ttl_cache"})


def module_state(resolver: Resolver, module: str) -> dict[str, list[dict[str, Any]]]:
    """The state one module's code changes at run time, by the scope that changes it (a part
    of the module's resolved part, see parts.py)."""
    scopes = resolver.facts(module)["scopes"]
    containers = {name for name, _ in scopes.get(module, {}).get("u", ())}
    found: dict[str, list[dict[str, Any]]] = {}
    for scope, data in sorted(scopes.items()):
        if scope != module:
            states = _scope_state(resolver, module, containers, scope, data)
            if states:
                found[scope] = states
    return found


def add_state(
    graph: DependencyGraph, resolver: Resolver, parts: Iterable[dict[str, list[dict[str, Any]]]]
) -> None:
    """A `state` record on the code that holds state: each module's (`module_state`), and
    every function memoised in process."""
    found: dict[str, list[dict[str, Any]]] = {}
    for part in parts:
        for scope, states in part.items():
            found.setdefault(scope, []).extend(states)
    for def_id, record in resolver.defs.items():
        if any(d.rpartition(".")[2] in CACHE_DECORATORS for d in record[7]):
            found.setdefault(def_id, []).append(
                {"kind": "cache", "name": def_id, "line": record[2]}
            )
    for node_id, states in found.items():
        if node_id in graph:
            unique = {(s["kind"], s["name"], s["line"]): s for s in states}
            node = graph.node(node_id)
            ordered = [unique[key] for key in sorted(unique, key=lambda k: (k[2], k[0], k[1]))]
            graph.replace_node(replace(node, attrs={**node.attrs, "state": ordered}))


def _scope_state(
    resolver: Resolver, module: str, containers: set[str], scope: str, data: dict[str, Any]
) -> list[dict[str, Any]]:
    local = resolver.bindings.get(scope, {})
    declared = {name for name, _ in data["g"]}

    def module_level(name: str) -> bool:  # not shadowed by a local of the same name
        return name in containers and (name not in local or name in declared)

    found = []
    for path, line in data["c"]:
        head, _, method = path.rpartition(".")
        if method in MUTATORS and module_level(head):
            found.append(_state("module-state", module, head, line))
    for owner, line in data["m"]:
        if module_level(owner):
            found.append(_state("module-state", module, owner, line))
            continue
        value = resolver.resolve_expr(scope, owner)
        if value is not None and value[0] == "class":
            found.append({"kind": "class-state", "name": value[1], "line": line})
    for name, line in data["g"]:
        found.append(_state("global", module, name, line))
    return found


def _state(kind: str, module: str, name: str, line: int) -> dict[str, Any]:
    return {"kind": kind, "name": f"{module}.{name}", "line": line}
