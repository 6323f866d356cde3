"""Issue 16's walk in Chromium at 1366x768: an agent opens a ticket and sees only the allowed
next step expanded, with the clocks, conversation and reply box in view; the queue marks the
customer's answer; a macro fills the reply; three tickets are assigned at once; a colleague on
the same ticket is noticed; the queue is searched and a ticket opened with the keyboard alone."""

import re

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from sla.tests.factories import organisation_on_level
from tests.test_browser_tickets import SECRETS, login, shot, staff, submit
from tickets import services
from tickets.models import Message, Ticket
from tickets.tests.factories import register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


def test_an_agent_works_a_ticket_from_the_next_step_with_macros_bulk_and_keyboard(
    browser, live_server, monkeypatch
):
    import tickets.views.desk as desk_views

    monkeypatch.setattr(desk_views, "PRESENCE_PING", 1)  # the page pings every second here
    coordinator = UserFactory(
        role=Role.COORDINATOR,
        organisation=organisation_on_level("extended"),
        full_name="Jan Jansen",
        language="nl",
    )
    agent, colleague = staff(Role.AGENT), UserFactory(role=Role.AGENT, full_name="Collega Cor")
    ticket = register(coordinator, title="Rapport laadt niet")
    others = [register(coordinator, title=f"Ander ticket {n}") for n in range(3)]
    desk = login(browser, live_server, agent, SECRETS["agent"])
    desk.set_viewport_size(LAPTOP)

    # a macro of the agent's own, in both languages, with placeholders
    desk.click("#nav-macros")
    desk.fill("#macro-form input[name=title]", "Ontvangen")
    desk.fill("#macro-form textarea[name=body_nl]", "Beste {customer_name}, wij pakken {ticket_number} op.")
    desk.fill("#macro-form textarea[name=body_en]", "Dear {customer_name}, we are on {ticket_number}.")
    submit(desk, "macro-form")
    assert "Ontvangen" in desk.inner_text("#macros")

    # the ticket page: only the next step (classify) is expanded; the reply box is in view
    desk.goto(f"{live_server.url}/desk/tickets/{ticket.pk}/")
    assert desk.locator("#next-step #form-classify").is_visible()
    assert desk.locator("#other-steps details[open]").count() == 0
    assert not desk.locator("#form-priority").is_visible() and not desk.locator("#form-close").is_visible()
    reply = desk.locator("#form-reply textarea[name=body]").bounding_box()
    assert reply["y"] + reply["height"] <= LAPTOP["height"], reply  # no scrolling past forms
    assert desk.locator("#clock-strip").bounding_box()["y"] < LAPTOP["height"]
    shot(desk, "16_01_next_step_classify_1366")

    # unclear: the question goes out and the next step is waiting for the customer
    desk.check("#form-classify input[name=clarity][value=unclear]")
    desk.fill("#form-classify textarea[name=question]", "Welk rapport precies?")
    submit(desk, "form-classify")
    assert "Waiting for the customer" in desk.inner_text("#next-step")

    # the customer answers: the queue marks the ticket and the filter finds it
    services.message_customer(
        ticket=Ticket.objects.get(pk=ticket.pk), by=coordinator, body="Het maandrapport."
    )
    desk.goto(f"{live_server.url}/desk/")
    row = desk.locator("tr.queue-row", has_text=ticket.reference)
    assert "Customer replied" in row.inner_text()
    with desk.expect_navigation():
        desk.click("#view-replied")
    assert ticket.reference in desk.inner_text("table.queue")
    assert others[0].reference not in desk.inner_text("table.queue")
    shot(desk, "16_02_queue_customer_replied")

    # a colleague opens the same ticket: each sees the other
    cor = login(browser, live_server, _with_totp(colleague), SECRETS["agent"])
    desk.goto(f"{live_server.url}/desk/tickets/{ticket.pk}/")
    cor.goto(f"{live_server.url}/desk/tickets/{ticket.pk}/")
    assert "Also open by" in cor.inner_text("#also-open") and agent.get_full_name() in cor.inner_text(
        "#also-open"
    )
    desk.wait_for_selector("#also-open:not([hidden])", timeout=10000)
    assert "Collega Cor" in desk.inner_text("#also-open")
    cor.context.close()

    # the reply with the macro, in the customer's language, edited before sending
    assert desk.locator("#next-step #form-classify").is_visible()  # answered: classify again
    desk.select_option("#macro-select", label="Ontvangen")
    body = desk.locator("#form-reply textarea[name=body]")
    assert body.input_value() == f"Beste Jan Jansen, wij pakken {ticket.reference} op."
    body.press("End")
    body.type(" Vandaag nog.")
    submit(desk, "form-reply")
    sent = Message.objects.filter(ticket=ticket, kind="reply").latest("created_at")
    assert sent.body == f"Beste Jan Jansen, wij pakken {ticket.reference} op. Vandaag nog."

    # the marker is gone: nobody is assigned, so it counts for the agent who read it
    desk.goto(f"{live_server.url}/desk/?sla=replied")
    assert ticket.reference not in desk.inner_text("main")

    # bulk: three tickets assigned to the colleague, each with its result
    desk.goto(f"{live_server.url}/desk/")
    for other in others:
        desk.check(f"#select-{other.pk}")
    desk.select_option("#id_bulk_action", "assign")
    desk.select_option("#id_bulk_assignee", str(colleague.pk))
    with desk.expect_navigation():
        desk.click("#bulk-apply")
    assert "Done: 3. Refused: 0." in desk.inner_text("#bulk-summary")
    assert {t.assignee_id for t in Ticket.objects.filter(pk__in=[o.pk for o in others])} == {colleague.pk}
    shot(desk, "16_03_bulk_result")

    # the keyboard alone: "/" to the search box, type, Enter; j to the row, Enter opens; r, ?
    desk.goto(f"{live_server.url}/desk/")
    desk.keyboard.press("/")
    assert desk.evaluate("document.activeElement.name") == "q"
    desk.keyboard.type(others[1].title)
    with desk.expect_navigation():
        desk.keyboard.press("Enter")
    desk.keyboard.press("j")
    assert desk.evaluate("document.activeElement.textContent") == others[1].reference
    with desk.expect_navigation():
        desk.keyboard.press("Enter")
    assert re.search(rf"/desk/tickets/{others[1].pk}/$", desk.url)
    desk.keyboard.press("r")
    assert desk.evaluate("document.activeElement.name") == "body"
    desk.evaluate("document.activeElement.blur()")
    desk.keyboard.press("?")
    assert desk.locator("#shortcuts-dialog").is_visible()
    desk.keyboard.press("Escape")

    # a skip link is the first thing a keyboard user reaches
    desk.goto(f"{live_server.url}/desk/")
    desk.keyboard.press("Tab")
    assert desk.evaluate("document.activeElement.className") == "skip-link"


def _with_totp(user):
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, SECRETS["agent"])
    return user
