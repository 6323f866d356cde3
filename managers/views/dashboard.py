"""The support managers' breach dashboard, its CSV export and the ticket lists behind its numbers."""

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import manager_required
from managers import dashboard as board
from managers.csv_export import csv_writer
from managers.forms import DashboardFilterForm, PeriodForm, PublishedFigureFormSet
from managers.satisfaction import satisfaction_summary
from managers.tasks import compliance_rollup_rebuild_task
from managers.views import int_or_none
from sla.models import Clock, ClockKind, ClockState, PublishedFigure
from sla_portal.forms import EARLIEST_DATE, LATEST_DATE, date_in_range
from sla_portal.tasks_util import enqueue_on_commit
from tickets.choices import Priority, TicketKind

PAGE_SIZE = 50


def tickets_url(**params) -> str:
    query = {key: value for key, value in params.items() if value not in (None, "")}
    return reverse("manager:tickets") + "?" + urlencode(query)


def _filters(request) -> tuple[DashboardFilterForm, board.DashboardFilters]:
    start, end = board.default_period()
    data = {"start": start.isoformat(), "end": end.isoformat(), **request.GET.dict()}
    form = DashboardFilterForm(data)
    if form.is_valid():
        filters = board.DashboardFilters(
            form.cleaned_data["start"],
            form.cleaned_data["end"],
            getattr(form.cleaned_data["level"], "pk", None),
            getattr(form.cleaned_data["organisation"], "pk", None),
        )
    else:
        filters = board.DashboardFilters(start, end)
    return form, filters


def _dashboard_data(filters: board.DashboardFilters) -> dict:
    now = timezone.now()
    scope = {"level_id": filters.level_id, "organisation_id": filters.organisation_id}
    start, end = filters.period_bounds()
    summary = board.now_summary(now=now, **scope)
    base = {"level": filters.level_id, "organisation": filters.organisation_id}
    for key, rows in summary.by.items():
        for row in rows:
            # each dimension's key is also the ticket list's filter parameter
            row.at_risk_url = tickets_url(state="at_risk", **{**base, key: row.value})
            row.breached_url = tickets_url(state="breached", **{**base, key: row.value})
    # the clocks stopped since the roll-up (today), counted once for the figures and the trend
    recent = board.unrolled(**scope)
    figures = board.published_figures_measure(start=start, end=end, recent=recent, **scope)
    for result in figures:
        period = {"stopped_from": filters.start.isoformat(), "stopped_to": filters.end.isoformat()}
        band = "high" if result.figure.high_priority else "below"
        result.all_url = tickets_url(state="stopped", clock=result.figure.clock, band=band, **period, **base)
        result.missed_url = tickets_url(figure=result.figure.pk, **period, **base)
    return {
        "now": now,
        "summary": summary,
        "figures": figures,
        "deadlines": board.next_deadlines(now=now, **scope),
        "waiting": board.longest_waiting(**scope),
        "waiting_count": board.waiting_count(**scope),
        "trend": board.compliance_trend(today=timezone.localdate(now), recent=recent, **scope),
        "at_risk_url": tickets_url(state="at_risk", **base),
        "breached_url": tickets_url(state="breached", **base),
        "waiting_url": tickets_url(state="waiting", **base),
        # the customers' scores of the same 26 weeks: one aggregate; the page has the rest
        "satisfaction": satisfaction_summary(today=timezone.localdate(now)),
    }


def _chart_data(trend: board.Trend, filters: board.DashboardFilters) -> dict:
    """What static/sla/dashboard.js draws; each point knows the ticket list behind it."""
    charts = {}
    for group, lines in trend.series.items():
        clock, axis = group.split(":")
        charts[group] = {
            "clock": clock,
            "axis": axis,
            "lines": [
                {
                    "label": line.label,
                    "key": line.key,
                    "percent": line.percent,
                    "met": line.met,
                    "total": line.total,
                }
                for line in lines
            ],
        }
    base = {"level": filters.level_id, "organisation": filters.organisation_id}
    return {
        "weeks": [week.isoformat() for week in trend.weeks],
        "charts": charts,
        "tickets_url": tickets_url(state="stopped", outcome="missed", **base),
    }


@manager_required
def dashboard(request):
    form, filters = _filters(request)
    context = {"form": form, "filters": filters, **_dashboard_data(filters)}
    context["chart_data"] = _chart_data(context["trend"], filters)
    context["csv_url"] = reverse("manager:dashboard_csv") + "?" + request.GET.urlencode()
    return render(request, "managers/dashboard.html", context, status=200 if form.is_valid() else 400)


@manager_required
def dashboard_csv(request):
    """What the page shows, as rows a spreadsheet opens: section, what, figures."""
    form, filters = _filters(request)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(problems, content_type="text/plain; charset=utf-8", status=400)
    data = _dashboard_data(filters)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sla-dashboard-{timezone.localdate()}.csv"'
    writer = csv_writer(response)
    writer.writerow(
        [
            "section",
            "dimension",
            "value",
            "at_risk",
            "breached",
            "target_percent",
            "actual_percent",
            "count",
            "total",
        ]
    )
    writer.writerow(["now", "all", "", data["summary"].at_risk, data["summary"].breached, "", "", "", ""])
    for key, rows in data["summary"].by.items():
        for row in rows:
            writer.writerow(["now", key, row.label, row.at_risk, row.breached, "", "", "", ""])
    for result in data["figures"]:
        figure = result.figure
        band = "high" if figure.high_priority else "below_high"
        writer.writerow(
            [
                "published_figure",
                f"{figure.clock} {band}",
                figure.label or str(figure),
                "",
                "",
                figure.share_percent,
                "" if result.actual_percent is None else result.actual_percent,
                result.within,
                result.total,
            ]
        )
    trend = data["trend"]
    for group, lines in trend.series.items():
        for line in lines:
            columns = zip(trend.weeks, line.met, line.total, line.percent, strict=True)
            for week, met, total, percent in columns:
                writer.writerow(
                    [
                        f"trend {group}",
                        line.label,
                        week.isoformat(),
                        "",
                        "",
                        "",
                        "" if percent is None else percent,
                        met,
                        total,
                    ]
                )
    return response


def _date(value) -> date | None:
    """A date parameter, or None when absent, unreadable or outside the pages' range."""
    try:
        day = date.fromisoformat(value) if value else None
        date_in_range(day)
    except (ValueError, ValidationError):
        return None
    return day


DATE_PARAMS = ("stopped_from", "stopped_to", "week")


@manager_required
def ticket_list(request):
    """The clocks (and their tickets) behind a number on the dashboard."""
    params = request.GET
    now = timezone.now()
    level, organisation = int_or_none(params.get("level")), int_or_none(params.get("organisation"))
    state = params.get("state", "any")
    error = None
    if any(params.get(name) and _date(params[name]) is None for name in DATE_PARAMS):
        error, clocks, title = (
            (
                _("Choose a date between %(first)s and %(last)s.")
                % {"first": EARLIEST_DATE, "last": LATEST_DATE}
            ),
            Clock.objects.none(),
            "",
        )
    elif params.get("figure"):
        figure = get_object_or_404(PublishedFigure, pk=int_or_none(params["figure"]) or 0)
        period = PeriodForm({"start": params.get("stopped_from"), "end": params.get("stopped_to")})
        if period.is_valid():
            start, end = board.DashboardFilters(
                period.cleaned_data["start"], period.cleaned_data["end"]
            ).period_bounds()
            clocks = board.clocks_missing_figure(figure=figure, start=start, end=end)
        else:
            error, clocks = _("Choose a valid period."), Clock.objects.none()
        title = _("Outside the published figure: %(figure)s") % {"figure": figure.label or figure}
    elif state == "waiting":
        clocks = Clock.objects.filter(state=ClockState.PAUSED, kind=ClockKind.RESOLUTION)
        title = _("Waiting on the customer")
    elif state == "stopped":
        clocks = Clock.objects.filter(state=ClockState.STOPPED)
        since, until = _date(params.get("stopped_from")), _date(params.get("stopped_to"))
        if since:
            clocks = clocks.filter(stopped_at__gte=board.DashboardFilters(since, since).period_bounds()[0])
        if until:
            clocks = clocks.filter(stopped_at__lt=board.DashboardFilters(until, until).period_bounds()[1])
        if params.get("outcome") in ("met", "missed"):
            clocks = clocks.filter(target_seconds__isnull=False)
            within = Q(consumed_seconds__lte=F("target_seconds"))
            clocks = clocks.filter(within) if params["outcome"] == "met" else clocks.exclude(within)
        title = _("Stopped clocks")
    else:
        state = state if state in ("at_risk", "breached") else "any"
        clocks = board.clocks_in_state(state, now=now)
        title = {"at_risk": _("At risk"), "breached": _("Breached")}.get(state, _("At risk or breached"))
    if level:
        clocks = clocks.filter(ticket__service_level_id=level)
    if organisation:
        clocks = clocks.filter(ticket__organisation_id=organisation)
    if int_or_none(params.get("priority")):
        clocks = clocks.filter(ticket__priority=int_or_none(params["priority"]))
    if params.get("band") in ("high", "below"):
        clocks = clocks.filter(board.priority_band_q(high=params["band"] == "high"))
    if params.get("kind") in TicketKind.values:
        clocks = clocks.filter(ticket__kind=params["kind"])
    if params.get("clock") in ClockKind.values:
        clocks = clocks.filter(kind=params["clock"])
    if params.get("agent") == "none":
        clocks = clocks.filter(ticket__assignee__isnull=True)
    elif int_or_none(params.get("agent")):
        clocks = clocks.filter(ticket__assignee_id=int_or_none(params["agent"]))
    if params.get("week"):
        week = _date(params["week"])
        if week:
            bounds = board.DashboardFilters(week, week + timedelta(days=6)).period_bounds()
            clocks = clocks.filter(stopped_at__gte=bounds[0], stopped_at__lt=bounds[1])
    clocks = clocks.select_related(
        "ticket__organisation", "ticket__assignee", "ticket__service_level"
    ).order_by("due_at", "-stopped_at", "pk")
    page = Paginator(clocks, PAGE_SIZE).get_page(request.GET.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "managers/ticket_list.html",
        {
            "page": page,
            "title": title,
            "error": error,
            "now": now,
            "query": query.urlencode(),
            "priorities": dict(Priority.choices),
        },
        status=400 if error else 200,
    )


@manager_required
def figures(request):
    """The published figures of SPEC §2 as data: editing them re-counts the roll-up."""
    formset = PublishedFigureFormSet(request.POST or None, queryset=PublishedFigure.objects.all())
    if request.method == "POST":
        if formset.is_valid():
            with transaction.atomic():
                formset.save()
                # If the broker is down, the reads count an edited figure from the clocks until
                # the nightly rebuild (managers.rollup): slower, never wrong.
                enqueue_on_commit(compliance_rollup_rebuild_task)
            messages.success(request, _("Published figures saved."))
            return redirect("manager:figures")
        return render(request, "managers/figures.html", {"formset": formset}, status=400)
    return render(request, "managers/figures.html", {"formset": formset})
