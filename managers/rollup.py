"""The compliance roll-up behind the dashboard: stopped clocks counted per day (ComplianceDay),
and per organisation and day (ComplianceOrganisationDay) for one organisation's dashboard.

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

Both tables are counted in one pass, in SQL (``INSERT ... SELECT``: at a million tickets the
organisations' rows are several hundred thousand): the clocks grouped per organisation, then
ComplianceDay as the sums of those rows, so the dashboard of all organisations and that of
each one count the same clocks the same way. The reads of the days not yet rolled up count
with ``count_days`` (the same aggregates, in Python's hands).
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import JSONObject, TruncDate
from django.utils import timezone

from sla.models import (
    Clock,
    ClockAction,
    ClockEvent,
    ClockState,
    ComplianceDay,
    ComplianceOrganisationDay,
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


def _aggregates(figures: list[PublishedFigure]) -> dict:
    """What a roll-up row counts of its clocks; ``w_<figure id>``: those within the figure."""
    aggregates = {
        "total": Count("pk"),
        "with_target": Count("pk", filter=Q(target_seconds__isnull=False)),
        "met": Count("pk", filter=Q(consumed_seconds__lte=F("target_seconds"))),
    }
    for figure in figures:
        aggregates[f"w_{figure.pk}"] = Count("pk", filter=figure.within_q())
    return aggregates


_GROUPS = ("day", "kind", "ticket__service_level_id", "ticket__priority", "calendar_id")


def count_days(clocks, figures: list[PublishedFigure]) -> list[ComplianceDay]:
    """Stopped ``clocks`` counted per day in the roll-up's shape (unsaved rows): one grouped
    query, for the dashboard's days not yet rolled up."""
    rows = (
        clocks.annotate(day=TruncDate("stopped_at", tzinfo=AMSTERDAM))
        .values(*_GROUPS)
        .annotate(**_aggregates(figures))
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


def _insert_days(clocks, figures: list[PublishedFigure], days: set[date] | None) -> int:
    """Count ``clocks`` into both tables (the rows of ``days`` only, None: all): per
    organisation with the aggregates of ``count_days``, then ComplianceDay as their sums.
    Returns the ComplianceDay rows written."""
    org_table = ComplianceOrganisationDay._meta.db_table
    day_table = ComplianceDay._meta.db_table
    aggregates = _aggregates(figures)
    within = {figure_key(figure): aggregates.pop(f"w_{figure.pk}") for figure in figures}
    grouped = (
        clocks.annotate(day=TruncDate("stopped_at", tzinfo=AMSTERDAM))
        .values(*_GROUPS, "ticket__organisation_id")
        .annotate(**aggregates, within=JSONObject(**within))
        .order_by()
    )
    select, params = grouped.query.sql_with_params()
    only_days = ""
    if days is not None:
        only_days, params = " WHERE g.day = ANY(%s)", (*params, sorted(days))
    within_sums = "'{}'::jsonb"
    if within:
        within_sums = (
            f"jsonb_build_object({', '.join('%s, SUM((within ->> %s)::bigint)' for _key in within)})"
        )
    keys = [value for key in within for value in (key, key)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {org_table} (organisation_id, day, clock, service_level_id, priority, "  # noqa: S608 - model tables  # nosec B608
            "calendar_id, total, with_target, met, within) "
            "SELECT g.ticket__organisation_id, g.day, g.kind, g.ticket__service_level_id, "
            "g.ticket__priority, g.calendar_id, g.total, g.with_target, g.met, "
            f"COALESCE(g.within, '{{}}'::jsonb) FROM ({select}) g{only_days} "
            # in the order of the unique index: its pages are filled one after the other
            "ORDER BY 1, 2, 3, 4, 5, 6",
            params,
        )
        cursor.execute(
            f"INSERT INTO {day_table} (day, clock, service_level_id, priority, calendar_id, total, "  # noqa: S608 - model tables  # nosec B608
            f"with_target, met, within) SELECT day, clock, service_level_id, priority, calendar_id, "
            f"SUM(total), SUM(with_target), SUM(met), "
            f"{within_sums} FROM {org_table} "
            f"WHERE {'TRUE' if days is None else 'day = ANY(%s)'} "
            "GROUP BY day, clock, service_level_id, priority, calendar_id",
            [*keys, *([] if days is None else [sorted(days)])],
        )
        return cursor.rowcount


def _count_days(days: set[date] | None, *, until: date) -> int:
    """Recount ``days`` (None: every day before ``until``) from the clocks: delete and insert."""
    clocks = Clock.objects.filter(state=ClockState.STOPPED, stopped_at__lt=day_start(until))
    existing = ComplianceDay.objects.filter(day__lt=until)
    existing_organisations = ComplianceOrganisationDay.objects.filter(day__lt=until)
    if days is not None:
        days = {day for day in days if day < until}
        if not days:
            return 0
        clocks = clocks.filter(
            stopped_at__gte=day_start(min(days)), stopped_at__lt=day_start(max(days) + timedelta(days=1))
        )
        existing = existing.filter(day__in=days)
        existing_organisations = existing_organisations.filter(day__in=days)
    existing.delete()
    existing_organisations.delete()
    return _insert_days(clocks, list(PublishedFigure.objects.all()), days)


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
