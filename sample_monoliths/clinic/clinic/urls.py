"""
Root URL configuration.

The HTML front office lives under ``/``, the JSON API used by the booking
kiosk and the mobile app under ``/api/v1/``, and Django's admin under ``/admin/``.
"""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path


def healthcheck(request):
    """Liveness probe for the load balancer."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("core.api_urls")),
    path("healthz", healthcheck, name="healthcheck"),
    path("", include("core.urls")),
]
