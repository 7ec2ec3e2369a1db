"""Rendering: turn one planned module into Python source text.

Each module is rendered on its own from the plan and a ``random.Random`` seeded with the
module's id, so the text of a file depends only on the configuration. Bodies are written as
lists of lines; imports are collected while the body is written and printed above it.
The code is meant to be read, never run: it imports flask, sqlalchemy and celery, calls
across modules with plausible arguments, and always parses on Python 3.11.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from .plan import Entity, Method, Module, Plan, Service, Utility
from .utilities import UTILITY_TEMPLATES
from .vocabulary import STATUSES, camel, pluralize

THIRD_PARTY = frozenset({"flask", "sqlalchemy", "celery"})
MAX_LINE = 99


class Imports:
    """``from X import Y`` lines of one file, grouped like isort, never binding a name twice."""

    __slots__ = ("bound", "groups", "package")

    def __init__(self, package: str) -> None:
        self.package = package
        self.groups: tuple[dict[str, dict[str, None]], ...] = ({}, {}, {})
        self.bound: dict[str, str] = {}

    def reserve(self, name: str) -> None:
        """name is defined in this file: nothing may be imported under it."""
        self.bound[name] = ""

    def add(self, module: str, name: str) -> bool:
        """Import name from module; False when name already means something else here."""
        if self.bound.get(name, module) != module:
            return False
        self.bound[name] = module
        top = module.split(".", 1)[0]
        group = 2 if top == self.package else 1 if top in THIRD_PARTY else 0
        self.groups[group].setdefault(module, {})[name] = None
        return True

    def lines(self) -> list[str]:
        out = ["from __future__ import annotations"]
        for group in self.groups:
            if not group:
                continue
            out.append("")
            for module in sorted(group):
                names = sorted(group[module], key=_import_order)
                line = f"from {module} import {', '.join(names)}"
                if len(line) <= MAX_LINE:
                    out.append(line)
                else:
                    out.append(f"from {module} import (")
                    out.extend(f"    {n}," for n in names)
                    out.append(")")
        return out


def _import_order(name: str) -> tuple[int, str]:
    """CONSTANTS, then Classes, then functions, as isort's force-sort-by-type does."""
    if name.isupper() and len(name) > 1:
        return 0, name
    return (1 if name[:1].isupper() else 2), name.lower()


@dataclass(slots=True)
class Ctx:
    """Where a generated statement goes: names in scope and the file's imports."""

    imports: Imports
    service: Service
    module: Module | None
    session: str | None  # expression for a Session, None when there is none
    ident: str  # expression for the id of the entity being handled
    payload: str  # expression for a dict payload
    topic: str  # "invoice.settle"
    indent: str
    in_validator: bool = False


def _a(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _wrap_call(indent: str, head: str, args: list[str], tail: str = ")") -> list[str]:
    """``head(arg, arg)`` on one line, or one argument per line when too long."""
    line = f"{indent}{head}({', '.join(args)}{tail}"
    if len(line) <= MAX_LINE:
        return [line]
    return [f"{indent}{head}(", *(f"{indent}    {a}," for a in args), f"{indent}{tail}"]


def _def(indent: str, name: str, params: list[str], returns: str) -> list[str]:
    line = f"{indent}def {name}({', '.join(params)}) -> {returns}:"
    if len(line) <= MAX_LINE:
        return [line]
    inner = f"{indent}    {', '.join(params)}"
    if len(inner) <= MAX_LINE:
        return [f"{indent}def {name}(", inner, f"{indent}) -> {returns}:"]
    return [f"{indent}def {name}(", *(f"{indent}    {p}," for p in params),
            f"{indent}) -> {returns}:"]


def _sql(indent: str, query: str, params: str | None) -> list[str]:
    """``session.execute(text("..."), params)`` split over lines the way people write it."""
    single = f'{indent}text("{query}"),'
    if len(single) <= MAX_LINE:
        return [single] + ([f"{indent}{params},"] if params else [])
    out = [f"{indent}text("]
    words = query.split(" ")
    chunk = ""
    pieces: list[str] = []
    for word in words:
        cand = f"{chunk} {word}" if chunk else word
        if len(cand) + len(indent) + 8 > MAX_LINE and chunk:
            pieces.append(chunk + " ")
            chunk = word
        else:
            chunk = cand
    pieces.append(chunk)
    out += [f'{indent}    "{p}"' for p in pieces]
    out.append(f"{indent}),")
    if params:
        out.append(f"{indent}{params},")
    return out


def _raise(indent: str, exc: str, message: str) -> list[str]:
    """``raise exc(f"message")``, split over three lines when too long."""
    line = f'{indent}raise {exc}(f"{message}")'
    if len(line) <= MAX_LINE:
        return [line]
    return [f"{indent}raise {exc}(", f'{indent}    f"{message}"', f"{indent})"]


def _alias(snake: str, taken: str = "") -> str:
    alias = "".join(p[0] for p in snake.split("_"))
    return alias + "2" if alias == taken else alias


class Renderer:
    """Renders every file of a plan; holds the per-service lists of callable targets."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.pkg = plan.package
        self.noise = plan.config.noise
        self.services = plan.services
        self.methods: dict[int, list[tuple[Module, Method]]] = {}
        self.functions: dict[int, list[tuple[Module, Method]]] = {}
        self.validators: dict[int, list[Module]] = {}
        self.events: dict[int, list[Module]] = {}
        for s in plan.services:
            self.methods[s.index] = [(m, f) for m in s.modules if m.role == "service"
                                     for f in m.methods]
            self.functions[s.index] = [(m, f) for m in s.modules if m.role == "service"
                                       for f in m.functions]
            self.validators[s.index] = s.role_modules("schema")
            self.events[s.index] = s.role_modules("event")
        self.utilities = plan.utilities
        self.by_entity: dict[Entity, list[tuple[Module, Method]]] = {}
        self.by_noun: dict[tuple[int, str], list[tuple[Module, Method]]] = {}
        for s in plan.services:
            for mod, method in self.methods[s.index]:
                self.by_entity.setdefault(method.entity, []).append((mod, method))
                self.by_noun.setdefault((s.index, method.entity.noun), []).append((mod, method))

    # ------------------------------------------------------------------ files

    def files(self) -> Iterator[tuple[str, str]]:
        """(relative path, text) of every file, packages and shared modules included."""
        pkg = self.pkg
        yield f"{pkg}/__init__.py", self._package_doc(
            "A monolith generated by sample_monoliths.synthetic: every business area in one "
            "code base."
        )
        yield f"{pkg}/settings.py", self._settings()
        yield f"{pkg}/app.py", self._app()
        yield f"{pkg}/common/__init__.py", self._package_doc(
            "Helpers every part of the application uses."
        )
        yield f"{pkg}/common/db.py", self._db()
        yield f"{pkg}/common/events.py", self._events_bus()
        for utility in self.utilities:
            yield utility.path, self._utility(utility)
        for path, doc in self._packages():
            yield path, self._package_doc(doc)
        for module in self.plan.modules:
            yield module.path, self.module(module)

    def _packages(self) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for module in self.plan.modules:
            parts = module.path.split("/")[:-1]
            for depth in range(2, len(parts) + 1):
                path = "/".join(parts[:depth]) + "/__init__.py"
                if path in seen:
                    continue
                if depth == 2 and module.service.layout == "by-service":
                    seen[path] = module.service.domain.summary
                else:
                    seen[path] = f"The {parts[depth - 1]} layer."
        return sorted(seen.items())

    @staticmethod
    def _package_doc(doc: str) -> str:
        return f'"""{doc}"""\n'

    def module(self, module: Module) -> str:
        rng = random.Random(f"{self.plan.config.seed}:{module.id}")
        imports = Imports(self.pkg)
        render = getattr(self, f"_{module.role}")
        doc, body = render(module, imports, rng)
        for owner, method in module.misplaced:
            body += self._misplaced(module, owner, method, imports, rng)
        for entity in module.shared_writes:
            body += self._shared_write(module, entity, imports, rng)
        while body and not body[0]:
            del body[0]
        return "\n".join([f'"""{doc}"""', "", *imports.lines(), "", "", *body]) + "\n"

    # ------------------------------------------------------------------ shared pieces

    def _method_for(self, rng: random.Random, entity: Entity) -> tuple[Module, Method]:
        """A service method working on entity, else on its noun, else any of its service."""
        exact = self.by_entity.get(entity)
        if exact:
            return rng.choice(exact)
        same_noun = self.by_noun.get((entity.service.index, entity.noun))
        return rng.choice(same_noun or self.methods[entity.service.index])

    def _statement_pool(self, ctx: Ctx, rng: random.Random, lines: list[str],
                        intra: int) -> None:
        """Append intra-service calls, maybe a utility call, maybe a foreign call."""
        for _ in range(intra):
            self._call(ctx, rng, lines, ctx.service)
        if self.utilities and rng.random() < 0.6:
            self._utility_call(ctx, rng, lines)
        if self.noise and len(self.services) > 1 and rng.random() < self.noise:
            others = [s for s in self.services if s is not ctx.service]
            self._call(ctx, rng, lines, rng.choice(others), foreign=True)

    def _call(self, ctx: Ctx, rng: random.Random, lines: list[str], target: Service,
              foreign: bool = False) -> bool:
        """A call to something of target; False when nothing fitting could be found."""
        ind = ctx.indent
        kinds = ["validator"] if self.validators[target.index] else []
        if ctx.session and not ctx.in_validator:
            kinds += ["method", "method", "function", "repo"]
        for _ in range(4):
            if not kinds:
                return False
            kind = rng.choice(kinds)
            if kind == "method":
                mod, method = rng.choice(self.methods[target.index])
                if mod is ctx.module or not ctx.imports.add(mod.id, mod.cls):
                    continue
                args = [ctx.ident] + ([ctx.payload] if method.with_payload else [])
                if rng.random() < 0.5:
                    var = mod.name if not mod.name[-1].isdigit() else f"{mod.noun}_{mod.aspect}"
                    lines.append(f"{ind}{var} = {mod.cls}({ctx.session})")
                    lines += _wrap_call(ind, f"{var}.{method.name}", args)
                else:
                    lines += _wrap_call(ind, f"{mod.cls}({ctx.session}).{method.name}", args)
                return True
            if kind == "function":
                mod, func = rng.choice(self.functions[target.index])
                if mod is ctx.module or not ctx.imports.add(mod.id, func.name):
                    continue
                lines += _wrap_call(ind, func.name, [ctx.session or "", ctx.ident])
                return True
            if kind == "repo":
                entity = rng.choice(target.entities)
                assert entity.repo is not None
                repo_cls = f"{entity.cls}Repository"
                if not ctx.imports.add(entity.repo.id, repo_cls):
                    continue
                lines.append(f"{ind}{entity.snake}_record = {repo_cls}({ctx.session})"
                             f".get({ctx.ident})")
                if rng.random() < 0.5:
                    lines.append(f"{ind}if {entity.snake}_record is not None:")
                    lines.append(f"{ind}    {entity.snake}_record.status = "
                                 f'"{rng.choice(STATUSES)}"')
                return True
            if kind == "validator":
                mod = rng.choice(self.validators[target.index])
                func = mod.functions[0]
                if mod is ctx.module or not ctx.imports.add(mod.id, func.name):
                    continue
                if ctx.in_validator:
                    lines.append(f"{ind}errors.extend({func.name}({ctx.payload}))")
                else:
                    lines.append(f"{ind}problems = {func.name}({ctx.payload})")
                    lines.append(f"{ind}if problems:")
                    lines.append(f'{ind}    raise ValueError("; ".join(problems))')
                return True
        return False

    def _utility_call(self, ctx: Ctx, rng: random.Random, lines: list[str]) -> None:
        utility = rng.choice(self.utilities)
        funcs = UTILITY_TEMPLATES[utility.template].calls
        name, template = rng.choice(funcs)
        if not ctx.imports.add(utility.id, name):
            return
        text = template.format(ident=ctx.ident, payload=ctx.payload, topic=ctx.topic,
                               session=ctx.session or "None")
        lines.extend(f"{ctx.indent}{line}" for line in text.split("\n"))

    def _doc(self, indent: str, text: str) -> str:
        """A docstring, wrapped over several lines when it does not fit on one."""
        line = f'{indent}"""{text}"""'
        if len(line) <= MAX_LINE:
            return line
        words = text.split(" ")
        out, current = [], f'{indent}"""{words[0]}'
        for word in words[1:]:
            if len(current) + 1 + len(word) > MAX_LINE - 3:
                out.append(current)
                current = indent + word
            else:
                current += " " + word
        out.append(current + '"""')
        return "\n".join(out)

    @staticmethod
    def _others(rng: random.Random, service: Service, noun: str, k: int = 2) -> list[str]:
        nouns = [n for n in service.domain.nouns if n != noun]
        return rng.sample(nouns, min(k, len(nouns)))

    # ------------------------------------------------------------------ models

    def _model(self, module: Module, imports: Imports,
               rng: random.Random) -> tuple[str, list[str]]:
        service = module.service
        for entity in module.entities:
            imports.reserve(entity.cls)
        imports.add("sqlalchemy.orm", "Mapped")
        imports.add("sqlalchemy.orm", "mapped_column")
        imports.add("typing", "Any")
        imports.add(f"{self.pkg}.common.db", "Base")
        body: list[str] = []
        for entity in module.entities:
            body += ["", ""]
            body += self._entity(entity, module, imports, rng)
        others = self._others(rng, service, module.noun)
        names = ", ".join(pluralize(e.words) for e in module.entities)
        doc = (f"Mapped classes for {names}, with the {pluralize(others[0])} "
               f"they refer to.") if others else f"Mapped classes for {names}."
        if len(doc) > 90:
            doc = f"Mapped classes for {pluralize(module.entities[0].words)} and related records."
        return doc, body[1:]

    def _entity(self, entity: Entity, module: Module, imports: Imports,
                rng: random.Random) -> list[str]:
        words = entity.words
        if entity.snake != entity.noun:
            suffix = entity.snake[len(entity.noun) + 1:].replace("_", " ")
            doc = f"{_a(suffix).capitalize()} {suffix} recorded against {_a(entity.noun)} " \
                  f"{entity.noun}."
        else:
            other = self._others(rng, entity.service, entity.noun, 1)
            tracked = pluralize(other[0]) if other else "history"
            doc = rng.choice((
                f"One {words}, as stored in the ``{entity.table}`` table.",
                f"{_a(words).capitalize()} {words} and what it is settled against.",
                f"{_a(words).capitalize()} {words}, tracked next to its {tracked}.",
            ))
        lines = [f"class {entity.cls}(Base):", f'    """{doc}"""', "",
                 f'    __tablename__ = "{entity.table}"', "",
                 "    id: Mapped[int] = mapped_column(primary_key=True)"]
        fks = ([entity.parent] if entity.parent else []) + entity.foreign
        for target in fks:
            imports.add("sqlalchemy", "ForeignKey")
            nullable = target is not entity.parent
            opt = ", nullable=True" if nullable else ", index=True"
            ann = "int | None" if nullable else "int"
            lines.append(f"    {target.snake}_id: Mapped[{ann}] = mapped_column("
                         f'ForeignKey("{target.table}.id"){opt})')
        for column in entity.columns:
            sqltype = column.sqltype
            imports.add("sqlalchemy", sqltype.split("(", 1)[0])
            if column.pytype.startswith("Decimal"):
                imports.add("decimal", "Decimal")
            if column.pytype.startswith("datetime"):
                imports.add("datetime", "datetime")
            if column.pytype.startswith("date "):
                imports.add("datetime", "date")
            extra = column.extra
            if column.name == "status":
                extra = f'default="{rng.choice(STATUSES[:3])}", index=True'
            args = ", ".join(a for a in (sqltype, extra) if a)
            line = f"    {column.name}: Mapped[{column.pytype}] = mapped_column({args})"
            if len(line) > MAX_LINE:
                line = (f"    {column.name}: Mapped[{column.pytype}] = mapped_column(\n"
                        f"        {args}\n    )")
            lines.append(line)
        parent = entity.parent
        if parent is not None:
            imports.add("sqlalchemy.orm", "relationship")
            if parent.model is not module:
                assert parent.model is not None
                imports.add(parent.model.id, parent.cls)
            rel = f'relationship("{parent.cls}")'
            lines += ["", f"    {parent.snake}: Mapped[{parent.cls}] = {rel}"]
        lines += ["", "    def to_dict(self) -> dict[str, Any]:",
                  '        """Plain data for JSON responses."""']
        fields = ['"id": self.id', '"status": self.status']
        for column in entity.columns[:3]:
            if column.name == "status":
                continue
            value = f"self.{column.name}"
            if column.pytype.startswith(("Decimal", "datetime", "date")):
                value = f"str(self.{column.name})"
            fields.append(f'"{column.name}": {value}')
        ret = f"        return {{{', '.join(fields)}}}"
        if len(ret) <= MAX_LINE:
            lines.append(ret)
        else:
            lines += ["        return {", *(f"            {f}," for f in fields), "        }"]
        if rng.random() < 0.6:
            closed = rng.sample(STATUSES[4:], 2)
            lines += ["", "    def is_closed(self) -> bool:",
                      f'        """Whether this {words} can still change."""',
                      f'        return self.status in ("{closed[0]}", "{closed[1]}")']
        if rng.random() < 0.3:
            lines += ["", "    def __repr__(self) -> str:",
                      f'        return f"<{entity.cls} {{self.id}} {{self.status}}>"']
        return lines

    # ------------------------------------------------------------------ repositories

    def _repository(self, module: Module, imports: Imports,
                    rng: random.Random) -> tuple[str, list[str]]:
        imports.add("sqlalchemy", "select")
        imports.add("sqlalchemy", "text")
        imports.add("sqlalchemy.orm", "Session")
        body: list[str] = []
        for entity in module.entities:
            assert entity.model is not None
            imports.add(entity.model.id, entity.cls)
            imports.reserve(f"{entity.cls}Repository")
            body += ["", ""]
            body += self._repo_class(entity, imports, rng)
        names = ", ".join(pluralize(e.words) for e in module.entities)
        doc = f"Loading and storing {names}."
        if len(doc) > 90:
            doc = f"Loading and storing {pluralize(module.entities[0].words)} and their details."
        return doc, body[1:]

    def _repo_class(self, entity: Entity, imports: Imports, rng: random.Random) -> list[str]:
        e, cls, var = entity, entity.cls, entity.snake
        lines = [f"class {cls}Repository:",
                 f'    """Database access for {pluralize(e.words)}."""', "",
                 "    def __init__(self, session: Session) -> None:",
                 "        self.session = session", ""]
        lines += _def("    ", "get", ["self", f"{var}_id: int"], f"{cls} | None")
        lines += [f'        """The {e.words} with this id, or None."""',
                  f"        return self.session.get({cls}, {var}_id)", ""]
        lines += _def("    ", "list_by_status", ["self", "status: str", "limit: int = 100"],
                      f"list[{cls}]")
        lines += [f'        """{pluralize(e.words).capitalize()} in one status, newest first."""',
                  f"        stmt = select({cls}).where({cls}.status == status)",
                  f"        stmt = stmt.order_by({cls}.created_at.desc()).limit(limit)",
                  "        return list(self.session.scalars(stmt))", ""]
        lines += _def("    ", "save", ["self", f"{var}: {cls}"], cls)
        lines += [f'        """Add or update one {e.words} and flush it."""',
                  f"        self.session.add({var})",
                  "        self.session.flush()",
                  f"        return {var}", ""]
        lines += _def("    ", "delete", ["self", f"{var}: {cls}"], "None")
        lines += [f"        self.session.delete({var})", ""]
        lines += _def("    ", "count_by_status", ["self"], "dict[str, int]")
        lines += ["        rows = self.session.execute(",
                  *_sql("            ", f"SELECT status, COUNT(*) AS total FROM {e.table} "
                        "GROUP BY status", None),
                  "        ).all()",
                  "        return {row.status: row.total for row in rows}"]
        joins: list[tuple[Entity, str]] = []
        if e.parent is not None:
            joins.append((e.parent, "fk"))
        joins += [(f, "fk") for f in e.foreign]
        if self.noise and len(self.services) > 1 and rng.random() < self.noise:
            other = rng.choice([s for s in self.services if s is not e.service])
            joins.append((rng.choice(other.entities), "loose"))
        if joins:
            imports.add("typing", "Any")
        for target, how in joins:
            a, b = _alias(e.snake), _alias(target.snake, _alias(e.snake))
            if how == "fk":
                on = f"{b}.id = {a}.{target.snake}_id"
                where = f"WHERE {a}.{target.snake}_id = :{target.snake}_id"
                name, params = f"list_for_{target.snake}", [f"{target.snake}_id: int"]
                bind = f'{{"{target.snake}_id": {target.snake}_id}}'
            else:
                on = f"{b}.created_at >= {a}.created_at"
                where = f"WHERE {a}.status = :status"
                name, params = f"list_with_{target.plural}", ["status: str"]
                bind = '{"status": status}'
            lines += [""]
            lines += _def("    ", name, ["self", *params], "list[dict[str, Any]]")
            joined = f"{pluralize(e.words).capitalize()} joined with their {target.words} rows."
            lines += [f'        """{joined}"""',
                      "        rows = self.session.execute(",
                      *_sql("            ", f"SELECT {a}.id, {a}.status, {b}.id AS "
                            f"{target.snake}_ref, {b}.status AS {target.snake}_status FROM "
                            f"{e.table} {a} JOIN {target.table} {b} ON {on} {where}", bind),
                      "        ).all()",
                      "        return [dict(row._mapping) for row in rows]"]
        return lines

    # ------------------------------------------------------------------ services

    def _service(self, module: Module, imports: Imports,
                 rng: random.Random) -> tuple[str, list[str]]:
        service = module.service
        imports.reserve(module.cls)
        for f in module.functions:
            imports.reserve(f.name)
        for _owner, f in module.misplaced:
            imports.reserve(f.name)
        imports.add("sqlalchemy.orm", "Session")
        imports.add("typing", "Any")
        others = self._others(rng, service, module.noun)
        aspect = module.aspect
        doc = (f"{module.noun.capitalize()} {aspect}: use cases that touch "
               f"{', '.join(pluralize(e.words) for e in module.entities)}.")
        if len(doc) > 90:
            doc = f"{module.noun.capitalize()} {aspect}: the use cases behind it."
        lines = ["", f"class {module.cls}:",
                 self._doc("    ", f"{camel(module.noun)} {aspect} for the "
                           f"{' and '.join(pluralize(o) for o in others)} side of the "
                           f"business." if others else f"{camel(module.noun)} {aspect}."),
                 "", "    def __init__(self, session: Session) -> None:",
                 "        self.session = session"]
        for entity in module.entities:
            assert entity.repo is not None
            imports.add(entity.repo.id, f"{entity.cls}Repository")
            lines.append(f"        self.{entity.snake}_repo = {entity.cls}Repository(session)")
        helpers: list[Entity] = []
        events = self.events[service.index]
        for method in module.methods:
            e = method.entity
            params = ["self", f"{e.snake}_id: int"]
            if method.with_payload:
                params.append("payload: dict[str, Any] | None = None")
            lines.append("")
            lines += _def("    ", method.name, params, "dict[str, Any]")
            verb = method.verb.replace("_", " ")
            lines.append(self._doc("        ", rng.choice((
                f"{verb.capitalize()} one {e.words} and return its new state.",
                f"{verb.capitalize()} the {e.words} identified by ``{e.snake}_id``.",
                f"Apply '{verb}' to {_a(e.words)} {e.words}; raise LookupError if it is gone.",
            ))))
            ind = "        "
            if method.with_payload:
                lines.append(f"{ind}payload = payload or {{}}")
            if rng.random() < 0.4 or e in helpers:
                if e not in helpers:
                    helpers.append(e)
                lines.append(f"{ind}{e.snake} = self._load_{e.snake}({e.snake}_id)")
            else:
                lines.append(f"{ind}{e.snake} = self.{e.snake}_repo.get({e.snake}_id)")
                lines.append(f"{ind}if {e.snake} is None:")
                lines += _raise(f"{ind}    ", "LookupError", f"{e.words} {{{e.snake}_id}} not found")
            status = rng.choice(STATUSES)
            if rng.random() < 0.5:
                lines.append(f'{ind}if {e.snake}.status == "{rng.choice(STATUSES[4:])}":')
                lines += _raise(f"{ind}    ", "ValueError",
                                f"{e.words} {{{e.snake}_id}} is {{{e.snake}.status}}")
            lines.append(f'{ind}{e.snake}.status = "{status}"')
            if method.with_payload:
                for column in rng.sample(e.columns, min(len(e.columns), rng.randint(1, 3))):
                    if column.name in ("status", "created_at"):
                        continue
                    lines.append(f'{ind}if "{column.name}" in payload:')
                    lines.append(f'{ind}    {e.snake}.{column.name} = payload["{column.name}"]')
            elif rng.random() < 0.4:
                column = rng.choice(e.columns)
                if column.pytype in ("int", "float"):
                    lines.append(f"{ind}{e.snake}.{column.name} = ({e.snake}.{column.name} "
                                 "or 0) + 1")
                elif column.pytype.startswith("datetime"):
                    imports.add("datetime", "UTC")
                    imports.add("datetime", "datetime")
                    lines.append(f"{ind}{e.snake}.{column.name} = datetime.now(tz=UTC)")
            ctx = Ctx(imports, service, module, "self.session", f"{e.snake}_id",
                      "payload" if method.with_payload else "{}", f"{e.snake}.{method.verb}", ind)
            self._statement_pool(ctx, rng, lines, rng.choice((0, 1, 1, 2, 2, 3)))
            if events and rng.random() < 0.4:
                ev = rng.choice(events)
                handler = rng.choice(ev.functions)
                if handler.entity is e and imports.add(ev.id, handler.style):
                    imports.add(f"{self.pkg}.common.events", "publish")
                    lines.append(f"{ind}publish({handler.style}({e.snake}_id={e.snake}_id))")
            lines.append(f"{ind}self.{e.snake}_repo.save({e.snake})")
            if rng.random() < 0.5:
                lines.append(f'{ind}return {{"id": {e.snake}.id, "status": {e.snake}.status}}')
            else:
                lines.append(f"{ind}return {e.snake}.to_dict()")
        for e in helpers:
            lines += ["", *_def("    ", f"_load_{e.snake}", ["self", f"{e.snake}_id: int"],
                                e.cls)]
            imports.add(e.model.id if e.model else "", e.cls)
            lines += [f"        {e.snake} = self.{e.snake}_repo.get({e.snake}_id)",
                      f"        if {e.snake} is None:",
                      *_raise("            ", "LookupError", f"{e.words} {{{e.snake}_id}} not found"),
                      f"        return {e.snake}"]
        for func in module.functions:
            e = func.entity
            method = rng.choice(module.methods)
            lines += ["", ""]
            if "_pending_" in func.name:
                lines += _def("", func.name, ["session: Session", "limit: int = 200"],
                              "int")
                lines.append(self._doc("    ", f"{func.verb.replace('_', ' ').capitalize()} pending "
                                       f"{pluralize(e.words)}; return how many were done."))
                me = method.entity
                loop = f'for {me.snake} in service.{me.snake}_repo.list_by_status("pending", limit):'
                lines += [f"    service = {module.cls}(session)", "    done = 0", f"    {loop}"]
                args = [f"{me.snake}.id"] + (["{}"] if method.with_payload else [])
                lines += _wrap_call("        ", f"service.{method.name}", args)
                ctx = Ctx(imports, service, module, "session", f"{me.snake}.id", "{}",
                          f"{me.snake}.{func.verb}", "        ")
                self._statement_pool(ctx, rng, lines, rng.choice((0, 1)))
                lines += ["        done += 1", "    return done"]
            else:
                me = method.entity
                lines += _def("", func.name, ["session: Session", f"{me.snake}_id: int"],
                              "dict[str, Any]")
                lines.append(self._doc("    ", f"Shortcut: {func.name.replace('_', ' ')} "
                                       "without building the service yourself."))
                ctx = Ctx(imports, service, module, "session", f"{me.snake}_id", "{}",
                          f"{me.snake}.{func.verb}", "    ")
                self._statement_pool(ctx, rng, lines, rng.choice((0, 0, 1)))
                args = [f"{me.snake}_id"] + (["{}"] if method.with_payload else [])
                lines += _wrap_call("    ", f"return {module.cls}(session).{method.name}",
                                    args)
        return doc, lines[1:]

    def _misplaced(self, module: Module, owner: Service, func: Method, imports: Imports,
                   rng: random.Random) -> list[str]:
        """A function about another service's data, left in this module by history."""
        e = func.entity
        lines = ["", ""]
        lines += _def("", func.name, ["session: Session", f"{e.snake}_id: int"],
                      "dict[str, Any]")
        lines.append(self._doc("    ", f"{func.verb.capitalize()} {_a(e.words)} {e.words} "
                               f"for the {module.aspect} screens."))
        assert e.repo is not None
        imports.add(e.repo.id, f"{e.cls}Repository")
        lines += [f"    {e.snake} = {e.cls}Repository(session).get({e.snake}_id)",
                  f"    if {e.snake} is None:",
                  *_raise("        ", "LookupError", f"{e.words} {{{e.snake}_id}} not found"),
                  f'    {e.snake}.status = "{rng.choice(STATUSES)}"']
        ctx = Ctx(imports, owner, None, "session", f"{e.snake}_id", "{}",
                  f"{e.snake}.{func.verb}", "    ")
        for _ in range(rng.randint(1, 2)):
            self._call(ctx, rng, lines, owner)
        lines.append(f"    return {e.snake}.to_dict()")
        return lines

    def _shared_write(self, module: Module, entity: Entity, imports: Imports,
                      rng: random.Random) -> list[str]:
        """This service writing a table another service owns (the shared-table smell)."""
        name = f"upsert_{entity.snake}"
        imports.reserve(name)
        lines = ["", ""]
        lines += _def("", name, ["session: Session", f"{entity.snake}_id: int",
                                 'status: str = "active"'], "None")
        lines.append(self._doc("    ", f"Keep the {entity.words} row in step with our "
                               f"{pluralize(module.noun)}."))
        use_orm = rng.random() < 0.5 and entity.model is not None
        if use_orm and entity.model is not None and imports.add(entity.model.id, entity.cls):
            lines += [f"    {entity.snake} = session.get({entity.cls}, {entity.snake}_id)",
                      f"    if {entity.snake} is None:",
                      f"        {entity.snake} = {entity.cls}(id={entity.snake}_id)",
                      f"        session.add({entity.snake})",
                      f"    {entity.snake}.status = status",
                      "    session.flush()"]
        else:
            imports.add("sqlalchemy", "text")
            lines += ["    session.execute(",
                      *_sql("        ", f"UPDATE {entity.table} SET status = :status "
                            f"WHERE id = :{entity.snake}_id",
                            f'{{"status": status, "{entity.snake}_id": {entity.snake}_id}}'),
                      "    )"]
        return lines

    # ------------------------------------------------------------------ schemas

    def _schema(self, module: Module, imports: Imports,
                rng: random.Random) -> tuple[str, list[str]]:
        e = module.entities[0]
        func = module.functions[0]
        imports.reserve(module.cls)
        imports.reserve(func.name)
        imports.reserve(f"serialize_{module.name}")
        imports.add("dataclasses", "dataclass")
        imports.add("typing", "Any")
        assert e.model is not None
        imports.add(e.model.id, e.cls)
        required = f"{e.snake}_id"
        allowed = [f'"{s}"' for s in rng.sample(STATUSES, 4)]
        lines = ["@dataclass(slots=True)", f"class {module.cls}:",
                 self._doc("    ", f"What clients send to the {e.words} {module.aspect} "
                           "endpoints."), "",
                 f"    {required}: int"]
        for column in e.columns[:4]:
            pytype = column.pytype if "None" in column.pytype else f"{column.pytype} | None"
            if column.pytype.startswith("Decimal"):
                imports.add("decimal", "Decimal")
            if column.pytype.startswith("datetime"):
                imports.add("datetime", "datetime")
            if column.pytype.startswith("date "):
                imports.add("datetime", "date")
            lines.append(f"    {column.name}: {pytype} = None")
        lines += ["", ""]
        lines += _def("", func.name, ["payload: dict[str, Any]"], "list[str]")
        lines += [self._doc("    ", f"Problems with {_a(e.words)} {e.words} {module.aspect} "
                            "payload; empty when it is valid."),
                  "    errors: list[str] = []",
                  f'    if "{required}" not in payload:',
                  f'        errors.append("{required} is required")',
                  f'    status = payload.get("status", "{STATUSES[0]}")',
                  f"    if status not in ({', '.join(allowed)}):",
                  '        errors.append(f"unknown status {status!r}")']
        for column in e.columns[:4]:
            name = column.name
            if column.pytype in ("int", "float", "Decimal"):
                check = f'not isinstance(payload["{name}"], int | float | str)'
                lines += [f'    if "{name}" in payload and {check}:',
                          f'        errors.append("{name} must be a number")']
            elif column.pytype == "str":
                lines += [f'    if len(str(payload.get("{name}", ""))) > 64:',
                          f'        errors.append("{name} is too long")']
        ctx = Ctx(imports, module.service, module, None, f'payload.get("{required}")',
                  "payload", f"{e.snake}.validate", "    ", in_validator=True)
        self._statement_pool(ctx, rng, lines, rng.choice((0, 0, 1)))
        lines += ["    return errors", "", ""]
        lines += _def("", f"serialize_{module.name}", [f"{e.snake}: {e.cls}"],
                      "dict[str, Any]")
        lines += [self._doc("    ", f"The {e.words} as the {module.aspect} endpoints show it."),
                  f"    data = {e.snake}.to_dict()",
                  f'    data["kind"] = "{e.snake}"',
                  "    return data"]
        if rng.random() < 0.6:
            flt = module.cls.removesuffix("Payload") + "Filter"
            imports.reserve(flt)
            imports.reserve(f"parse_{module.name}_filter")
            lines += ["", "", "@dataclass(frozen=True, slots=True)", f"class {flt}:",
                      self._doc("    ", f"Query-string filters of the {e.words} {module.aspect} "
                                "list."), "",
                      "    status: str | None = None",
                      "    page: int = 1",
                      f"    per_page: int = {rng.choice((20, 25, 50, 100))}", "", ""]
            lines += _def("", f"parse_{module.name}_filter", ["args: dict[str, str]"], flt)
            lines += [self._doc("    ", "Filters from query-string arguments, ignoring what "
                                "cannot be parsed."),
                      '    raw_page = args.get("page", "1")',
                      "    page = int(raw_page) if raw_page.isdigit() else 1",
                      f'    return {flt}(status=args.get("status"), page=page)']
        doc = f"Request and response shapes for {e.words} {module.aspect}."
        return doc, lines

    # ------------------------------------------------------------------ events

    def _event(self, module: Module, imports: Imports,
               rng: random.Random) -> tuple[str, list[str]]:
        for handler in module.functions:
            imports.reserve(handler.style)
            imports.reserve(handler.name)
        imports.add("dataclasses", "dataclass")
        imports.add("dataclasses", "field")
        imports.add("datetime", "UTC")
        imports.add("datetime", "datetime")
        imports.add(f"{self.pkg}.common.db", "transaction")
        imports.add(f"{self.pkg}.common.events", "subscribe")
        lines: list[str] = []
        for handler in module.functions:
            e = handler.entity
            topic = f"{e.snake}.{handler.verb}"
            verb = handler.verb.replace("_", " ")
            lines += ["", "", "@dataclass(frozen=True, slots=True)", f"class {handler.style}:",
                      self._doc("    ", f"Published after {_a(e.words)} {e.words} went through "
                                f"'{verb}'."), "",
                      f"    {e.snake}_id: int"]
            if rng.random() < 0.5:
                lines.append("    actor_id: int | None = None")
            if rng.random() < 0.4:
                lines.append('    reason: str = ""')
            lines += ["    occurred_at: datetime = field(default_factory=lambda: datetime.now(tz=UTC))",
                      "", "", f'@subscribe("{topic}")']
            lines += _def("", handler.name, [f"event: {handler.style}"], "None")
            lines += [self._doc("    ", f"Follow up on {_a(e.words)} {e.words} {module.aspect} "
                                "change."),
                      "    with transaction() as session:"]
            ctx = Ctx(imports, module.service, module, "session", f"event.{e.snake}_id", "{}",
                      topic, "        ")
            if not self._call(ctx, rng, lines, module.service):
                lines.append(f'        session.info["last_{e.snake}"] = event.{e.snake}_id')
            self._statement_pool(ctx, rng, lines, rng.choice((0, 1)))
        nouns = ", ".join(dict.fromkeys(pluralize(f.entity.words) for f in module.functions))
        return f"Events about {nouns} ({module.aspect}) and who reacts to them.", lines

    # ------------------------------------------------------------------ http api

    def _api(self, module: Module, imports: Imports,
             rng: random.Random) -> tuple[str, list[str]]:
        service = module.service
        imports.add("flask", "Blueprint")
        imports.add("flask", "Response")
        imports.add("flask", "jsonify")
        imports.add(f"{self.pkg}.common.db", "get_session")
        prefix = f"/{pluralize(module.noun)}/{module.aspect.replace('_', '-')}"
        lines = [f'bp = Blueprint("{module.name}", __name__, url_prefix="{prefix}")']
        imports.reserve("bp")
        for func in module.functions:
            imports.reserve(func.name)
        for func in module.functions:
            e = func.entity
            lines += ["", ""]
            if func.style == "collection_get":
                imports.add("flask", "request")
                assert e.repo is not None
                imports.add(e.repo.id, f"{e.cls}Repository")
                lines += ['@bp.route("", methods=["GET"])',
                          *_def("", func.name, [], "tuple[Response, int]"),
                          self._doc("    ", f"{pluralize(e.words).capitalize()} in one status "
                                    "(``?status=``, default active)."),
                          '    status = request.args.get("status", "active")',
                          f"    rows = {e.cls}Repository(get_session()).list_by_status(status)",
                          "    return jsonify([row.to_dict() for row in rows]), 200"]
                continue
            mod, method = self._method_for(rng, e)
            if not imports.add(mod.id, mod.cls):
                continue
            verb = func.verb
            http = {"item_get": "GET", "item_put": "PUT"}.get(func.style, "POST")
            path = f"/<int:{e.snake}_id>" + ("" if http == "GET" else f"/{verb.replace('_', '-')}")
            lines.append(f'@bp.route("{path}", methods=["{http}"])')
            lines += _def("", func.name, [f"{e.snake}_id: int"], "tuple[Response, int]")
            summary = f"{verb.replace('_', ' ').capitalize()} one {e.words}"
            full = f"{summary} ({http} {prefix}{path})."
            lines.append(self._doc("    ", full if len(full) < MAX_LINE - 10 else summary + "."))
            payload = "{}"
            if func.with_payload:
                imports.add("flask", "request")
                lines.append("    payload = request.get_json(silent=True) or {}")
                payload = "payload"
                validators = [v for v in self.validators[service.index]
                              if v.entities[0] is e]
                if validators and imports.add(validators[0].id, validators[0].functions[0].name):
                    lines += [f"    errors = {validators[0].functions[0].name}(payload)",
                              "    if errors:",
                              '        return jsonify({"errors": errors}), 422']
            lines.append("    session = get_session()")
            ctx = Ctx(imports, service, module, "session", f"{e.snake}_id", payload,
                      f"{e.snake}.{verb}", "    ")
            self._statement_pool(ctx, rng, lines, rng.choice((0, 0, 1)))
            args = [f"{e.snake}_id"] + ([payload] if method.with_payload else [])
            lines.append(f"    service = {mod.cls}(session)")
            lines += _wrap_call("    ", f"result = service.{method.name}", args)
            code = "201" if http == "POST" and rng.random() < 0.3 else "200"
            lines.append(f"    return jsonify(result), {code}")
        doc = f"HTTP endpoints under {prefix}."
        return doc, lines

    # ------------------------------------------------------------------ tasks

    def _task(self, module: Module, imports: Imports,
              rng: random.Random) -> tuple[str, list[str]]:
        service = module.service
        imports.add("celery", "shared_task")
        imports.add("sqlalchemy", "text")
        imports.add(f"{self.pkg}.common.db", "transaction")
        lines: list[str] = []
        for func in module.functions:
            imports.reserve(func.name)
        for func in module.functions:
            e = func.entity
            mod, method = self._method_for(rng, e)
            if not imports.add(mod.id, mod.cls):
                continue
            me = method.entity
            status = rng.choice(STATUSES[:4])
            lines += ["", "", f'@shared_task(name="{module.name}.{func.name}")']
            lines += _def("", func.name, ["limit: int = 500"], "int")
            lines.append(self._doc("    ", f"{func.verb.replace('_', ' ').capitalize()} {status} "
                                   f"{pluralize(me.words)}, oldest first; return the count."))
            lines += [f'    payload = {{"task": "{func.name}", "limit": limit}}',
                      "    done = 0", "    with transaction() as session:",
                      "        rows = session.execute(",
                      *_sql("            ", f"SELECT id FROM {me.table} WHERE status = :status "
                            "ORDER BY created_at LIMIT :limit",
                            f'{{"status": "{status}", "limit": limit}}'),
                      "        ).all()",
                      f"        service = {mod.cls}(session)",
                      "        for row in rows:"]
            args = ["row.id"] + (["payload"] if method.with_payload else [])
            lines += _wrap_call("            ", f"service.{method.name}", args)
            ctx = Ctx(imports, service, module, "session", "row.id", "payload",
                      f"{me.snake}.{func.verb}", "            ")
            self._statement_pool(ctx, rng, lines, rng.choice((0, 1)))
            lines += ["            done += 1", "    return done"]
        doc = f"Background jobs for {pluralize(module.noun)} {module.aspect}."
        return doc, lines[2:]

    # ------------------------------------------------------------------ shared modules

    def _settings(self) -> str:
        return f'''"""Settings read once at start-up."""

from __future__ import annotations

import os

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://localhost/{self.pkg}")
BROKER_URL = os.environ.get("BROKER_URL", "redis://localhost:6379/0")
SECRET_KEY = os.environ.get("SECRET_KEY", "change-me")
DEBUG = os.environ.get("DEBUG", "") == "1"
PAGE_SIZE = 50
'''

    def _app(self) -> str:
        imports = Imports(self.pkg)
        imports.add("flask", "Flask")
        apis = [m for m in self.plan.modules if m.role == "api"]
        aliases = []
        for m in apis:
            alias = f"{m.name}_bp"
            aliases.append(alias)
            imports.groups[2].setdefault(m.id, {})[f"bp as {alias}"] = None
        imports.add(f"{self.pkg}.settings", "SECRET_KEY")
        body = ["", "BLUEPRINTS = ("] + [f"    {a}," for a in aliases] + [")", "", "",
            "def create_app() -> Flask:",
            '    """Build the WSGI application with every blueprint registered."""',
            "    app = Flask(__name__)",
            '    app.config["SECRET_KEY"] = SECRET_KEY',
            "    for blueprint in BLUEPRINTS:",
            "        app.register_blueprint(blueprint)",
            "    return app", ""]
        doc = '"""The WSGI application: every HTTP area of the monolith, wired together."""'
        return "\n".join([doc, "", *imports.lines(), *body])

    def _db(self) -> str:
        return f'''"""Database plumbing shared by every part of the application."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from {self.pkg}.settings import DATABASE_URL

engine = create_engine(DATABASE_URL)
SessionFactory = sessionmaker(bind=engine, expire_on_commit=False)


class Base(DeclarativeBase):
    """Declarative base of every mapped class."""


def get_session() -> Session:
    """A new session; the caller commits or rolls back."""
    return SessionFactory()


@contextmanager
def transaction() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = SessionFactory()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
'''

    def _events_bus(self) -> str:
        return '''"""In-process publish/subscribe between parts of the application."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

_HANDLERS: dict[str, list[Callable[[Any], None]]] = defaultdict(list)


def subscribe(topic: str) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Register the decorated function for events published on topic."""

    def register(handler: Callable[[Any], None]) -> Callable[[Any], None]:
        _HANDLERS[topic].append(handler)
        return handler

    return register


def publish(event: Any, topic: str | None = None) -> int:
    """Call every handler of the event's topic; return how many ran."""
    name = topic or type(event).__name__
    for handler in _HANDLERS.get(name, []):
        handler(event)
    return len(_HANDLERS.get(name, []))
'''

    def _utility(self, utility: Utility) -> str:
        return UTILITY_TEMPLATES[utility.template].source
