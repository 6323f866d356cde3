"""Issue 15 in Debian's Chromium: a support manager keeps the set-up without the admin. They
add a prepaid hours card for an organisation, and take a step from Support in the RACI grid;
the agent's desk stops offering it at once, and offers it again once restored."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import totp_now
from tests.conftest import SCREENSHOTS
from tickets.models import HoursCard
from tickets.tests.factories import coordinator_on, register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRETS = {"agent": "JBSWY3DPEHPK3PXPAGENTSET", "manager": "JBSWY3DPEHPK3PXPMANAGSET"}
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def staff(role: str):
    user = UserFactory(role=role, is_staff=role == Role.MANAGER)
    TOTP.activate(user, SECRETS[role])
    return user


def login(browser, live_server, user, *, viewport=DESKTOP):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Amsterdam", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now(SECRETS[user.role]))
    page.press("input[name=code]", "Enter")
    page.wait_for_url(re.compile(r"/(desk|manager)/"))
    return page


def submit(page, form: str) -> None:
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def set_raci_cell(page, live_server, name: str, letter: str) -> None:
    page.goto(f"{live_server.url}/manager/setup/raci/")
    page.select_option(f"select[name={name}]", letter)
    submit(page, "#raci-form")
    assert "RACI table saved: 1 cell(s) changed." in page.inner_text(".messages")


def test_a_manager_adds_an_hours_card_and_edits_a_raci_cell_that_the_desk_obeys(browser, live_server):
    coordinator = coordinator_on("extended", email="eva@zorggroep.example")
    organisation = coordinator.organisation
    ticket = register(coordinator, title="Koppeling stopt 's nachts")
    manager, agent = staff(Role.MANAGER), staff(Role.AGENT)

    # the manager finds the hours cards from the navigation: SLA dashboard, Set-up, Organisations
    page = login(browser, live_server, manager)
    page.goto(f"{live_server.url}/manager/")
    page.click('.subnav >> text="Set-up"')
    page.click(".setup-nav >> text=Organisations and hours cards")
    page.fill("main input[name=q]", organisation.name)
    submit(page, "form.filters")
    page.click(f"a[aria-label='Hours cards of {organisation.name}']")
    page.fill("input[name=hours]", "40")
    page.fill("input[name=purchased_on]", timezone.localdate().isoformat())
    page.fill("input[name=reference]", "SK-2026-7")
    submit(page, "#hours-card-form")
    assert "Hours card added." in page.inner_text(".messages")
    assert "SK-2026-7" in page.inner_text("#hours-cards")
    assert "40" in page.inner_text("#hours-left")
    assert HoursCard.objects.get(organisation=organisation).reference == "SK-2026-7"
    page.screenshot(path=str(SCREENSHOTS / "setup-hours-cards.png"), full_page=True)

    # the agent may classify the ticket now
    desk = login(browser, live_server, agent)
    detail = f"{live_server.url}/desk/tickets/{ticket.pk}/"
    desk.goto(detail)
    assert desk.locator("#form-classify").count() == 1

    # the manager takes step 3 from Support: the desk no longer offers it
    page.click(".setup-nav >> text=RACI table")
    assert page.locator("select[name=classify__support]").input_value() == "R"
    set_raci_cell(page, live_server, "classify__support", "")
    page.screenshot(path=str(SCREENSHOTS / "setup-raci.png"), full_page=True)
    desk.goto(detail)
    assert desk.locator("#form-classify").count() == 0
    assert desk.locator("#form-reply").count() == 1  # a reply is no step of the table

    # and gives it back: offered again
    set_raci_cell(page, live_server, "classify__support", "R")
    desk.goto(detail)
    assert desk.locator("#form-classify").count() == 1

    # on a phone the grid scrolls inside its wrapper; the page itself does not widen
    # (the same session: a second login in the same 30 s would reuse a spent TOTP code)
    phone = page
    phone.set_viewport_size(PHONE)
    phone.goto(f"{live_server.url}/manager/setup/raci/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.locator("select[name=classify__support]").count() == 1
    phone.screenshot(path=str(SCREENSHOTS / "setup-raci-390.png"), full_page=True)
