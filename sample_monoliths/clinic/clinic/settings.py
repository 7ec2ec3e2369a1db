"""
Django settings for the clinic project.

One settings module for every environment; the environment-specific values
come from ``CLINIC_*`` environment variables (see ops/README in the infra repo).
Defaults are safe for a developer laptop.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_flag(name, default=False):
    """Read a boolean flag from the environment ("1", "true", "yes" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get(
    "CLINIC_SECRET_KEY",
    "dev-only-7c1f0d2e6b9a4b1f8f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c",
)

DEBUG = _env_flag("CLINIC_DEBUG", default=True)

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("CLINIC_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "core.apps.CoreConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RequestIdMiddleware",
    "core.middleware.CurrentStaffMiddleware",
]

ROOT_URLCONF = "clinic.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.clinic",
            ],
        },
    },
]

WSGI_APPLICATION = "clinic.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("CLINIC_DB_PATH", str(BASE_DIR / "db.sqlite3")),
        "ATOMIC_REQUESTS": False,
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/admin/login/"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = os.environ.get(
    "CLINIC_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = "Lindenhof Clinic <no-reply@lindenhof-clinic.example>"

# Business settings. Everything the clinic staff asked to be "configurable"
# over the years ended up here; read them through core.utils.clinic_setting().
CLINIC = {
    "NAME": "Lindenhof Clinic",
    "CURRENCY": "EUR",
    "INVOICE_PREFIX": "INV",
    "CLAIM_PREFIX": "CLM",
    "MRN_PREFIX": "LH",
    "INVOICE_DUE_DAYS": 30,
    "LATE_CANCELLATION_HOURS": 24,
    "LATE_CANCELLATION_FEE": "25.00",
    "NO_SHOW_FEE": "40.00",
    "SLOT_MINUTES": 15,
    "LOW_STOCK_NOTIFY": True,
    "REMINDER_HOURS_BEFORE": 24,
    "SMS_GATEWAY_URL": os.environ.get("CLINIC_SMS_GATEWAY_URL", ""),
    "API_TOKENS": [t for t in os.environ.get("CLINIC_API_TOKENS", "").split(",") if t],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "clinic": {"handlers": ["console"], "level": os.environ.get("CLINIC_LOG_LEVEL", "INFO")},
    },
}
