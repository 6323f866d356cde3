"""Mail is a support channel of Extended organisations, never a registration (document 001
§1.2.2, footnote **): a reply threads in by reference, a new mail becomes a draft that a
coordinator registers in the portal; the phone registers nothing."""

import logging
import mailbox
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from io import BytesIO, StringIO, TextIOWrapper
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.models import Notification, Role
from accounts.tests.factories import UserFactory
from sla.models import Clock
from tickets import services
from tickets.models import Attachment, MailDraft, Message, Ticket
from tickets.tests.factories import coordinator_on, product, register

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
# The footnote every test here enforces (document 001 §1.2.2, **).
FOOTNOTE = (
    "Telefoon is een secundair medium om problemen te bespreken en te signaleren, maar geen geldige "
    "registratiemethode. Alleen oproepen geregistreerd via het Self Service Portal zijn geldig als "
    "registratie van een support call. De respons- en oplostijden gelden vanaf de officiële registratie "
    "van een oproep"
)


def inbound(
    sender: str,
    subject: str,
    body: str = "Het werkt niet.",
    message_id: str = "<1@example.com>",
    attachment: tuple[str, bytes] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "support@sla-portal.local", subject
    message["Message-ID"] = message_id
    message.set_content(body)
    if attachment:
        message.add_attachment(attachment[1], maintype="text", subtype="plain", filename=attachment[0])
    return message


def receive(message, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.ticket_mail_receive(message=message)


def registration(**overrides) -> dict:
    return {
        "kind": "incident",
        "title": "Storing ESB",
        "description": "Het werkt niet.",
        "product": product(),
        "module": None,
        "hosting": "cloud",
        "nature": "technical",
        "urgency": 1,
        "suggested_impact": 2,
        **overrides,
    }


def test_a_new_mail_of_an_extended_contact_becomes_a_draft_and_registers_nothing(
    coordinator_ext, django_capture_on_commit_callbacks
):
    """001 §1.2.2 **: "Alleen oproepen geregistreerd via het Self Service Portal zijn geldig als
    registratie van een support call." A new mail is kept as a draft: no ticket, no clock."""
    colleague = UserFactory(role=Role.COORDINATOR, organisation=coordinator_ext.organisation)
    result = receive(
        inbound(coordinator_ext.email, "Storing ESB", attachment=("log.txt", b"trace")),
        django_capture_on_commit_callbacks,
    )
    assert result.outcome == "drafted" and result.ticket is None
    assert not Ticket.objects.exists() and not Clock.objects.exists()
    draft = result.draft
    assert draft.status == "pending" and draft.sender == coordinator_ext and draft.subject == "Storing ESB"
    assert [f.original_name for f in draft.files.all()] == ["log.txt"]
    reply = mail.outbox[0]
    assert reply.to == [coordinator_ext.email] and reply.extra_headers["Auto-Submitted"] == "auto-replied"
    assert (
        "/portal/drafts/" in reply.body
        and "until a coordinator of your organisation registers it" in reply.body
    )
    # the other coordinators hear that a mail waits for them
    assert Notification.objects.filter(recipient=colleague, subject__contains="Storing ESB").exists()


def test_a_reply_with_the_reference_threads_into_the_ticket_and_answers_a_question(
    coordinator_ext, agent, django_capture_on_commit_callbacks
):
    """001 §1.2.2: mail is a support channel on Extended ("Mail √"); a mail that references a
    ticket registered in the portal threads into it and registers nothing new."""
    ticket = register(coordinator_ext)
    services.ticket_classify(ticket=ticket, by=agent, clarity="unclear", question="Welke server?")
    result = receive(
        inbound(
            coordinator_ext.email, f"RE: [{ticket.reference}] Storing", "srv-01", message_id="<2@example.com>"
        ),
        django_capture_on_commit_callbacks,
    )
    ticket.refresh_from_db()
    assert result.outcome == "threaded" and ticket.status == "open"
    assert Message.objects.filter(ticket=ticket, kind="customer", channel="mail", body="srv-01").exists()
    assert Ticket.objects.count() == 1 and not MailDraft.objects.exists()


def test_a_default_organisations_mail_gets_a_pointer_to_the_portal_and_is_logged(
    coordinator_def, django_capture_on_commit_callbacks, caplog
):
    with caplog.at_level(logging.INFO, logger="tickets.services.registration"):
        result = receive(inbound(coordinator_def.email, "Storing"), django_capture_on_commit_callbacks)
    assert result.outcome == "auto_replied" and result.reason == "no mail channel"
    assert not Ticket.objects.exists() and not MailDraft.objects.exists()
    assert "/portal/" in mail.outbox[0].body
    assert "Storing" in caplog.text and coordinator_def.email in caplog.text


def test_an_unknown_sender_gets_a_clear_answer_and_the_mail_is_logged(
    db, django_capture_on_commit_callbacks, caplog
):
    with caplog.at_level(logging.WARNING, logger="tickets.services.registration"):
        result = receive(
            inbound("stranger@example.org", "Help", message_id="<x@y>"), django_capture_on_commit_callbacks
        )
    assert result.outcome == "auto_replied" and result.reason == "unknown sender"
    assert "could not match your address" in mail.outbox[0].body
    assert "stranger@example.org" in caplog.text and "Help" in caplog.text and "<x@y>" in caplog.text


def test_the_same_message_read_twice_is_stored_once(coordinator_ext, django_capture_on_commit_callbacks):
    receive(inbound(coordinator_ext.email, "Storing"), django_capture_on_commit_callbacks)
    assert (
        receive(inbound(coordinator_ext.email, "Storing"), django_capture_on_commit_callbacks).outcome
        == "duplicate"
    )
    assert MailDraft.objects.count() == 1


def test_another_organisations_reference_does_not_thread(
    coordinator_ext, other_customer, django_capture_on_commit_callbacks
):
    theirs = register(other_customer)
    mine = receive(
        inbound(coordinator_ext.email, f"Re: {theirs.reference}", message_id="<b@x>"),
        django_capture_on_commit_callbacks,
    )
    assert mine.outcome == "drafted" and mine.draft.organisation == coordinator_ext.organisation
    assert not Message.objects.filter(ticket=theirs, author=coordinator_ext).exists()


def test_any_contacts_mail_becomes_a_draft_and_robots_get_no_answer(
    coordinator_ext, django_capture_on_commit_callbacks
):
    user = UserFactory(role=Role.CUSTOMER_USER, organisation=coordinator_ext.organisation)
    result = receive(inbound(user.email, "Storing"), django_capture_on_commit_callbacks)
    assert result.outcome == "drafted" and result.draft.sender == user
    robot = inbound(coordinator_ext.email, "Out of office", message_id="<ooo@x>")
    robot["Auto-Submitted"] = "auto-replied"
    assert receive(robot, django_capture_on_commit_callbacks).outcome == "ignored"
    assert not Ticket.objects.exists() and MailDraft.objects.count() == 1 and len(mail.outbox) == 1


def test_an_attachment_over_the_limits_is_named_on_the_draft_not_lost_silently(
    coordinator_ext, django_capture_on_commit_callbacks
):
    result = receive(
        inbound(coordinator_ext.email, "Storing", attachment=("virus.exe", b"MZ")),
        django_capture_on_commit_callbacks,
    )
    assert not result.draft.files.exists() and "virus.exe" in result.draft.problems


def test_the_command_reads_a_maildir_once(coordinator_ext, tmp_path):
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(inbound(coordinator_ext.email, "Storing A", message_id="<a@x>").as_bytes())
    box.add(inbound(coordinator_ext.email, "Storing B", message_id="<b@x>").as_bytes())
    out = StringIO()
    call_command("tickets_mail_receive", str(tmp_path / "inbox"), stdout=out)
    call_command("tickets_mail_receive", str(tmp_path / "inbox"), stdout=out)
    assert MailDraft.objects.count() == 2 and not Ticket.objects.exists()
    assert "2 message(s) handled" in out.getvalue() and "0 message(s) handled" in out.getvalue()


def test_the_command_reads_one_message_from_stdin(coordinator_ext, monkeypatch):
    raw = inbound(coordinator_ext.email, "Storing via pipe").as_bytes()
    monkeypatch.setattr("sys.stdin", TextIOWrapper(BytesIO(raw)))
    out = StringIO()
    call_command("tickets_mail_receive", "-", stdout=out)
    assert out.getvalue().startswith("drafted ")


# --- registering a draft ----------------------------------------------------------------------


def test_a_registered_draft_starts_its_clocks_at_the_registration_not_at_the_mail(
    coordinator_ext, django_capture_on_commit_callbacks
):
    """001 §1.2.2 **: "De respons- en oplostijden gelden vanaf de officiële registratie van een
    oproep" — the mail arrives Monday 09:00, the coordinator registers it at 11:30: the clocks
    start at 11:30, and the mail's title, text and attachments are taken over."""
    arrived = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
    with time_machine.travel(arrived, tick=False):
        draft = receive(
            inbound(coordinator_ext.email, "Storing ESB", "Sinds 08:00.", attachment=("log.txt", b"trace")),
            django_capture_on_commit_callbacks,
        ).draft
    with time_machine.travel(arrived + timedelta(hours=2, minutes=30), tick=False):
        ticket = services.mail_draft_register(
            draft=draft, by=coordinator_ext, **registration(title=draft.subject, description=draft.body)
        )
    assert ticket.registered_at == arrived + timedelta(hours=2, minutes=30)
    assert ticket.channel == "portal" and ticket.registered_by == coordinator_ext
    clocks = {clock.kind: clock for clock in Clock.objects.filter(ticket=ticket)}
    assert {clock.segment_started_at for clock in clocks.values()} == {ticket.registered_at}
    # Extended, High: respond within 2 business hours of 11:30, not of the mail's 09:00
    assert clocks["response"].due_at == arrived + timedelta(hours=4, minutes=30)
    assert Attachment.objects.get(ticket=ticket).original_name == "log.txt"
    draft.refresh_from_db()
    assert draft.status == "registered" and draft.ticket == ticket and draft.decided_by == coordinator_ext


def test_a_draft_is_registered_with_the_portals_rules(coordinator_ext, customer_user_ext, agent):
    """Through ``ticket_register``: a coordinator only (not support, not another contact), and
    what support does not cover is refused as in the portal, with nothing saved."""
    draft = services.mail_draft_create(
        sender=customer_user_ext, subject="Data klopt niet", body="x", files=[], mail_message_id=None
    )
    for user in (agent, customer_user_ext, coordinator_on("extended")):
        with pytest.raises(PermissionDenied):
            services.mail_draft_register(draft=draft, by=user, **registration())
    with pytest.raises(ValidationError) as refused:
        services.mail_draft_register(draft=draft, by=coordinator_ext, **registration(nature="data"))
    assert "nature" in refused.value.message_dict
    draft.refresh_from_db()
    assert draft.status == "pending" and not Ticket.objects.exists()


def test_a_discarded_draft_cannot_be_registered(coordinator_ext):
    draft = services.mail_draft_create(
        sender=coordinator_ext, subject="Bedankt!", body="x", files=[], mail_message_id=None
    )
    services.mail_draft_discard(draft=draft, by=coordinator_ext)
    with pytest.raises(ValidationError, match="discarded"):
        services.mail_draft_register(draft=draft, by=coordinator_ext, **registration())
    assert not Ticket.objects.exists()


def test_a_draft_registered_a_second_time_says_who_registered_it(coordinator_ext):
    other = UserFactory(role=Role.COORDINATOR, organisation=coordinator_ext.organisation, full_name="Bea")
    draft = services.mail_draft_create(
        sender=coordinator_ext, subject="Storing", body="x", files=[], mail_message_id=None
    )
    ticket = services.mail_draft_register(draft=draft, by=other, **registration())
    with pytest.raises(ValidationError) as second:
        services.mail_draft_register(draft=draft, by=coordinator_ext, **registration())
    assert ticket.reference in str(second.value) and Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_registering_one_draft_at_once_make_one_ticket():
    """001 §1.2.2 **: one call, one official registration — two coordinators clicking Register on
    the same mail at the same moment make exactly one ticket; the second is told so."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL (CI runs it there)")
    first = coordinator_on("extended")
    second = UserFactory(role=Role.COORDINATOR, organisation=first.organisation)
    draft = services.mail_draft_create(
        sender=first, subject="Storing", body="x", files=[], mail_message_id=None
    )
    data = registration()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click(user):
        try:
            barrier.wait()
            services.mail_draft_register(draft=draft, by=user, **data)
            outcomes.append("registered")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(user,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Ticket.objects.count() == 1 and Clock.objects.count() == 2
    assert sorted(outcomes)[-1] == "registered"
    assert "already registered this mail as " + Ticket.objects.get().reference in sorted(outcomes)[0]


# --- the phone --------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["phone", "mail"])
def test_the_registration_service_refuses_every_channel_but_the_portal(coordinator_ext, channel):
    """001 §1.2.2 **: "Telefoon is een secundair medium om problemen te bespreken en te signaleren,
    maar geen geldige registratiemethode." Whoever calls the service with another channel gets
    a clear ValidationError on "channel", and nothing is written."""
    with pytest.raises(ValidationError) as refused:
        services.ticket_create(
            organisation=coordinator_ext.organisation,
            by=coordinator_ext,
            kind="incident",
            title="Belde net",
            impact=1,
            urgency=1,
            channel=channel,
        )
    assert "self-service portal" in " ".join(refused.value.message_dict["channel"])
    with pytest.raises(ValidationError) as again:
        register(coordinator_ext, channel=channel)
    assert "channel" in again.value.message_dict
    assert not Ticket.objects.exists() and not Clock.objects.exists()


def test_a_phone_call_is_logged_as_a_note_on_an_existing_ticket(coordinator_ext, agent):
    """001 §1.2.2 **: the phone is "een secundair medium om problemen te bespreken en te
    signaleren": support logs the call as an internal note; no clock moves."""
    ticket = register(coordinator_ext)
    before = list(Clock.objects.filter(ticket=ticket).values_list("state", "due_at"))
    note = services.message_note_internal(ticket=ticket, by=agent, body="Klant belde", channel="phone")
    assert note.kind == "note" and note.channel == "phone" and Ticket.objects.count() == 1
    assert list(Clock.objects.filter(ticket=ticket).values_list("state", "due_at")) == before


# --- the pages --------------------------------------------------------------------------------


def test_coordinators_see_the_drafts_in_the_portal_navigation_with_a_count(
    client, coordinator_ext, customer_user_ext
):
    services.mail_draft_create(
        sender=customer_user_ext, subject="Storing", body="x", files=[], mail_message_id=None
    )
    client.force_login(coordinator_ext)
    for url in (reverse("portal:home"), reverse("portal:preferences")):
        page = client.get(url).content.decode()
        assert 'id="nav-mail-drafts"' in page and '<span class="badge risk">1</span>' in page
    client.force_login(customer_user_ext)
    assert 'id="nav-mail-drafts"' not in client.get(reverse("portal:home")).content.decode()
    assert client.get(reverse("portal:drafts")).status_code == 403


def test_a_coordinator_registers_a_draft_in_the_portal_and_a_second_post_gets_409(
    client, coordinator_ext, customer_user_ext
):
    draft = services.mail_draft_create(
        sender=customer_user_ext, subject="Storing ESB", body="Sinds 08:00.", files=[], mail_message_id=None
    )
    client.force_login(coordinator_ext)
    page = client.get(reverse("portal:draft", args=[draft.pk])).content.decode()
    assert 'value="Storing ESB"' in page and "Sinds 08:00." in page
    data = {
        "kind": "incident",
        "product": product().pk,
        "hosting": "cloud",
        "nature": "technical",
        "urgency": 2,
        "suggested_impact": 2,
        "title": "Storing ESB",
        "description": "Sinds 08:00.",
    }
    response = client.post(reverse("portal:draft", args=[draft.pk]), data)
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == reverse("portal:registered", args=[ticket.pk])
    again = client.post(reverse("portal:draft", args=[draft.pk]), data)
    assert again.status_code == 409 and ticket.reference in again.content.decode()
    assert Ticket.objects.count() == 1


def test_support_reads_drafts_but_cannot_register_or_discard_them(client, agent, customer_user_ext):
    draft = services.mail_draft_create(
        sender=customer_user_ext, subject="Storing ESB", body="Sinds 08:00.", files=[], mail_message_id=None
    )
    client.force_login(agent)
    assert "Storing ESB" in client.get(reverse("desk:drafts")).content.decode()
    page = client.get(reverse("desk:draft", args=[draft.pk])).content.decode()
    assert "Sinds 08:00." in page and '<form method="post"' not in page.split("<main")[1]
    assert client.post(reverse("portal:draft", args=[draft.pk]), {}).status_code == 403
    assert client.post(reverse("portal:draft_discard", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert draft.status == "pending"


def test_another_organisations_draft_is_404(client, coordinator_ext, other_customer):
    draft = services.mail_draft_create(
        sender=other_customer, subject="Geheim", body="x", files=[], mail_message_id=None
    )
    client.force_login(coordinator_ext)
    assert client.get(reverse("portal:draft", args=[draft.pk])).status_code == 404
    assert client.post(reverse("portal:draft_discard", args=[draft.pk])).status_code == 404
