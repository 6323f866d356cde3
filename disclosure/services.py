"""Writes for vulnerability reports."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationTopic, Role, User
from accounts.services import notification_deliver_soon
from disclosure.models import VulnerabilityReport


@transaction.atomic
def vulnerability_report_create(
    *,
    summary: str,
    details: str,
    affected_url: str = "",
    reporter_name: str = "",
    reporter_email: str = "",
    client_address: str | None = None,
    language: str = "",
) -> VulnerabilityReport:
    """Keep the report and tell every active support manager by e-mail, through the outbox in
    the same transaction: the report and its notifications exist together or not at all."""
    report = VulnerabilityReport.objects.create(
        summary=summary.strip(),
        details=details,
        affected_url=affected_url.strip(),
        reporter_name=reporter_name.strip(),
        reporter_email=reporter_email.strip().lower(),
        client_address=client_address or None,
        language=language,
    )
    link = settings.SITE_URL.rstrip("/") + reverse("disclosure:list")
    rows = []
    for manager in User.objects.filter(role=Role.MANAGER, is_active=True):
        with translation.override(manager.language):
            subject = _("Vulnerability report: %(summary)s") % {"summary": report.summary}
            body = _(
                "A vulnerability was reported.\n\nSummary: %(summary)s\nAffected address: %(url)s\n"
                "Reported by: %(name)s <%(email)s>\n\n%(details)s\n\nAll reports: %(link)s"
            ) % {
                "summary": report.summary,
                "url": report.affected_url or "-",
                "name": report.reporter_name or "-",
                "email": report.reporter_email or "-",
                "details": report.details,
                "link": link,
            }
        rows.append(
            Notification(
                recipient=manager, topic=NotificationTopic.SECURITY, subject=subject[:200], body=body
            )
        )
    Notification.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(notification_deliver_soon)
    return report
