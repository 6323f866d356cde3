"""The Content-Security-Policy breaks no page: each role's pages, the public ones, allauth's
second-factor set-up (its QR code is a data: image) and the API docs (Swagger UI from the
sidecar's static files) load in Chromium without a single "Refused to ..." console error."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP

from accounts.models import Role
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import totp_now
from sla.tests.factories import organisation_on_level
from tickets import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "JBSWY3DPEHPK3PXPCSPTESTS"


class Watched:
    """A page whose console errors and uncaught exceptions are collected."""

    def __init__(self, browser):
        self.context = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.errors: list[str] = []
        self.page.on(
            "console", lambda m: m.type == "error" and self.errors.append(f"{self.page.url}: {m.text}")
        )
        self.page.on("pageerror", lambda exc: self.errors.append(f"{self.page.url}: {exc}"))

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status < 400, (url, response and response.status)
        assert response.headers.get("content-security-policy"), url
        self.page.wait_for_load_state("networkidle")

    def refused(self) -> list[str]:
        return [e for e in self.errors if "Refused to" in e or "Content Security Policy" in e]


def log_in(watched: Watched, base: str, user, secret: str | None = None) -> None:
    page = watched.page
    watched.visit(f"{base}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    if secret:
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.fill("input[name=code]", totp_now(secret))
        page.press("input[name=code]", "Enter")
    page.wait_for_url(re.compile(r"/(portal|desk|manager)/"))


def staff(role: str):
    user = UserFactory(role=role, is_staff=role == Role.MANAGER)
    TOTP.activate(user, SECRET)
    return user


PAGES = {
    Role.COORDINATOR: [
        "/portal/",
        "/portal/tickets/new/",
        "/portal/tickets/{ticket}/",
        "/portal/service/reports/",
        "/portal/preferences/",
        "/settings/tokens/",
    ],
    Role.AGENT: ["/desk/", "/desk/tickets/{ticket}/", "/desk/consultancy/"],
    Role.MANAGER: [
        "/manager/",
        "/manager/reports/",
        "/account-requests/",
        "/settings/webhooks/",
        "/admin/",
        "/admin/accounts/organisation/add/",
    ],
}


def test_no_page_of_any_role_is_refused_anything_by_the_policy(browser, live_server):
    organisation = organisation_on_level("extended")
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation)
    ticket = services.ticket_create(
        organisation=organisation,
        by=coordinator,
        kind="incident",
        title="Niemand kan inloggen",
        impact=1,
        urgency=1,
    )
    users = {Role.COORDINATOR: (coordinator, None), Role.AGENT: (staff(Role.AGENT), SECRET)}
    manager = staff(Role.MANAGER)
    manager.is_superuser = True
    manager.save()
    users[Role.MANAGER] = (manager, SECRET)
    refused, visited = [], 0
    for role, (user, secret) in users.items():
        watched = Watched(browser)
        log_in(watched, live_server.url, user, secret)
        for path in PAGES[role]:
            watched.visit(live_server.url + path.format(ticket=ticket.pk))
            visited += 1
            if path == "/manager/":  # Chart.js has drawn the trend charts
                watched.page.wait_for_selector("body[data-charts-ready=true]")
        refused += watched.refused()
        watched.context.close()
    # the public pages, and a member of staff setting up TOTP (the QR code is a data: image)
    watched = Watched(browser)
    for path in ["/accounts/login/", "/request-account/", "/accounts/password/reset/"]:
        watched.visit(live_server.url + path)
    newcomer = UserFactory(role=Role.AGENT)
    watched.visit(f"{live_server.url}/accounts/login/")
    watched.page.fill("input[name=login]", newcomer.email)
    watched.page.fill("input[name=password]", PASSWORD)
    watched.page.press("input[name=password]", "Enter")
    watched.page.wait_for_url(re.compile(r"/accounts/(reauthenticate|2fa/totp/activate)/"))
    if "/reauthenticate/" in watched.page.url:  # allauth asks for the password again first
        watched.page.fill("input[name=password]", PASSWORD)
        watched.page.press("input[name=password]", "Enter")
    watched.page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    watched.page.wait_for_load_state("networkidle")
    assert watched.page.locator("img[src^='data:']").count() == 1
    assert watched.page.evaluate("document.querySelector(\"img[src^='data:']\").naturalWidth") > 0
    refused += watched.refused()
    assert visited == sum(map(len, PAGES.values()))
    assert not refused, "\n".join(refused)


def test_the_api_docs_work_under_the_policy(browser, live_server):
    watched = Watched(browser)
    watched.visit(f"{live_server.url}/api/docs/")
    watched.page.wait_for_selector(".swagger-ui .information-container", timeout=20000)
    watched.page.wait_for_selector(".opblock-tag", timeout=20000)
    assert "SLA Portal API" in watched.page.inner_text(".information-container")
    assert not watched.refused(), "\n".join(watched.refused())
