"""Attachments: checked against the limits before anything is written, stored outside the web
root under a random name."""

import mimetypes
from collections.abc import Iterable
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from tickets.models import Attachment, Message, Ticket

# More files than this in one message is a mistake, not a support case.
MAX_FILES_PER_MESSAGE = 10


def attachment_validate(files: Iterable[File], *, organisation: Organisation | None = None) -> list[File]:
    """Every file's type (by extension, on an allow-list) and size, the message's total and,
    given the organisation, its quota of stored files: before anything is saved."""
    files = list(files)
    errors = []
    if len(files) > MAX_FILES_PER_MESSAGE:
        errors.append(_("At most %(count)d files per message.") % {"count": MAX_FILES_PER_MESSAGE})
    allowed = [ext.lower().lstrip(".") for ext in settings.TICKETS_ATTACHMENT_EXTENSIONS]
    limit = settings.TICKETS_ATTACHMENT_MAX_BYTES
    for file in files:
        name = PurePath(file.name or "").name
        extension = PurePath(name).suffix.lower().lstrip(".")
        if extension not in allowed:
            errors.append(
                _("%(name)s: files of this type are not accepted (accepted: %(types)s).")
                % {"name": name, "types": ", ".join(allowed)}
            )
        elif file.size > limit:
            errors.append(
                _("%(name)s is %(size)s; the limit is %(limit)s.")
                % {"name": name, "size": filesizeformat(file.size), "limit": filesizeformat(limit)}
            )
        elif file.size == 0:
            errors.append(_("%(name)s is empty.") % {"name": name})
    total = sum(file.size or 0 for file in files)
    message_limit = settings.TICKETS_ATTACHMENT_MAX_MESSAGE_BYTES
    if total > message_limit:
        errors.append(
            _("These files are %(size)s together; one message may carry at most %(limit)s.")
            % {"size": filesizeformat(total), "limit": filesizeformat(message_limit)}
        )
    if organisation is not None and files and not errors:
        quota = settings.TICKETS_ATTACHMENT_ORGANISATION_QUOTA_BYTES
        stored = (
            Attachment.objects.filter(ticket__organisation=organisation).aggregate(total=Sum("size"))["total"]
            or 0
        )
        if stored + total > quota:
            errors.append(
                _(
                    "Your organisation's files would exceed its storage quota of %(quota)s "
                    "(%(stored)s stored). Leave the files out or ask support to raise the quota."
                )
                % {"quota": filesizeformat(quota), "stored": filesizeformat(stored)}
            )
    if errors:
        raise ValidationError({"attachments": errors})
    return files


def attachments_store(
    *, ticket: Ticket, message: Message | None, files: Iterable[File], by: User | None
) -> list[Attachment]:
    """Call last in a service (after every check), inside its transaction. If saving one file
    fails, those already written are removed again; the transaction rolls back the rows."""
    stored: list[Attachment] = []
    try:
        for file in attachment_validate(files):
            name = PurePath(file.name).name[:255]
            attachment = Attachment(
                ticket=ticket,
                message=message,
                original_name=name,
                size=file.size,
                uploaded_by=by,
                content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
            )
            attachment.file.save(name, file, save=False)
            stored.append(attachment)
            attachment.save()
    except Exception:
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    return stored
