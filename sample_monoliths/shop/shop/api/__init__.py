"""The HTTP API (JSON), one blueprint per audience.

The storefront backend authenticates customers before calling us, so the customer-facing
routes trust the ids they get. Back-office routes need the admin token.
"""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from shop.api.admin import bp as admin_bp
    from shop.api.catalog import bp as catalog_bp
    from shop.api.customers import bp as customers_bp
    from shop.api.orders import bp as orders_bp
    from shop.api.webhooks import bp as webhooks_bp

    for blueprint in (customers_bp, catalog_bp, orders_bp, admin_bp, webhooks_bp):
        app.register_blueprint(blueprint)
