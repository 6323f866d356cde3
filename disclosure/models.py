"""Vulnerability reports (SPEC §8: a security problem "may be reported at any time"): anyone
may send one, with or without an account, and it is kept here whatever happens to the mail
that tells the managers about it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VulnerabilityReport(models.Model):
    """One report as it was sent, with the address it came from (for the rate limit's audit
    trail and to spot abuse). The managers are told through the notification outbox."""

    summary = models.CharField(_("summary"), max_length=200)
    details = models.TextField(_("details"))
    affected_url = models.CharField(_("affected address"), max_length=500, blank=True)
    reporter_name = models.CharField(_("name"), max_length=200, blank=True)
    reporter_email = models.EmailField(_("e-mail address"), blank=True)
    client_address = models.GenericIPAddressField(_("sent from"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("vulnerability report")
        verbose_name_plural = _("vulnerability reports")

    def __str__(self) -> str:
        return self.summary
