"""Writes of the SLA engine: clocks, their recomputation, the sweep, calendar changes."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationTopic, Organisation, Role, User, WebhookEvent
from accounts.services import notifications_queue, site_url
from accounts.webhooks import webhook_emit
from sla.calendar import BusinessCalendar
from sla.models import (
    Calendar,
    Clock,
    ClockAction,
    ClockEvent,
    ClockKind,
    ClockState,
    ClockTransition,
    Contract,
    PendingCrossing,
    ServiceLevel,
    TransitionKind,
)
from sla.selectors import business_calendar, targets_for
from sla_portal.formatting import datetime_text
from sla_portal.tasks_util import enqueue, enqueue_on_commit

# --- clocks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Derived:
    """A clock's state replayed from its events."""

    state: str
    consumed_seconds: int
    segment_started_at: datetime | None
    stopped_at: datetime | None
    # For each amount of business time asked about (the target, the at-risk share) that the
    # closed stretches counted: the earliest instant the clock had counted that much.
    reached_at: dict[int, datetime] = field(default_factory=dict)


def clock_replay(
    events: list[ClockEvent], calendar: BusinessCalendar, *, thresholds: Iterable[int | None] = ()
) -> Derived:
    """The clock's state is its events: business time counted over the running stretches;
    for each of ``thresholds`` the closed stretches reached, the instant they reached it."""
    state, consumed, running_since, stopped_at = ClockState.RUNNING, 0, None, None
    waiting = sorted({threshold for threshold in thresholds if threshold is not None})
    reached: dict[int, datetime] = {}
    for event in events:
        if event.action in (ClockAction.START, ClockAction.RESUME):
            state, running_since = ClockState.RUNNING, event.at
        else:
            if running_since is not None:
                stretch = int(calendar.elapsed(running_since, event.at))
                while waiting and consumed + stretch >= waiting[0] and (stretch or waiting[0] <= consumed):
                    threshold = waiting.pop(0)
                    reached[threshold] = calendar.add(running_since, max(threshold - consumed, 0))
                consumed += stretch
                running_since = None
            if event.action == ClockAction.PAUSE:
                state = ClockState.PAUSED
            else:
                state, stopped_at = ClockState.STOPPED, event.at
    return Derived(state, consumed, running_since, stopped_at, reached)


def _thresholds(clock: Clock, at_risk_percent: int) -> tuple[int, ...]:
    """The amounts of business time whose instants a clock stores: its target, its at-risk share."""
    target = clock.target_seconds
    return () if target is None else (target, target * at_risk_percent // 100)


def _reached(derived: Derived, calendar: BusinessCalendar, threshold: int) -> datetime:
    """The instant a running clock has counted ``threshold``: in a closed stretch (the past,
    whatever pause, resume or priority change followed: SPEC §2), or ahead in this one."""
    if threshold in derived.reached_at:
        return derived.reached_at[threshold]
    return calendar.add(derived.segment_started_at, max(threshold - derived.consumed_seconds, 0))


def _clock_apply(clock: Clock, derived: Derived, calendar: BusinessCalendar, at_risk_percent: int) -> None:
    """Store the derivation and the instants that follow from it (due, at risk).

    The deadline is the instant the target was used up, also when that lies in an earlier
    running stretch: a deadline that has passed stays passed (SPEC §2). The breach itself
    begins a business second later (a response at the deadline is in time, one counted at a
    closing deadline the next morning before opening too), which is when the sweep looks:
    ``breach_check_at``, kept on the instance for ``_crossings_watch``."""
    clock.state = derived.state
    clock.consumed_seconds = derived.consumed_seconds
    clock.segment_started_at = derived.segment_started_at
    clock.stopped_at = derived.stopped_at
    clock.due_at = clock.at_risk_at = clock.breach_check_at = None
    if derived.state == ClockState.RUNNING and clock.target_seconds is not None:
        target, risk = _thresholds(clock, at_risk_percent)
        clock.due_at = _reached(derived, calendar, target)
        clock.at_risk_at = _reached(derived, calendar, risk)
        left = target - derived.consumed_seconds
        # Counted more than the target before this stretch (a priority change shortened it):
        # breached already, at the deadline.
        clock.breach_check_at = (
            clock.due_at if left < 0 else calendar.add(derived.segment_started_at, left + 1)
        )


def _breach_record_if_exceeded(clock: Clock, derived: Derived) -> None:
    """A clock that stops or pauses having counted more than its target breached at the instant
    it used the target up (its deadline then), even if no sweep saw it run late."""
    target = clock.target_seconds
    if derived.state != ClockState.RUNNING and target is not None and derived.consumed_seconds > target:
        ClockTransition.objects.get_or_create(
            clock=clock, kind=TransitionKind.BREACHED, defaults={"crossed_at": derived.reached_at[target]}
        )


CLOCK_DERIVED_FIELDS = [
    "state",
    "consumed_seconds",
    "segment_started_at",
    "stopped_at",
    "due_at",
    "at_risk_at",
    "target_seconds",
    "calendar",
]


def _clock_recompute(clock: Clock, *, level: ServiceLevel) -> Derived:
    calendar = business_calendar(clock.calendar)
    events = list(clock.events.order_by("at", "pk"))
    derived = clock_replay(events, calendar, thresholds=_thresholds(clock, level.at_risk_percent))
    _clock_apply(clock, derived, calendar, level.at_risk_percent)
    clock_measure(clock, started_at=events[0].at if events else None, calendar=calendar)
    return derived


def clock_measure(clock: Clock, *, started_at: datetime | None, calendar: BusinessCalendar) -> None:
    """Store a stopped clock's measure for the published figures (§1.2.3 "70% volgende
    werkdag, 95% binnen 5 werkdagen, 100% binnen 3 maanden"): the working days and calendar
    months it took from its start, its counted business time only (pauses excluded)."""
    if clock.state != ClockState.STOPPED or started_at is None:
        clock.working_days = clock.months = None
        return
    clock.working_days = calendar.working_days_used(started_at, clock.consumed_seconds)
    clock.months = calendar.months_used(started_at, clock.consumed_seconds)


def sla_clocks_start(*, ticket, by: User | None) -> list[Clock]:
    """Start the response and resolution clocks at the ticket's official registration."""
    level = ticket.service_level
    calendar_row = level.calendar
    calendar = business_calendar(calendar_row)
    targets = targets_for(
        policy_version_id=ticket.policy_version_id,
        service_level_id=level.pk,
        ticket_kind=ticket.kind,
        priority=ticket.priority,
    )
    clocks = []
    for kind in ClockKind:
        target = targets.get(kind)
        clock = Clock.objects.create(
            ticket=ticket,
            kind=kind,
            calendar=calendar_row,
            target_seconds=target.seconds(day_seconds=calendar.day_seconds) if target else None,
        )
        event = ClockEvent.objects.create(
            clock=clock,
            action=ClockAction.START,
            at=ticket.registered_at,
            by=by,
            reason=_("Ticket registered"),
        )
        _clock_apply(clock, clock_replay([event], calendar), calendar, level.at_risk_percent)
        clock.save()
        clocks.append(clock)
    _crossings_watch(clocks)
    return clocks


def _crossings_watch(clocks: list[Clock]) -> None:
    """Keep the sweep's list of pending crossings in step with the clocks' stored instants:
    a running clock's at-risk instant and deadline, unless already recorded. A breach is
    looked for from the instant the clock counts more than its target, and recorded at its
    deadline (``_clock_apply``)."""
    ids = [clock.pk for clock in clocks]
    # Waits for a sweep holding one of these rows; what it recorded is then visible below.
    PendingCrossing.objects.filter(clock_id__in=ids).delete()
    recorded = set(ClockTransition.objects.filter(clock_id__in=ids).values_list("clock_id", "kind"))
    PendingCrossing.objects.bulk_create(
        PendingCrossing(clock_id=clock.pk, kind=kind, at=at or crossed_at, crossed_at=crossed_at)
        for clock in clocks
        if clock.state == ClockState.RUNNING
        for kind, at, crossed_at in (
            (TransitionKind.AT_RISK, clock.at_risk_at, clock.at_risk_at),
            (TransitionKind.BREACHED, getattr(clock, "breach_check_at", None), clock.due_at),
        )
        if crossed_at is not None and (clock.pk, kind) not in recorded
    )


def _clocks_act(
    *, ticket, kinds, allowed_from: set[str], action: str, at: datetime | None, by: User | None, reason: str
) -> list[Clock]:
    at = at or timezone.now()
    level = ticket.service_level
    changed = []
    for clock in Clock.objects.select_for_update().filter(ticket=ticket, kind__in=kinds):
        if clock.state not in allowed_from:
            continue  # already in the wanted state: doing it twice is harmless
        ClockEvent.objects.create(clock=clock, action=action, at=at, by=by, reason=reason)
        derived = _clock_recompute(clock, level=level)
        _breach_record_if_exceeded(clock, derived)
        clock.save()
        changed.append(clock)
    _crossings_watch(changed)
    return changed


@transaction.atomic
def sla_clocks_pause(*, ticket, by: User | None, reason: str, at: datetime | None = None) -> list[Clock]:
    """The ticket waits for the customer: the running clocks stop counting."""
    return _clocks_act(
        ticket=ticket,
        kinds=list(ClockKind),
        allowed_from={ClockState.RUNNING},
        action=ClockAction.PAUSE,
        at=at,
        by=by,
        reason=reason,
    )


@transaction.atomic
def sla_clocks_resume(*, ticket, by: User | None, reason: str, at: datetime | None = None) -> list[Clock]:
    """The customer answered: paused clocks count again, their deadlines move on."""
    return _clocks_act(
        ticket=ticket,
        kinds=list(ClockKind),
        allowed_from={ClockState.PAUSED},
        action=ClockAction.RESUME,
        at=at,
        by=by,
        reason=reason,
    )


@transaction.atomic
def sla_clock_stop(
    *, ticket, kind: str, by: User | None, reason: str, at: datetime | None = None
) -> list[Clock]:
    """The first public response stops the response clock; resolution stops the other."""
    return _clocks_act(
        ticket=ticket,
        kinds=[kind],
        allowed_from={ClockState.RUNNING, ClockState.PAUSED},
        action=ClockAction.STOP,
        at=at,
        by=by,
        reason=reason,
    )


@transaction.atomic
def sla_clock_restart(
    *, ticket, kind: str, by: User | None, reason: str, at: datetime | None = None
) -> list[Clock]:
    """A reopened ticket: the resolution clock counts on from where it stopped."""
    return _clocks_act(
        ticket=ticket,
        kinds=[kind],
        allowed_from={ClockState.STOPPED},
        action=ClockAction.RESUME,
        at=at,
        by=by,
        reason=reason,
    )


@transaction.atomic
def sla_clocks_recompute(*, ticket, at: datetime | None = None) -> list[Clock]:
    """Targets follow the ticket's (new) priority; open deadlines are recomputed from the
    original registration by replaying the events, pauses kept (SPEC §2). A stopped clock
    keeps its target, its consumption and its verdict; a clock whose deadline has passed
    keeps it (and the target it passed), whatever the new priority."""
    at = at or timezone.now()
    level = ticket.service_level
    calendar = business_calendar(level.calendar)
    targets = targets_for(
        policy_version_id=ticket.policy_version_id,
        service_level_id=level.pk,
        ticket_kind=ticket.kind,
        priority=ticket.priority,
    )
    clocks = list(Clock.objects.select_for_update().filter(ticket=ticket).exclude(state=ClockState.STOPPED))
    for clock in clocks:
        if clock.target_seconds is not None and _consumed_until(clock, calendar, at) > clock.target_seconds:
            continue  # breached already: the deadline stays where it was
        target = targets.get(clock.kind)
        clock.target_seconds = target.seconds(day_seconds=calendar.day_seconds) if target else None
        derived = _clock_recompute(clock, level=level)
        _breach_record_if_exceeded(clock, derived)
        clock.save()
    _crossings_watch(clocks)
    return clocks


def _consumed_until(clock: Clock, calendar: BusinessCalendar, at: datetime) -> int:
    """Business seconds the clock has counted by ``at`` (from its stored derivation)."""
    consumed = clock.consumed_seconds
    if clock.state == ClockState.RUNNING and clock.segment_started_at is not None:
        consumed += int(calendar.elapsed(clock.segment_started_at, max(at, clock.segment_started_at)))
    return consumed


# A calendar change touches every open clock on it; batches keep each transaction short
# (500 clocks replay in well under a second) so ticket writes are never blocked for long.
RECOMPUTE_BATCH = 500


def calendar_changed(*, calendar: Calendar | None = None) -> None:
    """After an edit of opening hours, closure days (one calendar) or public holidays (all):
    bump the version(s) and recompute open clocks in a Celery task after commit."""
    from sla.tasks import sla_calendar_recompute_task

    calendars = Calendar.objects.filter(pk=calendar.pk) if calendar else Calendar.objects.all()
    calendars.update(version=F("version") + 1)
    for calendar_id in calendars.values_list("pk", flat=True):
        # caught up by sla_catch_up_task: the calendar's recomputed_version stays behind
        enqueue_on_commit(sla_calendar_recompute_task, calendar_id=calendar_id)


def sla_calendar_recompute(*, calendar_id: int, batch_size: int = RECOMPUTE_BATCH) -> int:
    """Recompute every open clock on a calendar, in batches; safe to run twice. Marks the
    calendar's version as recomputed when done (``sla_catch_up`` redoes a calendar behind)."""
    version = Calendar.objects.filter(pk=calendar_id).values_list("version", flat=True).first()
    if version is None:
        return 0  # deleted since
    done, after_pk = 0, 0
    while True:
        with transaction.atomic():
            clocks = list(
                Clock.objects.select_for_update(of=("self",))
                .filter(calendar_id=calendar_id, pk__gt=after_pk)
                .exclude(state=ClockState.STOPPED)
                .select_related("calendar", "ticket__service_level")
                .prefetch_related("events")
                .order_by("pk")[:batch_size]
            )
            if not clocks:
                Calendar.objects.filter(pk=calendar_id, recomputed_version__lt=version).update(
                    recomputed_version=version
                )
                return done
            calendar = business_calendar(clocks[0].calendar)
            for clock in clocks:
                events = sorted(clock.events.all(), key=lambda e: (e.at, e.pk))
                at_risk_percent = clock.ticket.service_level.at_risk_percent
                derived = clock_replay(events, calendar, thresholds=_thresholds(clock, at_risk_percent))
                _clock_apply(clock, derived, calendar, at_risk_percent)
                _breach_record_if_exceeded(clock, derived)
            Clock.objects.bulk_update(clocks, CLOCK_DERIVED_FIELDS)
            _crossings_watch(clocks)
            after_pk = clocks[-1].pk
            done += len(clocks)


def sla_calendars_catch_up() -> list[int]:
    """Recompute the calendars whose last change was never recomputed (its task could not be
    enqueued, or was lost); the ids done. A recompute still queued may run a second time:
    harmless, it is idempotent."""
    behind = list(Calendar.objects.filter(recomputed_version__lt=F("version")).values_list("pk", flat=True))
    for calendar_id in behind:
        sla_calendar_recompute(calendar_id=calendar_id)
    return behind


# --- the sweep ----------------------------------------------------------------------------

# Crossings per transaction in the sweep: short enough not to hold their row locks for long.
SWEEP_BATCH = 2000


@dataclass
class SweepResult:
    at_risk: int = 0
    breached: int = 0


def sla_sweep_candidates(*, now: datetime, batch_size: int = SWEEP_BATCH) -> QuerySet:
    """The next batch of pending crossings due by ``now``, earliest first, locked with SKIP
    LOCKED (two sweeps take disjoint rows), with what the digests show of their clocks and
    tickets: a range scan of the ``at`` index joined by primary keys (bench/sweep.py prints
    its plan). Tuples, not model instances: instances cost ~20 µs a row."""
    return (
        PendingCrossing.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(at__lte=now)
        .order_by("at")
        .values_list(
            "id",
            "kind",
            "clock_id",
            "clock__kind",
            "clock__due_at",
            "clock__at_risk_at",
            "clock__ticket_id",
            "clock__ticket__title",
            "clock__ticket__organisation_id",
            "clock__ticket__assignee_id",
        )[:batch_size]
    )


@dataclass  # not frozen: 20,000 frozen inits cost ~0.1 s of a sweep
class TicketLine:
    """What a digest shows of a ticket."""

    pk: int
    title: str
    organisation_id: int
    assignee_id: int | None

    @cached_property
    def reference(self) -> str:
        """The ticket's own ``reference``, without building a Ticket (~250 µs with its fields).
        The ticket model is the clock's relation's: the engine imports nothing from the desk."""
        return Clock._meta.get_field("ticket").related_model.reference.fget(self)


@dataclass
class Crossing:
    """A clock that crossed its at-risk instant or its deadline in this sweep."""

    pk: int  # the clock's
    kind: str  # the clock's: response or resolution
    due_at: datetime | None
    at_risk_at: datetime | None
    ticket: TicketLine

    @property
    def ticket_id(self) -> int:
        return self.ticket.pk


# The batch's ids go in as one text parameter: psycopg spends ~20 ms parsing a query with 2,000
# placeholders, and ~10 ms adapting a list of 2,000 ints (bench/sweep.py, profiled). ON
# CONFLICT makes the unique constraint the last guard without failing the batch, and RETURNING
# says which crossings are new.
_IDS = {
    "postgresql": "= ANY(('{' || %s || '}')::bigint[])",
    "sqlite": "IN (SELECT value FROM json_each('[' || %s || ']'))",
}
_RECORD_SQL = """
    INSERT INTO {transition} (clock_id, kind, crossed_at, recorded_at)
    SELECT clock_id, kind, crossed_at, %s FROM {pending} WHERE id {ids}
    ON CONFLICT (clock_id, kind) DO NOTHING
    RETURNING clock_id, kind
"""
_DELETE_SQL = "DELETE FROM {pending} WHERE id {ids}"


def _record(pending_ids: list[int], *, recorded_at: datetime) -> set[tuple[int, str]]:
    """Record the pending crossings as transitions and drop them; the (clock id, kind) of each
    transition that is new."""
    names = {
        "transition": ClockTransition._meta.db_table,
        "pending": PendingCrossing._meta.db_table,
        "ids": _IDS[connection.vendor],
    }
    ids = ",".join(map(str, pending_ids))
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_SQL.format(**names), [recorded_at, ids])
        recorded = set(cursor.fetchall())
        cursor.execute(_DELETE_SQL.format(**names), [ids])
    return recorded


def sla_sweep(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> SweepResult:
    """Record every at-risk instant and deadline that running clocks crossed, once.

    The pending crossings are a range of one index, so the cost follows the number of
    transitions, not the number of open tickets. A batch is locked with SKIP LOCKED, recorded
    and deleted in the transaction that writes its notifications, and the unique constraint on
    (clock, kind) is the last guard; a killed sweep rolls back and the next one redoes it."""
    now = now or timezone.now()
    result = SweepResult()
    while True:
        with transaction.atomic():
            rows = list(sla_sweep_candidates(now=now, batch_size=batch_size))
            if not rows:
                break
            recorded = _record([row[0] for row in rows], recorded_at=timezone.now())
            crossings: dict[str, list[Crossing]] = {TransitionKind.AT_RISK: [], TransitionKind.BREACHED: []}
            for _pk, kind, clock_id, clock_kind, due_at, at_risk_at, *ticket in rows:
                if (clock_id, kind) in recorded:
                    crossing = Crossing(clock_id, clock_kind, due_at, at_risk_at, TicketLine(*ticket))
                    crossings[kind].append(crossing)
            # At risk first: a catch-up after an outage can record both of a clock at once.
            for kind, clocks in crossings.items():
                if clocks:
                    _notify_transitions(kind, clocks)
        result.at_risk += len(crossings[TransitionKind.AT_RISK])
        result.breached += len(crossings[TransitionKind.BREACHED])
    if result.at_risk or result.breached:
        from accounts.tasks import notification_deliver_pending_task

        enqueue(notification_deliver_pending_task)  # caught up by the "notifications" beat
    return result


def _notify_transitions(kind: str, clocks: list[Crossing]) -> None:
    """One digest per recipient and batch (SPEC §5 RACI: the support manager is accountable):
    at risk -> assignee, support managers and the organisation's coordinators who receive
    "SLA at risk" (on by default); breached -> support managers and the organisation's
    coordinators. A sweep a minute after the last is one batch; catching up after an outage
    sends one digest per ``SWEEP_BATCH`` clocks."""
    fields = ("id", "email", "language", "organisation_id", "role", "notification_digest")
    managers = User.objects.filter(role=Role.MANAGER, is_active=True).only(*fields)
    recipients = {user.pk: user for user in managers}
    per_recipient: dict[int, list[Crossing]] = {pk: clocks for pk in recipients}
    coordinators = User.objects.filter(
        role=Role.COORDINATOR,
        is_active=True,
        organisation_id__in={clock.ticket.organisation_id for clock in clocks},
    ).only(*fields)
    if kind == TransitionKind.AT_RISK:
        coordinators = coordinators.filter(subscriptions__topic=NotificationTopic.SLA_AT_RISK)
        by_assignee: dict[int, list[Crossing]] = defaultdict(list)
        for clock in clocks:
            if clock.ticket.assignee_id and clock.ticket.assignee_id not in recipients:
                by_assignee[clock.ticket.assignee_id].append(clock)  # a manager has them all already
        for user in User.objects.filter(pk__in=by_assignee, is_active=True).only(*fields):
            recipients[user.pk] = user
            per_recipient[user.pk] = by_assignee[user.pk]
    by_organisation: dict[int, list[User]] = defaultdict(list)
    for user in coordinators:
        by_organisation[user.organisation_id].append(user)
        recipients[user.pk] = user
        per_recipient[user.pk] = []
    for clock in clocks:
        for user in by_organisation[clock.ticket.organisation_id]:
            per_recipient[user.pk].append(clock)
    webhook_emit(
        event=WebhookEvent.SLA_AT_RISK if kind == TransitionKind.AT_RISK else WebhookEvent.SLA_BREACHED,
        payloads=(
            {
                "ticket": clock.ticket.reference,
                "ticket_id": clock.ticket_id,
                "clock": clock.kind,
                "due_at": clock.due_at,
                "at_risk_at": clock.at_risk_at,
            }
            for clock in clocks
        ),
    )
    topic = NotificationTopic.SLA_AT_RISK if kind == TransitionKind.AT_RISK else NotificationTopic.SLA_BREACH
    lines = _DigestLines(clocks)
    links = {
        True: site_url(reverse("portal:home")),
        False: site_url(reverse("desk:queue")),
    }
    notifications_queue(
        [_digest(recipients[pk], topic, items, lines, links) for pk, items in per_recipient.items()],
        deliver=False,  # sla_sweep enqueues the delivery once, after its last batch
    )


class _DigestLines:
    """Each clock's digest line, rendered once per language rather than once per recipient:
    a catch-up of 10,000 breaches goes to every manager, and rendering per recipient cost
    ~100 µs a line (bench/sweep.py, profiled)."""

    def __init__(self, clocks: list[Crossing]) -> None:
        self.clocks = clocks
        self.by_language: dict[str, dict[int, str]] = {}
        self.subjects: dict[str, dict[str, str]] = {}
        self.bodies: dict[tuple[str, int], str] = {}

    def body(self, language: str, clocks: list[Crossing]) -> str:
        """The digest's text; once for all the recipients of the same list (the managers)."""
        key = (language, id(clocks))
        if key not in self.bodies:
            rendered = self(language)
            self.bodies[key] = "\n".join(rendered[clock.pk] for clock in clocks)
        return self.bodies[key]

    def __call__(self, language: str) -> dict[int, str]:
        if language not in self.by_language:
            with translation.override(language):
                template = _("%(reference)s %(title)s - %(clock)s due %(due)s")
                labels = {kind.value: str(kind.label) for kind in ClockKind}
                self.subjects[language] = {
                    NotificationTopic.SLA_AT_RISK: _("SLA at risk: %(count)d ticket(s)"),
                    NotificationTopic.SLA_BREACH: _("SLA breached: %(count)d ticket(s)"),
                }
                # Deadlines cluster on a few minutes: format each instant once per language.
                due: dict[datetime | None, str] = {None: "-"}
                for clock in self.clocks:
                    if clock.due_at not in due:
                        due[clock.due_at] = datetime_text(clock.due_at)
            self.by_language[language] = {
                clock.pk: template
                % {
                    "reference": clock.ticket.reference,
                    "title": clock.ticket.title,
                    "clock": labels[clock.kind],
                    "due": due[clock.due_at],
                }
                for clock in self.clocks
            }
        return self.by_language[language]


def _digest(
    recipient: User, topic: str, clocks: list[Crossing], lines: _DigestLines, links: dict[bool, str]
) -> Notification:
    body = lines.body(recipient.language, clocks)
    subject = lines.subjects[recipient.language][topic] % {"count": len(clocks)}
    return Notification(
        recipient=recipient, topic=topic, subject=subject, body=body, link=links[recipient.is_customer]
    )


# --- contracts ----------------------------------------------------------------------------


def contract_ensure_for_demo(*, organisations: dict[str, Organisation]) -> None:
    """Demo organisations get a contract on the level of the same code, if they have none,
    from just before the demo's 26 weeks of history: the first beat run then catches up two
    or three quarterly reports, not years of them at once."""
    since = timezone.localdate() - timedelta(weeks=27)
    for code, organisation in organisations.items():
        if not organisation.contracts.exists():
            Contract.objects.create(
                organisation=organisation,
                valid_from=since,
                service_level=ServiceLevel.objects.get(code=code),
            )
