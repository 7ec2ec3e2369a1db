"""Access control for views and API endpoints."""

import functools

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from core.exceptions import ClinicError
from core.models import StaffMember
from core.utils import clinic_setting, json_error, read_json_body


def current_staff(request):
    """The StaffMember of the logged-in user, or None (set by the middleware)."""
    staff = getattr(request, "staff", None)
    if staff is not None:
        return staff
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return StaffMember.objects.filter(user=user, is_active=True).first()


def staff_required(*roles):
    """Only logged-in staff (optionally of the given roles) may use the view."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = current_staff(request)
            if staff is None or (roles and staff.role not in roles and not request.user.is_superuser):
                raise PermissionDenied("not allowed for your role")
            request.staff = staff
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class StaffRequiredMixin:
    """Class-based view flavour of :func:`staff_required`."""

    allowed_roles = ()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        staff = current_staff(request)
        if staff is None or (
            self.allowed_roles and staff.role not in self.allowed_roles and not request.user.is_superuser
        ):
            raise PermissionDenied("not allowed for your role")
        request.staff = staff
        return super().dispatch(request, *args, **kwargs)


def api_view(*roles):
    """
    JSON endpoint: session or ``X-Clinic-Token`` authentication, JSON body
    parsing into ``request.json``, and ClinicError -> JSON error response.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            token = request.headers.get("X-Clinic-Token")
            if token and token in clinic_setting("API_TOKENS", []):
                request.staff = None  # machine client (kiosk), all roles
            else:
                staff = current_staff(request)
                if staff is None:
                    return json_error("authentication required", status=401, code="unauthenticated")
                if roles and staff.role not in roles:
                    return json_error("not allowed for your role", status=403, code="forbidden")
                request.staff = staff
            try:
                request.json = read_json_body(request) if request.method in ("POST", "PUT", "PATCH") else {}
            except ValueError as exc:
                return json_error(str(exc), status=400)
            try:
                return view(request, *args, **kwargs)
            except ClinicError as exc:
                return json_error(exc.message, status=exc.status, code=exc.code, **exc.details)

        return wrapper

    return decorator
