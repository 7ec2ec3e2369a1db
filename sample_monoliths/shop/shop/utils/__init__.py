"""Small helpers used all over the shop (money, dates, validation, ids, logging).

Nothing in here may import from ``shop.services`` or ``shop.api``: utils sit at the bottom
of the dependency stack. (``shop.errors`` is fine, it has no dependencies.)
"""

from shop.utils.dates import utcnow
from shop.utils.logs import get_logger
from shop.utils.money import format_money, to_cents

__all__ = ["format_money", "get_logger", "to_cents", "utcnow"]
