"""URLs of the JSON API, mounted under ``/api/v1/`` by the project urls."""

from django.urls import path

from core import api

app_name = "api"

urlpatterns = [
    path("patients/", api.patients, name="patients"),
    path("patients/<str:mrn>/", api.patient_detail, name="patient-detail"),
    path("patients/<str:mrn>/notifications/", api.patient_notifications, name="patient-notifications"),
    path("slots/", api.available_slots, name="slots"),
    path("appointments/", api.book, name="book"),
    path("appointments/<int:pk>/", api.AppointmentResource.as_view(), name="appointment"),
    path("prescriptions/<int:pk>/dispense/", api.dispense, name="dispense"),
    path("pharmacy/low-stock/", api.low_stock, name="low-stock"),
    path("lab/orders/<int:pk>/results/", api.lab_results, name="lab-results"),
    path("invoices/<str:number>/", api.invoice_detail, name="invoice"),
    path("claims/", api.claims, name="claims"),
]
