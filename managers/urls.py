"""The managers' pages under /manager/."""

from django.urls import path

from managers.views import announcements, availability, dashboard, reports

app_name = "manager"
urlpatterns = [
    path("", dashboard.dashboard, name="home"),
    path("dashboard.csv", dashboard.dashboard_csv, name="dashboard_csv"),
    path("tickets/", dashboard.ticket_list, name="tickets"),
    path("figures/", dashboard.figures, name="figures"),
    path("availability/", availability.availability, name="availability"),
    path("announcements/", announcements.announcements, name="announcements"),
    path("sla-changes/", announcements.sla_changes, name="sla_changes"),
    path("sla-changes/<int:pk>/objections/", announcements.objections, name="objections"),
    path("reports/", reports.reports, name="reports"),
    path("reports/<int:pk>/", reports.report_detail, name="report_detail"),
    path("reports/<int:pk>/status.json", reports.report_status, name="report_status"),
    path("reports/<int:pk>/pdf/", reports.report_pdf, name="report_pdf"),
]
