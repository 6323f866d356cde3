"""The desk workspace: bulk actions from the queue, macros (canned replies), read markers and
who else has a ticket open."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import staff_required
from tickets import services
from tickets.forms import BulkActionForm, MacroForm
from tickets.models import Macro, Ticket, TicketRead
from tickets.services import TicketConflict
from tickets.views.common import safe_next
from tickets.workspace import PLACEHOLDERS, macro_may_edit, macros_for, presence_ping

# --- read markers ---------------------------------------------------------------------------


def mark_read(ticket: Ticket, user) -> None:
    """The user opened the ticket now: one upsert (the queue's "customer replied" marker), one
    statement on its own, not bulk_create's transaction around it (two round trips more on
    every ticket page). On PostgreSQL its commit does not wait for the WAL to reach the disk
    (``synchronous_commit`` off for this transaction only): a crash may lose the last second's
    read markers, never anything else, and every page view saves the wait for a flush."""
    relaxed = connection.vendor == "postgresql"
    prefix = "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) " if relaxed else ""
    values = "SELECT %s, %s, %s FROM relaxed" if relaxed else "VALUES (%s, %s, %s)"
    sql = (
        f"{prefix}INSERT INTO {TicketRead._meta.db_table} (user_id, ticket_id, read_at) {values} "  # nosec B608
        "ON CONFLICT (ticket_id, user_id) DO UPDATE SET read_at = EXCLUDED.read_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, ticket.pk, timezone.now()])


# --- who else has the ticket open -----------------------------------------------------------


@staff_required
@require_POST
def presence(request, pk: int):
    """The ticket page pings this (static/js/presence.js); it answers the others' names."""
    get_object_or_404(Ticket.objects.only("pk"), pk=pk)
    return JsonResponse({"others": presence_ping(pk, request.user)})


# --- bulk actions ---------------------------------------------------------------------------


def bulk_form_fields() -> str:
    """The queue's bulk action fields, rendered once per language and minute (cached)."""
    form = BulkActionForm(auto_id="id_bulk_%s")
    return get_template("tickets/_bulk_fields.html").render({"form": form})


def _bulk_apply(ticket: Ticket, *, by, data: dict) -> None:
    """One ticket through its service, in a transaction of its own (each service is one)."""
    action = data["action"]
    if action in ("assign", "assign_me"):
        assignee = by if action == "assign_me" else data.get("assignee")
        services.ticket_assign(ticket=ticket, by=by, assignee=assignee)
    elif action == "priority":
        services.ticket_priority_set(
            ticket=ticket,
            by=by,
            impact=ticket.impact,
            urgency=ticket.urgency,
            priority=data["priority"],
            reason=data["reason"],
        )
    elif action == "close":
        services.ticket_close(ticket=ticket, by=by, reason=data["reason"])


def _refusal(exc: Exception) -> str:
    if isinstance(exc, TicketConflict):
        return str(exc)
    return " ".join(getattr(exc, "messages", None) or [str(exc)]) or _("Not allowed.")


@staff_required
@require_POST
def bulk(request):
    """Apply one action to the tickets ticked in the queue, or "assign to me" on one row;
    every ticket separately through the same service as its own page, with its result."""
    back = safe_next(request, reverse("desk:queue"))
    data = request.POST.copy()
    single = data.get("assign_me_one", "")
    if single:  # the row's own "assign to me" button
        data.setlist("ids", [single])
        data["action"] = "assign_me"
    form = BulkActionForm(data)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, _("Nothing was changed: %(reason)s") % {"reason": " ".join(errors)})
        return redirect(back)
    ids = form.cleaned_data["ids"]
    found = {ticket.pk: ticket for ticket in Ticket.objects.filter(pk__in=ids)}
    results = []
    for pk in ids:
        ticket = found.get(pk)
        if ticket is None:
            results.append((pk, None, False, _("No such ticket.")))
            continue
        try:
            _bulk_apply(ticket, by=request.user, data=form.cleaned_data)
        except (ValidationError, PermissionDenied, TicketConflict) as exc:
            results.append((pk, ticket, False, _refusal(exc)))
        else:
            results.append((pk, ticket, True, ""))
    done = sum(1 for *_rest, ok, _reason in results if ok)
    if single:
        ok, reason = results[0][2], results[0][3]
        if ok:
            messages.success(request, _("Assigned to you."))
        else:
            messages.error(request, _("Nothing was changed: %(reason)s") % {"reason": reason})
        return redirect(back)
    return render(
        request,
        "tickets/desk_bulk_result.html",
        {"results": results, "done": done, "refused": len(results) - done, "back": back},
    )


# --- macros ---------------------------------------------------------------------------------


@staff_required
def macros(request):
    """The user's own macros and the shared ones; a new one below."""
    form = MacroForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            Macro.objects.create(
                owner=request.user,
                title=data["title"],
                body_nl=data["body_nl"],
                body_en=data["body_en"],
                shared=data["shared"],
            )
            messages.success(request, _("Macro saved."))
            return redirect("desk:macros")
        status = 400
    else:
        status = 200
    rows = [(macro, macro_may_edit(macro, request.user)) for macro in macros_for(request.user)]
    return render(
        request,
        "tickets/desk_macros.html",
        {"rows": rows, "form": form, "placeholders": PLACEHOLDERS},
        status=status,
    )


@staff_required
def macro_edit(request, pk: int):
    macro = get_object_or_404(macros_for(request.user), pk=pk)
    if not macro_may_edit(macro, request.user):
        raise PermissionDenied(_("Only its owner or a support manager edits this macro."))
    initial = {
        "title": macro.title,
        "body_nl": macro.body_nl,
        "body_en": macro.body_en,
        "shared": macro.shared,
    }
    form = MacroForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if request.POST.get("delete"):
            macro.delete()
            messages.success(request, _("Macro deleted."))
            return redirect("desk:macros")
        if form.is_valid():
            for name, value in form.cleaned_data.items():
                setattr(macro, name, value)
            macro.save()
            messages.success(request, _("Macro saved."))
            return redirect("desk:macros")
        status = 400
    return render(
        request,
        "tickets/desk_macro_edit.html",
        {"macro": macro, "form": form, "placeholders": PLACEHOLDERS},
        status=status,
    )
