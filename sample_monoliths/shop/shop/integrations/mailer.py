"""E-mail delivery backends (``MAILER_BACKEND``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app

from shop.utils.loading import instantiate
from shop.utils.logs import get_logger, log_event

log = get_logger("mailer")

EXTENSION_KEY = "shop.mailer"


class MailDeliveryError(RuntimeError):
    """The backend refused the message; the notification will be retried."""


@dataclass
class EmailMessage:
    to: str
    subject: str
    body: str
    sender: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class Mailer:
    def send(self, message: EmailMessage) -> None:
        raise NotImplementedError


class MemoryMailer(Mailer):
    """Keeps messages in ``outbox`` (development and tests).

    Addresses in ``bounce`` raise :class:`MailDeliveryError`, like a hard bounce would.
    """

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []
        self.bounce: set[str] = set()

    def send(self, message: EmailMessage) -> None:
        if message.to in self.bounce:
            raise MailDeliveryError(f"mailbox unavailable: {message.to}")
        self.outbox.append(message)

    def sent_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.outbox if m.to == address]


class LogMailer(Mailer):
    """Writes messages to the log instead of sending them (production fallback)."""

    def send(self, message: EmailMessage) -> None:
        log_event(log, "mail.logged", to=message.to, subject=message.subject)


def load_mailer(app: Flask | None = None) -> Mailer:
    app = app or current_app
    mailer = app.extensions.get(EXTENSION_KEY)
    if mailer is None:
        mailer = instantiate(app.config["MAILER_BACKEND"])
        app.extensions[EXTENSION_KEY] = mailer
    return mailer
