"""The compliance roll-up behind the dashboard: stopped clocks counted per day (ComplianceDay).

Why: the trend (26 weeks) and the published figures (a period of months) would otherwise
aggregate hundreds of thousands of clocks joined to their tickets on every page view (about
2 s at a million tickets, bench/dashboard.py). The roll-up holds a few rows per day instead.

How it stays right, incrementally (``compliance_rollup_refresh``, beat: every minute):
* days that ended since the last run are added;
* a day is recounted when one of its clocks changed: clocks with new events (a late stop, a
  reopen and stop again: all the days its stop events fell on) and clocks of tickets updated
  since the last run (a priority change moves a clock to another priority and target);
* ``compliance_rollup_rebuild`` (beat: nightly) recounts everything, which also picks up
  edited published figures; until then an edited figure misses its key and the reads count it
  from the clocks.
Today (and any day not yet rolled up) is always counted from the clocks by the reads.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from sla.models import (
    Clock,
    ClockAction,
    ClockEvent,
    ClockState,
    ComplianceDay,
    ComplianceRollupState,
    PublishedFigure,
)
from tickets.models import Ticket

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# More changed clocks than this since the last run (a data load, a big recompute): recount
# everything instead of chasing each one; a full recount takes seconds at a million tickets.
MAX_CHANGED_CLOCKS = 20_000
# Ticket changes are looked up from a little before the last run, so that a transaction
# committed just after the previous run (with an earlier updated_at) is not missed.
TICKET_OVERLAP = timedelta(minutes=5)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=AMSTERDAM)


def figure_key(figure: PublishedFigure) -> str:
    return figure.key


def count_days(clocks, figures: list[PublishedFigure]) -> list[ComplianceDay]:
    """Stopped ``clocks`` counted per day in the roll-up's shape (unsaved rows): one grouped
    query, for the roll-up and for the dashboard's days not yet rolled up."""
    aggregates = {
        "total": Count("pk"),
        "with_target": Count("pk", filter=Q(target_seconds__isnull=False)),
        "met": Count("pk", filter=Q(consumed_seconds__lte=F("target_seconds"))),
    }
    for figure in figures:
        aggregates[f"w_{figure.pk}"] = Count("pk", filter=figure.within_q())
    rows = (
        clocks.annotate(day=TruncDate("stopped_at", tzinfo=AMSTERDAM))
        .values("day", "kind", "ticket__service_level_id", "ticket__priority", "calendar_id")
        .annotate(**aggregates)
        .order_by()
    )
    created = []
    for row in rows:
        within = {figure_key(figure): row[f"w_{figure.pk}"] for figure in figures}
        created.append(
            ComplianceDay(
                day=row["day"],
                clock=row["kind"],
                service_level_id=row["ticket__service_level_id"],
                priority=row["ticket__priority"],
                calendar_id=row["calendar_id"],
                total=row["total"],
                with_target=row["with_target"],
                met=row["met"],
                within=within,
            )
        )
    return created


def _count_days(days: set[date] | None, *, until: date) -> int:
    """Recount ``days`` (None: every day before ``until``) from the clocks: delete and insert."""
    clocks = Clock.objects.filter(state=ClockState.STOPPED, stopped_at__lt=day_start(until))
    existing = ComplianceDay.objects.filter(day__lt=until)
    if days is not None:
        if not days:
            return 0
        clocks = clocks.filter(
            stopped_at__gte=day_start(min(days)), stopped_at__lt=day_start(max(days) + timedelta(days=1))
        )
        existing = existing.filter(day__in=days)
    created = [
        row
        for row in count_days(clocks, list(PublishedFigure.objects.all()))
        if days is None or row.day in days
    ]
    existing.delete()
    ComplianceDay.objects.bulk_create(created, batch_size=2000)
    return len(created)


def _state() -> ComplianceRollupState:
    state, _created = ComplianceRollupState.objects.select_for_update().get_or_create(pk=1)
    return state


@transaction.atomic
def compliance_rollup_rebuild(*, now: datetime | None = None) -> int:
    """Recount every day before today."""
    now = now or timezone.now()
    state = _state()
    today = timezone.localdate(now, AMSTERDAM)
    state.last_event_id = ClockEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    state.last_ticket_update = now
    count = _count_days(None, until=today)
    state.rolled_until, state.refreshed_at = today, now
    state.save()
    return count


@transaction.atomic
def compliance_rollup_refresh(*, now: datetime | None = None) -> int:
    """Add the days that ended and recount the days whose clocks changed since the last run.
    Safe to run twice (the state row is locked; recounting a day gives the same rows)."""
    now = now or timezone.now()
    state = _state()
    today = timezone.localdate(now, AMSTERDAM)
    if state.rolled_until is None:
        return compliance_rollup_rebuild(now=now)
    dirty: set[date] = set()
    day = state.rolled_until
    while day < today:
        dirty.add(day)
        day += timedelta(days=1)
    last_event = ClockEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    changed = set(
        ClockEvent.objects.filter(pk__gt=state.last_event_id, pk__lte=last_event).values_list(
            "clock_id", flat=True
        )[: MAX_CHANGED_CLOCKS + 1]
    )
    since = (state.last_ticket_update or now) - TICKET_OVERLAP
    changed_tickets = Ticket.objects.filter(updated_at__gt=since).values("pk")
    changed |= set(
        Clock.objects.filter(ticket__in=changed_tickets, state=ClockState.STOPPED).values_list(
            "pk", flat=True
        )[: MAX_CHANGED_CLOCKS + 1]
    )
    if len(changed) > MAX_CHANGED_CLOCKS:
        return compliance_rollup_rebuild(now=now)
    if changed:
        stops = ClockEvent.objects.filter(clock_id__in=changed, action=ClockAction.STOP).values_list(
            "at", flat=True
        )
        dirty |= {timezone.localdate(at, AMSTERDAM) for at in stops}
    dirty = {day for day in dirty if day < today}
    count = _count_days(dirty, until=today)
    state.rolled_until = max(state.rolled_until, today)
    state.last_event_id, state.last_ticket_update, state.refreshed_at = last_event, now, now
    state.save()
    return count


def rolled_until() -> date | None:
    """The first day not in the roll-up (None: nothing rolled up yet)."""
    return ComplianceRollupState.objects.filter(pk=1).values_list("rolled_until", flat=True).first()


def sum_within(rows, figures) -> dict[int, int | None]:
    """Per figure, the clocks within it over roll-up rows of its kind and band; None when a
    row lacks the figure's key (edited since the rows were counted)."""
    from tickets.choices import Priority

    result: dict[int, int | None] = defaultdict(int)
    for row in rows:
        for figure in figures:
            if row.clock != figure.clock or (row.priority == Priority.HIGH) != figure.high_priority:
                continue
            if result[figure.pk] is None:
                continue
            key = figure_key(figure)
            result[figure.pk] = None if key not in row.within else result[figure.pk] + row.within[key]
    return result
