"""Entry points: HTTP routes, tasks, signal receivers and commands (see docs/entry-points.md).

Read from the facts only, never by importing the project. A registration is a decorator or a
call on an object; the object is traced back to where it was made (`bp = Blueprint(...)`,
maybe in another module), so prefixes can be collected along the chain of registrations
(`app.register_blueprint(bp, url_prefix=...)`, `include("x.urls")`, `include_router`).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from analyzers.static.resolve import Binding, Resolver, Value
from decomposer.model.graph import DependencyGraph, Edge, EdgeKind, Node, NodeKind, Site

Origin = tuple[str, str]  # (scope, name) of the assignment that made an object
View = tuple[Value | None, str]  # what a handler resolves to, and its text as written


def _table(rows: dict[str, str]) -> dict[str, str]:
    return {name: value for names, value in rows.items() for name in names.split()}


_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
# The objects registrations are made on, by the last part of their class's name.
_OBJECTS = _table(
    {
        "Flask": "flask",
        "Blueprint": "blueprint",
        "FastAPI": "fastapi",
        "APIRouter": "router",
        "Starlette": "starlette",
        "Typer": "typer",
        "Celery": "celery",
        "DefaultRouter SimpleRouter": "drf",
        "Signal": "signal",
    }
)
_FRAMEWORK = {"flask": "flask", "blueprint": "flask", "fastapi": "fastapi", "router": "fastapi"}
_FRAMEWORK["starlette"] = "starlette"
# Methods Django and DRF generic views bring along: a subclass that defines none of its own
# still serves them (through the class itself).
_GENERIC_VIEWS = _table(
    {
        "TemplateView ListView DetailView BaseListView BaseDetailView": "get",
        "ArchiveIndexView YearArchiveView MonthArchiveView WeekArchiveView": "get",
        "DayArchiveView TodayArchiveView DateDetailView": "get",
        "PasswordResetDoneView PasswordResetCompleteView PasswordChangeDoneView": "get",
        "ListAPIView RetrieveAPIView": "get",
        "FormView CreateView UpdateView ProcessFormView BaseFormView BaseCreateView": "get post",
        "BaseUpdateView LoginView PasswordChangeView PasswordResetView": "get post",
        "PasswordResetConfirmView ListCreateAPIView": "get post",
        "LogoutView": "post",
        "DeleteView BaseDeleteView": "get post delete",
        "RedirectView": "get post put patch delete head options",
        "CreateAPIView": "post",
        "UpdateAPIView": "put patch",
        "DestroyAPIView": "delete",
        "RetrieveUpdateAPIView": "get put patch",
        "RetrieveDestroyAPIView": "get delete",
        "RetrieveUpdateDestroyAPIView": "get put patch delete",
    }
)
# DRF viewset actions (the detail ones take a lookup), and the outside bases that bring them.
_ACTIONS = {"list": "GET", "create": "POST", "retrieve": "GET", "update": "PUT"}
_ACTIONS |= {"partial_update": "PATCH", "destroy": "DELETE"}
_DETAIL = {"retrieve", "update", "partial_update", "destroy"}
_VIEWSET_BASES = _table(
    {
        "ModelViewSet": " ".join(_ACTIONS),
        "ReadOnlyModelViewSet": "list retrieve",
        "ListModelMixin": "list",
        "CreateModelMixin": "create",
        "RetrieveModelMixin": "retrieve",
        "UpdateModelMixin": "update partial_update",
        "DestroyModelMixin": "destroy",
    }
)
# The pages Django's ModelAdmin.get_urls() serves for a registered model: route, view method,
# url name suffix. (The last one, `<path:object_id>/`, only redirects to `change/`.)
_ADMIN_VIEWS = [
    ("", "changelist_view", "changelist"),
    ("add/", "add_view", "add"),
    ("<path:object_id>/history/", "history_view", "history"),
    ("<path:object_id>/delete/", "delete_view", "delete"),
    ("<path:object_id>/change/", "change_view", "change"),
]
_DEFAULT_ADMIN_SITE = "django.contrib.admin.site"
_REQUIRE = {"require_GET": ["GET"], "require_POST": ["POST"], "require_safe": ["GET", "HEAD"]}
_COMMAND_MODULE = re.compile(r"(?:.*\.)?management\.commands\.([^.]+)")
# Calls the rules read; any other detailed call (most are SQL) is skipped early.
_ROW_CALLS = {"register_blueprint", "include_router", "add_url_rule", "add_api_route"}
_ROW_CALLS |= {"add_route", "Route", "Mount", "Starlette", "connect", "register", "add_parser"}
_ROW_CALLS |= {"set_defaults", "add_command", "add_typer"}


def add_entry_points(graph: DependencyGraph, resolver: Resolver) -> None:
    """Add `entry:*` nodes and their `handles` edges to the graph."""
    entries = _Entries(graph, resolver)
    entries.scan_defs()
    entries.scan_rows()
    entries.web_routes()
    entries.django()
    entries.commands()


def _join(*parts: str) -> str:
    """Route parts joined with single slashes, starting with one; a last trailing slash stays."""
    path = ""
    for part in parts:
        if part:
            path = path.rstrip("/") + "/" + part.lstrip("/")
    return path or "/"


def _methods(value: Any, default: list[str]) -> list[str]:
    """A literal list of HTTP methods, upper case; `default` when it is not one."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return sorted({v.upper() for v in value})
    return default


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _name(value: Any) -> str | None:
    """The dotted name of a name literal ({"n": ...})."""
    return value["n"] if isinstance(value, dict) and isinstance(value.get("n"), str) else None


def _call(value: Any) -> tuple[str, list[Any], dict[str, Any]] | None:
    """(function, args, kwargs) of a call literal ({"c": ...})."""
    if isinstance(value, dict) and isinstance(value.get("c"), str):
        return value["c"], value.get("a") or [], value.get("k") or {}
    return None


def _arg(args: list[Any], kwargs: dict[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def _node(value: Value | None) -> str | None:
    """The id of the project function or class a handler resolves to."""
    if value is not None and value[0] in ("function", "class", "callable"):
        return value[1]
    return None


def _row_call(row: list[Any]) -> dict[str, Any]:
    """A detailed call row as a call literal."""
    return {"c": row[0], "a": row[2], "k": row[3]}


def _decorators(record: list[Any]) -> list[tuple[str, list[Any], dict[str, Any], bool]]:
    """(name, args, kwargs, called) for each decorator of a def record."""
    calls = record[10]
    if not calls and not record[7]:  # most defs: no Counter to build
        return []
    bare = Counter(record[7]) - Counter(name for name, _, _ in calls)
    decorators = [(name, args, kwargs, True) for name, args, kwargs in calls]
    return decorators + [(name, [], {}, False) for name in bare.elements()]


class _Entries:
    def __init__(self, graph: DependencyGraph, resolver: Resolver) -> None:
        self.graph = graph
        self.r = r = resolver
        self.rows = [
            (scope, row)
            for facts in r.modules.values()
            for scope, data in facts["scopes"].items()
            for row in data["k"]
        ]
        # The call that made each assigned object, and the kinds of the objects we follow.
        self.made = {(scope, row[4]): row for scope, row in self.rows if row[4]}
        self.objects: dict[Origin, str] = {}
        for scope, table in r.bindings.items():
            for name, (how, target) in table.items():
                kind = _OBJECTS.get(target.rpartition(".")[2]) if how == "instance" else None
                if kind is not None:
                    self.objects[(scope, name)] = kind
        self.module_of_file = {r.file_of[m]: m for m in r.modules}
        self.declared: dict[str, tuple[Any, ...]] = {}  # http entry id -> its declaration
        self.methods: dict[str, list[str]] = {}  # class id -> its methods
        for def_id, record in r.defs.items():
            parent = r.defs.get(record[5])
            if record[1] == "function" and parent is not None and parent[1] == "class":
                self.methods.setdefault(record[5], []).append(def_id)
        # Web routes wait until every owner's prefixes are known:
        # (owner, kind, rule, methods, view, site, name)
        self.routes: list[tuple[Any, ...]] = []
        self.mounts: dict[Origin, list[tuple[Origin | None, str | None]]] = {}  # child ->
        self.drf: dict[Origin, list[tuple[str, list[Any]]]] = {}  # router -> registrations
        self.drf_included: set[Any] = set()
        # admin site -> (model, ModelAdmin, site of the registration)
        self.admin: dict[str, list[tuple[str, str, Site]]] = {}
        self.patterns: dict[str, list[tuple[Any, int]]] = {}  # urls module -> path() calls
        self.click: dict[str, list[Any]] = {}  # function -> [group, name, site, is a group]
        self.typer: list[tuple[Origin | None, str, str, Site]] = []
        self.typer_parents: dict[Origin, tuple[Origin | None, str]] = {}

    # -- shared helpers ---------------------------------------------------------------------

    def site(self, scope: str, line: int) -> Site:
        return Site(self.r.file_of[scope], line)

    def add(self, node_id: str, attrs: dict[str, Any], handler: str | None, site: Site) -> None:
        """An entry node; a `handles` edge when the handler is a project node."""
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.graph.add_node(Node(node_id, NodeKind.ENTRY, site.file, site.line, attrs=attrs))
        if handler is not None and handler in self.graph:
            edge = Edge(node_id, handler, EdgeKind.HANDLES, static_count=1, sites=(site,))
            self.graph.add_edge(edge)

    def origin(self, scope: str, expr: str) -> Origin | None:
        """Where the object `expr` names was assigned, following imports and aliases."""
        r = self.r
        for _ in range(20):  # chains are short; an import cycle stops here
            head, _, rest = expr.partition(".")
            found = self.binding(scope, head)
            if found is None:  # `pkg.sub.obj` through an imported package
                if f"{scope}.{head}" not in r.modules or not rest:
                    return None
                scope, expr = f"{scope}.{head}", rest
                continue
            scope, (how, target) = found
            if how == "import":
                module = r.module_of(target)
                if module is None:
                    return None  # made outside the project
                scope, expr = module, ".".join(p for p in (target[len(module) + 1 :], rest) if p)
                if not expr:
                    return None
            elif how == "alias":
                expr = ".".join(p for p in (target, rest) if p)
            else:
                return None if rest else (scope, head)
        return None

    def binding(self, scope: str, name: str) -> tuple[str, Binding] | None:
        """The scope that binds `name` as seen from `scope` (as `Resolver.lookup` finds it)."""
        current: str | None = scope
        innermost = True
        while current is not None:
            record = self.r.defs.get(current)
            if record is None or record[1] != "class" or innermost:
                binding = self.r.bindings.get(current, {}).get(name)
                if binding is not None:
                    return current, binding
            current = None if record is None else record[5]
            innermost = False
        return None

    def kind_of(self, scope: str, expr: str) -> tuple[str | None, Origin | None]:
        """What kind of object `expr` is (see `_OBJECTS`) and where it was made."""
        if not expr:
            return None, None
        where = self.origin(scope, expr)
        if where in self.objects:
            return self.objects[where], where
        # Made out of sight (a parameter `app: Flask`): its type still tells the kind.
        value = self.r.resolve_expr(scope, expr)
        if value is not None and value[0] in ("external", "instance"):
            return _OBJECTS.get(value[1].rpartition(".")[2]), None
        return None, where

    def external(self, scope: str, expr: str, prefix: str) -> str | None:
        """The last part of the outside name `expr` resolves to, if it starts with `prefix`."""
        value = self.r.resolve_expr(scope, expr)
        if value is not None and value[0] == "external" and value[1].startswith(prefix):
            return value[1].rpartition(".")[2]
        return None

    def view(self, scope: str, literal: Any, depth: int = 0) -> View:
        """What a view / handler argument resolves to.

        `X.as_view()`: the class X; `obj.as_view()` on an instance of a project class: the
        closure its `as_view` returns (else the method); `X()`, or a name bound to an
        instance: the instance's own `__call__`, else ("callable", its class); a name bound
        to `X.as_view()`: as that call; `wrapper(view, ...)` of an outside function or of a
        project decorator: the view it wraps; a project view factory: its closure.
        """
        call = _call(literal)
        if isinstance(literal, str):  # old Django string views: "shop.views.home"
            return self.r.resolve_absolute(literal), literal
        if depth > 5:
            return None, "?"
        if call is None:
            written = _name(literal)
            if written is None:
                return None, "?"
            value = self.r.resolve_expr(scope, written)
            where = self.origin(scope, written)
            if (value is None or value[0] == "instance") and where in self.made:
                # `serve = ServeView.as_view()`, in this module or another one
                made = self.view(where[0], _row_call(self.made[where]), depth + 1)[0]
                if made is not None:
                    return made, written
            return self.instance_view(value), written
        function, args, kwargs = call
        if function.endswith(".as_view"):
            written = function.removesuffix(".as_view")
            value = self.r.resolve_expr(scope, written)
            if value is not None and value[0] == "instance":
                method = self.r.member(value, "as_view")
                if method is not None and method[0] == "function":
                    return ("function", self.closure(method[1]) or method[1]), written
                return None, written
            return value, written
        value = self.r.resolve_expr(scope, function)
        if value is not None and value[0] == "class":  # views.ClassView(): an instance
            return self.instance_view(("instance", value[1])), f"{function}()"
        first = _arg(args, kwargs, 0, "view_func")
        wraps = value is not None and value[0] == "external"
        if value is not None and value[0] == "function":
            closure = self.closure(value[1])
            if closure is not None and not self.wraps(closure):
                return ("function", closure), f"{function}()"  # a view factory
            wraps = closure is not None
        if wraps and first is not None:  # never_cache(view), login_required(X.as_view())
            inner = self.view(scope, first, depth + 1)
            if _node(inner[0]) is not None:
                return inner
        return None, f"{function}()"

    def instance_view(self, value: Value | None) -> Value | None:
        """An instance used as a view: its class's own `__call__`, else the class."""
        if value is None or value[0] != "instance":
            return value
        own = self.own(value[1], "__call__")
        return ("function", own) if own is not None else ("callable", value[1])

    def own(self, cls: str, name: str) -> str | None:
        """`cls.name` when the class itself (not a base) defines that method."""
        record = self.r.defs.get(f"{cls}.{name}")
        return record[0] if record is not None and record[1] == "function" else None

    def handler(self, cls: str, name: str) -> str:
        """What handles `name` of a view class: its own method, else the class itself (the
        class is what a decomposition moves; an inherited method is its base's code)."""
        return self.own(cls, name) or cls

    def closure(self, function: str) -> str | None:
        """The nested function a function returns: the one it defines and refers to by name
        without calling it (`def view(...): ...; return view`); None when not exactly one."""
        module = self.r.module_of(function)
        if module is None:
            return None
        facts = self.r.facts(module)
        scope = facts["scopes"].get(function)
        if scope is None:
            return None
        nested = {
            n: t
            for n, (how, t) in scope["b"].items()
            if how == "def" and self.r.defs[t][1] != "class"
        }
        called = {
            path.split(".", 1)[0]
            for name, data in facts["scopes"].items()
            if name == function or name.startswith(function + ".")
            for path, _ in data["c"]
        }
        used = {path.split(".", 1)[0] for path, _ in scope["r"]} - called
        found = {nested[n] for n in used if n in nested}
        return found.pop() if len(found) == 1 else None

    def wraps(self, function: str) -> bool:
        """Whether a function is decorated with `functools.wraps(...)` (a decorator's wrapper)."""
        record = self.r.defs[function]
        return any(self.external(record[5], name, "functools.") == "wraps" for name in record[7])

    def external_bases(self, class_id: str) -> list[str]:
        """The outside classes a project class inherits from, through its project bases."""
        found = []
        for owner in self.r.mro(class_id):
            record = self.r.defs[owner]
            for base in record[6]:
                value = self.r.resolve_expr(record[5], base)
                if value is not None and value[0] == "external":
                    found.append(value[1])
        return found

    # -- HTTP -------------------------------------------------------------------------------

    def serve(
        self,
        framework: str,
        methods: list[str] | None,
        path: str,
        route: str,
        view: View,
        site: Site,
        name: Any = None,
    ) -> None:
        """The entries of one route declaration; `methods` None: as the view says."""
        value, written = view
        handlers: dict[str, str] = {}
        if value is not None and value[0] == "class":
            cls = value[1]
            bases = self.external_bases(cls)
            if any(b.startswith("rest_framework.") for b in bases):
                framework = "drf"
            own = {}  # methods the class or its project bases define -> their handler
            for verb in _VERBS:
                member = self.r.member(("class", cls), verb)
                if member is not None and member[0] == "function":
                    own[verb.upper()] = self.handler(cls, verb)
            if methods is None:  # Flask's `methods = [...]` class attribute
                declared = (self.r.constants.get(f"{c}.methods") for c in self.r.mro(cls))
                methods = next((_methods(d, []) for d in declared if _methods(d, [])), None)
            if methods is None:
                for base in bases:
                    for verb in _GENERIC_VIEWS.get(base.rpartition(".")[2], "").split():
                        handlers[verb.upper()] = cls
                handlers.update(own)
            handlers = handlers or {m: own.get(m, cls) for m in methods or ["ANY"]}
        else:
            target = _node(value)
            if methods is None and value is not None and value[0] == "function":
                methods, framework = self.function_methods(value[1], framework)
            elif methods is None and value is not None and value[0] == "external":
                served = _GENERIC_VIEWS.get(value[1].rpartition(".")[2], "")  # LoginView
                methods = [verb.upper() for verb in served.split()] or None
            handlers = dict.fromkeys(methods or ["ANY"], target or written)
        self.emit(framework, handlers, path, route, site, name)

    def emit(
        self,
        framework: str,
        handlers: dict[str, str],
        path: str,
        route: str,
        site: Site,
        name: Any,
    ) -> None:
        """One `entry:http:<METHOD> <path>` node per method; handlers: method -> handler."""
        for method, handler in sorted(handlers.items()):
            shared = sorted(m for m, h in handlers.items() if h == handler)
            attrs: dict[str, Any] = {
                "kind": "http",
                "framework": framework,
                "methods": shared,
                "path": path,
            }
            attrs |= {"route": route, "handler": handler, "name": _text(name)}
            self.add(
                self.http_id(f"entry:http:{method} {path}", site, route, handler),
                attrs,
                handler,
                site,
            )

    def http_id(self, node_id: str, site: Site, route: str, handler: str) -> str:
        """The id of a route's entry: `entry:http:<METHOD> <path>` for the first declaration
        found (the same declaration reached again is the same node); another declaration of
        the same method and path (a second root urlconf, a second app) gets its urls module
        after it, `entry:http:GET / (shop.urls_dev)`, and `:line` if that is taken too."""
        declaration = (site.file, site.line, route, handler)
        module = self.module_of_file.get(site.file, site.file)
        for candidate in (node_id, f"{node_id} ({module})"):
            if self.declared.setdefault(candidate, declaration) == declaration:
                return candidate
        return f"{node_id} ({module}:{site.line})"

    def function_methods(self, function: str, framework: str) -> tuple[list[str] | None, str]:
        """A Django function view's methods, from @require_POST, @api_view([...]) and kin."""
        record = self.r.defs[function]
        for name, args, kwargs, called in _decorators(record):
            last = self.external(record[5], name, "django.")
            if last in _REQUIRE:
                return _REQUIRE[last], framework
            if last == "require_http_methods" and called:
                return _methods(_arg(args, kwargs, 0, "request_method_list"), ["ANY"]), framework
            if self.external(record[5], name, "rest_framework.") == "api_view":
                return _methods(_arg(args, kwargs, 0, "http_method_names"), ["GET"]), "drf"
        return None, framework

    def prefixes(self, owner: Origin | None, kind: str | None, depth: int = 0) -> list[str]:
        """Every prefix a blueprint or router is served under (an app's is "")."""
        if owner is None or kind not in ("blueprint", "router"):
            return [""]
        made = self.made.get(owner)
        own = _text(made[3].get("url_prefix" if kind == "blueprint" else "prefix")) if made else ""
        mounts = self.mounts.get(owner)
        if not mounts or depth > 10:  # registered nowhere we can see: its own prefix
            return [own or ""]
        found = set()
        for parent, prefix in mounts:
            for base in self.prefixes(parent, self.objects.get(parent or ("", "")), depth + 1):
                if kind == "blueprint":  # a registration prefix replaces the blueprint's own
                    found.add(_join(base, prefix if prefix is not None else own or ""))
                else:  # FastAPI puts the include_router prefix before the router's own
                    found.add(_join(base, prefix or "", own or ""))
        return sorted(found)

    def web_routes(self) -> None:
        for owner, kind, rule, methods, view, site, name in self.routes:
            for prefix in self.prefixes(owner, kind):
                self.serve(_FRAMEWORK[kind], methods, _join(prefix, rule), rule, view, site, name)

    def starlette(self, scope: str, literal: Any, prefix: str, line: int) -> None:
        """Route(...), and the routes of Mount(prefix, routes=[...]) / Starlette(routes=[...])."""
        call = _call(literal)
        if call is None or self.external(scope, call[0], "starlette.") is None:
            return
        function, args, kwargs = call
        last, path = function.rpartition(".")[2], _text(_arg(args, kwargs, 0, "path"))
        if last == "Route" and path is not None:
            view = self.view(scope, _arg(args, kwargs, 1, "endpoint"))
            # A function endpoint serves GET unless told; an HTTPEndpoint class its methods.
            methods = _methods(kwargs.get("methods"), [])
            if not methods and (view[0] is None or view[0][0] != "class"):
                methods = ["GET"]
            site = self.site(scope, line)
            self.serve("starlette", methods or None, _join(prefix, path), path, view, site)
        elif last in ("Mount", "Starlette", "Router"):
            routes = _arg(args, kwargs, 2, "routes") if last == "Mount" else kwargs.get("routes")
            inner = _join(prefix, path) if last == "Mount" and path else prefix
            for route in routes if isinstance(routes, list) else ():
                self.starlette(scope, route, inner, line)

    # -- Django -----------------------------------------------------------------------------

    def is_url(self, scope: str, function: str) -> bool:
        last = function.rpartition(".")[2]
        return last in ("path", "re_path", "url") and bool(
            self.external(scope, function, "django.")
        )

    def included(self, module: str, view: Any) -> tuple[str, Any] | None:
        """What `include(...)` (or `x.urls`) mounts: ("module" | "list" | "router" | "admin",
        what), ("none", None) when it cannot be followed (the urls of code outside the
        project); None: not an include."""
        call = _call(view)
        if call is not None and self.external(module, call[0], "django.") == "include":
            target = _arg(call[1], call[2], 0, "arg")
        elif (_name(view) or "").endswith(".urls"):
            target = view
        else:
            return None
        if isinstance(target, list) and len(target) == 2 and isinstance(target[1], str):
            target = target[0]  # include((patterns, app_name))
        if isinstance(target, list):
            return "list", target
        value = None
        if isinstance(target, str):
            value = self.r.resolve_absolute(target)
        elif (name := _name(target)) is not None:
            owner = name.removesuffix(".urls")
            kind, where = self.kind_of(module, owner)
            if kind == "drf" and where is not None:
                return "router", where
            admin = self.admin_site(module, owner) if owner != name else None
            if admin is not None:
                return "admin", admin
            value = self.r.resolve_expr(module, name)
        return (
            ("module", value[1]) if value is not None and value[0] == "module" else ("none", None)
        )

    def django(self) -> None:
        """Walk the urls modules nobody includes (and ROOT_URLCONF) down through includes."""
        for scope, row in self.rows:
            if scope in self.r.modules and self.is_url(scope, row[0]):
                call_literal = {"c": row[0], "a": row[2], "k": row[3]}
                self.patterns.setdefault(scope, []).append((call_literal, row[1]))
        for router in self.drf:  # served by their module unless included somewhere
            self.patterns.setdefault(router[0], [])
        included = set()
        stack = [(m, call) for m, calls in self.patterns.items() for call, _ in calls]
        while stack:
            module, literal = stack.pop()
            call = _call(literal)
            target = self.included(module, _arg(call[1], call[2], 1, "view")) if call else None
            if target is not None and target[0] == "list":
                stack.extend((module, item) for item in target[1])
            elif target is not None:
                included.add(target[1])
        self.drf_included = included
        roots = {m for m in self.patterns if m not in included}
        settings = self.r.constants.items()
        served = {v for k, v in settings if k.endswith(".ROOT_URLCONF") and isinstance(v, str)}
        roots |= served
        # ROOT_URLCONF first: its routes keep the plain ids (see `http_id`)
        for module in sorted(roots & self.patterns.keys(), key=lambda m: (m not in served, m)):
            self.urls(module, "", [module])

    def urls(self, module: str, prefix: str, chain: list[str]) -> None:
        for router in sorted(self.drf):
            if router[0] == module and router not in self.drf_included:
                self.router_routes(router, prefix)
        for call, line in self.patterns.get(module, []):
            self.pattern(module, call, prefix, line, chain)

    def route(self, scope: str, literal: Any) -> str | None:
        """A route's text: a string, a translated string (`_("^account/$")`), or a constant."""
        call = _call(literal)
        if call is not None and self.external(scope, call[0], "django.utils.translation."):
            literal = _arg(call[1], call[2], 0, "message")
        elif (constant := _name(literal)) is not None:
            value = self.r.resolve_expr(scope, constant)
            if value is not None and value[0] == "const":
                literal = self.r.constants.get(value[1])
        return _text(literal)

    def pattern(self, module: str, literal: Any, prefix: str, line: int, chain: list[str]) -> None:
        call = _call(literal)
        if call is None or not self.is_url(module, call[0]):
            return
        function, args, kwargs = call
        route = self.route(module, _arg(args, kwargs, 0, "route"))
        if route is None:
            return
        text = route  # re_path / url: a regex, whose anchors are not part of the path
        if function.rpartition(".")[2] != "path":
            text = route.removeprefix("^").removesuffix("$")
        path, view = _join(prefix, text), _arg(args, kwargs, 1, "view")
        target = self.included(module, view)
        if target is None:
            site, name = self.site(module, line), kwargs.get("name")
            self.serve("django", None, path, route, self.view(module, view), site, name)
        elif target[0] == "list":
            for item in target[1]:
                self.pattern(module, item, path, line, chain)
        elif target[0] == "router":
            self.router_routes(target[1], path)
        elif target[0] == "admin":
            self.admin_routes(target[1], path)
        elif target[0] == "module" and target[1] not in chain:
            self.urls(target[1], path, [*chain, target[1]])

    def router_routes(self, router: Origin, base: str) -> None:
        """The routes a DRF router makes for its registered viewsets, under `base`."""
        made = self.made.get(router)
        slash = "" if made is not None and made[3].get("trailing_slash") is False else "/"
        for scope, row in self.drf.get(router, []):
            args, kwargs, site = row[2], row[3], self.site(scope, row[1])
            prefix = _text(_arg(args, kwargs, 0, "prefix"))
            view = self.view(scope, _arg(args, kwargs, 1, "viewset"))
            basename = _text(_arg(args, kwargs, 2, "basename"))
            if prefix is None:
                continue
            if view[0] is None or view[0][0] != "class":
                self.serve("drf", ["ANY"], _join(base, prefix + slash), prefix, view, site)
                continue
            cls = view[0][1]
            mro = self.r.mro(cls)
            fields = (self.r.constants.get(f"{c}.lookup_field") for c in mro)
            lookup = next((f for f in fields if isinstance(f, str)), "pk")
            detail = f"{prefix}/<{lookup}>"
            actions = {}
            for external in self.external_bases(cls):
                for action in _VIEWSET_BASES.get(external.rpartition(".")[2], "").split():
                    actions[action] = cls
            for action in _ACTIONS:
                member = self.r.member(("class", cls), action)
                if member is not None and member[0] == "function":
                    actions[action] = self.handler(cls, action)
            for kind in ("list", "detail"):
                handlers = {
                    _ACTIONS[a]: h
                    for a, h in actions.items()
                    if (a in _DETAIL) == (kind != "list")
                }
                name = f"{basename}-{kind}" if basename else None
                path = _join(base, (detail if kind == "detail" else prefix) + slash)
                self.emit("drf", handlers, path, prefix, site, name)
            for method in (m for owner in mro for m in self.methods.get(owner, [])):
                for decorator, _, options, called in _decorators(self.r.defs[method]):
                    where = self.r.defs[method][5]
                    if called and self.external(where, decorator, "rest_framework.") == "action":
                        url_path = _text(options.get("url_path")) or method.rpartition(".")[2]
                        url_name = _text(options.get("url_name")) or url_path.replace("_", "-")
                        name = f"{basename}-{url_name}" if basename else None
                        owner = detail if options.get("detail") else prefix
                        path = _join(base, owner, url_path + slash)
                        handler = self.handler(cls, method.rpartition(".")[2])
                        handlers = dict.fromkeys(
                            _methods(options.get("methods"), ["GET"]), handler
                        )
                        self.emit("drf", handlers, path, prefix, site, name)

    # -- decorators and calls ---------------------------------------------------------------

    def scan_defs(self) -> None:
        """Routes, tasks, receivers and commands made by decorators."""
        for def_id, record in sorted(self.r.defs.items()):
            scope, site = record[5], self.site(def_id, record[2])
            for name, args, kwargs, called in _decorators(record):
                receiver, _, attr = name.rpartition(".")
                kind, owner = self.kind_of(scope, receiver)
                if called and kind in _FRAMEWORK and (attr in _VERBS or attr.endswith("route")):
                    rule = _text(_arg(args, kwargs, 0, "rule" if kind == "flask" else "path"))
                    methods = [attr.upper()] if attr in _VERBS else ["GET"]
                    methods = _methods(kwargs.get("methods"), methods)
                    label = kwargs.get("endpoint") or kwargs.get("name")
                    if rule is not None:
                        view = (("function", def_id), def_id)
                        self.routes.append((owner, kind, rule, methods, view, site, label))
                elif attr in ("task", "shared_task"):
                    if kind == "celery" or self.external(scope, name, "celery."):
                        module = self.r.module_of(def_id)  # celery's default task name:
                        task = _text(kwargs.get("name")) or f"{module}.{def_id.rpartition('.')[2]}"
                        attrs = {"kind": "task", "framework": "celery", "handler": def_id}
                        self.add(f"entry:task:{task}", attrs, def_id, site)
                elif called and self.external(scope, name, "django.") == "receiver":
                    signals, sender = _arg(args, kwargs, 0, "signal"), kwargs.get("sender")
                    self.signal(scope, signals, sender, (("function", def_id), def_id), site)
                elif called and self.external(scope, name, "django.contrib.admin") == "register":
                    where = _name(kwargs.get("site"))  # @admin.register(Model, site=...)
                    key = self.admin_site(scope, where) if where else _DEFAULT_ADMIN_SITE
                    if key is not None:
                        self.register_admin(scope, key, args, def_id, site)
                elif attr in ("command", "group"):
                    command = _text(_arg(args, kwargs, 0, "name"))
                    self.command(def_id, scope, receiver, attr, kind, owner, command, site)

    def command(
        self,
        function: str,
        scope: str,
        receiver: str,
        attr: str,
        kind: str | None,
        owner: Origin | None,
        name: str | None,
        site: Site,
    ) -> None:
        """A click or typer command (or click group) made by a decorator."""
        default = function.rpartition(".")[2].lower().replace("_", "-")
        if kind == "typer":
            self.typer.append((owner, name or default, function, site))
            return
        stem, dash, suffix = default.rpartition("-")
        if dash and suffix in ("command", "cmd", "group", "grp"):
            default = stem  # as click >= 8.2 names commands
        if self.external(scope, f"{receiver}.{attr}", "click."):
            group = None  # click.command / click.group: top level
        elif receiver.endswith(".cli") and self.kind_of(scope, receiver[:-4])[0] == "flask":
            group = None  # @app.cli.command(): the flask command, top level
        else:
            value = self.r.resolve_expr(scope, receiver)
            if value is None or value[0] != "function":
                return
            group = value[1]  # a click group, checked once every group is known
        self.click[function] = [group, name or default, site, attr == "group"]

    def scan_rows(self) -> None:
        """Routes, mounts, receivers and commands made by calls."""
        parsers: dict[tuple[str, str], list[tuple[int, str]]] = {}  # argparse sub-parsers
        for scope, row in self.rows:
            function, line, args, kwargs, assigned = row
            receiver, _, attr = function.rpartition(".")
            if attr not in _ROW_CALLS:
                continue
            kind, owner = self.kind_of(scope, receiver)
            site, flask = self.site(scope, line), kind in ("flask", "blueprint")
            if attr in ("register_blueprint", "include_router") and kind in _FRAMEWORK:
                child = _name(_arg(args, kwargs, 0, "blueprint" if flask else "router"))
                where = self.origin(scope, child) if child else None
                prefix = _text(kwargs.get("url_prefix" if flask else "prefix"))
                if where is not None:
                    self.mounts.setdefault(where, []).append((owner, prefix))
            elif attr in ("add_url_rule", "add_api_route", "add_route") and kind in _FRAMEWORK:
                rule = _text(_arg(args, kwargs, 0, "rule" if flask else "path"))
                view = self.view(
                    scope, _arg(args, kwargs, *((2, "view_func") if flask else (1, "endpoint")))
                )
                methods = _methods(kwargs.get("methods"), [])  # a view class: as it says
                if not methods and (view[0] is None or view[0][0] != "class"):
                    methods = ["GET"]
                name = _arg(args, kwargs, 1, "endpoint") if flask else kwargs.get("name")
                if rule is not None:
                    self.routes.append((owner, kind, rule, methods or None, view, site, name))
            elif attr in ("Route", "Mount", "Starlette"):
                self.starlette(scope, {"c": function, "a": args, "k": kwargs}, "", line)
            elif attr == "connect" and (
                kind == "signal" or self.external(scope, receiver, "django.")
            ):
                handler = self.view(scope, _arg(args, kwargs, 0, "receiver"))
                self.signal(scope, {"n": receiver}, kwargs.get("sender"), handler, site)
            elif attr == "register" and kind == "drf" and owner is not None:
                self.drf.setdefault(owner, []).append((scope, row))
            elif attr == "register" and (key := self.admin_site(scope, receiver)) is not None:
                admin = self.r.resolve_expr(
                    scope, _name(_arg(args, kwargs, 1, "admin_class")) or ""
                )
                if admin is not None and admin[0] == "class":  # else Django's own ModelAdmin
                    models = _arg(args, kwargs, 0, "model_or_iterable")
                    self.register_admin(scope, key, [models], admin[1], site)
            elif attr == "add_parser" and assigned and _text(_arg(args, kwargs, 0, "name")):
                parsers.setdefault((scope, assigned), []).append(
                    (line, args[0] if args else kwargs["name"])
                )
            elif attr == "set_defaults" and (scope, receiver) in parsers and "func" in kwargs:
                # the sub-parser most recently assigned to this variable
                made = [name for at, name in parsers[(scope, receiver)] if at <= line]
                value, written = self.view(scope, kwargs["func"])
                attrs = {
                    "kind": "cli",
                    "framework": "argparse",
                    "handler": _node(value) or written,
                }
                if made:
                    self.add(f"entry:cli:{made[-1]}", attrs, _node(value), site)
            elif attr == "add_command":  # click: group.add_command(cmd, name)
                command = _node(self.view(scope, _arg(args, kwargs, 0, "cmd"))[0])
                group = _node(self.r.resolve_expr(scope, receiver))
                if command in self.click:
                    if group in self.click:
                        self.click[command][0] = group
                    self.click[command][1] = (
                        _text(_arg(args, kwargs, 1, "name")) or self.click[command][1]
                    )
            elif attr == "add_typer" and kind == "typer":
                sub = _name(_arg(args, kwargs, 0, "typer_instance"))
                where = self.origin(scope, sub) if sub else None
                if where is not None:
                    self.typer_parents[where] = (owner, _text(kwargs.get("name")) or "")

    def admin_site(self, scope: str, expr: str) -> str | None:
        """The admin site `expr` names: Django's `admin.site`, or where an `AdminSite()` (or
        a project subclass of it) was made; None when it is not one."""
        value = self.r.resolve_expr(scope, expr)
        if value == ("external", _DEFAULT_ADMIN_SITE) or value == (
            "external",
            "django.contrib.admin.sites.site",
        ):
            return _DEFAULT_ADMIN_SITE
        if value is not None and value[0] in ("external", "instance"):
            bases = [value[1]] if value[0] == "external" else self.external_bases(value[1])
            where = self.origin(scope, expr)
            if where is not None and any(b.endswith(".AdminSite") for b in bases):
                return f"{where[0]}.{where[1]}"
        return None

    def register_admin(
        self, scope: str, key: str, models: list[Any], admin: str, site: Site
    ) -> None:
        """`site.register(Model, Admin)`, `site.register([M1, M2], Admin)`, `@admin.register(M)`."""
        for model in (m for item in models for m in (item if isinstance(item, list) else [item])):
            value = self.r.resolve_expr(scope, _name(model) or "")
            if value is not None and value[0] == "class":
                self.admin.setdefault(key, []).append((value[1], admin, site))

    def admin_routes(self, key: str, base: str) -> None:
        """The pages of every ModelAdmin registered on an admin site, under `base`."""
        labels = {model: label.rpartition(".")[0] for label, model in self.r.model_labels.items()}
        for model, admin, site in self.admin.get(key, []):
            if model not in labels:
                continue
            prefix = f"{labels[model]}/{model.rpartition('.')[2].lower()}/"
            for route, method, suffix in _ADMIN_VIEWS:
                name = f"{prefix.replace('/', '_')}{suffix}"
                handlers = {"ANY": self.handler(admin, method)}
                self.emit("django", handlers, _join(base, prefix + route), route, site, name)

    def signal(self, scope: str, signals: Any, sender: Any, handler: View, site: Site) -> None:
        """`entry:signal:<signal>:<sender>` for a receiver of one signal or a list of them."""
        target = _node(handler[0])
        sender_id = "*"
        if (sender_name := _name(sender)) is not None:
            value = self.r.resolve_expr(scope, sender_name)
            sender_id = value[1] if value is not None and value[0] == "class" else sender_name
        elif isinstance(sender, str):  # "app_label.Model"
            sender_id = self.r.model_labels.get(sender, sender)
        for signal in signals if isinstance(signals, list) else [signals]:
            written = _name(signal)
            if written is None:
                continue
            where = self.origin(scope, written)
            if where is not None and self.objects.get(where) == "signal":
                name = f"{where[0]}.{where[1]}"  # a project signal: by its id
            else:
                name = written.rpartition(".")[2]
            attrs = {"kind": "signal", "framework": "django", "signal": name, "sender": sender_id}
            attrs["handler"] = target or handler[1]
            self.add(f"entry:signal:{name}:{sender_id}", attrs, target, site)

    # -- commands ---------------------------------------------------------------------------

    def commands(self) -> None:
        r = self.r
        for module in sorted(r.modules):
            match = _COMMAND_MODULE.fullmatch(module)
            command = f"{module}.Command"
            if match is None or command not in r.defs:
                continue
            handler = self.handler(command, "handle")
            attrs = {"kind": "cli", "framework": "django", "handler": handler}
            self.add(
                f"entry:cli:{match.group(1)}",
                attrs,
                handler,
                self.site(command, r.defs[command][2]),
            )
        for function, (_, _, site, is_group) in sorted(self.click.items()):
            names = self.click_names(function)
            if names is not None and not is_group:  # a group runs only before a command
                attrs = {"kind": "cli", "framework": "click", "handler": function}
                self.add(f"entry:cli:{' '.join(names)}", attrs, function, site)
        for owner, name, function, site in self.typer:
            names, current = [name], owner
            for _ in range(10):
                if current not in self.typer_parents:
                    break
                current, prefix = self.typer_parents[current]
                names.insert(0, prefix)
            attrs = {"kind": "cli", "framework": "typer", "handler": function}
            self.add(f"entry:cli:{' '.join(n for n in names if n)}", attrs, function, site)

    def click_names(self, function: str) -> list[str] | None:
        """A click command's name with its groups' (the top-level group is the program)."""
        names: list[str] = []
        current: str | None = function
        while current is not None:
            if current not in self.click or len(names) > 10:
                return None  # under something that is not a click group
            group, name, _, is_group = self.click[current]
            if current != function and not is_group:
                return None
            if group is not None or current == function:
                names.insert(0, name)
            current = group
        return names
