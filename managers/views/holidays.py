"""Public holidays for managers (issue 15): shared by every calendar, each change previewed on
the open clocks of the calendars it changes (``sla.whatif.holiday_whatif``) before it is saved;
saving recomputes them. The rows of 2000-2040 are seeded from the ``holidays`` library."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import manager_required
from managers.sla_setup_forms import HolidayForm
from managers.views import form_errors, int_or_none
from sla import calendar_edits as service
from sla.models import Holiday, HolidayKind
from sla.whatif import holiday_whatif


@manager_required
def holidays(request):
    """A year's public holidays (``?year=``). Each form posts ``action``: ``preview-add`` /
    ``add`` (date and name), ``preview-off`` / ``off`` and ``preview-on`` / ``on`` (with
    ``holiday``). The button that saves shows after its preview."""
    year = _year(request.GET.get("year") or request.POST.get("year"))
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = HolidayForm(request.POST if action.endswith("add") else None)
    context = {"year": year, "form": form, "preview": None, "switching": None}
    status = 200
    if action in ("preview-add", "add"):
        if not form.is_valid():
            status = 400
        elif action == "add":
            try:
                service.holiday_add(day=form.cleaned_data["date"], name=form.cleaned_data["name"])
            except ValidationError as exc:
                form_errors(form, exc)
                status = 400
            else:
                messages.success(request, _("Holiday added; the open deadlines are being recomputed."))
                return _back(form.cleaned_data["date"].year)
        elif Holiday.objects.filter(date=form.cleaned_data["date"], active=True).exists():
            form.add_error("date", _("That day is already a public holiday."))
            status = 400
        else:
            day = form.cleaned_data["date"]
            context["preview"] = ("add", day, holiday_whatif(day=day, kind=HolidayKind.OTHER, closing=True))
    elif action in ("preview-off", "off", "preview-on", "on"):
        holiday = Holiday.objects.filter(pk=int_or_none(request.POST.get("holiday"))).first()
        if holiday is None:
            messages.error(request, _("That holiday no longer exists."))
            return _back(year)
        closing = action.endswith("on")
        if action in ("off", "on"):
            service.holiday_switch(holiday=holiday, active=closing)
            messages.success(request, _("Saved; the open deadlines are being recomputed as previewed."))
            return _back(holiday.date.year)
        context["preview"] = (
            action.removeprefix("preview-"),
            holiday.date,
            holiday_whatif(day=holiday.date, kind=holiday.kind, closing=closing),
        )
        context["switching"] = holiday
    elif action:
        status = 400
    context["holidays"] = Holiday.objects.filter(date__year=year)
    context["years"] = [y for y in (year - 1, year + 1) if y in service.HOLIDAY_YEARS]
    return render(request, "managers/holidays.html", context, status=status)


def _back(year: int):
    return redirect(f"{reverse('manager:holidays')}?year={year}")


def _year(value) -> int:
    """The year asked for, within the years holidays are kept for; else this year."""
    year = int_or_none(value)
    return year if year in service.HOLIDAY_YEARS else timezone.localdate().year
