"""What portal and desk views share: running a ticket action through its service, and serving
attachments only to those allowed to see them."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from tickets.downloads import attachment_response
from tickets.models import Attachment, MailDraft, MailDraftFile
from tickets.services import TicketConflict


@dataclass(frozen=True)
class Action:
    form: type
    run: Callable  # (ticket, user, cleaned_data, version) -> object
    done: str  # success message


def apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or ""
    # a path only: redirect() would take anything else for a URL name and fail to reverse it
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def run_action(request, *, ticket, name: str, actions: dict[str, Action], render_detail, success_url):
    """Validate the form, call the service; on refusal render the page again with the reason
    and a 4xx status. Nothing is half-written: each service is one transaction."""
    action = actions.get(name)
    if action is None:
        raise Http404
    form = action.form(request.POST, request.FILES, ticket=ticket, auto_id=f"id_{name}_%s")
    status, error = 400, None
    if form.is_valid():
        try:
            action.run(ticket, request.user, form.cleaned_data, form.cleaned_data.get("version"))
        except TicketConflict as exc:
            status, error = 409, str(exc)
            data = request.POST.copy()
            data["version"] = str(exc.current_version)
            ticket.refresh_from_db()
            form = action.form(data, ticket=ticket, auto_id=f"id_{name}_%s")
        except PermissionDenied as exc:
            status, error = 403, str(exc) or None
        except ValidationError as exc:
            apply_errors(form, exc)
            status = 409 if getattr(exc, "code", None) == "invalid_transition" else 400
            error = _("Nothing was saved: %(reason)s") % {"reason": " ".join(exc.messages)}
        else:
            messages.success(request, action.done)
            return redirect(success_url)
    if error:
        messages.error(request, error)
    return render_detail(request, ticket, bound={name: form}, status=status)


@login_required
def mail_draft_file_download(request, pk: int):
    """A mail draft's attachment: the organisation's contacts and support staff only."""
    try:
        row = MailDraftFile.objects.get(pk=pk, draft__in=MailDraft.objects.for_user(request.user))
    except MailDraftFile.DoesNotExist as exc:
        raise Http404 from exc
    return attachment_response(row)


@login_required
def attachment_download(request, pk: int):
    """Tenancy (``for_user``) and visibility (no internal notes for customers) in one query."""
    try:
        attachment = Attachment.objects.visible_to(request.user).get(pk=pk)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
    return attachment_response(attachment)
