"""What a proposed calendar, closed-day or policy change does to the open clocks (issue 15).

Before a manager saves a change, the preview answers: how many deadlines move, by how much,
which would breach or stop breaching, listed. It computes every deadline the way saving will:
the same replay of the clock's events (``sla.services.clock_replay``) and the same derivation
of its instants (``sla.services._clock_apply``), on a calendar built by the same code
(``sla.selectors.business_calendar_build``) with the change applied. So what the preview says
is what the recompute after saving stores (``sla/tests/test_whatif.py`` checks it).

Cost at 20,000 open clocks (bench/whatif.py): a count of the open clocks concerned, then only
the running clocks with a target, without their tickets (a deadline needs none of a ticket's
columns), with their events in one ordered query, timestamps as epoch seconds; then a replay
and one ``calendar.add`` per clock (only the deadline is compared: the at-risk instant and the
breach check that saving also stores are not shown). A change of closed days only touches
clocks that count time on or after the first changed day: a clock due before it whose events
all lie before it keeps its deadline (the same calendar up to that day gives the same
replay), so it is counted but not replayed. The policy preview reads the three ticket columns
its targets are keyed on. Nothing is written.

Paused clocks have no deadline while paused (``Clock.due_at`` is set only while running):
a change reaches them when they resume, so they are counted, not listed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from sla.calendar import BusinessCalendar
from sla.models import (
    Calendar,
    Clock,
    ClockEvent,
    ClockState,
    HolidayKind,
    LiberationDay,
    Target,
    TargetUnit,
)
from sla.selectors import business_calendar, business_calendar_build, holiday_observed
from sla.services import Derived, _reached, clock_replay

#: How many moved deadlines the preview lists (the counts cover them all).
LIST_LIMIT = 200


class _Event(NamedTuple):
    """What ``clock_replay`` reads of a ClockEvent, without building 50,000 model instances."""

    action: str
    at: datetime


@dataclass(frozen=True)
class Move:
    """One open clock whose deadline the change moves."""

    clock_id: int
    ticket_id: int
    kind: str
    old_due: datetime | None
    new_due: datetime | None
    shift_seconds: int | None  # wall-clock seconds later (negative: earlier); None: gains/loses one
    breaches: bool  # past its deadline now under the change, and not before
    stops_breaching: bool  # past its deadline now, and no longer under the change

    @property
    def ticket_reference(self) -> str:
        return f"T-{self.ticket_id:06d}"  # tickets.models.Ticket.reference, without importing it


@dataclass
class WhatIf:
    """The preview: counts over every open clock concerned, and the largest moves listed."""

    now: datetime
    running: int = 0  # running clocks with a deadline, before or after the change
    paused: int = 0
    moved: int = 0
    later: int = 0
    earlier: int = 0
    newly_breached: int = 0
    no_longer_breached: int = 0
    shift_min: int | None = None
    shift_median: float | None = None
    shift_max: int | None = None
    moves: list[Move] = field(default_factory=list)  # at most LIST_LIMIT, breach changes first

    @property
    def listed_all(self) -> bool:
        return len(self.moves) == self.moved


@dataclass(frozen=True)
class _OpenClock:
    pk: int
    ticket_id: int
    kind: str
    state: str
    target_seconds: int | None
    consumed_seconds: int
    segment_started_at: datetime | None
    due_at: datetime | None
    calendar_id: int


_CLOCK_FIELDS = (
    "pk",
    "ticket_id",
    "kind",
    "state",
    "target_seconds",
    "consumed_seconds",
    "segment_epoch",
    "due_epoch",
    "calendar_id",
)


def _epoch(column: str) -> RawSQL:
    """A timestamp column as epoch seconds (float8): Django's loader of aware datetimes costs
    ~15 µs a value, 60,000 values a preview; ``datetime.fromtimestamp`` ~1 µs."""
    return RawSQL(f"EXTRACT(EPOCH FROM {column})::float8", [])  # noqa: S611 - a model column  # nosec B611


def _instant(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _open_clocks(clocks: QuerySet, *extra: str) -> list[tuple]:
    """The rows of ``clocks`` the replay reads: one query, no model instances."""
    table = Clock._meta.db_table
    rows = clocks.annotate(
        segment_epoch=_epoch(f"{table}.segment_started_at"),
        due_epoch=_epoch(f"{table}.due_at"),
    ).values_list(*_CLOCK_FIELDS, *extra)
    return [(*row[:6], _instant(row[6]), _instant(row[7]), *row[8:]) for row in rows]


def _events_of(clocks: QuerySet) -> dict[int, list[_Event]]:
    """The events of ``clocks`` (a queryset of open clocks), in order, in one query. The
    clocks are a subquery on the partial index of open clocks: ``exclude(clock__state=...)``
    would be an anti-join over the two million stopped clocks (3 s at a million tickets)."""
    events: dict[int, list[_Event]] = defaultdict(list)
    rows = (
        ClockEvent.objects.filter(clock_id__in=clocks.values("pk"))
        .annotate(at_epoch=_epoch(f"{ClockEvent._meta.db_table}.at"))
        .order_by("clock_id", "at", "pk")
        .values_list("clock_id", "action", "at_epoch")
    )
    fromtimestamp = datetime.fromtimestamp
    for clock_id, action, at in rows:  # a few tens of thousands: one fetch, no server cursor
        events[clock_id].append(_Event(action, fromtimestamp(at, UTC)))
    return events


def _new_due(
    clock: _OpenClock, events: list[_Event], calendar: BusinessCalendar, target: int | None
) -> datetime | None:
    """The deadline the recompute after saving stores for this clock (``_clock_apply``): the
    clock replayed from its events (``clock_replay``; a clock without events, loaded in bulk,
    never in the product, keeps its stored derivation), then the instant it uses ``target``
    up. Only the target is asked for: the at-risk share does not change the deadline."""
    if target is None:
        return None
    if events:
        derived = clock_replay(events, calendar, thresholds=(target,))
    else:
        derived = Derived(clock.state, clock.consumed_seconds, clock.segment_started_at, None)
    if derived.state != ClockState.RUNNING or derived.segment_started_at is None:
        return None
    return _reached(derived, calendar, target)


def _summarise(result: WhatIf, moves: list[Move], limit: int) -> WhatIf:
    shifts = [m.shift_seconds for m in moves if m.shift_seconds is not None]
    result.moved = len(moves)
    result.later = sum(1 for s in shifts if s > 0)
    result.earlier = sum(1 for s in shifts if s < 0)
    result.newly_breached = sum(1 for m in moves if m.breaches)
    result.no_longer_breached = sum(1 for m in moves if m.stops_breaching)
    if shifts:
        result.shift_min, result.shift_max = min(shifts), max(shifts)
        result.shift_median = statistics.median(shifts)
    moves.sort(key=lambda m: (not (m.breaches or m.stops_breaching), -abs(m.shift_seconds or 0), m.clock_id))
    result.moves = moves[:limit]
    return result


def _move(clock: _OpenClock, new_due: datetime | None, now: datetime) -> Move | None:
    old_due = clock.due_at
    if new_due == old_due:
        return None
    shift = None if old_due is None or new_due is None else round((new_due - old_due).total_seconds())
    was = old_due is not None and old_due < now
    will = new_due is not None and new_due < now
    return Move(
        clock.pk, clock.ticket_id, clock.kind, old_due, new_due, shift, will and not was, was and not will
    )


def _open_on(calendar: Calendar) -> QuerySet:
    """The open clocks of a calendar: the partial index ``clock_open_calendar``."""
    return Clock.objects.filter(calendar_id=calendar.pk).exclude(state=ClockState.STOPPED)


def _untouched_before(calendar: Calendar, days: frozenset[date]) -> Q:
    """Running clocks a change of closed ``days`` cannot move: due before the first of them
    (local midnight) with no event on or after it. Their replay only reads opening intervals
    before that midnight, which the change leaves as they are, so it gives the deadline they
    have (stored by the same replay on the calendar as it is)."""
    first = datetime.combine(min(days), time(0), tzinfo=ZoneInfo(calendar.timezone))
    later_events = ClockEvent.objects.filter(clock_id=OuterRef("pk"), at__gte=first)
    return Q(due_at__lt=first) & ~Exists(later_events)


def calendar_whatif(
    calendar: Calendar,
    *,
    weekly_hours: dict[int, list[tuple[time, time]]] | None = None,
    closed_add: Iterable[date] = (),
    closed_remove: Iterable[date] = (),
    now: datetime | None = None,
    limit: int = LIST_LIMIT,
) -> WhatIf:
    """The open clocks on ``calendar`` under new weekly hours and/or closed dates added or
    removed: every running clock's deadline recomputed from its events on the changed calendar,
    compared with the deadline stored now (a change of closed days only: the clocks it can
    reach, see ``_untouched_before``)."""
    result = WhatIf(now=now or timezone.now())
    moves = _calendar_moves(
        result,
        calendar,
        weekly_hours=weekly_hours,
        closed_add=frozenset(closed_add),
        closed_remove=frozenset(closed_remove),
    )
    return _summarise(result, moves, limit)


def holiday_whatif(
    *, day: date, kind: str, closing: bool, now: datetime | None = None, limit: int = LIST_LIMIT
) -> WhatIf:
    """A public holiday added or switched on (``closing``) or switched off: the open clocks of
    every calendar whose closed days it changes (those observing its kind; a calendar with a
    closure day of its own on ``day`` stays closed), counted and listed together."""
    result = WhatIf(now=now or timezone.now())
    moves: list[Move] = []
    for calendar in Calendar.objects.all():
        if not holiday_changes(calendar, day=day, kind=kind, closing=closing):
            continue
        moves += _calendar_moves(
            result,
            calendar,
            weekly_hours=None,
            closed_add=frozenset([day] if closing else []),
            closed_remove=frozenset([] if closing else [day]),
        )
    return _summarise(result, moves, limit)


def holiday_changes(calendar: Calendar, *, day: date, kind: str, closing: bool) -> bool:
    """Whether a holiday of ``kind`` on ``day`` switched on or off changes this calendar."""
    if not holiday_observed(calendar, day, kind):
        return False
    if closing:
        return True
    if kind == HolidayKind.LIBERATION_DAY and calendar.liberation_day == LiberationDay.EVERY_YEAR:
        return False  # closed on 5 May every year, holiday or not
    return not calendar.closure_days.filter(date=day).exists()


def _calendar_moves(
    result: WhatIf,
    calendar: Calendar,
    *,
    weekly_hours: dict[int, list[tuple[time, time]]] | None,
    closed_add: frozenset[date],
    closed_remove: frozenset[date],
) -> list[Move]:
    """Adds the calendar's running and paused clocks to ``result``; the deadlines that move."""
    proposed = business_calendar_build(
        calendar, weekly_hours=weekly_hours, closed_add=closed_add, closed_remove=closed_remove
    )
    running = Q(state=ClockState.RUNNING, target_seconds__isnull=False)
    counts = _open_on(calendar).aggregate(
        paused=Count("pk", filter=Q(state=ClockState.PAUSED)), running=Count("pk", filter=running)
    )
    result.paused += counts["paused"]
    result.running += counts["running"]
    clocks = _open_on(calendar).filter(running)
    if weekly_hours is None:
        changed_days = closed_add | closed_remove
        if not changed_days:
            return []
        clocks = clocks.exclude(_untouched_before(calendar, changed_days))
    rows = _open_clocks(clocks)
    events = _events_of(clocks) if rows else {}
    moves = []
    for row in rows:
        clock = _OpenClock(*row)
        move = _move(
            clock, _new_due(clock, events.get(clock.pk, ()), proposed, clock.target_seconds), result.now
        )
        if move:
            moves.append(move)
    return moves


def target_seconds(amount, unit: str, *, day_seconds: int) -> int | None:
    """``Target.seconds`` for a figure not (yet) saved: None for best effort."""
    return Target(amount=amount, unit=unit).seconds(day_seconds=day_seconds) if unit else None


TargetKey = tuple[int, str, int, str]  # (service level id, ticket kind, priority, clock kind)


def policy_whatif(
    targets: dict[TargetKey, tuple[object, str]],
    *,
    now: datetime | None = None,
    limit: int = LIST_LIMIT,
) -> WhatIf:
    """The open clocks as if their tickets had these targets ((amount, unit) per cell; a
    missing cell is best effort). The open tickets keep the version they were registered
    under; this shows what the targets would do to tickets like them. As when a ticket's
    priority changes (``sla.services.sla_clocks_recompute``), a clock already past its
    deadline keeps it."""
    now = now or timezone.now()
    calendars = {row.pk: business_calendar(row) for row in Calendar.objects.all()}
    result = WhatIf(now=now)
    open_clocks = Clock.objects.exclude(state=ClockState.STOPPED)
    rows = _open_clocks(open_clocks, "ticket__service_level_id", "ticket__kind", "ticket__priority")
    seconds: dict[tuple, int | None] = {}  # a Target instance per clock cost 40 µs: one per cell
    pending: list[tuple[_OpenClock, int | None]] = []
    for *fields, level_id, ticket_kind, priority in rows:
        clock = _OpenClock(*fields)
        if clock.state == ClockState.PAUSED:
            result.paused += 1
            continue
        calendar = calendars[clock.calendar_id]
        amount, unit = targets.get(
            (level_id, ticket_kind, priority, clock.kind), (None, TargetUnit.BEST_EFFORT)
        )
        cell = (amount, unit, calendar.day_seconds)
        if cell not in seconds:
            seconds[cell] = target_seconds(amount, unit, day_seconds=calendar.day_seconds)
        new_target = seconds[cell]
        if clock.target_seconds is None and new_target is None:
            continue
        result.running += 1
        if new_target == clock.target_seconds:
            continue
        if clock.target_seconds is not None and clock.segment_started_at is not None:
            consumed = clock.consumed_seconds + int(
                calendar.elapsed(clock.segment_started_at, max(now, clock.segment_started_at))
            )
            if consumed > clock.target_seconds:
                continue  # breached already: the deadline stays where it was
        pending.append((clock, new_target))
    # Only the clocks whose target changes need their events: one query for them all.
    changed = [clock.pk for clock, _target in pending]
    # a long id list costs more than all the open clocks' events
    events = {}
    if changed:
        events = _events_of(open_clocks if len(changed) > 1000 else open_clocks.filter(pk__in=changed))
    moves = []
    for clock, new_target in pending:
        calendar = calendars[clock.calendar_id]
        move = _move(clock, _new_due(clock, events.get(clock.pk, ()), calendar, new_target), now)
        if move:
            moves.append(move)
    return _summarise(result, moves, limit)


def policy_targets(policy_version_id: int) -> dict[TargetKey, tuple[object, str]]:
    """A saved version's targets in the form ``policy_whatif`` takes (one query)."""
    rows = Target.objects.filter(policy_version_id=policy_version_id).values_list(
        "service_level_id", "ticket_kind", "priority", "clock", "amount", "unit"
    )
    return {
        (level, kind, priority, clock): (amount, unit) for level, kind, priority, clock, amount, unit in rows
    }
