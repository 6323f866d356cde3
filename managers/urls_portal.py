"""Customers' service pages under /portal/service/: what their SLA promises, their reports,
availability of their products, announcements, SLA changes and objections."""

from django.urls import path

from managers.views import announcements, availability, our_sla, reports

app_name = "service"
urlpatterns = [
    path("", our_sla.service_index_portal, name="index"),
    path("sla/", our_sla.our_sla_portal, name="our_sla"),
    path("reports/", reports.reports_portal, name="reports"),
    path("reports/<int:pk>/", reports.report_detail_portal, name="report_detail"),
    path("reports/<int:pk>/pdf/", reports.report_pdf_portal, name="report_pdf"),
    path("availability/", availability.availability_portal, name="availability"),
    path("announcements/", announcements.announcements_portal, name="announcements"),
    path("sla-changes/", announcements.sla_changes_portal, name="sla_changes"),
    path("sla-changes/<int:pk>/object/", announcements.objection_file, name="objection_file"),
]
