"""Template filters used on the front-office pages."""

from django import template
from django.utils.html import format_html

from core.utils import format_money

register = template.Library()

STATUS_COLOURS = {
    "booked": "blue",
    "checked_in": "teal",
    "completed": "green",
    "cancelled": "grey",
    "no_show": "red",
    "paid": "green",
    "overdue": "red",
}


@register.filter
def money(value, currency=None):
    """``{{ invoice.total|money }}`` -> ``EUR 12.50``."""
    return format_money(value, currency)


@register.simple_tag
def status_badge(status):
    """A coloured status label."""
    colour = STATUS_COLOURS.get(status, "black")
    return format_html('<span class="badge badge-{}">{}</span>', colour, status.replace("_", " "))
