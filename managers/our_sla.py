"""What the SLA promises one customer organisation, for its "Our SLA" page (SPEC §1, §2, §8).

One read gathers it all for the organisation's contract on a date: its level, the policy
version in force and the next one once announced, the targets of its level, the business
hours, this year's and next year's closed days, the channels, the coordinator seats used and
left, the consultant lead time, the availability target, and the published figures (§1.2.3)
beside the organisation's own measured figures. A fixed number of queries, whatever the
number of tickets: the figures are one aggregate over the organisation's stopped clocks.
"""

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

from django.db.models import Q

from accounts.models import Organisation, Role
from managers.dashboard import DashboardFilters, FigureResult, default_period, published_figures_measure
from sla.models import (
    ClockKind,
    ClosureDay,
    Contract,
    Holiday,
    PolicyVersion,
    ServiceLevelTerms,
    Target,
    Weekday,
)
from sla.selectors import business_calendar, contract_in_force, level_terms_of_version


@dataclass
class TargetRow:
    kind: str  # the ticket kind's label
    clock: str  # the clock's label
    cells: list[str]  # per priority, High first


@dataclass
class OurSla:
    organisation: Organisation
    contract: Contract | None
    version: PolicyVersion | None = None
    next_version: PolicyVersion | None = None
    terms: ServiceLevelTerms | None = None
    next_terms: ServiceLevelTerms | None = None
    targets: list[TargetRow] = field(default_factory=list)
    hours: list[tuple[str, list[tuple[time, time]]]] = field(default_factory=list)
    closed_days: dict[int, list[tuple[date, str]]] = field(default_factory=dict)
    coordinators_used: int = 0
    figures: list[FigureResult] = field(default_factory=list)
    figures_from: date | None = None
    figures_until: date | None = None

    @property
    def coordinators_left(self) -> int | None:
        if self.terms is None:
            return None
        return max(self.terms.max_coordinators - self.coordinators_used, 0)

    @property
    def availability_percent(self) -> Decimal | None:
        return self.version.availability_percent if self.version else None


def _targets(*, version: PolicyVersion, level_id: int) -> list[TargetRow]:
    # the kinds and priorities as the Target model knows them (no import of tickets/ here)
    kinds = Target._meta.get_field("ticket_kind").choices
    priorities = [value for value, _label in Target._meta.get_field("priority").choices]
    cells: dict[tuple[str, str], dict[int, str]] = {}
    for target in Target.objects.filter(policy_version=version, service_level_id=level_id):
        cells.setdefault((target.ticket_kind, target.clock), {})[target.priority] = target.display
    rows = []
    for kind, kind_label in kinds:
        for clock, clock_label in ClockKind.choices:
            if (kind, clock) in cells:
                by_priority = cells[(kind, clock)]
                rows.append(
                    TargetRow(
                        str(kind_label), str(clock_label), [by_priority.get(p, "—") for p in priorities]
                    )
                )
    return rows


def _closed_days(*, calendar_row, years: list[int]) -> dict[int, list[tuple[date, str]]]:
    """The closed working days of each year, named by the holiday, the closure or the library."""
    from sla.seed import library_holidays

    first, last = date(years[0], 1, 1), date(years[-1], 12, 31)
    dates = business_calendar(calendar_row).closed_dates_between(first, last)
    names = {day: name for day, name, _kind in library_holidays(years)}
    names.update(Holiday.objects.filter(date__range=(first, last)).values_list("date", "name"))
    names.update(
        ClosureDay.objects.filter(calendar=calendar_row, date__range=(first, last)).values_list(
            "date", "reason"
        )
    )
    result: dict[int, list[tuple[date, str]]] = {year: [] for year in years}
    for day in dates:
        result[day.year].append((day, names.get(day, "")))
    return result


def our_sla(*, organisation: Organisation, today: date) -> OurSla:
    """The organisation's SLA as in force on ``today`` (its own figures over the last 90 days)."""
    contract = contract_in_force(organisation_id=organisation.pk, on=today)
    overview = OurSla(organisation=organisation, contract=contract)
    if contract is None:
        return overview
    level = contract.service_level
    versions = list(
        PolicyVersion.objects.filter(Q(effective_from__lte=today) | Q(announced_at__isnull=False)).order_by(
            "effective_from"
        )
    )
    in_force = [v for v in versions if v.effective_from <= today]
    overview.version = in_force[-1] if in_force else None
    overview.next_version = next((v for v in versions if v.effective_from > today), None)
    terms = {
        t.policy_version_id: t
        for t in ServiceLevelTerms.objects.filter(
            service_level=level,
            policy_version__in=[v for v in (overview.version, overview.next_version) if v],
        )
    }
    if overview.version:
        overview.terms = terms.get(overview.version.pk) or level_terms_of_version(
            policy_version_id=overview.version.pk, service_level_id=level.pk
        )
        overview.targets = _targets(version=overview.version, level_id=level.pk)
    if overview.next_version:
        overview.next_terms = terms.get(overview.next_version.pk)
    weekly: dict[int, list[tuple[time, time]]] = {}
    for hours in level.calendar.opening_hours.all():
        weekly.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    overview.hours = [(str(label), weekly.get(day, [])) for day, label in Weekday.choices]
    overview.closed_days = _closed_days(calendar_row=level.calendar, years=[today.year, today.year + 1])
    overview.coordinators_used = organisation.users.filter(role=Role.COORDINATOR, is_active=True).count()
    overview.figures_from, overview.figures_until = default_period(today=today)
    start, end = DashboardFilters(overview.figures_from, overview.figures_until).period_bounds()
    overview.figures = published_figures_measure(start=start, end=end, organisation_id=organisation.pk)
    return overview
