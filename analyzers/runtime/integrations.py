"""Use-case segments and SQL capture for the frameworks and drivers an application uses.

The tracer's bootstrap calls :func:`install` at start in every traced process. It imports
nothing but the standard library: each framework is patched when the application itself
imports it (see :mod:`analyzers.runtime.patching`). What is captured, and how, is described
in docs/trace-integrations.md.
"""

from __future__ import annotations

from . import celery_tasks, patching, sqlcapture, web

# module whose import triggers the patch -> the patch
HOOKS: dict[str, patching.Hook] = {
    "sqlite3": sqlcapture.patch_sqlite3,
    "sqlalchemy": sqlcapture.patch_sqlalchemy,
    "django.db.backends.base.base": sqlcapture.patch_django_db,
    "flask": web.patch_flask,
    "django.core.handlers.base": web.patch_django,
    "celery": celery_tasks.patch_celery,
}

_installed = False


def install(only: tuple[str, ...] | None = None) -> None:
    """Patch each framework now if it is imported, else as soon as it is.

    ``only`` limits the integrations to some of the module names of :data:`HOOKS`.
    Calling it again does nothing until :func:`uninstall`.
    """
    global _installed
    if _installed:
        return
    _installed = True
    patching.watch_imports({n: h for n, h in HOOKS.items() if only is None or n in only})


def uninstall() -> None:
    """Undo every patch (tests use it to leave the process as they found it)."""
    global _installed
    patching.undo_all()
    _installed = False
