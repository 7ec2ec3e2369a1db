"""Template context shared by every page."""

from core.utils import clinic_setting


def clinic(request):
    """Clinic name and the current staff member for the page header."""
    return {
        "clinic_name": clinic_setting("NAME", "Clinic"),
        "currency": clinic_setting("CURRENCY", "EUR"),
        "current_staff": getattr(request, "staff", None),
    }
