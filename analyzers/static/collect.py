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
    defs        [id, kind, line, end_line, loc, parent, bases, decorators, returns, self_name]
    scopes      {scope id: {"b": bindings, "c": calls, "r": references, "s": strings}}
                bindings    [name, how, target]  how: def, import, instance, type, alias,
                                                  self, cls, local (shadows, resolves to nothing)
                calls/references  [dotted expression, line]  e.g. "self.repo.save",
                                                  "get_repo().save", "super().place"
                strings     [dotted-looking literal, line]
    imports     [scope, target, line, tags, star]   target is absolute: "shop.models.Order"
    attrs       {class id: [[attribute, how, target], ...]}  from `self.x = Foo()`, `x: Foo`
    diagnostics [code, message, line]
"""

from __future__ import annotations

import re
from typing import Any

import libcst as cst
from libcst._nodes.internal import CodegenState

from analyzers.static.facts import empty_facts

# Literal strings that may name a project module, class or function ("pkg.mod.Class",
# "pkg.mod:func"). Checked cheaply before anything else looks at them.
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_]\w*)?")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_CONSTANT_NAMES = frozenset({"True", "False", "None", "__name__", "__file__"})


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
        "calls",
        "class_id",
        "id",
        "kind",
        "record",
        "refs",
        "self_name",
        "strings",
    )

    def __init__(self, id: str, kind: str, record: list[Any] | None, class_id: str | None):
        self.id = id
        self.kind = kind  # "module", "class" or "function"
        self.record = record  # the def row, filled in as its lines become known
        self.bindings: list[list[Any]] = []
        self.calls: list[list[Any]] = []
        self.refs: list[list[Any]] = []
        self.strings: list[list[Any]] = []
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

    def record_syntactic_position(
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
        # [id, kind, line, end_line, loc, parent, bases, decorators, returns, self_name]
        record: list[Any] = [def_id, kind, 0, 0, 0, parent.id, [], [], None, None]
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
                if not isinstance(expr, cst.Call):  # a bare @decorator is a call too
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

    def _bind_target(self, target: cst.BaseExpression, how: str, what: str) -> None:
        frame = self.frames[-1]
        if isinstance(target, cst.Name):
            frame.bindings.append([target.value, how, what])
            if frame.kind == "class" and how != "local":  # a class attribute
                self.attrs.setdefault(frame.id, []).append([target.value, how, what])
            self.skip.add(id(target))
        elif isinstance(target, cst.Attribute):
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
        how, what = self._value_binding(node.value)
        for target in node.targets:
            self._bind_target(target.target, how, what)
            if (
                isinstance(target.target, cst.Name)
                and target.target.value == "__all__"
                and len(self.frames) == 1
            ):
                self.all_names = self._literal_names(node.value)

    def enter_ann_assign(self, node: cst.AnnAssign) -> None:
        kind = type_of(node.annotation.annotation)
        if kind is not None:
            self._bind_target(node.target, "type", kind)
        elif node.value is not None:
            self._bind_target(node.target, *self._value_binding(node.value))
        else:
            self._bind_target(node.target, "local", "")

    def enter_aug_assign(self, node: cst.AugAssign) -> None:
        target = node.target
        if isinstance(target, cst.Name) and target.value == "__all__" and len(self.frames) == 1:
            self.all_names = (self.all_names or []) + (self._literal_names(node.value) or [])

    def enter_for(self, node: cst.For) -> None:
        self._bind_target(node.target, "local", "")

    def enter_comp_for(self, node: cst.CompFor) -> None:
        self._mark_names(node.target)

    def enter_as_name(self, node: cst.AsName) -> None:
        self._mark_names(node.name)

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
            if frame.bindings or frame.calls or frame.refs or frame.strings:
                scopes[frame.id] = {
                    "b": frame.bindings,
                    "c": frame.calls,
                    "r": frame.refs,
                    "s": frame.strings,
                }
        return {
            "module": self.module,
            "package": self.is_package,
            "lines": lines,
            "loc": self.code_lines[-1],
            "all": self.all_names,
            "dynamic": self.dynamic_globals,
            "defs": self.defs,
            "scopes": scopes,
            "imports": self.imports,
            "attrs": self.attrs,
            "diagnostics": self.diagnostics,
        }


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
    cst.Global: Collector.enter_quiet,
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


def collect_file(source: bytes, module: str, is_package: bool) -> dict[str, Any]:
    """Facts of one file; a file that cannot be read as Python gives a diagnostic instead."""
    sums = code_line_sums(source)
    collector = Collector(module, is_package, sums)
    try:
        tree = cst.parse_module(source)
        tree._codegen(collector)
    except cst.ParserSyntaxError as exc:
        return _failed(module, is_package, sums, "syntax-error", exc.message, exc.raw_line)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        # libcst reports a bad coding cookie or undecodable bytes this way
        return _failed(module, is_package, sums, "undecodable", str(exc), None)
    except RecursionError:
        return _failed(module, is_package, sums, "too-deep", "nested too deeply to analyse", None)
    return collector.facts(len(sums) - 1)


def _failed(
    module: str, is_package: bool, sums: list[int], code: str, message: str, line: int | None
) -> dict[str, Any]:
    first_line = message.strip().splitlines()[0] if message.strip() else code
    return empty_facts(module, is_package, len(sums) - 1, sums[-1], [code, first_line, line])
