"""The tracer's integrations: http and task segments, and SQL capture with transactions.

Real Flask, Django, SQLAlchemy, Celery and SQLite; the recorder is replaced by a fake that
keeps what the integrations hand it. Django and Celery run in a subprocess each: their
global configuration must not leak into the rest of the suite (the clinic sample configures
Django its own way).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import zipfile
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from analyzers.runtime import integrations, patching, recorder, sqlcapture, web

REPO = Path(__file__).resolve().parents[2]
RECORDER_API = (
    "active",
    "begin_segment",
    "end_segment",
    "record_sql",
    "end_transaction",
    "new_transaction_id",
)


class FakeRecorder:
    """Keeps segments, statements and transaction outcomes as the real recorder would get
    them: segments nest per thread, over a ``process:main`` segment."""

    def __init__(self) -> None:
        self.ended: list[dict[str, Any]] = []  # segments, in the order they ended
        self.outcomes: dict[int, str] = {}
        self._stacks: dict[int, list[dict[str, Any]]] = {}
        self._process = {"use_case": "process:main", "sql": []}
        self._ids = count(1)
        self._lock = threading.Lock()

    def patch(self, setattr_: Any) -> None:
        for name in RECORDER_API:
            setattr_(recorder, name, getattr(self, name))

    def active(self) -> bool:
        return True

    def begin_segment(self, kind: str, label: str) -> object:
        segment = {"use_case": f"{kind}:{label}", "sql": []}
        with self._lock:
            self._stacks.setdefault(threading.get_ident(), []).append(segment)
        return segment

    def end_segment(self, token: object) -> None:
        with self._lock:
            self._stacks[threading.get_ident()].remove(token)
            self.ended.append(token)  # type: ignore[arg-type]

    def record_sql(self, statement: str, transaction: int | None) -> None:
        with self._lock:
            stack = self._stacks.get(threading.get_ident()) or [self._process]
            stack[-1]["sql"].append([" ".join(statement.split()), transaction])

    def end_transaction(self, transaction: int, outcome: str) -> None:
        assert transaction not in self.outcomes, f"transaction {transaction} ended twice"
        self.outcomes[transaction] = outcome

    def new_transaction_id(self) -> int:
        return next(self._ids)

    # What the tests read

    def summary(self) -> dict[str, Any]:
        return {
            "segments": self.ended,
            "process": self._process["sql"],
            "outcomes": {str(k): v for k, v in self.outcomes.items()},
        }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Any:
    recording = FakeRecorder()
    recording.patch(monkeypatch.setattr)
    yield recording
    integrations.uninstall()


def statements(summary: dict[str, Any], use_case: str | None = None) -> list[list[Any]]:
    """[statement, transaction] rows of one segment, or outside every segment."""
    if use_case is None:
        return summary["process"]
    rows = [s["sql"] for s in summary["segments"] if s["use_case"] == use_case]
    assert rows, f"no segment {use_case}; got {[s['use_case'] for s in summary['segments']]}"
    return [row for segment in rows for row in segment]


def writes(rows: list[list[Any]], table: str) -> list[list[Any]]:
    return [r for r in rows if r[0].upper().startswith("INSERT INTO " + table.upper() + " ")]


def run_script(tmp_path: Path, source: str) -> dict[str, Any]:
    """Run ``source`` in a fresh interpreter with the fake recorder patched in; returns the
    fake's summary, which the script prints last."""
    prelude = textwrap.dedent(
        f"""\
        import json, sys
        sys.path[:0] = [{str(REPO)!r}, {str(Path(__file__).parent)!r}]
        from analyzers.runtime import integrations
        from test_runtime_integrations import FakeRecorder
        fake = FakeRecorder()
        fake.patch(setattr)
        """
    )
    script = tmp_path / "script.py"
    script.write_text(prelude + textwrap.dedent(source) + "\nprint(json.dumps(fake.summary()))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    done = subprocess.run(
        [sys.executable, str(script)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_install_imports_no_framework_and_patches_on_import() -> None:
    script = textwrap.dedent(
        f"""\
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from analyzers.runtime import integrations
        integrations.install()
        watched = ("flask", "django", "sqlalchemy", "celery", "sqlite3")
        print(sorted(name for name in watched if name in sys.modules))
        import flask, sqlite3
        print(flask.Flask.wsgi_app.__name__, sqlite3.connect.__name__)
        """
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script], check=True, capture_output=True, text=True
    )
    assert done.stdout.splitlines() == ["[]", "traced_wsgi_app connect_traced"]


def test_import_hook_fires_once_the_module_ran_also_from_a_zip(
    fake: FakeRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "lib.zip"
    with zipfile.ZipFile(archive, "w") as bundle:  # one zipimporter serves both modules
        bundle.writestr("zpkg/__init__.py", "from zhelper import VALUE\nREADY = True\n")
        bundle.writestr("zhelper.py", "VALUE = 42\n")
    monkeypatch.syspath_prepend(str(archive))
    for name in ("zpkg", "zhelper"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    seen = []
    patching.watch_imports({"zpkg": lambda m: seen.append((m.__name__, m.READY, m.VALUE))})

    module = importlib.import_module("zpkg")

    assert seen == [("zpkg", True, 42)]
    assert "exec_module" not in vars(module.__spec__.loader)  # the loader is itself again


# ---------------------------------------------------------------------- statements


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("BEGIN", "begin"),
        ("  begin immediate", "begin"),
        ("START TRANSACTION", "begin"),
        ("-- why\nCOMMIT", "commit"),
        ("END", "commit"),
        ("ROLLBACK", "rollback"),
        ("ROLLBACK TO SAVEPOINT s1", "rollback_to"),
        ("rollback transaction to s1", "rollback_to"),
        ("SAVEPOINT s1", "savepoint"),
        ("/* x */ RELEASE SAVEPOINT s1", "release"),
        ("SELECT 1", None),
        ("START something_else", None),
        ("BEGIN\n  DBMS_OUTPUT.PUT_LINE('x');\nEND;", None),
        ("INSERT INTO commits VALUES (1)", None),
        ("", None),
    ],
)
def test_statement_kind(sql: str, kind: str | None) -> None:
    assert sqlcapture.statement_kind(sql) == kind


def test_split_script_keeps_semicolons_inside_strings() -> None:
    script = "CREATE TABLE t (x); -- note\nINSERT INTO t VALUES ('a;b');\n\nSELECT 1"
    assert list(sqlcapture.split_script(script)) == [
        "CREATE TABLE t (x)",
        "-- note\nINSERT INTO t VALUES ('a;b')",
        "SELECT 1",
    ]


def test_path_pattern_hides_ids() -> None:
    assert web.path_pattern("/orders/42/lines/7") == "/orders/<id>/lines/<id>"
    assert web.path_pattern("/u/0b5d3a52-6c1e-4a8a-9d0e-1f2a3b4c5d6e/avatar") == "/u/<id>/avatar"
    assert web.path_pattern("/v2/orders") == "/v2/orders"


# ---------------------------------------------------------------------- sqlite3


def test_sqlite_implicit_transaction_then_commit(fake: FakeRecorder, tmp_path: Path) -> None:
    integrations.install(only=("sqlite3",))
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INT)")
    conn.execute("CREATE TABLE order_lines (order_id INT, sku TEXT)")
    conn.execute("SELECT count(*) FROM orders").fetchone()
    conn.execute("INSERT INTO orders (total) VALUES (10)")
    conn.executemany("INSERT INTO order_lines VALUES (1, ?)", [("a",), ("b",)])
    conn.commit()
    conn.close()

    rows = fake.summary()["process"]
    assert rows[:3] == [
        ["CREATE TABLE orders (id INTEGER PRIMARY KEY, total INT)", None],
        ["CREATE TABLE order_lines (order_id INT, sku TEXT)", None],
        ["SELECT count(*) FROM orders", None],  # the legacy mode begins before DML only
    ]
    (order,) = writes(rows, "orders")
    (lines,) = writes(rows, "order_lines")  # executemany: one execution recorded
    assert order[1] is not None and order[1] == lines[1]
    assert fake.outcomes == {order[1]: "commit"}


def test_sqlite_explicit_begin_rollback_and_savepoint(fake: FakeRecorder) -> None:
    integrations.install(only=("sqlite3",))
    conn = sqlite3.connect(":memory:", isolation_level=None)  # autocommit: BEGIN by hand
    conn.execute("CREATE TABLE seats (id INT, held INT)")
    conn.execute("INSERT INTO seats VALUES (1, 0)")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE seats SET held = 1")
    conn.execute("SAVEPOINT hold")
    conn.execute("DELETE FROM seats")
    conn.execute("ROLLBACK TO SAVEPOINT hold")
    conn.execute("RELEASE SAVEPOINT hold")
    conn.execute("ROLLBACK")
    conn.execute("SAVEPOINT outer_sp")  # outside a transaction a savepoint opens one
    conn.execute("UPDATE seats SET held = 2")
    conn.execute("RELEASE outer_sp")
    conn.close()

    rows = fake.summary()["process"]
    assert [r[0] for r in rows] == [
        "CREATE TABLE seats (id INT, held INT)",
        "INSERT INTO seats VALUES (1, 0)",
        "UPDATE seats SET held = 1",
        "DELETE FROM seats",
        "UPDATE seats SET held = 2",
    ]  # control statements open and close transactions, they are not statements
    assert [r[1] for r in rows[:2]] == [None, None]
    first, second = rows[2][1], rows[4][1]
    assert rows[3][1] == first  # the savepoint stays inside its transaction
    assert fake.outcomes == {first: "rollback", second: "commit"}


def test_sqlite_connection_context_manager_and_error(fake: FakeRecorder) -> None:
    integrations.install(only=("sqlite3",))
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x INT UNIQUE)")
    with conn:
        conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError), conn:
        conn.execute("INSERT INTO t VALUES (2)")
        conn.execute("INSERT INTO t VALUES (1)")
    conn.execute("INSERT INTO t VALUES (3)")
    conn.close()  # uncommitted: SQLite rolls it back

    rows = fake.summary()["process"]
    ids = [r[1] for r in rows[1:]]
    assert ids[1] == ids[2] and len(set(ids)) == 3
    assert fake.outcomes == {ids[0]: "commit", ids[1]: "rollback", ids[3]: "rollback"}


def test_sqlite_executescript_and_cursor_factories(fake: FakeRecorder) -> None:
    integrations.install(only=("sqlite3",))

    class MyConnection(sqlite3.Connection):
        pass

    class MyCursor(sqlite3.Cursor):
        pass

    conn = sqlite3.connect(":memory:", factory=MyConnection)
    assert isinstance(conn, MyConnection)
    conn.executescript(
        "CREATE TABLE a (x); BEGIN; INSERT INTO a VALUES (1); INSERT INTO a VALUES (2); COMMIT;"
    )
    cursor = conn.cursor(MyCursor)
    assert isinstance(cursor, MyCursor)
    cursor.execute("INSERT INTO a VALUES (3)")
    conn.executescript("INSERT INTO a VALUES (4);")  # commits the pending transaction first
    conn.executescript("BEGIN; INSERT INTO a VALUES (5); INSERT INTO a VALUES (6);")
    conn.rollback()
    conn.close()

    rows = fake.summary()["process"]
    assert rows[0] == ["CREATE TABLE a (x)", None]
    first, second, last = rows[1][1], rows[3][1], rows[5][1]
    assert rows[2][1] == first and len({first, second, last}) == 3 and None not in {first, last}
    assert rows[4] == ["INSERT INTO a VALUES (4)", None] and rows[6][1] == last
    assert fake.outcomes == {first: "commit", second: "commit", last: "rollback"}


def test_sqlite_untraced_when_no_tracer_runs(fake: FakeRecorder, monkeypatch) -> None:
    integrations.install(only=("sqlite3",))
    monkeypatch.setattr(recorder, "active", lambda: False)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE a (x)")
    conn.execute("INSERT INTO a VALUES (1)")
    conn.commit()
    conn.close()
    assert fake.summary()["process"] == [] and fake.outcomes == {}


def test_uninstall_restores_sqlite3(fake: FakeRecorder) -> None:
    original = sqlite3.connect
    integrations.install(only=("sqlite3",))
    assert sqlite3.connect is not original and sqlite3.dbapi2.connect is sqlite3.connect
    integrations.uninstall()
    assert sqlite3.connect is original and sqlite3.dbapi2.connect is original


def test_any_dbapi_connection_by_hand(fake: FakeRecorder) -> None:
    # A connection made before the patch (sqlite3.Connection itself) stands for any driver.
    conn = sqlcapture.trace_connection(sqlite3.Connection(":memory:"))
    assert sqlcapture.trace_connection(conn) is conn
    cursor = conn.cursor()
    cursor.execute("CREATE TABLE a (x)")
    cursor.execute("INSERT INTO a VALUES (1)")
    conn.commit()
    conn.execute("INSERT INTO a VALUES (2)")
    conn.rollback()
    conn.isolation_level = None  # autocommit: only BEGIN opens a transaction
    cursor.execute("INSERT INTO a VALUES (3)")
    cursor.execute("BEGIN")
    cursor.execute("INSERT INTO a VALUES (4)")
    cursor.execute("COMMIT")
    assert cursor.execute("SELECT count(*) FROM a").fetchone() == (3,)
    conn.close()

    rows = fake.summary()["process"]
    assert [r[1] for r in rows] == [1, 1, 2, None, 3, None]
    assert fake.outcomes == {1: "commit", 2: "rollback", 3: "commit"}


# ---------------------------------------------------------------------- SQLAlchemy


def _shop_models() -> Any:
    from sqlalchemy import Column, ForeignKey, Integer, String
    from sqlalchemy.orm import declarative_base

    base = declarative_base()

    class Order(base):  # type: ignore[misc, valid-type]
        __tablename__ = "orders"
        id = Column(Integer, primary_key=True)
        number = Column(String)

    class OrderLine(base):  # type: ignore[misc, valid-type]
        __tablename__ = "order_lines"
        id = Column(Integer, primary_key=True)
        order_id = Column(ForeignKey("orders.id"))

    return base, Order, OrderLine


@pytest.mark.parametrize("layer", ["sqlite3", "sqlalchemy"])
def test_sqlalchemy_session_commit_records_each_statement_once(
    fake: FakeRecorder, tmp_path: Path, layer: str
) -> None:
    integrations.install(only=("sqlite3", "sqlalchemy"))
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    path = tmp_path / "shop.db"
    if layer == "sqlite3":  # SQLAlchemy on sqlite3: the driver layer records
        engine = create_engine(f"sqlite:///{path}")
    else:  # DB-API connections the driver layer does not see: the engine events record
        engine = create_engine("sqlite://", creator=lambda: sqlite3.Connection(path))
    base, order_class, line_class = _shop_models()
    base.metadata.create_all(engine)
    with Session(engine) as session:
        order = order_class(number="A-1")
        session.add(order)
        session.flush()
        session.add(line_class(order_id=order.id))
        session.commit()
    with Session(engine) as session:
        session.add(order_class(number="A-2"))
        session.flush()
        session.rollback()
    engine.dispose()

    rows = fake.summary()["process"]
    first, second = writes(rows, "orders")
    assert first[0] == "INSERT INTO orders (number) VALUES (?)"
    (line,) = writes(rows, "order_lines")
    assert line[1] == first[1] is not None
    assert second[1] not in (None, first[1])
    assert fake.outcomes[first[1]] == "commit" and fake.outcomes[second[1]] == "rollback"


def test_sqlalchemy_connection_dropped_without_close(fake: FakeRecorder, tmp_path: Path) -> None:
    integrations.install(only=("sqlalchemy",))
    from sqlalchemy import create_engine, text

    path = tmp_path / "shop.db"  # a file: a pool of connections, reset when handed back
    engine = create_engine(f"sqlite:///{path}", creator=lambda: sqlite3.Connection(path))

    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE carts (id INT)"))
        connection.commit()

    def forget_to_commit() -> None:
        connection = engine.connect()
        connection.execute(text("INSERT INTO carts VALUES (1)"))

    forget_to_commit()
    gc.collect()  # the dropped connection goes home, where the pool rolls it back
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM carts")).scalar() == 0
    engine.dispose()

    rows = fake.summary()["process"]
    assert [r[1] for r in rows] == [1, 2, 3]
    assert fake.outcomes == {1: "commit", 2: "rollback", 3: "rollback"}


# ---------------------------------------------------------------------- Flask


def test_flask_requests_are_segments_labelled_by_rule(fake: FakeRecorder, tmp_path: Path) -> None:
    integrations.install(only=("sqlite3", "flask"))
    from flask import Blueprint, Flask

    database = tmp_path / "shop.db"
    setup = sqlite3.connect(database)
    setup.executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT);")
    setup.close()

    orders = Blueprint("orders", __name__, url_prefix="/orders")

    @orders.post("/<int:order_id>/cancel")
    def cancel(order_id: int) -> str:
        conn = sqlite3.connect(database)
        with conn:
            conn.execute("UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,))
        conn.close()
        return "cancelled"

    app = Flask(__name__)
    app.register_blueprint(orders)
    client = app.test_client()
    assert client.post("/orders/12/cancel").status_code == 200
    assert client.post("/orders/13/cancel").status_code == 200
    assert client.get("/orders/12/cancel").status_code == 405
    assert client.get("/customers/7").status_code == 404

    summary = fake.summary()
    assert [s["use_case"] for s in summary["segments"]] == [
        "http:POST /orders/<int:order_id>/cancel",
        "http:POST /orders/<int:order_id>/cancel",
        "http:GET <unmatched>",
        "http:GET <unmatched>",
    ]
    rows = statements(summary, "http:POST /orders/<int:order_id>/cancel")
    assert [r[0] for r in rows] == ["UPDATE orders SET status = 'cancelled' WHERE id = ?"] * 2
    assert all(fake.outcomes[r[1]] == "commit" for r in rows)


# ---------------------------------------------------------------------- plain WSGI / ASGI


def test_plain_wsgi_app_through_the_middleware(fake: FakeRecorder) -> None:
    from wsgiref.util import setup_testing_defaults

    seen = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    traced = web.wsgi_middleware(app)
    by_route = web.wsgi_middleware(app, route=lambda environ: "/reports/{name}")
    for wrapped, path in [(traced, "/invoices/88/pdf"), (by_route, "/reports/sales")]:
        environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
        setup_testing_defaults(environ)
        assert wrapped(environ, lambda status, headers: None) == [b"ok"]

    assert seen == ["/invoices/88/pdf", "/reports/sales"]
    assert [s["use_case"] for s in fake.summary()["segments"]] == [
        "http:GET /invoices/<id>/pdf",
        "http:GET /reports/{name}",
    ]


def test_plain_asgi_app_through_the_middleware(fake: FakeRecorder) -> None:
    import asyncio

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            fake.record_sql(f"SELECT * FROM carts WHERE path = '{scope['path']}'", None)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def main() -> None:
        traced = web.asgi_middleware(app)
        await traced({"type": "http", "method": "put", "path": "/carts/5/items/9"}, receive, send)
        await traced({"type": "lifespan"}, receive, send)

    asyncio.run(main())

    summary = fake.summary()
    assert [s["use_case"] for s in summary["segments"]] == ["http:PUT /carts/<id>/items/<id>"]
    assert statements(summary, "http:PUT /carts/<id>/items/<id>") == [
        ["SELECT * FROM carts WHERE path = '/carts/5/items/9'", None]
    ]
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


def test_an_inner_layer_does_not_open_a_second_http_segment(fake: FakeRecorder) -> None:
    integrations.install(only=("flask",))
    from flask import Flask

    app = Flask(__name__)
    app.add_url_rule("/orders/<int:order_id>", "show", lambda order_id: "ok")
    app.wsgi_app = web.wsgi_middleware(app.wsgi_app, route=lambda environ: "/api/orders")
    assert app.test_client().get("/orders/4").status_code == 200
    assert [s["use_case"] for s in fake.summary()["segments"]] == ["http:GET /api/orders"]


# ---------------------------------------------------------------------- Django

DJANGO_APP = """
    import django
    from django.conf import settings
    from django.db import connection, transaction
    from django.http import HttpResponse
    from django.urls import include, path, re_path

    def patient(request, pk):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE patients SET name = %s WHERE id = %s", ["Ada", pk])
                cursor.execute("INSERT INTO audit (patient_id) VALUES (%s)", [pk])
        return HttpResponse("ok")

    def admit(request):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO patients (name) VALUES (%s)", ["Bob"])
                    cursor.execute("INSERT INTO audit (patient_id) VALUES (%s)", [2])
                raise ValueError("no bed free")
        except ValueError:
            return HttpResponse("full", status=409)

    def report(request, year):
        return HttpResponse(year)

    api = [
        path("patients/<int:pk>/", patient),
        path("patients/", admit),
        re_path(r"^reports/(?P<year>[0-9]{4})/$", report),
    ]
    urlpatterns = [path("api/v1/", include(api))]

    settings.configure(
        DEBUG=False,
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["testserver"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "clinic.db"}},
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
    )
    django.setup()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT)")
        cursor.execute("CREATE TABLE audit (patient_id INT)")
        cursor.execute("INSERT INTO patients (name) VALUES ('Ann')")

    from django.test import Client

    client = Client()
    assert client.get("/api/v1/patients/1/").status_code == 200
    assert client.post("/api/v1/patients/").status_code == 409
    assert client.get("/api/v1/reports/2026/").status_code == 200
    assert client.get("/nothing/here/42").status_code == 404

    import asyncio
    from django.test import AsyncClient

    async def over_asgi():
        response = await AsyncClient().get("/api/v1/reports/2025/")
        assert response.status_code == 200

    asyncio.run(over_asgi())
"""


@pytest.mark.parametrize(
    "layers",
    [
        ("sqlite3", "django.core.handlers.base", "django.db.backends.base.base"),
        ("django.core.handlers.base", "django.db.backends.base.base"),  # the execute wrapper
    ],
    ids=["sqlite3-layer", "django-layer"],
)
def test_django_requests_and_atomic_blocks(tmp_path: Path, layers: tuple[str, ...]) -> None:
    install = f"integrations.install(only={layers!r})\n"
    summary = run_script(tmp_path, install + textwrap.dedent(DJANGO_APP))

    assert [s["use_case"] for s in summary["segments"]] == [
        "http:GET /api/v1/patients/<int:pk>/",
        "http:POST /api/v1/patients/",
        "http:GET /api/v1/reports/(?P<year>[0-9]{4})/$",  # re_path: its regex
        "http:GET <unmatched>",
        "http:GET /api/v1/reports/(?P<year>[0-9]{4})/$",  # through get_response_async
    ]
    outcomes = summary["outcomes"]
    committed = statements(summary, "http:GET /api/v1/patients/<int:pk>/")
    assert [r[0].split(" (")[0].split(" SET")[0] for r in committed] == [
        "UPDATE patients",
        "INSERT INTO audit",
    ]  # each once, although Django and sqlite3 both see them
    assert committed[0][1] == committed[1][1] and outcomes[str(committed[0][1])] == "commit"
    rolled_back = statements(summary, "http:POST /api/v1/patients/")
    assert len(rolled_back) == 2 and rolled_back[0][1] == rolled_back[1][1]
    assert outcomes[str(rolled_back[0][1])] == "rollback"
    assert [r[1] for r in statements(summary)[-1:]] == [None]  # setup ran in autocommit


# ---------------------------------------------------------------------- Celery


def test_celery_task_run_by_a_worker_is_a_task_segment(tmp_path: Path) -> None:
    summary = run_script(
        tmp_path,
        """
        integrations.install()
        import sqlite3
        from celery import Celery
        from celery.contrib.testing.worker import start_worker

        setup = sqlite3.connect("shop.db")
        setup.executescript("CREATE TABLE invoices (order_id INT); CREATE TABLE outbox (n INT);")
        setup.close()

        app = Celery("shop", broker="memory://", backend="cache+memory://")

        @app.task(name="shop.tasks.send_invoice")
        def send_invoice(order_id):
            conn = sqlite3.connect("shop.db")
            with conn:
                conn.execute("INSERT INTO invoices VALUES (?)", (order_id,))
                conn.execute("INSERT INTO outbox VALUES (?)", (order_id,))
            conn.close()
            return order_id

        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            assert send_invoice.delay(7).get(timeout=30) == 7
            assert send_invoice.delay(8).get(timeout=30) == 8
        """,
    )
    tasks = [s for s in summary["segments"] if s["use_case"].startswith("task:")]
    assert [s["use_case"] for s in tasks] == ["task:shop.tasks.send_invoice"] * 2
    for task in tasks:
        assert [r[0] for r in task["sql"]] == [
            "INSERT INTO invoices VALUES (?)",
            "INSERT INTO outbox VALUES (?)",
        ]
        assert task["sql"][0][1] == task["sql"][1][1]
        assert summary["outcomes"][str(task["sql"][0][1])] == "commit"
