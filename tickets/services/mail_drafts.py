"""Mail drafts (SPEC §1, document 001 §1.2.2 footnote **): a new mail from a contact of an
Extended organisation is not a registration. It is kept as a draft that one of the
organisation's coordinators registers in the portal, through the same registration service as
the portal form (the SLA clocks start then, never at the mail's arrival), or discards.

Two coordinators registering one draft at once make one ticket: the draft row is locked and
its status checked under the lock; the second is told who registered it."""

import logging
import mimetypes
from datetime import datetime
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationTopic, Role, User
from accounts.services import notification_deliver_soon
from tickets.choices import MailDraftStatus
from tickets.models import MailDraft, MailDraftFile, Module, Product, Ticket
from tickets.services.attachments import MAX_FILES_PER_MESSAGE, attachment_validate
from tickets.services.registration import ticket_register

logger = logging.getLogger(__name__)


@transaction.atomic
def mail_draft_create(
    *,
    sender: User,
    subject: str,
    body: str,
    files: list[ContentFile],
    mail_message_id: str | None,
    received_at: datetime | None = None,
) -> MailDraft:
    """Keep a new mail as a draft of the sender's organisation. Attachments over the limits
    cannot be sent back to fix: they are named in ``problems`` (and logged), the rest kept."""
    if not sender.is_customer or not sender.organisation_id:
        raise ValidationError(_("Only a customer organisation's contact can write a mail draft."))
    draft = MailDraft.objects.create(
        organisation_id=sender.organisation_id,
        sender=sender,
        subject=(subject.strip() or _("(no subject)"))[:200],
        body=body,
        received_at=received_at or timezone.now(),
        mail_message_id=mail_message_id,
    )
    problems, kept = [], []
    try:
        for file in files:
            if len(kept) >= MAX_FILES_PER_MESSAGE:
                problems.append(
                    _("%(name)s: at most %(count)d files per message.")
                    % {"name": file.name, "count": MAX_FILES_PER_MESSAGE}
                )
                continue
            try:
                attachment_validate([file])
            except ValidationError as exc:
                problems.extend(exc.messages)
                continue
            name = PurePath(file.name).name[:255]
            row = MailDraftFile(
                draft=draft,
                original_name=name,
                size=file.size,
                content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
            )
            row.file.save(name, file, save=False)
            kept.append(row)
            row.save()
    except Exception:  # the rows roll back with the transaction; the files written go too
        for row in kept:
            row.file.delete(save=False)
        raise
    if problems:
        draft.problems = "\n".join(problems)
        draft.save(update_fields=["problems"])
        logger.warning("mail draft %s: attachments not kept: %s", draft.pk, "; ".join(problems))
    _coordinators_tell(draft)
    return draft


def _coordinators_tell(draft: MailDraft) -> None:
    """The organisation's coordinators (but the sender) hear that a mail waits for them."""
    coordinators = User.objects.filter(
        organisation_id=draft.organisation_id, role=Role.COORDINATOR, is_active=True
    ).exclude(pk=draft.sender_id)
    url = settings.SITE_URL.rstrip("/") + reverse("portal:draft", args=[draft.pk])
    rows = []
    for user in coordinators:
        with translation.override(user.language):
            rows.append(
                Notification(
                    recipient=user,
                    topic=NotificationTopic.TICKET_UPDATE,
                    subject=(_("Mail waiting to be registered: %(subject)s") % {"subject": draft.subject})[
                        :200
                    ],
                    body=_(
                        "%(sender)s wrote to support. A mail does not register a call: register it in "
                        "the portal (the SLA clocks start then) or discard it: %(url)s"
                    )
                    % {"sender": draft.sender, "url": url},
                    link=url,
                )
            )
    Notification.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(notification_deliver_soon)


def _lock_pending(draft: MailDraft, *, by: User, refusal: str) -> MailDraft:
    """The coordinator check, then the row lock: whoever comes second reads the first's
    decision and is told, with nothing saved."""
    if not by.is_customer or by.role != Role.COORDINATOR:
        raise PermissionDenied(refusal)
    # No join here: after waiting for the lock, PostgreSQL rereads the locked row but not the
    # rows joined to it, so the first registration's ticket would read as missing.
    draft = MailDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.organisation_id != by.organisation_id:
        raise PermissionDenied(_("This mail draft belongs to another organisation."))
    if draft.status == MailDraftStatus.REGISTERED:
        raise ValidationError(
            _("%(who)s already registered this mail as %(reference)s on %(when)s; nothing was saved.")
            % {
                "who": draft.decided_by or _("Another coordinator"),
                "reference": draft.ticket.reference if draft.ticket else "-",
                "when": formats.date_format(timezone.localtime(draft.decided_at), "DATETIME_FORMAT"),
            },
            code="draft_decided",
        )
    if draft.status == MailDraftStatus.DISCARDED:
        raise ValidationError(
            _("%(who)s discarded this mail draft on %(when)s; nothing was saved.")
            % {
                "who": draft.decided_by or _("Another coordinator"),
                "when": formats.date_format(timezone.localtime(draft.decided_at), "DATETIME_FORMAT"),
            },
            code="draft_decided",
        )
    return draft


@transaction.atomic
def mail_draft_register(
    *,
    draft: MailDraft,
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
) -> Ticket:
    """A coordinator registers a mail draft: the official registration (``ticket_register``,
    with the draft's attachments), at this instant. Twice at once: one ticket, the second
    coordinator gets a ValidationError saying who registered it."""
    draft = _lock_pending(
        draft, by=by, refusal=_("Only your organisation's coordinators may register a mail draft.")
    )
    files = [File(row.file.open("rb"), name=row.original_name) for row in draft.files.all()]
    try:
        ticket = ticket_register(
            by=by,
            kind=kind,
            title=title,
            description=description,
            product=product,
            module=module,
            hosting=hosting,
            nature=nature,
            urgency=urgency,
            suggested_impact=suggested_impact,
            change_type=change_type,
            attachments=files,
        )
    finally:
        for file in files:
            file.close()
    draft.status = MailDraftStatus.REGISTERED
    draft.ticket = ticket
    draft.decided_by = by
    draft.decided_at = ticket.registered_at
    draft.save(update_fields=["status", "ticket", "decided_by", "decided_at"])
    return ticket


@transaction.atomic
def mail_draft_discard(*, draft: MailDraft, by: User) -> MailDraft:
    """A coordinator decides a mail needs no ticket. The draft is kept, marked discarded."""
    draft = _lock_pending(
        draft, by=by, refusal=_("Only your organisation's coordinators may discard a mail draft.")
    )
    draft.status = MailDraftStatus.DISCARDED
    draft.decided_by = by
    draft.decided_at = timezone.now()
    draft.save(update_fields=["status", "decided_by", "decided_at"])
    return draft
