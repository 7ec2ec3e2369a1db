"""HTTP use cases: one ``http`` segment per request, labelled ``METHOD route-pattern``.

Flask and Django are segmented without code changes: their request entry points are
patched when the application imports them, and the label is the route the framework
declares (``POST /orders/<int:order_id>``, ``GET /api/v1/patients/<int:pk>/``), found by
running the framework's own URL matching once more before the request starts, so the
segment also holds the middleware, before-request hooks and teardown. A request no route
matches is ``METHOD <unmatched>``, never the raw URL with its ids.

Other WSGI and ASGI applications are wrapped by hand with :func:`wsgi_middleware` /
:func:`asgi_middleware`. When several layers see one request (a wrapped Flask app), the
outermost one makes the segment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar, Token
from types import ModuleType
from typing import Any

from . import patching, recorder

UNMATCHED = "<unmatched>"

_in_request: ContextVar[bool] = ContextVar("decomposer_in_http_segment", default=False)

Opened = tuple[object, Token[bool]] | None


def begin_request(method: str, route: Callable[[], str]) -> Opened:
    """Open the request's segment; ``route()`` is only called when one is opened."""
    if _in_request.get() or not recorder.active():
        return None
    try:
        label = f"{method.upper()} {route()}"
    except Exception:  # noqa: BLE001 - a label must never break the application's request
        label = f"{method.upper()} {UNMATCHED}"
    return recorder.begin_segment("http", label), _in_request.set(True)


def end_request(opened: Opened) -> None:
    if opened is not None:
        segment, flag = opened
        _in_request.reset(flag)
        recorder.end_segment(segment)


# ---------------------------------------------------------------------- Flask


def flask_route(app: Any, environ: dict[str, Any]) -> str:
    """The rule Flask will match for this request (``/orders/<int:order_id>``)."""
    adapter = app.create_url_adapter(app.request_class(environ))
    if adapter is None:
        return UNMATCHED
    try:
        rule, _ = adapter.match(return_rule=True)
    except Exception:  # noqa: BLE001 - NotFound, MethodNotAllowed, RequestRedirect…
        return UNMATCHED
    return str(rule.rule)


def patch_flask(module: ModuleType) -> None:
    """Segment every request that reaches ``Flask.wsgi_app`` (servers and test clients)."""
    flask_class = module.Flask
    wsgi_app = flask_class.wsgi_app

    def traced_wsgi_app(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        opened = begin_request(
            environ.get("REQUEST_METHOD", "GET"), lambda: flask_route(self, environ)
        )
        try:
            return wsgi_app(self, environ, start_response)
        finally:
            end_request(opened)

    patching.replace_attribute(flask_class, "wsgi_app", traced_wsgi_app)


# ---------------------------------------------------------------------- Django


def django_route(request: Any) -> str:
    """The URL pattern Django will match, include() prefixes joined
    (``/api/v1/patients/<int:pk>/``)."""
    # Django is running: this request came through it.
    from django.urls import resolve  # type: ignore[import-untyped]

    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Exception:  # noqa: BLE001 - Resolver404, or a urlconf that fails
        return UNMATCHED
    return "/" + match.route if match.route is not None else UNMATCHED


def patch_django(module: ModuleType) -> None:
    """Segment every request that reaches ``BaseHandler.get_response`` (WSGI, the test
    client) or ``get_response_async`` (ASGI)."""
    handler = module.BaseHandler
    get_response = handler.get_response
    get_response_async = handler.get_response_async

    def traced_get_response(self: Any, request: Any) -> Any:
        opened = begin_request(request.method, lambda: django_route(request))
        try:
            return get_response(self, request)
        finally:
            end_request(opened)

    async def traced_get_response_async(self: Any, request: Any) -> Any:
        opened = begin_request(request.method, lambda: django_route(request))
        try:
            return await get_response_async(self, request)
        finally:
            end_request(opened)

    patching.replace_attribute(handler, "get_response", traced_get_response)
    patching.replace_attribute(handler, "get_response_async", traced_get_response_async)


# ---------------------------------------------------------------------- plain WSGI / ASGI

_ID_SEGMENT = re.compile(
    r"\d+|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,}"
)


def path_pattern(path: str) -> str:
    """A path with its id-like segments (numbers, UUIDs, long hex) as ``<id>``."""
    return "/".join("<id>" if _ID_SEGMENT.fullmatch(s) else s for s in path.split("/"))


def wsgi_middleware(app: Any, route: Callable[[dict[str, Any]], str] | None = None) -> Any:
    """Wrap a WSGI application so each request is an ``http`` segment.

    ``route(environ)`` gives the route pattern; by default the path with id-like segments
    replaced (:func:`path_pattern`).
    """
    live = patching.tracing_copy("web", __name__)
    if live is not None:
        return live.wsgi_middleware(app, route)

    def pattern(environ: dict[str, Any]) -> str:
        if route is not None:
            return route(environ)
        return path_pattern(environ.get("PATH_INFO", "") or "/")

    def traced_app(environ: dict[str, Any], start_response: Any) -> Any:
        opened = begin_request(environ.get("REQUEST_METHOD", "GET"), lambda: pattern(environ))
        try:
            return app(environ, start_response)
        finally:
            end_request(opened)

    return traced_app


def asgi_middleware(app: Any, route: Callable[[dict[str, Any]], str] | None = None) -> Any:
    """Wrap an ASGI application so each HTTP request is an ``http`` segment (websocket and
    lifespan events pass through). ``route(scope)`` as for :func:`wsgi_middleware`."""
    live = patching.tracing_copy("web", __name__)
    if live is not None:
        return live.asgi_middleware(app, route)

    def pattern(scope: dict[str, Any]) -> str:
        return route(scope) if route is not None else path_pattern(scope.get("path") or "/")

    async def traced_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        opened = begin_request(scope.get("method", "GET"), lambda: pattern(scope))
        try:
            await app(scope, receive, send)
        finally:
            end_request(opened)

    return traced_app
