"""Issue 17 in Debian's Chromium, at 1366 px and at 390 px: a coordinator types a title, sees
a matching article beside the form, marks it solved, and no ticket is created; a public
article opens without login."""

import re

import pytest

from accounts.models import Role
from accounts.tests.factories import PASSWORD, UserFactory
from knowledge import services
from knowledge.models import Deflection
from sla.tests.factories import organisation_on_level
from tests.conftest import SCREENSHOTS
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1366, 390]


def _published(**fields):
    agent = UserFactory(role=Role.AGENT)
    manager = UserFactory(role=Role.MANAGER)
    article = services.article_create(by=agent, **fields)
    services.article_submit(article=article, by=agent)
    return services.article_publish(article=article, by=manager)


def _page(browser, width: int):
    context = browser.new_context(
        locale="en-GB", timezone_id="Europe/Amsterdam", viewport={"width": width, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    errors = []  # script errors and CSP refusals (a missing favicon is neither)

    def console(message):
        where = (message.location or {}).get("url", "") + message.text
        if message.type == "error" and "favicon" not in where and "404" not in message.text:
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


@pytest.mark.parametrize("width", WIDTHS)
def test_a_coordinator_types_a_title_marks_an_article_solved_and_registers_nothing(
    browser, live_server, width
):
    article = _published(
        title="Printer prints blank pages",
        body_markdown="Switch the printer off and on, then print a test page.",
        language="en",
        visibility="customers",
    )
    _published(
        title="Password forgotten", body_markdown="Ask for a new one.", language="en", visibility="public"
    )
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level("extended"))
    page, errors = _page(browser, width)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", coordinator.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(re.compile(r"/portal/"))

    # when the coordinator types a title on the registration form
    page.goto(f"{live_server.url}/portal/tickets/new/")
    page.fill("input[name=title]", "Our printer prints blank")
    # then the matching article appears beside the form, and only it
    suggestion = page.locator("#kb-suggestion-list .kb-suggestion")
    suggestion.first.wait_for()
    assert suggestion.count() == 1 and article.title in suggestion.inner_text()
    page.screenshot(path=str(SCREENSHOTS / f"kb_suggest_{width}.png"), full_page=True)

    # when it marks it solved
    with page.expect_navigation():
        suggestion.locator("button[type=submit]").click()
    # then the registration ends without a ticket and the deflection is counted
    assert "Glad it helped" in page.inner_text("#kb-glad")
    assert Ticket.objects.count() == 0
    deflection = Deflection.objects.get()
    assert (deflection.article_id, deflection.user_id) == (article.pk, coordinator.pk)
    assert deflection.title_typed == "Our printer prints blank"
    assert not errors, errors  # a CSP violation would be reported here
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_public_article_opens_without_login(browser, live_server, width):
    article = _published(
        title="Status page", body_markdown="See **the status page**.", language="en", visibility="public"
    )
    page, errors = _page(browser, width)
    # from the login page's link to the knowledge base, to the article
    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.click("#login-kb")
    with page.expect_navigation():
        page.click(f"text={article.title}")
    assert page.url.endswith(f"/kb/{article.slug}/")
    assert page.inner_text("#article-title") == "Status page"
    assert page.locator("#article-body strong").inner_text() == "the status page"
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing sticks out
    page.screenshot(path=str(SCREENSHOTS / f"kb_public_{width}.png"), full_page=True)
    assert not errors, errors
    page.context.close()
