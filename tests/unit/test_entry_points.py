"""Entry points: one small tree per framework pattern, then the sample monoliths."""

from functools import cache

import pytest

from analyzers.static.build import build_graph
from analyzers.static.collect import collect_file
from analyzers.static.discovery import DEFAULT_EXCLUDES, discover, find_source_roots
from decomposer.model.graph import DependencyGraph, EdgeKind, NodeKind
from tests.conftest import SAMPLES


def entries(graph: DependencyGraph) -> dict[str, set[str]]:
    """Every entry id -> the ids its `handles` edges point to."""
    return {
        node.id: {e.target for e in graph.out_edges(node.id, EdgeKind.HANDLES)}
        for node in graph.nodes(NodeKind.ENTRY)
    }


def http(graph: DependencyGraph) -> dict[str, set[str]]:
    return {k: v for k, v in entries(graph).items() if k.startswith("entry:http:")}


# -- Flask ----------------------------------------------------------------------------------

FLASK = {
    "web/__init__.py": "",
    "web/orders.py": """\
        from flask import Blueprint
        from flask.views import MethodView

        bp = Blueprint("orders", __name__, url_prefix="/orders")


        @bp.route("/", methods=["GET", "POST"])
        def index(): ...


        @bp.get("/<int:id>")
        def show(id): ...


        @bp.route("/<int:id>/ping")
        def ping(id): ...


        class ItemAPI(MethodView):
            def get(self, id): ...

            def delete(self, id): ...


        bp.add_url_rule("/items/<int:id>", view_func=ItemAPI.as_view("item"))
        """,
    "web/admin.py": """\
        from flask import Blueprint

        admin = Blueprint("admin", __name__, url_prefix="/admin")
        reports = Blueprint("reports", __name__, url_prefix="/reports")


        @reports.get("/sales")
        def sales(): ...


        admin.register_blueprint(reports)
        """,
    "web/app.py": """\
        from flask import Flask

        from web import orders
        from web.admin import admin


        def create_app():
            app = Flask(__name__)
            app.register_blueprint(orders.bp, url_prefix="/v2/orders")
            app.register_blueprint(admin, url_prefix="/backoffice")
            app.add_url_rule("/health", "health", health)
            app.add_url_rule("/hook", view_func=hook, methods=["POST"])
            return app


        def health(): ...


        def hook(): ...
        """,
    "web/loop.py": """\
        from flask import Blueprint, Flask

        lone = Blueprint("lone", __name__, url_prefix="/lone")


        @lone.put("/x")
        def put_x(): ...


        def register(app: Flask):
            for blueprint in (lone,):
                app.register_blueprint(blueprint)
        """,
}


def test_flask_apps_blueprints_prefixes_methods_and_add_url_rule(graph_of) -> None:
    graph = graph_of(FLASK)
    assert http(graph) == {
        # the registration prefix replaces the blueprint's own "/orders"
        "entry:http:GET /v2/orders/": {"web.orders.index"},
        "entry:http:POST /v2/orders/": {"web.orders.index"},
        "entry:http:GET /v2/orders/<int:id>": {"web.orders.show"},
        "entry:http:GET /v2/orders/<int:id>/ping": {"web.orders.ping"},  # default GET
        # a MethodView: one entry per method it defines
        "entry:http:GET /v2/orders/items/<int:id>": {"web.orders.ItemAPI.get"},
        "entry:http:DELETE /v2/orders/items/<int:id>": {"web.orders.ItemAPI.delete"},
        # nested blueprint: the parent's registration prefix, then the child's own
        "entry:http:GET /backoffice/reports/sales": {"web.admin.sales"},
        "entry:http:GET /health": {"web.app.health"},
        "entry:http:POST /hook": {"web.app.hook"},
        # registered through a loop variable: keeps its own prefix
        "entry:http:PUT /lone/x": {"web.loop.put_x"},
    }
    node = graph.node("entry:http:GET /v2/orders/<int:id>")
    assert node.kind == NodeKind.ENTRY
    assert (node.file, node.line) == ("web/orders.py", 12)
    assert node.attrs == {
        "kind": "http",
        "framework": "flask",
        "methods": ["GET"],
        "path": "/v2/orders/<int:id>",
        "route": "/<int:id>",
        "handler": "web.orders.show",
    }
    assert graph.node("entry:http:GET /health").attrs["name"] == "health"
    edge = graph.edge("entry:http:GET /health", "web.app.health", EdgeKind.HANDLES)
    assert edge is not None and edge.static_count == 1
    assert [str(s) for s in edge.sites] == ["web/app.py:11"]


# -- FastAPI and Starlette ------------------------------------------------------------------


def test_fastapi_routers_include_prefixes_api_route_and_add_api_route(graph_of) -> None:
    graph = graph_of(
        {
            "api/__init__.py": "",
            "api/items.py": """\
                from fastapi import APIRouter

                router = APIRouter(prefix="/items")


                @router.get("/{item_id}", name="item")
                def read_item(item_id: int): ...


                @router.post("")
                def create_item(): ...
                """,
            "api/main.py": """\
                from fastapi import APIRouter, FastAPI

                from api import items

                app = FastAPI()
                v1 = APIRouter(prefix="/v1")
                v1.include_router(items.router, prefix="/shop")
                app.include_router(v1)


                @app.get("/health")
                def health(): ...


                @app.api_route("/any", methods=["GET", "POST"])
                def any_route(): ...


                def legacy(): ...


                app.add_api_route("/legacy", legacy, methods=["DELETE"])
                """,
        }
    )
    assert http(graph) == {
        # include prefix, then the router's own prefix, then the path
        "entry:http:GET /v1/shop/items/{item_id}": {"api.items.read_item"},
        "entry:http:POST /v1/shop/items": {"api.items.create_item"},
        "entry:http:GET /health": {"api.main.health"},
        "entry:http:GET /any": {"api.main.any_route"},
        "entry:http:POST /any": {"api.main.any_route"},
        "entry:http:DELETE /legacy": {"api.main.legacy"},
    }
    attrs = graph.node("entry:http:GET /v1/shop/items/{item_id}").attrs
    assert (attrs["framework"], attrs["route"], attrs["name"]) == ("fastapi", "/{item_id}", "item")


def test_starlette_routes_mounts_and_endpoints(graph_of) -> None:
    graph = graph_of(
        {
            "star.py": """\
                from starlette.applications import Starlette
                from starlette.endpoints import HTTPEndpoint
                from starlette.routing import Mount, Route


                async def home(request): ...


                async def users(request): ...


                class UserEndpoint(HTTPEndpoint):
                    async def get(self, request): ...

                    async def put(self, request): ...


                app = Starlette(
                    routes=[
                        Route("/", home),
                        Mount(
                            "/api",
                            routes=[
                                Route("/users", users, methods=["GET", "POST"]),
                                Mount("/v1", routes=[Route("/users/{id}", UserEndpoint)]),
                            ],
                        ),
                    ]
                )
                """,
        }
    )
    assert http(graph) == {
        "entry:http:GET /": {"star.home"},
        "entry:http:GET /api/users": {"star.users"},
        "entry:http:POST /api/users": {"star.users"},
        "entry:http:GET /api/v1/users/{id}": {"star.UserEndpoint.get"},
        "entry:http:PUT /api/v1/users/{id}": {"star.UserEndpoint.put"},
    }
    assert graph.node("entry:http:GET /").attrs["framework"] == "starlette"


# -- Django ---------------------------------------------------------------------------------

DJANGO = {
    "site/__init__.py": "",
    "site/settings.py": 'ROOT_URLCONF = "site.urls"\n',
    "site/urls.py": """\
        from django.urls import include, path, re_path

        from shop import urls as shop_urls
        from shop import views

        urlpatterns = [
            path("shop/", include("shop.urls")),
            path("again/", include(shop_urls)),
            re_path(r"^legacy/(?P<year>[0-9]{4})/$", views.archive, name="archive"),
            path(
                "inline/",
                include([path("a/", views.home), path("b/", include(([path("c/", views.home)], "ns")))]),
            ),
        ]
        urlpatterns += [path("extra/", views.home)]
        """,
    "shop/__init__.py": "",
    "shop/urls.py": """\
        from django.urls import path

        from shop import views

        urlpatterns = [
            path("orders/<int:pk>/", views.OrderView.as_view(), name="order"),
            path("list/", views.OrderList.as_view()),
            path("pay/", views.pay),
            path("plain/", views.Plain.as_view()),
        ]
        """,
    "shop/orphan_urls.py": """\
        from django.urls import path

        from shop.views import home

        urlpatterns = [path("orphan/", home)]
        """,
    "shop/views.py": """\
        from django.views import View
        from django.views.decorators.http import require_http_methods, require_POST
        from django.views.generic import ListView
        from rest_framework.decorators import api_view


        class Base(View):
            def get(self, request): ...


        class OrderView(Base):
            def post(self, request): ...


        class OrderList(ListView):
            pass


        class Plain(View):
            pass


        @require_POST
        def pay(request): ...


        @require_http_methods(["GET", "PUT"])
        def archive(request, year): ...


        def home(request): ...


        @api_view(["GET", "DELETE"])
        def api_home(request): ...
        """,
}


def test_django_include_chain_prefixes_regex_views_and_methods(graph_of) -> None:
    routes = http(graph_of(DJANGO))
    for prefix in ("/shop/", "/again/"):  # included twice: by dotted name and by module
        # class-based: one entry per method the class or its project bases define, handled
        # by the class's own method, else (inherited from Base) by the class itself
        assert routes[f"entry:http:GET {prefix}orders/<int:pk>/"] == {"shop.views.OrderView"}
        assert routes[f"entry:http:POST {prefix}orders/<int:pk>/"] == {"shop.views.OrderView.post"}
        # a generic view's methods, served by the class itself
        assert routes[f"entry:http:GET {prefix}list/"] == {"shop.views.OrderList"}
        assert routes[f"entry:http:ANY {prefix}plain/"] == {"shop.views.Plain"}
        assert routes[f"entry:http:POST {prefix}pay/"] == {"shop.views.pay"}  # @require_POST
    assert routes["entry:http:GET /legacy/(?P<year>[0-9]{4})/"] == {"shop.views.archive"}
    assert routes["entry:http:PUT /legacy/(?P<year>[0-9]{4})/"] == {"shop.views.archive"}
    assert routes["entry:http:ANY /inline/a/"] == {"shop.views.home"}  # inline include list
    assert routes["entry:http:ANY /inline/b/c/"] == {"shop.views.home"}  # (patterns, app_name)
    assert routes["entry:http:ANY /extra/"] == {"shop.views.home"}  # urlpatterns += [...]
    assert routes["entry:http:ANY /orphan/"] == {"shop.views.home"}  # included by nobody
    assert "entry:http:GET /orders/<int:pk>/" not in routes  # shop.urls is included: no root
    assert len(routes) == 2 * 5 + 6


def test_django_entry_attrs(graph_of) -> None:
    graph = graph_of(DJANGO)
    node = graph.node("entry:http:GET /legacy/(?P<year>[0-9]{4})/")
    assert (node.file, node.line) == ("site/urls.py", 9)
    assert node.attrs == {
        "kind": "http",
        "framework": "django",
        "methods": ["GET", "PUT"],
        "path": "/legacy/(?P<year>[0-9]{4})/",
        "route": r"^legacy/(?P<year>[0-9]{4})/$",
        "handler": "shop.views.archive",
        "name": "archive",
    }


def test_django_views_given_as_instances_registries_and_wrappers(graph_of) -> None:
    graph = graph_of(
        {
            "app/__init__.py": "",
            "app/views.py": """\
                import functools

                from django.views import View
                from django.views.decorators.cache import never_cache
                from django.views.generic.list import BaseListView


                class Callable:
                    def __call__(self, request): ...


                class Inherits(Callable):
                    pass


                class ServeView(View):
                    def get(self, request): ...


                serve = ServeView.as_view()
                inherits = Inherits()


                class Registry:
                    def as_view(self, name):
                        def find(kwargs): ...

                        def router(request, **kwargs):
                            return find(kwargs)(request)

                        return router

                    def plain(self): ...


                class PlainRegistry:
                    def as_view(self, name):
                        return self.plain


                registry = Registry()
                plain_registry = PlainRegistry()


                def home(request): ...


                def checked(view_func):
                    @functools.wraps(view_func)
                    def wrapper(request):
                        return view_func(request)

                    return wrapper


                def make_view(template):
                    def view(request): ...

                    return view


                class Listing(BaseListView):
                    pass
                """,
            "app/urls.py": """\
                from django.contrib.auth.decorators import login_required
                from django.urls import path
                from django.views.decorators.cache import never_cache

                from app import views
                from app.views import plain_registry, registry, serve

                urlpatterns = [
                    path("call/", views.Callable()),
                    path("inherits/", views.inherits),
                    path("serve/", serve),
                    path("pages/", registry.as_view("index")),
                    path("plain/", plain_registry.as_view("index")),
                    path("cached/", never_cache(views.home)),
                    path("login/", login_required(views.ServeView.as_view())),
                    path("checked/", views.checked(views.home)),
                    path("made/", views.make_view("x.html")),
                    path("listing/", views.Listing.as_view()),
                ]
                """,
        }
    )
    assert http(graph) == {
        # a callable instance: its class's own __call__, else the class
        "entry:http:ANY /call/": {"app.views.Callable.__call__"},
        "entry:http:ANY /inherits/": {"app.views.Inherits"},
        # a name bound to `X.as_view()`, here or in another module
        "entry:http:GET /serve/": {"app.views.ServeView.get"},
        # `as_view` of a project object: the closure it returns, else the method
        "entry:http:ANY /pages/": {"app.views.Registry.as_view.router"},
        "entry:http:ANY /plain/": {"app.views.PlainRegistry.as_view"},
        # decorators applied in the urls module: the view they wrap
        "entry:http:ANY /cached/": {"app.views.home"},
        "entry:http:GET /login/": {"app.views.ServeView.get"},
        "entry:http:ANY /checked/": {"app.views.home"},  # a project decorator (functools.wraps)
        "entry:http:ANY /made/": {"app.views.make_view.view"},  # a view factory: its closure
        "entry:http:GET /listing/": {"app.views.Listing"},  # Django's BaseListView serves GET
    }


def test_django_route_text_translated_or_a_constant(graph_of) -> None:
    graph = graph_of(
        {
            "urls.py": """\
                from django.urls import re_path
                from django.utils.translation import gettext_lazy as _

                from views import home

                PATTERN = r"^pages/(?P<slug>[-\\w]+)/$"

                urlpatterns = [
                    re_path(_(r"^account/$"), home),
                    re_path(PATTERN, home),
                ]
                """,
            "views.py": "def home(request): ...\n",
        }
    )
    assert http(graph) == {
        "entry:http:ANY /account/": {"views.home"},
        "entry:http:ANY /pages/(?P<slug>[-\\w]+)/": {"views.home"},
    }
    assert graph.node("entry:http:ANY /account/").attrs["route"] == "^account/$"


def test_django_same_path_in_several_root_urlconfs(graph_of) -> None:
    graph = graph_of(
        {
            "site/__init__.py": "",
            "site/settings.py": 'ROOT_URLCONF = "site.urls"\n',
            "site/urls.py": """\
                from django.conf.urls.i18n import i18n_patterns
                from django.urls import include, re_path

                from site import views

                urlpatterns = [re_path(r"^$", views.home)]
                urlpatterns += i18n_patterns(
                    re_path(r"^example/$", views.example),
                    re_path(r"^", include("site.common_urls")),
                )
                """,
            "site/urls_dev.py": """\
                from django.urls import include, path

                from site import views

                urlpatterns = [
                    path("", views.other),
                    path("example/", views.example),
                    path("", include("site.common_urls")),
                ]
                """,
            "site/app_urls.py": """\
                from django.urls import path

                from site import views

                urlpatterns = [path("", views.app_home)]
                """,
            "site/common_urls.py": """\
                from django.urls import path

                from site import views

                urlpatterns = [path("common/", views.common)]
                """,
            "site/views.py": """\
                def home(request): ...
                def other(request): ...
                def example(request): ...
                def app_home(request): ...
                def common(request): ...
                """,
        }
    )
    assert http(graph) == {
        # ROOT_URLCONF's routes keep the plain ids (i18n_patterns: without the language)
        "entry:http:ANY /": {"site.views.home"},
        "entry:http:ANY /example/": {"site.views.example"},
        # the other urls modules nobody includes declare the same paths: one node each
        "entry:http:ANY / (site.app_urls)": {"site.views.app_home"},
        "entry:http:ANY / (site.urls_dev)": {"site.views.other"},
        "entry:http:ANY /example/ (site.urls_dev)": {"site.views.example"},
        # one declaration reached from two roots under the same path: one node
        "entry:http:ANY /common/": {"site.views.common"},
    }
    node = graph.node("entry:http:ANY / (site.app_urls)")
    assert (node.file, node.attrs["path"], node.attrs["route"]) == ("site/app_urls.py", "/", "")


def test_django_admin_pages_of_registered_model_admins(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/models.py": """\
                from django.db import models


                class Order(models.Model):
                    pass


                class Note(models.Model):
                    pass


                class Tag(models.Model):
                    pass


                class Coupon(models.Model):
                    pass
                """,
            "shop/admin.py": """\
                from django.contrib import admin

                from shop.models import Coupon, Note, Order, Tag


                class BaseAdmin(admin.ModelAdmin):
                    def delete_view(self, request, object_id, extra_context=None): ...


                @admin.register(Order)
                class OrderAdmin(BaseAdmin):
                    def changelist_view(self, request, extra_context=None): ...


                class NoteAdmin(admin.ModelAdmin):
                    pass


                class BackOffice(admin.AdminSite):
                    pass


                office = BackOffice(name="office")
                admin.site.register([Note, Tag], NoteAdmin)
                admin.site.register(Coupon)  # Django's own ModelAdmin: no project code
                office.register(Coupon, NoteAdmin)
                """,
            "urls.py": """\
                from django.contrib import admin
                from django.urls import path

                from shop.admin import office

                urlpatterns = [path("admin/", admin.site.urls), path("office/", office.urls)]
                """,
        }
    )
    routes = http(graph)
    order = "shop.admin.OrderAdmin"
    assert {k: v for k, v in routes.items() if "/order/" in k} == {
        "entry:http:ANY /admin/shop/order/": {f"{order}.changelist_view"},  # its own method
        "entry:http:ANY /admin/shop/order/add/": {order},
        "entry:http:ANY /admin/shop/order/<path:object_id>/history/": {order},
        "entry:http:ANY /admin/shop/order/<path:object_id>/delete/": {order},  # BaseAdmin's
        "entry:http:ANY /admin/shop/order/<path:object_id>/change/": {order},
    }
    assert routes["entry:http:ANY /admin/shop/note/add/"] == {"shop.admin.NoteAdmin"}
    assert routes["entry:http:ANY /admin/shop/tag/add/"] == {"shop.admin.NoteAdmin"}
    assert routes["entry:http:ANY /office/shop/coupon/add/"] == {"shop.admin.NoteAdmin"}
    assert not any(k.startswith("entry:http:ANY /admin/shop/coupon/") for k in routes)
    assert len(routes) == 4 * 5
    node = graph.node("entry:http:ANY /admin/shop/note/<path:object_id>/change/")
    assert (node.file, node.line) == ("shop/admin.py", 24)  # where the model is registered
    assert (node.attrs["route"], node.attrs["name"]) == (
        "<path:object_id>/change/",
        "shop_note_change",
    )


def test_drf_api_view_methods(graph_of) -> None:
    files = dict(DJANGO)
    files["api_urls.py"] = """\
        from django.urls import path

        from shop.views import api_home

        urlpatterns = [path("api/", api_home)]
        """
    graph = graph_of(files)
    assert http(graph)["entry:http:DELETE /api/"] == {"shop.views.api_home"}
    assert graph.node("entry:http:GET /api/").attrs["framework"] == "drf"


def test_drf_router_viewsets_and_actions(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/urls.py": """\
                from django.urls import include, path
                from rest_framework import routers

                from shop import api

                router = routers.DefaultRouter()
                router.register(r"orders", api.OrderViewSet, basename="order")
                router.register(r"notes", api.NoteViewSet)
                router.register(r"old-notes", api.OldNoteViewSet)

                urlpatterns = [path("api/", include(router.urls))]
                """,
            "shop/api.py": """\
                from rest_framework import viewsets
                from rest_framework.decorators import action


                class OrderViewSet(viewsets.ModelViewSet):
                    lookup_field = "number"

                    def create(self, request): ...

                    @action(detail=True, methods=["post"], url_path="cancel-order")
                    def cancel(self, request, number=None): ...

                    @action(detail=False)
                    def recent(self, request): ...


                class NoteViewSet(viewsets.GenericViewSet):
                    def list(self, request): ...

                    def destroy(self, request, pk=None): ...

                    @action(detail=False)
                    def count(self, request): ...


                class OldNoteViewSet(NoteViewSet):
                    def list(self, request): ...
                """,
        }
    )
    view = "shop.api.OrderViewSet"
    assert http(graph) == {
        # ModelViewSet brings every standard action; `create` is the project's own
        "entry:http:GET /api/orders/": {view},
        "entry:http:POST /api/orders/": {f"{view}.create"},
        "entry:http:GET /api/orders/<number>/": {view},
        "entry:http:PUT /api/orders/<number>/": {view},
        "entry:http:PATCH /api/orders/<number>/": {view},
        "entry:http:DELETE /api/orders/<number>/": {view},
        "entry:http:POST /api/orders/<number>/cancel-order/": {f"{view}.cancel"},
        "entry:http:GET /api/orders/recent/": {f"{view}.recent"},
        # a GenericViewSet serves only the actions it defines
        "entry:http:GET /api/notes/": {"shop.api.NoteViewSet.list"},
        "entry:http:DELETE /api/notes/<pk>/": {"shop.api.NoteViewSet.destroy"},
        "entry:http:GET /api/notes/count/": {"shop.api.NoteViewSet.count"},
        # a subclass: its own `list`; what it inherits is served through the class itself
        "entry:http:GET /api/old-notes/": {"shop.api.OldNoteViewSet.list"},
        "entry:http:DELETE /api/old-notes/<pk>/": {"shop.api.OldNoteViewSet"},
        "entry:http:GET /api/old-notes/count/": {"shop.api.OldNoteViewSet"},
    }
    attrs = graph.node("entry:http:GET /api/orders/<number>/").attrs
    assert (attrs["framework"], attrs["route"], attrs["name"]) == ("drf", "orders", "order-detail")
    assert attrs["methods"] == ["DELETE", "GET", "PATCH", "PUT"]  # all served by the class


# -- asynchronous entry points --------------------------------------------------------------


def test_celery_tasks_named_as_celery_names_them(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/celery_app.py": 'from celery import Celery\n\napp = Celery("shop")\n',
            "shop/tasks.py": """\
                from celery import shared_task

                from shop.celery_app import app
                from shop.queue import task


                @shared_task
                def send_mail(order_id): ...


                @app.task(name="shop.charge", bind=True)
                def charge(self): ...


                @app.task
                def plain(): ...


                @task("home_grown")
                def not_celery(): ...
                """,
            "shop/queue.py": "def task(name):\n    return lambda f: f\n",
        }
    )
    assert entries(graph) == {
        "entry:task:shop.tasks.send_mail": {"shop.tasks.send_mail"},
        "entry:task:shop.charge": {"shop.tasks.charge"},
        "entry:task:shop.tasks.plain": {"shop.tasks.plain"},
    }
    attrs = graph.node("entry:task:shop.charge").attrs
    assert attrs == {"kind": "task", "framework": "celery", "handler": "shop.tasks.charge"}


def test_django_signal_receivers_by_decorator_and_connect(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/models.py": "class Order:\n    pass\n",
            "shop/signals.py": """\
                from django.db.models.signals import post_delete, post_save
                from django.dispatch import Signal, receiver

                from shop.models import Order

                order_paid = Signal()


                @receiver([post_save, post_delete], sender=Order)
                def on_change(sender, **kwargs): ...


                @receiver(post_save)
                def on_any_save(sender, **kwargs): ...


                def on_paid(sender, **kwargs): ...


                order_paid.connect(on_paid)
                post_save.connect(on_paid, sender=Order)
                """,
        }
    )
    assert entries(graph) == {
        "entry:signal:post_save:shop.models.Order": {
            "shop.signals.on_change",
            "shop.signals.on_paid",
        },
        "entry:signal:post_delete:shop.models.Order": {"shop.signals.on_change"},
        "entry:signal:post_save:*": {"shop.signals.on_any_save"},
        "entry:signal:shop.signals.order_paid:*": {"shop.signals.on_paid"},  # a project signal
    }
    attrs = graph.node("entry:signal:post_delete:shop.models.Order").attrs
    assert attrs == {
        "kind": "signal",
        "framework": "django",
        "signal": "post_delete",
        "sender": "shop.models.Order",
        "handler": "shop.signals.on_change",
    }


# -- commands -------------------------------------------------------------------------------


def test_django_management_commands(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/management/__init__.py": "",
            "shop/management/commands/__init__.py": "",
            "shop/management/commands/close_orders.py": """\
                from django.core.management.base import BaseCommand


                class Command(BaseCommand):
                    def handle(self, *args, **options): ...
                """,
            "shop/management/commands/inherited.py": """\
                from shop.management.commands.close_orders import Command as Base


                class Command(Base):
                    help = "handle comes from the project base class"
                """,
            "shop/management/commands/helpers.py": "def not_a_command(): ...\n",
        }
    )
    handle = "shop.management.commands.close_orders.Command.handle"
    inherited = "shop.management.commands.inherited.Command"  # its handle is its base's code
    assert entries(graph) == {
        "entry:cli:close_orders": {handle},
        "entry:cli:inherited": {inherited},
    }
    assert graph.node("entry:cli:close_orders").attrs["framework"] == "django"


def test_click_groups_commands_and_names(graph_of) -> None:
    graph = graph_of(
        {
            "cli.py": """\
                import click


                @click.group()
                def cli(): ...


                @cli.group()
                def db(): ...


                @db.command()
                def migrate_command(): ...


                @cli.command("seed")
                def seed_data(): ...


                @click.command()
                def export_all(): ...


                cli.add_command(export_all, name="export")


                @click.command
                def bare_cmd(): ...


                def not_a_group(): ...


                @not_a_group.command()
                def ignored(): ...
                """,
            "web.py": """\
                from flask import Flask

                app = Flask(__name__)


                @app.cli.command("rebuild-index")
                def rebuild(): ...
                """,
        }
    )
    assert entries(graph) == {
        # the top-level group is the program; nested groups prefix their commands
        "entry:cli:db migrate": {"cli.migrate_command"},  # `_command` dropped, as click does
        "entry:cli:seed": {"cli.seed_data"},
        "entry:cli:export": {"cli.export_all"},  # add_command(name=...) renames
        "entry:cli:bare": {"cli.bare_cmd"},
        "entry:cli:rebuild-index": {"web.rebuild"},  # flask's own command group
    }


def test_typer_commands_and_sub_apps(graph_of) -> None:
    graph = graph_of(
        {
            "tool.py": """\
                import typer

                app = typer.Typer()
                users = typer.Typer()
                app.add_typer(users, name="users")


                @users.command()
                def add_user(): ...


                @app.command("hello")
                def say_hello(): ...


                @app.command()
                def sync_all_command(): ...
                """,
        }
    )
    assert entries(graph) == {
        "entry:cli:users add-user": {"tool.add_user"},
        "entry:cli:hello": {"tool.say_hello"},
        "entry:cli:sync-all-command": {"tool.sync_all_command"},  # typer keeps suffixes
    }
    assert graph.node("entry:cli:hello").attrs["framework"] == "typer"


def test_argparse_sub_parsers_and_an_unresolvable_handler(graph_of) -> None:
    graph = graph_of(
        {
            "tool.py": """\
                import argparse


                def run(args): ...


                def stop(args): ...


                def main():
                    parser = argparse.ArgumentParser()
                    sub = parser.add_subparsers()
                    p = sub.add_parser("run", help="run it")
                    p.add_argument("--fast")
                    p.set_defaults(func=run)
                    p = sub.add_parser("stop")
                    p.set_defaults(func=stop)
                    p = sub.add_parser("missing")
                    p.set_defaults(func=plugins.handler)
                """,
        }
    )
    assert entries(graph) == {
        "entry:cli:run": {"tool.run"},
        "entry:cli:stop": {"tool.stop"},
        "entry:cli:missing": set(),  # still an entry, without a `handles` edge
    }
    missing = graph.node("entry:cli:missing")
    assert missing.attrs == {"kind": "cli", "framework": "argparse", "handler": "plugins.handler"}
    assert (missing.file, missing.line) == ("tool.py", 19)


def test_unresolvable_http_handlers_keep_their_entry(graph_of) -> None:
    graph = graph_of(
        {
            "urls.py": """\
                from django.contrib import admin
                from django.contrib.auth import views as auth_views
                from django.urls import path

                from vendor.views import status

                urlpatterns = [
                    path("status/", status),
                    path("admin/", admin.site.urls),
                    path("login/", auth_views.LoginView.as_view()),
                ]
                """,
        }
    )
    # admin.site.urls with no project ModelAdmin registered: no entry at all
    assert entries(graph) == {
        "entry:http:ANY /status/": set(),
        # a view class of Django's own: the methods it serves, no project handler
        "entry:http:GET /login/": set(),
        "entry:http:POST /login/": set(),
    }
    assert graph.node("entry:http:ANY /status/").attrs["handler"] == "status"
    assert graph.node("entry:http:GET /login/").attrs["handler"] == "auth_views.LoginView"


def test_no_entries_in_plain_code(graph_of) -> None:
    graph = graph_of(
        {
            "lib.py": """\
                import sqlite3


                class Router:
                    def get(self, path): ...

                    def register(self, prefix, view): ...


                router = Router()
                router.register("x", object)
                conn = sqlite3.connect("db")


                @router.get("/x")
                def x(): ...
                """,
        }
    )
    assert entries(graph) == {}


# -- the sample monoliths -------------------------------------------------------------------


@cache
def sample_graph(name: str) -> DependencyGraph:
    root = SAMPLES / name
    found = discover(root, find_source_roots(root), DEFAULT_EXCLUDES)
    facts = {s.rel: collect_file(s.path.read_bytes(), s.module, s.is_package) for s in found.files}
    graph = DependencyGraph()
    build_graph(graph, facts, found.excluded)
    return graph


def test_shop_flask_routes_and_click_commands() -> None:
    found = entries(sample_graph("shop"))
    assert found["entry:http:POST /orders"] == {"shop.api.orders.place"}
    assert found["entry:http:POST /orders/<number>/cancel"] == {"shop.api.orders.cancel"}
    assert found["entry:http:GET /admin/stock/low"] == {"shop.api.admin.low_stock"}
    assert found["entry:http:POST /customers"] == {"shop.api.customers.register"}
    # the catalog blueprint has no prefix
    assert found["entry:http:GET /products/<sku>"] == {"shop.api.catalog.show_product"}
    assert found["entry:http:GET /health"] == {"shop.app.health"}  # add_url_rule in create_app
    assert found["entry:cli:init-db"] == {"shop.cli.init_db_command"}
    assert found["entry:cli:sales-report"] == {"shop.cli.sales_report_command"}
    kinds = [entry.split(":")[1] for entry in found]
    # 50 blueprint routes + /health; the 14 commands of shop.cli.COMMANDS
    assert (kinds.count("http"), kinds.count("cli"), len(found)) == (51, 14, 65)
    assert all(found.values())  # every handler resolved


def test_clinic_django_urls_signals_and_management_commands() -> None:
    found = entries(sample_graph("clinic"))
    assert found["entry:http:GET /api/v1/appointments/<int:pk>/"] == {
        "core.api.AppointmentResource.get"
    }
    assert found["entry:http:PATCH /api/v1/appointments/<int:pk>/"] == {
        "core.api.AppointmentResource.patch"
    }
    assert found["entry:http:POST /api/v1/appointments/"] == {"core.api.book"}  # @require_POST
    assert found["entry:http:GET /patients/"] == {"core.views.PatientListView"}  # a ListView
    assert found["entry:http:POST /patients/new/"] == {"core.views.PatientCreateView.post"}
    assert found["entry:http:ANY /healthz"] == {"clinic.urls.healthcheck"}
    assert found["entry:http:ANY /"] == {"core.views.home"}
    assert "entry:http:ANY /admin/" not in found  # the admin site's own index is Django's
    assert found["entry:http:ANY /admin/core/patient/<path:object_id>/change/"] == {
        "core.admin.PatientAdmin"  # a registered ModelAdmin: its pages
    }
    assert found["entry:signal:post_save:core.models.Appointment"] == {
        "core.signals.bill_no_show",
        "core.signals.remember_appointment_status",
    }
    assert found["entry:cli:stock_check"] == {
        "core.management.commands.stock_check.Command.handle"
    }
    kinds = [entry.split(":")[1] for entry in found]
    # 48 routes in the urls modules, 5 pages for each of the 13 registered ModelAdmins
    assert (kinds.count("http"), kinds.count("signal"), kinds.count("cli")) == (48 + 65, 7, 6)
    assert all(found.values())


def test_travel_argparse_commands() -> None:
    found = entries(sample_graph("travel"))
    assert found["entry:cli:book-trip"] == {"travel.cli.cmd_book_trip"}
    assert found["entry:cli:run-jobs"] == {"travel.cli.cmd_run_jobs"}
    assert len(found) == 19 and all(k.startswith("entry:cli:") for k in found)
    assert all(found.values())


@pytest.mark.parametrize("sample", ["shop", "clinic", "travel"])
def test_sample_entries_are_placed_where_declared(sample: str) -> None:
    graph = sample_graph(sample)
    for node in graph.nodes(NodeKind.ENTRY):
        assert node.file is not None and (SAMPLES / sample / node.file).is_file()
        assert node.line is not None and node.line >= 1
