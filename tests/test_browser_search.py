"""Issue 16 in Debian's Chromium: an agent finds a ticket by a phrase from a customer's message
and by a bug reference, from the search box in the desk header, and opens it; a customer's
search in the portal finds their own ticket but never an internal note's words."""

import re

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from conftest import open_menu
from sla.tests.factories import organisation_on_level
from tests.test_browser_tickets import SECRETS, login, shot, staff
from tickets import services
from tickets.models import BugReference, Message
from tickets.tests.factories import register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def search_from_header(page, query: str) -> None:
    open_menu(page)
    page.fill("header input[type=search][name=q]", query)
    with page.expect_navigation():
        page.press("header input[type=search][name=q]", "Enter")


def test_an_agent_finds_a_ticket_by_a_customers_phrase_and_a_bug_reference(browser, live_server):
    coordinator = UserFactory(
        role=Role.COORDINATOR, organisation=organisation_on_level("extended"), full_name="Carla Verhoeven"
    )
    agent = staff(Role.AGENT)
    ticket = register(coordinator, title="Export loopt vast")
    register(coordinator, title="Iets heel anders")  # newer, and not what we look for
    Message.objects.create(
        ticket=ticket,
        kind="customer",
        author=coordinator,
        body="Sinds de update geeft de factuurmodule een foutmelding bij het exporteren naar Excel.",
        created_at=timezone.now(),
    )
    services.message_note_internal(ticket=ticket, by=agent, body="Leverancier meldt een geheugenlek.")
    BugReference.objects.create(
        ticket=ticket, reference="BUG-4711", registered_by=agent, registered_at=timezone.now()
    )

    page = login(browser, live_server, agent, SECRETS["agent"])
    search_from_header(page, '"foutmelding bij het exporteren"')
    assert "/desk/search/" in page.url
    results = page.locator(".search-hit")
    assert results.count() == 1
    assert "message" in results.first.inner_text()
    assert results.first.locator("mark").count() >= 1
    shot(page, "search-desk-phrase")
    with page.expect_navigation():
        results.first.locator("h2 a").click()
    assert page.url.endswith(f"/desk/tickets/{ticket.pk}/")
    assert "Export loopt vast" in page.content()

    search_from_header(page, "4711")
    assert page.locator(".search-hit").count() == 1
    assert "bug reference" in page.locator(".search-hit").first.inner_text()
    with page.expect_navigation():
        page.locator(".search-hit h2 a").first.click()
    assert page.url.endswith(f"/desk/tickets/{ticket.pk}/")

    # a customer finds the ticket by their own words, never by the internal note's
    customer = login(browser, live_server, coordinator)
    search_from_header(customer, "factuurmodule")
    assert re.search(r"/portal/search/\?q=factuurmodule", customer.url)
    assert customer.locator(".search-hit").count() == 1
    search_from_header(customer, "geheugenlek")
    assert customer.locator(".search-hit").count() == 0
    assert "Nothing found" in customer.content()
    customer.set_viewport_size({"width": 390, "height": 844})
    search_from_header(customer, "Export")
    shot(customer, "search-portal-390")
    width = customer.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
