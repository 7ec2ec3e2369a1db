"""Tables: the ORM models of the project (Django, SQLAlchemy), `Table(...)` objects and raw
SQL DDL, with the foreign keys between tables.

Works on the resolved facts, never on the code: a class is a Django model when its bases lead
to `django.db.models.Model` (through any chain of project classes) and a SQLAlchemy model
when it declares `__tablename__` / `__table__` or inherits a mapped class. Table names follow
each ORM's own rules (see docs/data.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from analyzers.static.resolve import Resolver
from decomposer.cache import content_key
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, Node, NodeKind, Site

DJANGO_RELATIONS = {
    "ForeignKey": "fk",
    "ParentalKey": "fk",
    "TreeForeignKey": "fk",
    "ForeignObject": "fk",
    "OneToOneField": "o2o",
    "TreeOneToOneField": "o2o",
    "ManyToManyField": "m2m",
    "ParentalManyToManyField": "m2m",
}
# Django's own apps, whose tables a project's models often point at (auth_user …).
# Classes of models modules that are not models.
_NOT_MODELS = ("Manager", "QuerySet", "Field", "Mixin", "Form", "Error", "Exception")
_DJANGO_CONTRIB = re.compile(r"django\.contrib\.(\w+)\.models\.(\w+)")


@dataclass
class Relation:
    """A relation field of a model: a foreign key, one-to-one or many-to-many."""

    name: str
    kind: str  # fk, o2o, m2m
    target: str  # the model class id, or "table:<name>" for a table outside the project
    line: int
    related_name: str | None = None
    through: str | None = None  # m2m: the join table


@dataclass
class Model:
    id: str
    orm: str  # django or sqlalchemy
    table: str = ""
    abstract: bool = False
    proxy: bool = False
    columns: list[str] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    #: Django: reverse accessors (`customer.order_set`, related_name) -> (the model that
    #: declares the relation, the relation).
    reverse: dict[str, tuple[str, Relation]] = field(default_factory=dict)


@dataclass
class Table:
    name: str
    models: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)  # django, sqlalchemy, sql
    columns: set[str] = field(default_factory=set)
    site: Site | None = None


class Tables:
    """Every model and table of the project, and the foreign keys between tables."""

    def __init__(self, resolver: Resolver, sql_files: dict[str, dict[str, Any]]) -> None:
        self.r = resolver
        self.models: dict[str, Model] = {}
        self.tables: dict[str, Table] = {}
        #: SQLAlchemy `Table(...)` objects by where they are bound ("shop.models.order_tags").
        self.table_objects: dict[str, str] = {}
        self.foreign_keys: list[tuple[str, str, Site | None]] = []
        self._django_memo: dict[str, bool] = {}
        self._apps = self._django_apps()
        for class_id in sorted(r for r, record in resolver.defs.items() if record[1] == "class"):
            if self._is_django_model(class_id):
                self.models[class_id] = Model(class_id, "django")
            elif self._is_sqlalchemy_model(class_id):
                self.models[class_id] = Model(class_id, "sqlalchemy")
        for model in self.models.values():
            if model.orm == "django":
                self._django_table(model)
        for label_key, model_id in self._django_labels().items():
            resolver.model_labels.setdefault(label_key, model_id)
        for model in list(self.models.values()):
            if model.orm == "django":
                self._django_fields(model)
            else:
                self._sqlalchemy_model(model)
        self._table_objects_and_sql()
        for rel, summary in sorted(sql_files.items()):
            lines = summary.get("lines", {})
            for name in summary.get("d", ()):
                self._table(name, "sql", None).site = Site(rel, lines.get(name, 1))
            self._sql_tables(summary, Site(rel, 1))

    # -- Django ------------------------------------------------------------------------------

    def _is_django_model(self, class_id: str) -> bool:
        if class_id in self._django_memo:
            return self._django_memo[class_id]
        self._django_memo[class_id] = False  # guards against inheritance cycles
        # Django fields in the body make a model whatever the bases are (MP_Node, a base
        # built by a function call, a third-party model…).
        found = any(self._django_field(class_id, row) for row in self._rows(class_id))
        nested = self.r.defs[class_id][5] in self.r.defs  # in a class or function (Meta…)
        for kind, base in () if nested else self._bases(class_id):
            if kind == "class":
                found = found or self._is_django_model(base)
            elif kind == "external":
                found = found or bool(
                    (base.startswith("django.") and base.endswith(".Model"))
                    or (_DJANGO_CONTRIB.fullmatch(base) and not base.endswith(_NOT_MODELS))
                    # a third-party model base (AbstractIndexEntry…) of a class in models.py
                    or (
                        _in_models_module(base)
                        and _in_models_module(class_id)
                        and not base.startswith("django.")  # its QuerySet, Manager…
                        and not base.endswith(_NOT_MODELS)
                    )
                )
        self._django_memo[class_id] = found
        return found

    def _django_field(self, scope: str, row: list[Any]) -> bool:
        value = self.r.resolve_expr(scope, row[0])
        return value is not None and value[0] == "external" and value[1].startswith("django.db")

    def _meta(self, class_id: str, option: str) -> Any:
        """A `class Meta` option as Django reads it: own Meta (and its bases), else the Meta
        an abstract parent leaves to its children."""
        meta = f"{class_id}.Meta"
        if option == "abstract":  # Django resets it for children, even `Meta(Parent.Meta)`
            return self.r.constants.get(f"{meta}.abstract")
        if meta in self.r.defs:
            for meta_class in self.r.mro(meta):
                value = self.r.constants.get(f"{meta_class}.{option}")
                if value is not None:
                    return value
            return None
        for base in self._project_bases(class_id):
            model = self.models.get(base)
            if model is not None and model.abstract:
                value = self._meta(base, option)
                if value is not None:
                    return value
        return None

    def _django_table(self, model: Model) -> None:
        model.abstract = self._meta(model.id, "abstract") is True
        model.proxy = self._meta(model.id, "proxy") is True
        if model.abstract or model.proxy:
            return
        db_table = self._meta(model.id, "db_table")
        model.table = (
            db_table
            if isinstance(db_table, str)
            else f"{self._app_label(model.id)}_{model.id.rpartition('.')[2].lower()}"
        )

    def _app_label(self, model_id: str) -> str:
        label = self._meta(model_id, "app_label")
        if isinstance(label, str):
            return label
        module = self.r.module_of(model_id) or model_id
        best = ""
        for app in self._apps:
            if (module == app or module.startswith(app + ".")) and len(app) > len(best):
                best = app
        if not best:  # no app found: Django would use the package that holds models.py
            parts = module.split(".")
            best = ".".join(parts[: parts.index("models")]) if "models" in parts else module
            best = best or module
        return self._apps.get(best) or best.rpartition(".")[2]

    def _django_apps(self) -> dict[str, str]:
        """App package -> app label, from AppConfig classes, INSTALLED_APPS and models.py."""
        apps: dict[str, str] = {}
        for module in self.r.modules:
            head, _, last = module.rpartition(".")
            if last == "models" and head:
                apps.setdefault(head, head.rpartition(".")[2])
        for scope, value in self.r.constants.items():
            if scope.endswith(".INSTALLED_APPS") and isinstance(value, list):
                for entry in value:
                    if isinstance(entry, str) and ".apps." not in entry:
                        apps.setdefault(entry, entry.rpartition(".")[2])
        for class_id, record in self.r.defs.items():
            if record[1] != "class" or not any(b.endswith("AppConfig") for b in record[6]):
                continue
            name = self.r.constants.get(f"{class_id}.name")
            if isinstance(name, str):
                label = self.r.constants.get(f"{class_id}.label")
                apps[name] = label if isinstance(label, str) else name.rpartition(".")[2]
        return apps

    def _django_labels(self) -> dict[str, str]:
        """ "app_label.modelname" (lower case, as Django matches it) -> model class id."""
        labels = {}
        for model in self.models.values():
            if model.orm == "django":
                name = model.id.rpartition(".")[2].lower()
                labels[f"{self._app_label(model.id).lower()}.{name}"] = model.id
        return labels

    def _django_fields(self, model: Model) -> None:
        if model.abstract:
            return
        own_table = model.table or self._concrete_table(model.id)
        if model.proxy:
            model.table = own_table
        for class_id in self._field_sources(model.id):
            for row in self._rows(class_id):
                function, line, args, kwargs, name = row
                kind = DJANGO_RELATIONS.get(function.rpartition(".")[2])
                if name is None or not (kind or self._django_field(class_id, row)):
                    continue
                if kind is None:
                    column = kwargs.get("db_column")
                    model.columns.append(column if isinstance(column, str) else name)
                    continue
                target = self._django_target(
                    class_id, model.id, args[0] if args else kwargs.get("to")
                )
                if target is None:
                    continue
                related = kwargs.get("related_name")
                relation = Relation(name, kind, target, line, related)
                model.relations.append(relation)
                if kind == "m2m":
                    self._m2m(model, own_table, relation, kwargs)
                else:
                    column = kwargs.get("db_column")
                    model.columns.append(column if isinstance(column, str) else f"{name}_id")
                    self._foreign_key(own_table, self._table_of(target), class_id, line)
                self._reverse_accessor(model, relation)
        line = self.r.defs[model.id][2]
        for kind, parent in self._bases(model.id):
            # multi-table inheritance: the child's row points at its parent's row
            if model.proxy:
                break
            if kind == "class" and parent in self.models and not self.models[parent].abstract:
                self._foreign_key(own_table, self._table_of(parent), model.id, line)
            contrib = _DJANGO_CONTRIB.fullmatch(parent) if kind == "external" else None
            if contrib and not contrib.group(2).startswith("Abstract"):
                self._foreign_key(own_table, _contrib_table(contrib), model.id, line)
        if own_table:
            self._table(own_table, "django", model.id).columns.update(model.columns)

    def _field_sources(self, model_id: str) -> list[str]:
        """The class and its abstract parents: the fields a concrete model's table gets."""
        sources = [model_id]
        for base in self._project_bases(model_id):
            parent = self.models.get(base)
            if parent is not None and parent.abstract:
                sources.extend(s for s in self._field_sources(base) if s not in sources)
        return sources

    def _concrete_table(self, model_id: str) -> str:
        """A proxy's table: the first concrete model among its bases."""
        for base in self._project_bases(model_id):
            parent = self.models.get(base)
            if parent is not None and not parent.abstract:
                return parent.table or self._concrete_table(base)
        return ""

    def _django_target(self, scope: str, model_id: str, target: Any) -> str | None:
        if isinstance(target, str):
            if target == "self":
                return model_id
            if "." not in target:
                target = f"{self._app_label(model_id)}.{target}"
            found = self.r.model_labels.get(target.lower())
            if found is not None:
                return found
            app, _, name = target.rpartition(".")
            return f"table:{app.rpartition('.')[2]}_{name.lower()}"
        if isinstance(target, dict) and "n" in target:
            value = self.r.resolve_expr(scope, target["n"])
            if value is None:
                return None
            if value[0] == "class" and value[1] in self.models:
                return value[1]
            if value[0] == "const" and isinstance(self.r.constants.get(value[1]), str):
                return self._django_target(scope, model_id, self.r.constants[value[1]])
            if value[0] == "external":
                if value[1].endswith("AUTH_USER_MODEL"):
                    return self._django_target(scope, model_id, self._user_model())
                contrib = _DJANGO_CONTRIB.fullmatch(value[1])
                if contrib:
                    return f"table:{_contrib_table(contrib)}"
        return None

    def _user_model(self) -> str:
        for scope, value in self.r.constants.items():
            if scope.endswith(".AUTH_USER_MODEL") and isinstance(value, str):
                return value
        return "auth.User"

    def _m2m(self, model: Model, own_table: str, relation: Relation, kwargs: dict[str, Any]):
        through = kwargs.get("through")
        if through is not None:
            target = self._django_target(model.id, model.id, through)
            if target is not None and not target.startswith("table:"):
                relation.through = self.models[target].table or None
            return
        db_table = kwargs.get("db_table")
        join = db_table if isinstance(db_table, str) else f"{own_table}_{relation.name}"
        relation.through = join
        table = self._table(join, "django", None)
        table.site = table.site or Site(self.r.file_of[model.id], relation.line)
        self._foreign_key(join, own_table, model.id, relation.line)
        self._foreign_key(join, self._table_of(relation.target), model.id, relation.line)

    def _reverse_accessor(self, model: Model, relation: Relation) -> None:
        target = self.models.get(relation.target)
        if target is None or relation.related_name == "+":
            return
        name = relation.related_name
        if isinstance(name, str):
            name = name.replace("%(class)s", model.id.rpartition(".")[2].lower())
        elif relation.kind == "o2o":
            name = model.id.rpartition(".")[2].lower()
        else:
            name = model.id.rpartition(".")[2].lower() + "_set"
        target.reverse[name] = (model.id, relation)

    # -- SQLAlchemy ------------------------------------------------------------------------

    def _is_sqlalchemy_model(self, class_id: str, seen: frozenset[str] = frozenset()) -> bool:
        if self._own_constant(class_id, "__abstract__") is True or class_id in seen:
            return False
        if self._own_constant(class_id, "__tablename__") is not None or self._table_row(class_id):
            return True
        return self._inherits_mapping(class_id, seen | {class_id})

    def _inherits_mapping(self, class_id: str, seen: frozenset[str]) -> bool:
        """Whether a base maps tables: Flask-SQLAlchemy's `db.Model` or a mapped class (seen
        through `__abstract__` bases)."""
        for kind, base in self._bases(class_id):
            if (
                kind == "external"
                and base.startswith("flask_sqlalchemy")
                and base.endswith(".Model")
            ):
                return True
            if (
                kind == "class"
                and base not in seen
                and (
                    self._is_sqlalchemy_model(base, seen)
                    or self._own_constant(base, "__abstract__") is True
                    and self._inherits_mapping(base, seen | {base})
                )
            ):
                return True
        return False

    def _sqlalchemy_model(self, model: Model) -> None:
        class_id = model.id
        name = self._own_constant(class_id, "__tablename__")
        table_row = self._table_row(class_id)
        parent = next(
            (b[1] for b in self._bases(class_id) if b[0] == "class" and b[1] in self.models), None
        )
        has_key = any(row[3].get("primary_key") is True for row in self._rows(class_id))
        if isinstance(name, str):
            model.table = name
        elif table_row is not None and table_row[2] and isinstance(table_row[2][0], str):
            model.table = table_row[2][0]
        elif parent is not None and not has_key:  # single-table inheritance
            model.table = self.models[parent].table or ""
        else:  # Flask-SQLAlchemy names the table after the class
            model.table = _snake_case(class_id.rpartition(".")[2])
        if (
            parent is not None
            and model.table
            and self.models[parent].table not in ("", model.table)
        ):
            self._foreign_key(model.table, self.models[parent].table, class_id, 0)
        if not model.table:
            return
        table = self._table(model.table, "sqlalchemy", class_id)
        for row in self._rows(class_id):
            self._sqlalchemy_column(class_id, model.table, row, table)

    def _sqlalchemy_column(self, scope: str, table_name: str, row: list[Any], table: Table):
        function, line, args, kwargs, name = row
        kind = function.rpartition(".")[2]
        if kind in ("Column", "mapped_column"):
            column = args[0] if args and isinstance(args[0], str) else name
            if column:
                table.columns.add(column)
            for arg in args:
                self._sqlalchemy_fk(scope, table_name, arg, line)
        elif kind == "ForeignKeyConstraint" and len(args) > 1 and isinstance(args[1], list):
            for target in args[1][:1]:
                self._sqlalchemy_fk(scope, table_name, {"c": "ForeignKey", "a": [target]}, line)
        elif kind == "Table":  # __table__ = Table(...)
            for arg in args[1:]:
                if isinstance(arg, dict) and str(arg.get("c", "")).endswith("Column"):
                    self._sqlalchemy_column(
                        scope, table_name, [arg["c"], line, arg["a"], arg["k"], None], table
                    )
        elif kind == "relationship":
            secondary = kwargs.get("secondary")
            if isinstance(secondary, str):
                self._table(secondary, "sqlalchemy", None)

    def _sqlalchemy_fk(self, scope: str, table_name: str, arg: Any, line: int) -> None:
        if not (isinstance(arg, dict) and str(arg.get("c", "")).endswith("ForeignKey")):
            return
        target = arg["a"][0] if arg["a"] else None
        if isinstance(target, str) and "." in target:  # "customers.id"
            referenced = target.rsplit(".", 1)[0].rpartition(".")[2]
        elif isinstance(target, dict) and "n" in target:  # Customer.id
            value = self.r.resolve_expr(scope, target["n"].rpartition(".")[0] or target["n"])
            if value is None or value[0] != "class" or value[1] not in self.models:
                return
            referenced = self.models[value[1]].table
        else:
            return
        self._foreign_key(table_name, referenced, scope, line)

    def _table_row(self, class_id: str) -> list[Any] | None:
        for row in self._rows(class_id):
            if row[4] == "__table__":
                return row
        return None

    # -- Table objects and SQL ---------------------------------------------------------------

    def _table_objects_and_sql(self) -> None:
        r = self.r
        for module, facts in sorted(r.modules.items()):
            rel = r.file_of[module]
            for scope, data in facts["scopes"].items():
                for row in data["k"]:
                    if (
                        row[0].rpartition(".")[2] == "Table"
                        and row[2]
                        and isinstance(row[2][0], str)
                    ):
                        name = row[2][0]
                        table = self._table(name, "sqlalchemy", None)
                        table.site = table.site or Site(rel, row[1])
                        if row[4] and scope == module:
                            self.table_objects[f"{module}.{row[4]}"] = name
                        for arg in row[2][1:]:
                            if isinstance(arg, dict) and str(arg.get("c", "")).endswith("Column"):
                                self._sqlalchemy_column(
                                    scope,
                                    name,
                                    [arg["c"], row[1], arg["a"], arg["k"], None],
                                    table,
                                )
                    for summary in sql_summaries([row[2], row[3]]):
                        self._sql_tables(summary, Site(rel, row[1]))
                for value in data["v"].values():
                    for summary in sql_summaries(value):
                        self._sql_tables(summary, None)

    def _sql_tables(self, summary: dict[str, Any], site: Site | None) -> None:
        for key in ("r", "w", "d"):
            for name in summary.get(key, ()):
                table = self._table(name, "sql", None)
                if key == "d" and site is not None:
                    table.site = table.site or site
        for name, referenced in summary.get("f", ()):
            self._foreign_key(name, referenced, None, site.line if site else 0, site)

    # -- shared ---------------------------------------------------------------------------

    def _table(self, name: str, source: str, model_id: str | None) -> Table:
        table = self.tables.setdefault(name, Table(name))
        table.sources.add(source)
        if model_id is not None:
            table.models.add(model_id)
            if table.site is None:
                record = self.r.defs[model_id]
                table.site = Site(self.r.file_of[model_id], record[2])
        return table

    def _table_of(self, target: str) -> str:
        if target.startswith("table:"):
            return target[len("table:") :]
        model = self.models[target]
        return model.table or self._concrete_table(target)

    def _foreign_key(
        self, source: str, target: str, scope: str | None, line: int, site: Site | None = None
    ) -> None:
        if not source or not target:
            return
        if site is None and scope is not None and line:
            site = Site(self.r.file_of[scope], line)
        self.foreign_keys.append((source, target, site))

    def _rows(self, class_id: str) -> list[list[Any]]:
        """The detailed calls in a class body (field and column declarations)."""
        module = self.r.module_of(class_id)
        scope = self.r.modules[module]["scopes"].get(class_id) if module else None
        return scope["k"] if scope else []

    def _own_constant(self, class_id: str, name: str) -> Any:
        return self.r.constants.get(f"{class_id}.{name}")

    def _bases(self, class_id: str) -> Iterator[tuple[str, str]]:
        record = self.r.defs[class_id]
        for base in record[6]:
            value = self.r.resolve_expr(record[5], base)
            if value is not None:
                yield value

    def _project_bases(self, class_id: str) -> list[str]:
        return [v[1] for v in self._bases(class_id) if v[0] == "class"]

    # -- graph ----------------------------------------------------------------------------

    def fingerprint(self) -> str:
        """A digest of what resolving a module's code reads here: the models (with their
        relations both ways), the SQLAlchemy `Table` objects, the Django app labels."""
        return content_key(
            json.dumps(
                [
                    sorted((m.id, asdict(m)) for m in self.models.values()),
                    sorted(self.table_objects.items()),
                    sorted(self.r.model_labels.items()),
                ],
                sort_keys=True,
            )
        )

    def add_to(self, graph: DependencyGraph) -> None:
        for name, table in sorted(self.tables.items()):
            attrs: dict[str, Any] = {"models": sorted(table.models), "orm": sorted(table.sources)}
            if table.columns:
                attrs["columns"] = sorted(table.columns)
            site = table.site
            graph.add_node(
                Node(
                    table_id(name),
                    NodeKind.TABLE,
                    site.file if site else None,
                    site.line if site else None,
                    attrs=attrs,
                )
            )
        for source, target, site in self.foreign_keys:
            for name in (source, target):
                if table_id(name) not in graph:  # outside the project (auth_user …)
                    graph.add_node(Node(table_id(name), NodeKind.TABLE, attrs={"external": True}))
            graph.add_edge(
                Edge(
                    table_id(source),
                    table_id(target),
                    EdgeKind.FOREIGN_KEY,
                    static_count=1,
                    sites=(site,) if site else (),
                )
            )
        for model in self.models.values():
            if model.id in graph and (model.table or model.abstract):
                node = graph.node(model.id)
                extra: dict[str, Any] = {"orm": model.orm}
                if model.abstract:
                    extra["abstract"] = True
                else:
                    extra["table"] = model.table
                graph.replace_node(
                    Node(
                        node.id,
                        node.kind,
                        node.file,
                        node.line,
                        node.end_line,
                        node.loc,
                        {**node.attrs, **extra},
                    )
                )


def table_id(name: str) -> str:
    return f"table:{name}"


def sql_summaries(value: Any) -> list[dict[str, Any]]:
    """Every {"sql": summary} inside a literal (see collect.literal), in order. A loop, not
    recursion: the data rules ask this of every detailed call of a large tree."""
    found = []
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            if "sql" in item and isinstance(item["sql"], dict):
                found.append(item["sql"])
            else:
                todo.extend(reversed(item.values()))
        elif isinstance(item, list):
            todo.extend(reversed(item))
    return found


def _contrib_table(match: re.Match[str]) -> str:
    return f"{match.group(1)}_{match.group(2).lower()}"


def _in_models_module(dotted: str) -> bool:
    """`app.models.Order`, `lib.abstract_models.Base`: named like Django's model modules."""
    return any(p == "models" or p.endswith("_models") for p in dotted.split(".")[:-1])


def _snake_case(name: str) -> str:
    """Flask-SQLAlchemy's default table name for a model class."""
    name = re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", name)
    return name.lower().lstrip("_")
