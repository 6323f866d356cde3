from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        from accounts.models import Organisation
        from sla.models import ServiceLevel
        from tickets.caching import filter_choices_changed, saved_views_changed
        from tickets.models import Product, SavedView

        # The desk's filter form lists these; its cached fragment must not outlive a change.
        for model in (Organisation, ServiceLevel, Product):
            uid = f"filter-choices-{model.__name__}"
            post_save.connect(filter_choices_changed, sender=model, dispatch_uid=uid)
            post_delete.connect(filter_choices_changed, sender=model, dispatch_uid=uid)
        post_save.connect(saved_views_changed, sender=SavedView, dispatch_uid="saved-views")
        post_delete.connect(saved_views_changed, sender=SavedView, dispatch_uid="saved-views")
