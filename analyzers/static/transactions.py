"""Transaction scopes and the tables written inside them: a `transactions` record on the code
that opens each scope (kind, first line, tables, and the order it first writes them).

A scope is a function decorated with `transaction.atomic`, a `with` block on
`transaction.atomic()`, `*.begin()` / `*.begin_nested()`, a DB-API connection
(`with conn:`, sqlite3 style) or a context manager of the project that itself opens a
transaction, or a whole function that commits (`session.commit()`, `conn.commit()`, SQL
`BEGIN` / `COMMIT`). The tables it writes are its own writes in that range plus everything
the functions it calls write, transitively.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from analyzers.static.access import Access
from analyzers.static.resolve import Resolver
from analyzers.static.tables import sql_summaries
from decomposer.model.graph import DependencyGraph, EdgeKind, NodeKind

_CONNECTIONS = ("sqlite3", "psycopg", "psycopg2", "pymysql", "MySQLdb", "mysql")


@dataclass(frozen=True)
class Scope:
    """One transaction scope of a module's code, and the project functions called inside it."""

    code: str  # the function (or module) that opens it
    kind: str
    first: int
    last: int
    calls: tuple[tuple[str, int], ...]  # (function id, line)


class Transactions:
    """Where transaction scopes are, one module at a time (`scopes`: a part of the module's
    resolved part, see parts.py). The tables written inside come after, over the whole tree's
    calls (`add_transactions`)."""

    def __init__(self, resolver: Resolver) -> None:
        self.r = resolver
        self._opens: dict[str, str | None] = {}

    def scopes(self, module: str) -> list[Scope]:
        self._opens.clear()
        r = self.r
        found = []
        for scope, data in sorted(r.facts(module)["scopes"].items()):
            if not r.is_code(scope):
                continue
            for kind, first, last in self._scopes(scope, data):
                found.append(
                    Scope(scope, kind, first, last, self._calls(scope, data, first, last))
                )
        return found

    def _calls(
        self, scope: str, data: dict[str, Any], first: int, last: int
    ) -> tuple[tuple[str, int], ...]:
        found = []
        for path, line in data["c"]:
            if first <= line <= last:
                value = self.r.resolve_expr(scope, path)
                if value is not None and value[0] == "class":
                    value = self.r.member(value, "__init__")
                if value is not None and value[0] == "function":
                    found.append((value[1], line))
        return tuple(found)

    # -- where transactions are -----------------------------------------------------------

    def _scopes(self, scope: str, data: dict[str, Any]) -> list[tuple[str, int, int]]:
        """(kind, first line, last line) of each transaction scope in one code scope."""
        found = []
        record = self.r.defs.get(scope)
        whole = (record[2], record[3]) if record else (1, 10**9)
        whole_kind = self._opens_itself(scope, data)
        if whole_kind is not None:
            found.append((whole_kind, *whole))
        for items, first, last in data["w"]:
            for item in items:
                kind = self._block_kind(scope, item)
                if kind is not None:
                    found.append((kind, first, last))
                    break
        return found

    def _opens_itself(self, scope: str, data: dict[str, Any]) -> str | None:
        """Whether a whole function is one transaction: atomic decorator, commit, BEGIN."""
        if scope in self._opens:
            return self._opens[scope]
        kind = None
        record = self.r.defs.get(scope)
        if record is not None and record[1] == "function":
            if any(_last(d) == "atomic" for d in record[7]):
                kind = "atomic"
            elif any(_last(path) == "commit" for path, _ in data["c"]):
                kind = "commit"
            elif any(
                "begin" in s.get("tx", ()) or "commit" in s.get("tx", ())
                for s in self._sql_in(scope, data)
            ):
                kind = "sql"
        self._opens[scope] = kind
        return kind

    def _block_kind(self, scope: str, item: str) -> str | None:
        if not item:
            return None
        name = _last(item.removesuffix("()"))
        if name == "atomic":
            return "atomic"
        if name in ("begin", "begin_nested") and item.endswith("()"):
            return "begin"
        value = self.r.resolve_expr(scope, item)
        if value is not None and value[0] == "external" and _top(value[1]) in _CONNECTIONS:
            return "connection"
        if not item.endswith("()") and "conn" in name.lower():
            return "connection"  # `with conn:` on a connection the code was handed
        called = self.r.resolve_expr(scope, item.removesuffix("()"))
        if called is not None and called[0] == "function" and item.endswith("()"):
            callee = called[1]
            self.r.consulted.add(callee)  # its facts are read here
            module = self.r.module_of(callee)
            data = self.r.facts(module)["scopes"].get(callee) if module else None
            if data is not None and (
                self._opens_itself(callee, data) or self._scopes(callee, data)
            ):
                return "context manager"
        return None

    def _sql_in(self, scope: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        summaries = sql_summaries([row[2] for row in data["k"]])
        for path, _ in data["r"]:
            value = self.r.resolve_expr(scope, path)
            if value is not None and value[0] == "const":
                self.r.consulted.add(value[1])
                summaries.extend(sql_summaries(self.r.constants.get(value[1])))
        return summaries


def add_transactions(graph: DependencyGraph, access: Access, scopes: Iterable[Scope]) -> None:
    """A `transactions` record on the code that opens each scope that writes: its own writes
    in the scope's lines, and everything the functions it calls there write."""

    def callees(function: str) -> list[str]:
        if function not in graph:
            return []
        return sorted(
            e.target
            for e in graph.out_edges(function, EdgeKind.CALLS)
            if graph.node(e.target).kind == NodeKind.FUNCTION
        )

    found = transaction_records(scopes, access.writes, callees)
    for code, transactions in found.items():
        node = graph.node(code)
        graph.replace_node(replace(node, attrs={**node.attrs, "transactions": transactions}))


def transaction_records(
    scopes: Iterable[Scope],
    writes: Mapping[str, list[tuple[str, int]]],
    callees: Callable[[str], Iterable[str]],
) -> dict[str, list[dict[str, Any]]]:
    """code -> the record of each of its scopes that writes. `writes`: each function's own
    writes, (table, line); `callees`: the project functions a function calls."""
    reach = Reach(writes, callees)
    found: dict[str, list[dict[str, Any]]] = {}
    for scope in scopes:
        tables = first_writes(scope, writes, reach)
        if not tables:
            continue
        steps = sorted(zip(tables.values(), tables.keys(), strict=True))
        found.setdefault(scope.code, []).append(
            {
                "kind": scope.kind,
                "line": scope.first,
                "tables": sorted(tables),
                "steps": list(map(list, steps)),
            }
        )
    return found


def first_writes(
    scope: Scope, writes: Mapping[str, list[tuple[str, int]]], reach: Reach
) -> dict[str, int]:
    """table -> the first line of the scope that writes it, itself or through a call."""
    # the scope's own writes and its calls in the order of their lines: a table is
    # written first where it is first met
    events: list[tuple[int, str, str | None]] = [
        (line, table, None)
        for table, line in writes.get(scope.code, ())
        if scope.first <= line <= scope.last
    ]
    events += [(line, "", callee) for callee, line in scope.calls]
    events.sort(key=_line)
    tables: dict[str, int] = {}
    seen = 0  # the tables of `tables`, as bits
    for line, table, callee in events:
        if callee is None:
            if table not in tables:
                tables[table] = line
                seen |= reach.bit(table)
        else:
            new = reach(callee) & ~seen
            seen |= new
            for reached in reach.tables_in(new):
                tables[reached] = line
    return tables


class Reach:
    """The tables a function writes, itself or through the functions it calls, as bits (one
    per table): a function's calls can reach hundreds of tables, and `|` of ints is cheap
    where the union of sets is not."""

    def __init__(
        self,
        writes: Mapping[str, list[tuple[str, int]]],
        callees: Callable[[str], Iterable[str]],
    ) -> None:
        self.writes = writes
        self.callees = callees
        self._tables: list[str] = []  # bit i stands for self._tables[i]
        self._bits: dict[str, int] = {}
        self._reach: dict[str, int] = {}

    def bit(self, table: str) -> int:
        found = self._bits.get(table)
        if found is None:
            found = self._bits[table] = 1 << len(self._tables)
            self._tables.append(table)
        return found

    def tables_in(self, bits: int) -> Iterator[str]:
        while bits:
            lowest = bits & -bits
            yield self._tables[lowest.bit_length() - 1]
            bits ^= lowest

    def of_scope(self, scope: Scope) -> frozenset[str]:
        """The tables a scope writes, itself or through its calls: `first_writes` without
        the lines, which need the events in order."""
        bits = 0
        for table, line in self.writes.get(scope.code, ()):
            if scope.first <= line <= scope.last:
                bits |= self.bit(table)
        for callee, _ in scope.calls:
            bits |= self(callee)
        return frozenset(self.tables_in(bits))

    def __call__(self, start: str) -> int:
        """Iterative: call chains can be deep; a cycle's members see what was found before
        it closed."""
        if start in self._reach:
            return self._reach[start]
        found = {start: self._own_writes(start)}
        stack = [(start, iter(self.callees(start)))]
        while stack:
            node, callees = stack[-1]
            callee = next(callees, None)
            if callee is None:
                stack.pop()
                self._reach[node] = found.pop(node)
                if stack:
                    found[stack[-1][0]] |= self._reach[node]
            elif callee in self._reach:
                found[node] |= self._reach[callee]
            elif callee not in found:
                found[callee] = self._own_writes(callee)
                stack.append((callee, iter(self.callees(callee))))
        return self._reach[start]

    def _own_writes(self, function: str) -> int:
        bits = 0
        for table, _ in self.writes.get(function, ()):
            bits |= self.bit(table)
        return bits


def _line(event: tuple[int, str, str | None]) -> int:
    return event[0]


def _top(dotted: str) -> str:
    return dotted.split(".", 1)[0]


def _last(dotted: str) -> str:
    return dotted.rpartition(".")[2]
