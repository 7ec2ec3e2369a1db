"""Exception hierarchy.

Everything the CLI should report to the user as a one-line message derives from
:class:`TravelError`; anything else is a bug and gets a traceback.
"""


class TravelError(Exception):
    """Base class for expected, user-facing failures."""

    exit_code = 1


class ValidationError(TravelError):
    """Bad input: unknown airport, check-out before check-in, ..."""


class NotFound(TravelError):
    """A referenced row does not exist."""


class InvalidState(TravelError):
    """The operation is not allowed in the current state (e.g. cancelling twice)."""


class SoldOut(TravelError):
    """Not enough seats or rooms left to hold."""


class PaymentDeclined(TravelError):
    """The payment gateway refused the charge."""

    exit_code = 3

    def __init__(self, message, code="declined"):
        super().__init__(message)
        self.code = code


class GatewayError(TravelError):
    """The payment gateway failed in a way worth retrying."""

    exit_code = 4
