"""Reads of tickets: the RACI table, the portal list, the desk queue, clock states, balances.

Every list loads its page with a fixed number of queries (clocks are prefetched with their
calendars; built calendars are cached per process), whatever the number of tickets."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Role, User
from sla.models import Clock, ClockState
from sla.selectors import business_seconds_left
from tickets.choices import (
    ACTIVE_STATUSES,
    ConsultancyDecision,
    DecisionStatus,
    MailDraftStatus,
    ProcessStep,
    RaciLetter,
    RaciRole,
    TicketStatus,
    choice_label,
)
from tickets.models import HoursCard, MailDraft, RaciRule, Ticket, TicketRead

# --- the RACI table -----------------------------------------------------------------------

_ROLE_TO_RACI = {
    Role.CUSTOMER_USER: RaciRole.CUSTOMER,
    Role.COORDINATOR: RaciRole.CUSTOMER,
    Role.AGENT: RaciRole.SUPPORT,
    Role.CONSULTANT: RaciRole.CONSULTANT,
    Role.MANAGER: RaciRole.MANAGER,
    Role.ADMIN: RaciRole.MANAGER,
}


def raci_role(user: User) -> str | None:
    return _ROLE_TO_RACI.get(getattr(user, "role", None))


def raci_letter(*, step: str, role: str) -> str | None:
    return RaciRule.objects.filter(step=step, role=role).values_list("letter", flat=True).first()


def raci_letters_for_step(step: str) -> dict[str, str]:
    return dict(RaciRule.objects.filter(step=step).values_list("role", "letter"))


def raci_table() -> dict[tuple[str, str], str]:
    """The whole table in one query: {(step, role): letter}."""
    return {
        (step, role): letter for step, role, letter in RaciRule.objects.values_list("step", "role", "letter")
    }


def raci_matrix() -> list[tuple[str, list[str]]]:
    """For display: each step with the letter of each role, in RaciRole order."""
    table = raci_table()
    return [
        (label, [table.get((value, role), "") for role in RaciRole.values])
        for value, label in ProcessStep.choices
    ]


# --- clocks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockStatus:
    kind: str
    kind_label: str
    state: str  # ok, risk, breach, paused, best_effort, met, done
    label: str
    due_at: datetime | None
    left_seconds: int | None
    clock: Clock


def clock_status(clock: Clock, *, now: datetime | None = None) -> ClockStatus:
    from django.utils.translation import gettext as _

    now = now or timezone.now()
    late = clock.target_seconds is not None and clock.consumed_seconds > clock.target_seconds
    left = business_seconds_left(clock, now=now) if clock.state != ClockState.STOPPED else None
    if clock.state == ClockState.STOPPED:
        if clock.target_seconds is None:
            state, label = "done", _("done (best effort)")
        else:
            state, label = ("breach", _("breached")) if late else ("met", _("met"))
    elif clock.state == ClockState.PAUSED:
        state, label = "paused", _("paused")
    elif clock.target_seconds is None:
        state, label = "best_effort", _("best effort")
    elif left is not None and left < 0:
        state, label = "breach", _("breached")
    elif clock.at_risk_at and now >= clock.at_risk_at:
        state, label = "risk", _("at risk")
    else:
        state, label = "ok", _("on time")
    return ClockStatus(
        kind=clock.kind,
        kind_label=choice_label(clock, "kind"),
        state=state,
        label=label,
        due_at=clock.due_at,
        left_seconds=left,
        clock=clock,
    )


def clock_statuses(ticket: Ticket, *, now: datetime | None = None) -> list[ClockStatus]:
    """From prefetched clocks (``with_clocks``): response first."""
    clocks = sorted(ticket.clocks.all(), key=lambda c: c.kind != "response")
    return [clock_status(clock, now=now) for clock in clocks]


def ticket_rows(queryset: QuerySet[Ticket], pks: list[int]) -> dict[int, dict]:
    """Rows of a list page by primary key: each ticket with the states of its clocks."""
    now = timezone.now()
    return {t.pk: {"ticket": t, "clocks": clock_statuses(t, now=now)} for t in queryset.filter(pk__in=pks)}


def with_clocks(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return queryset.prefetch_related(Prefetch("clocks", queryset=Clock.objects.select_related("calendar")))


# --- lists --------------------------------------------------------------------------------

# The columns a list row shows (templates/tickets/_queue_row.html, _portal_row.html) and
# ``clock_status`` reads, for the rows not in the cache (tickets/caching.py). A page is 25
# tickets with their related rows and 50 clocks, and Django parses every timestamp column in
# Python: all ~40 columns cost a third more (bench/desk.py, profiled).
_ROW_FIELDS = ("title", "kind", "product__name", "step", "priority", "status", "registered_at")
_ROW_CLOCK_FIELDS = (
    "ticket_id",
    "kind",
    "state",
    "target_seconds",
    "consumed_seconds",
    "segment_started_at",
    "due_at",
    "at_risk_at",
    "calendar",
)


def _with_row_clocks(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    clocks = Clock.objects.select_related("calendar").only(*_ROW_CLOCK_FIELDS)
    return queryset.prefetch_related(Prefetch("clocks", queryset=clocks))


def _search(queryset: QuerySet[Ticket], q: str) -> QuerySet[Ticket]:
    q = (q or "").strip()
    if not q:
        return queryset
    reference = q.upper().removeprefix("T-").lstrip("0")
    if reference.isdigit():
        return queryset.filter(Q(pk=int(reference)) | Q(title__icontains=q))
    return queryset.filter(title__icontains=q)


def ticket_list_for_customer(
    *, user: User, status: str = "", kind: str = "", q: str = ""
) -> QuerySet[Ticket]:
    """The organisation's tickets, newest first (index organisation, -registered_at)."""
    queryset = Ticket.objects.for_user(user).select_related("product").only(*_ROW_FIELDS)
    if status == "active":
        queryset = queryset.filter(status__in=ACTIVE_STATUSES)
    elif status:
        queryset = queryset.filter(status=status)
    if kind:
        queryset = queryset.filter(kind=kind)
    return _with_row_clocks(_search(queryset, q)).order_by("-registered_at", "-pk")


def customer_unread(user: User) -> Case:
    """True when the customer wrote since the ticket's assignee (``user`` when nobody is
    assigned) last opened its desk page: one index look-up (``ticket_read_once``) per row."""
    read_since = TicketRead.objects.filter(
        ticket=OuterRef("pk"),
        user_id=Coalesce(OuterRef("assignee_id"), Value(user.pk)),
        read_at__gte=OuterRef("customer_replied_at"),
    )
    return Case(
        When(Q(customer_replied_at__isnull=False) & ~Exists(read_since), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def ticket_queue(*, user: User, filters: dict, now: datetime | None = None) -> QuerySet[Ticket]:
    """The desk queue: by the nearest running deadline (``Ticket.due_at``, partial index
    ``ticket_queue``), tickets without one (paused, best effort) after them. Each row carries
    ``customer_unread`` (``customer_unread``)."""
    now = now or timezone.now()
    queryset = (
        Ticket.objects.select_related("organisation", "service_level", "product", "assignee")
        .only(
            *_ROW_FIELDS,
            "organisation__name",
            "service_level__name",
            "assignee__full_name",
            "assignee__email",
        )
        .annotate(customer_unread=customer_unread(user))
    )
    status = filters.get("status") or "active"
    if status == "active":
        queryset = queryset.filter(status__in=ACTIVE_STATUSES)
    elif status != "all":
        queryset = queryset.filter(status=status)
    assigned = filters.get("assigned")
    if assigned == "mine":
        queryset = queryset.filter(assignee=user)
    elif assigned == "unassigned":
        queryset = queryset.filter(assignee__isnull=True)
    sla = filters.get("sla")
    if sla == "at_risk":
        queryset = queryset.filter(at_risk_at__lte=now, due_at__gt=now)
    elif sla == "breached":
        queryset = queryset.filter(due_at__lte=now)
    elif sla == "waiting":
        queryset = queryset.filter(status=TicketStatus.WAITING_ON_CUSTOMER)
    elif sla == "replied":  # partial index ticket_customer_replied
        queryset = queryset.filter(customer_replied_at__isnull=False, customer_unread=True)
    for name, lookup in (
        ("organisation", "organisation"),
        ("service_level", "service_level"),
        ("kind", "kind"),
        ("priority", "priority"),
        ("product", "product"),
    ):
        if filters.get(name):
            queryset = queryset.filter(**{lookup: filters[name]})
    queryset = _search(queryset, filters.get("q", ""))
    return _with_row_clocks(queryset).order_by(F("due_at").asc(nulls_last=True), "registered_at", "pk")


# What a ticket's page shows of the rows it names.
DETAIL_RELATIONS = (
    "organisation",
    "service_level",
    "policy_version",
    "product",
    "module",
    "assignee",
    "consultant",
    "registered_by",
)


def ticket_for_detail(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return with_clocks(queryset.select_related(*DETAIL_RELATIONS))


def consultancy_tickets() -> QuerySet[Ticket]:
    return with_clocks(
        Ticket.objects.filter(consultancy=ConsultancyDecision.AGREED)
        .exclude(status=TicketStatus.CLOSED)
        .select_related("organisation", "service_level", "consultant")
        .annotate(hours_booked=Sum("bookings__hours"))
        .order_by(F("consultancy_date").asc(nulls_first=True), "registered_at")
    )


def approvals_pending() -> QuerySet[Ticket]:
    return with_clocks(
        Ticket.objects.filter(status=TicketStatus.AWAITING_APPROVAL, approvals__status=DecisionStatus.PENDING)
        .select_related("organisation", "service_level", "product", "registered_by")
        .order_by("registered_at")
    )


# --- consultancy hours ----------------------------------------------------------------------


def hours_cards_with_balance(*, organisation_id: int) -> list[HoursCard]:
    cards = list(
        HoursCard.objects.filter(organisation_id=organisation_id)
        .annotate(used=Sum("bookings__hours"))
        .order_by("purchased_on", "pk")
    )
    for card in cards:
        card.left = card.hours - (card.used or 0)
    return cards


def hours_balance(*, organisation_id: int, on=None) -> Decimal:
    """Hours left on the organisation's cards valid on ``on`` (today)."""
    on = on or timezone.localdate()
    cards = (
        HoursCard.objects.filter(organisation_id=organisation_id)
        .exclude(valid_until__lt=on)
        .annotate(used=Sum("bookings__hours"))
        .values_list("hours", "used")
    )  # one query, not two: the portal list shows this on every page
    left = sum((Decimal(hours) - Decimal(used or 0) for hours, used in cards), Decimal(0))
    return left.quantize(Decimal("0.01"))


# --- mail drafts (SPEC §1) -------------------------------------------------------------------


def mail_drafts_pending_count(*, organisation_id: int) -> int | None:
    """What the portal navigation shows a coordinator: the organisation's mails waiting to be
    registered, or None when its level has no mail channel and nothing waits (no link). One
    query: the portal list reads it on a cold cache beside its rows."""
    from accounts.models import Organisation
    from sla.models import Contract, ServiceLevelTerms

    today = timezone.localdate()
    # The mail channel is a term of the policy version in force today (sla.selectors.level_terms).
    mail_in_force = (
        ServiceLevelTerms.objects.filter(
            service_level=OuterRef("service_level"), policy_version__effective_from__lte=today
        )
        .order_by("-policy_version__effective_from")
        .values("channel_mail")[:1]
    )
    with_mail = (
        Contract.objects.filter(organisation=OuterRef("pk"), valid_from__lte=today)
        .exclude(valid_until__lt=today)
        .annotate(mail=Subquery(mail_in_force))
        .filter(mail=True)
    )
    row = (
        Organisation.objects.filter(pk=organisation_id)
        .annotate(
            pending=Count("mail_drafts", filter=Q(mail_drafts__status=MailDraftStatus.PENDING)),
            mail=Exists(with_mail),
        )
        .values_list("pending", "mail")
        .first()
    )
    if row is None:
        return None
    pending, mail = row
    return pending if pending or mail else None


def mail_draft_list(*, user: User, status: str = "") -> QuerySet[MailDraft]:
    """The drafts ``user`` may read: their organisation's, or every organisation's for staff."""
    drafts = MailDraft.objects.for_user(user).select_related("organisation", "sender", "ticket", "decided_by")
    return drafts.filter(status=status) if status else drafts


# --- what a user may do on a ticket now ------------------------------------------------------

# action -> (RACI step it performs, statuses it may start from)
ACTIONS: dict[str, tuple[str | None, set[str]]] = {
    "classify": (ProcessStep.CLASSIFY, {TicketStatus.NEW, TicketStatus.OPEN}),
    "question": (ProcessStep.CLASSIFY, {TicketStatus.NEW, TicketStatus.OPEN}),
    "priority": (ProcessStep.CLASSIFY, set(ACTIVE_STATUSES)),
    "problem": (ProcessStep.DETERMINE_PROBLEM, {TicketStatus.OPEN}),
    "consultancy": (ProcessStep.AGREE_CONSULTANCY, {TicketStatus.OPEN}),
    "bug": (ProcessStep.REGISTER_BUG, {TicketStatus.OPEN}),
    "bug_status": (ProcessStep.TEST_BUG, {TicketStatus.OPEN}),
    "plan": (ProcessStep.PLAN_WITH_CUSTOMER, {TicketStatus.OPEN}),
    "consultancy_plan": (ProcessStep.PLAN_CONSULTANCY, {TicketStatus.OPEN}),
    "hours": (ProcessStep.PLAN_CONSULTANCY, {TicketStatus.OPEN, TicketStatus.RESOLVED}),
    "resolve": (ProcessStep.INFORM_CUSTOMER, {TicketStatus.OPEN}),
    "todo": (ProcessStep.DETERMINE_TODO, {TicketStatus.OPEN}),
    "close": (ProcessStep.UPDATE_TICKET, set(ACTIVE_STATUSES) | {TicketStatus.RESOLVED}),
    "confirm": (ProcessStep.CUSTOMER_INFORMS, {TicketStatus.RESOLVED}),
    "reopen": (ProcessStep.CUSTOMER_INFORMS, {TicketStatus.RESOLVED}),
    "reprioritisation_decide": (ProcessStep.CLASSIFY, set(ACTIVE_STATUSES)),
    "assign": (None, set(ACTIVE_STATUSES) | {TicketStatus.RESOLVED}),
    "reply": (None, set(ACTIVE_STATUSES) | {TicketStatus.RESOLVED}),
    "note": (None, set(TicketStatus.values)),
}


def ticket_actions(ticket: Ticket, user: User, *, raci: dict[tuple[str, str], str]) -> set[str]:
    """Which forms to show. The services decide again; this only hides what would be refused."""
    role = raci_role(user)
    allowed = set()
    for action, (step, statuses) in ACTIONS.items():
        if ticket.status not in statuses:
            continue
        if step is None:
            if user.is_support_staff:
                allowed.add(action)
        elif raci.get((step, role)) in (RaciLetter.RESPONSIBLE, RaciLetter.ACCOUNTABLE):
            allowed.add(action)
    if ticket.consultancy != ConsultancyDecision.AGREED:
        allowed -= {"consultancy_plan", "hours"}
    if ticket.status == TicketStatus.AWAITING_APPROVAL and role == RaciRole.MANAGER:
        allowed |= {"approve", "reject"}
    if user.is_customer:
        allowed &= {"confirm", "reopen"}
        if ticket.status in ACTIVE_STATUSES:
            allowed.add("reprioritise")
            if raci.get((ticket.step, RaciRole.CUSTOMER)) in ("R", "A", "C"):
                allowed.add("message")
    return allowed


def hours_cards_for_customer(*, user: User) -> list[HoursCard]:
    """The customer's organisation's cards, each with its bookings and ``used`` / ``left``."""
    from tickets.models import HoursBooking

    cards = list(
        HoursCard.objects.for_user(user)
        .annotate(used=Sum("bookings__hours"))
        .prefetch_related(
            Prefetch("bookings", queryset=HoursBooking.objects.select_related("ticket").order_by("on", "pk"))
        )
        .order_by("-purchased_on", "-pk")
    )
    today = timezone.localdate()
    for card in cards:
        card.used = Decimal(card.used or 0)
        card.left = (card.hours - card.used).quantize(Decimal("0.01"))
        card.expired = card.valid_until is not None and card.valid_until < today
    return cards


# --- the desk ticket page's related rows, in one query ---------------------------------------

# (name, model, the condition on the ticket, the order): what the desk ticket page shows
# beside the ticket. Each was a query of its own (eight round trips and as many ORM query
# compilations, a third of the page's time at a million tickets: bench/workspace.py).
_OF_TICKET = "ticket_id = %s"
_OF_CLOCKS = "clock_id IN (SELECT id FROM sla_clock WHERE ticket_id = %s)"
_OF_CLOCKS_CALENDARS = "id IN (SELECT calendar_id FROM sla_clock WHERE ticket_id = %s)"
_DETAIL_PARTS = (
    ("reprioritisations", "tickets.ReprioritisationRequest", _OF_TICKET, "requested_at DESC, id"),
    ("bugs", "tickets.BugReference", _OF_TICKET, "registered_at, id"),
    ("approvals", "tickets.ChangeApproval", _OF_TICKET, "requested_at, id"),
    ("bookings", "tickets.HoursBooking", _OF_TICKET, '"on", id'),
    ("history", "tickets.TicketChange", _OF_TICKET, "at, id"),
    ("attachments", "tickets.Attachment", _OF_TICKET, "uploaded_at, id"),
    ("messages", "tickets.Message", _OF_TICKET, "created_at, id"),
    (
        "clock_events",
        "sla.ClockEvent",
        "clock_id IN (SELECT id FROM sla_clock WHERE ticket_id = %s)",
        "at, id",
    ),
)


# What row_to_json writes as text and the ORM reads as an object (the rest: as JSON reads it).
_FROM_TEXT = {"DateTimeField", "DateField", "TimeField", "DecimalField", "DurationField", "UUIDField"}


def _from_json(model, data: dict):
    """A model instance from its row as PostgreSQL's ``row_to_json`` wrote it."""
    values = []
    for field in model._meta.concrete_fields:
        value = data[field.column]
        if value is not None and field.get_internal_type() in _FROM_TEXT:
            value = field.to_python(value)
        values.append(value)
    return model.from_db("default", None, values)


def ticket_detail_parts(ticket: Ticket) -> dict[str, list]:
    """The ticket's re-prioritisation requests, bugs, change approvals, hours booked, changes,
    attachments, messages and its clocks' events (each list in its model's order), in one
    query, and the users they name in a second one (set on them as ``select_related`` would).
    The ``DETAIL_RELATIONS`` the ticket was loaded without come with them and are set on it:
    a ticket joined to its eight related tables costs PostgreSQL ~5 ms of planning (the join
    order search), more than all the rest of the page's queries together.
    PostgreSQL only (``row_to_json``); elsewhere one query per part."""
    from django.apps import apps
    from django.db import connection

    parts = [(name, apps.get_model(label), where, order) for name, label, where, order in _DETAIL_PARTS]
    found: dict[str, list] = {name: [] for name, *_rest in parts}
    params = [ticket.pk] * len(parts)
    missing = [
        field
        for field in (Ticket._meta.get_field(name) for name in DETAIL_RELATIONS)
        if not field.is_cached(ticket) and field.related_model is not User
    ]
    for field in missing:
        value = getattr(ticket, field.attname)
        if value is None:
            field.set_cached_value(ticket, None)
        else:
            parts.append((field.name, field.related_model, "id = %s", "id"))
            params.append(value)
    clocks_missing = "clocks" not in getattr(ticket, "_prefetched_objects_cache", {})
    if clocks_missing:  # as ``with_clocks`` would leave them
        calendar = Clock._meta.get_field("calendar")
        parts.append(("clocks", Clock, _OF_TICKET, "id"))
        parts.append(
            (
                "calendars",
                calendar.related_model,
                _OF_CLOCKS_CALENDARS,
                "id",
            )
        )
        params += [ticket.pk, ticket.pk]
    if connection.vendor == "postgresql":
        import json

        sql = " UNION ALL ".join(
            # Our own constants only: table names, conditions and orders from _DETAIL_PARTS.
            f"SELECT {number} AS part, row_number() OVER (ORDER BY {order}) AS n, "  # noqa: S608  # nosec B608
            f"row_to_json(t)::text AS row FROM {model._meta.db_table} t WHERE {where}"
            for number, (_name, model, where, order) in enumerate(parts)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY 1, 2", params)  # nosec B608
            rows = cursor.fetchall()
        for number, _n, row in rows:
            name, model, *_rest = parts[number]
            found.setdefault(name, []).append(_from_json(model, json.loads(row, parse_float=Decimal)))
    else:  # pragma: no cover - the tests and production run PostgreSQL
        from sla.models import ClockEvent

        for name, model, _where, _order in parts[: len(_DETAIL_PARTS)]:
            if model is ClockEvent:
                found[name] = list(ClockEvent.objects.filter(clock__ticket=ticket).order_by("at", "pk"))
            else:
                found[name] = list(model.objects.filter(ticket=ticket).order_by(*model._meta.ordering, "pk"))
    for field in missing:
        if connection.vendor == "postgresql" and getattr(ticket, field.attname) is not None:
            rows = found.pop(field.name, [])
            field.set_cached_value(ticket, rows[0] if rows else None)
    if clocks_missing and connection.vendor == "postgresql":
        calendars = {row.pk: row for row in found.pop("calendars", [])}
        clocks = found.pop("clocks", [])
        for clock in clocks:
            calendar.set_cached_value(clock, calendars.get(clock.calendar_id))
            Clock._meta.get_field("ticket").set_cached_value(clock, ticket)
        prefetched = ticket.clocks.all()
        prefetched._result_cache, prefetched._prefetch_done = clocks, True
        ticket._prefetched_objects_cache = {
            **getattr(ticket, "_prefetched_objects_cache", {}),
            "clocks": prefetched,
        }
    user_fields = [
        (instance, field)
        for rows in found.values()
        for instance in rows
        for field in instance._meta.concrete_fields
        if field.is_relation and field.related_model is User
    ]
    user_fields += [
        (ticket, field)
        for field in (Ticket._meta.get_field(name) for name in DETAIL_RELATIONS)
        if field.related_model is User and not field.is_cached(ticket)
    ]
    users = User.objects.in_bulk({getattr(i, f.attname) for i, f in user_fields} - {None})
    for instance, field in user_fields:
        user_id = getattr(instance, field.attname)
        field.set_cached_value(instance, users.get(user_id) if user_id is not None else None)
    return found
