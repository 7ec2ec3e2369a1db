"""`decomposer trace` over the sample monoliths' own tests: requests become http segments
labelled by route pattern, and their SQL lands in the transactions it really ran in.

Each test traces one test file of a sample (the whole suites take minutes under a tracer).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_tree

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_monoliths"
# The tracer's two cores: sys.setprofile (3.11, this venv) and sys.monitoring (3.12, ./dev
# installs .venv312 with the samples' dependencies).
PYTHONS = {"3.11": sys.executable, "3.12": str(REPO / ".venv312" / "bin" / "python")}


def run_traced(tmp_path: Path, source: Path, command: list[str], cwd: Path) -> dict[str, Any]:
    """``decomposer trace`` of ``command`` recording the code under ``source``; the trace."""
    out = tmp_path / "trace.json"
    done = subprocess.run(
        [sys.executable, "-m", "decomposer", "trace", "-o", str(out), "--source", str(source)]
        + ["--", *command],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def trace(tmp_path: Path, sample: str, test_file: str, python: str = "3.11") -> dict[str, Any]:
    """The trace of one test file of a sample monolith, run by ``python``."""
    tests = SAMPLES / sample / "tests" / test_file
    pytest_command = [PYTHONS[python], "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)]
    return run_traced(tmp_path, SAMPLES / sample, pytest_command, REPO)


def segments(trace_data: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {s["use_case"]: s for s in trace_data["segments"] if s["kind"] == kind}


def assert_no_ids_in_labels(labels: list[str]) -> None:
    for label in labels:
        path = label.split(" ", 1)[1]
        assert not re.search(r"/\d+(/|$)", path), f"{label}: a raw URL, not a route pattern"


@pytest.mark.parametrize("python", PYTHONS)
def test_shop_orders_flask_requests_and_their_transaction(tmp_path: Path, python: str) -> None:
    data = trace(tmp_path, "shop", "test_shop_orders.py", python)
    assert data["python"].startswith(python + ".")
    http = segments(data, "http")

    assert {"http:POST /orders", "http:GET /orders/<number>", "http:POST /orders/quote"} <= set(
        http
    )
    assert_no_ids_in_labels(list(http))
    place = http["http:POST /orders"]
    assert place["runs"] > 1
    committed = [t for t in place["transactions"] if t["outcome"] == "commit"]
    assert any({"orders", "order_lines"} <= set(t["writes"]) for t in committed), committed
    inserts = [q for q in place["sql"] if q["writes"] == ["orders"]]
    assert inserts and all(q["transaction"] is not None for q in inserts)
    # Requests are their own use cases, apart from the test that sent them.
    tests = segments(data, "test")
    assert tests and not any(q["writes"] == ["orders"] for s in tests.values() for q in s["sql"])


def test_clinic_django_requests_labelled_by_route_pattern(tmp_path: Path) -> None:
    data = trace(tmp_path, "clinic", "test_clinic_appointments.py")
    http = segments(data, "http")

    assert "http:POST /api/v1/appointments/" in http  # include("core.api_urls") prefix kept
    assert "http:GET /api/v1/slots/" in http
    assert any(re.fullmatch(r"http:POST /appointments/<int:pk>/\w[\w-]*/", u) for u in http)
    assert_no_ids_in_labels(list(http))
    book = http["http:POST /api/v1/appointments/"]
    assert any("core_appointment" in t["writes"] for t in book["transactions"])
    # Each test runs inside an atomic block rolled back at its end (the clinic's conftest):
    # the request's writes stay in that transaction, still open when the request ends.
    booked = {t["id"] for t in book["transactions"] if "core_appointment" in t["writes"]}
    assert {t["outcome"] for t in book["transactions"] if t["id"] in booked} == {"open"}


def test_travel_sqlite3_transactions_with_their_tables(tmp_path: Path) -> None:
    data = trace(tmp_path, "travel", "test_travel_booking.py")
    tests = segments(data, "test")

    booking = next(u for u in tests if u.endswith("::test_book_trip_needs_a_way_to_pay"))
    (rolled_back,) = tests[booking]["transactions"]
    assert rolled_back["outcome"] == "rollback"
    assert {"bookings", "booking_items", "seat_holds"} <= set(rolled_back["writes"])
    committed = [t for s in tests.values() for t in s["transactions"] if t["outcome"] == "commit"]
    assert any({"bookings", "payments"} <= set(t["writes"]) for t in committed)


PLAIN_APP = {
    "shop/__init__.py": "",
    "shop/store.py": """
        import sqlite3

        from analyzers.runtime.sqlcapture import trace_connection
        from analyzers.runtime.web import asgi_middleware, wsgi_middleware

        DATABASE = "carts.db"


        def add_item(path):
            # A connection the sqlite3 layer did not make stands for any DB-API driver.
            conn = trace_connection(sqlite3.Connection(DATABASE))
            cursor = conn.cursor()
            cursor.execute("INSERT INTO cart_items (path) VALUES (?)", (path,))
            cursor.execute("UPDATE carts SET items = items + 1")
            conn.commit()
            conn.close()


        def wsgi_app(environ, start_response):
            add_item(environ["PATH_INFO"])
            start_response("201 Created", [])
            return [b""]


        async def asgi_app(scope, receive, send):
            add_item(scope["path"])
            await send({"type": "http.response.start", "status": 201, "headers": []})
            await send({"type": "http.response.body", "body": b""})


        wsgi = wsgi_middleware(wsgi_app)
        asgi = asgi_middleware(asgi_app)
    """,
    "run.py": """
        import asyncio
        import sqlite3
        from wsgiref.util import setup_testing_defaults

        from shop.store import DATABASE, asgi, wsgi

        setup = sqlite3.connect(DATABASE)
        setup.executescript(
            "CREATE TABLE carts (items INT); CREATE TABLE cart_items (path TEXT);"
            "INSERT INTO carts VALUES (0);"
        )
        setup.close()
        for cart in (17, 18):
            environ = {"REQUEST_METHOD": "POST", "PATH_INFO": f"/carts/{cart}/items"}
            setup_testing_defaults(environ)
            wsgi(environ, lambda status, headers: None)


        async def receive():
            return {"type": "http.request", "body": b""}


        async def send(message):
            pass


        scope = {"type": "http", "method": "PUT", "path": "/carts/19/items"}
        asyncio.run(asgi(scope, receive, send))
    """,
}


def test_plain_wsgi_and_asgi_apps_wrapped_by_hand(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "project", PLAIN_APP)
    data = run_traced(tmp_path, project, [sys.executable, "run.py"], project)
    http = segments(data, "http")

    assert set(http) == {"http:POST /carts/<id>/items", "http:PUT /carts/<id>/items"}
    assert http["http:POST /carts/<id>/items"]["runs"] == 2
    for segment in http.values():
        assert [(q["writes"], q["transaction"] is not None) for q in segment["sql"]] == [
            (["cart_items"], True),
            (["carts"], True),
        ]
        (transaction,) = segment["transactions"]
        assert transaction["outcome"] == "commit"
        assert transaction["writes"] == ["cart_items", "carts"]
