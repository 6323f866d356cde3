"""A support manager, logged in with password and TOTP in a real Chromium, opens the SLA
dashboard (its charts drawn by the vendored Chart.js) and a service report."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import PASSWORD
from conftest import totp_now
from tests.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _data():
    """A breached ticket, one at risk, one waiting, a week of stopped clocks and a report."""
    from managers.reports import report_content, report_html, report_pdf
    from sla import services
    from sla.models import ReportStatus, ServiceReport
    from sla.tests.factories import organisation_on_level
    from tickets.services import ticket_create

    now = timezone.now()
    organisation = organisation_on_level("extended", name="Gemeente Voorbeeld")
    for days in range(1, 60, 3):  # stopped clocks over the last weeks, for the trend charts
        ticket = ticket_create(
            organisation=organisation,
            by=None,
            kind="incident",
            title=f"Storing {days}",
            impact=1 + days % 3,
            urgency=1,
            registered_at=now - timedelta(days=days),
        )
        services.sla_clock_stop(
            ticket=ticket,
            kind="response",
            by=None,
            reason="reply",
            at=now - timedelta(days=days) + timedelta(hours=1 + days % 7),
        )
    ticket_create(
        organisation=organisation,
        by=None,
        kind="incident",
        title="Open en te laat",
        impact=1,
        urgency=1,
        registered_at=now - timedelta(days=3),
    )
    late = ticket_create(
        organisation=organisation,
        by=None,
        kind="incident",
        title="Laat beantwoord",
        impact=1,
        urgency=1,
        registered_at=now - timedelta(days=10),
    )
    services.sla_clocks_pause(ticket=late, by=None, reason="Welke versie?", at=now - timedelta(days=9))
    services.sla_clocks_resume(ticket=late, by=None, reason="Antwoord", at=now - timedelta(days=8))
    services.sla_clock_stop(ticket=late, kind="response", by=None, reason="reply", at=now - timedelta(days=6))
    start, end = (now - timedelta(days=90)).date(), now.date()
    content = report_content(organisation=organisation, start=start, end=end)
    return ServiceReport.objects.create(
        organisation=organisation,
        period_start=start,
        period_end=end,
        status=ReportStatus.DONE,
        progress=100,
        html=report_html(content),
        pdf=report_pdf(content),
        finished_at=timezone.now(),
    )


def test_manager_opens_the_dashboard_and_a_report(live_server, browser, manager):
    report = _data()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", totp_now())
    page.press("input[name=code]", "Enter")
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/manager/")
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.inner_text("#total-breached").strip() != ""
    assert page.locator("#figures tbody tr").count() == 8  # the seeded published figures
    assert page.locator("canvas#chart-response-level").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    page.click("#total-breached")
    page.wait_for_selector("#ticket-list")
    assert "Open en te laat" in page.inner_text("#ticket-list")

    page.goto(f"{live_server.url}/manager/reports/{report.pk}/")
    page.wait_for_selector("#pdf-link")
    assert "Gemeente Voorbeeld" in page.inner_text("h1")
    # the breach, explained (the other tickets' clocks may breach too, by the hour the test runs)
    late = page.locator(".breach-row", has_text="Laat beantwoord")
    assert late.count() == 1 and "business hours counted against a target" in late.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
