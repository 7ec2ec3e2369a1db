"""Which code reads and writes which table, and which writes share a transaction.

Evidence, per scope of the resolved facts (see docs/data.md for the full list):

- ORM calls: Django managers and querysets (`Order.objects.filter(...)` reads,
  `.update()` / `.create()` / `.delete()` write), instances (`order.save()`), related managers
  (`customer.orders.create()`); SQLAlchemy `session.add/merge/delete(obj)`, `session.get`,
  `session.query`, `select/insert/update/delete(Model or table)`, `Model.query...`, and
  attribute writes on a mapped instance (`item.reserved += 1`, the unit of work flushes them);
- raw SQL: literals passed to execute()-like calls, and SQL constants where code uses them.

Transaction scopes, and the tables written inside them through every function called from
inside too, are found with these writes (transactions.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from analyzers.static.resolve import Resolver
from analyzers.static.tables import Tables, sql_summaries, table_id
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, Node, NodeKind, Site

# A value in data terms: ("model", class id), ("rows", class id) for a manager / queryset /
# related manager, ("row", class id) for an instance, ("table", table name).
Data = tuple[str, str]

# fmt: off
QUERYSET_WRITES = frozenset({
    "create", "update", "delete", "bulk_create", "bulk_update", "get_or_create",
    "update_or_create", "add", "remove", "clear", "set", "insert", "insert_many",
})
# Queryset methods that give one object back; the *_or_create ones return (object, created),
# which the caller unpacks (see collect.py).
QUERYSET_ROW = frozenset({
    "get", "first", "last", "earliest", "latest", "create", "one", "one_or_none", "scalar",
    "get_or_404", "first_or_404", "aget", "afirst", "alast", "acreate",
    "get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create",
})
MANAGERS = frozenset({"objects", "query", "_default_manager", "_base_manager"})
ROW_WRITES = frozenset({"save", "delete", "asave", "adelete"})
SESSION_WRITES = frozenset({"add", "add_all", "merge", "delete"})
# Session and statement methods whose model arguments are read: session.query(A, B.x),
# session.get(A, 1), select(A).join(B).
STATEMENT_READS = frozenset({"query", "get", "join", "outerjoin", "join_from", "select_from"})
SQLALCHEMY_STATEMENTS = {
    "select": "reads", "insert": "writes", "update": "writes", "delete": "writes",
}
TABLE_METHODS = SQLALCHEMY_STATEMENTS  # orders_table.insert(), Order.__table__.select()
# fmt: on
_MAX_EXPANSION = 6  # local variables followed back to the expression they hold
_UNKNOWN: Data = ("", "")  # not looked at yet (None is a result: no data)


@dataclass
class AccessPart:
    """What one module's code reads and writes, and the tables its SQL joins."""

    #: (scope, table, kind) -> sites; kind is "reads" or "writes"
    edges: dict[tuple[str, str, str], list[Site]] = field(
        default_factory=lambda: defaultdict(list)
    )
    joins: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))


class Access:
    def __init__(self, resolver: Resolver, tables: Tables) -> None:
        self.r = resolver
        self.t = tables
        #: (scope, table, kind) -> sites; kind is "reads" or "writes"
        self.edges: dict[tuple[str, str, str], list[Site]] = defaultdict(list)
        #: scope -> [(table, line)] of its own writes, for transactions
        self.writes: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.joins: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self._memo: dict[tuple[str, str], Data | None] = {}
        self._part = AccessPart()

    # -- data values ---------------------------------------------------------------------

    def value(self, scope: str, path: str, depth: int = 0) -> Data | None:
        key = (scope, path)
        found = self._memo.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            self._memo[key] = None  # guards against self-referencing locals
            found = self._memo[key] = self._value(scope, path, depth)
        return found

    def _value(self, scope: str, path: str, depth: int) -> Data | None:
        resolved = self.r.resolve_expr(scope, path)
        if resolved is not None:
            kind, ident = resolved
            if ident in self.t.models and kind in ("class", "instance"):
                return ("model" if kind == "class" else "row", ident)
        head, _, last = path.rpartition(".")
        if not head:
            return self._table_object(scope, path) or self._expand(scope, path, depth)
        base = self.value(scope, head, depth)
        if base is None:
            return None
        called = last.endswith("()")
        name = last.removesuffix("()")
        kind, model_id = base
        model = self.t.models.get(model_id)
        if kind == "model" and model is not None:
            if name == "__table__":
                return ("table", model.table)
            if not called and (name in MANAGERS or model.orm == "django"):
                return ("rows", model_id)  # a manager: objects, or a custom one
            return None
        if kind == "rows":
            if not called:
                return None
            return ("row" if name in QUERYSET_ROW else "rows", model_id)
        if kind == "m2m":
            return ("rows", self._m2m_other(model_id)) if called else None
        if kind == "row" and model is not None and not called:
            for relation in model.relations:
                if relation.name == name and relation.target in self.t.models:
                    if relation.kind == "m2m":
                        return ("m2m", f"{model_id}.{name}")
                    return ("row", relation.target)
            if name in model.reverse:
                source, relation = model.reverse[name]
                if relation.kind == "m2m":
                    return ("m2m", f"{model_id}.{name}")
                return ("row" if relation.kind == "o2o" else "rows", source)
        return None

    def _m2m(self, key: str) -> tuple[str, str]:
        """A many-to-many related manager `model.field`: (its join table, the other model)."""
        model_id, _, name = key.rpartition(".")
        model = self.t.models[model_id]
        for relation in model.relations:
            if relation.name == name:
                return relation.through or "", relation.target
        source, relation = model.reverse[name]
        return relation.through or "", source

    def _m2m_other(self, key: str) -> str:
        return self._m2m(key)[1]

    def _table_object(self, scope: str, name: str) -> Data | None:
        """A SQLAlchemy `Table(...)` object bound at module level, here or imported."""
        if not self.t.table_objects:  # most trees: no need to follow the name
            return None
        binding = self.r.bindings.get(scope, {}).get(name)
        module = self.r.module_of(scope) or scope
        for _ in range(_MAX_EXPANSION):
            self.r.consulted.add(module)
            if binding is None:
                binding = self.r.bindings.get(module, {}).get(name)
            if binding is None:
                return None
            how, target = binding
            if how == "instance":
                table = self.t.table_objects.get(f"{module}.{name}")
                return ("table", table) if table else None
            if how != "import":
                return None
            module, _, name = target.rpartition(".")
            binding = None
        return None

    def _expand(self, scope: str, name: str, depth: int) -> Data | None:
        """`qs = Order.objects.filter(...)`: a local name stands for the expression it holds."""
        head = name.removesuffix("()")
        binding = self.r.bindings.get(scope, {}).get(head)
        if binding is None or depth >= _MAX_EXPANSION or binding[0] not in ("instance", "alias"):
            return None
        how, target = binding
        expression = target + "()" if how == "instance" else target
        if name.endswith("()"):
            return None
        return self.value(scope, expression, depth + 1)

    # -- evidence ----------------------------------------------------------------------------

    def part(self, module: str) -> AccessPart:
        """What one module's code reads and writes (see `Resolver.start_part`)."""
        self._memo.clear()
        self._part = part = AccessPart()
        rel = self.r.file_of[module]
        for scope, data in sorted(self.r.facts(module)["scopes"].items()):
            for path, line in data["c"]:
                self._call(scope, path, Site(rel, line))
            for row in data["k"]:
                self._detailed(scope, row, Site(rel, row[1]))
            for path, line in data["r"]:
                self._reference(scope, path, Site(rel, line))
            for owner, line in data["m"]:
                found = self.value(scope, owner)
                if found is not None and found[0] == "row":
                    model = self.t.models[found[1]]
                    if model.orm == "sqlalchemy":
                        self._add(scope, model.table, "writes", Site(rel, line))
        return part

    def add(self, part: AccessPart) -> None:
        """Add one module's part to the whole tree's."""
        for key, sites in part.edges.items():
            self.edges[key].extend(sites)
            scope, table, access = key
            if access == "writes":
                self.writes[scope].extend((table, site.line) for site in sites)
        for scope, pairs in part.joins.items():
            self.joins[scope].update(pairs)

    def _call(self, scope: str, path: str, site: Site) -> None:
        created = self.value(scope, path)
        if created is not None and created[0] == "model":
            model = self.t.models[created[1]]
            if model.orm == "sqlalchemy":  # a new mapped object: the session inserts it
                self._add(scope, model.table, "writes", site)
            return
        head, _, method = path.rpartition(".")
        if not head:
            return
        base = self.value(scope, head)
        if base is None:
            return
        kind, ident = base
        if kind == "rows":
            model = self.t.models[ident]
            access = "writes" if method in QUERYSET_WRITES else "reads"
            self._add(scope, model.table, access, site)
        elif kind == "row":
            model = self.t.models[ident]
            if method in ROW_WRITES:
                self._add(scope, model.table, "writes", site)
            elif method == "refresh_from_db":
                self._add(scope, model.table, "reads", site)
        elif kind == "m2m":
            join, other = self._m2m(ident)
            writes = method in QUERYSET_WRITES
            self._add(scope, join, "writes" if writes else "reads", site)
            if method in ("create", "get_or_create", "update_or_create") or not writes:
                other_access = "writes" if writes else "reads"
                self._add(scope, self.t.models[other].table, other_access, site)
        elif kind == "table" and method in TABLE_METHODS:
            self._add(scope, ident, TABLE_METHODS[method], site)

    def _detailed(self, scope: str, row: list[Any], site: Site) -> None:
        function, _, args, kwargs, _ = row
        method = function.rpartition(".")[2]
        # SQL given right here; a text("...") inside is a row of its own
        for summary in sql_summaries([a for a in [*args, *kwargs.values()] if _is_sql(a)]):
            for name in summary.get("r", ()):
                self._add(scope, name, "reads", site)
            for name in summary.get("w", ()):
                self._add(scope, name, "writes", site)
            self._part.joins[scope].update((a, b) for a, b in summary.get("j", ()))
        named = [arg for arg in _flatten(args) if isinstance(arg, dict) and "n" in arg]
        if self._is_statement(scope, function) or method in STATEMENT_READS:
            access = SQLALCHEMY_STATEMENTS.get(method, "reads")
            for arg in named[: 1 if access == "writes" or method == "get" else None]:
                table = self._table_named(scope, arg["n"])
                if table:
                    self._add(scope, table, access, site)
        elif method in SESSION_WRITES:
            for arg in named:
                found = self.value(scope, arg["n"])
                if found is not None and found[0] == "row":
                    model = self.t.models[found[1]]
                    if model.orm == "sqlalchemy":
                        self._add(scope, model.table, "writes", site)

    def _is_statement(self, scope: str, function: str) -> bool:
        if function.rpartition(".")[2] not in SQLALCHEMY_STATEMENTS:
            return False
        value = self.r.resolve_expr(scope, function)
        return (
            value is not None
            and value[0] == "external"
            and (value[1].startswith(("sqlalchemy", "flask_sqlalchemy")))
        )

    def _table_named(self, scope: str, path: str) -> str | None:
        """The table a statement argument names: a model, a model column, a Table object."""
        for candidate in (path, path.rpartition(".")[0]):
            if not candidate:
                continue
            found = self.value(scope, candidate)
            if found is not None and found[0] == "model":
                return self.t.models[found[1]].table or None
            if found is not None and found[0] == "table":
                return found[1]
        return None

    def _reference(self, scope: str, path: str, site: Site) -> None:
        value = self.r.resolve_expr(scope, path)
        if value is None or value[0] != "const":
            return
        self.r.consulted.add(value[1])
        for summary in sql_summaries(self.r.constants.get(value[1])):
            for name in summary.get("r", ()):
                self._add(scope, name, "reads", site)
            for name in summary.get("w", ()):
                self._add(scope, name, "writes", site)
            self._part.joins[scope].update((a, b) for a, b in summary.get("j", ()))

    def _add(self, scope: str, table: str, access: str, site: Site) -> None:
        if table:
            self._part.edges[(scope, table, access)].append(site)

    # -- graph -------------------------------------------------------------------------------

    def add_to(self, graph: DependencyGraph) -> None:
        for (scope, table, access), sites in sorted(self.edges.items()):
            if scope not in graph:
                continue
            if table_id(table) not in graph:
                graph.add_node(Node(table_id(table), NodeKind.TABLE, attrs={"orm": ["sql"]}))
            graph.add_edge(
                Edge(
                    scope,
                    table_id(table),
                    EdgeKind(access),
                    static_count=len(sites),
                    sites=tuple(sorted(set(sites))),
                )
            )
        for scope, pairs in sorted(self.joins.items()):
            if scope in graph and pairs:
                node = graph.node(scope)
                joins = [list(pair) for pair in sorted(pairs)]
                graph.replace_node(replace(node, attrs={**node.attrs, "sql_joins": joins}))


def _is_sql(value: Any) -> bool:
    return isinstance(value, dict) and "sql" in value


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for element in value for item in _flatten(element)]
    return [value]
