"""Clocks on tickets: start, pause, resume, stop, recompute — to the minute, from events."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Role
from accounts.tests.factories import UserFactory
from sla import selectors, services
from sla.models import Calendar, ClockEvent, ClockTransition, ClosureDay, Holiday
from sla.tests.factories import organisation_on_level
from tickets import selectors as tickets_selectors
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def register(level="extended", *, at, kind="incident", impact=1, urgency=1, organisation=None):
    organisation = organisation or organisation_on_level(level)
    return ticket_create(
        organisation=organisation,
        by=None,
        kind=kind,
        title="Kan niet inloggen",
        impact=impact,
        urgency=urgency,
        registered_at=at,
    )


def clocks(ticket):
    return {clock.kind: clock for clock in ticket.clocks.all()}


def test_registration_starts_both_clocks_with_deadlines_in_business_time():
    # Extended, High incident: 2 business hours response, 20 business days (9 h) resolution
    ticket = register(at=ams(2025, 4, 25, 16, 0))  # Friday 16:00; Saturday 26 April is King's Day
    response, resolution = clocks(ticket)["response"], clocks(ticket)["resolution"]
    assert ticket.priority == 1
    assert response.target_seconds == 2 * 3600
    assert response.due_at == ams(2025, 4, 28, 9, 0)  # 1 h on Friday, 1 h on Monday from 08:00
    assert response.at_risk_at == ams(2025, 4, 28, 8, 30)  # 75% of 2 h = 90 min
    assert resolution.target_seconds == 20 * 9 * 3600
    assert resolution.state == "running"


def test_registration_outside_hours_starts_counting_at_the_next_opening():
    ticket = register("default", at=ams(2026, 11, 21, 11, 0))  # a Saturday
    assert clocks(ticket)["response"].due_at == ams(2026, 11, 23, 14, 0)  # Monday 10:00 + 4 h


def test_deadline_landing_on_closing_time_stays_at_closing_time():
    ticket = register("default", at=ams(2026, 11, 23, 12, 0))  # Monday 12:00 + 4 h
    assert clocks(ticket)["response"].due_at == ams(2026, 11, 23, 16, 0)


def test_best_effort_clock_has_no_deadline_but_is_measured():
    ticket = register("default", at=ams(2026, 11, 23, 10, 0))  # Default incident resolution
    resolution = clocks(ticket)["resolution"]
    assert resolution.target_seconds is None and resolution.due_at is None
    explanation = selectors.clock_explain(resolution, now=ams(2026, 11, 23, 13, 0))
    assert explanation.counted_seconds == 3 * 3600
    assert explanation.remaining_seconds is None


def test_pause_and_resume_move_the_deadline_by_the_business_time_paused():
    agent = UserFactory(role=Role.AGENT)
    ticket = register(at=ams(2026, 11, 23, 9, 0))  # Monday 09:00, due 11:00
    services.sla_clocks_pause(
        ticket=ticket, by=agent, reason="Question to the customer", at=ams(2026, 11, 23, 9, 30)
    )
    paused = clocks(ticket)["response"]
    assert paused.state == "paused" and paused.due_at is None and paused.consumed_seconds == 1800
    services.sla_clocks_resume(
        ticket=ticket, by=None, reason="Customer answered", at=ams(2026, 11, 23, 16, 30)
    )  # 7 h of opening time later
    resumed = clocks(ticket)["response"]
    assert resumed.state == "running"
    assert resumed.due_at == ams(2026, 11, 24, 9, 0)  # 1.5 h left: Mon 16:30-17:00, Tue 08:00-09:00
    assert [e.action for e in ClockEvent.objects.filter(clock=resumed)] == ["start", "pause", "resume"]
    assert ClockEvent.objects.filter(clock=resumed, action="pause").get().by == agent


def test_pausing_twice_is_harmless():
    ticket = register(at=ams(2026, 11, 23, 9, 0))
    services.sla_clocks_pause(ticket=ticket, by=None, reason="q", at=ams(2026, 11, 23, 9, 30))
    assert services.sla_clocks_pause(ticket=ticket, by=None, reason="q", at=ams(2026, 11, 23, 9, 40)) == []
    assert clocks(ticket)["response"].consumed_seconds == 1800


def test_response_in_time_stops_the_clock_without_a_breach():
    ticket = register(at=ams(2026, 11, 23, 9, 0))
    services.sla_clock_stop(
        ticket=ticket, kind="response", by=None, reason="First public reply", at=ams(2026, 11, 23, 11, 0)
    )  # exactly at the deadline: met
    response = clocks(ticket)["response"]
    assert response.state == "stopped" and response.consumed_seconds == 7200
    assert not ClockTransition.objects.exists()


def test_late_response_records_the_breach_once_even_without_a_sweep():
    ticket = register(at=ams(2026, 11, 23, 9, 0))  # due 11:00
    services.sla_clock_stop(
        ticket=ticket, kind="response", by=None, reason="reply", at=ams(2026, 11, 23, 11, 1)
    )
    breach = ClockTransition.objects.get()
    assert breach.kind == "breached" and breach.crossed_at == ams(2026, 11, 23, 11, 0)  # the deadline
    services.sla_clock_stop(
        ticket=ticket, kind="response", by=None, reason="reply", at=ams(2026, 11, 23, 12, 0)
    )
    assert ClockTransition.objects.count() == 1


def test_a_breach_seen_at_the_stop_crossed_at_the_deadline_the_pauses_moved():
    ticket = register(at=ams(2026, 11, 27, 16, 0))  # Friday 16:00, 2 h: 1 h on Friday
    services.sla_clocks_pause(ticket=ticket, by=None, reason="q", at=ams(2026, 11, 27, 16, 30))
    services.sla_clocks_resume(ticket=ticket, by=None, reason="a", at=ams(2026, 11, 30, 9, 0))
    services.sla_clock_stop(ticket=ticket, kind="response", by=None, reason="r", at=ams(2026, 11, 30, 12, 0))
    # 30 minutes on Friday, 90 more from Monday 09:00
    assert ClockTransition.objects.get().crossed_at == ams(2026, 11, 30, 10, 30)


def test_priority_change_recomputes_deadlines_from_registration():
    ticket = register(at=ams(2026, 11, 23, 9, 0), impact=3, urgency=3)  # Low: 8 h
    assert clocks(ticket)["response"].due_at == ams(2026, 11, 23, 17, 0)
    ticket.priority = 1
    ticket.save()
    services.sla_clocks_recompute(ticket=ticket, at=ams(2026, 11, 23, 9, 30))
    assert clocks(ticket)["response"].due_at == ams(2026, 11, 23, 11, 0)


def test_ticket_binds_the_policy_version_in_force_at_registration():
    old = register(at=ams(2023, 2, 28, 9, 0))  # document 000: Extended High 4 h
    new = register(at=ams(2023, 3, 1, 9, 0))  # document 001: 2 h
    assert old.policy_version.document == "000" and new.policy_version.document == "001"
    assert clocks(old)["response"].target_seconds == 4 * 3600
    assert clocks(new)["response"].target_seconds == 2 * 3600


def test_half_business_day_on_extended_change_is_four_and_a_half_hours():
    ticket = register(kind="change", at=ams(2026, 11, 23, 8, 0))
    assert clocks(ticket)["response"].due_at == ams(2026, 11, 23, 12, 30)


def test_calendar_change_recomputes_open_clocks_in_a_task(django_capture_on_commit_callbacks, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from sla_portal.celery import app

    app.conf.task_always_eager = True
    try:
        ticket = register("default", at=ams(2026, 11, 27, 14, 0))  # Friday 14:00, 4 h
        assert clocks(ticket)["response"].due_at == ams(2026, 11, 30, 12, 0)
        calendar = Calendar.objects.get(name="Default")
        with django_capture_on_commit_callbacks(execute=True):
            ClosureDay.objects.create(calendar=calendar, date="2026-11-30", reason="Company day")
            services.calendar_changed(calendar=calendar)
        assert clocks(ticket)["response"].due_at == ams(2026, 12, 1, 12, 0)
    finally:
        app.conf.task_always_eager = False


def test_switching_off_a_holiday_changes_the_deadline():
    calendar = Calendar.objects.get(name="Extended")
    ticket_before = register(at=ams(2026, 12, 24, 16, 0))  # Thursday before Christmas
    assert clocks(ticket_before)["response"].due_at == ams(2026, 12, 28, 9, 0)
    Holiday.objects.filter(date="2026-12-25").update(active=False)
    services.calendar_changed()
    services.sla_calendar_recompute(calendar_id=calendar.pk)
    assert clocks(ticket_before)["response"].due_at == ams(2026, 12, 25, 9, 0)


def test_explain_lists_intervals_holidays_and_pauses():
    ticket = register(at=ams(2025, 4, 17, 16, 0))  # Thursday before Good Friday
    services.sla_clocks_pause(ticket=ticket, by=None, reason="Question", at=ams(2025, 4, 22, 9, 0))
    explanation = selectors.clock_explain(clocks(ticket)["resolution"], now=ams(2025, 4, 23, 9, 0))
    segment = explanation.segments[0]
    assert [str(d) for d in segment.explanation.skipped_dates] == ["2025-04-18", "2025-04-21"]
    assert explanation.counted_seconds == 3600 + 3600  # Thu 16-17, Tue 08-09
    assert explanation.pauses[0].reason == "Question" and explanation.pauses[0].end is None


# --- holidays for every year a question touches ----------------------------------------------


def test_a_ticket_from_2019_skips_christmas():
    """Document 000 §1.2.2 "Support Business Tijden 10-16*" with "* Nederlandse feestdagen zijn
    uitgesloten": document 000 applies to tickets long before 2020, so 2019's Christmas is closed
    too. A Default High incident registered Tuesday 24 December 2019 15:00 has 8 business hours
    (document 000 §1.2.3): 1 h that day, 6 h on Friday 27th, 1 h on Monday 30th."""
    organisation = organisation_on_level("default")
    organisation.contracts.update(valid_from="2019-01-01")
    ticket = register("default", at=ams(2019, 12, 24, 15, 0), organisation=organisation)
    assert ticket.policy_version.document == "000"
    assert clocks(ticket)["response"].due_at == ams(2019, 12, 30, 11, 0)
    calendar = selectors.business_calendar(Calendar.objects.get(name="Default"))
    assert calendar.add(ams(2019, 12, 24, 15, 0), 2 * 3600) == ams(2019, 12, 27, 11, 0)


def test_a_deadline_in_2045_skips_kings_day():
    """Document 001 §1.2.2 "* Nederlandse feestdagen zijn uitgesloten", whatever the year: Thursday
    27 April 2045 is King's Day, beyond the years stored in the database."""
    assert not Holiday.objects.filter(date__year=2045).exists()
    calendar = selectors.business_calendar(Calendar.objects.get(name="Default"))
    assert calendar.add(ams(2045, 4, 26, 15, 0), 2 * 3600) == ams(2045, 4, 28, 11, 0)
    assert ticket_deadline_2045() == ams(2045, 4, 28, 9, 0)


def ticket_deadline_2045():
    ticket = register(at=ams(2045, 4, 26, 16, 0))  # Extended High incident: 2 h from 16:00
    return clocks(ticket)["response"].due_at


def test_a_managers_holiday_edits_survive_the_years_being_added(django_capture_on_commit_callbacks):
    """Document 001 §1.2.2 "* Nederlandse feestdagen zijn uitgesloten" - and a manager decides
    which days count: Boxing Day 2045 switched off before 2045 was stored stays off once it is,
    and a 2019 holiday a manager deleted stays deleted when the years are extended."""
    from io import StringIO

    from django.core.management import call_command

    calendar_row = Calendar.objects.get(name="Default")
    Holiday.objects.create(date="2045-12-26", name="Second Day of Christmas", active=False)
    Holiday.objects.filter(date="2019-12-26").delete()
    services.calendar_changed()
    calendar_row.refresh_from_db()
    calendar = selectors.business_calendar(calendar_row)
    # Friday 22 December 15:00: 1 h, Christmas (Monday) closed, Tuesday 26th open
    assert calendar.add(ams(2045, 12, 22, 15, 0), 2 * 3600) == ams(2045, 12, 26, 11, 0)
    assert calendar.add(ams(2019, 12, 24, 15, 0), 2 * 3600) == ams(2019, 12, 26, 11, 0)
    # when the years are stored
    with django_capture_on_commit_callbacks(execute=False):
        call_command("sla_holidays", "--years", "2019-2045", stdout=StringIO())
    # then the edits stand
    assert Holiday.objects.get(date="2045-12-26").active is False
    assert not Holiday.objects.filter(date="2019-12-26").exists()
    assert Holiday.objects.filter(date="2045-12-25", active=True).exists()
    calendar_row.refresh_from_db()
    calendar = selectors.business_calendar(calendar_row)
    assert calendar.add(ams(2045, 12, 22, 15, 0), 2 * 3600) == ams(2045, 12, 26, 11, 0)


# --- a deadline that has passed stays passed; a stopped clock keeps its verdict (issue 11, 7) ---
#
# Document 001 §1.2.2, footnote **: "De respons- en oplostijden gelden vanaf de officiële
# registratie van een oproep" - the times count from the registration, so the instant a target
# was used up is fixed once it has passed. SPEC §2: "A deadline that has passed stays where it
# was: the instant the target was used up is the deadline and the breach, whatever pause,
# resume or priority change follows", and "a stopped clock keeps its target, its consumption
# and its verdict".


def sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        return services.sla_sweep()


def test_a_passed_deadline_stays_passed_when_the_clock_is_paused_and_resumed():
    """Document 001 §1.2.3, "Incident Reactietijd (uren)", Standaard, Hoog: 4; §1.2.2 **: "De
    respons- en oplostijden gelden vanaf de officiële registratie van een oproep". A Default
    High incident registered Monday 10:00 is due Monday 14:00, also after a pause on Wednesday
    and a resume on Thursday (not "due Thursday 10:00"); its breach is recorded once, at 14:00."""
    ticket = register("default", at=ams(2026, 11, 23, 10, 0))
    assert clocks(ticket)["response"].due_at == ams(2026, 11, 23, 14, 0)
    # no sweep saw it run late: the pause records the breach, at the deadline
    services.sla_clocks_pause(ticket=ticket, by=None, reason="Vraag", at=ams(2026, 11, 25, 11, 0))
    breach = ClockTransition.objects.get(kind="breached")
    assert breach.clock.kind == "response" and breach.crossed_at == ams(2026, 11, 23, 14, 0)
    services.sla_clocks_resume(ticket=ticket, by=None, reason="Antwoord", at=ams(2026, 11, 26, 9, 0))
    response = clocks(ticket)["response"]
    assert response.state == "running" and response.due_at == ams(2026, 11, 23, 14, 0)
    assert response.at_risk_at == ams(2026, 11, 23, 13, 0)  # 75% of 4 h, on Monday too
    sweep_at(ams(2026, 11, 26, 11, 0))
    assert ClockTransition.objects.filter(kind="breached").get() == breach  # once


def test_a_deadline_passed_in_an_earlier_stretch_is_swept_at_that_deadline():
    """Document 001 §1.2.3, Extended, "Incident Reactietijd" Hoog 2 hours, Laag 8 hours; SPEC
    §2: "Priority changes recompute the open deadlines from the original registration, pauses
    kept". A Low incident (8 h) registered Monday 09:00, paused at 13:00 after 4 h, resumed at
    14:00 and raised to High (2 h) at 14:30 was due at 11:00: the deadline lies in the past and
    the sweep records the breach there."""
    ticket = register(at=ams(2026, 11, 23, 9, 0), impact=3, urgency=3)
    services.sla_clocks_pause(ticket=ticket, by=None, reason="Vraag", at=ams(2026, 11, 23, 13, 0))
    services.sla_clocks_resume(ticket=ticket, by=None, reason="Antwoord", at=ams(2026, 11, 23, 14, 0))
    ticket.priority = 1
    ticket.save()
    services.sla_clocks_recompute(ticket=ticket, at=ams(2026, 11, 23, 14, 30))
    response = clocks(ticket)["response"]
    assert response.target_seconds == 2 * 3600 and response.due_at == ams(2026, 11, 23, 11, 0)
    assert sweep_at(ams(2026, 11, 23, 14, 31)).breached == 1
    assert ClockTransition.objects.get(kind="breached").crossed_at == ams(2026, 11, 23, 11, 0)


def test_a_priority_change_of_a_paused_clock_past_its_new_target_records_the_breach():
    """SPEC §2: "the instant the target was used up is the deadline and the breach, whatever
    pause, resume or priority change follows" (document 001 §1.2.3, Extended Hoog: 2 hours).
    Paused after 4 h and raised to High, the clock breached at 11:00, recorded at once."""
    ticket = register(at=ams(2026, 11, 23, 9, 0), impact=3, urgency=3)
    services.sla_clocks_pause(ticket=ticket, by=None, reason="Vraag", at=ams(2026, 11, 23, 13, 0))
    ticket.priority = 1
    ticket.save()
    services.sla_clocks_recompute(ticket=ticket, at=ams(2026, 11, 23, 14, 30))
    assert clocks(ticket)["response"].state == "paused"
    assert ClockTransition.objects.get(kind="breached").crossed_at == ams(2026, 11, 23, 11, 0)


def test_a_priority_change_leaves_a_stopped_clock_its_target_consumption_and_verdict():
    """Document 001 §3.1.1, "Reactietijd standaard service": "Middel < 2 werk dagen", "Laag < 5
    werk dagen"; SPEC §2: "a stopped clock keeps its target, its consumption and its verdict".
    A Default information request (Normal: 12 h) answered after 24 h stays breached when its
    priority is lowered to Low (30 h), and one answered in time stays met when it is raised."""
    late = register("default", kind="information_request", impact=2, urgency=2, at=ams(2026, 11, 23, 10, 0))
    services.sla_clock_stop(ticket=late, kind="response", by=None, reason="r", at=ams(2026, 11, 27, 10, 0))
    late.priority = 3
    late.save()
    services.sla_clocks_recompute(ticket=late, at=ams(2026, 11, 27, 11, 0))
    response = clocks(late)["response"]
    assert (response.target_seconds, response.consumed_seconds) == (12 * 3600, 24 * 3600)
    assert tickets_selectors.clock_status(response).state == "breach"
    assert ClockTransition.objects.get(clock=response).crossed_at == ams(2026, 11, 24, 16, 0)
    # and the other way: met in 10 h, then raised to High (8 h)
    in_time = register(
        "default", kind="information_request", impact=2, urgency=2, at=ams(2026, 11, 23, 10, 0)
    )
    services.sla_clock_stop(ticket=in_time, kind="response", by=None, reason="r", at=ams(2026, 11, 24, 14, 0))
    in_time.priority = 1
    in_time.save()
    services.sla_clocks_recompute(ticket=in_time, at=ams(2026, 11, 24, 15, 0))
    response = clocks(in_time)["response"]
    assert (response.target_seconds, response.consumed_seconds) == (12 * 3600, 10 * 3600)
    assert tickets_selectors.clock_status(response).state == "met"
    assert not ClockTransition.objects.filter(clock=response).exists()


def test_a_response_before_the_next_opening_after_a_deadline_at_closing_time_is_met():
    """Document 001 §1.2.3, "Wijziging Reactietijd (dagen)", Standaard Hoog: 1; SPEC §2: "A
    deadline that lands exactly on closing time stays at closing time" and "N business days =
    N x that many business hours". A change registered Monday 10:00 is due 16:00; answered on
    Tuesday at 09:00, before any more business time passed, it used exactly its target: met,
    and no sweep that evening records a breach that the stop then contradicts."""
    ticket = register("default", kind="change", at=ams(2026, 11, 23, 10, 0))
    assert clocks(ticket)["response"].due_at == ams(2026, 11, 23, 16, 0)
    assert sweep_at(ams(2026, 11, 23, 18, 0)).breached == 0
    services.sla_clock_stop(ticket=ticket, kind="response", by=None, reason="r", at=ams(2026, 11, 24, 9, 0))
    response = clocks(ticket)["response"]
    assert response.consumed_seconds == response.target_seconds == 6 * 3600
    assert tickets_selectors.clock_status(response).state == "met"
    assert not ClockTransition.objects.filter(kind="breached").exists()


def test_a_clock_that_runs_on_past_a_deadline_at_closing_time_breaches_at_the_deadline():
    """The same change unanswered: from the next opening it counts more than its target; the
    sweep records the breach at the deadline, Monday 16:00 (SPEC §2)."""
    ticket = register("default", kind="change", at=ams(2026, 11, 23, 10, 0))
    assert sweep_at(ams(2026, 11, 24, 10, 0)).breached == 0  # exactly the target, not more
    assert sweep_at(ams(2026, 11, 24, 10, 1)).breached == 1
    breach = ClockTransition.objects.get(kind="breached")
    assert breach.clock == clocks(ticket)["response"] and breach.crossed_at == ams(2026, 11, 23, 16, 0)
