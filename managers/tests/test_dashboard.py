"""The breach dashboard: published figures, weekly trend and "now", against hand-computed values."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Role
from accounts.tests.factories import UserFactory
from managers import dashboard as board
from managers import rollup
from sla import services
from sla.models import Clock, ComplianceDay, ComplianceOrganisationDay, PublishedFigure, ServiceLevel
from sla.tests.factories import organisation_on_level
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def register(organisation, *, at, kind="incident", impact=1, urgency=1, title="Storing"):
    return ticket_create(
        organisation=organisation,
        by=None,
        kind=kind,
        title=title,
        impact=impact,
        urgency=urgency,
        registered_at=at,
    )


def stop(ticket, kind, at):
    services.sla_clock_stop(ticket=ticket, kind=kind, by=None, reason="test", at=at)


@pytest.fixture
def week_of_tickets():
    """Five tickets, all stopped in the week of Monday 23 November 2026 (no holidays).

    Extended works 08:00-17:00 (a working day is 9 h), Default 10:00-16:00 (6 h)."""
    extended, default = organisation_on_level("extended"), organisation_on_level("default")
    # T1 Extended High: response 1.5 h, resolution Mon 09-17 + Tue 08-09 = 9 h (exactly 1 day)
    t1 = register(extended, at=ams(2026, 11, 23, 9, 0), title="T1")
    stop(t1, "response", ams(2026, 11, 23, 10, 30))
    stop(t1, "resolution", ams(2026, 11, 24, 9, 0))
    # T2 Extended High, waits on the customer Mon 10:00 - Wed 10:00: response 1 h + 3 h = 4 h
    # (breaches its 2 h target, within the published 4 h); resolution 1 + 7 + 4 = 12 h
    t2 = register(extended, at=ams(2026, 11, 23, 9, 0), title="T2")
    services.sla_clocks_pause(ticket=t2, by=None, reason="Question", at=ams(2026, 11, 23, 10, 0))
    services.sla_clocks_resume(ticket=t2, by=None, reason="Answer", at=ams(2026, 11, 25, 10, 0))
    stop(t2, "response", ams(2026, 11, 25, 13, 0))
    stop(t2, "resolution", ams(2026, 11, 26, 12, 0))
    # T3 Extended Normal: response Mon 16-17 + Tue 08-16:30 = 9.5 h (over 1 working day and
    # over its 4 h target); resolution 1 + 9 + 9 + 9 + 2 = 30 h
    t3 = register(extended, at=ams(2026, 11, 23, 16, 0), impact=2, urgency=2, title="T3")
    stop(t3, "response", ams(2026, 11, 24, 16, 30))
    stop(t3, "resolution", ams(2026, 11, 27, 10, 0))
    # T4 Default Low information request: response 5 h; resolution best effort, 6 + 1 = 7 h
    t4 = register(
        default, at=ams(2026, 11, 23, 10, 0), kind="information_request", impact=3, urgency=3, title="T4"
    )
    stop(t4, "response", ams(2026, 11, 23, 15, 0))
    stop(t4, "resolution", ams(2026, 11, 24, 11, 0))
    # T5 Default Normal incident: response 2 h; resolution best effort, 4 h
    t5 = register(default, at=ams(2026, 11, 23, 10, 0), impact=2, urgency=2, title="T5")
    stop(t5, "response", ams(2026, 11, 23, 12, 0))
    stop(t5, "resolution", ams(2026, 11, 23, 14, 0))
    # outside the period: stopped the week after
    t6 = register(extended, at=ams(2026, 11, 30, 9, 0), title="T6")
    stop(t6, "response", ams(2026, 11, 30, 15, 0))
    return {"extended": extended, "default": default, "tickets": [t1, t2, t3, t4, t5, t6]}


def measured(**filters):
    start, end = board.DashboardFilters(date(2026, 11, 23), date(2026, 11, 27)).period_bounds()
    return {
        (r.figure.clock, r.figure.high_priority, r.figure.label): (r.within, r.total, r.actual_percent)
        for r in board.published_figures_measure(start=start, end=end, **filters)
    }


def test_published_figures_equal_the_hand_computed_shares_with_pauses_and_best_effort(week_of_tickets):
    """Document 001 §1.2.3: "70% volgende werkdag, 95% binnen 5 werkdagen, 100% binnen 3
    maanden" - working days, each by the close of the day, pauses excluded."""
    figures = measured()
    assert figures[("response", True, "4 hours (during working days)")] == (2, 2, Decimal("100.0"))
    # T3 registered Monday 16:00, answered Tuesday 16:30: by the close of the next working day
    assert figures[("response", False, "1 working day")] == (3, 3, Decimal("100.0"))
    # T2 counted 12 h without its pause: Monday 09:00 + 12 h is Tuesday 12:00, the next day
    assert figures[("resolution", True, "70% next working day")] == (2, 2, Decimal("100.0"))
    assert figures[("resolution", True, "98% within 2 working days")] == (2, 2, Decimal("100.0"))
    assert figures[("resolution", True, "100% within 3 months")] == (2, 2, Decimal("100.0"))
    # below High: T3 Monday -> Friday (4 working days), T4 Monday -> Tuesday 11:00, T5 Monday
    assert figures[("resolution", False, "70% next working day")] == (2, 3, Decimal("66.7"))
    assert figures[("resolution", False, "95% within 5 working days")] == (3, 3, Decimal("100.0"))


def test_published_figures_follow_the_level_filter(week_of_tickets):
    figures = measured(level_id=week_of_tickets["default"].contracts.get().service_level_id)
    assert figures[("response", False, "1 working day")] == (2, 2, Decimal("100.0"))
    assert figures[("resolution", False, "70% next working day")] == (2, 2, Decimal("100.0"))
    assert figures[("response", True, "4 hours (during working days)")] == (0, 0, None)


def test_published_figures_are_data_a_manager_can_edit(week_of_tickets):
    PublishedFigure.objects.filter(clock="resolution", high_priority=False, within_amount=1).update(
        within_amount=Decimal("4")
    )
    figures = measured()
    assert figures[("resolution", False, "70% next working day")] == (3, 3, Decimal("100.0"))  # T3: 4 days


def test_weekly_trend_counts_met_clocks_per_level_and_priority_without_best_effort(week_of_tickets):
    trend = board.compliance_trend(today=date(2026, 11, 28))
    assert trend.weeks[-1] == date(2026, 11, 23) and len(trend.weeks) == 26
    by_label = {line.label: line for line in trend.series["response:level"]}
    assert (by_label["Extended"].met[-1], by_label["Extended"].total[-1]) == (1, 3)  # T1 met; T2, T3 late
    assert (by_label["Default"].met[-1], by_label["Default"].total[-1]) == (2, 2)
    by_priority = {line.key: line for line in trend.series["response:priority"]}
    assert by_priority["priority:1"].percent[-1] == 50.0
    assert by_priority["priority:2"].percent[-1] == 50.0
    assert by_priority["priority:3"].percent[-1] == 100.0
    # Default resolution is best effort: only the three Extended resolutions are in the trend
    resolution = {line.label: line for line in trend.series["resolution:level"]}
    assert set(resolution) == {"Extended"} and resolution["Extended"].total[-1] == 3


@pytest.fixture
def open_trouble():
    """At Monday 23 November 2026 10:45: one clock at risk, two breached (one paused)."""
    agent = UserFactory(role=Role.AGENT, full_name="Agent Anna")
    extended, default = organisation_on_level("extended"), organisation_on_level("default")
    at_risk = register(extended, at=ams(2026, 11, 23, 9, 0), title="at risk")  # due 11:00, risk 10:30
    at_risk.assignee = agent
    at_risk.save()
    register(extended, at=ams(2026, 11, 23, 8, 0), impact=2, urgency=2, title="fine")  # due 12:00
    register(default, at=ams(2026, 11, 20, 10, 0), title="late")  # High, 4 h: due Friday 14:00
    waiting = register(default, at=ams(2026, 11, 19, 10, 0), impact=2, urgency=2, title="waiting")
    services.sla_clocks_pause(ticket=waiting, by=None, reason="Question", at=ams(2026, 11, 20, 15, 0))
    return {"agent": agent, "extended": extended, "default": default}


def test_now_counts_at_risk_and_breached_open_clocks_by_dimension(open_trouble):
    summary = board.now_summary(now=ams(2026, 11, 23, 10, 45))
    assert (summary.at_risk, summary.breached) == (1, 2)
    by_priority = {row.value: (row.at_risk, row.breached) for row in summary.by["priority"]}
    assert by_priority == {1: (1, 1), 2: (0, 1)}
    by_level = {row.label: (row.at_risk, row.breached) for row in summary.by["level"]}
    assert by_level == {"Extended": (1, 0), "Default": (0, 2)}
    by_agent = {row.label: (row.at_risk, row.breached) for row in summary.by["agent"]}
    assert by_agent == {"Agent Anna": (1, 0), "Unassigned": (0, 2)}
    assert [(row.label, row.breached) for row in summary.by["kind"]] == [("Incident", 2)]


def test_a_clock_paused_after_its_recorded_at_risk_crossing_still_counts_at_risk(open_trouble):
    # given a ticket whose response clock the sweep saw at risk (10:30), then paused at 10:40
    paused = register(open_trouble["extended"], at=ams(2026, 11, 23, 9, 0), title="paused at risk")
    with time_machine.travel(ams(2026, 11, 23, 10, 31), tick=False):
        services.sla_sweep()
    services.sla_clocks_pause(ticket=paused, by=None, reason="Question", at=ams(2026, 11, 23, 10, 40))
    # then it is at risk still (its resolution clock, paused before its at-risk instant, is not)
    summary = board.now_summary(now=ams(2026, 11, 23, 10, 45))
    assert (summary.at_risk, summary.breached) == (2, 2)
    assert board.open_clocks().filter(board.at_risk_q(ams(2026, 11, 23, 10, 45)), state="paused").count() == 1


def test_next_deadlines_and_longest_waiting(open_trouble):
    deadlines = board.next_deadlines(now=ams(2026, 11, 23, 10, 45))
    assert [clock.ticket.title for clock in deadlines][:2] == ["at risk", "fine"]
    assert all(clock.due_at > ams(2026, 11, 23, 10, 45) for clock in deadlines)
    waiting = board.longest_waiting()
    assert [clock.ticket.title for clock in waiting] == ["waiting"]
    assert waiting[0].paused_since == ams(2026, 11, 20, 15, 0)


def test_one_organisations_next_deadlines_are_its_running_clocks_due_next(open_trouble):
    # given a second organisation on the same level, with a deadline sooner than the first's
    now = ams(2026, 11, 23, 10, 45)
    other = organisation_on_level("extended")
    register(other, at=ams(2026, 11, 23, 9, 30), title="other")
    for organisation in (open_trouble["extended"], open_trouble["default"], other):
        for level_id in (None, *ServiceLevel.objects.values_list("pk", flat=True)):
            expected = (
                Clock.objects.filter(state="running", due_at__gt=now, ticket__organisation=organisation)
                .filter(**({"ticket__service_level_id": level_id} if level_id else {}))
                .order_by("due_at", "pk")
            )
            found = board.next_deadlines(now=now, organisation_id=organisation.pk, level_id=level_id)
            assert [clock.pk for clock in found] == [clock.pk for clock in expected]
    # the first organisation's two tickets: four running clocks, the first three of them
    extended = open_trouble["extended"].pk
    found = board.next_deadlines(now=now, organisation_id=extended, limit=3)
    assert [clock.pk for clock in found] == [
        clock.pk for clock in board.next_deadlines(now=now, organisation_id=extended)
    ][:3]
    assert len(board.next_deadlines(now=now, organisation_id=extended)) == 4
    assert found[0].ticket.title == "at risk"


@time_machine.travel(ams(2026, 11, 23, 10, 45), tick=False)
def test_dashboard_page_links_every_number_and_keeps_its_query_count(
    open_trouble, manager_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(30) as first:
        response = manager_client.get("/manager/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="total-breached" href="/manager/tickets/?state=breached">2<' in page
    assert 'id="total-at-risk" href="/manager/tickets/?state=at_risk">1<' in page
    # twice the data, the same number of queries
    agent = open_trouble["agent"]
    for _n in range(3):
        ticket = register(organisation_on_level("extended"), at=ams(2026, 11, 23, 9, 0))
        ticket.assignee = UserFactory(role=Role.AGENT)
        ticket.save()
    assert agent
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert manager_client.get("/manager/").status_code == 200


@time_machine.travel(ams(2026, 11, 23, 10, 45), tick=False)
def test_the_ticket_list_behind_a_number_shows_those_tickets(open_trouble, manager_client):
    response = manager_client.get("/manager/tickets/?state=breached&priority=1")
    assert response.status_code == 200
    assert "late" in response.content.decode() and "waiting" not in response.content.decode()
    agent_list = manager_client.get(f"/manager/tickets/?state=at_risk&agent={open_trouble['agent'].pk}")
    assert "at risk" in agent_list.content.decode()


@time_machine.travel(ams(2026, 11, 28, 12, 0), tick=False)
def test_csv_export_holds_what_the_page_shows(week_of_tickets, manager_client):
    response = manager_client.get("/manager/dashboard.csv?start=2026-11-23&end=2026-11-27")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    figure_rows = {row[2]: row for row in rows if row[0] == "published_figure"}
    assert figure_rows["70% next working day"][6:9] == ["66.7", "2", "3"]


def test_bad_filters_are_a_form_error_not_a_500(manager_client):
    response = manager_client.get("/manager/?start=2026-12-01&end=2026-11-01&level=abc")
    assert response.status_code == 400
    assert "The period ends before it starts." in response.content.decode()
    assert manager_client.get("/manager/tickets/?figure=999999").status_code == 404
    nonsense = manager_client.get("/manager/tickets/?state=stopped&stopped_from=nonsense&page=x")
    assert nonsense.status_code == 400 and "Choose a date between" in nonsense.content.decode()


def test_the_dashboard_is_for_managers_only(agent_client):
    assert agent_client.get("/manager/").status_code == 403


def _trend_values(trend):
    return {
        group: [(line.key, line.label, line.met, line.total) for line in lines]
        for group, lines in trend.series.items()
    }


def test_the_rollup_gives_the_same_figures_and_trend_as_the_clocks(week_of_tickets):
    # given the figures counted from the clocks
    from_clocks = measured()
    trend_from_clocks = _trend_values(board.compliance_trend(today=date(2026, 11, 28)))
    # when the days are rolled up
    with time_machine.travel(ams(2026, 11, 28, 12, 0), tick=False):
        rollup.compliance_rollup_refresh()
    # then the reads give the same from the roll-up
    assert ComplianceDay.objects.filter(day=date(2026, 11, 23)).exists()
    assert rollup.rolled_until() == date(2026, 11, 28)
    assert measured() == from_clocks
    assert _trend_values(board.compliance_trend(today=date(2026, 11, 28))) == trend_from_clocks


@pytest.mark.parametrize("level", [None, "extended"])
def test_the_days_after_the_rollup_are_counted_once_for_figures_and_trend_and_match_the_clocks(
    week_of_tickets, level, django_assert_num_queries
):
    # given the figures and trend counted from the clocks alone
    level_id = ServiceLevel.objects.get(code=level).pk if level else None
    from_clocks = measured(level_id=level_id)
    trend_from_clocks = _trend_values(board.compliance_trend(today=date(2026, 11, 28), level_id=level_id))
    # when the roll-up holds Monday and Tuesday only (rolled on Wednesday 25 November)
    with time_machine.travel(ams(2026, 11, 25, 8, 0), tick=False):
        rollup.compliance_rollup_refresh()
    assert rollup.rolled_until() == date(2026, 11, 25)
    # then the days after it, counted once in the roll-up's shape, give the same numbers
    with django_assert_num_queries(3):  # roll-up state, figures, the one count of the clocks
        recent = board.unrolled(level_id=level_id)
    assert {day.day for day in recent.days} <= {
        date(2026, 11, 25),
        date(2026, 11, 26),
        date(2026, 11, 27),
        date(2026, 11, 30),
    }
    assert recent.days
    assert measured(level_id=level_id, recent=recent) == from_clocks
    trend = board.compliance_trend(today=date(2026, 11, 28), level_id=level_id, recent=recent)
    assert _trend_values(trend) == trend_from_clocks
    # and without the shared count, each reads the same by itself
    assert measured(level_id=level_id) == from_clocks


def test_the_rollup_recounts_days_whose_clocks_changed(week_of_tickets):
    t3, t5 = week_of_tickets["tickets"][2], week_of_tickets["tickets"][4]
    with time_machine.travel(ams(2026, 11, 28, 12, 0), tick=False):
        rollup.compliance_rollup_refresh()
    with time_machine.travel(ams(2026, 12, 2, 12, 0), tick=False):
        # T5 reopened on Tuesday and resolved again next week: it leaves the period
        services.sla_clock_restart(
            ticket=t5, kind="resolution", by=None, reason="reopened", at=ams(2026, 11, 24, 10, 0)
        )
        stop(t5, "resolution", ams(2026, 12, 1, 10, 0))
        # T3 becomes High: its response (9.5 h) moves to the High figure
        t3.priority = 1
        t3.save()
        services.sla_clocks_recompute(ticket=t3)
        rollup.compliance_rollup_refresh()
    figures = measured()
    assert figures[("resolution", False, "70% next working day")] == (1, 1, Decimal("100.0"))  # T4 only
    assert figures[("response", True, "4 hours (during working days)")] == (2, 3, Decimal("66.7"))
    assert figures[("response", False, "1 working day")] == (2, 2, Decimal("100.0"))


def test_an_edited_figure_is_counted_from_the_clocks_until_the_rebuild(week_of_tickets):
    with time_machine.travel(ams(2026, 11, 28, 12, 0), tick=False):
        rollup.compliance_rollup_refresh()
    PublishedFigure.objects.filter(clock="resolution", high_priority=False, within_amount=1).update(
        within_amount=Decimal("4")
    )
    assert measured()[("resolution", False, "70% next working day")] == (3, 3, Decimal("100.0"))


def test_a_manager_edits_the_published_figures_as_data(manager_client):
    figures = list(PublishedFigure.objects.all())
    data = {"form-TOTAL_FORMS": len(figures) + 1, "form-INITIAL_FORMS": len(figures)}
    for n, figure in enumerate(figures):
        data.update(
            {
                f"form-{n}-id": figure.pk,
                f"form-{n}-clock": figure.clock,
                f"form-{n}-high_priority": "on" if figure.high_priority else "",
                f"form-{n}-within_amount": figure.within_amount,
                f"form-{n}-within_unit": figure.within_unit,
                f"form-{n}-share_percent": figure.share_percent,
                f"form-{n}-label": figure.label,
                f"form-{n}-position": figure.position,
            }
        )
    data[f"form-{len(figures)}-position"] = "0"  # the empty extra row, as the browser sends it
    data["form-1-share_percent"] = "90"
    response = manager_client.post("/manager/figures/", data)
    assert response.status_code == 302
    assert PublishedFigure.objects.get(pk=figures[1].pk).share_percent == Decimal("90")
    data["form-1-share_percent"] = "120"  # more than 100%: a form error
    response = manager_client.post("/manager/figures/", data)
    assert response.status_code == 400


# --- working days, not hours (§1.2.3) ---------------------------------------------------------


def _resolution_figures(organisation, *, start, end):
    bounds = board.DashboardFilters(start, end).period_bounds()
    return {
        (r.figure.high_priority, r.figure.label): (r.within, r.total)
        for r in board.published_figures_measure(
            start=bounds[0], end=bounds[1], organisation_id=organisation.pk
        )
        if r.figure.clock == "resolution"
    }


def test_resolved_by_the_close_of_the_next_working_day_is_next_working_day():
    """Document 001 §1.2.3: "70% volgende werkdag": a Default ticket registered Monday 15:00 and
    resolved Tuesday 15:30 was resolved on the next working day (6.5 business hours, more than
    one 6-hour business day, but before Tuesday's close)."""
    default = organisation_on_level("default")
    ticket = register(default, at=ams(2026, 11, 23, 15, 0), impact=2, urgency=2)
    stop(ticket, "resolution", ams(2026, 11, 24, 15, 30))
    figures = _resolution_figures(default, start=date(2026, 11, 23), end=date(2026, 11, 27))
    assert figures[(False, "70% next working day")] == (1, 1)


def test_working_days_count_from_the_next_opening_skip_weekends_and_holidays_and_pauses():
    """Document 001 §1.2.3 "95% binnen 5 werkdagen": a ticket registered Friday evening starts on
    Monday; Friday 25 December 2026 is Christmas; a week waiting on the customer does not count."""
    default = organisation_on_level("default")
    # registered Friday 18 December 19:00 (closed): its first working day is Monday 21st
    late = register(default, at=ams(2026, 12, 18, 19, 0), impact=2, urgency=2, title="late")
    stop(late, "resolution", ams(2026, 12, 22, 16, 0))  # Tuesday's close: the next working day
    # registered Wednesday 23rd 10:00; Thursday 24th, then Christmas (25th), the weekend, the 28th
    holiday = register(default, at=ams(2026, 12, 23, 10, 0), impact=2, urgency=2, title="holiday")
    stop(holiday, "resolution", ams(2026, 12, 28, 12, 0))  # Monday 28th: the 2nd working day after
    # registered Monday 30 November 10:00, waiting on the customer Tuesday 10:00 - Monday 10:00
    paused = register(default, at=ams(2026, 11, 30, 10, 0), impact=2, urgency=2, title="paused")
    services.sla_clocks_pause(ticket=paused, by=None, reason="Question", at=ams(2026, 12, 1, 10, 0))
    services.sla_clocks_resume(ticket=paused, by=None, reason="Answer", at=ams(2026, 12, 7, 10, 0))
    stop(paused, "resolution", ams(2026, 12, 7, 15, 0))  # 6 + 5 h counted: Tuesday, as if unpaused
    measured_days = {t.title: t.clocks.get(kind="resolution").working_days for t in (late, holiday, paused)}
    assert measured_days == {"late": 1, "holiday": 2, "paused": 1}
    figures = _resolution_figures(default, start=date(2026, 11, 30), end=date(2026, 12, 31))
    assert figures[(False, "70% next working day")] == (2, 3)
    assert figures[(False, "95% within 5 working days")] == (3, 3)


def test_within_three_months_is_the_same_time_three_calendar_months_later():
    """Document 001 §1.2.3 "100% binnen 3 maanden": three calendar months, not 65 working days."""
    figure = PublishedFigure.objects.get(clock="resolution", high_priority=False, label__endswith="3 months")
    assert (figure.within_unit, figure.within_amount) == ("months", Decimal("3"))
    default = organisation_on_level("default")
    on_time = register(default, at=ams(2026, 1, 5, 10, 0), impact=2, urgency=2, title="on time")
    stop(on_time, "resolution", ams(2026, 4, 2, 16, 0))  # before Sunday 5 April 10:00
    # resolved Tuesday 7 April (after Easter): more than three months, fewer than 65 working days
    late = register(default, at=ams(2026, 1, 5, 10, 0), impact=2, urgency=2, title="late")
    stop(late, "resolution", ams(2026, 4, 7, 11, 0))
    assert (on_time.clocks.get(kind="resolution").months, late.clocks.get(kind="resolution").months) == (3, 4)
    assert late.clocks.get(kind="resolution").working_days < 65
    figures = _resolution_figures(default, start=date(2026, 4, 1), end=date(2026, 4, 30))
    assert figures[(False, "100% within 3 months")] == (1, 2)


def _now_values(raw):
    return {key: sorted(rows, key=str) for key, rows in raw.items()}


def test_the_now_counts_in_one_pass_equal_a_grouped_count_per_dimension_in_every_scope(open_trouble):
    """The grouping-sets query (counted per ticket, read from the open-clock index) against
    the plain ORM count per dimension, for all organisations, a level, one organisation and
    both."""
    now = ams(2026, 11, 23, 10, 45)
    paused = register(open_trouble["extended"], at=ams(2026, 11, 23, 9, 0), title="paused at risk")
    with time_machine.travel(ams(2026, 11, 23, 10, 31), tick=False):
        services.sla_sweep()
    services.sla_clocks_pause(ticket=paused, by=None, reason="Question", at=ams(2026, 11, 23, 10, 40))
    levels = (None, *ServiceLevel.objects.values_list("pk", flat=True))
    organisations = (None, open_trouble["extended"].pk, open_trouble["default"].pk)
    for organisation_id in organisations:
        for level_id in levels:
            scope = {"now": now, "level_id": level_id, "organisation_id": organisation_id}
            expected = _now_values(board._now_rows_per_dimension(**scope))
            assert _now_values(board._now_rows_grouping_sets(**scope)) == expected, scope
    assert board.now_summary(now=now, organisation_id=open_trouble["extended"].pk).at_risk == 2


def test_the_now_counts_include_open_clocks_of_a_ticket_outside_the_active_statuses(open_trouble):
    """The one pass reads the active tickets' columns from their partial index; an open clock
    of any other ticket (here a resolved one whose clocks were left running) is looked up
    apart and counted all the same, in every scope."""
    from tickets.models import Ticket

    now = ams(2026, 11, 23, 10, 45)
    Ticket.objects.filter(title__in=["late", "at risk"]).update(status="resolved")
    before = board.now_summary(now=now)
    assert (before.at_risk, before.breached) == (1, 2)
    by_level = {row.label: (row.at_risk, row.breached) for row in before.by["level"]}
    assert by_level == {"Extended": (1, 0), "Default": (0, 2)}
    levels = (None, *ServiceLevel.objects.values_list("pk", flat=True))
    for organisation_id in (None, open_trouble["extended"].pk, open_trouble["default"].pk):
        for level_id in levels:
            scope = {"now": now, "level_id": level_id, "organisation_id": organisation_id}
            expected = _now_values(board._now_rows_per_dimension(**scope))
            assert _now_values(board._now_rows_grouping_sets(**scope)) == expected, scope


@pytest.mark.parametrize("rolled_on", [date(2026, 11, 28), date(2026, 11, 25)])
def test_the_rollup_per_organisation_gives_each_organisation_the_figures_and_trend_of_its_clocks(
    week_of_tickets, rolled_on
):
    # given each organisation's figures and trend counted from its clocks alone
    organisations = [week_of_tickets["extended"].pk, week_of_tickets["default"].pk]
    scopes = [
        {"organisation_id": organisation, "level_id": level}
        for organisation in organisations
        for level in (None, *ServiceLevel.objects.values_list("pk", flat=True))
    ]
    from_clocks = {
        tuple(scope.values()): (
            measured(**scope),
            _trend_values(board.compliance_trend(today=date(2026, 11, 28), **scope)),
        )
        for scope in scopes
    }
    # when the days are rolled up (the whole week, or Monday and Tuesday only)
    with time_machine.travel(ams(rolled_on.year, rolled_on.month, rolled_on.day, 8, 0), tick=False):
        rollup.compliance_rollup_refresh()
    assert ComplianceOrganisationDay.objects.filter(organisation_id__in=organisations).exists()
    # then each organisation reads the same from its roll-up (and the clocks since)
    for scope in scopes:
        recent = board.unrolled(**scope)
        assert measured(**scope, recent=recent) == from_clocks[tuple(scope.values())][0], scope
        trend = board.compliance_trend(today=date(2026, 11, 28), recent=recent, **scope)
        assert _trend_values(trend) == from_clocks[tuple(scope.values())][1], scope
    # and every row of the organisations' roll-up is the direct count of that organisation's
    # clocks, and the roll-up of all organisations their sum
    figures = list(PublishedFigure.objects.all())
    stopped = Clock.objects.filter(state="stopped", stopped_at__lt=rollup.day_start(rolled_on))
    fields = ("day", "clock", "service_level_id", "priority", "calendar_id")

    def counted(rows):
        return sorted(
            (tuple(getattr(row, name) for name in fields), row.total, row.with_target, row.met, row.within)
            for row in rows
        )

    for organisation in organisations:
        direct = rollup.count_days(stopped.filter(ticket__organisation_id=organisation), figures)
        assert direct
        assert counted(ComplianceOrganisationDay.objects.filter(organisation_id=organisation)) == counted(
            direct
        )
    assert counted(ComplianceDay.objects.all()) == counted(rollup.count_days(stopped, figures))
