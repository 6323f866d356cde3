"""The managers' pages under /manager/."""

from django.urls import path

from managers.views import knowledge
from sla.urls import urlpatterns as dashboard_patterns

app_name = "manager"
urlpatterns = [
    *dashboard_patterns,
    path("knowledge/", knowledge.knowledge, name="knowledge"),
]
