"""Tickets. The SLA engine binds each ticket to the contract and policy in force at its
registration and keeps its clocks (``sla.models.Clock``)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantQuerySet
from tickets.choices import Impact, Priority, TicketKind, TicketStatus, Urgency


class TicketQuerySet(TenantQuerySet):
    tenant_path = "organisation"


class Ticket(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="tickets", verbose_name=_("organisation"))
    kind = models.CharField(_("kind"), max_length=30, choices=TicketKind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Impact.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    status = models.CharField(_("status"), max_length=30, choices=TicketStatus.choices,
                              default=TicketStatus.NEW)
    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      related_name="registered_tickets", null=True, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                 related_name="assigned_tickets", null=True, blank=True,
                                 verbose_name=_("assignee"))
    # Bound at registration and never changed: the promise made when the ticket came in.
    contract = models.ForeignKey("sla.Contract", on_delete=models.PROTECT, related_name="tickets")
    policy_version = models.ForeignKey("sla.PolicyVersion", on_delete=models.PROTECT,
                                       related_name="tickets")
    service_level = models.ForeignKey("sla.ServiceLevel", on_delete=models.PROTECT,
                                      related_name="tickets")
    updated_at = models.DateTimeField(auto_now=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-registered_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [models.Index(fields=["organisation", "-registered_at"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        """What customers quote, in mail subjects too: derived from the key, never stored."""
        return f"T-{self.pk:06d}"
