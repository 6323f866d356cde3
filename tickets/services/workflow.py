"""The support process of SPEC §5 as transitions. Each checks the states it may start from
and the RACI table (R or A for its step), writes through one version-checked save with
history, and notifies the step's C and I roles."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from sla import selectors as sla_selectors
from sla import services as sla_services
from sla.models import ClockKind
from sla_portal.formatting import date_text
from tickets import selectors
from tickets.choices import (
    ACTIVE_STATUSES,
    BugStatus,
    Clarity,
    ConsultancyDecision,
    DecisionStatus,
    MessageKind,
    ProblemType,
    ProcessStep,
    RaciRole,
    TicketStatus,
    Todo,
)
from tickets.models import BugReference, ChangeApproval, Message, ReprioritisationRequest, Ticket
from tickets.services._common import (
    Edit,
    deadlines_sync,
    field_error,
    lock,
    new_card_advice,
    notify,
    notify_step,
    record,
    require_access,
    require_staff,
    require_status,
    require_step,
)
from tickets.services.conversation import public_message
from tickets.services.satisfaction import is_ratable, rating_invitation

OPEN = {TicketStatus.OPEN}
WORKABLE = {TicketStatus.NEW, TicketStatus.OPEN}


def _begin(
    ticket: Ticket, *, by: User, step: str, allowed, action: str, expected_version: int | None
) -> Ticket:
    ticket = lock(ticket, expected_version=expected_version)
    require_step(by, step, ticket=ticket)
    require_status(ticket, allowed, action=action)
    return ticket


def _ask(ticket: Ticket, *, by: User, question: str) -> None:
    """A question to the customer is a response (it stops the response clock if it is the first
    public message); the resolution clock pauses until the customer answers (SPEC §2)."""
    public_message(ticket, by=by, kind=MessageKind.QUESTION, body=question)
    ticket.status = TicketStatus.WAITING_ON_CUSTOMER
    sla_services.sla_clocks_pause(ticket=ticket, by=by, reason=_("Question to the customer"))
    deadlines_sync(ticket)


@transaction.atomic
def ticket_classify(
    *, ticket: Ticket, by: User, clarity: str, question: str = "", expected_version: int | None = None
) -> Ticket:
    """Step 3: clear (a known item, an existing bug, an information request) or unclear: then a
    question goes to the customer, which is the response, and the resolution clock pauses
    until they answer."""
    if clarity not in Clarity.values:
        raise field_error("clarity", _("Choose clear or unclear."))
    question = (question or "").strip()
    if clarity == Clarity.UNCLEAR and not question:
        raise field_error("question", _("An unclear ticket needs a question to the customer."))
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.CLASSIFY,
        allowed=WORKABLE,
        action=_("classify"),
        expected_version=expected_version,
    )
    with Edit(ticket, by=by):
        ticket.clarity, ticket.step, ticket.status = clarity, ProcessStep.CLASSIFY, TicketStatus.OPEN
        if clarity == Clarity.UNCLEAR:
            _ask(ticket, by=by, question=question)
    notify_step(ticket, step=ProcessStep.CLASSIFY, by=by, what=ticket.get_clarity_display(), body=question)
    return ticket


@transaction.atomic
def ticket_question_ask(
    *, ticket: Ticket, by: User, question: str, expected_version: int | None = None
) -> Ticket:
    """Support needs more information at any later point: the same question as at step 3."""
    question = (question or "").strip()
    if not question:
        raise field_error("question", _("Write the question."))
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.CLASSIFY,
        allowed=WORKABLE,
        action=_("ask about"),
        expected_version=expected_version,
    )
    with Edit(ticket, by=by):
        _ask(ticket, by=by, question=question)
    notify(ticket, roles={RaciRole.CUSTOMER}, by=by, what=_("a question from support"), body=question)
    return ticket


@transaction.atomic
def ticket_priority_set(
    *,
    ticket: Ticket,
    by: User,
    impact: int,
    urgency: int,
    priority: int | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """Impact x urgency -> priority by the matrix (SPEC §4); a different priority is an override
    and needs a reason. A priority change recomputes the clocks from registration."""
    matrix = sla_selectors.priority_for(impact=impact, urgency=urgency)
    reason = (reason or "").strip()
    if priority is not None and priority != matrix and not reason:
        raise field_error(
            "reason", _("Overriding the matrix (priority %(matrix)d) needs a reason.") % {"matrix": matrix}
        )
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.CLASSIFY,
        allowed=set(ACTIVE_STATUSES),
        action=_("prioritise"),
        expected_version=expected_version,
    )
    old_priority = ticket.priority
    with Edit(ticket, by=by):
        ticket.impact, ticket.urgency = impact, urgency
        if priority is not None and priority != matrix:
            ticket.priority, ticket.priority_overridden, ticket.priority_reason = priority, True, reason
        else:
            ticket.priority, ticket.priority_overridden, ticket.priority_reason = matrix, False, reason
        if ticket.priority != old_priority:
            sla_services.sla_clocks_recompute(ticket=ticket)
            deadlines_sync(ticket)
    if ticket.priority != old_priority:
        notify(
            ticket,
            roles={RaciRole.CUSTOMER},
            by=by,
            what=_("priority is now %(priority)s") % {"priority": ticket.get_priority_display()},
        )
    return ticket


@transaction.atomic
def ticket_problem_determine(
    *, ticket: Ticket, by: User, problem_type: str, expected_version: int | None = None
) -> Ticket:
    """Step 4: a bug (we register it), configuration (does the customer need our help?), a
    question, or not covered by support."""
    if problem_type not in ProblemType.values:
        raise field_error("problem_type", _("Choose a problem type."))
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.DETERMINE_PROBLEM,
        allowed=OPEN,
        action=_("determine the problem of"),
        expected_version=expected_version,
    )
    with Edit(ticket, by=by):
        ticket.problem_type, ticket.step = problem_type, ProcessStep.DETERMINE_PROBLEM
    notify_step(ticket, step=ProcessStep.DETERMINE_PROBLEM, by=by, what=ticket.get_problem_type_display())
    return ticket


@transaction.atomic
def ticket_consultancy_agree(
    *, ticket: Ticket, by: User, agreed: bool, hours=None, expected_version: int | None = None
) -> Ticket:
    """Step 5: does the customer want paid help? Yes: an estimate that the organisation's
    prepaid hours card must cover. No: the customer solves it."""
    if agreed and (hours is None or hours <= 0):
        raise field_error("hours", _("Agreed consultancy needs an estimate of the hours."))
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.AGREE_CONSULTANCY,
        allowed=OPEN,
        action=_("agree consultancy on"),
        expected_version=expected_version,
    )
    if agreed:
        balance = selectors.hours_balance(organisation_id=ticket.organisation_id)
        if hours > balance:
            raise field_error(
                "hours",
                _(
                    "%(organisation)s has %(balance)s hours left on its prepaid cards; the estimate is "
                    "%(hours)s. %(next_step)s"
                )
                % {
                    "organisation": ticket.organisation,
                    "balance": balance,
                    "hours": hours,
                    "next_step": new_card_advice(by),
                },
            )
    with Edit(ticket, by=by):
        ticket.step = ProcessStep.AGREE_CONSULTANCY
        ticket.consultancy = ConsultancyDecision.AGREED if agreed else ConsultancyDecision.DECLINED
        ticket.consultancy_hours = hours if agreed else None
    notify_step(ticket, step=ProcessStep.AGREE_CONSULTANCY, by=by, what=ticket.get_consultancy_display())
    return ticket


@transaction.atomic
def bug_register(
    *, ticket: Ticket, by: User, reference: str, url: str = "", expected_version: int | None = None
) -> BugReference:
    """Step 6: the bug is in the development system; its reference (PBI) is linked here."""
    reference = (reference or "").strip()
    if not reference:
        raise field_error("reference", _("Give the reference of the bug in the development system."))
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.REGISTER_BUG,
        allowed=OPEN,
        action=_("register a bug on"),
        expected_version=expected_version,
    )
    if ticket.problem_type not in ("", ProblemType.BUG):
        raise ValidationError(
            _("This ticket's problem type is %(type)s, not a bug.")
            % {"type": ticket.get_problem_type_display().lower()},
            code="invalid_transition",
        )
    if ticket.bugs.filter(reference__iexact=reference).exists():
        raise field_error("reference", _("%(reference)s is already linked.") % {"reference": reference})
    bug = BugReference(
        ticket=ticket, reference=reference, url=url, registered_by=by, registered_at=timezone.now()
    )
    bug.full_clean(exclude=["ticket", "registered_by"])
    with Edit(ticket, by=by):
        ticket.problem_type, ticket.step = ProblemType.BUG, ProcessStep.REGISTER_BUG
        bug.save()
    record(ticket, by=by, field="bug", new=f"{reference} ({bug.get_status_display()})")
    notify_step(
        ticket,
        step=ProcessStep.REGISTER_BUG,
        by=by,
        what=_("bug %(reference)s registered") % {"reference": reference},
    )
    return bug


@transaction.atomic
def bug_status_set(
    *, bug: BugReference, by: User, status: str, expected_version: int | None = None
) -> BugReference:
    """Step 7: development fixes and tests it; its status moves on."""
    if status not in BugStatus.values:
        raise field_error("status", _("Choose a bug status."))
    ticket = _begin(
        bug.ticket_id,
        by=by,
        step=ProcessStep.TEST_BUG,
        allowed=OPEN,
        action=_("update a bug of"),
        expected_version=expected_version,
    )
    bug = BugReference.objects.select_for_update().get(pk=bug.pk, ticket=ticket)
    old = bug.get_status_display()
    with Edit(ticket, by=by):
        ticket.step = ProcessStep.TEST_BUG
        bug.status = status
        bug.save(update_fields=["status"])
    record(
        ticket,
        by=by,
        field="bug",
        old=f"{bug.reference} ({old})",
        new=f"{bug.reference} ({bug.get_status_display()})",
    )
    notify_step(
        ticket,
        step=ProcessStep.TEST_BUG,
        by=by,
        what=_("bug %(reference)s: %(status)s")
        % {"reference": bug.reference, "status": bug.get_status_display()},
    )
    return bug


@transaction.atomic
def ticket_plan_with_customer(
    *, ticket: Ticket, by: User, planned_for: date, note: str, expected_version: int | None = None
) -> Ticket:
    """Step 8: the fix is deployed and tested on the customer's environment on a set day."""
    if planned_for < timezone.localdate():
        raise field_error("planned_for", _("Plan a day from today on."))
    note = (note or "").strip()
    if not note:
        raise field_error("note", _("Tell the customer what is planned."))
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.PLAN_WITH_CUSTOMER,
        allowed=OPEN,
        action=_("plan"),
        expected_version=expected_version,
    )
    with Edit(ticket, by=by):
        ticket.planned_for, ticket.step = planned_for, ProcessStep.PLAN_WITH_CUSTOMER
        public_message(ticket, by=by, kind=MessageKind.REPLY, body=note)
    notify_step(
        ticket,
        step=ProcessStep.PLAN_WITH_CUSTOMER,
        by=by,
        what=_("planned for %(date)s") % {"date": planned_for},
        body=note,
    )
    return ticket


@transaction.atomic
def ticket_resolve(
    *, ticket: Ticket, by: User, resolution: str, expected_version: int | None = None
) -> Ticket:
    """Step 10: the report to the customer; resolved (a workaround counts). Stops the
    resolution clock (and the response clock, if nobody replied before)."""
    resolution = (resolution or "").strip()
    if not resolution:
        raise field_error("resolution", _("Describe the resolution for the customer."))
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.INFORM_CUSTOMER,
        allowed=OPEN,
        action=_("resolve"),
        expected_version=expected_version,
    )
    now = timezone.now()
    with Edit(ticket, by=by):
        public_message(ticket, by=by, kind=MessageKind.REPLY, body=resolution)
        sla_services.sla_clock_stop(
            ticket=ticket, kind=ClockKind.RESOLUTION, by=by, at=now, reason=_("Resolved")
        )
        deadlines_sync(ticket)
        ticket.status, ticket.step = TicketStatus.RESOLVED, ProcessStep.INFORM_CUSTOMER
        ticket.resolution, ticket.resolved_at = resolution, now
    notify_step(
        ticket,
        step=ProcessStep.INFORM_CUSTOMER,
        by=by,
        what=_("resolved"),
        body=_(
            "%(resolution)s\n\nPlease confirm the resolution in the portal, or reopen the ticket within "
            "%(days)d days."
        )
        % {"resolution": resolution, "days": settings.SLA_REOPEN_DAYS},
        to_customers=rating_invitation(ticket),
    )
    return ticket


@transaction.atomic
def ticket_todo_determine(
    *, ticket: Ticket, by: User, todo: str, note: str = "", expected_version: int | None = None
) -> Ticket:
    """Step 11: not resolved yet - the customer books the consultant, or support plans a
    session with the customer."""
    if todo not in Todo.values:
        raise field_error("todo", _("Choose what is to be done."))
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.DETERMINE_TODO,
        allowed=OPEN,
        action=_("determine the to-do of"),
        expected_version=expected_version,
    )
    with Edit(ticket, by=by):
        ticket.todo, ticket.step = todo, ProcessStep.DETERMINE_TODO
        if note.strip():
            public_message(ticket, by=by, kind=MessageKind.REPLY, body=note.strip())
    notify_step(ticket, step=ProcessStep.DETERMINE_TODO, by=by, what=ticket.get_todo_display(), body=note)
    return ticket


@transaction.atomic
def ticket_confirm(*, ticket: Ticket, by: User, expected_version: int | None = None) -> Ticket:
    """Step 12 then 13: the customer confirms the resolution; the ticket is closed."""
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.CUSTOMER_INFORMS,
        allowed={TicketStatus.RESOLVED},
        action=_("confirm"),
        expected_version=expected_version,
    )
    with Edit(ticket, by=by):
        ticket.status, ticket.step, ticket.closed_at = (
            TicketStatus.CLOSED,
            ProcessStep.UPDATE_TICKET,
            timezone.now(),
        )
        ticket.close_reason = _("Resolution confirmed by the customer.")
    notify_step(ticket, step=ProcessStep.CUSTOMER_INFORMS, by=by, what=_("confirmed and closed"))
    return ticket


def reopen_deadline(ticket: Ticket):
    return ticket.resolved_at + timedelta(days=settings.SLA_REOPEN_DAYS) if ticket.resolved_at else None


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, by: User, reason: str, expected_version: int | None = None) -> Ticket:
    """Step 12: the resolution does not hold. Within SLA_REOPEN_DAYS of the resolution the
    ticket opens again and its resolution clock counts on from where it stopped."""
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Tell us why the resolution does not hold."))
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.CUSTOMER_INFORMS,
        allowed={TicketStatus.RESOLVED},
        action=_("reopen"),
        expected_version=expected_version,
    )
    now = timezone.now()
    if now > reopen_deadline(ticket):
        raise ValidationError(
            _(
                "A ticket can be reopened within %(days)d days of its resolution; this one was resolved on "
                "%(date)s. Please register a new ticket and mention %(reference)s."
            )
            % {
                "days": settings.SLA_REOPEN_DAYS,
                "reference": ticket.reference,
                "date": date_text(ticket.resolved_at),
            },
            code="invalid_transition",
        )
    with Edit(ticket, by=by):
        Message.objects.create(
            ticket=ticket,
            kind=MessageKind.CUSTOMER,
            author=by,
            created_at=now,
            body=_("Reopened: %(reason)s") % {"reason": reason},
        )
        ticket.customer_replied_at = now
        ticket.status, ticket.step, ticket.resolved_at = (
            TicketStatus.OPEN,
            ProcessStep.CUSTOMER_INFORMS,
            None,
        )
        sla_services.sla_clock_restart(
            ticket=ticket, kind=ClockKind.RESOLUTION, by=by, at=now, reason=_("Reopened by the customer")
        )
        deadlines_sync(ticket)
    notify(ticket, roles={RaciRole.SUPPORT, RaciRole.CONSULTANT}, by=by, what=_("reopened"), body=reason)
    return ticket


def _close(ticket: Ticket, *, by: User | None, reason: str) -> None:
    now = timezone.now()
    for kind in ClockKind:
        sla_services.sla_clock_stop(ticket=ticket, kind=kind, by=by, at=now, reason=reason[:200])
    deadlines_sync(ticket)
    ticket.status, ticket.step, ticket.closed_at, ticket.close_reason = (
        TicketStatus.CLOSED,
        ProcessStep.UPDATE_TICKET,
        now,
        reason[:500],
    )


@transaction.atomic
def ticket_close(*, ticket: Ticket, by: User, reason: str, expected_version: int | None = None) -> Ticket:
    """Step 13: support updates and closes the ticket (a duplicate, not covered, or a resolved
    ticket the customer did not react to). Open clocks stop."""
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Give the reason for closing."))
    ticket = _begin(
        ticket,
        by=by,
        step=ProcessStep.UPDATE_TICKET,
        allowed=set(ACTIVE_STATUSES) | {TicketStatus.RESOLVED},
        action=_("close"),
        expected_version=expected_version,
    )
    with Edit(ticket, by=by):
        public_message(
            ticket, by=by, kind=MessageKind.REPLY, body=_("Closed: %(reason)s") % {"reason": reason}
        )
        _close(ticket, by=by, reason=reason)
    notify_step(
        ticket,
        step=ProcessStep.UPDATE_TICKET,
        by=by,
        what=_("closed"),
        body=reason,
        to_customers=rating_invitation(ticket) if is_ratable(ticket) else "",
    )
    return ticket


# Resolved tickets whose reopen window passed are closed in batches this size per transaction.
CLOSE_BATCH = 200


def tickets_close_unconfirmed(*, now=None, batch_size: int = CLOSE_BATCH) -> int:
    """Resolved tickets not confirmed nor reopened within SLA_REOPEN_DAYS close by themselves.
    Safe to run twice: each is re-checked under its lock."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SLA_REOPEN_DAYS)
    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                Ticket.objects.filter(status=TicketStatus.RESOLVED, resolved_at__lt=cutoff)
                .order_by("resolved_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return done
            for pk in ids:
                ticket = lock(pk, expected_version=None)
                if ticket.status != TicketStatus.RESOLVED:
                    continue
                with Edit(ticket, by=None):
                    ticket.status, ticket.step, ticket.closed_at = (
                        TicketStatus.CLOSED,
                        ProcessStep.UPDATE_TICKET,
                        now,
                    )
                    ticket.close_reason = _("Not reopened within %(days)d days of the resolution.") % {
                        "days": settings.SLA_REOPEN_DAYS
                    }
                # The closing mail asks the satisfaction question (issue 17), as confirming does.
                notify(
                    ticket,
                    roles={RaciRole.CUSTOMER},
                    by=None,
                    what=_("closed"),
                    body=ticket.close_reason,
                    to_customers=rating_invitation(ticket),
                )
                done += 1


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, by: User, assignee: User | None, expected_version: int | None = None
) -> Ticket:
    """Assign or reassign to a member of staff (or nobody); the history keeps every hand-over."""
    require_staff(by)
    if assignee is not None and (not assignee.is_support_staff or not assignee.is_active):
        raise field_error("assignee", _("Tickets are assigned to active support staff only."))
    ticket = lock(ticket, expected_version=expected_version)
    require_status(ticket, set(ACTIVE_STATUSES) | {TicketStatus.RESOLVED}, action=_("assign"))
    with Edit(ticket, by=by):
        ticket.assignee = assignee
    if assignee is not None and assignee != by:
        notify(ticket, roles={RaciRole.SUPPORT}, by=by, what=_("assigned to you"))
    return ticket


# --- normal changes -------------------------------------------------------------------------


def _require_manager(by: User) -> None:
    if selectors.raci_role(by) != RaciRole.MANAGER:
        raise PermissionDenied(_("Only a support manager may decide on a normal change."))


def _change_decide(
    ticket: Ticket, *, by: User, status: str, reason: str, action: str, expected_version: int | None
) -> Ticket:
    """Record a support manager's decision on the pending approval of a normal change."""
    _require_manager(by)
    ticket = lock(ticket, expected_version=expected_version)
    require_status(ticket, {TicketStatus.AWAITING_APPROVAL}, action=action)
    ChangeApproval.objects.filter(ticket=ticket, status=DecisionStatus.PENDING).update(
        status=status, decided_by=by, decided_at=timezone.now(), reason=reason
    )
    return ticket


@transaction.atomic
def change_approve(
    *, ticket: Ticket, by: User, note: str = "", expected_version: int | None = None
) -> Ticket:
    """A normal change may be worked on once a support manager approved it."""
    ticket = _change_decide(
        ticket,
        by=by,
        status=DecisionStatus.APPROVED,
        reason=note.strip(),
        action=_("approve"),
        expected_version=expected_version,
    )
    with Edit(ticket, by=by):
        ticket.status = TicketStatus.NEW
    notify(ticket, roles={RaciRole.CUSTOMER, RaciRole.SUPPORT}, by=by, what=_("change approved"), body=note)
    return ticket


@transaction.atomic
def change_reject(*, ticket: Ticket, by: User, reason: str, expected_version: int | None = None) -> Ticket:
    """A rejected normal change is closed with the reason, which the customer sees."""
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("A rejection needs a reason for the customer."))
    ticket = _change_decide(
        ticket,
        by=by,
        status=DecisionStatus.REJECTED,
        reason=reason,
        action=_("reject"),
        expected_version=expected_version,
    )
    with Edit(ticket, by=by):
        public_message(
            ticket, by=by, kind=MessageKind.REPLY, body=_("Change rejected: %(reason)s") % {"reason": reason}
        )
        _close(ticket, by=by, reason=_("Change rejected: %(reason)s") % {"reason": reason})
    notify(ticket, roles={RaciRole.CUSTOMER}, by=by, what=_("change rejected"), body=reason)
    return ticket


# --- re-prioritisation (SPEC §4: the customer may ask, support decides) -----------------------


@transaction.atomic
def reprioritisation_request(
    *, ticket: Ticket, by: User, priority: int, reason: str
) -> ReprioritisationRequest:
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Tell us why the priority should change."))
    if not by.is_customer:
        raise PermissionDenied(_("Re-prioritisation is asked by the customer; support sets priorities."))
    ticket = lock(ticket, expected_version=None)
    require_access(ticket, by)
    require_status(ticket, ACTIVE_STATUSES, action=_("re-prioritise"))
    if priority == ticket.priority:
        raise field_error("priority", _("The ticket already has this priority."))
    if ticket.reprioritisations.filter(status=DecisionStatus.PENDING).exists():
        raise ValidationError(_("A request to re-prioritise this ticket is already waiting for support."))
    request = ReprioritisationRequest.objects.create(
        ticket=ticket,
        requested_by=by,
        requested_at=timezone.now(),
        current_priority=ticket.priority,
        priority=priority,
        reason=reason,
    )
    record(
        ticket,
        by=by,
        field="reprioritisation",
        new=_("asked: %(priority)s") % {"priority": request.get_priority_display()},
    )
    notify(ticket, roles={RaciRole.SUPPORT}, by=by, what=_("the customer asks to re-prioritise"), body=reason)
    return request


@transaction.atomic
def reprioritisation_decide(
    *,
    request: ReprioritisationRequest,
    by: User,
    accept: bool,
    note: str = "",
    expected_version: int | None = None,
) -> ReprioritisationRequest:
    note = (note or "").strip()
    if not accept and not note:
        raise field_error("note", _("Tell the customer why the priority stays."))
    ticket = _begin(
        request.ticket_id,
        by=by,
        step=ProcessStep.CLASSIFY,
        allowed=ACTIVE_STATUSES,
        action=_("re-prioritise"),
        expected_version=expected_version,
    )
    request = ReprioritisationRequest.objects.select_for_update().get(pk=request.pk, ticket=ticket)
    if request.status != DecisionStatus.PENDING:
        raise ValidationError(_("This request was already decided."), code="invalid_transition")
    request.status = DecisionStatus.APPROVED if accept else DecisionStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = by, timezone.now(), note
    request.save()
    if accept:
        with Edit(ticket, by=by):
            ticket.priority, ticket.priority_overridden = request.priority, True
            ticket.priority_reason = (_("Asked by the customer: %(reason)s") % {"reason": request.reason})[
                :500
            ]
            sla_services.sla_clocks_recompute(ticket=ticket)
            deadlines_sync(ticket)
    else:
        record(
            ticket,
            by=by,
            field="reprioritisation",
            old=request.get_priority_display(),
            new=_("declined: %(note)s") % {"note": note},
        )
    notify(
        ticket,
        roles={RaciRole.CUSTOMER},
        by=by,
        what=_("re-prioritisation accepted") if accept else _("re-prioritisation declined"),
        body=note,
    )
    return request


def tickets_deadlines_sync(*, calendar_id: int | None = None) -> int:
    """Re-copy each active ticket's nearest running deadline from its clocks. The services keep
    ``Ticket.due_at`` in step themselves; this repairs it after the SLA engine recomputed clocks
    on its own (a calendar or holiday change), in one UPDATE."""
    from django.db.models import OuterRef, Subquery

    from sla.models import Clock, ClockState

    nearest = Clock.objects.filter(
        ticket=OuterRef("pk"), state=ClockState.RUNNING, due_at__isnull=False
    ).order_by("due_at")
    tickets = Ticket.objects.filter(status__in=ACTIVE_STATUSES)
    if calendar_id is not None:
        tickets = tickets.filter(clocks__calendar_id=calendar_id).distinct()
    return Ticket.objects.filter(pk__in=tickets.values("pk")).update(
        due_at=Subquery(nearest.values("due_at")[:1]), at_risk_at=Subquery(nearest.values("at_risk_at")[:1])
    )
