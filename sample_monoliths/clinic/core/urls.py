"""URLs of the front-office pages."""

from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    # patients
    path("patients/", views.PatientListView.as_view(), name="patient-list"),
    path("patients/new/", views.PatientCreateView.as_view(), name="patient-create"),
    path("patients/<int:pk>/", views.PatientDetailView.as_view(), name="patient-detail"),
    path("patients/<int:pk>/edit/", views.PatientUpdateView.as_view(), name="patient-edit"),
    path("patients/<int:pk>/deactivate/", views.deactivate_patient_view, name="patient-deactivate"),
    path("patients/<int:patient_pk>/invoices/", views.patient_invoices_view, name="patient-invoices"),
    # appointments and rooms
    path("appointments/book/", views.book_appointment_view, name="appointment-book"),
    path("appointments/<int:pk>/", views.AppointmentDetailView.as_view(), name="appointment-detail"),
    path("appointments/<int:pk>/cancel/", views.cancel_appointment_view, name="appointment-cancel"),
    path("appointments/<int:pk>/check-in/", views.check_in_view, name="appointment-check-in"),
    path("appointments/<int:pk>/complete/", views.complete_appointment_view, name="appointment-complete"),
    path("appointments/<int:pk>/no-show/", views.no_show_view, name="appointment-no-show"),
    path("schedule/", views.DayScheduleView.as_view(), name="schedule"),
    # pharmacy
    path(
        "patients/<int:patient_pk>/prescriptions/new/",
        views.prescription_create_view,
        name="prescription-create",
    ),
    path("prescriptions/<int:pk>/dispense/", views.dispense_view, name="prescription-dispense"),
    path("pharmacy/stock/", views.StockListView.as_view(), name="stock-list"),
    path("pharmacy/restock/", views.restock_view, name="restock"),
    # lab
    path("patients/<int:patient_pk>/lab-orders/new/", views.lab_order_create_view, name="lab-order-create"),
    path("lab/orders/<int:pk>/", views.LabOrderDetailView.as_view(), name="lab-order-detail"),
    path("lab/orders/<int:pk>/collect/", views.collect_specimen_view, name="lab-order-collect"),
    path("lab/orders/<int:pk>/results/", views.record_result_view, name="lab-order-result"),
    # billing
    path("invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice-detail"),
    path("invoices/<int:pk>/issue/", views.issue_invoice_view, name="invoice-issue"),
    path("invoices/<int:pk>/payments/", views.record_payment_view, name="invoice-payment"),
    path("invoices/<int:pk>/claim/", views.create_claim_view, name="invoice-claim"),
    path("claims/<int:pk>/decide/", views.ClaimDecisionView.as_view(), name="claim-decide"),
    # notifications and reports
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path("reports/", views.reports_view, name="reports"),
    path("reports/revenue.csv", views.revenue_csv_view, name="revenue-csv"),
]
