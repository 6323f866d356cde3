"""Measure the stopped clocks for the published figures in working days (§1.2.3), "3 months"
as calendar months, and let the compliance roll-up recount itself.

"Next working day" was one business day of hours (6 h on Default), so a ticket registered on
Monday at 15:00 and resolved on Tuesday at 15:30 counted as late; it is by the close of the
next working day. "3 months" was seeded as 65 working days; it is the same time three calendar
months later. Figures a manager changed are left as they are."""

from datetime import date
from decimal import Decimal

from django.db import migrations
from django.db.models import Min

BATCH = 2000  # clocks per bulk update: a few MB of rows, a short transaction each


def _calendars(apps):
    from sla.calendar import BusinessCalendar
    from sla.seed import library_holidays

    Calendar = apps.get_model("sla", "Calendar")
    Holiday = apps.get_model("sla", "Holiday")
    ClosureDay = apps.get_model("sla", "ClosureDay")
    holidays = list(Holiday.objects.values_list("date", "kind", "active", "from_library"))
    years = {day.year for day, _kind, _active, from_library in holidays if from_library}
    built = {}
    for calendar in Calendar.objects.all():
        def observed(kind, calendar=calendar):
            if kind == "good_friday":
                return calendar.closed_on_good_friday
            return kind != "liberation_day" or calendar.liberation_day != "never"

        closed = {day for day, kind, active, _lib in holidays if active and observed(kind)}
        closed |= set(ClosureDay.objects.filter(calendar=calendar).values_list("date", flat=True))
        if calendar.liberation_day == "every_year":
            closed |= {date(year, 5, 5) for year in years}

        def of_year(year, observed=observed, calendar=calendar):
            days = {day for day, _name, kind in library_holidays([year]) if observed(kind)}
            if calendar.liberation_day == "every_year":
                days.add(date(year, 5, 5))
            return days

        weekly = {}
        for hours in calendar.opening_hours.all():
            weekly.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
        if weekly:
            built[calendar.pk] = BusinessCalendar(tz=calendar.timezone, weekly_hours=weekly, closed_dates=closed,
                                                  closed_years=years, closed_dates_of_year=of_year)
    return built


def measure(apps, schema_editor):
    Clock = apps.get_model("sla", "Clock")
    PublishedFigure = apps.get_model("sla", "PublishedFigure")
    ComplianceDay = apps.get_model("sla", "ComplianceDay")
    ComplianceRollupState = apps.get_model("sla", "ComplianceRollupState")
    PublishedFigure.objects.filter(within_unit="days", within_amount=Decimal("65"),
                                   label__endswith="within 3 months").update(within_unit="months",
                                                                             within_amount=Decimal("3"))
    calendars = _calendars(apps)
    clocks = (Clock.objects.filter(state="stopped").annotate(started=Min("events__at"))
              .only("pk", "calendar_id", "consumed_seconds").order_by("pk"))
    batch = []
    for clock in clocks.iterator(chunk_size=BATCH):
        calendar = calendars.get(clock.calendar_id)
        if calendar is None or clock.started is None:
            continue
        clock.working_days = calendar.working_days_used(clock.started, clock.consumed_seconds)
        clock.months = calendar.months_used(clock.started, clock.consumed_seconds)
        batch.append(clock)
        if len(batch) >= BATCH:
            Clock.objects.bulk_update(batch, ["working_days", "months"])
            batch = []
    Clock.objects.bulk_update(batch, ["working_days", "months"])
    # the roll-up counted hours: it rebuilds on its next run
    ComplianceDay.objects.all().delete()
    ComplianceRollupState.objects.all().delete()


seed = measure  # the name the tests' re-seeding after a flush calls (conftest.SEEDS)


class Migration(migrations.Migration):
    dependencies = [("sla", "0014_clock_figure_measure")]
    operations = [migrations.RunPython(measure, migrations.RunPython.noop)]
