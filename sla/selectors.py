"""Reads of the SLA engine: built calendars, the rules in force, a clock's explanation."""

from dataclasses import dataclass
from datetime import date, datetime
from threading import Lock

from django.db.models import QuerySet
from django.utils import timezone

from sla.calendar import BusinessCalendar, Explanation
from sla.models import (
    Calendar,
    ClockEvent,
    ClosureDay,
    Contract,
    Holiday,
    HolidayKind,
    LiberationDay,
    PolicyVersion,
    PriorityRule,
    ServiceLevel,
    ServiceLevelTerms,
    Target,
)

# Built calendars per process, keyed by (calendar id, version): building one takes a few
# queries and lays out years of intervals, answering from it takes microseconds.
_calendar_cache: dict[int, tuple[int, BusinessCalendar]] = {}
_calendar_cache_lock = Lock()


def holiday_observed(calendar: Calendar, day: date, kind: str) -> bool:
    """Whether this calendar closes on a public holiday of this kind (its own choices)."""
    if kind == HolidayKind.GOOD_FRIDAY:
        return calendar.closed_on_good_friday
    if kind == HolidayKind.LIBERATION_DAY:
        return calendar.liberation_day != LiberationDay.NEVER
    return True


@dataclass(frozen=True)
class ClosedDates:
    """A calendar's closed dates as the database holds them, and how to answer other years.

    ``years`` are the years whose public holidays are in the database (seeded from the library
    by migration or ``manage.py sla_holidays``): there the rows are the truth, so a holiday a
    manager switched off or deleted stays so. Any other year a question touches is generated
    from the ``holidays`` library by :meth:`of_year`, with the rows a manager added or switched
    off for it applied on top, which is what seeding that year would give."""

    calendar: Calendar
    dates: frozenset[date]
    years: frozenset[int]
    rows_by_year: dict[int, list[tuple[date, bool]]]  # (date, active) a manager left there

    def of_year(self, year: int) -> set[date]:
        from sla.seed import library_holidays

        closed = {
            day for day, _name, kind in library_holidays([year]) if holiday_observed(self.calendar, day, kind)
        }
        for day, active in self.rows_by_year.get(year, ()):
            (closed.add if active else closed.discard)(day)
        if self.calendar.liberation_day == LiberationDay.EVERY_YEAR:
            closed.add(date(year, 5, 5))
        return closed


def calendar_closed_dates(calendar: Calendar) -> ClosedDates:
    """The public holidays this calendar observes plus its own closure days (two queries)."""
    closed: set[date] = set()
    years: set[int] = set()
    rows_by_year: dict[int, list[tuple[date, bool]]] = {}
    for day, kind, active, from_library in Holiday.objects.values_list(
        "date", "kind", "active", "from_library"
    ):
        if from_library:
            years.add(day.year)
        rows_by_year.setdefault(day.year, []).append((day, active and holiday_observed(calendar, day, kind)))
        if active and holiday_observed(calendar, day, kind):
            closed.add(day)
    if calendar.liberation_day == LiberationDay.EVERY_YEAR:
        closed.update(date(year, 5, 5) for year in years)
    closed.update(ClosureDay.objects.filter(calendar=calendar).values_list("date", flat=True))
    return ClosedDates(calendar, frozenset(closed), frozenset(years), rows_by_year)


def business_calendar_build(
    calendar: Calendar,
    *,
    weekly_hours: dict[int, list] | None = None,
    closed_add: frozenset[date] = frozenset(),
    closed_remove: frozenset[date] = frozenset(),
) -> BusinessCalendar:
    """The arithmetic for a calendar row; with ``weekly_hours`` or closed dates added or
    removed, for a change proposed to it (the what-if preview, ``sla.whatif``)."""
    weekly: dict[int, list] = {}
    if weekly_hours is None:
        for hours in calendar.opening_hours.all():
            weekly.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    else:
        weekly = weekly_hours
    closed = calendar_closed_dates(calendar)
    return BusinessCalendar(
        tz=calendar.timezone,
        weekly_hours=weekly,
        closed_dates=(closed.dates | closed_add) - closed_remove,
        closed_years=closed.years,
        closed_dates_of_year=closed.of_year,
    )


def business_calendar(calendar: Calendar | int) -> BusinessCalendar:
    """The arithmetic for a calendar row, built once per process and version."""
    if isinstance(calendar, int):
        calendar = Calendar.objects.get(pk=calendar)
    cached = _calendar_cache.get(calendar.pk)
    if cached and cached[0] == calendar.version:
        return cached[1]
    built = business_calendar_build(calendar)
    with _calendar_cache_lock:
        _calendar_cache[calendar.pk] = (calendar.version, built)
    return built


def priority_for(*, impact: int, urgency: int) -> int:
    """SPEC §4: impact x urgency -> priority, from the editable matrix."""
    return PriorityRule.objects.values_list("priority", flat=True).get(impact=impact, urgency=urgency)


def contract_in_force(*, organisation_id: int, on: date) -> Contract | None:
    return (
        Contract.objects.select_related("service_level__calendar")
        .filter(organisation_id=organisation_id, valid_from__lte=on)
        .exclude(valid_until__lt=on)
        .order_by("-valid_from")
        .first()
    )


def policy_version_in_force(*, on: date) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(effective_from__lte=on).order_by("-effective_from").first()


def level_terms(*, service_level: ServiceLevel | int, on: date) -> ServiceLevelTerms | None:
    """What a level promises on a date besides its targets (coordinators, channels, reports,
    consultant lead time): the terms of the policy version in force then (§1.2.2; document 000
    allows 1 / 3 coordinators, 001 allows 2 / 4). A level the version in force has no terms for
    keeps those of the latest version before it that has; None if none has. One query."""
    level_id = service_level if isinstance(service_level, int) else service_level.pk
    return (
        ServiceLevelTerms.objects.select_related("policy_version")
        .filter(service_level_id=level_id, policy_version__effective_from__lte=on)
        .order_by("-policy_version__effective_from")
        .first()
    )


def level_terms_of_version(*, policy_version_id: int, service_level_id: int) -> ServiceLevelTerms | None:
    """The terms a ticket registered under ``policy_version_id`` was given."""
    return (
        ServiceLevelTerms.objects.filter(
            policy_version_id=policy_version_id, service_level_id=service_level_id
        )
        .select_related("policy_version")
        .first()
    )


def targets_for(
    *, policy_version_id: int, service_level_id: int, ticket_kind: str, priority: int
) -> dict[str, Target]:
    """The response and resolution targets of one cell, keyed by clock kind."""
    rows = Target.objects.filter(
        policy_version_id=policy_version_id,
        service_level_id=service_level_id,
        ticket_kind=ticket_kind,
        priority=priority,
    )
    return {row.clock: row for row in rows}


def clock_events_ordered() -> QuerySet[ClockEvent]:
    return ClockEvent.objects.select_related("by").order_by("at", "pk")


def clock_events(clock_id: int) -> QuerySet[ClockEvent]:
    return clock_events_ordered().filter(clock_id=clock_id)


@dataclass(frozen=True)
class Segment:
    """A stretch in which the clock ran, with what the calendar counted of it."""

    start: datetime
    end: datetime | None  # None: still running
    explanation: Explanation


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None
    reason: str


@dataclass(frozen=True)
class ClockExplanation:
    segments: list[Segment]
    pauses: list[Pause]
    counted_seconds: int
    target_seconds: int | None
    due_at: datetime | None
    remaining_seconds: int | None


def clock_explain(
    clock, *, now: datetime | None = None, events: list[ClockEvent] | None = None
) -> ClockExplanation:
    """Why a clock stands where it stands: the business intervals counted in each running
    stretch, the holidays and closed time skipped, and the pauses. Shown to staff. ``events``
    in order, when the caller prefetched them for many clocks."""
    now = now or timezone.now()
    calendar = business_calendar(clock.calendar)
    segments: list[Segment] = []
    pauses: list[Pause] = []
    running_since = paused_since = None
    pause_reason = ""
    for event in clock_events(clock.pk) if events is None else events:
        if event.action in ("start", "resume"):
            if paused_since is not None:
                pauses.append(Pause(paused_since, event.at, pause_reason))
                paused_since = None
            running_since = event.at
        elif running_since is not None:  # pause or stop
            segments.append(Segment(running_since, event.at, calendar.explain(running_since, event.at)))
            running_since = None
            if event.action == "pause":
                paused_since, pause_reason = event.at, event.reason
    if running_since is not None:
        until = max(now, running_since)
        segments.append(Segment(running_since, None, calendar.explain(running_since, until)))
    if paused_since is not None:
        pauses.append(Pause(paused_since, None, pause_reason))
    counted = int(sum(segment.explanation.total_seconds for segment in segments))
    remaining = None if clock.target_seconds is None else clock.target_seconds - counted
    return ClockExplanation(
        segments=segments,
        pauses=pauses,
        counted_seconds=counted,
        target_seconds=clock.target_seconds,
        due_at=clock.due_at,
        remaining_seconds=remaining,
    )


def business_seconds_left(clock, *, now: datetime | None = None) -> int | None:
    """Business time left before the deadline (negative once breached); None for best effort."""
    if clock.target_seconds is None:
        return None
    consumed = clock.consumed_seconds
    if clock.state == "running" and clock.segment_started_at:
        until = max(now or timezone.now(), clock.segment_started_at)
        consumed += int(business_calendar(clock.calendar).elapsed(clock.segment_started_at, until))
    return clock.target_seconds - consumed
