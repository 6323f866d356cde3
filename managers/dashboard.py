"""Reads behind the support managers' breach dashboard (SPEC §2, §5).

Everything is an aggregate in SQL over the stored clock columns (state, due_at, at_risk_at,
consumed_seconds, stopped_at): no ticket is loaded into Python except the 20 rows of the
deadline and waiting lists, and the page costs the same handful of queries at any volume.

* "Now": open clocks with a target that are breached (running past ``due_at``, or paused
  after using up their target) or at risk (past ``at_risk_at``), counted by priority,
  service level, organisation, ticket kind and agent.
* Trend: per week (Monday, Amsterdam), the share of clocks that stopped within their target,
  per level and per priority. Best-effort clocks have no target: they are left out of the
  trend (they can never breach) but measured against the published figures.
* Published figures (SPEC §2, rows of ``PublishedFigure``): the share of clocks that stopped
  in the period that stayed within the figure, on each ticket's own calendar, pauses
  excluded: hours in business time, working days by the close of the Nth working day after
  the one the clock started on, months by the same time N calendar months later (the clock's
  ``working_days`` and ``months``, stored when it stopped).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from managers.rollup import AMSTERDAM, count_days, day_start, rolled_until, sum_within
from sla.models import (
    Clock,
    ClockEvent,
    ClockKind,
    ClockState,
    ClockTransition,
    ComplianceDay,
    ComplianceOrganisationDay,
    PublishedFigure,
    ServiceLevel,
    TransitionKind,
)
from tickets.choices import Priority

TREND_WEEKS = 26
LIST_LENGTH = 20  # the "next deadlines" and "waiting longest" lists


@dataclass(frozen=True)
class DashboardFilters:
    start: date  # the period of the published figures, inclusive
    end: date
    level_id: int | None = None
    organisation_id: int | None = None

    def period_bounds(self) -> tuple[datetime, datetime]:
        return day_start(self.start), day_start(self.end + timedelta(days=1))


def default_period(*, today: date | None = None) -> tuple[date, date]:
    """The last 90 days up to today: long enough for the 5-working-day figures to settle."""
    today = today or timezone.localdate()
    return today - timedelta(days=89), today


# --- which clocks ------------------------------------------------------------------------


def breached_q(now: datetime) -> Q:
    return Q(state=ClockState.RUNNING, due_at__lte=now) | Q(
        state=ClockState.PAUSED, consumed_seconds__gt=F("target_seconds")
    )


def at_risk_q(now: datetime) -> Q:
    return Q(state=ClockState.RUNNING, at_risk_at__lte=now, due_at__gt=now) | Q(
        Exists(ClockTransition.objects.filter(clock=OuterRef("pk"), kind=TransitionKind.AT_RISK)),
        state=ClockState.PAUSED,
        consumed_seconds__lte=F("target_seconds"),
    )


def _scoped(queryset: QuerySet[Clock], *, level_id: int | None, organisation_id: int | None) -> QuerySet:
    if level_id:
        queryset = queryset.filter(ticket__service_level_id=level_id)
    if organisation_id:
        queryset = queryset.filter(ticket__organisation_id=organisation_id)
    return queryset


def open_clocks(*, level_id: int | None = None, organisation_id: int | None = None) -> QuerySet[Clock]:
    """Clocks still counting (or paused) that have a target: the ones that can still breach."""
    return _scoped(
        Clock.objects.filter(state__in=[ClockState.RUNNING, ClockState.PAUSED], target_seconds__isnull=False),
        level_id=level_id,
        organisation_id=organisation_id,
    )


def clocks_in_state(
    state: str, *, now: datetime, level_id: int | None = None, organisation_id: int | None = None
) -> QuerySet[Clock]:
    clocks = open_clocks(level_id=level_id, organisation_id=organisation_id)
    if state == "breached":
        return clocks.filter(breached_q(now))
    if state == "at_risk":
        return clocks.filter(at_risk_q(now))
    return clocks.filter(breached_q(now) | at_risk_q(now))


# --- now --------------------------------------------------------------------------------

# (key, the ticket column grouped on); names are looked up afterwards (_now_labels)
DIMENSIONS = [
    ("priority", "ticket__priority"),
    ("level", "ticket__service_level_id"),
    ("organisation", "ticket__organisation_id"),
    ("kind", "ticket__kind"),
    ("agent", "ticket__assignee_id"),
]


@dataclass
class CountRow:
    value: object  # what the link filters on
    label: str
    at_risk: int
    breached: int


@dataclass
class NowSummary:
    at_risk: int = 0
    breached: int = 0
    by: dict[str, list[CountRow]] = field(default_factory=dict)


def now_summary(
    *, now: datetime, level_id: int | None = None, organisation_id: int | None = None
) -> NowSummary:
    """At-risk and breached open clocks by each dimension. On PostgreSQL one pass with
    GROUPING SETS over the partial index of open clocks with a target; elsewhere one grouped
    query per dimension."""
    if connection.vendor == "postgresql":
        raw = _now_rows_grouping_sets(now=now, level_id=level_id, organisation_id=organisation_id)
    else:
        raw = _now_rows_per_dimension(now=now, level_id=level_id, organisation_id=organisation_id)
    summary = NowSummary()
    labels = _now_labels(raw)
    for key, _column in DIMENSIONS:
        result = [
            CountRow(
                "none" if value is None else value,
                _none_label(key) if value is None else str(labels[key].get(value, value)),
                at_risk,
                breached,
            )
            for value, at_risk, breached in raw[key]
        ]
        if key in ("agent", "organisation"):  # worst first
            result.sort(key=lambda r: (-r.breached, -r.at_risk, r.label))
        else:
            result.sort(key=lambda r: (r.value == "none", str(r.value)))
        summary.by[key] = result
    summary.at_risk = sum(row.at_risk for row in summary.by["priority"])
    summary.breached = sum(row.breached for row in summary.by["priority"])
    return summary


def _none_label(key: str) -> str:
    """An open clock's ticket without a value here: only the agent may be missing."""
    return _("Unassigned") if key == "agent" else "—"


def _now_labels(raw: dict[str, list[tuple]]) -> dict[str, dict]:
    """Names for the ids in the counts: three small queries, whatever the volume."""
    from accounts.models import Organisation, User
    from tickets.choices import TicketKind

    def ids(key):
        return [value for value, _r, _b in raw[key] if value is not None]

    return {
        "priority": dict(Priority.choices),
        "kind": dict(TicketKind.choices),
        "level": dict(ServiceLevel.objects.filter(pk__in=ids("level")).values_list("pk", "name")),
        "organisation": dict(
            Organisation.objects.filter(pk__in=ids("organisation")).values_list("pk", "name")
        ),
        "agent": {
            pk: name or email
            for pk, name, email in User.objects.filter(pk__in=ids("agent")).values_list(
                "pk", "full_name", "email"
            )
        },
    }


def _now_rows_per_dimension(*, now, level_id, organisation_id) -> dict[str, list[tuple]]:
    trouble = clocks_in_state("any", now=now, level_id=level_id, organisation_id=organisation_id)
    raw = {}
    for key, column in DIMENSIONS:
        rows = (
            trouble.values(column)
            .annotate(
                at_risk=Count("pk", filter=at_risk_q(now)), breached=Count("pk", filter=breached_q(now))
            )
            .order_by()
        )
        raw[key] = [(row[column], row["at_risk"], row["breached"]) for row in rows]
    return raw


# GROUPING(priority, level, organisation, kind, assignee) of each grouping set: a bit is set
# for every column the row is *not* grouped by.
_GROUPING_BITS = {
    "priority": 0b01111,
    "level": 0b10111,
    "organisation": 0b11011,
    "kind": 0b11101,
    "agent": 0b11110,
}


def _now_rows_grouping_sets(*, now, level_id, organisation_id) -> dict[str, list[tuple]]:
    """Why this shape (bench/dashboard.py, EXPLAIN ANALYZE at a million tickets): the clocks'
    columns are all in the partial index of open clocks with a target (sla_clock_open_target),
    so they are read index-only. For all organisations each clock is marked at risk or
    breached and joined to its ticket's five columns: those of the active tickets (the only
    ones with open clocks, in practice) are read whole from their partial covering index
    (ticket_active_dims, a few percent of the tickets) into a hash; a ticket not found there is
    looked up in the covering index of all tickets (ticket_dims), kept apart by OFFSET 0 and
    only run for such a ticket. Looking up each ticket in trouble instead costs about twice as
    much (tens of thousands of index probes). The marked clocks are MATERIALIZED: inlined,
    the planner expects a few hundred in trouble and reads the clocks' rows by bitmap and
    probes the tickets one by one (three times slower). For one organisation the tickets come first: its
    ids from ticket_organisation_ids, each probing the open-clock index, counted per ticket.
    Breached and at risk exclude each other."""
    from tickets.choices import ACTIVE_STATUSES
    from tickets.models import Ticket

    breached = (
        "((c.state = 'running' AND c.due_at <= %(now)s) "
        "OR (c.state = 'paused' AND c.consumed_seconds > c.target_seconds))"
    )
    at_risk = (
        "((c.state = 'running' AND c.at_risk_at <= %(now)s AND c.due_at > %(now)s) "  # noqa: S608 - model tables  # nosec B608
        "OR (c.state = 'paused' AND c.consumed_seconds <= c.target_seconds AND EXISTS ("
        f"SELECT 1 FROM {ClockTransition._meta.db_table} tr WHERE tr.clock_id = c.id "
        "AND tr.kind = 'at_risk')))"
    )
    open_clock = "c.state IN ('running', 'paused') AND c.target_seconds IS NOT NULL"
    clocks, tickets = Clock._meta.db_table, Ticket._meta.db_table
    names = ("priority", "service_level_id", "organisation_id", "kind", "assignee_id")
    columns = ", ".join(names)
    group_by = (
        " GROUP BY GROUPING SETS ((priority), (service_level_id), (organisation_id), (kind), (assignee_id))"
    )
    if organisation_id:
        counts = (
            f"COUNT(*) FILTER (WHERE {at_risk}) AS at_risk, COUNT(*) FILTER (WHERE {breached}) AS breached"
        )
        level = " AND o.service_level_id = %(level)s" if level_id else ""
        sql = (
            f"WITH trouble AS MATERIALIZED (SELECT o.id AS ticket_id, x.at_risk, x.breached "  # noqa: S608 - model tables  # nosec B608
            f"FROM {tickets} o CROSS JOIN LATERAL ("
            f"SELECT {counts} FROM {clocks} c WHERE c.ticket_id = o.id AND {open_clock}) x "
            f"WHERE o.organisation_id = %(organisation)s{level} AND (x.at_risk > 0 OR x.breached > 0)) "
            f"SELECT {columns}, GROUPING({columns}), SUM(x.at_risk)::bigint, SUM(x.breached)::bigint "
            f"FROM trouble x CROSS JOIN LATERAL (SELECT {columns} FROM {tickets} WHERE id = x.ticket_id "
            f"OFFSET 0) t{group_by}"
        )
    else:
        active = ", ".join(f"'{status}'" for status in ACTIVE_STATUSES)
        either = ", ".join(f"COALESCE(a.{name}, o.{name}) AS {name}" for name in names)
        level = " AND COALESCE(a.service_level_id, o.service_level_id) = %(level)s" if level_id else ""
        sql = (
            f"WITH x AS MATERIALIZED (SELECT c.ticket_id, {at_risk} AS r, {breached} AS b "  # noqa: S608 - model tables  # nosec B608
            f"FROM {clocks} c WHERE {open_clock}), "
            f"y AS (SELECT x.r, x.b, {either} FROM x LEFT JOIN {tickets} a "
            f"ON a.id = x.ticket_id AND a.status IN ({active}) "
            f"LEFT JOIN LATERAL (SELECT {columns} FROM {tickets} WHERE id = x.ticket_id AND a.id IS NULL "
            f"OFFSET 0) o ON TRUE WHERE (x.r OR x.b){level}) "
            f"SELECT {columns}, GROUPING({columns}), COUNT(*) FILTER (WHERE r), "
            f"COUNT(*) FILTER (WHERE b) FROM y{group_by}"
        )
    raw: dict[str, list[tuple]] = {key: [] for key in _GROUPING_BITS}
    by_bits = {bits: (n, key) for n, (key, bits) in enumerate(_GROUPING_BITS.items())}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "level": level_id, "organisation": organisation_id})
        for row in cursor.fetchall():
            position, key = by_bits[row[5]]
            raw[key].append((row[position], row[6], row[7]))
    return raw


def next_deadlines(
    *,
    now: datetime,
    level_id: int | None = None,
    organisation_id: int | None = None,
    limit: int = LIST_LENGTH,
) -> list[Clock]:
    """The running clocks due next (not yet breached), nearest first: the index on running
    deadlines hands them over in order; one organisation's are looked up from its tickets
    (_organisation_deadline_ids). Only a clock with a target has a deadline."""
    clocks = Clock.objects.filter(state=ClockState.RUNNING, due_at__gt=now, target_seconds__isnull=False)
    if organisation_id and connection.vendor == "postgresql":
        ids = _organisation_deadline_ids(
            now=now, level_id=level_id, organisation_id=organisation_id, limit=limit
        )
        clocks = clocks.filter(pk__in=ids)
    else:
        clocks = _scoped(clocks, level_id=level_id, organisation_id=organisation_id)
    return list(
        clocks.select_related("ticket__organisation", "ticket__assignee", "ticket__service_level").order_by(
            "due_at", "pk"
        )[:limit]
    )


def _organisation_deadline_ids(*, now, level_id, organisation_id, limit) -> list[int]:
    """Why raw SQL: the planner cannot tell that a deadline (due_at) is only set on running
    clocks, so it expects a few hundred clocks due in the future where there are tens of
    thousands, reads them all and checks each one's ticket (seconds at a million tickets).
    The LATERAL subquery (kept apart by OFFSET 0) makes it start from the organisation's few
    thousand ticket ids (index ticket_organisation_ids) and probe the open-clock index
    (sla_clock_open_target) for each: both index-only."""
    from tickets.models import Ticket

    level = " AND t.service_level_id = %(level)s" if level_id else ""
    sql = (
        f"SELECT c.id FROM {Ticket._meta.db_table} t CROSS JOIN LATERAL ("  # noqa: S608 - model tables  # nosec B608
        f"SELECT id, state, due_at FROM {Clock._meta.db_table} WHERE ticket_id = t.id "
        "AND state IN ('running', 'paused') AND target_seconds IS NOT NULL OFFSET 0) c "
        f"WHERE t.organisation_id = %(organisation)s{level} AND c.state = 'running' AND c.due_at > %(now)s "
        "ORDER BY c.due_at, c.id LIMIT %(limit)s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "level": level_id, "organisation": organisation_id, "limit": limit})
        return [row[0] for row in cursor.fetchall()]


def waiting_count(*, level_id: int | None = None, organisation_id: int | None = None) -> int:
    return _scoped(
        Clock.objects.filter(state=ClockState.PAUSED, kind=ClockKind.RESOLUTION),
        level_id=level_id,
        organisation_id=organisation_id,
    ).count()


def longest_waiting(
    *, level_id: int | None = None, organisation_id: int | None = None, limit: int = LIST_LENGTH
) -> list[Clock]:
    """Tickets waiting on the customer (their resolution clock is paused), longest first,
    with ``paused_since`` from the clock's last pause event."""
    last_pause = (
        ClockEvent.objects.filter(clock=OuterRef("pk"), action="pause").order_by("-at").values("at")[:1]
    )
    clocks = _scoped(
        Clock.objects.filter(state=ClockState.PAUSED, kind=ClockKind.RESOLUTION),
        level_id=level_id,
        organisation_id=organisation_id,
    )
    # first the 20 ids (no join to the tickets unless a filter needs it), then those 20 rows
    oldest = dict(
        clocks.annotate(paused_since=Subquery(last_pause))
        .order_by("paused_since", "pk")
        .values_list("pk", "paused_since")[:limit]
    )
    rows = {
        clock.pk: clock
        for clock in Clock.objects.filter(pk__in=oldest).select_related(
            "ticket__organisation", "ticket__assignee"
        )
    }
    for pk, since in oldest.items():
        rows[pk].paused_since = since
    return [rows[pk] for pk in oldest]


# --- the days not yet rolled up (today, mostly) ---------------------------------------------


@dataclass
class Unrolled:
    """The clocks stopped since the roll-up, counted once in its shape (``count_days``) and
    read by both the trend and the published figures."""

    until: date  # the first day not in the roll-up
    figures: list[PublishedFigure]
    days: list[ComplianceDay]


def unrolled(*, level_id: int | None = None, organisation_id: int | None = None) -> Unrolled | None:
    """None before the first roll-up."""
    until = rolled_until()
    if until is None:
        return None
    figures = list(PublishedFigure.objects.all())
    clocks = _scoped(
        Clock.objects.filter(state=ClockState.STOPPED, stopped_at__gte=day_start(until)),
        level_id=level_id,
        organisation_id=organisation_id,
    )
    return Unrolled(until, figures, count_days(clocks, figures))


# --- trend ---------------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class TrendSeries:
    label: str
    key: str  # "level:<id>" or "priority:<n>"
    met: list[int]
    total: list[int]

    @property
    def percent(self) -> list[float | None]:
        return [round(m * 100 / t, 1) if t else None for m, t in zip(self.met, self.total, strict=True)]


@dataclass
class Trend:
    weeks: list[date]
    series: dict[str, list[TrendSeries]]  # "<clock>:<level|priority>" -> lines


def _trend_rows_raw(*, since: datetime, level_id, organisation_id) -> list[dict]:
    clocks = _scoped(
        Clock.objects.filter(state=ClockState.STOPPED, stopped_at__gte=since, target_seconds__isnull=False),
        level_id=level_id,
        organisation_id=organisation_id,
    )
    rows = (
        clocks.annotate(week=TruncWeek("stopped_at", tzinfo=AMSTERDAM))
        .values("week", "kind", "ticket__service_level_id", "ticket__service_level__name", "ticket__priority")
        .annotate(met=Count("pk", filter=Q(consumed_seconds__lte=F("target_seconds"))), total=Count("pk"))
        .order_by()
    )
    return [
        {
            "week": row["week"].date() if isinstance(row["week"], datetime) else row["week"],
            "clock": row["kind"],
            "level_id": row["ticket__service_level_id"],
            "level": row["ticket__service_level__name"],
            "priority": row["ticket__priority"],
            "met": row["met"],
            "total": row["total"],
        }
        for row in rows
    ]


def _rolled_days(*, organisation_id: int | None) -> QuerySet:
    """The roll-up of all organisations, or that of one."""
    if organisation_id:
        return ComplianceOrganisationDay.objects.filter(organisation_id=organisation_id)
    return ComplianceDay.objects.all()


def _trend_rows_rolled(*, first: date, until: date, level_id, organisation_id=None) -> list[dict]:
    days = _rolled_days(organisation_id=organisation_id).filter(
        day__gte=first, day__lt=until, with_target__gt=0
    )
    if level_id:
        days = days.filter(service_level_id=level_id)
    rows = (
        days.annotate(week=TruncWeek("day"))
        .values("week", "clock", "service_level_id", "service_level__name", "priority")
        .annotate(met_sum=Sum("met"), total=Sum("with_target"))
        .order_by()
    )
    return [
        {
            "week": row["week"],
            "clock": row["clock"],
            "level_id": row["service_level_id"],
            "level": row["service_level__name"],
            "priority": row["priority"],
            "met": row["met_sum"],
            "total": row["total"],
        }
        for row in rows
    ]


def _trend_rows_unrolled(days: list[ComplianceDay]) -> list[dict]:
    names = dict(ServiceLevel.objects.values_list("pk", "name")) if days else {}
    return [
        {
            "week": week_start(day.day),
            "clock": day.clock,
            "level_id": day.service_level_id,
            "level": names.get(day.service_level_id),
            "priority": day.priority,
            "met": day.met,
            "total": day.with_target,
        }
        for day in days
        if day.with_target
    ]


def compliance_trend(
    *,
    today: date,
    level_id: int | None = None,
    organisation_id: int | None = None,
    weeks: int = TREND_WEEKS,
    recent: Unrolled | None = None,
) -> Trend:
    """Weekly share of clocks with a target that stopped within it, the last ``weeks`` weeks
    (this one included), per service level and per priority. Days in the roll-up are read
    from it (ComplianceDay, or ComplianceOrganisationDay for one organisation), the rest from
    ``recent`` (counted once for the whole page, in the same scope)."""
    first = week_start(today) - timedelta(weeks=weeks - 1)
    week_list = [first + timedelta(weeks=n) for n in range(weeks)]
    since = day_start(first)
    if recent is None:
        recent = unrolled(level_id=level_id, organisation_id=organisation_id)
    if recent is not None and recent.until > first:
        rows = _trend_rows_rolled(
            first=first, until=recent.until, level_id=level_id, organisation_id=organisation_id
        )
        rows += _trend_rows_unrolled(recent.days)
    else:
        rows = _trend_rows_raw(since=since, level_id=level_id, organisation_id=organisation_id)
    index = {week: n for n, week in enumerate(week_list)}
    lines: dict[tuple[str, str], TrendSeries] = {}
    priorities = dict(Priority.choices)
    for row in rows:
        position = index.get(row["week"])
        if position is None:
            continue
        for axis, key, label in (
            ("level", f"level:{row['level_id']}", row["level"]),
            (
                "priority",
                f"priority:{row['priority']}",
                str(priorities.get(row["priority"], row["priority"])),
            ),
        ):
            line = lines.setdefault(
                (f"{row['clock']}:{axis}", key), TrendSeries(str(label), key, [0] * weeks, [0] * weeks)
            )
            line.met[position] += row["met"]
            line.total[position] += row["total"]
    series: dict[str, list[TrendSeries]] = defaultdict(list)
    for (group, _key), line in sorted(lines.items(), key=lambda item: item[0]):
        series[group].append(line)
    return Trend(week_list, dict(series))


# --- the published figures ----------------------------------------------------------------


@dataclass
class FigureResult:
    figure: PublishedFigure
    within: int
    total: int

    @property
    def actual_percent(self) -> Decimal | None:
        if not self.total:
            return None
        return (Decimal(self.within) * 100 / Decimal(self.total)).quantize(Decimal("0.1"))

    @property
    def met(self) -> bool | None:
        actual = self.actual_percent
        return None if actual is None else actual >= self.figure.share_percent


def priority_band_q(*, high: bool) -> Q:
    return Q(ticket__priority=Priority.HIGH) if high else ~Q(ticket__priority=Priority.HIGH)


def _figure_q(figure: PublishedFigure) -> Q:
    return figure.within_q()


def _figures_raw(
    *, start: datetime, end: datetime, level_id, organisation_id, figures
) -> tuple[dict[int, int], dict[tuple[str, bool], int]]:
    """Within counts per figure and totals per (clock, High?) over clocks stopped in [start, end)."""
    if end <= start or not figures:
        return defaultdict(int), defaultdict(int)
    clocks = _scoped(
        Clock.objects.filter(state=ClockState.STOPPED, stopped_at__gte=start, stopped_at__lt=end),
        level_id=level_id,
        organisation_id=organisation_id,
    )
    aggregates = {}
    for high in (True, False):
        for kind in ClockKind:
            aggregates[f"t_{kind}_{int(high)}"] = Count(
                "pk", filter=priority_band_q(high=high) & Q(kind=kind)
            )
    for figure in figures:
        aggregates[f"f_{figure.pk}"] = Count(
            "pk", filter=priority_band_q(high=figure.high_priority) & Q(kind=figure.clock) & _figure_q(figure)
        )
    counts = clocks.aggregate(**aggregates)
    within = defaultdict(int, {figure.pk: counts[f"f_{figure.pk}"] for figure in figures})
    totals = defaultdict(
        int,
        {(kind.value, high): counts[f"t_{kind}_{int(high)}"] for kind in ClockKind for high in (True, False)},
    )
    return within, totals


def published_figures_measure(
    *,
    start: datetime,
    end: datetime,
    level_id: int | None = None,
    organisation_id: int | None = None,
    recent: Unrolled | None = None,
) -> list[FigureResult]:
    """Every published figure against the clocks (best effort included) that stopped in
    [start, end). Whole days in the roll-up (of all organisations or of the one) come from
    it, whole days after it from ``recent`` (in the same scope), the rest from the clocks; a
    figure edited since the roll-up from the clocks."""
    if recent is None:
        recent = unrolled(level_id=level_id, organisation_id=organisation_id)
    if recent is not None:
        figures, until = recent.figures, recent.until
    else:
        figures, until = list(PublishedFigure.objects.all()), None
    scope = {"level_id": level_id, "organisation_id": organisation_id, "figures": figures}
    first_day = timezone.localdate(start, AMSTERDAM)
    if day_start(first_day) < start:
        first_day += timedelta(days=1)  # only whole days come from the roll-up
    rolled_from = day_start(first_day)
    rolled_to = min(end, day_start(until)) if until else rolled_from
    last_day = timezone.localdate(rolled_to, AMSTERDAM)  # exclusive: rolled_to is a midnight or end
    if until is None or rolled_to <= rolled_from or day_start(last_day) != rolled_to:
        within, totals = _figures_raw(start=start, end=end, **scope)
    else:
        days = _rolled_days(organisation_id=organisation_id).filter(day__gte=first_day, day__lt=last_day)
        if level_id:
            days = days.filter(service_level_id=level_id)
        rows = list(days.only("clock", "priority", "calendar_id", "total", "within"))
        end_day = timezone.localdate(end, AMSTERDAM)
        unrolled_part = rolled_to < end and day_start(end_day) == end  # whole days in ``recent``
        if unrolled_part:
            rows += [day for day in recent.days if day.day < end_day]
        within = sum_within(rows, figures)
        if any(value is None for value in within.values()):
            within, totals = _figures_raw(start=start, end=end, **scope)
        else:
            totals = defaultdict(int)
            for row in rows:
                totals[(row.clock, row.priority == Priority.HIGH)] += row.total
            parts = [(start, rolled_from)] + ([] if unrolled_part else [(rolled_to, end)])
            for part_start, part_end in parts:
                part_within, part_totals = _figures_raw(start=part_start, end=part_end, **scope)
                for key, value in part_within.items():
                    within[key] += value
                for key, value in part_totals.items():
                    totals[key] += value
    return [
        FigureResult(figure, within[figure.pk], totals[(figure.clock, figure.high_priority)])
        for figure in figures
    ]


def clocks_missing_figure(*, figure: PublishedFigure, start: datetime, end: datetime) -> QuerySet[Clock]:
    """The clocks behind a figure's shortfall: stopped in the period, outside the figure."""
    band = priority_band_q(high=figure.high_priority)
    return (
        Clock.objects.filter(
            state=ClockState.STOPPED, stopped_at__gte=start, stopped_at__lt=end, kind=figure.clock
        )
        .filter(band)
        .exclude(_figure_q(figure))
    )
