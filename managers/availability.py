"""Availability against the target of SPEC §8: up time over covered time.

Document 001 §5.2 leaves out of the measurement only "de vooraf door de leverancier
aangekondigde buitengebruikstelling wegens preventief, correctief of adaptief onderhoud" and
circumstances outside the vendor's sphere of influence (force majeure). So covered time is the
period (up to now) minus the excused stretches: a force majeure outage, and the part of an
outage within maintenance announced before the outage began. Down time is what is left of the
outages. The weekly maintenance window excuses nothing by itself (an unannounced Saturday crash
counts); it bounds when maintenance may be announced (``maintenance_period_check``).

The arithmetic is plain interval algebra on UTC instants (the functions without a leading
``availability_``); the selectors load the rows once.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import NotificationTopic
from managers.rollup import day_start
from sla.models import Announcement, HostedProduct, MaintenanceWindow, Outage
from sla.selectors import policy_version_in_force
from sla_portal.formatting import datetime_text

UTC = ZoneInfo("UTC")
Interval = tuple[datetime, datetime]


def intervals_merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intervals_subtract(intervals: Iterable[Interval], minus: Iterable[Interval]) -> list[Interval]:
    """What of ``intervals`` lies outside ``minus``."""
    result: list[Interval] = []
    cuts = intervals_merge(minus)
    for start, end in intervals_merge(intervals):
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def intervals_clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [(max(a, start), min(b, end)) for a, b in intervals if a < end and b > start]


def intervals_seconds(intervals: Iterable[Interval]) -> int:
    # timestamps, not ``b - a``: Python subtracts two datetimes of one zone in wall-clock time,
    # which is an hour off across a daylight saving change
    return int(sum(b.timestamp() - a.timestamp() for a, b in intervals_merge(intervals)))


@dataclass(frozen=True)
class WeeklyWindow:
    weekday: int
    starts: time
    ends: time  # not after starts: the next day
    tz: str = "Europe/Amsterdam"


def maintenance_intervals(windows: Iterable[WeeklyWindow], start: datetime, end: datetime) -> list[Interval]:
    """The windows' instants between start and end: wall-clock times per local date, so they
    follow daylight saving time."""
    found: list[Interval] = []
    for window in windows:
        tz = ZoneInfo(window.tz)
        day = start.astimezone(tz).date() - timedelta(days=1)  # a window from the evening before
        last = end.astimezone(tz).date()
        while day <= last:
            if day.weekday() == window.weekday:
                opens = datetime.combine(day, window.starts, tzinfo=tz)
                closes_day = day + timedelta(days=1) if window.ends <= window.starts else day
                closes = datetime.combine(closes_day, window.ends, tzinfo=tz)
                found.append((opens.astimezone(UTC), closes.astimezone(UTC)))
            day += timedelta(days=1)
    return intervals_merge(intervals_clip(found, start, end))


@dataclass(frozen=True)
class OutageSpan:
    start: datetime
    end: datetime
    force_majeure: bool = False  # outside our sphere of influence: not counted at all
    # The period of the maintenance it belongs to, if that was announced before the outage
    # began: only the part of the outage within it is not counted.
    announced: Interval | None = None

    def excused(self) -> list[Interval]:
        if self.force_majeure:
            return [(self.start, self.end)]
        if self.announced is not None:
            return intervals_clip([(self.start, self.end)], *self.announced)
        return []


@dataclass(frozen=True)
class AvailabilityFigure:
    start: datetime
    end: datetime
    covered_seconds: int
    down_seconds: int

    @property
    def percent(self) -> Decimal | None:
        if self.covered_seconds <= 0:
            return None
        up = Decimal(self.covered_seconds - self.down_seconds) / Decimal(self.covered_seconds) * 100
        return up.quantize(Decimal("0.001"))


def availability_compute(
    *, start: datetime, end: datetime, outages: Iterable[OutageSpan]
) -> AvailabilityFigure:
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    excused, down = [], []
    for outage in outages:
        excused += outage.excused()
        down.append((outage.start, outage.end))
    excused = intervals_clip(intervals_merge(excused), start, end)
    covered = intervals_subtract([(start, end)], excused)
    down_in_covered = intervals_subtract(intervals_clip(intervals_merge(down), start, end), excused)
    return AvailabilityFigure(start, end, intervals_seconds(covered), intervals_seconds(down_in_covered))


def maintenance_period_check(
    windows: Iterable[WeeklyWindow], start: datetime, end: datetime
) -> list[Interval]:
    """What of the maintenance period [start, end) lies outside the weekly windows (empty: it
    may be announced)."""
    return intervals_subtract([(start, end)], maintenance_intervals(windows, start, end))


# --- selectors ------------------------------------------------------------------------------


def maintenance_windows() -> list[WeeklyWindow]:
    return [WeeklyWindow(w.weekday, w.starts, w.ends, w.timezone) for w in MaintenanceWindow.objects.all()]


def availability_target_for(*, year: int) -> Decimal | None:
    """The target of the policy version in force at the end of the year (001 §5.2 promises a
    share "per kalenderjaar"; document 000 99.8%, 001 99%)."""
    version = policy_version_in_force(on=date(year, 12, 31))
    return version.availability_percent if version else None


def _period_bounds(year: int, quarter: int | None) -> tuple[datetime, datetime]:
    if quarter is None:
        first, after = date(year, 1, 1), date(year + 1, 1, 1)
    else:
        first = date(year, 3 * quarter - 2, 1)
        after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return day_start(first), day_start(after)


def _for_organisation(organisation_id: int | None) -> tuple[QuerySet[HostedProduct], QuerySet[Outage]]:
    """The products and outages of one organisation (its own and everyone's); all without one."""
    products, outages = HostedProduct.objects.all(), Outage.objects.all()
    if organisation_id:
        mine = Q(organisations__isnull=True) | Q(organisations=organisation_id)
        products, outages = products.filter(mine).distinct(), outages.filter(mine).distinct()
    return products, outages


def outage_announced_period(outage: Outage) -> Interval | None:
    """The announced maintenance period an outage may be excused within: only when it is linked
    to a maintenance announcement with a period, published before the outage began."""
    announcement = outage.maintenance
    if (
        announcement is None
        or announcement.topic != NotificationTopic.MAINTENANCE
        or announcement.maintenance_starts_at is None
        or announcement.maintenance_ends_at is None
        or announcement.published_at > outage.starts_at
    ):
        return None
    return announcement.maintenance_starts_at, announcement.maintenance_ends_at


def _spans_by_product(
    outages: QuerySet[Outage], start: datetime, end: datetime, *, now: datetime
) -> dict[int, list[OutageSpan]]:
    """The outages overlapping [start, end) as spans per product id, in one query (and its prefetch)."""
    outages = (
        outages.filter(starts_at__lt=end)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=start))
        .select_related("maintenance")
        .prefetch_related("products")
    )
    spans: dict[int, list[OutageSpan]] = defaultdict(list)
    for outage in outages:
        span = OutageSpan(
            outage.starts_at, outage.ends_at or now, outage.force_majeure, outage_announced_period(outage)
        )
        for product in outage.products.all():
            spans[product.pk].append(span)
    return spans


@dataclass
class ProductAvailability:
    product: HostedProduct
    year: AvailabilityFigure | None
    quarters: list[AvailabilityFigure | None]
    target: Decimal | None

    @property
    def meets_target(self) -> bool | None:
        if self.year is None or self.year.percent is None or self.target is None:
            return None
        return self.year.percent >= self.target


def availability_overview(
    *, year: int, user=None, organisation_id: int | None = None, now: datetime | None = None
) -> list[ProductAvailability]:
    """Each hosted product's availability for a calendar year and its quarters. For a
    customer (``user``) only its own products and the outages that hit its organisation.
    A constant number of queries: windows, target, products, outages with their products."""
    now = now or timezone.now()
    target = availability_target_for(year=year)
    if user is not None and user.is_customer:
        products, _outages = _for_organisation(user.organisation_id)
        outages = Outage.objects.for_user(user)
    else:
        products, outages = _for_organisation(organisation_id)
    spans_of = _spans_by_product(outages, *_period_bounds(year, None), now=now)
    result = []
    for product in products:
        spans = spans_of.get(product.pk, [])

        def figure(quarter, spans=spans):
            start, end = _period_bounds(year, quarter)
            end = min(end, now)
            if end <= start:
                return None
            return availability_compute(start=start, end=end, outages=spans)

        result.append(ProductAvailability(product, figure(None), [figure(q) for q in (1, 2, 3, 4)], target))
    return result


def availability_for_period(
    *, start: datetime, end: datetime, organisation_id: int | None, now: datetime | None = None
) -> list[tuple[HostedProduct, AvailabilityFigure]]:
    """Per product, for a service report's period (an organisation's own outages)."""
    now = now or timezone.now()
    end = min(end, now)
    if end <= start:
        return []
    products, outages = _for_organisation(organisation_id)
    spans_of = _spans_by_product(outages, start, end, now=now)
    return [
        (product, availability_compute(start=start, end=end, outages=spans_of.get(product.pk, [])))
        for product in products
    ]


# --- writes ---------------------------------------------------------------------------------


@transaction.atomic
def outage_record(
    *,
    by,
    title: str,
    starts_at: datetime,
    ends_at: datetime | None,
    products,
    organisations=(),
    maintenance: Announcement | None = None,
    force_majeure: bool = False,
    description: str = "",
) -> Outage:
    """A manager records an outage. Linking it to maintenance is refused unless that
    maintenance was announced before the outage began and the outage falls in its period
    (document 001 §5.2: "vooraf ... aangekondigde buitengebruikstelling wegens ... onderhoud");
    an unannounced outage counts as downtime, inside the maintenance window too."""
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationError({"ends_at": _("An outage ends after it starts.")})
    if maintenance is not None:
        if maintenance.topic != NotificationTopic.MAINTENANCE or maintenance.maintenance_starts_at is None:
            raise ValidationError({"maintenance": _("Choose an announcement of planned maintenance.")})
        if maintenance.published_at > starts_at:
            raise ValidationError(
                {
                    "maintenance": _(
                        "This maintenance was announced at %(announced)s, after the outage began at "
                        "%(began)s: "
                        "only maintenance announced beforehand is left out of availability (SLA §5.2), so "
                        "this outage counts as downtime."
                    )
                    % {"announced": _local(maintenance.published_at), "began": _local(starts_at)}
                }
            )
        if (
            maintenance.maintenance_starts_at >= (ends_at or timezone.now())
            or maintenance.maintenance_ends_at <= starts_at
        ):
            raise ValidationError(
                {
                    "maintenance": _(
                        "The outage lies outside the announced maintenance (%(start)s to %(end)s)."
                    )
                    % {
                        "start": _local(maintenance.maintenance_starts_at),
                        "end": _local(maintenance.maintenance_ends_at),
                    }
                }
            )
    outage = Outage.objects.create(
        title=title.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        maintenance=maintenance,
        force_majeure=force_majeure,
        description=description.strip(),
        created_by=by,
    )
    outage.products.set(products)
    outage.organisations.set(organisations)
    return outage


def _local(instant: datetime) -> str:
    return datetime_text(instant)
