"""The conversation: public replies and questions of support, customers' messages, internal
notes (phone contacts among them)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from sla import services as sla_services
from sla.models import ClockKind
from tickets import selectors
from tickets.choices import ACTIVE_STATUSES, Channel, MessageKind, RaciLetter, RaciRole, TicketStatus
from tickets.models import Message, Ticket
from tickets.services._common import (
    Edit,
    deadlines_sync,
    lock,
    notify,
    require_access,
    require_staff,
    require_status,
)
from tickets.services.attachments import attachment_validate, attachments_store


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": [_("Write a message.")]})
    return body


def public_message(ticket: Ticket, *, by: User, kind: str, body: str, files=()) -> Message:
    """A message support sends the customer. The first one, an answer or a question, is the
    response the SLA measures and stops the response clock (SPEC §2: "an answer or a question
    ... both count as the response"); a question also pauses the resolution clock, which the
    caller does. Call with the ticket locked."""
    now = timezone.now()
    message = Message.objects.create(ticket=ticket, kind=kind, author=by, body=body, created_at=now)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        reason = _("First public reply") if kind == MessageKind.REPLY else _("Question to the customer")
        sla_services.sla_clock_stop(ticket=ticket, kind=ClockKind.RESPONSE, by=by, at=now, reason=reason)
        deadlines_sync(ticket)
    attachments_store(ticket=ticket, message=message, files=files, by=by)
    return message


@transaction.atomic
def message_reply_public(*, ticket: Ticket, by: User, body: str, attachments=()) -> Message:
    """Support writes to the customer; the first reply stops the response clock."""
    body = _clean_body(body)
    require_staff(by)
    ticket = lock(ticket, expected_version=None)
    require_status(ticket, set(ACTIVE_STATUSES) | {TicketStatus.RESOLVED}, action=_("reply to"))
    files = attachment_validate(attachments, organisation=ticket.organisation)
    with Edit(ticket, by=by):
        message = public_message(ticket, by=by, kind=MessageKind.REPLY, body=body, files=files)
    notify(ticket, roles={RaciRole.CUSTOMER}, by=by, what=_("new reply from support"), body=body)
    return message


@transaction.atomic
def message_note_internal(
    *, ticket: Ticket, by: User, body: str, channel: str = Channel.PORTAL, attachments=()
) -> Message:
    """A note customers never see. A phone contact is logged this way: it never registers a
    ticket nor touches a clock (SPEC §1)."""
    body = _clean_body(body)
    require_staff(by)
    if channel not in (Channel.PORTAL, Channel.PHONE):
        raise ValidationError({"channel": [_("A note is written in the desk or logs a phone call.")]})
    ticket = lock(ticket, expected_version=None)
    files = attachment_validate(attachments, organisation=ticket.organisation)
    message = Message.objects.create(
        ticket=ticket, kind=MessageKind.NOTE, channel=channel, author=by, body=body, created_at=timezone.now()
    )
    attachments_store(ticket=ticket, message=message, files=files, by=by)
    return message


@transaction.atomic
def message_customer(
    *,
    ticket: Ticket,
    by: User,
    body: str,
    attachments=(),
    channel: str = Channel.PORTAL,
    mail_message_id: str | None = None,
) -> Message:
    """A customer writes on their ticket. Customers may comment while they are R, A or C for the
    step the ticket is in (RACI); an answer to support's question resumes the paused resolution
    clock."""
    body = _clean_body(body)
    if not by.is_customer:
        raise PermissionDenied(_("Only customers write customer messages."))
    ticket = lock(ticket, expected_version=None)
    require_access(ticket, by)
    if ticket.status == TicketStatus.RESOLVED:
        raise ValidationError(
            _("This ticket is resolved: confirm the resolution or reopen it."), code="invalid_transition"
        )
    require_status(ticket, ACTIVE_STATUSES, action=_("write on"))
    letter = selectors.raci_letter(step=ticket.step, role=RaciRole.CUSTOMER)
    if letter not in (RaciLetter.RESPONSIBLE, RaciLetter.ACCOUNTABLE, RaciLetter.CONSULTED):
        raise PermissionDenied(
            _('Customers are only informed during step "%(step)s".') % {"step": ticket.get_step_display()}
        )
    files = attachment_validate(attachments, organisation=ticket.organisation)
    now = timezone.now()
    with Edit(ticket, by=by):
        message = Message.objects.create(
            ticket=ticket,
            kind=MessageKind.CUSTOMER,
            channel=channel,
            author=by,
            body=body,
            created_at=now,
            mail_message_id=mail_message_id,
        )
        ticket.customer_replied_at = now
        if ticket.status == TicketStatus.WAITING_ON_CUSTOMER:
            ticket.status = TicketStatus.OPEN
            sla_services.sla_clocks_resume(ticket=ticket, by=by, at=now, reason=_("Customer answered"))
            deadlines_sync(ticket)
        attachments_store(ticket=ticket, message=message, files=files, by=by)
    notify(
        ticket, roles={RaciRole.SUPPORT, RaciRole.CONSULTANT}, by=by, what=_("the customer wrote"), body=body
    )
    return message
