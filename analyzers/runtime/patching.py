"""Patches that can be undone, and hooks that run when a module is first imported.

The integrations patch frameworks only once the application imports them, so tracing a
program never imports Flask, Django, SQLAlchemy or Celery on its own. A finder placed first
on ``sys.meta_path`` lets the normal finders locate a watched module, then runs the hook right
after the module's code has executed. Everything is stdlib only: this runs in traced processes.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from importlib.abc import MetaPathFinder
from types import ModuleType
from typing import Any

Hook = Callable[[ModuleType], None]

#: The runtime package's name in traced processes (see bootstrap/sitecustomize.py).
RUNTIME_PACKAGE = "_decomposer_runtime"

_undo: list[Callable[[], None]] = []
_lock = threading.Lock()


def replace_attribute(owner: Any, name: str, new: Any) -> Any:
    """Set ``owner.name`` to ``new`` until :func:`undo_all`; returns the value it had."""
    old = getattr(owner, name)
    if isinstance(owner, type) and name not in owner.__dict__:
        _undo.append(lambda: delattr(owner, name))  # it was inherited: uncover it again
    else:
        _undo.append(lambda: setattr(owner, name, old))
    setattr(owner, name, new)
    return old


def on_undo(action: Callable[[], None]) -> None:
    """Run ``action`` (e.g. remove an event listener) when the patches are undone."""
    _undo.append(action)


def undo_all() -> None:
    """Undo every patch, newest first, and stop watching imports."""
    while _undo:
        _undo.pop()()
    for finder in [f for f in sys.meta_path if isinstance(f, PostImportFinder)]:
        sys.meta_path.remove(finder)


class PostImportFinder(MetaPathFinder):
    """Runs a hook once a watched module has been imported (or now, if it already is)."""

    def __init__(self, hooks: dict[str, Hook]) -> None:
        self._pending = dict(hooks)
        for name in list(self._pending):
            module = sys.modules.get(name)
            if module is not None:
                self._fire(name, module)

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in self._pending:
            return None
        spec = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        if loader is None or isinstance(loader, type) or not hasattr(loader, "exec_module"):
            return spec
        # The loader keeps its identity (resources, __loader__ stay right); only this
        # instance's exec_module is shadowed until the module has run. A loader may serve
        # other modules meanwhile (one zipimporter per archive): those just run.
        original = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            if module.__name__ != name:
                original(module)
                return
            try:
                original(module)
            finally:
                loader.__dict__.pop("exec_module", None)
            self._fire(name, module)

        loader.exec_module = exec_module
        return spec

    def _fire(self, name: str, module: ModuleType) -> None:
        with _lock:
            hook = self._pending.pop(name, None)
        if hook is not None:
            hook(module)


def watch_imports(hooks: dict[str, Hook]) -> None:
    """Call ``hooks[name](module)`` once each named module is imported."""
    sys.meta_path.insert(0, PostImportFinder(hooks))


def tracing_copy(name: str, caller: str) -> ModuleType | None:
    """The tracer's own copy of runtime module ``name`` (``web``), when the caller (module
    ``caller``) is another one: an application importing ``analyzers.runtime.web`` gets a
    copy whose recorder never runs, so the helpers it calls hand over to the tracer's."""
    live = sys.modules.get(f"{RUNTIME_PACKAGE}.{name}")
    return live if live is not None and live.__name__ != caller else None
