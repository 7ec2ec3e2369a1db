"""Request middleware."""

import uuid

from core.models import StaffMember


class RequestIdMiddleware:
    """Tag each request with an id (from the load balancer when it sent one)."""

    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get(self.header) or uuid.uuid4().hex
        response = self.get_response(request)
        response[self.header] = request.request_id
        return response


class CurrentStaffMiddleware:
    """Attach ``request.staff`` (the logged-in user's StaffMember) to every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.staff = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.staff = (
                StaffMember.objects.select_related("user", "department")
                .filter(user=user, is_active=True)
                .first()
            )
        return self.get_response(request)
