"""The Flask application factory.

``flask --app shop.app run`` for development; production runs ``shop.app:create_app()``
under gunicorn. Tests call :func:`create_app` with overrides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from shop import __version__, db
from shop.api import register_blueprints
from shop.cli import register_cli
from shop.errors import ShopError
from shop.settings import load_config
from shop.tasks.queue import get_queue
from shop.utils.logs import configure_logging, get_logger, log_event

log = get_logger("app")


def create_app(overrides: Mapping[str, Any] | None = None, env: str | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.update(load_config(env))
    if overrides:
        app.config.update(overrides)
    if not app.config.get("TESTING"):
        configure_logging(app.config["LOG_LEVEL"])
    db.init_app(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    app.add_url_rule("/health", "health", health)
    return app


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ShopError)
    def handle_shop_error(error: ShopError) -> Any:
        db.get_session().rollback()
        return jsonify(error.to_dict()), error.status_code

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Any:
        return jsonify({"error": (error.name or "error").lower().replace(" ", "_"),
                        "message": error.description}), error.code or 500

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Any:
        log_event(log, "request.crashed", error=f"{type(error).__name__}: {error}")
        if app.config.get("PROPAGATE_EXCEPTIONS") or app.testing:
            raise error
        return jsonify({"error": "internal_error", "message": "something went wrong"}), 500


def health() -> Any:
    """Load balancer check: database reachable, queue length for the dashboards."""
    db.get_session().execute(text("SELECT 1"))
    return jsonify({"status": "ok", "version": __version__, "queued_jobs": len(get_queue())})
