"""A coordinator on a phone (390 px wide) opens "Our SLA" from the portal's navigation, in
Dutch and in English, in Debian's Chromium."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import open_menu
from sla.tests.factories import organisation_on_level
from tests.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_opens_our_sla_from_the_navigation_on_a_phone(live_server, browser):
    from sla import services
    from tickets.services import ticket_create

    organisation = organisation_on_level("extended", name="Gemeente Voorbeeld")
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation, language="nl")
    now = timezone.now()
    ticket = ticket_create(
        organisation=organisation,
        by=None,
        kind="incident",
        title="Storing",
        impact=1,
        urgency=1,
        registered_at=now - timedelta(days=20),
    )
    services.sla_clock_stop(
        ticket=ticket,
        kind="response",
        by=None,
        reason="antwoord",
        at=now - timedelta(days=20) + timedelta(minutes=30),
    )
    context = browser.new_context(
        locale="nl-NL", timezone_id="Europe/Amsterdam", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", coordinator.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(re.compile(r"/portal/"))

    open_menu(page)
    page.click("#nav-our-sla")
    page.wait_for_selector("#targets")
    assert "Extended" in page.inner_text("#level")
    assert "Onze SLA" in page.inner_text("nav")
    assert page.locator("#closed-days time").count() >= 8  # this year's and next year's holidays
    assert "4" in page.inner_text("#coordinators")
    assert page.locator("#figures .figure-row").count() == 8
    # nothing wider than the phone: tables scroll inside their card
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(SCREENSHOTS / "our_sla_390.png"), full_page=True)

    open_menu(page)
    page.click("form.lang button[value=en]")
    page.wait_for_selector("#targets")
    assert "Our SLA" in page.inner_text("h1") or "The SLA of" in page.inner_text("h1")
    assert "Business hours" in page.inner_text("#hours")
    context.close()
