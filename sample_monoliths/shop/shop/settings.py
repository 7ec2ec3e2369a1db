"""Configuration.

Settings are class attributes on the config classes below; :func:`load_config` picks one by
``SHOP_ENV`` and lets environment variables named ``SHOP_<SETTING>`` override single values
(that is how production gets its database URL and secrets).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any


class Config:
    SECRET_KEY = "dev-not-secret"
    DATABASE_URL = "sqlite:///shop.db"
    SQL_ECHO = False
    SQLITE_PRAGMAS: dict[str, str] = {"busy_timeout": "5000"}
    LOG_LEVEL = "INFO"
    DEFAULT_CURRENCY = "EUR"

    # Integrations, loaded by dotted path (see shop.utils.loading).
    PAYMENT_GATEWAY = "shop.integrations.gateways.FakeCardGateway"
    PAYMENT_GATEWAY_OPTIONS: dict[str, Any] = {}
    PAYMENT_WEBHOOK_SECRET = "whsec-dev"
    MAILER_BACKEND = "shop.integrations.mailer.MemoryMailer"
    MAIL_FROM = "Shop <hello@shop.example>"
    CARRIER_BACKEND = "shop.integrations.carriers.FlatRateCarrier"
    CARRIER_WEBHOOK_TOKEN = "carrier-dev"

    # Background tasks.
    TASK_MODULES = ("shop.tasks.jobs",)
    TASKS_EAGER = False
    TASK_MAX_RETRIES = 3

    # Customers and credit.
    DEFAULT_CREDIT_LIMIT_CENTS = 50_000
    BUSINESS_CREDIT_LIMIT_CENTS = 500_000
    CREDIT_LIMIT_STEP_CENTS = 25_000
    CREDIT_LIMIT_MAX_CENTS = 200_000
    WELCOME_COUPON_PERCENT = 10

    # Inventory and fulfilment.
    DEFAULT_WAREHOUSE = "BER"
    LOW_STOCK_THRESHOLD = 5
    FREE_SHIPPING_THRESHOLD_CENTS = 10_000
    UNPAID_ORDER_EXPIRY_DAYS = 7
    INVOICE_DUE_DAYS = 14

    # VAT rates in basis points by destination country.
    VAT_RATES = {"DE": 1900, "AT": 2000, "NL": 2100, "BE": 2100, "FR": 2000, "IT": 2200, "ES": 2100, "GB": 2000}
    DEFAULT_VAT_RATE = 1900

    OPS_EMAIL = "ops@shop.example"
    ADMIN_TOKEN = "admin-dev-token"


class DevelopmentConfig(Config):
    SQL_ECHO = False
    LOG_LEVEL = "DEBUG"


class TestingConfig(Config):
    TESTING = True
    DATABASE_URL = "sqlite://"
    # Throwaway databases: do not wait for the disk on every commit.
    SQLITE_PRAGMAS = {"synchronous": "OFF", "journal_mode": "MEMORY"}
    LOG_LEVEL = "WARNING"


class ProductionConfig(Config):
    DATABASE_URL = "sqlite:////var/lib/shop/shop.db"
    LOG_LEVEL = "INFO"
    MAILER_BACKEND = "shop.integrations.mailer.LogMailer"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def _coerce(raw: str, default: Any) -> Any:
    """Convert an environment string to the type of the default value."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, (dict, list, tuple)):
        value = json.loads(raw)
        return tuple(value) if isinstance(default, tuple) else value
    return raw


def settings_dict(config_class: type[Config]) -> dict[str, Any]:
    return {name: getattr(config_class, name) for name in dir(config_class) if name.isupper()}


def load_config(name: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings for environment ``name`` (default ``$SHOP_ENV`` or development)."""
    environ = os.environ if environ is None else environ
    name = name or environ.get("SHOP_ENV", "development")
    try:
        config_class = CONFIGS[name]
    except KeyError:
        raise KeyError(f"unknown SHOP_ENV {name!r}; choose one of {sorted(CONFIGS)}") from None
    settings = settings_dict(config_class)
    for key, default in list(settings.items()):
        raw = environ.get(f"SHOP_{key}")
        if raw is not None:
            settings[key] = _coerce(raw, default)
    return settings
