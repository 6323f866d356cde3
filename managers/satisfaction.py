"""Reads behind the managers' satisfaction page (issue 17): the customers' 1-5 scores per
week, agent, service level and product, each next to the SLA compliance of the same tickets.

Every rating carries what these figures group by (``tickets.SatisfactionRating``: week, agent,
level, product, whether the ticket met its SLA), so each table is one grouped query over the
rated weeks (the ``week`` index) whatever the volume: five queries for the page."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import SatisfactionRating

WEEKS = 26
LOW_SCORE = 2


@dataclass
class ScoreRow:
    key: object
    label: str
    count: int
    average: Decimal | None
    met: int
    low: int = 0

    @property
    def met_percent(self) -> Decimal | None:
        return _one_decimal(Decimal(self.met * 100) / self.count) if self.count else None


@dataclass
class Satisfaction:
    first_week: date
    weeks: list[ScoreRow]
    total: ScoreRow
    agents: list[ScoreRow]
    levels: list[ScoreRow]
    products: list[ScoreRow]


def _one_decimal(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


_FIGURES = {
    "count": Count("pk"),
    "average": Avg("score"),
    "met": Count("pk", filter=Q(sla_met=True)),
    "low": Count("pk", filter=Q(score__lte=LOW_SCORE)),
}


def _row(key, label, values: dict) -> ScoreRow:
    return ScoreRow(
        key=key,
        label=label,
        count=values["count"] or 0,
        average=_one_decimal(values["average"]),
        met=values["met"] or 0,
        low=values["low"] or 0,
    )


def _grouped(ratings: QuerySet, key: str, label: str, fallback: str) -> list[ScoreRow]:
    rows = ratings.values(key, label).annotate(**_FIGURES).order_by(label, key)
    return [_row(row[key], row[label] or fallback, row) for row in rows]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def satisfaction_overview(*, today: date | None = None, weeks: int = WEEKS) -> Satisfaction:
    """The last ``weeks`` weeks (this one included): per week, agent, level and product."""
    today = today or timezone.localdate()
    first = week_start(today) - timedelta(weeks=weeks - 1)
    ratings = SatisfactionRating.objects.filter(week__gte=first)
    per_week = {row["week"]: row for row in ratings.values("week").annotate(**_FIGURES).order_by("week")}
    empty = {"count": 0, "average": None, "met": 0, "low": 0}
    week_rows = []
    for n in range(weeks):
        week = first + timedelta(weeks=n)
        week_rows.append(_row(week, week.isoformat(), per_week.get(week, empty)))
    total = _row(None, _("All"), ratings.aggregate(**_FIGURES))
    return Satisfaction(
        first_week=first,
        weeks=week_rows,
        total=total,
        agents=_grouped(ratings, "agent_id", "agent__full_name", _("Nobody")),
        levels=_grouped(ratings, "service_level_id", "service_level__name", "-"),
        products=_grouped(ratings, "product_id", "product__name", _("No product")),
    )


def satisfaction_summary(*, today: date | None = None, weeks: int = WEEKS) -> ScoreRow:
    """The dashboard's card: one aggregate over the same weeks."""
    today = today or timezone.localdate()
    first = week_start(today) - timedelta(weeks=weeks - 1)
    return _row(None, "", SatisfactionRating.objects.filter(week__gte=first).aggregate(**_FIGURES))


@dataclass
class PeriodSatisfaction:
    total: ScoreRow
    distribution: list[tuple[int, int]]  # (score, count) for 1..5


def satisfaction_for_period(*, organisation_id: int, start: datetime, end: datetime) -> PeriodSatisfaction:
    """An organisation's ratings given in [start, end): the service report's section. Two
    queries on the (organisation, created_at) index."""
    ratings = SatisfactionRating.objects.filter(
        organisation_id=organisation_id, created_at__gte=start, created_at__lt=end
    )
    total = _row(None, "", ratings.aggregate(**_FIGURES))
    counts = dict(ratings.values_list("score").annotate(n=Count("pk")).order_by())
    return PeriodSatisfaction(total, [(score, counts.get(score, 0)) for score in SatisfactionRating.SCORES])
