"""Service reports (SPEC §1: none a year on Default, 4 on Extended).

A report is produced once, in a Celery task, and stored (HTML and PDF) with the figures it
showed, so what a customer was sent is what the portal shows later. The quarterly beat job
(``service_reports_due``) makes the reports of the period that just ended on the first working
day after it (and catches up any it missed); managers request any organisation and period
on demand and watch ``ServiceReport.progress``.

Which breaches belong to a period: the breach transitions recorded (exactly once per
clock) with their crossing instant inside it — the clocks that went past their deadline then.
"""

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.apps import apps
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationTopic, Organisation, Role, User
from managers.availability import availability_for_period, availability_target_for
from managers.rollup import day_start
from managers.satisfaction import satisfaction_for_period
from sla.models import (
    Clock,
    ClockKind,
    ClockState,
    ClockTransition,
    Contract,
    ReportStatus,
    ServiceLevelTerms,
    ServiceReport,
    TransitionKind,
)
from sla.selectors import (
    ClockExplanation,
    business_calendar,
    clock_events_ordered,
    clock_explain,
    level_terms,
)
from sla_portal.formatting import date_text, datetime_text, percent_text, time_text
from sla_portal.tasks_util import enqueue, enqueue_on_commit
from tickets.choices import Priority, TicketKind

# --- periods ---------------------------------------------------------------------------------


def period_containing(day: date, *, reports_per_year: int) -> tuple[date, date]:
    """The report period (inclusive bounds) holding ``day``: quarters for 4 a year, halves for
    2, months for 12; any count that does not divide a year falls back to quarters."""
    months = 12 // reports_per_year if reports_per_year and 12 % reports_per_year == 0 else 3
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    after = date(day.year + 1, 1, 1) if first_month + months > 12 else date(day.year, first_month + months, 1)
    return start, after - timedelta(days=1)


def previous_period(today: date, *, reports_per_year: int) -> tuple[date, date]:
    start, _end = period_containing(today, reports_per_year=reports_per_year)
    return period_containing(start - timedelta(days=1), reports_per_year=reports_per_year)


# --- the content -----------------------------------------------------------------------------


@dataclass
class BreachRow:
    reference: str
    title: str
    ticket_id: int
    clock: str
    priority: str
    crossed_at: datetime
    target_seconds: int | None
    explanation: ClockExplanation

    @property
    def counted_hours(self) -> Decimal:
        return (Decimal(self.explanation.counted_seconds) / 3600).quantize(Decimal("0.01"))

    @property
    def target_hours(self) -> Decimal | None:
        if self.target_seconds is None:
            return None
        return (Decimal(self.target_seconds) / 3600).quantize(Decimal("0.01"))


@dataclass
class ComplianceRow:
    clock: str
    total: int
    met: int
    best_effort: int

    @property
    def percent(self) -> Decimal | None:
        return (Decimal(self.met) * 100 / self.total).quantize(Decimal("0.1")) if self.total else None


@dataclass
class ReportContent:
    organisation: Organisation
    start: date
    end: date
    generated_at: datetime
    kinds: list[tuple[str, list[int], int]]  # (kind label, counts per priority, total)
    priorities: list[str]
    compliance: list[ComplianceRow]
    breaches: list[BreachRow]
    consultancy: dict | None
    availability: list[tuple[str, Decimal | None, int, int]]  # product, %, covered s, down s
    availability_target: Decimal | None = None
    notes: list[str] = field(default_factory=list)
    # {"count", "average", "met_percent", "distribution": [(score, n), ...]}
    satisfaction: dict | None = None


def consultancy_hours(*, organisation: Organisation, start: date, end: date) -> dict | None:
    """Consultancy hours used in the period and left at its end on the organisation's prepaid
    cards (SPEC §7: the "strippenkaart" of the tickets app). None when the organisation has no
    card: the report then says so."""
    try:
        card_model = apps.get_model("tickets", "HoursCard")
        booking_model = apps.get_model("tickets", "HoursBooking")
    except LookupError:  # the tickets app without hours cards
        return None
    cards = card_model.objects.filter(organisation=organisation, purchased_on__lte=end).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=end)
    )
    bought = cards.aggregate(total=Sum("hours"))["total"]
    if bought is None:
        return None
    bookings = booking_model.objects.filter(card__in=cards)
    used = bookings.filter(on__gte=start, on__lte=end).aggregate(total=Sum("hours"))["total"] or 0
    used_until_end = bookings.filter(on__lte=end).aggregate(total=Sum("hours"))["total"] or 0
    return {"used": used, "left": bought - used_until_end}


def satisfaction_in_period(*, organisation: Organisation, since: datetime, until: datetime) -> dict:
    """The customers' 1-5 ratings given in the period (issue 17), beside the share of the same
    tickets that met their SLA (``managers.satisfaction``: two indexed queries)."""
    figures = satisfaction_for_period(organisation_id=organisation.pk, start=since, end=until)
    return {
        "count": figures.total.count,
        "average": figures.total.average,
        "met_percent": figures.total.met_percent,
        "distribution": figures.distribution,
    }


def report_content(
    *, organisation: Organisation, start: date, end: date, now: datetime | None = None, progress=None
) -> ReportContent:
    now = now or timezone.now()
    progress = progress or (lambda percent: None)
    since, until = day_start(start), day_start(end + timedelta(days=1))
    # tickets registered in the period, by kind and priority (one grouped query)
    counts = {
        (row["kind"], row["priority"]): row["n"]
        for row in organisation.tickets.filter(registered_at__gte=since, registered_at__lt=until)
        .values("kind", "priority")
        .annotate(n=Count("pk"))
        .order_by()
    }
    kinds = []
    for kind, label in TicketKind.choices:
        row = [counts.get((kind, priority), 0) for priority in Priority.values]
        kinds.append((str(label), row, sum(row)))
    progress(30)
    # compliance: clocks that stopped in the period, met = within their target
    stopped = Clock.objects.filter(
        ticket__organisation=organisation,
        state=ClockState.STOPPED,
        stopped_at__gte=since,
        stopped_at__lt=until,
    )
    # every clock kind in one aggregate query
    aggregates = {}
    for kind in ClockKind.values:
        aggregates[f"total_{kind}"] = Count("pk", filter=Q(kind=kind, target_seconds__isnull=False))
        aggregates[f"met_{kind}"] = Count(
            "pk", filter=Q(kind=kind, target_seconds__isnull=False, consumed_seconds__lte=F("target_seconds"))
        )
        aggregates[f"best_effort_{kind}"] = Count("pk", filter=Q(kind=kind, target_seconds__isnull=True))
    counted = stopped.aggregate(**aggregates)
    compliance = [
        ComplianceRow(
            str(label), counted[f"total_{kind}"], counted[f"met_{kind}"], counted[f"best_effort_{kind}"]
        )
        for kind, label in ClockKind.choices
    ]
    progress(45)
    # every breach of the period, explained from the clock's events
    transitions = (
        ClockTransition.objects.filter(
            kind=TransitionKind.BREACHED,
            crossed_at__gte=since,
            crossed_at__lt=until,
            clock__ticket__organisation=organisation,
        )
        .select_related("clock__ticket", "clock__calendar")
        .order_by("crossed_at", "pk")
        .prefetch_related(Prefetch("clock__events", queryset=clock_events_ordered()))
    )
    breaches = []
    priorities = dict(Priority.choices)
    for transition in transitions:
        clock = transition.clock
        breaches.append(
            BreachRow(
                reference=clock.ticket.reference,
                title=clock.ticket.title,
                ticket_id=clock.ticket_id,
                clock=str(ClockKind(clock.kind).label),
                priority=str(priorities[clock.ticket.priority]),
                crossed_at=transition.crossed_at,
                target_seconds=clock.target_seconds,
                explanation=clock_explain(
                    clock,
                    now=min(now, until) if clock.state != "stopped" else now,
                    events=list(clock.events.all()),
                ),
            )
        )
    progress(70)
    consultancy = consultancy_hours(organisation=organisation, start=start, end=end)
    availability = [
        (product.name, figure.percent, figure.covered_seconds, figure.down_seconds)
        for product, figure in availability_for_period(
            start=since, end=until, organisation_id=organisation.pk, now=now
        )
    ]
    progress(85)
    return ReportContent(
        organisation=organisation,
        start=start,
        end=end,
        generated_at=now,
        kinds=kinds,
        priorities=[str(label) for label in Priority.labels],
        compliance=compliance,
        breaches=breaches,
        consultancy=consultancy,
        availability=availability,
        availability_target=availability_target_for(year=end.year),
        satisfaction=satisfaction_in_period(organisation=organisation, since=since, until=until),
    )


# --- rendering ---------------------------------------------------------------------------------


def report_html(content: ReportContent) -> str:
    return render_to_string("managers/report_body.html", {"report": content})


def report_pdf(content: ReportContent) -> bytes:
    """The same content as the HTML, laid out with ReportLab (pure Python: no system libraries)."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        title=_("Service report"),
        author="SLA Portal",
    )
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    story = [
        Paragraph(
            escape(_("Service report %(organisation)s") % {"organisation": content.organisation}),
            styles["Title"],
        ),
        Paragraph(escape(f"{date_text(content.start)} - {date_text(content.end)}"), styles["Normal"]),
        Spacer(1, 12),
        Paragraph(escape(_("Tickets by kind and priority")), styles["Heading2"]),
    ]
    story.append(
        Table(
            [[_("Kind"), *content.priorities, _("Total")]]
            + [[label, *row, total] for label, row, total in content.kinds],
            style=grid,
        )
    )
    story += [Spacer(1, 12), Paragraph(escape(_("Compliance")), styles["Heading2"])]
    story.append(
        Table(
            [[_("Clock"), _("With a target"), _("Met"), "%", _("Best effort (measured)")]]
            + [
                [
                    row.clock,
                    row.total,
                    row.met,
                    percent_text(row.percent),
                    row.best_effort,
                ]
                for row in content.compliance
            ],
            style=grid,
        )
    )
    story += [Spacer(1, 12), Paragraph(escape(_("Breaches")), styles["Heading2"])]
    if not content.breaches:
        story.append(Paragraph(escape(_("No deadline was missed in this period.")), styles["Normal"]))
    for breach in content.breaches:
        story.append(
            Paragraph(
                escape(
                    f"{breach.reference} {breach.title} — {breach.clock}, {breach.priority}: "
                    + _("deadline passed %(at)s; %(counted)s business hours counted against %(target)s")
                    % {
                        "at": datetime_text(breach.crossed_at),
                        "counted": breach.counted_hours,
                        "target": breach.target_hours,
                    }
                ),
                styles["BodyText"],
            )
        )
        lines = []
        for segment in breach.explanation.segments:
            for interval in segment.explanation.intervals:
                lines.append(
                    _("counted %(start)s - %(end)s")
                    % {"start": datetime_text(interval.start), "end": time_text(interval.end)}
                )
            for skipped in segment.explanation.skipped_dates:
                lines.append(_("closed %(date)s (holiday or closure)") % {"date": date_text(skipped)})
        for pause in breach.explanation.pauses:
            end = datetime_text(pause.end) if pause.end else _("still paused")
            lines.append(
                _("paused %(start)s - %(end)s: %(reason)s")
                % {
                    "start": datetime_text(pause.start),
                    "end": end,
                    "reason": pause.reason,
                }
            )
        story.append(Paragraph(escape("; ".join(lines)), small))
    story += [Spacer(1, 12), Paragraph(escape(_("Consultancy hours")), styles["Heading2"])]
    if content.consultancy is None:
        story.append(Paragraph(escape(_("Not available.")), styles["Normal"]))
    else:
        story.append(
            Paragraph(
                escape(_("Used in this period: %(used)s; left on the card: %(left)s") % content.consultancy),
                styles["Normal"],
            )
        )
    story += [Spacer(1, 12), Paragraph(escape(_("Availability")), styles["Heading2"])]
    story.append(
        Table(
            [[_("Product"), _("Availability"), _("Target")]]
            + [
                [
                    name,
                    percent_text(percent, 2),
                    percent_text(content.availability_target or None, 2),
                ]
                for name, percent, _covered, _down in content.availability
            ],
            style=grid,
        )
    )
    if content.satisfaction is not None:
        story += [
            Spacer(1, 12),
            Paragraph(escape(_("Customer satisfaction in the period")), styles["Heading2"]),
        ]
        story.append(Paragraph(escape(_satisfaction_line(content.satisfaction)), styles["Normal"]))
        if content.satisfaction["count"]:
            story.append(
                Table(
                    [[_("Score"), _("Number")]]
                    + [[str(score), str(n)] for score, n in content.satisfaction["distribution"]],
                    style=grid,
                )
            )
    doc.build(story)
    return buffer.getvalue()


def _satisfaction_line(satisfaction: dict) -> str:
    if not satisfaction["count"]:
        return _("No ticket was rated in this period.")
    return _(
        "%(count)d rating(s), average %(average)s out of 5; SLA met on %(met)s%% of the rated tickets."
    ) % {
        "count": satisfaction["count"],
        "average": satisfaction["average"],
        "met": satisfaction["met_percent"],
    }


# --- services ---------------------------------------------------------------------------------


@transaction.atomic
def service_report_request(
    *, organisation: Organisation, start: date, end: date, by: User | None
) -> ServiceReport:
    """Ask for a report (again): it is (re)queued and produced by a Celery task."""
    from managers.tasks import service_report_generate_task

    if end < start:
        from django.core.exceptions import ValidationError

        raise ValidationError(_("The period ends before it starts."))
    report, _created = ServiceReport.objects.select_for_update().get_or_create(
        organisation=organisation, period_start=start, period_end=end, defaults={"requested_by": by}
    )
    report.status, report.progress, report.error, report.requested_by = ReportStatus.QUEUED, 0, "", by
    report.queued_at = timezone.now()
    report.save(update_fields=["status", "progress", "error", "requested_by", "queued_at"])
    enqueue_on_commit(service_report_generate_task, report_id=report.pk)  # lost: the beat's catch-up
    return report


def _progress(report_id: int, percent: int, status: str = ReportStatus.RUNNING) -> None:
    # its own short transaction, so the status page sees it while the report is being made
    ServiceReport.objects.filter(pk=report_id).update(progress=percent, status=status)


def service_report_generate(*, report_id: int, now: datetime | None = None) -> ServiceReport:
    """Produce a queued report: content, HTML, PDF, then e-mail the coordinators (outbox)."""
    report = ServiceReport.objects.select_related("organisation").get(pk=report_id)
    if report.status == ReportStatus.DONE:
        return report  # a redelivered task: done already
    _progress(report.pk, 5)
    try:
        with translation.override("nl"):  # the SLA and its customers are Dutch
            content = report_content(
                organisation=report.organisation,
                start=report.period_start,
                end=report.period_end,
                now=now,
                progress=lambda percent: _progress(report.pk, percent),
            )
            html = report_html(content)
            pdf = report_pdf(content)
    except Exception as exc:
        ServiceReport.objects.filter(pk=report.pk).update(status=ReportStatus.FAILED, error=str(exc)[:500])
        raise
    with transaction.atomic():
        report = ServiceReport.objects.select_for_update().get(pk=report.pk)
        if report.status == ReportStatus.DONE:
            return report  # made meanwhile by a second enqueue (service_reports_catch_up_task): mailed once
        report.html, report.pdf = html, pdf
        report.status, report.progress, report.finished_at = ReportStatus.DONE, 100, timezone.now()
        report.save(update_fields=["html", "pdf", "status", "progress", "finished_at"])
        _report_mail(report)
    return report


def _report_mail(report: ServiceReport) -> None:
    from django.conf import settings

    if not report.mail_coordinators:
        return  # an older report caught up by the beat job: listed in the portal, not mailed

    from accounts.tasks import notification_deliver_pending_task

    coordinators = User.objects.filter(
        organisation=report.organisation, role=Role.COORDINATOR, is_active=True
    )
    url = settings.SITE_URL.rstrip("/") + reverse("service:report_detail", args=[report.pk])
    rows = []
    for user in coordinators:
        with translation.override(user.language):
            rows.append(
                Notification(
                    recipient=user,
                    topic=NotificationTopic.NEWS,
                    subject=_("Service report %(start)s - %(end)s")
                    % {"start": report.period_start, "end": report.period_end},
                    body=_("Your service report for %(start)s - %(end)s is ready: %(url)s (PDF: %(url)spdf/)")
                    % {"start": report.period_start, "end": report.period_end, "url": url},
                )
            )
    Notification.objects.bulk_create(rows)
    report.emailed_at = timezone.now()
    report.save(update_fields=["emailed_at"])
    enqueue_on_commit(notification_deliver_pending_task)  # caught up by the "notifications" beat


# A queued report normally starts within seconds; one queued longer was not enqueued.
REQUEUE_AFTER = timedelta(minutes=10)


def service_reports_requeue(*, now: datetime | None = None) -> list[int]:
    """Enqueue again every report queued more than ``REQUEUE_AFTER`` ago (its enqueue failed:
    the broker was down); the ids enqueued. Generating twice mails once
    (``service_report_generate``)."""
    from managers.tasks import service_report_generate_task

    now = now or timezone.now()
    stale = list(
        ServiceReport.objects.filter(status=ReportStatus.QUEUED)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER))
        .values_list("pk", flat=True)
    )
    requeued = []
    for report_id in stale:
        if enqueue(service_report_generate_task, report_id=report_id):
            ServiceReport.objects.filter(pk=report_id, status=ReportStatus.QUEUED).update(queued_at=now)
            requeued.append(report_id)
    return requeued


def periods_ended(
    *, first_day: date, last_day: date, today: date, reports_per_year: int
) -> list[tuple[date, date]]:
    """The report periods holding a day from ``first_day`` to ``last_day`` that ended before
    ``today``, oldest first."""
    periods = []
    start, end = period_containing(first_day, reports_per_year=reports_per_year)
    while start <= last_day and end < today:
        periods.append((start, end))
        start, end = period_containing(end + timedelta(days=1), reports_per_year=reports_per_year)
    return periods


def service_reports_due(*, today: date | None = None) -> list[ServiceReport]:
    """The beat job (every morning): on a working day, queue each report an organisation's
    contracts promise for a period that has ended and has no report yet - the quarter that
    just ended and, on the first run, the missing ones back to the contract's start.

    Only the newest report of an organisation is mailed to its coordinators; the older ones it
    catches up are listed in the portal (a first run would otherwise mail a year of reports at
    once). Running twice, or twice at the same time, queues each report once: a report that
    exists is never queued again here (``ServiceReport`` is unique per period)."""
    today = today or timezone.localdate()
    contracts = Contract.objects.filter(valid_from__lt=today).select_related(
        "service_level__calendar", "organisation"
    )
    existing = set(ServiceReport.objects.values_list("organisation_id", "period_start", "period_end"))
    terms_of: dict[tuple[int, date], ServiceLevelTerms | None] = {}

    def terms_on(level, day: date) -> ServiceLevelTerms | None:
        if (level.pk, day) not in terms_of:  # the version in force on that day says how many a year
            terms_of[level.pk, day] = level_terms(service_level=level, on=day)
        return terms_of[level.pk, day]

    due: dict[int, list[tuple[date, date]]] = {}
    for contract in contracts:
        level = contract.service_level
        terms_today = terms_on(level, today)
        if terms_today is None or not terms_today.reports_per_year:
            continue
        if not business_calendar(level.calendar).is_working_day(today):
            continue  # "the first working days after the quarter"
        for start, end in periods_ended(
            first_day=contract.valid_from,
            last_day=contract.valid_until or today,
            today=today,
            reports_per_year=terms_today.reports_per_year,
        ):
            terms = terms_on(level, end)
            if terms is None or not terms.reports_per_year:
                continue
            if (contract.organisation_id, start, end) not in existing:
                existing.add((contract.organisation_id, start, end))
                due.setdefault(contract.organisation_id, []).append((start, end))
    queued = []
    for organisation_id, periods in due.items():
        newest = max(periods)
        for start, end in sorted(periods):
            report = _service_report_queue_new(
                organisation_id=organisation_id, start=start, end=end, mail=(start, end) == newest
            )
            if report is not None:
                queued.append(report)
    return queued


@transaction.atomic
def _service_report_queue_new(
    *, organisation_id: int, start: date, end: date, mail: bool
) -> ServiceReport | None:
    """Queue a report the beat job found missing, unless another run made it meanwhile."""
    from managers.tasks import service_report_generate_task

    report, created = ServiceReport.objects.get_or_create(
        organisation_id=organisation_id,
        period_start=start,
        period_end=end,
        defaults={"queued_at": timezone.now(), "mail_coordinators": mail},
    )
    if not created:
        return None
    enqueue_on_commit(service_report_generate_task, report_id=report.pk)
    return report
