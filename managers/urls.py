"""The managers' pages under /manager/."""

from django.urls import path

from managers.views import calendars, policies
from sla.urls import urlpatterns as dashboard_patterns

app_name = "manager"
urlpatterns = [
    *dashboard_patterns,
    path("sla-setup/", policies.overview, name="sla_setup"),
    path("sla-setup/policies/", policies.policy_list, name="policies"),
    path("sla-setup/policies/<int:pk>/", policies.policy_detail, name="policy"),
    path("sla-setup/calendars/<int:pk>/", calendars.calendar_detail, name="calendar"),
]
