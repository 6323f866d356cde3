"""The full path of issue 4 in Debian's Chromium: portal, desk, approvals, consultancy.

Each user has a browser context of their own (own cookies), so everyone logs in once; staff
log in with a TOTP code like people do. Screenshots go to var/screenshots/."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import open_menu, totp_now
from sla.tests.factories import organisation_on_level
from tests.conftest import SCREENSHOTS
from tickets import services
from tickets.models import HoursCard, Ticket

SECRETS = {
    "agent": "JBSWY3DPEHPK3PXPAGENTBRW",
    "manager": "JBSWY3DPEHPK3PXPMANAGERB",
    "consultant": "JBSWY3DPEHPK3PXPCONSULTB",
}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(browser, live_server, user, secret: str | None = None):
    """A browser context of its own, logged in through allauth's real forms."""
    context = browser.new_context(
        locale="en-GB", timezone_id="Europe/Amsterdam", viewport={"width": 1400, "height": 1000}
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    if secret:
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.fill("input[name=code]", totp_now(secret))
        page.press("input[name=code]", "Enter")
    page.wait_for_url(re.compile(r"/(portal|desk|manager)/"))
    return page


def staff(role: str):
    user = UserFactory(role=role, is_staff=role == Role.MANAGER)
    TOTP.activate(user, SECRETS[role])
    return user


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def open_step(page, name: str) -> None:
    """A process step that is not the next one is collapsed on the ticket page: open it."""
    closed = page.locator(f"details.action-{name}:not([open]) > summary")
    if closed.count():
        closed.first.click()


def submit(page, form_id: str) -> None:
    with page.expect_navigation():
        page.click(f"#{form_id} button[type=submit]")


def register_in_portal(page, live_server, *, kind="incident", change_type="", title="Niemand kan inloggen"):
    page.goto(f"{live_server.url}/portal/tickets/new/")
    page.select_option("select[name=kind]", kind)
    if change_type:
        page.select_option("select[name=change_type]", change_type)
    page.select_option("select[name=product]", label="Qixium SaaS Platform")
    page.check("input[name=urgency][value='1']")
    page.check("input[name=suggested_impact][value='2']")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=description]", "Sinds 08:00 krijgt iedereen een foutmelding bij het inloggen.")
    return page


def test_an_incident_from_registration_to_confirmed_closure(browser, live_server):
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level("extended"))
    agent = staff(Role.AGENT)
    customer = login(browser, live_server, coordinator)
    desk = login(browser, live_server, agent, SECRETS["agent"])

    # the coordinator registers an incident and sees its response deadline
    register_in_portal(customer, live_server)
    customer.check("input[name=nature][value=data]")
    assert "not covered" in customer.inner_text("#coverage-warning")  # said at the door
    customer.check("input[name=nature][value=technical]")
    shot(customer, "01_portal_register")
    with customer.expect_navigation():
        customer.click("#register-form button[type=submit]")
    assert "We will respond by" in customer.inner_text("#response-deadline")
    shot(customer, "02_portal_registered_deadline")
    pk = int(re.search(r"/tickets/(\d+)/registered/", customer.url).group(1))
    ticket_url = f"{live_server.url}/desk/tickets/{pk}/"

    # the agent finds it in the queue, classifies it as unclear and asks: the question is the
    # response (SPEC §2), the resolution clock pauses
    desk.goto(f"{live_server.url}/desk/")
    assert f"T-{pk:06d}" in desk.inner_text("table.queue")
    shot(desk, "03_desk_queue")
    desk.goto(ticket_url)
    desk.check("#form-classify input[name=clarity][value=unclear]")
    desk.fill("#form-classify textarea[name=question]", "Welke browser en welke foutmelding?")
    submit(desk, "form-classify")
    assert desk.inner_text("#ticket-status") == "Waiting on customer"
    assert desk.locator("aside .clock-response .badge.met").count() == 1
    assert desk.locator("aside .clock-resolution .badge.paused").count() == 1
    shot(desk, "04_desk_question_response_met_resolution_paused")

    # the customer answers: the resolution clock resumes
    customer.goto(f"{live_server.url}/portal/tickets/{pk}/")
    customer.fill("#form-message textarea[name=body]", "Edge, foutmelding 'Access denied'.")
    submit(customer, "form-message")
    assert customer.inner_text("#ticket-status") == "Open"
    assert customer.locator(".clock .badge.paused").count() == 0
    shot(customer, "05_portal_answered")

    # the agent sets impact and urgency, replies, registers the bug and resolves
    desk.goto(ticket_url)
    open_step(desk, "priority")
    desk.select_option("#form-priority select[name=impact]", "2")
    desk.select_option("#form-priority select[name=urgency]", "1")
    submit(desk, "form-priority")
    assert desk.inner_text("#ticket-priority") == "High"
    desk.fill("#form-reply textarea[name=body]", "We hebben het kunnen reproduceren.")
    submit(desk, "form-reply")
    assert "Response: met" in desk.inner_text(".side")
    open_step(desk, "bug")
    desk.fill("#form-bug input[name=reference]", "PBI-4711")
    desk.fill("#form-bug input[name=url]", "https://dev.example/pbi/4711")
    submit(desk, "form-bug")
    assert "PBI-4711" in desk.inner_text("#bugs")
    open_step(desk, "resolve")
    desk.fill("#form-resolve textarea[name=resolution]", "Certificaat vernieuwd; inloggen werkt weer.")
    submit(desk, "form-resolve")
    assert desk.inner_text("#ticket-status") == "Resolved"
    shot(desk, "06_desk_resolved_with_history")

    # the customer confirms; the ticket closes
    customer.goto(f"{live_server.url}/portal/tickets/{pk}/")
    shot(customer, "07_portal_confirm_or_reopen")
    submit(customer, "form-confirm")
    assert customer.inner_text("#ticket-status") == "Closed"
    customer.goto(f"{live_server.url}/portal/")
    shot(customer, "08_portal_list")
    ticket = Ticket.objects.get(pk=pk)
    assert (ticket.status, ticket.step, ticket.priority) == ("closed", "update_ticket", 1)
    assert ticket.bugs.get().reference == "PBI-4711"


def test_a_normal_change_through_approval_and_consultancy_refused_as_too_early(browser, live_server):
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level("default"))
    manager, consultant, agent = staff(Role.MANAGER), staff(Role.CONSULTANT), staff(Role.AGENT)
    customer = login(browser, live_server, coordinator)

    # a normal change waits for a support manager
    register_in_portal(customer, live_server, kind="change", change_type="normal", title="Extra veld")
    with customer.expect_navigation():
        customer.click("#register-form button[type=submit]")
    assert "support manager approves it" in customer.inner_text(".confirmation")
    pk = int(re.search(r"/tickets/(\d+)/registered/", customer.url).group(1))
    boss = login(browser, live_server, manager, SECRETS["manager"])
    boss.goto(f"{live_server.url}/desk/approvals/")
    shot(boss, "09_desk_approvals")
    boss.fill(f"#approval-{pk} #form-approve input[name=note]", "Akkoord, in de volgende release.")
    submit(boss, f"approval-{pk} #form-approve")
    assert "No changes are waiting" in boss.inner_text("main")
    assert Ticket.objects.get(pk=pk).status == "new"

    # consultancy agreed on another ticket; the consultant plans it too early and is refused
    HoursCard.objects.create(
        organisation=coordinator.organisation, hours=Decimal(16), purchased_on=date(2026, 1, 1)
    )
    ticket = services.ticket_create(
        organisation=coordinator.organisation,
        by=coordinator,
        kind="incident",
        title="Inrichting workflow",
        impact=3,
        urgency=3,
    )
    services.ticket_classify(ticket=ticket, by=agent, clarity="clear")
    services.ticket_consultancy_agree(ticket=ticket, by=agent, agreed=True, hours=Decimal(6))
    advisor = login(browser, live_server, consultant, SECRETS["consultant"])
    assert ticket.reference in advisor.inner_text("table.tickets")  # the consultant's page
    shot(advisor, "10_desk_consultancy")
    advisor.goto(f"{live_server.url}/desk/tickets/{ticket.pk}/")
    open_step(advisor, "consultancy_plan")
    advisor.select_option("#form-consultancy_plan select[name=consultant]", str(consultant.pk))
    tomorrow = timezone.localdate() + timedelta(days=1)
    advisor.fill("#form-consultancy_plan input[name=on]", tomorrow.isoformat())
    submit(advisor, "form-consultancy_plan")
    assert "Too early" in advisor.inner_text("#form-consultancy_plan")
    shot(advisor, "11_desk_consultancy_too_early")
    assert Ticket.objects.get(pk=ticket.pk).consultancy_date is None


def test_a_coordinator_registers_a_mail_draft_and_the_clocks_start_then(browser, live_server):
    """001 §1.2.2 **: "Alleen oproepen geregistreerd via het Self Service Portal zijn geldig als
    registratie van een support call. De respons- en oplostijden gelden vanaf de officiële
    registratie van een oproep." A mail that arrived three hours ago waits as a draft; the
    coordinator registers it in the portal and the clocks start at that click."""
    from sla.models import ClockAction, ClockEvent
    from tickets.models import MailDraft

    organisation = organisation_on_level("extended")
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation)
    contact = UserFactory(role=Role.CUSTOMER_USER, organisation=organisation, full_name="Carla Contact")
    received = timezone.now() - timedelta(hours=3)
    draft = services.mail_draft_create(
        sender=contact,
        subject="ESB-koppeling stopt",
        body="Sinds vannacht komen er geen berichten meer door.",
        files=[ContentFile(b"ERROR connector timeout", name="esb.log")],
        mail_message_id="<esb@voorbeeld.example>",
        received_at=received,
    )
    customer = login(browser, live_server, coordinator)
    customer.set_viewport_size({"width": 390, "height": 900})  # the phone-sized layout works too
    open_menu(customer)
    assert customer.inner_text("#nav-mail-drafts").strip().endswith("1")
    customer.click("#nav-mail-drafts")
    customer.wait_for_url(re.compile(r"/portal/drafts/$"))
    assert "ESB-koppeling stopt" in customer.inner_text("#pending-drafts")
    shot(customer, "20_portal_mail_drafts")
    with customer.expect_navigation():
        customer.click(f"#draft-{draft.pk} a.button")
    assert customer.input_value("input[name=title]") == "ESB-koppeling stopt"
    assert "esb.log" in customer.inner_text("aside")
    customer.select_option("select[name=product]", label="Qixium SaaS Platform")
    customer.check("input[name=urgency][value='1']")
    customer.check("input[name=suggested_impact][value='2']")
    shot(customer, "21_portal_mail_draft_register")
    clicked = timezone.now()
    with customer.expect_navigation():
        customer.click("#register-form button[type=submit]")
    assert "We will respond by" in customer.inner_text("#response-deadline")
    shot(customer, "22_portal_mail_draft_registered")

    ticket = Ticket.objects.get(mail_draft=draft)
    assert ticket.registered_at >= clicked > received and ticket.channel == "portal"
    starts = ClockEvent.objects.filter(clock__ticket=ticket, action=ClockAction.START)
    assert starts.count() == 2 and {event.at for event in starts} == {ticket.registered_at}
    assert ticket.attachments.get().original_name == "esb.log"
    assert MailDraft.objects.get(pk=draft.pk).status == "registered"
    customer.goto(f"{live_server.url}/portal/")
    assert customer.locator("#nav-mail-drafts .badge").count() == 0  # nothing waits any more
