"""Calendars for managers (issue 15): weekly opening hours and closure days, each change
previewed on the open clocks (``sla.whatif``) before it is saved; saving recomputes them."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import manager_required
from managers.sla_setup_forms import ClosureDayForm, OpeningHoursForm
from managers.views import form_errors, int_or_none
from sla import calendar_edits as service
from sla.models import Calendar, ClosureDay
from sla.whatif import calendar_whatif

# Past closure days no longer move a deadline that is still open; the page lists the recent ones.
CLOSURE_DAYS_SHOWN = 100


@manager_required
def calendar_detail(request, pk: int):
    """Hours, closure days and the preview of a change. Each form posts ``action``:
    ``preview-hours`` / ``save-hours``, ``preview-closure`` / ``save-closure``,
    ``preview-remove`` / ``remove`` (with ``closure``). Save buttons show after a preview."""
    calendar = get_object_or_404(Calendar, pk=pk)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    weekly = service.weekly_hours_of(calendar)
    hours_form = OpeningHoursForm(request.POST if action.endswith("-hours") else None, weekly=weekly)
    closure_form = ClosureDayForm(request.POST if action.endswith("-closure") else None)
    context = {"calendar": calendar, "hours_form": hours_form, "closure_form": closure_form, "preview": None}
    status = 200
    if action in ("preview-hours", "save-hours"):
        if not hours_form.is_valid():
            status = 400
        elif action == "save-hours":
            return _save(
                request,
                calendar,
                service.calendar_hours_save,
                hours_form,
                weekly=hours_form.cleaned_data["weekly"],
            )
        else:
            context["preview"] = (
                "hours",
                calendar_whatif(calendar, weekly_hours=hours_form.cleaned_data["weekly"]),
            )
    elif action in ("preview-closure", "save-closure"):
        if not closure_form.is_valid():
            status = 400
        elif ClosureDay.objects.filter(calendar=calendar, date=closure_form.cleaned_data["date"]).exists():
            closure_form.add_error("date", _("This calendar is already closed on that day."))
            status = 400
        elif action == "save-closure":
            return _save(
                request, calendar, service.closure_day_add, closure_form, **_closure_args(closure_form)
            )
        else:
            context["preview"] = (
                "closure",
                calendar_whatif(calendar, closed_add=[closure_form.cleaned_data["date"]]),
            )
    elif action in ("preview-remove", "remove"):
        closure = ClosureDay.objects.filter(
            calendar=calendar, pk=int_or_none(request.POST.get("closure"))
        ).first()
        if closure is None:
            messages.error(request, _("That closure day no longer exists."))
            return redirect("manager:calendar", pk=calendar.pk)
        if action == "remove":
            service.closure_day_remove(closure=closure)
            messages.success(request, _("Closure day removed; the open deadlines are being recomputed."))
            return redirect("manager:calendar", pk=calendar.pk)
        context["preview"] = ("remove", calendar_whatif(calendar, closed_remove=[closure.date]))
        context["removing"] = closure
    elif action:
        status = 400
    context["weekly"] = sorted(weekly.items())
    context["closure_days"] = ClosureDay.objects.filter(
        calendar=calendar, date__gte=timezone.localdate().replace(month=1, day=1)
    ).order_by("date")[:CLOSURE_DAYS_SHOWN]
    return render(request, "managers/calendar_detail.html", context, status=status)


def _closure_args(form) -> dict:
    return {"day": form.cleaned_data["date"], "reason": form.cleaned_data["reason"]}


def _save(request, calendar, save, form, **kwargs):
    try:
        save(calendar=calendar, **kwargs)
    except ValidationError as exc:
        form_errors(form, exc)
        messages.error(request, " ".join(form.non_field_errors()) or _("The change was not saved."))
        return redirect("manager:calendar", pk=calendar.pk)
    messages.success(request, _("Saved; the open deadlines are being recomputed as previewed."))
    return redirect("manager:calendar", pk=calendar.pk)
