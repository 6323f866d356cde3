from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ManagersConfig(AppConfig):
    """The support managers' side, above the engine (``sla``) and the desk (``tickets``):
    dashboards, reports, availability, announcements and the administration of the SLA."""

    name = "managers"
    verbose_name = _("Support management")
