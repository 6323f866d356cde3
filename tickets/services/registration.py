"""Registration: the portal form, inbound mail (Extended only), and who may register at all."""

import email.policy
import email.utils
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage as OutgoingMail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role, User, WebhookEvent
from accounts.webhooks import webhook_emit
from sla import selectors as sla_selectors
from sla import services as sla_services
from tickets.choices import (
    ChangeType,
    Channel,
    Nature,
    Priority,
    ProcessStep,
    TicketKind,
    TicketStatus,
)
from tickets.models import ChangeApproval, MailDraft, Message, Module, Product, Ticket
from tickets.services._common import deadlines_sync, field_error, notify_step, require_step, ticket_payload
from tickets.services.attachments import attachment_validate, attachments_store

logger = logging.getLogger(__name__)


@transaction.atomic
def ticket_create(
    *,
    organisation: Organisation,
    by: User | None,
    kind: str,
    title: str,
    impact: int,
    urgency: int,
    description: str = "",
    registered_at: datetime | None = None,
    product: Product | None = None,
    module: Module | None = None,
    hosting: str = "cloud",
    nature: str = Nature.TECHNICAL,
    channel: str = Channel.PORTAL,
    change_type: str = "",
    suggested_impact: int | None = None,
) -> Ticket:
    """The official registration: binds the contract and policy version in force, sets the
    priority from the matrix and starts the SLA clocks at this instant. A normal change waits
    for approval; an urgent change takes the High path. No permission checks: callers are
    ``ticket_register`` (the portal, the API, a mail draft), data loads and tests.

    Only the portal registers (document 001 §1.2.2, footnote **): whoever calls this with
    another channel (mail, phone) gets a ValidationError and nothing is written."""
    if channel != Channel.PORTAL:
        raise field_error("channel", _channel_refusal(channel))
    registered_at = registered_at or timezone.now()
    on = timezone.localdate(registered_at)
    contract = sla_selectors.contract_in_force(organisation_id=organisation.pk, on=on)
    if contract is None:
        raise ValidationError(
            _("%(organisation)s has no support contract in force on %(date)s.")
            % {"organisation": organisation, "date": on}
        )
    policy = sla_selectors.policy_version_in_force(on=on)
    if policy is None:
        raise ValidationError(_("No SLA policy version is in force on %(date)s.") % {"date": on})
    if kind == TicketKind.CHANGE:
        change_type = change_type or ChangeType.NORMAL
    elif change_type:
        raise field_error("change_type", _("Only a change has a change type."))
    priority = sla_selectors.priority_for(impact=impact, urgency=urgency)
    overridden, reason = False, ""
    if change_type == ChangeType.URGENT:
        priority, overridden, reason = Priority.HIGH, True, _("Urgent change: the high priority path.")
    ticket = Ticket(
        organisation=organisation,
        registered_by=by,
        kind=kind,
        title=title,
        description=description,
        impact=impact,
        urgency=urgency,
        priority=priority,
        priority_overridden=overridden,
        priority_reason=reason,
        suggested_impact=suggested_impact,
        product=product,
        module=module,
        hosting=hosting,
        nature=nature,
        channel=channel,
        change_type=change_type,
        registered_at=registered_at,
        contract=contract,
        policy_version=policy,
        service_level=contract.service_level,
        step=ProcessStep.REGISTER_TICKET,
        status=TicketStatus.AWAITING_APPROVAL if change_type == ChangeType.NORMAL else TicketStatus.NEW,
    )
    ticket.full_clean(
        exclude=[
            "contract",
            "policy_version",
            "service_level",
            "organisation",
            "registered_by",
            "product",
            "module",
        ]
    )
    ticket.save()
    sla_services.sla_clocks_start(ticket=ticket, by=by)
    deadlines_sync(ticket)
    Ticket.objects.filter(pk=ticket.pk).update(due_at=ticket.due_at, at_risk_at=ticket.at_risk_at)
    if change_type == ChangeType.NORMAL:
        ChangeApproval.objects.create(ticket=ticket, requested_at=registered_at)
    webhook_emit(event=WebhookEvent.TICKET_CREATED, payloads=[ticket_payload(ticket)])
    return ticket


def _channel_refusal(channel: str) -> str:
    if channel == Channel.PHONE:
        return _(
            "A phone call never registers a ticket (SLA §1.2.2): only calls registered in the "
            "self-service portal are valid. Log the call as a note on an existing ticket, or ask "
            "a coordinator to register it in the portal."
        )
    if channel == Channel.MAIL:
        return _(
            "A mail never registers a ticket by itself (SLA §1.2.2): it becomes a mail draft that a "
            "coordinator registers in the self-service portal."
        )
    return _("Only calls registered in the self-service portal are valid registrations (SLA §1.2.2).")


def coverage_check(*, product: Product | None, nature: str) -> None:
    """SPEC §1 and §6, said at the door: data problems are not a support call type; functional
    problems on the Data Manager Platform are consultancy."""
    if nature == Nature.DATA:
        raise field_error(
            "nature",
            _(
                "Data problems are not covered by support (SLA §1.2.2). Our consultants can help: "
                "ask for consultancy, booked against your organisation's hours card."
            ),
        )
    if nature == Nature.FUNCTIONAL and product is not None and product.consultancy_for_functional:
        raise field_error(
            "nature",
            _(
                "Functional questions about the %(product)s are consultancy, not support (SLA §1.3). "
                "Ask for consultancy, booked against your organisation's hours card; technical "
                "problems with it are support."
            )
            % {"product": product.name},
        )


@transaction.atomic
def ticket_register(
    *,
    by: User,
    kind: str,
    title: str,
    description: str,
    product: Product,
    module: Module | None,
    hosting: str,
    nature: str,
    urgency: int,
    suggested_impact: int,
    change_type: str = "",
    attachments=(),
    channel: str = Channel.PORTAL,
) -> Ticket:
    """Step 1: a coordinator of a customer organisation registers a ticket (SPEC §1: at most
    2 on Default, 4 on Extended may; only the portal registers, a phone call never does).
    The portal form, the API (the portal's API for coordinators) and a mail draft call this."""
    if channel != Channel.PORTAL:
        raise field_error("channel", _channel_refusal(channel))
    if not by.is_customer or by.role != Role.COORDINATOR:
        raise PermissionDenied(
            _(
                "Only your organisation's coordinators may register tickets. "
                "Ask one of them, or ask a support manager to make you one."
            )
        )
    require_step(by, ProcessStep.REGISTER_TICKET)
    if not product.active:
        raise field_error(
            "product", _("%(product)s is no longer supported through the portal.") % {"product": product.name}
        )
    if module is not None and module.product_id != product.pk:
        raise field_error(
            "module",
            _("%(module)s is not a module of %(product)s.")
            % {"module": module.name, "product": product.name},
        )
    coverage_check(product=product, nature=nature)
    files = attachment_validate(attachments, organisation=by.organisation)
    ticket = ticket_create(
        organisation=by.organisation,
        by=by,
        kind=kind,
        title=title.strip(),
        description=description,
        impact=suggested_impact,
        urgency=urgency,
        suggested_impact=suggested_impact,
        product=product,
        module=module,
        hosting=hosting,
        nature=nature,
        channel=channel,
        change_type=change_type,
    )
    terms = sla_selectors.level_terms_of_version(
        policy_version_id=ticket.policy_version_id, service_level_id=ticket.service_level_id
    )
    if channel == Channel.PORTAL and terms is not None and not terms.channel_portal:
        raise ValidationError(_("Your service level does not include the portal."))
    notify_step(ticket, step=ProcessStep.REGISTER_TICKET, by=by, what=_("registered"))
    attachments_store(ticket=ticket, message=None, files=files, by=by)
    return ticket


# --- inbound mail -------------------------------------------------------------------------

REFERENCE_RE = re.compile(r"\bT-(\d{6,})\b", re.IGNORECASE)


@dataclass(frozen=True)
class MailResult:
    outcome: str  # drafted, threaded, duplicate, auto_replied, ignored
    ticket: Ticket | None = None
    reason: str = ""
    draft: MailDraft | None = None


def _portal_url(path: str = "") -> str:
    return settings.SITE_URL.rstrip("/") + (path or reverse("portal:home"))


def _auto_reply(message: EmailMessage, to: str, text: str) -> None:
    subject = "Re: " + str(message.get("Subject", ""))[:180]
    mail = OutgoingMail(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": str(message.get("Message-ID", ""))},
    )
    transaction.on_commit(lambda: mail.send(fail_silently=True))


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    if part.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
    return text.strip()


def _mail_files(message: EmailMessage) -> list[ContentFile]:
    files = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        files.append(ContentFile(payload, name=part.get_filename() or "attachment.bin"))
    return files


@transaction.atomic
def ticket_mail_receive(*, message: EmailMessage) -> MailResult:
    """One inbound RFC 822 message. Mail is a support channel of Extended organisations, never
    a registration (document 001 §1.2.2, footnote **): a reference "T-000123" in the subject
    threads it into that ticket of the sender's organisation; any other mail of a known contact
    becomes a mail draft that a coordinator registers in the portal (the clocks start then).
    Default organisations (no mail channel) and unknown senders get a reply pointing to the
    portal, and the mail is logged. Stored by Message-ID, so reading a mailbox twice keeps
    nothing twice."""
    from tickets.services.conversation import message_customer
    from tickets.services.mail_drafts import mail_draft_create

    if str(message.get("Auto-Submitted", "no")).lower() != "no" or str(
        message.get("Precedence", "")
    ).lower() in ("bulk", "junk", "list", "auto_reply"):
        return MailResult("ignored", reason="automatic message")  # never answer a robot
    message_id = str(message.get("Message-ID", "")).strip()[:500] or None
    if message_id and (
        Message.objects.filter(mail_message_id=message_id).exists()
        or MailDraft.objects.filter(mail_message_id=message_id).exists()
    ):
        return MailResult("duplicate")
    _name, sender = email.utils.parseaddr(str(message.get("From", "")))
    subject = str(message.get("Subject", "")).strip() or _("(no subject)")
    user = User.objects.filter(email__iexact=sender, is_active=True).select_related("organisation").first()
    if user is None or not user.is_customer:
        # Not stored (no organisation to show it to): the log keeps who wrote what, and the
        # sender is told where to go.
        logger.warning(
            "inbound mail from unknown sender %r, subject %r, Message-ID %r: not stored",
            sender,
            subject,
            message_id,
        )
        if sender:
            _auto_reply(
                message,
                sender,
                _(
                    "We could not match your address to a customer account, so this message was not "
                    "registered. Please register your call in the portal: %(url)s"
                )
                % {"url": _portal_url()},
            )
        return MailResult("auto_replied", reason="unknown sender")
    contract = sla_selectors.contract_in_force(organisation_id=user.organisation_id, on=timezone.localdate())
    terms = contract and sla_selectors.level_terms(
        service_level=contract.service_level, on=timezone.localdate()
    )
    if terms is None or not terms.channel_mail:
        logger.info(
            "inbound mail from %r (%s, no mail channel), subject %r, Message-ID %r: pointed to the portal",
            sender,
            user.organisation,
            subject,
            message_id,
        )
        _auto_reply(
            message,
            sender,
            _(
                "Your service level does not include registration by mail, so this message was not "
                "registered. Please register your call in the self-service portal: %(url)s"
            )
            % {"url": _portal_url()},
        )
        return MailResult("auto_replied", reason="no mail channel")
    body = _body_text(message) or subject
    files = _mail_files(message)
    match = REFERENCE_RE.search(subject)
    if match:
        ticket = Ticket.objects.filter(pk=int(match.group(1)), organisation_id=user.organisation_id).first()
        if ticket is not None:
            if not ticket.is_active:
                _auto_reply(
                    message,
                    sender,
                    _(
                        "%(reference)s is %(status)s. Confirm or reopen it, or register a new call, in "
                        "the portal: %(url)s"
                    )
                    % {
                        "reference": ticket.reference,
                        "status": ticket.get_status_display().lower(),
                        "url": _portal_url(reverse("portal:detail", args=[ticket.pk])),
                    },
                )
                return MailResult("auto_replied", ticket=ticket, reason="ticket not active")
            try:
                message_customer(
                    ticket=ticket,
                    by=user,
                    body=body,
                    attachments=files,
                    channel=Channel.MAIL,
                    mail_message_id=message_id,
                )
            except (ValidationError, PermissionDenied) as exc:
                _auto_reply(message, sender, " ".join(getattr(exc, "messages", [str(exc)])))
                return MailResult("auto_replied", ticket=ticket, reason=str(exc))
            return MailResult("threaded", ticket=ticket)
    try:
        with transaction.atomic():
            draft = mail_draft_create(
                sender=user, subject=subject, body=body, files=files, mail_message_id=message_id
            )
    except IntegrityError:  # the same Message-ID arriving twice at once
        return MailResult("duplicate")
    _auto_reply(
        message,
        sender,
        _(
            "Your mail was received. A mail does not register a call by itself: it waits in the "
            "portal until a coordinator of your organisation registers it, and the response and "
            "resolution times count from that registration. Mail drafts in the portal: %(url)s"
        )
        % {"url": _portal_url(reverse("portal:drafts"))},
    )
    return MailResult("drafted", draft=draft)


def mail_parse(raw: bytes) -> EmailMessage:
    import email.parser

    return email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
