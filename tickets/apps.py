from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        from accounts.models import Organisation
        from sla.models import ServiceLevel
        from tickets.caching import (
            filter_choices_changed,
            hours_left_changed,
            macros_changed,
            mail_drafts_changed,
            raci_changed,
            saved_views_changed,
        )
        from tickets.models import HoursBooking, HoursCard, Macro, MailDraft, Product, RaciRule, SavedView

        # The desk's filter form lists these; its cached fragment must not outlive a change.
        for model in (Organisation, ServiceLevel, Product):
            uid = f"filter-choices-{model.__name__}"
            post_save.connect(filter_choices_changed, sender=model, dispatch_uid=uid)
            post_delete.connect(filter_choices_changed, sender=model, dispatch_uid=uid)
        # The desk lists a user's saved views, the portal the hours left on the cards.
        # Coordinators see the count of mail drafts waiting in the navigation.
        for model, receiver in (
            (SavedView, saved_views_changed),
            (HoursCard, hours_left_changed),
            (HoursBooking, hours_left_changed),
            (MailDraft, mail_drafts_changed),
            # The desk ticket page reads the RACI table and the macros from the cache.
            (RaciRule, raci_changed),
            (Macro, macros_changed),
        ):
            uid = f"cached-{model.__name__}"
            post_save.connect(receiver, sender=model, dispatch_uid=uid)
            post_delete.connect(receiver, sender=model, dispatch_uid=uid)
        # The queue's bulk form lists the staff to assign to.
        from accounts.models import User
        from tickets.caching import staff_changed

        post_save.connect(staff_changed, sender=User, dispatch_uid="cached-bulk-form")
        post_delete.connect(staff_changed, sender=User, dispatch_uid="cached-bulk-form")
