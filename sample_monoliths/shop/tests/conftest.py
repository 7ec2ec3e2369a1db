"""Fixtures: a fresh SQLite file database with the demo data for every test."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SAMPLE_ROOT = Path(__file__).resolve().parents[1]
if str(SAMPLE_ROOT) not in sys.path:
    sys.path.insert(0, str(SAMPLE_ROOT))

import pytest  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from shop.app import create_app  # noqa: E402
from shop.db import create_schema, get_engine, get_session  # noqa: E402
from shop.integrations.carriers import load_carrier  # noqa: E402
from shop.integrations.gateways import load_gateway  # noqa: E402
from shop.integrations.mailer import load_mailer  # noqa: E402
from shop.seed import seed_demo  # noqa: E402
from shop.tasks.queue import WorkerStats, get_queue, run_worker  # noqa: E402

ADMIN = {"X-Admin-Token": "admin-dev-token", "X-Actor": "test-admin"}

# Demo customers (see shop.seed): ids in insertion order.
ALICE, BOB, CAROL = 1, 2, 3


# Extensions holding per-app state (fake gateway ledger, mail outbox, queue): reset per test.
STATEFUL_EXTENSIONS = ("shop.payment_gateway", "shop.mailer", "shop.carrier", "shop.task_queue")


@pytest.fixture(scope="session")
def shop_app_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Path, Path, dict[str, Any]]]:
    """One app for the session, plus a template database built with ``create_all`` and seeded.

    Building the URL map and the schema takes a noticeable fraction of a second, so each test
    gets a copy of the template database file instead of a new app and a new schema.
    """
    base = tmp_path_factory.mktemp("shop-db")
    template, live = base / "template.db", base / "shop.db"
    builder = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{template}"}, env="testing")
    with builder.app_context():
        create_schema()
        session = get_session()
        seed_demo(session)
        session.commit()
    get_engine(builder).dispose()
    application = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{live}"}, env="testing")
    yield application, template, live, dict(application.config)
    get_engine(application).dispose()


@pytest.fixture
def app(shop_app_state: tuple[Flask, Path, Path, dict[str, Any]]) -> Iterator[Flask]:
    """The app, with a fresh copy of the seeded database and fresh integrations."""
    application, template, live, config = shop_app_state
    get_engine(application).dispose()
    shutil.copyfile(template, live)
    application.config.clear()
    application.config.update(config)
    for key in STATEFUL_EXTENSIONS:
        application.extensions.pop(key, None)
    yield application
    get_engine(application).dispose()


@pytest.fixture
def admin() -> dict[str, str]:
    """Headers of a back-office request."""
    return dict(ADMIN)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Callable[[], Any]:
    """``with db() as session:`` -- a session in its own app context, for assertions."""

    @contextmanager
    def open_session() -> Iterator[Session]:
        with app.app_context():
            yield get_session()

    return open_session


@pytest.fixture
def worker(app: Flask) -> Callable[[], WorkerStats]:
    return lambda: run_worker(app)


@pytest.fixture
def queue(app: Flask) -> Any:
    return get_queue(app)


@pytest.fixture
def mailer(app: Flask) -> Any:
    return load_mailer(app)


@pytest.fixture
def gateway(app: Flask) -> Any:
    return load_gateway(app)


@pytest.fixture
def carrier(app: Flask) -> Any:
    return load_carrier(app)


@pytest.fixture
def place(client: FlaskClient) -> Callable[..., Any]:
    """Place an order through the API; returns the response."""

    def _place(customer_id: int = ALICE, items: list[dict[str, Any]] | None = None, **extra: Any) -> Any:
        payload = {"customer_id": customer_id, "items": items or [{"sku": "KET-100", "quantity": 2}]}
        payload.setdefault("card_token", "tok_visa")
        payload.update(extra)
        return client.post("/orders", json=payload)

    return _place


@pytest.fixture
def shipped_order(client: FlaskClient, place: Callable[..., Any]) -> dict[str, Any]:
    """An order of 2 kettles and 1 lamp, placed and shipped."""
    response = place(items=[{"sku": "KET-100", "quantity": 2}, {"sku": "LMP-700", "quantity": 1}])
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    shipped = client.post(f"/admin/shipments/{order['shipment']['id']}/ship", headers=ADMIN)
    assert shipped.status_code == 200, shipped.get_json()
    return client.get(f"/orders/{order['number']}").get_json()
