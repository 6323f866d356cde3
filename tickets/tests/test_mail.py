"""Mail as a registration channel: Extended organisations only, threaded by reference."""

import mailbox
from email.message import EmailMessage
from io import BytesIO, StringIO, TextIOWrapper

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.models import Role
from accounts.tests.factories import UserFactory
from sla.models import Clock
from tickets import services
from tickets.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db


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


def test_an_extended_coordinators_mail_registers_a_ticket_and_starts_its_clocks(
    coordinator_ext, django_capture_on_commit_callbacks
):
    result = receive(
        inbound(coordinator_ext.email, "Storing ESB", attachment=("log.txt", b"trace")),
        django_capture_on_commit_callbacks,
    )
    ticket = result.ticket
    assert (
        result.outcome == "created" and ticket.channel == "mail" and ticket.registered_by == coordinator_ext
    )
    assert Clock.objects.filter(ticket=ticket).count() == 2
    assert Attachment.objects.get(ticket=ticket).original_name == "log.txt"
    assert ticket.reference in mail.outbox[0].body and mail.outbox[0].to == [coordinator_ext.email]
    assert mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-replied"


def test_a_reply_with_the_reference_threads_into_the_ticket_and_answers_a_question(
    coordinator_ext, agent, django_capture_on_commit_callbacks
):
    ticket = receive(inbound(coordinator_ext.email, "Storing"), django_capture_on_commit_callbacks).ticket
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
    assert Ticket.objects.count() == 1


def test_a_default_organisations_mail_gets_a_pointer_to_the_portal_and_registers_nothing(
    coordinator_def, django_capture_on_commit_callbacks
):
    result = receive(inbound(coordinator_def.email, "Storing"), django_capture_on_commit_callbacks)
    assert result.outcome == "auto_replied" and not Ticket.objects.exists()
    assert "/portal/" in mail.outbox[0].body


def test_the_same_message_read_twice_is_stored_once(coordinator_ext, django_capture_on_commit_callbacks):
    receive(inbound(coordinator_ext.email, "Storing"), django_capture_on_commit_callbacks)
    assert (
        receive(inbound(coordinator_ext.email, "Storing"), django_capture_on_commit_callbacks).outcome
        == "duplicate"
    )
    assert Ticket.objects.count() == 1


def test_another_organisations_reference_does_not_thread(
    coordinator_ext, other_customer, django_capture_on_commit_callbacks
):
    theirs = receive(
        inbound(other_customer.email, "Storing", message_id="<a@x>"), django_capture_on_commit_callbacks
    ).ticket
    mine = receive(
        inbound(coordinator_ext.email, f"Re: {theirs.reference}", message_id="<b@x>"),
        django_capture_on_commit_callbacks,
    )
    assert mine.outcome == "created" and mine.ticket.organisation == coordinator_ext.organisation
    assert not Message.objects.filter(ticket=theirs, author=coordinator_ext).exists()


def test_only_coordinators_register_by_mail_and_robots_get_no_answer(
    coordinator_ext, django_capture_on_commit_callbacks
):
    user = UserFactory(role=Role.CUSTOMER_USER, organisation=coordinator_ext.organisation)
    assert (
        receive(inbound(user.email, "Storing"), django_capture_on_commit_callbacks).reason
        == "not a coordinator"
    )
    robot = inbound(coordinator_ext.email, "Out of office", message_id="<ooo@x>")
    robot["Auto-Submitted"] = "auto-replied"
    assert receive(robot, django_capture_on_commit_callbacks).outcome == "ignored"
    assert not Ticket.objects.exists() and len(mail.outbox) == 1


def test_the_command_reads_a_maildir_once(coordinator_ext, tmp_path):
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(inbound(coordinator_ext.email, "Storing A", message_id="<a@x>").as_bytes())
    box.add(inbound(coordinator_ext.email, "Storing B", message_id="<b@x>").as_bytes())
    out = StringIO()
    call_command("tickets_mail_receive", str(tmp_path / "inbox"), stdout=out)
    call_command("tickets_mail_receive", str(tmp_path / "inbox"), stdout=out)
    assert Ticket.objects.count() == 2 and "2 message(s) handled" in out.getvalue()
    assert "0 message(s) handled" in out.getvalue()


def test_the_command_reads_one_message_from_stdin(coordinator_ext, monkeypatch):
    raw = inbound(coordinator_ext.email, "Storing via pipe").as_bytes()
    monkeypatch.setattr("sys.stdin", TextIOWrapper(BytesIO(raw)))
    out = StringIO()
    call_command("tickets_mail_receive", "-", stdout=out)
    assert out.getvalue().startswith("created T-")
