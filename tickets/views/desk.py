"""The support desk: the queue, the ticket with every workflow action, consultancy, approvals."""

import functools
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import Organisation, Role
from accounts.permissions import manager_required, staff_required
from sla import selectors as sla_selectors
from sla.models import Contract
from tickets import selectors, services
from tickets.caching import ROW_STAMP, bulk_form_key, cached_list_page, saved_views_key, ticket_page_parts
from tickets.choices import MailDraftStatus
from tickets.forms import (
    ApproveForm,
    AssignForm,
    BugForm,
    BugStatusForm,
    ClassifyForm,
    ConsultancyAgreeForm,
    ConsultancyPlanForm,
    CoordinatorForm,
    HoursForm,
    NoteForm,
    PlanForm,
    PriorityForm,
    ProblemForm,
    QuestionForm,
    QueueFilterForm,
    ReasonForm,
    ReplyForm,
    ReprioritisationDecideForm,
    ResolveForm,
    SavedViewForm,
    TodoForm,
)
from tickets.models import (
    Attachment,
    ConsultancyRequest,
    MailDraft,
    Message,
    SavedView,
    Ticket,
)
from tickets.views.common import Action, run_action, safe_next
from tickets.views.workspace import bulk_form_fields, mark_read
from tickets.workspace import (
    PRESENCE_PING,
    macro_text,
    macro_values,
    next_steps,
    presence_ping,
    ticket_language,
)


@staff_required
def queue(request):
    """Active tickets by their nearest deadline, with the business time left per clock."""
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    tickets = selectors.ticket_queue(user=request.user, filters=filters)
    saved_views = (saved_views_key(request.user.pk), lambda: list(request.user.saved_views.all()))
    listing = cached_list_page(
        request,
        tickets,
        row_template="tickets/_queue_row.html",
        filter_form=form,
        filter_template="tickets/_queue_filters.html",
        filter_choices=True,
        extras={"saved_views": saved_views, "bulk_form": (bulk_form_key(), bulk_form_fields)},
        stamp=(*ROW_STAMP, "customer_unread"),  # the row shows the "customer replied" marker
    )
    return render(
        request,
        "tickets/desk_queue.html",
        {
            "filters": listing.filters,
            "page": listing.page,
            "rows": listing.rows,
            "saved_views": listing.extras["saved_views"],
            "bulk_fields": listing.extras["bulk_form"],
            "save_form": SavedViewForm(initial={"query": listing.query}),
            "here": request.get_full_path(),
        },
    )


@staff_required
@require_POST
def saved_view_save(request):
    form = SavedViewForm(request.POST)
    if form.is_valid():
        SavedView.objects.update_or_create(
            user=request.user, name=form.cleaned_data["name"], defaults={"query": form.cleaned_data["query"]}
        )
        messages.success(request, _("View saved."))
        return redirect(reverse("desk:queue") + "?" + form.cleaned_data["query"])
    messages.error(request, _("Give the view a name."))
    return redirect("desk:queue")


@staff_required
@require_POST
def saved_view_delete(request, pk: int):
    get_object_or_404(SavedView, pk=pk, user=request.user).delete()
    messages.success(request, _("View deleted."))
    return redirect("desk:queue")


def _assign(t, u, d, v):
    return services.ticket_assign(ticket=t, by=u, assignee=d["assignee"], expected_version=v)


DESK_ACTIONS = {
    "assign": Action(AssignForm, _assign, _("Assignment saved.")),
    "reply": Action(
        ReplyForm,
        lambda t, u, d, v: services.message_reply_public(
            ticket=t, by=u, body=d["body"], attachments=d["attachments"]
        ),
        _("Reply sent."),
    ),
    "note": Action(
        NoteForm,
        lambda t, u, d, v: services.message_note_internal(
            ticket=t, by=u, body=d["body"], channel=d["channel"], attachments=d["attachments"]
        ),
        _("Note saved."),
    ),
    "classify": Action(
        ClassifyForm,
        lambda t, u, d, v: services.ticket_classify(
            ticket=t, by=u, clarity=d["clarity"], question=d["question"], expected_version=v
        ),
        _("Ticket classified."),
    ),
    "question": Action(
        QuestionForm,
        lambda t, u, d, v: services.ticket_question_ask(
            ticket=t, by=u, question=d["question"], expected_version=v
        ),
        _(
            "Question sent: it counts as the response; the resolution clock pauses until the customer "
            "answers."
        ),
    ),
    "priority": Action(
        PriorityForm,
        lambda t, u, d, v: services.ticket_priority_set(
            ticket=t,
            by=u,
            impact=d["impact"],
            urgency=d["urgency"],
            priority=d["priority"],
            reason=d["reason"],
            expected_version=v,
        ),
        _("Priority saved; deadlines recomputed."),
    ),
    "problem": Action(
        ProblemForm,
        lambda t, u, d, v: services.ticket_problem_determine(
            ticket=t, by=u, problem_type=d["problem_type"], expected_version=v
        ),
        _("Problem type saved."),
    ),
    "consultancy": Action(
        ConsultancyAgreeForm,
        lambda t, u, d, v: services.ticket_consultancy_agree(
            ticket=t, by=u, agreed=d["agreed"], hours=d["hours"], expected_version=v
        ),
        _("Consultancy decision saved."),
    ),
    "bug": Action(
        BugForm,
        lambda t, u, d, v: services.bug_register(
            ticket=t, by=u, reference=d["reference"], url=d["url"], expected_version=v
        ),
        _("Bug registered."),
    ),
    "bug_status": Action(
        BugStatusForm,
        lambda t, u, d, v: services.bug_status_set(
            bug=d["bug"], by=u, status=d["status"], expected_version=v
        ),
        _("Bug status saved."),
    ),
    "plan": Action(
        PlanForm,
        lambda t, u, d, v: services.ticket_plan_with_customer(
            ticket=t, by=u, planned_for=d["planned_for"], note=d["note"], expected_version=v
        ),
        _("Planned with the customer."),
    ),
    "consultancy_plan": Action(
        ConsultancyPlanForm,
        lambda t, u, d, v: services.consultancy_plan(
            ticket=t, by=u, consultant=d["consultant"], on=d["on"], expected_version=v
        ),
        _("Consultancy planned."),
    ),
    "hours": Action(
        HoursForm,
        lambda t, u, d, v: services.hours_book(ticket=t, by=u, hours=d["hours"], on=d["on"], note=d["note"]),
        _("Hours booked."),
    ),
    "resolve": Action(
        ResolveForm,
        lambda t, u, d, v: services.ticket_resolve(
            ticket=t, by=u, resolution=d["resolution"], expected_version=v
        ),
        _("Ticket resolved."),
    ),
    "todo": Action(
        TodoForm,
        lambda t, u, d, v: services.ticket_todo_determine(
            ticket=t, by=u, todo=d["todo"], note=d["note"], expected_version=v
        ),
        _("To-do saved."),
    ),
    "close": Action(
        ReasonForm,
        lambda t, u, d, v: services.ticket_close(ticket=t, by=u, reason=d["reason"], expected_version=v),
        _("Ticket closed."),
    ),
    "approve": Action(
        ApproveForm,
        lambda t, u, d, v: services.change_approve(ticket=t, by=u, note=d["note"], expected_version=v),
        _("Change approved."),
    ),
    "reject": Action(
        ReasonForm,
        lambda t, u, d, v: services.change_reject(ticket=t, by=u, reason=d["reason"], expected_version=v),
        _("Change rejected and closed."),
    ),
    "reprioritisation_decide": Action(
        ReprioritisationDecideForm,
        lambda t, u, d, v: services.reprioritisation_decide(
            request=d["request"], by=u, accept=d["accept"], note=d["note"], expected_version=v
        ),
        _("Decision saved."),
    ),
}


# The workflow forms in the order of the process (SPEC §5), with their headings.
WORKFLOW = [
    ("approve", _("Approve the change")),
    ("reject", _("Reject the change")),
    ("classify", _("3. Classify")),
    ("question", _("Ask the customer")),
    ("priority", _("Impact, urgency and priority")),
    ("reprioritisation_decide", _("Decide on re-prioritisation")),
    ("problem", _("4. Determine problem and type")),
    ("consultancy", _("5. Agree consultancy")),
    ("bug", _("6. Register bug")),
    ("bug_status", _("7. Test and rework bug")),
    ("plan", _("8. Plan with customer")),
    ("consultancy_plan", _("9. Plan consultancy")),
    ("hours", _("9. Book hours")),
    ("resolve", _("10. Inform customer: resolved")),
    ("todo", _("11. Determine to-do")),
    ("close", _("13. Update and close")),
]


def render_detail(request, ticket: Ticket, *, bound=None, status=200):
    user = request.user
    parts = selectors.ticket_detail_parts(ticket)  # two queries for all the lists below
    raci, macros = ticket_page_parts(user)  # one cache round trip
    allowed = selectors.ticket_actions(ticket, user, raci=raci)
    reprioritisations = parts["reprioritisations"]
    if not any(r.status == "pending" for r in reprioritisations):
        allowed.discard("reprioritisation_decide")
    bugs = parts["bugs"]
    if not bugs:
        allowed.discard("bug_status")
    steps = next_steps(ticket, user, allowed=allowed, bugs=bugs)
    now = timezone.now()
    clocks = selectors.clock_statuses(ticket, now=now)
    language = ticket_language(ticket)
    values = macro_values(ticket, clocks=clocks)
    macro_texts = [(macro, macro_text(macro, language=language, values=values)) for macro in macros]
    reply_initial = {}
    chosen = request.GET.get("macro", "")
    if chosen.isdigit():  # without JavaScript: ?macro=ID prefills the reply
        reply_initial["body"] = next((text for m, text in macro_texts if m.pk == int(chosen)), "")
    forms = {}
    for name, action in DESK_ACTIONS.items():
        if name in allowed:
            form = (bound or {}).get(name) or action.form(
                ticket=ticket, auto_id=f"id_{name}_%s", initial=dict(reply_initial) if name == "reply" else {}
            )
            if name == "reprioritisation_decide" and name not in (bound or {}):
                form.initial["request"] = next(r.pk for r in reprioritisations if r.status == "pending")
            if name == "hours" and name not in (bound or {}):
                form.initial["on"] = timezone.localdate()
            forms[name] = form
    events = {}  # both clocks' events, from the parts' query
    for event in parts["clock_events"]:
        events.setdefault(event.clock_id, []).append(event)
    explained = [
        (status, sla_selectors.clock_explain(status.clock, now=now, events=events.get(status.clock.pk, [])))
        for status in clocks
    ]
    conversation, registration_files = _conversation(parts["messages"], parts["attachments"])
    return render(
        request,
        "tickets/desk_detail.html",
        {
            "ticket": ticket,
            "clocks": clocks,
            "explained": explained,
            "forms": forms,
            "next_steps": [(name, title, forms[name]) for name, title in WORKFLOW if name in steps.primary],
            "waiting": steps.waiting,
            "workflow": [(name, title, forms[name]) for name, title in WORKFLOW if name in steps.others],
            "bound_steps": set(bound or ()),
            "macros": macro_texts,
            "also_open": presence_ping(ticket.pk, user),
            "presence_ping": PRESENCE_PING,
            "conversation": conversation,
            "registration_files": registration_files,
            "history": parts["history"],
            "bugs": bugs,
            "reprioritisations": reprioritisations,
            "approvals": parts["approvals"],
            "bookings": parts["bookings"],
            "hours_left": functools.cache(
                lambda: selectors.hours_balance(organisation_id=ticket.organisation_id)
            ),
            "earliest_consultancy": functools.cache(lambda: services.earliest_consultancy_date(ticket)),
            "consultant_lead_days": functools.cache(lambda: services.consultant_lead_days(ticket)),
            "reopen_until": services.reopen_deadline(ticket),
        },
        status=status,
    )


def _conversation(messages_: list[Message], attachments: list[Attachment]) -> tuple[list, list]:
    """The messages with their attachments (as ``prefetch_related`` would leave them: no query
    in the template), and the registration's files."""
    files: dict[int | None, list[Attachment]] = {}
    for attachment in attachments:
        files.setdefault(attachment.message_id, []).append(attachment)
    for message in messages_:
        prefetched = message.attachments.all()
        prefetched._result_cache = files.get(message.pk, [])
        prefetched._prefetch_done = True
        message._prefetched_objects_cache = {"attachments": prefetched}
    return messages_, files.get(None, [])


def _ticket(pk: int, *, joined: bool = True) -> Ticket:
    """The ticket; ``joined``: with its clocks and the rows it names. Else ``render_detail``
    loads those beside its lists, in the same query (cheaper than the join's planning and the
    prefetch's query, see ``selectors.ticket_detail_parts``)."""
    queryset = selectors.ticket_for_detail(Ticket.objects.all()) if joined else Ticket.objects.all()
    try:
        return queryset.get(pk=pk)
    except Ticket.DoesNotExist as exc:
        raise Http404 from exc


@staff_required
def detail(request, pk: int):
    ticket = _ticket(pk, joined=False)
    mark_read(ticket, request.user)
    return render_detail(request, ticket)


@staff_required
def action(request, pk: int, name: str):
    if request.method != "POST":
        return redirect("desk:detail", pk=pk)
    ticket = _ticket(pk)
    response = run_action(
        request,
        ticket=ticket,
        name=name,
        actions=DESK_ACTIONS,
        render_detail=render_detail,
        success_url=safe_next(request, reverse("desk:detail", args=[ticket.pk])),
    )
    return response


@staff_required
def consultancy(request):
    """Tickets with agreed consultancy: who, when, hours estimated and booked, card balance."""
    tickets = list(selectors.consultancy_tickets()[:200])
    balances = {
        pk: selectors.hours_balance(organisation_id=pk)
        for pk in {ticket.organisation_id for ticket in tickets}
    }
    today = timezone.localdate()
    lead_days = {
        pk: getattr(sla_selectors.level_terms(service_level=pk, on=today), "consultant_lead_days", None)
        for pk in {ticket.service_level_id for ticket in tickets}
    }
    return render(
        request,
        "tickets/desk_consultancy.html",
        {
            "rows": [
                (ticket, balances[ticket.organisation_id], lead_days[ticket.service_level_id])
                for ticket in tickets
            ],
            "requests": ConsultancyRequest.objects.select_related("organisation", "requested_by")[:50],
        },
    )


@manager_required
def approvals(request):
    """Normal changes waiting for a support manager's decision."""
    tickets = list(selectors.approvals_pending()[:200])
    return render(
        request,
        "tickets/desk_approvals.html",
        {
            "rows": [
                (
                    ticket,
                    selectors.clock_statuses(ticket),
                    ApproveForm(ticket=ticket, auto_id=f"id_approve{ticket.pk}_%s"),
                    ReasonForm(ticket=ticket, auto_id=f"id_reject{ticket.pk}_%s"),
                )
                for ticket in tickets
            ]
        },
    )


@staff_required
def organisations(request):
    """The customer organisations, each with its level today (SPEC §1)."""
    today = timezone.localdate()
    in_force = {}  # organisation -> the contract in force today: the latest one started
    for contract in (
        Contract.objects.filter(valid_from__lte=today)
        .exclude(valid_until__lt=today)
        .select_related("service_level")
        .order_by("valid_from")
    ):
        in_force[contract.organisation_id] = contract
    coordinators = Count("users", filter=Q(users__role=Role.COORDINATOR, users__is_active=True))
    rows = [
        (organisation, in_force.get(organisation.pk))
        for organisation in Organisation.objects.annotate(coordinators=coordinators).order_by("name")
    ]
    return render(request, "tickets/desk_organisations.html", {"rows": rows})


@staff_required
def organisation(request, pk: int):
    """One organisation: its contracts, level, users and coordinator seats used and left."""
    organisation = get_object_or_404(Organisation, pk=pk)
    today = timezone.localdate()
    contract = sla_selectors.contract_in_force(organisation_id=pk, on=today)
    terms = contract and sla_selectors.level_terms(service_level=contract.service_level, on=today)
    seats_used = account_selectors.organisation_coordinators(organisation=organisation).count()
    return render(
        request,
        "tickets/desk_organisation.html",
        {
            "organisation": organisation,
            "contract": contract,
            "contracts": organisation.contracts.select_related("service_level").order_by("-valid_from"),
            "terms": terms,
            "seats_used": seats_used,
            "seats_left": max(terms.max_coordinators - seats_used, 0) if terms else None,
            "users": organisation.users.filter(is_active=True).order_by("full_name"),
        },
    )


@manager_required
def coordinators(request, pk: int):
    """Who may register calls for an organisation, within its level's maximum (SPEC §1)."""
    organisation = get_object_or_404(Organisation, pk=pk)
    if request.method == "POST":
        form = CoordinatorForm(request.POST)
        form.fields["user"].queryset = organisation.users.all()
        try:
            if not form.is_valid():
                raise ValidationError(_("Choose one of this organisation's users."))
            user = form.cleaned_data["user"]
            if form.cleaned_data["make"]:
                services.organisation_coordinator_assign(user=user, by=request.user)
            else:
                services.organisation_coordinator_revoke(user=user, by=request.user)
        except (ValidationError, PermissionDenied, IntegrityError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            status = 400
        else:
            messages.success(request, _("Saved."))
            return redirect("desk:coordinators", pk=pk)
    else:
        status = 200
    contract = sla_selectors.contract_in_force(organisation_id=pk, on=timezone.localdate())
    return render(
        request,
        "tickets/desk_coordinators.html",
        {
            "organisation": organisation,
            "level": contract.service_level if contract else None,
            "terms": contract
            and sla_selectors.level_terms(service_level=contract.service_level, on=timezone.localdate()),
            "users": organisation.users.filter(is_active=True).order_by("full_name"),
            "coordinator": Role.COORDINATOR,
        },
        status=status,
    )


def queue_url(**filters) -> str:
    return reverse("desk:queue") + "?" + urlencode(filters)


# --- mail drafts (SPEC §1): support reads them; only the customer's coordinators register ------


@staff_required
def drafts(request):
    status = request.GET.get("status", MailDraftStatus.PENDING)
    status = status if status in MailDraftStatus.values else ""
    return render(
        request,
        "tickets/desk_drafts.html",
        {
            "drafts": selectors.mail_draft_list(user=request.user, status=status)[:200],
            "status": status,
            "statuses": MailDraftStatus.choices,
        },
    )


@staff_required
def draft(request, pk: int):
    found = get_object_or_404(
        MailDraft.objects.select_related("organisation", "sender", "ticket", "decided_by").prefetch_related(
            "files"
        ),
        pk=pk,
    )
    return render(request, "tickets/desk_draft.html", {"draft": found})
