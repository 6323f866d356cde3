"""Issue 14 "Done when", in Debian's Chromium: a visitor asks for an account on the login page,
a manager approves it as coordinator of a new organisation, the coordinator sets a password from
the welcome mail, registers a ticket, is mailed support's question with a link that works,
answers it, and changes password and language on the profile page.

Every person has a browser context of their own; the mails are the real outbox delivered by
the real delivery function into Django's locmem mailbox."""

import re

import pytest
from django.core import mail

from accounts.models import AccountRequest, Role, User
from accounts.services import notification_deliver_pending
from conftest import open_menu
from sla.models import ServiceLevel
from tests.test_browser_tickets import SECRETS, login, register_in_portal, shot, staff, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "nina@bakkerij-nieuw.example"
NEW_PASSWORD = "Zuurdesem-en-rogge-2026"
NEWER_PASSWORD = "Speltbrood-met-walnoot-2027"


def _context(browser, width=390):
    context = browser.new_context(
        locale="nl-NL", timezone_id="Europe/Amsterdam", viewport={"width": width, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


def _mail_to(address: str, pattern: str) -> tuple[object, str]:
    """Deliver the outbox and return the newest mail to ``address`` with the link matching."""
    notification_deliver_pending()
    for message in reversed(mail.outbox):
        if address in message.to:
            found = re.search(pattern, message.body)
            if found:
                return message, found.group(0)
    raise AssertionError(f"no mail to {address} with {pattern}: {[m.subject for m in mail.outbox]}")


def _log_in(page, live_server, email: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")


def test_a_visitor_becomes_a_coordinator_is_asked_a_question_answers_and_edits_the_profile(
    browser, live_server, settings
):
    settings.SITE_URL = live_server.url  # the links in the mails lead to this server
    manager = staff(Role.MANAGER)
    agent = staff(Role.AGENT)

    # 1. a visitor finds the account request on the login page (at 390 px)
    visitor = _context(browser)
    visitor.goto(f"{live_server.url}/accounts/login/")
    with visitor.expect_navigation():
        visitor.click("#request-account")
    visitor.fill("input[name=full_name]", "Nina Nieuw")
    visitor.fill("input[name=email]", EMAIL)
    visitor.fill("input[name=organisation_name]", "Bakkerij Nieuw")
    with visitor.expect_navigation():
        visitor.click("main form button[type=submit]")
    assert AccountRequest.objects.filter(email=EMAIL).exists()
    shot(visitor, "onboarding_01_requested")

    # 2. a manager approves it: coordinator of a new organisation
    desk_manager = login(browser, live_server, manager, SECRETS["manager"])
    with desk_manager.expect_navigation():
        desk_manager.click("a[href='/account-requests/']")
    approve_as_coordinator_of_new_organisation(desk_manager)
    coordinator = User.objects.get(email=EMAIL)
    assert coordinator.role == Role.COORDINATOR and coordinator.organisation.name == "Bakkerij Nieuw"
    shot(desk_manager, "onboarding_02_approved")

    # 3. the welcome mail's link sets a password; the coordinator logs in and registers a ticket
    _welcome, link = _mail_to(EMAIL, r"https?://\S+/accounts/password/reset/key/\S+")
    assert link.startswith(live_server.url)
    visitor.goto(link)
    visitor.fill("input[name=password1]", NEW_PASSWORD)
    visitor.fill("input[name=password2]", NEW_PASSWORD)
    with visitor.expect_navigation():
        visitor.click("main form button[type=submit]")
    _log_in(visitor, live_server, EMAIL, NEW_PASSWORD)
    assert "/portal/" in visitor.url
    register_in_portal(visitor, live_server)
    visitor.check("input[name=nature][value=technical]")
    with visitor.expect_navigation():
        visitor.click("#register-form button[type=submit]")
    pk = int(re.search(r"/tickets/(\d+)/registered/", visitor.url).group(1))
    shot(visitor, "onboarding_03_registered")

    # 4. an agent asks a question
    desk = login(browser, live_server, agent, SECRETS["agent"])
    desk.goto(f"{live_server.url}/desk/tickets/{pk}/")
    desk.check("#form-classify input[name=clarity][value=unclear]")
    desk.fill("#form-classify textarea[name=question]", "Welke kassa geeft de fout?")
    submit(desk, "form-classify")
    assert desk.inner_text("#ticket-status") == "Waiting on customer"

    # 5. the coordinator is mailed, follows the link and answers
    message, ticket_link = _mail_to(EMAIL, rf"https?://\S+/portal/tickets/{pk}/")
    assert ticket_link.startswith(live_server.url)
    assert "Welke kassa geeft de fout?" in message.body
    visitor.goto(ticket_link)
    visitor.fill("#form-message textarea[name=body]", "Kassa 2, bij het afrekenen.")
    submit(visitor, "form-message")
    assert "Kassa 2, bij het afrekenen." in visitor.inner_text("main")
    shot(visitor, "onboarding_04_answered")

    # 6. the profile: a click on one's name; language and password
    open_menu(visitor)
    with visitor.expect_navigation():
        visitor.click("#nav-profile")
    assert visitor.inner_text("main h1") == "Profiel"  # the language the account was made with
    visitor.select_option("select[name=language]", "en")
    submit(visitor, "profile-form")
    assert visitor.locator("html").get_attribute("lang") == "en"
    assert "Your profile was saved." in visitor.inner_text(".messages")
    assert User.objects.get(email=EMAIL).language == "en"
    assert visitor.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    shot(visitor, "onboarding_05_profile")
    with visitor.expect_navigation():
        visitor.click("#profile-password")
    visitor.fill("input[name=oldpassword]", NEW_PASSWORD)
    visitor.fill("input[name=password1]", NEWER_PASSWORD)
    visitor.fill("input[name=password2]", NEWER_PASSWORD)
    with visitor.expect_navigation():
        visitor.click("main form button[type=submit]")
    assert User.objects.get(email=EMAIL).check_password(NEWER_PASSWORD)
    shot(visitor, "onboarding_06_password_changed")


def approve_as_coordinator_of_new_organisation(page) -> None:
    """The manager opens the request's approval page: a new organisation with its contract on
    Extended, the requester its coordinator."""
    row = page.locator("tr", has_text=EMAIL)
    with page.expect_navigation():
        row.locator("a[href*='/approve']").click()
    page.fill("input[name=organisation_name]", "Bakkerij Nieuw")
    page.select_option("select[name=service_level]", str(ServiceLevel.objects.get(code="extended").pk))
    page.select_option("select[name=role]", Role.COORDINATOR)
    with page.expect_navigation():
        page.click("main form.card button[type=submit]")
