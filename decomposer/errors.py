"""User errors: problems the user can fix. The CLI renders them without traceback, exit 2."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class DecomposerError(Exception):
    """A problem the user can fix: one sentence naming the file, key or value, and a hint."""

    exit_code: ClassVar[int] = 2

    def __init__(
        self, message: str, *, hint: str | None = None, details: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = tuple(details)


class ConfigError(DecomposerError):
    """`[tool.decomposer]` or a command-line option is wrong."""


class InputError(DecomposerError):
    """A path, graph.json or other input file cannot be used."""


class PluginError(DecomposerError):
    """A plugin cannot be found, imported or validated."""
