"""One test per rule of the static analyzer, each on a small tree written to a temp dir."""

import os

import libcst as cst

from analyzers.static import collect
from analyzers.static.discovery import (
    DEFAULT_EXCLUDES,
    SourceFile,
    discover,
    find_source_roots,
)
from analyzers.static.runner import collect_all
from decomposer.cache import DiskCache
from decomposer.files import dumps
from decomposer.model.graph import EdgeKind, NodeKind
from decomposer.model.graph_json import graph_to_dict

CALLS, IMPORTS, REFS = EdgeKind.CALLS, EdgeKind.IMPORTS, EdgeKind.REFERENCES

# -- discovery -----------------------------------------------------------------------------


def test_flat_layout_with_several_top_level_packages_and_a_script(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/orders.py": "",
            "billing/__init__.py": "",
            "manage.py": "",
        }
    )
    assert {n.id for n in graph.nodes(NodeKind.MODULE)} == {
        "shop",
        "shop.orders",
        "billing",
        "manage",
    }
    assert graph.node("shop").attrs == {"package": True}
    assert graph.node("shop.orders").file == "shop/orders.py"


def test_src_layout_names_modules_from_src(graph_of) -> None:
    graph = graph_of({"src/shop/__init__.py": "", "src/shop/api.py": ""})
    assert {n.id for n in graph.nodes(NodeKind.MODULE)} == {"shop", "shop.api"}
    assert graph.node("shop.api").file == "src/shop/api.py"


def test_namespace_packages_need_no_init(graph_of) -> None:
    graph = graph_of({"company/shop/orders.py": "", "company/shop/cart.py": "X = 1\n"})
    assert {"company.shop.orders", "company.shop.cart"} <= {n.id for n in graph.nodes()}


def test_tests_migrations_virtualenvs_build_and_hidden_folders_are_left_out(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/tests/test_x.py": "",
            "shop/test_orders.py": "",
            "shop/conftest.py": "",
            "shop/migrations/0001_initial.py": "",
            "venv/lib/x.py": "",
            "build/lib/shop/x.py": "",
            ".hidden/x.py": "",
            "shop/orders.py": "",
        }
    )
    assert {n.id for n in graph.nodes(NodeKind.MODULE)} == {"shop", "shop.orders"}


def test_python_and_sql_files_are_found_in_one_walk_with_the_same_excludes(tmp_path) -> None:
    files = {
        "src/shop/__init__.py": "",
        "src/shop/orders.py": "",
        "src/shop/schema.sql": "",
        "src/shop/sql/reports.sql": "",
        "src/shop/tests/fixtures.sql": "",
        "src/shop/migrations/0001.sql": "",
        "src/shop/.hidden.sql": "",
        "src/shop/notes.txt": "",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    found = discover(tmp_path, find_source_roots(tmp_path), DEFAULT_EXCLUDES)
    assert [f.rel for f in found.files] == ["src/shop/__init__.py", "src/shop/orders.py"]
    assert [f.rel for f in found.sql] == ["src/shop/schema.sql", "src/shop/sql/reports.sql"]
    assert found.sql[1].path == tmp_path / "src/shop/sql/reports.sql"
    # excluded folders are modules left out; an excluded .sql file is no module
    assert found.excluded == ["shop.migrations", "shop.tests"]


def test_imports_of_left_out_modules_are_not_unresolved(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/tests/__init__.py": "def helper(): pass\n",
            "shop/orders.py": "from shop.tests import helper\n",
        }
    )
    assert graph.diagnostics() == []
    assert targets_of(graph, "shop.orders", IMPORTS) == set()


# -- definitions ----------------------------------------------------------------------------


def test_classes_functions_methods_and_nested_functions_with_lines(graph_of) -> None:
    graph = graph_of(
        {
            "m.py": '''\
        """Module."""


        class Base:
            pass


        class Order(Base):
            # a comment inside

            def total(self):
                def add(a, b):
                    return a + b
                return add(1, 2)


        async def main():
            pass
        '''
        }
    )
    order = graph.node("m.Order")
    assert (order.kind, order.line, order.end_line, order.loc) == (NodeKind.CLASS, 8, 14, 5)
    assert order.attrs["bases"] == ["m.Base"]
    total = graph.node("m.Order.total")
    assert (total.kind, total.line, total.end_line, total.loc) == (NodeKind.FUNCTION, 11, 14, 4)
    assert graph.node("m.Order.total.add").line == 12
    assert graph.node("m.main").line == 17
    assert graph.children("m.Order") == ["m.Order.total"]
    assert graph.children("m") == ["m.Base", "m.Order", "m.main"]
    assert graph.node("m").loc == 10


def test_decorated_definitions_start_at_def_and_record_decorators(graph_of) -> None:
    graph = graph_of(
        {
            "m.py": """\
        import functools

        def audited(fn):
            return fn

        @audited
        @functools.lru_cache(maxsize=None)
        def price():
            return 1
        """
        }
    )
    price = graph.node("m.price")
    assert price.line == 8
    assert price.attrs["decorators"] == ["m.audited", "functools.lru_cache"]
    assert targets_of(graph, "m.price", CALLS) == {"m.audited", "external:functools"}


# -- imports --------------------------------------------------------------------------------


def test_absolute_relative_and_aliased_imports(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/models.py": "class Order: pass\nclass Customer: pass\n",
            "shop/services/__init__.py": "",
            "shop/services/util.py": "def fmt(): pass\n",
            "shop/services/orders.py": """\
            import shop.models
            import shop.services.util as u
            from . import util
            from .. import models as m
            from ..models import Order, Customer as C
            import requests
            """,
        }
    )
    assert targets_of(graph, "shop.services.orders", IMPORTS) == {
        "shop.models",
        "shop.services.util",
        "shop.models.Order",
        "shop.models.Customer",
        "external:requests",
    }
    assert graph.diagnostics() == []


def test_relative_import_above_the_top_package_is_a_diagnostic(graph_of) -> None:
    graph = graph_of({"shop/__init__.py": "", "shop/a.py": "from ... import x\n"})
    [diagnostic] = graph.diagnostics()
    assert (diagnostic.file, diagnostic.code, diagnostic.line) == (
        "shop/a.py",
        "unresolved-import",
        1,
    )


def test_import_of_a_missing_project_name_is_a_diagnostic(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/models.py": "VALUE = 1\n",
            "shop/a.py": "from shop.models import VALUE, Missing\nimport shop.nothing\n",
        }
    )
    messages = sorted(d.message for d in graph.diagnostics())
    assert messages == ["cannot find shop.models.Missing", "cannot find shop.nothing"]
    # what cannot be found still depends on the nearest module that can
    assert targets_of(graph, "shop.a", IMPORTS) == {"shop.models", "shop"}


def test_dunders_and_names_made_through_globals_are_not_unresolved(graph_of) -> None:
    graph = graph_of({
        "flags.py": "for name in ('A', 'B'):\n    globals()[name] = name\n",
        "lib.py": '"""Docs."""\n',
        "app.py": "from flags import A\nfrom lib import __doc__ as doc, missing\n",
    })
    assert [d.message for d in graph.diagnostics()] == ["cannot find lib.missing"]


def test_star_import_honours_all(graph_of) -> None:
    graph = graph_of(
        {
            "lib.py": "__all__ = ['public']\ndef public(): pass\ndef hidden(): pass\n",
            "lib2.py": "def open_(): pass\ndef _private(): pass\n",
            "app.py": """\
            from lib import *
            from lib2 import *
            public()
            hidden()
            open_()
            _private()
            """,
        }
    )
    assert targets_of(graph, "app", CALLS) == {"lib.public", "lib2.open_"}
    assert targets_of(graph, "app", IMPORTS) == {"lib", "lib2"}


def test_reexports_through_init_resolve_to_the_definition(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "from shop.services.orders import OrderService\n",
            "shop/services/__init__.py": "from .orders import *\n",
            "shop/services/orders.py": "class OrderService:\n    def place(self): pass\n",
            "app.py": "from shop import OrderService\nfrom shop.services import OrderService as S\n"
            "S().place()\n",
        }
    )
    assert targets_of(graph, "app", IMPORTS) == {"shop.services.orders.OrderService"}
    assert "shop.services.orders.OrderService.place" in targets_of(graph, "app", CALLS)


def test_imports_inside_functions_conditionally_and_for_type_checking(graph_of) -> None:
    graph = graph_of(
        {
            "a.py": "X = 1\n",
            "b.py": "Y = 1\n",
            "c.py": "Z = 1\n",
            "d.py": "W = 1\n",
            "m.py": """\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                import a
            else:
                import b
            try:
                import c
            except ImportError:
                c = None

            def late():
                import d
            """,
        }
    )
    tags = {e.target: e.tags for e in graph.out_edges("m", IMPORTS)}
    assert tags["a"] == {"type_checking", "conditional"}
    assert tags["b"] == {"conditional"}
    assert tags["c"] == {"conditional"}
    [late] = graph.out_edges("m.late", IMPORTS)
    assert (late.target, late.tags) == ("d", {"local"})


# -- calls ----------------------------------------------------------------------------------


def test_local_imported_and_module_attribute_calls(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/utils.py": "def money(x): return x\n",
            "shop/orders.py": """\
            import shop.utils as u
            from shop import utils
            from shop.utils import money

            def helper(): pass

            def total():
                helper()
                money(1)
                u.money(2)
                utils.money(3)
                len([])
            """,
        }
    )
    assert targets_of(graph, "shop.orders.total", CALLS) == {
        "shop.orders.helper",
        "shop.utils.money",
    }
    edge = graph.edge("shop.orders.total", "shop.utils.money", CALLS)
    assert edge is not None and edge.static_count == 3
    assert [s.line for s in edge.sites] == [9, 10, 11]


def test_instantiation_reaches_the_class_and_its_init(graph_of) -> None:
    graph = graph_of(
        {
            "m.py": """\
        class Base:
            def __init__(self): pass

        class Repo(Base):
            pass

        def make():
            return Repo()
        """
        }
    )
    assert targets_of(graph, "m.make", EdgeKind.INSTANTIATES) == {"m.Repo"}
    assert targets_of(graph, "m.make", CALLS) == {"m.Base.__init__"}


def test_self_cls_and_super_calls_go_through_the_class_and_its_bases(graph_of) -> None:
    graph = graph_of(
        {
            "m.py": """\
        class Base:
            def save(self): pass
            def place(self): pass

        class Orders(Base):
            def place(self):
                self.validate()
                self.save()
                super().place()
                Orders.build()

            def validate(self): pass

            @classmethod
            def build(cls):
                cls.validate_all()

            @classmethod
            def validate_all(cls): pass
        """
        }
    )
    assert targets_of(graph, "m.Orders.place", CALLS) == {
        "m.Orders.validate",
        "m.Base.save",
        "m.Base.place",
        "m.Orders.build",
    }
    assert targets_of(graph, "m.Orders.build", CALLS) == {"m.Orders.validate_all"}


def test_methods_on_objects_typed_by_constructor_annotation_and_return(graph_of) -> None:
    graph = graph_of(
        {
            "repo.py": "class Repo:\n    def save(self): pass\n    def find(self): pass\n"
            "    def delete(self): pass\n    def count(self): pass\n",
            "svc.py": """\
            from __future__ import annotations
            from typing import Optional
            from repo import Repo

            def make_repo() -> Repo:
                return Repo()

            def use(given: Repo, maybe: Optional[Repo], other: "Repo | None"):
                built = Repo()
                built.save()
                given.find()
                make_repo().delete()
                maybe.count()
                other.count()
            """,
        }
    )
    assert targets_of(graph, "svc.use", CALLS) == {
        "repo.Repo.save",
        "repo.Repo.find",
        "repo.Repo.delete",
        "repo.Repo.count",
        "svc.make_repo",
    }


def test_attributes_set_in_init_give_their_type_to_later_calls(graph_of) -> None:
    graph = graph_of(
        {
            "m.py": """\
        class Gateway:
            def charge(self): pass

        class Ledger:
            def book(self): pass

        class Payments:
            ledger: Ledger

            def __init__(self):
                self.gateway = Gateway()

            def pay(self):
                self.gateway.charge()
                self.ledger.book()
        """
        }
    )
    assert targets_of(graph, "m.Payments.pay", CALLS) == {"m.Gateway.charge", "m.Ledger.book"}


def test_calls_on_imported_module_level_objects(graph_of) -> None:
    graph = graph_of(
        {
            "services.py": "class Mailer:\n    def send(self): pass\n\nmailer = Mailer()\n",
            "tasks.py": "from services import mailer\n\ndef notify():\n    mailer.send()\n",
        }
    )
    assert targets_of(graph, "tasks.notify", CALLS) == {"services.Mailer.send"}
    assert targets_of(graph, "tasks", IMPORTS) == {"services"}


def test_unresolved_outside_calls_end_on_one_external_node_per_package(graph_of) -> None:
    graph = graph_of(
        {
            "m.py": """\
        import os.path
        import requests
        from sqlalchemy.orm import Session

        def fetch(session: Session):
            requests.get("x")
            requests.post("y")
            os.path.join("a", "b")
            session.commit()
        """
        }
    )
    assert targets_of(graph, "m.fetch", CALLS) == {
        "external:requests",
        "external:os",
        "external:sqlalchemy",
    }
    assert graph.edge("m.fetch", "external:requests", CALLS).static_count == 2
    assert graph.node("external:requests").kind == NodeKind.EXTERNAL


def test_module_level_code_belongs_to_the_module(graph_of) -> None:
    graph = graph_of({"m.py": "def setup(): pass\n\nsetup()\n"})
    assert targets_of(graph, "m", CALLS) == {"m.setup"}


def test_local_names_shadow_module_names(graph_of) -> None:
    graph = graph_of(
        {
            "m.py": """\
        def order(): pass

        def f(order):
            order()

        def g():
            order = 1
            order()
        """
        }
    )
    assert targets_of(graph, "m.f", CALLS) == set()
    assert targets_of(graph, "m.g", CALLS) == set()


# -- inheritance, references ---------------------------------------------------------------


def test_inheritance_from_project_and_external_classes(graph_of) -> None:
    graph = graph_of(
        {
            "base.py": "class Model: pass\n",
            "m.py": """\
            from django.db import models
            import base

            class Patient(models.Model): pass
            class Invoice(base.Model): pass
            """,
        }
    )
    assert targets_of(graph, "m.Patient", EdgeKind.INHERITS) == {"external:django"}
    assert graph.node("m.Patient").attrs["bases"] == ["django.db.models.Model"]
    assert targets_of(graph, "m.Invoice", EdgeKind.INHERITS) == {"base.Model"}


def test_names_used_without_a_call_are_references(graph_of) -> None:
    graph = graph_of(
        {
            "handlers.py": "def on_paid(): pass\nclass Order: pass\n",
            "m.py": """\
            import handlers
            from handlers import Order

            def wire(bus):
                bus.subscribe(handlers.on_paid)
                return isinstance(bus, Order)
            """,
        }
    )
    assert targets_of(graph, "m.wire", REFS) == {"handlers.on_paid", "handlers.Order"}


def test_string_references_to_project_modules_classes_and_functions(graph_of) -> None:
    graph = graph_of(
        {
            "shop/__init__.py": "",
            "shop/gateways.py": "class Card: pass\ndef build(): pass\n",
            "shop/settings.py": """\
            PAYMENT_GATEWAY = "shop.gateways.Card"
            FACTORY = "shop.gateways:build"
            INSTALLED = ["shop.gateways", "django.contrib.auth", "not a path"]
            """,
            "shop/loader.py": """\
            import importlib

            def load():
                importlib.import_module("shop.settings")
                return get_class("shop.gateways", "Card")
            """,
        }
    )
    assert targets_of(graph, "shop.settings", REFS) == {
        "shop.gateways.Card",
        "shop.gateways.build",
        "shop.gateways",
    }
    assert targets_of(graph, "shop.loader.load", REFS) == {
        "shop.settings",
        "shop.gateways",
        "shop.gateways.Card",
    }
    edge = graph.edge("shop.settings", "shop.gateways.Card", REFS)
    assert edge.tags == {"string"}


# -- robustness ----------------------------------------------------------------------------


def test_bad_files_become_diagnostics_and_good_ones_still_count(graph_of) -> None:
    graph = graph_of(
        {
            "py2.py": "print 'hello'\n",
            "nul.py": b"x = 1\x00\n",
            "latin.py": b"# -*- coding: klingon -*-\nx = 1\n",
            "undecodable.py": b"x = '\xff\xfe'\n",
            "binary.py": bytes(range(256)),
            "empty.py": b"",
            "bom_crlf.py": b"\xef\xbb\xbfdef f():\r\n    return 1\r\n\x0c\r\ndef g():\r\n    f()\r\n",
            "cookie.py": "# -*- coding: latin-1 -*-\ndef h(): return 'é'\n".encode("latin-1"),
        }
    )
    codes = {d.file: d.code for d in graph.diagnostics()}
    assert codes == {
        "py2.py": "syntax-error",
        "nul.py": "syntax-error",
        "latin.py": "undecodable",
        "undecodable.py": "undecodable",
        "binary.py": codes.get("binary.py"),
    }
    assert codes["binary.py"] in ("syntax-error", "undecodable")
    assert graph.node("py2").kind == NodeKind.MODULE  # the module is still there
    assert graph.node("bom_crlf.g").line == 4
    assert targets_of(graph, "bom_crlf.g", CALLS) == {"bom_crlf.f"}
    assert "cookie.h" in graph
    [py2] = [d for d in graph.diagnostics() if d.file == "py2.py"]
    assert py2.line == 1


def test_a_file_name_that_is_not_utf8_is_a_diagnostic(graph_of, tmp_path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / os.fsdecode(b"bad\xffname.py")).write_text("def f(): pass\n")
    (root / os.fsdecode(b"bad\xfefolder")).mkdir()
    graph = graph_of({"caf\u00e9.py": "def g(): pass\n"})
    assert "caf\u00e9.g" in graph
    assert sorted((d.file, d.code) for d in graph.diagnostics()) == [
        ("bad\ufffdfolder", "undecodable"),
        ("bad\ufffdname.py", "undecodable"),
    ]
    assert dumps(graph_to_dict(graph)).encode("utf-8")  # writable as graph.json


def test_a_file_gone_before_its_worker_reads_it_is_unreadable_and_not_cached(tmp_path) -> None:
    cache = DiskCache(tmp_path / "cache")
    gone = SourceFile("gone.py", "gone", False, tmp_path / "gone.py")
    facts = collect_all(
        [(gone, "key-of-earlier-content")],
        cache=cache,
        jobs=1,
        file_timeout=30,
        progress=lambda n: None,
    )
    assert facts["gone.py"]["diagnostics"][0][0] == "unreadable"
    assert cache.get("key-of-earlier-content") is None


def test_a_collector_bug_loses_one_file_as_a_diagnostic(monkeypatch) -> None:
    def broken(self, node):
        raise KeyError("boom")

    monkeypatch.setitem(collect._ENTER, cst.FunctionDef, broken)
    facts = collect.collect_file(b"def f():\n    pass\n", "m", False)
    [(code, message, _)] = facts["diagnostics"]
    assert code == "analyzer-error" and "KeyError" in message


def test_a_syntax_error_names_the_line_it_is_on() -> None:
    facts = collect.collect_file(b"x = 1\nprint 'two'\n\ny = 4\n", "m", False)
    assert facts["diagnostics"][0][0] == "syntax-error"
    assert facts["diagnostics"][0][2] == 2


def test_hidden_files_are_left_out_like_hidden_folders(graph_of) -> None:
    graph = graph_of({".py": "def f(): pass\n", "pkg/.hidden.py": "", "pkg/__init__.py": ""})
    assert {n.id for n in graph.nodes()} == {"pkg"}


def test_a_module_beside_a_package_of_its_name_gives_way_to_the_package(graph_of) -> None:
    graph = graph_of(
        {
            "clash.py": "def from_module(): pass\n",
            "clash/__init__.py": "def from_package(): pass\n",
            "user.py": "from clash import from_package\n\nfrom_package()\n",
        }
    )
    assert graph.node("clash").file == "clash/__init__.py"
    assert "clash.from_package" in graph and "clash.from_module" not in graph
    assert [(d.file, d.code) for d in graph.diagnostics()] == [("clash.py", "duplicate-module")]
    assert targets_of(graph, "user", CALLS) == {"clash.from_package"}


def targets_of(graph, source, kind) -> set[str]:
    return {e.target for e in graph.out_edges(source, kind)}
