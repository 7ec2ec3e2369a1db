"""One lean pass over one file: parse with libcst, collect facts, resolve nothing across files.

Speed matters here (it runs once per file of a monolith of up to a million lines), so instead of
a CSTVisitor plus libcst's PositionProvider (which costs more than the parse itself) the pass
is libcst's own code generator run with a state object that keeps no output: it counts newlines
in the tokens as they stream by, so every node is seen once, in source order, with its line.
`before_codegen` / `after_codegen` are called for every node; a dict maps the few node types
we care about to handlers.

The result is a `facts` dict of plain lists (JSON-ready, so it caches and pickles cheaply):

    module, package, lines, loc     the module id, whether it is a package, its size
    all                             the literal `__all__`, or None
    dynamic                         whether it calls globals(): its names may be made at run time
    defs        [id, kind, line, end_line, loc, parent, bases, decorators, returns, self_name,
                 decorator_calls]   decorator_calls: [[name, args, kwargs], ...] of `@x(...)`
    scopes      {scope id: {"b": bindings, "*": star imports, "c": calls, "r": references,
                            "s": strings, "k": detailed calls, "w": with blocks,
                            "m": mutations, "v": constants, "u": mutable containers,
                            "g": global writes}}
                bindings    {name: [how, target]}  the binding a lookup finds (see
                                                  `binding_table`); how: def, import,
                                                  instance, type, alias,
                                                  self, cls, const (a literal, target is
                                                  "scope.name"), model ("app_label.Model"
                                                  from apps.get_model), local (shadows,
                                                  resolves to nothing)
                calls/references  [dotted expression, line]  e.g. "self.repo.save",
                                                  "get_repo().save", "super().place"
                strings     [dotted-looking literal, line]
                detailed calls  [dotted function, line, args, kwargs, assigned name]  for
                            the calls data and entry-point rules read (`_DETAILED`); the
                            arguments as literals (see `literal`)
                with blocks [[item expressions], first line, last line]
                mutations   [dotted owner, line]  for `owner.attr = ...`, `owner.attr += ...`
                            and `owner[key] = ...`
                constants   {name: literal}  module and class level literals; SQL strings
                            anywhere, as {"sql": summary} (see sql.py)
                mutable containers  [name, line]  module level `NAME = {}` / `[]` / `set()` /
                            `defaultdict(...)` …: state if code changes it at run time
                global writes  [name, line]  assignments to a name a function declares `global`
                star imports  [module, ...]  of `from module import *`
    imports     [scope, target, line, tags, star]   target is absolute: "shop.models.Order"
    attrs       {class id: {attribute: [how, target]}}  from `self.x = Foo()`, `x: Foo`
    diagnostics [code, message, line]

The imports and the scopes' c, r, s, w, m, u and g are held as JSON text under "body" until
the module is resolved (facts.py: `packed`, `with_body`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import libcst as cst
from libcst._nodes.internal import CodegenState

from analyzers.static.facts import empty_facts, packed
from analyzers.static.sql import looks_like_sql, summarize

# Literal strings that may name a project module, class or function ("pkg.mod.Class",
# "pkg.mod:func"). Checked cheaply before anything else looks at them.
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_]\w*)?")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_CONSTANT_NAMES = frozenset({"True", "False", "None", "__name__", "__file__"})

# Calls whose arguments the data and entry-point rules need, by the last part of their name.
# fmt: off
_SQL_CALLS = frozenset({
    "execute", "executemany", "executescript", "exec_driver_sql", "text", "raw", "read_sql",
    "read_sql_query", "extra",
})
_JOINS = frozenset({"join", "outerjoin", "join_from", "select_from"})
_DETAILED = _SQL_CALLS | _JOINS | frozenset({
    # Django models and urls
    "ForeignKey", "OneToOneField", "ManyToManyField", "ForeignObject", "ParentalKey",
    "ParentalManyToManyField", "TreeForeignKey", "TreeOneToOneField", "GenericRelation",
    "path", "re_path", "url", "include", "register", "connect", "as_view", "get_model",
    "DefaultRouter", "SimpleRouter",
    # SQLAlchemy
    "Column", "mapped_column", "ForeignKeyConstraint", "relationship", "Table", "select",
    "insert", "update", "delete", "query", "get", "add", "add_all", "merge", "backref",
    # Flask, FastAPI, Starlette
    "Flask", "Blueprint", "add_url_rule", "register_blueprint", "FastAPI", "APIRouter",
    "include_router", "add_api_route", "Route", "Mount", "WebSocketRoute", "add_route",
    "Starlette",
    # Celery, command lines
    "task", "shared_task", "add_parser", "set_defaults", "add_command", "add_typer", "Typer",
})
# fmt: on
# Calls whose argument calls are recorded on their own too, because each of those tells
# something: session.execute(select(A).join(B)). The others' argument calls are part of them
# (path("x/", include(...)), Column(ForeignKey(...))).
_QUERYING = (
    _SQL_CALLS
    | _JOINS
    | frozenset(
        {"select", "insert", "update", "delete", "query", "get", "add", "add_all", "merge"}
    )
)
_CONTAINER_NODES = (cst.Dict, cst.List, cst.Set, cst.DictComp, cst.ListComp, cst.SetComp)
_CONTAINER_CALLS = frozenset(
    {
        "dict",
        "list",
        "set",
        "defaultdict",
        "OrderedDict",
        "Counter",
        "deque",
        "WeakValueDictionary",
        "WeakKeyDictionary",
        "WeakSet",
        "ChainMap",
        "LRUCache",
        "TTLCache",
    }
)
# Calls that return (object, flag): the object is what the first name of an unpacking holds.
_OBJECT_FIRST = frozenset(
    {"get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create"}
)
_SCALAR_NODES = (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.Name)
_MAX_LITERAL_ITEMS = 200
_MAX_STRING = 100_000
_MAX_CONSTANT = 300  # longer non-SQL string constants are kept out of the facts


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NULL_CONTEXT = _NullContext()


class _Frame:
    """A scope being collected: the module, a class or a function."""

    __slots__ = (
        "bindings",
        "blocks",
        "calls",
        "class_id",
        "constants",
        "detailed",
        "globals",
        "id",
        "kind",
        "mutable",
        "mutations",
        "record",
        "refs",
        "self_name",
        "strings",
        "written_globals",
    )

    def __init__(self, id: str, kind: str, record: list[Any] | None, class_id: str | None):
        self.id = id
        self.kind = kind  # "module", "class" or "function"
        self.record = record  # the def row, filled in as its lines become known
        self.bindings: list[list[Any]] = []
        self.calls: list[list[Any]] = []
        self.refs: list[list[Any]] = []
        self.strings: list[list[Any]] = []
        self.detailed: list[list[Any]] = []
        self.blocks: list[list[Any]] = []
        self.mutations: list[list[Any]] = []
        self.constants: dict[str, Any] = {}
        self.mutable: list[list[Any]] = []  # module level mutable containers
        self.globals: set[str] = set()  # names declared `global` here
        self.written_globals: list[list[Any]] = []
        self.self_name: str | None = None
        self.class_id = class_id  # for methods: the class whose `self` this is


def dotted(node: cst.CSTNode) -> str | None:
    """`a.b.c` for a name/attribute chain, with `()` marking calls: `get().save`, `super().m`."""
    parts: list[str] = []
    while True:
        if isinstance(node, cst.Name):
            parts.append(node.value)
            break
        if isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        elif isinstance(node, cst.Call):
            inner = dotted(node.func)
            if inner is None:
                return None
            parts.append(inner + "()")
            break
        else:
            return None
    return ".".join(reversed(parts))


def type_of(annotation: cst.BaseExpression) -> str | None:
    """The class an annotation names, seeing through Optional[X], X | None and "X"."""
    if isinstance(annotation, cst.SimpleString):
        text = _string_value(annotation)
        if text is not None:
            text = text.strip()
            if _DOTTED.fullmatch(text) or _IDENTIFIER.fullmatch(text):
                return text
        return None
    if isinstance(annotation, cst.Subscript):
        head = dotted(annotation.value)
        if head in ("Optional", "typing.Optional", "t.Optional") and annotation.slice:
            inner = annotation.slice[0].slice
            if isinstance(inner, cst.Index):
                return type_of(inner.value)
        return None
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        for side in (annotation.left, annotation.right):
            if not (isinstance(side, cst.Name) and side.value == "None"):
                return type_of(side)
        return None
    return dotted(annotation)


def _string_value(node: cst.SimpleString) -> str | None:
    raw = node.value
    if len(raw) > 300 or "\\" in raw:
        return None
    quote = raw[-1]
    start = raw.index(quote)
    prefix = raw[:start].lower()
    if "b" in prefix or "f" in prefix:
        return None
    width = 3 if raw[start : start + 3] == quote * 3 else 1
    return raw[start + width : len(raw) - width]


def literal(node: cst.CSTNode, depth: int = 0) -> Any:
    """A JSON form of a literal argument or constant; None for what it cannot express.

    strings -> str (f-string holes as "?"), numbers, True/False/None as themselves,
    names -> {"n": "dotted.name"}, lists/tuples/sets -> list, calls -> {"c": function,
    "a": args, "k": kwargs}; a call of one of `_SQL_CALLS` carries {"sql": summary} for
    its literal SQL first argument.
    """
    if depth > 8:
        return None
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            value = node.evaluated_value
        except (ValueError, SyntaxError, MemoryError, RecursionError):  # literal_eval's errors
            return None
        return value if isinstance(value, str) and len(value) <= _MAX_STRING else None
    if isinstance(node, cst.FormattedString):
        parts = [
            part.value if isinstance(part, cst.FormattedStringText) else "?" for part in node.parts
        ]
        return "".join(parts)
    if isinstance(node, cst.Name):
        if node.value in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.value]
        return {"n": node.value}
    if isinstance(node, cst.Attribute):
        name = dotted(node)
        return None if name is None else {"n": name}
    if isinstance(node, (cst.Integer, cst.Float)):
        return node.evaluated_value
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return [
            literal(element.value, depth + 1)
            for element in node.elements[:_MAX_LITERAL_ITEMS]
            if not isinstance(element, cst.StarredElement)
        ]
    if isinstance(node, cst.Call):
        return call_literal(node, depth)
    return None


def call_literal(node: cst.Call, depth: int = 0) -> dict[str, Any]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for arg in node.args[:_MAX_LITERAL_ITEMS]:
        if arg.star:
            continue
        value = literal(arg.value, depth + 1)
        if arg.keyword is not None:
            kwargs[arg.keyword.value] = value
        else:
            args.append(value)
    function = dotted(node.func)
    if function is not None and function.rpartition(".")[2] in _SQL_CALLS:
        if args and isinstance(args[0], str):
            args[0] = {"sql": summarize(args[0])}
        elif isinstance(kwargs.get("sql"), str):
            kwargs["sql"] = {"sql": summarize(kwargs["sql"])}
    return {"c": function, "a": args, "k": kwargs}


def _is_mutable_container(node: cst.BaseExpression) -> bool:
    """`{}`, `[]`, `{1}`, comprehensions, `dict()`, `defaultdict(list)`, `deque()` …"""
    if isinstance(node, _CONTAINER_NODES):
        return True
    if isinstance(node, cst.Call):
        name = dotted(node.func)
        return name is not None and name.rpartition(".")[2] in _CONTAINER_CALLS
    return False


def _is_literal_name(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value in ("True", "False", "None")


def constant(value: Any) -> Any:
    """What a literal assignment keeps in the facts: SQL summarised, long prose dropped."""
    if isinstance(value, str):
        if looks_like_sql(value):
            return {"sql": summarize(value)}
        return value if len(value) <= _MAX_CONSTANT else None
    if isinstance(value, list):
        return value if all(not isinstance(v, (dict, list)) for v in value) else None
    return value if isinstance(value, (bool, int, float)) else None


class Collector(CodegenState):
    """The codegen state that collects facts instead of code."""

    def __init__(self, module: str, is_package: bool, code_lines: list[int]) -> None:
        super().__init__(default_indent="    ", default_newline="\n")
        self.module = module
        self.is_package = is_package
        self.package = module if is_package else module.rpartition(".")[0]
        self.line = 1
        self.code_lines = code_lines  # prefix sums: code_lines[n] = code lines in 1..n
        self.skip: set[int] = set()  # ids of name nodes already accounted for
        self.quiet = 0  # > 0 inside import / global statements
        self.guards: list[list[Any]] = []  # [type_checking?, node] per enclosing `if`
        self.conditional = 0  # depth of if/try around the current statement
        module_frame = _Frame(module, "module", None, None)
        self.frames: list[_Frame] = [module_frame]  # the stack of enclosing scopes
        self.all_frames: list[_Frame] = [module_frame]
        self.diagnostics: list[list[Any]] = []
        self.defs: list[list[Any]] = []
        self.imports: list[list[Any]] = []
        self.attrs: dict[str, list[list[Any]]] = {}
        self.all_names: list[str] | None = None
        self.dynamic_globals = False
        self.assigned: dict[int, str] = {}  # id of a call -> the one name it is assigned to
        self.inner_calls: set[int] = set()  # calls already inside a detailed call's arguments
        self.open_blocks: list[list[Any]] = []  # with blocks waiting for their last line

    # -- the code generator's hooks: count lines, emit nothing ------------------------------

    def add_token(self, value: str) -> None:
        self.line += value.count("\n")

    def add_indent_tokens(self) -> None:
        pass

    def increase_indent(self, value: str) -> None:
        pass

    def decrease_indent(self) -> None:
        pass

    def pop_trailing_newline(self) -> None:
        pass

    # libcst annotates this hook with its own @contextmanager's concrete return class;
    # the code generator only enters and exits what it returns, so any context manager fits.
    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: Any = None, end_node: Any = None
    ) -> _NullContext:
        # Called just before a statement's first keyword: for defs, this is the `def` line.
        if type(node) in (cst.FunctionDef, cst.ClassDef):
            record = self.frames[-1].record
            if record is not None and record[2] == 0:
                record[2] = self.line
        return _NULL_CONTEXT

    def before_codegen(self, node: cst.CSTNode) -> None:
        handler = _ENTER.get(type(node))
        if handler is not None:
            handler(self, node)

    def after_codegen(self, node: cst.CSTNode) -> None:
        handler = _LEAVE.get(type(node))
        if handler is not None:
            handler(self, node)

    # -- scopes -----------------------------------------------------------------------------

    def _push_def(self, node: cst.FunctionDef | cst.ClassDef, kind: str) -> _Frame:
        parent = self.frames[-1]
        def_id = f"{parent.id}.{node.name.value}"
        # [id, kind, line, end_line, loc, parent, bases, decorators, returns, self_name,
        #  decorator_calls]
        record: list[Any] = [def_id, kind, 0, 0, 0, parent.id, [], [], None, None, []]
        self.defs.append(record)
        parent.bindings.append([node.name.value, "def", def_id])
        self.skip.add(id(node.name))
        class_id = parent.id if parent.kind == "class" else None
        frame = _Frame(def_id, kind, record, class_id)
        self.frames.append(frame)
        self.all_frames.append(frame)
        for decorator in node.decorators:
            expr = decorator.decorator
            name = dotted(expr.func if isinstance(expr, cst.Call) else expr)
            if name is not None:
                record[7].append(name)
                if isinstance(expr, cst.Call):
                    details = call_literal(expr)
                    record[10].append([name, details["a"], details["k"]])
                    self._mark_inner_calls(expr)
                else:  # a bare @decorator is a call too
                    frame.calls.append([name, self.line])
                    self._skip_chain(expr)
        return frame

    def _pop_def(self) -> None:
        frame = self.frames.pop()
        record = frame.record
        assert record is not None
        start = record[2] = max(record[2], 1)
        end = record[3] = min(max(start, self.line - 1), len(self.code_lines) - 1)
        record[4] = self.code_lines[end] - self.code_lines[start - 1]

    def _skip_chain(self, node: cst.CSTNode) -> None:
        """Mark a name/attribute chain as seen, so its parts are not recorded again."""
        while True:
            self.skip.add(id(node))
            if isinstance(node, cst.Attribute):
                self.skip.add(id(node.attr))
                node = node.value
            else:
                return

    def _add_mutation(self, target: cst.Attribute | cst.Subscript) -> None:
        owner = dotted(target.value)
        if owner is not None:
            self.frames[-1].mutations.append([owner, self.line])

    def _bind_target(self, target: cst.BaseExpression, how: str, what: str) -> None:
        frame = self.frames[-1]
        if isinstance(target, cst.Name):
            if target.value in frame.globals:
                frame.written_globals.append([target.value, self.line])
            frame.bindings.append([target.value, how, what])
            if frame.kind == "class" and how != "local":  # a class attribute
                self.attrs.setdefault(frame.id, []).append([target.value, how, what])
            self.skip.add(id(target))
        elif isinstance(target, cst.Attribute):
            self._add_mutation(target)
            owner = frame.self_name
            if (
                owner is not None
                and isinstance(target.value, cst.Name)
                and target.value.value == owner
                and how != "local"
                and frame.class_id is not None
            ):
                self.attrs.setdefault(frame.class_id, []).append([target.attr.value, how, what])
            self._skip_chain(target)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value, "local", "")
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, "local", "")
        elif isinstance(target, cst.Subscript):
            self._add_mutation(target)

    # -- handlers ---------------------------------------------------------------------------

    def enter_function(self, node: cst.FunctionDef) -> None:
        parent_kind = self.frames[-1].kind
        frame = self._push_def(node, "function")
        record = frame.record
        assert record is not None
        if node.returns is not None:
            record[8] = type_of(node.returns.annotation)
        params = node.params
        ordered = [*params.posonly_params, *params.params]
        decorators = record[7]
        is_static = "staticmethod" in decorators
        if parent_kind == "class" and ordered and not is_static:
            first = ordered[0].name.value
            frame.self_name = first
            record[9] = first
            how = "cls" if "classmethod" in decorators or node.name.value == "__new__" else "self"
            frame.bindings.append([first, how, frame.class_id])
            ordered = ordered[1:]
        for param in (*ordered, *params.kwonly_params):
            self._bind_param(frame, param)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                frame.bindings.append([star.name.value, "local", ""])

    def _bind_param(self, frame: _Frame, param: cst.Param) -> None:
        annotation = param.annotation
        kind = type_of(annotation.annotation) if annotation is not None else None
        if kind is not None:
            frame.bindings.append([param.name.value, "type", kind])
        else:
            frame.bindings.append([param.name.value, "local", ""])

    def enter_class(self, node: cst.ClassDef) -> None:
        frame = self._push_def(node, "class")
        record = frame.record
        assert record is not None
        for arg in node.bases:
            name = dotted(arg.value)
            if name is not None:
                record[6].append(name)
                self._skip_chain(arg.value)

    def leave_def(self, node: cst.CSTNode) -> None:
        self._pop_def()

    def enter_param(self, node: cst.Param) -> None:
        self.skip.add(id(node.name))

    def enter_arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def enter_call(self, node: cst.Call) -> None:
        func = node.func
        name = dotted(func)
        if name is None:
            return
        if name == "globals":  # names may be bound dynamically: `globals()[name] = ...`
            self.dynamic_globals = True
        self.frames[-1].calls.append([name, self.line])
        self._skip_chain(func)
        last = name.rpartition(".")[2]
        if id(node) not in self.inner_calls and (
            last in _DETAILED or (last.endswith("Field") and self.frames[-1].kind == "class")
        ):  # (model fields: CharField, JSONField, any custom XField in a class body)
            self._add_detailed(node, name)
        # get_class("pkg.module", "Name") and friends: a lazily loaded project object.
        args = node.args
        if (
            len(args) >= 2
            and isinstance(args[0].value, cst.SimpleString)
            and isinstance(args[1].value, cst.SimpleString)
        ):
            first = _string_value(args[0].value)
            second = _string_value(args[1].value)
            if first and second and _DOTTED.fullmatch(first) and _IDENTIFIER.fullmatch(second):
                self.frames[-1].strings.append([f"{first}.{second}", self.line])

    def _add_detailed(self, node: cst.Call, name: str) -> None:
        details = call_literal(node)
        args = details["a"]
        method = name.rpartition(".")[2]
        if method == "get" and not (args and isinstance(args[0], dict)):
            return  # dict.get("key") and the like: only `session.get(Model, id)` matters
        if method in _JOINS and not ("()" in name and args and isinstance(args[0], dict)):
            return  # sep.join(parts): only `select(...).join(Model)` matters
        self.frames[-1].detailed.append(
            [name, self.line, args, details["k"], self.assigned.get(id(node))]
        )
        if method not in _QUERYING:
            self._mark_inner_calls(node)

    def _mark_inner_calls(self, node: cst.Call) -> None:
        """Calls in a recorded call's arguments are part of its record, not rows of their own.

        (The calls its function chain makes, `query(...)` in `query(...).filter(...)`, are not.)
        """
        self.inner_calls.add(id(node))
        stack: list[cst.CSTNode] = list(node.args)
        while stack:
            child = stack.pop()
            if isinstance(child, cst.Call):
                self.inner_calls.add(id(child))
            stack.extend(child.children)

    def enter_attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))
        if self.quiet or id(node) in self.skip:
            self.skip.add(id(node.value))
            return
        name = dotted(node)
        if name is not None:
            self.frames[-1].refs.append([name, self.line])
        self._skip_chain(node)

    def enter_name(self, node: cst.Name) -> None:
        if self.quiet or id(node) in self.skip or node.value in _CONSTANT_NAMES:
            return
        self.frames[-1].refs.append([node.value, self.line])

    def enter_string(self, node: cst.SimpleString) -> None:
        value = _string_value(node)
        if value is not None and _DOTTED.fullmatch(value):
            self.frames[-1].strings.append([value.replace(":", "."), self.line])

    def enter_import(self, node: cst.Import) -> None:
        self.quiet += 1
        frame = self.frames[-1]
        tags = self._import_tags()
        for alias in node.names:
            target = dotted(alias.name)
            if target is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                frame.bindings.append([alias.asname.name.value, "import", target])
            else:
                head = target.split(".", 1)[0]
                frame.bindings.append([head, "import", head])
            self.imports.append([frame.id, target, self.line, tags, False])

    def enter_import_from(self, node: cst.ImportFrom) -> None:
        self.quiet += 1
        frame = self.frames[-1]
        base = self._absolute_module(node)
        if base is None:
            self.diagnostics.append(
                [
                    "unresolved-import",
                    "relative import goes above the top-level package",
                    self.line,
                ]
            )
            return
        tags = self._import_tags()
        if isinstance(node.names, cst.ImportStar):
            self.imports.append([frame.id, base, self.line, tags, True])
            frame.bindings.append(["*", "import", base])
            return
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            target = f"{base}.{name}" if base else name
            bound = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound = alias.asname.name.value
            frame.bindings.append([bound, "import", target])
            self.imports.append([frame.id, target, self.line, tags, False])

    def _absolute_module(self, node: cst.ImportFrom) -> str | None:
        module = dotted(node.module) if node.module is not None else ""
        level = len(node.relative)
        if level == 0:
            return module
        parts = self.package.split(".") if self.package else []
        if level - 1 > len(parts) or (level - 1 == len(parts) and not module):
            return None
        base = parts[: len(parts) - (level - 1)]
        return ".".join([*base, module] if module else base)

    def _import_tags(self) -> list[str]:
        tags = []
        if any(guard[0] for guard in self.guards):
            tags.append("type_checking")
        if self.conditional:
            tags.append("conditional")
        if self.frames[-1].kind != "module":
            tags.append("local")
        return tags

    def leave_quiet(self, node: cst.CSTNode) -> None:
        self.quiet -= 1

    def enter_global(self, node: cst.Global) -> None:
        self.quiet += 1
        self.frames[-1].globals.update(n.name.value for n in node.names)

    def enter_quiet(self, node: cst.CSTNode) -> None:
        self.quiet += 1

    def enter_if(self, node: cst.If) -> None:
        guards = self.guards
        if guards and guards[-1][1].orelse is node:  # an `elif` of `if TYPE_CHECKING:`
            guards[-1][0] = False
        test = dotted(node.test) or ""
        guards.append([test == "TYPE_CHECKING" or test.endswith(".TYPE_CHECKING"), node])
        self.conditional += 1

    def leave_if(self, node: cst.If) -> None:
        self.guards.pop()
        self.conditional -= 1

    def enter_else(self, node: cst.Else) -> None:
        if self.guards:  # `else:` of `if TYPE_CHECKING:` runs for real
            self.guards[-1][0] = False

    def enter_try(self, node: cst.CSTNode) -> None:
        self.conditional += 1

    def leave_try(self, node: cst.CSTNode) -> None:
        self.conditional -= 1

    def enter_assign(self, node: cst.Assign) -> None:
        value = node.value
        if len(self.frames) == 1 and _is_mutable_container(value):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.frames[0].mutable.append([target.target.value, self.line])
        how, what = self._value_binding(value)
        for target in node.targets:
            name = target.target
            if isinstance(name, cst.Name):
                if isinstance(value, cst.Call) and len(node.targets) == 1:
                    self.assigned[id(value)] = name.value
                if how == "local" or _is_literal_name(value):
                    how, what = self._constant_binding(name.value, value)
                if name.value == "__all__" and len(self.frames) == 1:
                    self.all_names = self._literal_names(value)
            if (
                isinstance(name, (cst.Tuple, cst.List))
                and name.elements
                and how == "instance"
                and what.rpartition(".")[2] in _OBJECT_FIRST
            ):  # obj, created = Model.objects.get_or_create(...): the object comes first
                self._bind_target(name.elements[0].value, how, what)
                for element in name.elements[1:]:
                    self._bind_target(element.value, "local", "")
                continue
            self._bind_target(name, how, what)

    def enter_ann_assign(self, node: cst.AnnAssign) -> None:
        value = node.value
        if isinstance(value, cst.Call) and isinstance(node.target, cst.Name):
            self.assigned[id(value)] = node.target.value
        kind = type_of(node.annotation.annotation)
        if kind is not None:
            self._bind_target(node.target, "type", kind)
        elif value is not None:
            self._bind_target(node.target, *self._value_binding(value))
        else:
            self._bind_target(node.target, "local", "")

    def _constant_binding(self, name: str, value: cst.BaseExpression) -> tuple[str, str]:
        """`NAME = <literal>`: kept (module and class level, or SQL anywhere) and bound."""
        if isinstance(value, (cst.List, cst.Tuple)):
            if not all(isinstance(e.value, _SCALAR_NODES) for e in value.elements):
                return "local", ""
        elif not isinstance(value, _SCALAR_NODES):
            return "local", ""
        kept = constant(literal(value))
        frame = self.frames[-1]
        if kept is None or (frame.kind == "function" and not isinstance(kept, dict)):
            return "local", ""
        frame.constants[name] = kept
        return "const", f"{frame.id}.{name}"

    def enter_aug_assign(self, node: cst.AugAssign) -> None:
        target = node.target
        if isinstance(target, (cst.Attribute, cst.Subscript)):
            self._add_mutation(target)
        elif isinstance(target, cst.Name) and target.value in self.frames[-1].globals:
            self.frames[-1].written_globals.append([target.value, self.line])
        if isinstance(target, cst.Name) and target.value == "__all__" and len(self.frames) == 1:
            self.all_names = (self.all_names or []) + (self._literal_names(node.value) or [])

    def enter_for(self, node: cst.For) -> None:
        self._bind_target(node.target, "local", "")

    def enter_comp_for(self, node: cst.CompFor) -> None:
        self._mark_names(node.target)

    def enter_as_name(self, node: cst.AsName) -> None:
        self._mark_names(node.name)

    def enter_with(self, node: cst.With) -> None:
        items = [dotted(item.item) or "" for item in node.items]
        block = [items, self.line, 0]
        self.frames[-1].blocks.append(block)
        self.open_blocks.append(block)

    def leave_with(self, node: cst.With) -> None:
        block = self.open_blocks.pop()
        block[2] = max(block[1], self.line - 1)

    def enter_with_item(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            how, what = self._value_binding(node.item)
            self._bind_target(node.asname.name, how, what)

    def enter_named_expr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, *self._value_binding(node.value))

    def _mark_names(self, target: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.skip.add(id(target))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._mark_names(element.value)

    def _value_binding(self, value: cst.BaseExpression) -> tuple[str, str]:
        if isinstance(value, cst.Call):
            name = dotted(value.func)
            if name is not None and name.endswith("get_model"):
                label = ".".join(
                    a for a in map(literal, (a.value for a in value.args)) if isinstance(a, str)
                )
                if label.count(".") == 1:  # apps.get_model("shop", "Order") or ("shop.Order")
                    return "model", label
            if name is not None:
                return "instance", name
        elif isinstance(value, (cst.Name, cst.Attribute)):
            name = dotted(value)
            if name is not None:
                return "alias", name
        return "local", ""

    @staticmethod
    def _literal_names(value: cst.BaseExpression) -> list[str] | None:
        if not isinstance(value, (cst.List, cst.Tuple)):
            return None
        names = []
        for element in value.elements:
            if isinstance(element.value, cst.SimpleString):
                text = _string_value(element.value)
                if text:
                    names.append(text)
        return names

    # -- result -----------------------------------------------------------------------------

    def facts(self, lines: int) -> dict[str, Any]:
        scopes = {}
        for frame in self.all_frames:
            scope = {
                "b": binding_table(row for row in frame.bindings if row[0] != "*"),
                "*": [target for name, _, target in frame.bindings if name == "*"],
                "c": frame.calls,
                "r": frame.refs,
                "s": frame.strings,
                "k": frame.detailed,
                "w": frame.blocks,
                "m": frame.mutations,
                "v": frame.constants,
                "u": frame.mutable,
                "g": frame.written_globals,
            }
            if any(scope.values()):
                scopes[frame.id] = scope
        return packed(
            {
                "module": self.module,
                "package": self.is_package,
                "lines": lines,
                "loc": self.code_lines[-1],
                "all": self.all_names,
                "dynamic": self.dynamic_globals,
                "defs": self.defs,
                "scopes": scopes,
                "imports": self.imports,
                "attrs": {class_id: binding_table(rows) for class_id, rows in self.attrs.items()},
                "diagnostics": self.diagnostics,
            }
        )


def binding_table(rows: Iterable[list[str]]) -> dict[str, list[str]]:
    """name -> [how, target], as names are looked up: a name's first binding holds, unless it
    is "local" (shadows, resolves to nothing) and a later one says more."""
    table: dict[str, list[str]] = {}
    for name, how, target in rows:
        if name not in table or table[name][0] == "local":
            table[name] = [how, target]
    return table


_ENTER: dict[type, Any] = {
    cst.FunctionDef: Collector.enter_function,
    cst.ClassDef: Collector.enter_class,
    cst.Param: Collector.enter_param,
    cst.Arg: Collector.enter_arg,
    cst.Call: Collector.enter_call,
    cst.Attribute: Collector.enter_attribute,
    cst.Name: Collector.enter_name,
    cst.SimpleString: Collector.enter_string,
    cst.Import: Collector.enter_import,
    cst.ImportFrom: Collector.enter_import_from,
    cst.Global: Collector.enter_global,
    cst.Nonlocal: Collector.enter_quiet,
    cst.If: Collector.enter_if,
    cst.Else: Collector.enter_else,
    cst.Try: Collector.enter_try,
    cst.TryStar: Collector.enter_try,
    cst.Assign: Collector.enter_assign,
    cst.AnnAssign: Collector.enter_ann_assign,
    cst.AugAssign: Collector.enter_aug_assign,
    cst.For: Collector.enter_for,
    cst.CompFor: Collector.enter_comp_for,
    cst.AsName: Collector.enter_as_name,
    cst.With: Collector.enter_with,
    cst.WithItem: Collector.enter_with_item,
    cst.NamedExpr: Collector.enter_named_expr,
}
_LEAVE: dict[type, Any] = {
    cst.FunctionDef: Collector.leave_def,
    cst.ClassDef: Collector.leave_def,
    cst.Import: Collector.leave_quiet,
    cst.ImportFrom: Collector.leave_quiet,
    cst.Global: Collector.leave_quiet,
    cst.Nonlocal: Collector.leave_quiet,
    cst.If: Collector.leave_if,
    cst.With: Collector.leave_with,
    cst.Try: Collector.leave_try,
    cst.TryStar: Collector.leave_try,
}


def code_line_sums(source: bytes) -> list[int]:
    """Prefix sums of code lines (not blank, not only a comment): sums[n] counts lines 1..n."""
    sums = [0]
    total = 0
    for raw in source.splitlines():
        text = raw.strip()
        if text and not text.startswith(b"#"):
            total += 1
        sums.append(total)
    return sums


_ERROR_AT = re.compile(r"error at (\d+):\d+")


class _NotPython(Exception):
    """The file is not Python that libcst reads: its diagnostic code, message and line."""


def _parse(source: bytes) -> cst.Module:
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        # the message's "error at LINE:COLUMN" names the line; raw_line is often the next one
        at = _ERROR_AT.search(exc.message)
        raise _NotPython("syntax-error", exc.message, int(at[1]) if at else exc.raw_line) from exc
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        # libcst reports a bad coding cookie (LookupError: unknown encoding) or undecodable
        # bytes this way
        raise _NotPython("undecodable", str(exc), None) from exc


def collect_file(source: bytes, module: str, is_package: bool) -> dict[str, Any]:
    """Facts of one file; a file that cannot be read as Python gives a diagnostic instead."""
    sums = code_line_sums(source)
    collector = Collector(module, is_package, sums)
    try:
        _parse(source)._codegen(collector)
    except _NotPython as exc:
        return _failed(module, is_package, sums, *exc.args)
    except RecursionError:
        return _failed(module, is_package, sums, "too-deep", "nested too deeply to analyse", None)
    except Exception as exc:  # noqa: BLE001 - a bug on odd code loses one file, not the run
        message = f"analysing this file failed ({type(exc).__name__}: {exc}); please report it"
        return _failed(module, is_package, sums, "analyzer-error", message, None)
    return collector.facts(len(sums) - 1)


def _failed(
    module: str, is_package: bool, sums: list[int], code: str, message: str, line: int | None
) -> dict[str, Any]:
    first_line = message.strip().splitlines()[0] if message.strip() else code
    return empty_facts(module, is_package, len(sums) - 1, sums[-1], [code, first_line, line])
