"""The managers' pages under /manager/."""

from django.urls import path

from managers.views import (
    announcements,
    availability,
    calendars,
    dashboard,
    holidays,
    knowledge,
    policies,
    reports,
    satisfaction,
    setup,
)

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
    path("sla-setup/", policies.overview, name="sla_setup"),
    path("sla-setup/policies/", policies.policy_list, name="policies"),
    path("sla-setup/policies/<int:pk>/", policies.policy_detail, name="policy"),
    path("sla-setup/calendars/<int:pk>/", calendars.calendar_detail, name="calendar"),
    path("sla-setup/holidays/", holidays.holidays, name="holidays"),
    # The set-up a manager keeps (issue 15): no more errands to the admin.
    path("setup/", setup.index, name="setup"),
    path("setup/organisations/", setup.organisations, name="setup_organisations"),
    path("setup/organisations/new/", setup.organisation_create, name="setup_organisation_create"),
    path("setup/organisations/<int:pk>/", setup.organisation, name="setup_organisation"),
    path("setup/organisations/<int:pk>/contracts/", setup.contract_add, name="setup_contract_add"),
    path("setup/organisations/<int:pk>/hours/", setup.hours_cards, name="setup_hours_cards"),
    path("setup/contracts/<int:pk>/", setup.contract, name="setup_contract"),
    path("setup/hours-cards/<int:pk>/", setup.hours_card, name="setup_hours_card"),
    path("setup/products/", setup.products, name="setup_products"),
    path("setup/products/<int:pk>/", setup.product, name="setup_product"),
    path("setup/products/<int:pk>/modules/", setup.module_add, name="setup_module_add"),
    path("setup/modules/<int:pk>/", setup.module, name="setup_module"),
    path("setup/raci/", setup.raci, name="setup_raci"),
    path("setup/maintenance/", setup.maintenance, name="setup_maintenance"),
    path("setup/maintenance/<int:pk>/", setup.maintenance_window, name="setup_maintenance_window"),
    path("satisfaction/", satisfaction.satisfaction, name="satisfaction"),
    path("knowledge/", knowledge.knowledge, name="knowledge"),
]
