"""The managers' pages under /manager/."""

from sla.urls import urlpatterns as dashboard_patterns

app_name = "manager"
urlpatterns = [
    *dashboard_patterns,
]
