"""Calendars as managers edit them (issue 15): weekly opening hours and closure days. Every
change bumps the calendar's version and recomputes its open clocks after commit
(``sla.services.calendar_changed``), which stores the deadlines the what-if preview
(``sla.whatif.calendar_whatif``) showed."""

from datetime import date, time
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sla.models import Calendar, ClosureDay, Holiday, HolidayKind, OpeningHours
from sla.services import calendar_changed

WeeklyHours = dict[int, list[tuple[time, time]]]


def weekly_hours_of(calendar: Calendar) -> WeeklyHours:
    weekly: WeeklyHours = {}
    for hours in calendar.opening_hours.all():
        weekly.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    return weekly


def weekly_hours_check(weekly: WeeklyHours) -> None:
    """Ranges within a day, opening before closing, not overlapping; one open weekday at least."""
    if not any(weekly.values()):
        raise ValidationError(_("A calendar needs opening hours on at least one weekday."))
    for ranges in weekly.values():
        ordered = sorted(ranges)
        for opens, closes in ordered:
            if not opens < closes:
                raise ValidationError(_("Opening hours must open before they close, on the same day."))
        for (_o1, c1), (o2, _c2) in pairwise(ordered):
            if o2 < c1:
                raise ValidationError(_("Two ranges on the same weekday overlap."))


@transaction.atomic
def calendar_hours_save(*, calendar: Calendar, weekly: WeeklyHours) -> None:
    weekly_hours_check(weekly)
    calendar = Calendar.objects.select_for_update().get(pk=calendar.pk)
    calendar.opening_hours.all().delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
        for weekday, ranges in weekly.items()
        for opens, closes in ranges
    )
    calendar_changed(calendar=calendar)


@transaction.atomic
def closure_day_add(*, calendar: Calendar, day: date, reason: str) -> ClosureDay:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the desk is closed.")})
    try:
        with transaction.atomic():
            closure = ClosureDay.objects.create(calendar=calendar, date=day, reason=reason)
    except IntegrityError as exc:
        raise ValidationError({"date": _("This calendar is already closed on that day.")}) from exc
    calendar_changed(calendar=calendar)
    return closure


@transaction.atomic
def closure_day_remove(*, closure: ClosureDay) -> None:
    calendar = closure.calendar
    closure.delete()
    calendar_changed(calendar=calendar)


# Public holidays are shared by every calendar (each observes Good Friday and Liberation Day
# by its own choice): a change bumps them all and recomputes their open clocks.

#: The years a manager may add a holiday to (the stored ones are 2000-2040; later ones are
#: generated from the ``holidays`` library with the manager's rows on top).
HOLIDAY_YEARS = range(2000, 2101)


@transaction.atomic
def holiday_add(*, day: date, name: str) -> Holiday:
    """A public holiday on ``day`` for every calendar (or a switched-off one on again)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the holiday a name.")})
    if day.year not in HOLIDAY_YEARS:
        raise ValidationError({"date": _("Choose a day from 2000 to 2100.")})
    holiday = Holiday.objects.select_for_update().filter(date=day).first()
    if holiday is not None and holiday.active:
        raise ValidationError({"date": _("That day is already a public holiday.")})
    if holiday is None:
        holiday = Holiday.objects.create(date=day, name=name, kind=HolidayKind.OTHER)
    else:
        holiday.name, holiday.active = name, True
        holiday.save(update_fields=["name", "active"])
    calendar_changed()
    return holiday


@transaction.atomic
def holiday_switch(*, holiday: Holiday, active: bool) -> Holiday:
    """Switch a public holiday off (the desk works that day) or on again."""
    holiday = Holiday.objects.select_for_update().get(pk=holiday.pk)
    if holiday.active != active:
        holiday.active = active
        holiday.save(update_fields=["active"])
        calendar_changed()
    return holiday
