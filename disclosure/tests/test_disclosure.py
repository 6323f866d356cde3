"""Vulnerability reports (SPEC §8: a security problem "may be reported at any time"):
security.txt (RFC 9116), a public form that reaches the managers and keeps its own record."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from accounts.models import Notification, NotificationTopic, Role
from accounts.services import notification_deliver_pending
from accounts.tests.factories import UserFactory
from disclosure.models import VulnerabilityReport

pytestmark = pytest.mark.django_db

REPORT = {
    "summary": "Stored XSS in ticket titles",
    "details": "A title of <script>alert(1)</script> runs in the desk queue.",
    "affected_url": "https://sla.example/desk/",
    "reporter_name": "Ada",
    "reporter_email": "Ada@Researcher.example",
}


def _fields(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.strip().splitlines())


@pytest.mark.parametrize("now", [datetime(2026, 12, 2, 12, 0, tzinfo=UTC), datetime(2031, 6, 1, tzinfo=UTC)])
def test_security_txt_names_the_form_and_expires_within_a_year_of_the_request(client, settings, now):
    """RFC 9116: Contact and Expires are required; Expires is computed when asked, so the file
    never goes stale."""
    settings.SITE_URL = "https://sla.example"
    with time_machine.travel(now, tick=False):
        response = client.get("/.well-known/security.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    fields = _fields(response.content.decode())
    assert fields["Contact"] == "https://sla.example/security/report/"
    assert fields["Preferred-Languages"] == "nl, en"
    assert fields["Canonical"] == "https://sla.example/.well-known/security.txt"
    expires = datetime.fromisoformat(fields["Expires"])
    assert now < expires <= now + timedelta(days=365)


def test_anyone_reports_a_vulnerability_and_every_manager_is_mailed(client):
    """Doc 000, "Kwetsbaarheid & Zwakte constatering": "Ten alle tijden geldt: Kom je een
    kwetsbaarheid en/of zwakte in ons platform tegen, meld dit dan direct!" No login needed."""
    managers = [UserFactory(role=Role.MANAGER, is_staff=True), UserFactory(role=Role.MANAGER, language="nl")]
    UserFactory(role=Role.MANAGER, is_active=False)
    UserFactory(role=Role.AGENT)
    assert client.get("/security/report/").status_code == 200  # no login
    response = client.post("/security/report/", REPORT, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200 and "Report received" in response.content.decode()
    report = VulnerabilityReport.objects.get()
    assert report.summary == REPORT["summary"] and report.reporter_email == "ada@researcher.example"
    assert report.client_address == "203.0.113.7"
    notes = Notification.objects.filter(topic=NotificationTopic.SECURITY)
    assert {n.recipient_id for n in notes} == {m.pk for m in managers}
    # the outbox delivers them as every other mail
    assert notification_deliver_pending() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in managers)
    dutch = next(m for m in mail.outbox if m.to == [managers[1].email])
    assert dutch.subject.startswith("Kwetsbaarheidsmelding")
    assert "Stored XSS in ticket titles" in dutch.body and "/security/reports/" in dutch.body


def test_the_form_speaks_dutch(client):
    page = client.get("/security/report/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Kwetsbaarheid melden" in page


def test_a_bad_report_is_a_form_error_and_saves_nothing(client):
    response = client.post("/security/report/", {**REPORT, "summary": "", "reporter_email": "nope"})
    assert response.status_code == 400
    assert not VulnerabilityReport.objects.exists() and not Notification.objects.exists()


def test_reports_are_rate_limited_per_client_address(client, settings):
    settings.SECURITY_REPORTS_PER_HOUR = 3
    for _ in range(3):
        assert client.post("/security/report/", REPORT, REMOTE_ADDR="198.51.100.1").status_code == 200
    refused = client.post("/security/report/", REPORT, REMOTE_ADDR="198.51.100.1")
    assert refused.status_code == 429 and "wait" in refused.content.decode()
    assert VulnerabilityReport.objects.count() == 3
    # another address is not held up by the first
    assert client.post("/security/report/", REPORT, REMOTE_ADDR="198.51.100.2").status_code == 200


def test_managers_list_the_reports_from_their_navigation(manager_client, client):
    VulnerabilityReport.objects.create(summary="Open redirect", details="/login?next=//evil.example")
    home = manager_client.get("/manager/").content.decode()
    assert 'href="/security/reports/"' in home
    page = manager_client.get("/security/reports/")
    assert page.status_code == 200 and "Open redirect" in page.content.decode()


def test_only_managers_see_the_list(agent_client):
    from django.test import Client

    assert Client().get("/security/reports/").status_code == 302  # to the login page
    assert agent_client.get("/security/reports/").status_code == 403
