"""App configuration for ``core``."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Wires the signal receivers when the app registry is ready."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Clinic"

    def ready(self):
        # Importing the module registers the receivers; keep this import here
        # (not at module level) or the models are not loaded yet.
        from core import signals  # noqa: F401
