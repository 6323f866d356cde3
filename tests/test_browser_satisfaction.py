"""Issue 17 in Debian's Chromium: a coordinator confirms a resolution and rates it (at 1366 px),
the mailed link works on a phone (390 px), and a support manager sees the ratings on the
satisfaction page."""

import re

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.conftest import SCREENSHOTS
from tests.test_browser_tickets import SECRETS, login, staff
from tickets import services
from tickets.models import SatisfactionRating
from tickets.services.satisfaction import rating_token
from tickets.tests.factories import coordinator_on, register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _resolved(coordinator, agent, title):
    ticket = register(coordinator, title=title)
    ticket = services.ticket_classify(ticket=ticket, by=agent, clarity="clear")
    return services.ticket_resolve(ticket=ticket, by=agent, resolution="Certificaat vernieuwd.")


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_coordinator_confirms_and_rates_and_the_manager_sees_it(live_server, browser):
    agent, manager = staff(Role.AGENT), staff(Role.MANAGER)
    coordinator = coordinator_on("extended")
    ticket = _resolved(coordinator, agent, "Certificaat verlopen")
    phone_ticket = _resolved(coordinator, agent, "Koppeling stopt")

    customer = login(browser, live_server, coordinator)
    customer.set_viewport_size({"width": 1366, "height": 900})
    customer.goto(f"{live_server.url}{reverse('portal:detail', args=[ticket.pk])}")
    customer.click("#form-confirm button[type=submit]")
    customer.wait_for_selector("#rating-question")
    customer.get_by_label("4 - satisfied").check()  # each radio is labelled
    customer.fill("#id_rate_comment", "Snel en duidelijk.")
    customer.screenshot(path=str(SCREENSHOTS / "satisfaction-question.png"), full_page=True)
    customer.click("#form-rate button[type=submit]")
    customer.wait_for_selector("#rating-given")
    assert customer.inner_text("#rating-score").strip() == "4/5"

    # The closing mail's link, opened on a phone without logging in.
    phone = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844}).new_page()
    services.ticket_confirm(ticket=phone_ticket, by=coordinator)
    phone.goto(f"{live_server.url}{reverse('rate', args=[rating_token(phone_ticket)])}")
    assert _no_sideways_scroll(phone)
    phone.get_by_label("2 - dissatisfied").check()
    phone.click("#form-rate button[type=submit]")
    phone.wait_for_selector("#rate-thanks")
    phone.screenshot(path=str(SCREENSHOTS / "satisfaction-link-390.png"), full_page=True)
    assert SatisfactionRating.objects.count() == 2

    boss = login(browser, live_server, manager, SECRETS["manager"])
    boss.set_viewport_size({"width": 1366, "height": 900})
    boss.goto(f"{live_server.url}/manager/")
    assert boss.inner_text("#satisfaction-summary").strip() == "3.0"  # the dashboard's card
    boss.click("nav.subnav >> text=Satisfaction")
    boss.wait_for_url(re.compile(r"/manager/satisfaction/"))
    boss.wait_for_selector("body[data-charts-ready=true]")
    assert boss.inner_text("#satisfaction-count").strip() == "2"
    assert boss.inner_text("#satisfaction-average").strip() == "3.0"
    agent_row = boss.locator("#satisfaction-agent tbody tr", has_text=agent.full_name)
    assert "2" in agent_row.inner_text() and "100.0%" in agent_row.inner_text()
    assert boss.locator("canvas#chart-satisfaction").count() == 1
    boss.screenshot(path=str(SCREENSHOTS / "satisfaction-manager.png"), full_page=True)
