from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    """The knowledge base (SPEC §1: "sources: knowledge base, documentation"): articles that
    support staff write and managers publish, read in the portal and (public ones) by anyone,
    suggested while a coordinator registers a ticket. Above ``tickets``: it cites tickets and
    lists products; ``tickets`` never imports it."""

    name = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from knowledge import signals  # noqa: F401  (citations recorded as replies are saved)
