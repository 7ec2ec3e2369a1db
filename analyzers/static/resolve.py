"""Resolve the per-file facts across files and turn them into graph nodes and edges.

Runs once, in the main process, over the small per-file summaries (never over syntax trees).
Names are resolved the way Python would find them, as far as static reasoning can go:
function scopes, then enclosing functions, then the module, then `from x import *`; imports
are followed through re-exports; `self`, `cls` and `super()` go through the class and its
project bases; objects get a class from a constructor call, an annotation or a function's
return annotation. Whatever resolves outside the project ends on `external:<package>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from analyzers.static.facts import with_body
from decomposer.model.graph import (
    DependencyGraph,
    Diagnostic,
    Edge,
    EdgeKind,
    Node,
    NodeKind,
    Site,
)

# A resolved value: ("module" | "class" | "function", node id), ("instance", class id),
# ("super", class id), ("const", "scope.NAME" of a literal constant) or
# ("external", dotted name outside the project).
Value = tuple[str, str]
Binding = Sequence[str]  # [how, target], see collect.py

_MAX_DEPTH = 40  # alias chains longer than this are given up on, not followed forever
_UNKNOWN: Value = ("", "")  # not resolved yet (None is a result: "cannot tell")


class Resolver:
    def __init__(
        self, facts_by_file: dict[str, dict[str, Any]], excluded: Iterable[str] = ()
    ) -> None:
        #: Module ids left out by excludes: imports of them are neither edges nor problems.
        self.excluded = frozenset(excluded)
        self.file_of: dict[str, str] = {}  # module or def id -> file
        self.modules: dict[str, dict[str, Any]] = {}
        self.defs: dict[str, list[Any]] = {}
        self.bindings: dict[str, dict[str, Binding]] = {}
        self.stars: dict[str, list[str]] = {}
        self.attrs: dict[str, dict[str, Binding]] = {}
        self.constants: dict[str, Any] = {}  # "scope.NAME" -> its literal (see collect.py)
        #: "app_label.Model" -> model class id, filled in by the data rules (apps.get_model).
        self.model_labels: dict[str, str] = {}
        self.duplicates: list[tuple[str, str]] = []
        for rel in sorted(facts_by_file):
            facts = facts_by_file[rel]
            module = facts["module"]
            if module in self.modules:
                self.duplicates.append((rel, module))
                continue
            self.modules[module] = facts
            self.file_of[module] = rel
            for record in facts["defs"]:
                if record[0] not in self.defs:
                    self.defs[record[0]] = record
                    self.file_of[record[0]] = rel
            for scope, data in facts["scopes"].items():
                for name, value in data["v"].items():
                    self.constants[f"{scope}.{name}"] = value
                if data["*"]:
                    self.stars.setdefault(scope, []).extend(data["*"])
                self.bindings[scope] = _merged(self.bindings.get(scope), data["b"])
            for class_id, table in facts["attrs"].items():
                self.attrs[class_id] = _merged(self.attrs.get(class_id), table)
        self.packages = {m.split(".", 1)[0] for m in self.modules}
        self._expr_memo: dict[tuple[str, str], Value | None] = {}
        self._abs_memo: dict[str, Value | None] = {}
        self._mro_memo: dict[str, list[str]] = {}
        self._module_memo: dict[str, str | None] = {}
        self._active: set[tuple[str, str]] = set()
        #: Scopes and names whose facts were read since `start_part` (see `consulted_modules`)
        self.consulted: set[str] = set()

    def start_part(self) -> None:
        """Forget every answer: what is resolved next depends on the facts alone, and
        `consulted_modules` then names every module whose facts it read. The graph is built
        one module at a time this way, so that a module's part can be kept with what it read
        and reused while none of it changes."""
        self._expr_memo.clear()
        self._abs_memo.clear()
        self._mro_memo.clear()
        self.consulted.clear()

    def facts(self, module: str) -> dict[str, Any]:
        """The module's facts with their body: what its code does (facts.py)."""
        return with_body(self.modules[module])

    def consulted_modules(self) -> set[str]:
        """The modules whose facts were read since `start_part`."""
        return {m for m in map(self.module_of, self.consulted) if m is not None}

    # -- resolution -------------------------------------------------------------------------

    def resolve_absolute(self, dotted: str) -> Value | None:
        """What an absolute dotted name (an import target) refers to."""
        if dotted in self._abs_memo:
            return self._abs_memo[dotted]
        self.consulted.add(dotted)
        self._abs_memo[dotted] = None  # guards against import cycles
        parts = dotted.split(".")
        value: Value | None = None
        for i in range(len(parts), 0, -1):
            module = ".".join(parts[:i])
            if module in self.modules:
                value = ("module", module)
                for part in parts[i:]:
                    value = self.member(value, part)
                    if value is None:
                        break
                break
        else:
            if parts[0] not in self.packages:
                value = ("external", dotted)
        self._abs_memo[dotted] = value
        return value

    def resolve_expr(self, scope: str, path: str) -> Value | None:
        """What a dotted expression seen in `scope` refers to ("self.repo.save", "f().x")."""
        key = (scope, path)
        value = self._expr_memo.get(key, _UNKNOWN)
        if value is not _UNKNOWN:  # one dict lookup: most calls are answered here
            return value
        if key in self._active or len(self._active) > _MAX_DEPTH:
            return None
        self._active.add(key)
        self.consulted.add(scope)
        try:
            value = self._resolve_expr(scope, path)
        finally:
            self._active.discard(key)
        self._expr_memo[key] = value
        return value

    def _resolve_expr(self, scope: str, path: str) -> Value | None:
        segments = path.split(".")
        head = segments[0]
        value: Value | None
        if head == "super()":
            owner = self.enclosing_class(scope)
            value = None if owner is None else ("super", owner)
        else:
            called = head.endswith("()")
            value = self.lookup(scope, head[:-2] if called else head)
            if called:
                value = self.call_result(value)
        end = len(head)
        for segment in segments[1:]:
            if value is None:
                return None
            # each prefix into the memo too: table access asks for "a.b" after "a.b.c()"
            self._expr_memo.setdefault((scope, path[:end]), value)
            end += 1 + len(segment)
            called = segment.endswith("()")
            value = self.member(value, segment[:-2] if called else segment)
            if called:
                value = self.call_result(value)
        return value

    def lookup(self, scope: str, name: str) -> Value | None:
        """A bare name in `scope`: local, enclosing functions (not classes), module, stars."""
        current: str | None = scope
        innermost = True
        while current is not None:
            record = self.defs.get(current)
            if record is None or record[1] != "class" or innermost:
                binding = self.bindings.get(current, {}).get(name)
                if binding is not None:
                    return self.binding_value(current, binding)
            if record is None:  # the module: last, names from `import *`
                return self._star_member(current, name)
            current = record[5]
            innermost = False
        return None

    def binding_value(self, scope: str, binding: Binding) -> Value | None:
        how, target = binding
        if how == "def":
            self.consulted.add(target)
            record = self.defs.get(target)
            return None if record is None else (record[1], target)
        if how == "import":
            return self.resolve_absolute(target)
        if how == "self":
            return ("instance", target)
        if how == "cls":
            return ("class", target)
        if how == "const":
            return ("const", target)
        if how == "model":
            model = self.model_labels.get(target.lower())
            return None if model is None else ("class", model)
        if how == "alias":
            return self.resolve_expr(scope, target)
        if how == "instance":
            return self.call_result(self.resolve_expr(scope, target))
        if how == "type":
            value = self.resolve_expr(scope, target)
            if value is not None and value[0] == "class":
                return ("instance", value[1])
            return value if value is not None and value[0] == "external" else None
        return None  # "local": bound to something we cannot follow

    def member(self, value: Value, name: str) -> Value | None:
        kind, ident = value
        if kind == "external":
            return ("external", f"{ident}.{name}")
        self.consulted.add(ident)
        if kind == "module":
            binding = self.bindings.get(ident, {}).get(name)
            if binding is not None:
                return self.binding_value(ident, binding)
            submodule = f"{ident}.{name}"
            if submodule in self.modules:
                return ("module", submodule)
            return self._star_member(ident, name)
        if kind in ("class", "instance", "super"):
            classes = self.mro(ident)
            if kind == "super":
                classes = classes[1:]
            for owner in classes:
                member = f"{owner}.{name}"
                record = self.defs.get(member)
                if record is not None:
                    return (record[1], member)
            for owner in classes:
                binding = self.attrs.get(owner, {}).get(name)
                if binding is not None:
                    return self.binding_value(owner, binding)
        return None

    def _star_member(self, module: str, name: str) -> Value | None:
        for target in self.stars.get(module, ()):
            self.consulted.add(target)
            facts = self.modules.get(target)
            if facts is None:
                continue
            exported = facts["all"]
            if (name not in exported) if exported is not None else name.startswith("_"):
                continue
            value = self.member(("module", target), name)
            if value is not None:
                return value
        return None

    def call_result(self, value: Value | None) -> Value | None:
        if value is None:
            return None
        kind, ident = value
        if kind == "class":
            return ("instance", ident)
        if kind == "external":
            return value
        if kind == "function":
            self.consulted.add(ident)
            record = self.defs[ident]
            if record[8]:
                returned = self.resolve_expr(record[5], record[8])
                if returned is not None and returned[0] == "class":
                    return ("instance", returned[1])
                if returned is not None and returned[0] == "external":
                    return returned
        return None

    def mro(self, class_id: str) -> list[str]:
        """The class and its project bases, depth first, each once (close to Python's MRO)."""
        if class_id in self._mro_memo:
            return self._mro_memo[class_id]
        self._mro_memo[class_id] = [class_id]  # guards against inheritance cycles
        self.consulted.add(class_id)
        order = [class_id]
        record = self.defs.get(class_id)
        if record:
            for base in record[6]:
                value = self.resolve_expr(record[5], base)
                if value is not None and value[0] == "class":
                    order.extend(c for c in self.mro(value[1]) if c not in order)
        self._mro_memo[class_id] = order
        return order

    def enclosing_class(self, scope: str) -> str | None:
        self.consulted.add(scope)
        record = self.defs.get(scope)
        while record is not None:
            parent = self.defs.get(record[5])
            if parent is not None and parent[1] == "class":
                return parent[0]
            record = parent
        return None

    def module_of(self, ident: str) -> str | None:
        if ident in self._module_memo:  # table access asks once per use: scopes repeat
            return self._module_memo[ident]
        current = ident
        while current and current not in self.modules:
            current = current.rpartition(".")[0]
        found = self._module_memo[ident] = current or None
        return found

    def kind_of(self, node_id: str) -> NodeKind | None:
        """The kind of node a module, class or function of the project makes; None for any
        other id."""
        if node_id in self.modules:
            return NodeKind.MODULE
        record = self.defs.get(node_id)
        if record is None:
            return None
        return NodeKind.CLASS if record[1] == "class" else NodeKind.FUNCTION

    def is_code(self, node_id: str) -> bool:
        """Whether a module, class or function of the project has this id."""
        return node_id in self.defs or node_id in self.modules

    def is_excluded(self, dotted: str) -> bool:
        parts = dotted.split(".")
        return any(".".join(parts[:i]) in self.excluded for i in range(1, len(parts) + 1))

    def is_bound(self, module: str, name: str) -> bool:
        """Could `from module import name` work? False only when surely not."""
        self.consulted.add(module)
        facts = self.modules[module]
        return (
            (name.startswith("__") and name.endswith("__"))  # __doc__, __version__, …
            or facts.get("dynamic", False)
            or name in self.bindings.get(module, {})
            or f"{module}.{name}" in self.modules
            or module in self.stars
            or "__getattr__" in self.bindings.get(module, {})
            or facts["diagnostics"] != []
        )


def _merged(first: dict[str, Binding] | None, then: dict[str, Binding]) -> dict[str, Binding]:
    """The bindings of an id that two files define (a module `a.b` and a class `b` in `a`):
    the first file's, then the second's where the first's say nothing more than "local"."""
    if not first:
        return then
    merged = dict(first)
    for name, binding in then.items():
        if name not in merged or merged[name][0] == "local":
            merged[name] = binding
    return merged


@dataclass
class CodePart:
    """What one module's code adds to the graph: its classes and functions, the edges from
    them and from the module (sources all in the module), the external packages those reach
    and the imports that cannot be found."""

    nodes: list[Node] = field(default_factory=list)
    edges: dict[tuple[str, str, EdgeKind], Edge] = field(default_factory=dict)
    externals: set[str] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add_edge(self, edge: Edge) -> None:
        key = (edge.source, edge.target, edge.kind)
        old = self.edges.get(key)
        self.edges[key] = edge if old is None else old.merged_with(edge)


class GraphBuilder:
    """Turns the resolved facts into graph nodes and edges: the modules at once, their code
    one module at a time (`part`), so that a module's part can be kept and reused."""

    def __init__(self, resolver: Resolver) -> None:
        self.r = resolver
        self._part = CodePart()

    def add_modules(self, graph: DependencyGraph) -> None:
        """Every module's node, its diagnostics, and which package contains it."""
        r = self.r
        for rel, module in r.duplicates:
            graph.add_diagnostic(
                Diagnostic(
                    rel,
                    "duplicate-module",
                    f"module {module} is also defined in "
                    f"{r.file_of[module]}; this file is left out",
                )
            )
        for module, facts in sorted(r.modules.items()):
            rel = r.file_of[module]
            attrs = {"package": True} if facts["package"] else {}
            graph.add_node(
                Node(module, NodeKind.MODULE, rel, 1, max(facts["lines"], 1), facts["loc"], attrs)
            )
            for code, message, line in facts["diagnostics"]:
                graph.add_diagnostic(Diagnostic(rel, code, message, line))
        for module in sorted(r.modules):
            parent = module.rpartition(".")[0]
            if parent in r.modules:
                graph.add_edge(Edge(parent, module, EdgeKind.CONTAINS, 1))

    def add_parts(self, graph: DependencyGraph, parts: list[CodePart]) -> None:
        """The modules' parts, after `add_modules`: every node first, then the edges."""
        for node in sorted((node for part in parts for node in part.nodes), key=_node_id):
            graph.add_node(node)
        for node_id in sorted({node_id for part in parts for node_id in part.externals}):
            graph.add_node(Node(node_id, NodeKind.EXTERNAL))
        for part in parts:
            for edge in part.edges.values():
                graph.add_edge(edge)
            for diagnostic in part.diagnostics:
                graph.add_diagnostic(diagnostic)

    def part(self, module: str) -> CodePart:
        """The nodes and edges of one module's code."""
        r = self.r
        self._part = CodePart()
        rel = r.file_of[module]
        # the module's definitions, but for an id that an earlier file defines too
        defs = sorted((d[0], d) for d in r.modules[module]["defs"] if r.defs[d[0]] is d)
        for def_id, record in defs:
            self._add_def_node(def_id, record)
        for def_id, record in defs:
            self._add_def_edges(def_id, record)
        facts = r.facts(module)
        self._add_imports(rel, facts["imports"])
        for scope, data in facts["scopes"].items():
            if self.r.is_code(scope):
                self._add_uses(rel, scope, data)
        return self._part

    def _add_def_node(self, def_id: str, record: list[Any]) -> None:
        _, kind, line, end_line, loc, parent, bases, decorators, *_ = record
        attrs: dict[str, Any] = {}
        if kind == "class":
            attrs["bases"] = [self._full_name(parent, base) for base in bases]
        elif decorators:
            attrs["decorators"] = [self._full_name(def_id, d) for d in decorators]
        node_kind = NodeKind.CLASS if kind == "class" else NodeKind.FUNCTION
        rel = self.r.file_of[def_id]
        self._part.nodes.append(Node(def_id, node_kind, rel, line, end_line, loc, attrs))

    def _add_def_edges(self, def_id: str, record: list[Any]) -> None:
        r = self.r
        line, parent, bases = record[2], record[5], record[6]
        rel = r.file_of[def_id]
        if self.r.is_code(parent):
            self._edge(parent, def_id, EdgeKind.CONTAINS, None)
        for base in bases:
            value = r.resolve_expr(parent, base)
            target = self._target(value)
            if target is not None and value is not None and value[0] in ("class", "external"):
                self._edge(def_id, target, EdgeKind.INHERITS, Site(rel, line))

    def _full_name(self, scope: str, expr: str) -> str:
        """A base or decorator as the project id or external dotted name it resolves to."""
        value = self.r.resolve_expr(scope, expr)
        if value is not None and value[0] in ("class", "function", "external", "module"):
            return value[1]
        return expr

    def _add_imports(self, rel: str, imports: Iterable[list[Any]]) -> None:
        r = self.r
        for scope, target, line, tags, _star in imports:
            site = Site(rel, line)
            value = r.resolve_absolute(target)
            node = self._target(value)
            if node is None:
                module = r.module_of(target)
                top = target.split(".", 1)[0]
                if r.is_excluded(target):
                    continue
                if top in r.packages and (
                    module is None
                    or not r.is_bound(module, target[len(module) + 1 :].split(".")[0])
                ):
                    self._part.diagnostics.append(
                        Diagnostic(rel, "unresolved-import", f"cannot find {target}", line)
                    )
                node = module  # a module-level value: the dependency is on its module
            if node is not None and node != scope and self.r.is_code(scope):
                self._edge(scope, node, EdgeKind.IMPORTS, site, tags)

    def _add_uses(self, rel: str, scope: str, data: dict[str, list[Any]]) -> None:
        r = self.r
        for path, line in data["c"]:
            value = r.resolve_expr(scope, path)
            if value is None:
                continue
            kind, ident = value
            site = Site(rel, line)
            if kind == "function":
                self._edge(scope, ident, EdgeKind.CALLS, site)
            elif kind == "class":
                self._edge(scope, ident, EdgeKind.INSTANTIATES, site)
                init = r.member(("class", ident), "__init__")
                if init is not None and init[0] == "function":
                    self._edge(scope, init[1], EdgeKind.CALLS, site)
            elif kind == "external":
                self._edge(scope, self._external(ident), EdgeKind.CALLS, site)
        for path, line in data["r"]:
            target = _project_node(r.resolve_expr(scope, path))
            if target is not None and target != scope:
                self._edge(scope, target, EdgeKind.REFERENCES, Site(rel, line))
        for text, line in data["s"]:
            if text.split(".", 1)[0] not in r.packages:
                continue
            target = _project_node(r.resolve_absolute(text))
            if target is not None and target != scope:
                self._edge(scope, target, EdgeKind.REFERENCES, Site(rel, line), ["string"])

    def _target(self, value: Value | None) -> str | None:
        if value is None:
            return None
        if value[0] == "external":
            return self._external(value[1])
        return _project_node(value)

    def _external(self, dotted: str) -> str:
        node_id = "external:" + dotted.split(".", 1)[0]
        self._part.externals.add(node_id)
        return node_id

    def _edge(
        self,
        source: str,
        target: str,
        kind: EdgeKind,
        site: Site | None,
        tags: Iterable[str] = (),
    ) -> None:
        # positional: keyword arguments cost, once per use in the tree
        self._part.add_edge(
            Edge(source, target, kind, 1, 0, (site,) if site else (), frozenset(tags))
        )


def _node_id(node: Node) -> str:
    return node.id


def _project_node(value: Value | None) -> str | None:
    """The node id of a project module, class or function; None for anything else."""
    if value is not None and value[0] in ("module", "class", "function"):
        return value[1]
    return None
