"""The what-if preview of a calendar, closed-day or policy change on the open clocks (issue 15):
what it says is what saving the change stores."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from managers import policies
from sla import calendar_edits, services, whatif
from sla.models import Calendar, ClosureDay, PolicyVersion
from sla.tests.factories import organisation_on_level
from sla_portal.celery import app
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


@pytest.fixture
def eager_celery():
    """The recompute task runs in this process once the change commits."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def register(level="default", *, at, impact=1, urgency=1):
    return ticket_create(
        organisation=organisation_on_level(level),
        by=None,
        kind="incident",
        title="Portal down",
        impact=impact,
        urgency=urgency,
        registered_at=at,
    )


def response(ticket):
    return ticket.clocks.get(kind="response")


def stored_deadlines(moves) -> dict[int, datetime | None]:
    from sla.models import Clock

    return dict(Clock.objects.filter(pk__in=[m.clock_id for m in moves]).values_list("pk", "due_at"))


def test_a_closed_day_on_which_a_deadline_falls_moves_it_and_saving_stores_the_preview(
    eager_celery, django_capture_on_commit_callbacks
):
    """SPEC §2: "Buiten kantoortijden en op feestdagen telt de klok niet." A closure day on the
    Monday a Default High response falls due moves it to Tuesday, as saving then stores."""
    calendar = Calendar.objects.get(name="Default")
    ticket = register(at=ams(2026, 11, 27, 14, 0))  # Friday: 2 h on Friday, due Monday 12:00
    untouched = register(at=ams(2026, 11, 23, 10, 0))  # due Monday 23rd 14:00, before the closure
    assert response(ticket).due_at == ams(2026, 11, 30, 12, 0)

    preview = whatif.calendar_whatif(calendar, closed_add=[date(2026, 11, 30)], now=ams(2026, 11, 27, 15, 0))

    moved = {m.clock_id: m for m in preview.moves}
    assert response(ticket).pk in moved and response(untouched).pk not in moved
    move = moved[response(ticket).pk]
    assert (move.old_due, move.new_due) == (ams(2026, 11, 30, 12, 0), ams(2026, 12, 1, 12, 0))
    assert move.shift_seconds == 86400 and move.ticket_reference == ticket.reference
    assert preview.later == preview.moved and preview.earlier == 0
    assert preview.shift_max == 86400

    with django_capture_on_commit_callbacks(execute=True):
        calendar_edits.closure_day_add(calendar=calendar, day=date(2026, 11, 30), reason="Company day")
    assert stored_deadlines(preview.moves) == {m.clock_id: m.new_due for m in preview.moves}


def test_a_dst_week_keeps_the_wall_clock_time_and_matches_what_saving_stores(
    eager_celery, django_capture_on_commit_callbacks
):
    """Summer time starts on Sunday 29 March 2026: a deadline moved from Friday to Monday by a
    closure day stays at the same local hour, one hour less than three days of 24 h later."""
    calendar = Calendar.objects.get(name="Default")
    ticket = register(at=ams(2026, 3, 26, 14, 0))  # Thursday: due Friday 27 March 12:00
    assert response(ticket).due_at == ams(2026, 3, 27, 12, 0)

    preview = whatif.calendar_whatif(calendar, closed_add=[date(2026, 3, 27)], now=ams(2026, 3, 26, 15, 0))

    move = next(m for m in preview.moves if m.clock_id == response(ticket).pk)
    assert move.new_due == ams(2026, 3, 30, 12, 0)
    assert move.new_due.astimezone(AMS).hour == 12
    assert move.shift_seconds == 3 * 86400 - 3600
    with django_capture_on_commit_callbacks(execute=True):
        calendar_edits.closure_day_add(calendar=calendar, day=date(2026, 3, 27), reason="Move")
    assert stored_deadlines(preview.moves) == {m.clock_id: m.new_due for m in preview.moves}


def test_new_opening_hours_preview_equals_the_stored_deadlines_after_saving(
    eager_celery, django_capture_on_commit_callbacks
):
    """Closing an hour earlier (10:00-15:00) moves a deadline that counted the last hour."""
    calendar = Calendar.objects.get(name="Default")
    ticket = register(at=ams(2026, 11, 27, 14, 0))  # 2 h on Friday under 10-16, 1 h under 10-15
    weekly = {weekday: [(time(10), time(15))] for weekday in range(5)}

    preview = whatif.calendar_whatif(calendar, weekly_hours=weekly, now=ams(2026, 11, 27, 14, 30))

    move = next(m for m in preview.moves if m.clock_id == response(ticket).pk)
    assert move.new_due == ams(2026, 11, 30, 13, 0)
    with django_capture_on_commit_callbacks(execute=True):
        calendar_edits.calendar_hours_save(calendar=calendar, weekly=weekly)
    assert stored_deadlines(preview.moves) == {m.clock_id: m.new_due for m in preview.moves}
    assert response(ticket).due_at == ams(2026, 11, 30, 13, 0)


def test_paused_clocks_are_counted_not_moved_until_they_resume(
    eager_celery, django_capture_on_commit_callbacks
):
    """SPEC §2: "Tijdens het wachten op de klant staat de klok stil." A paused clock has no
    deadline: the change reaches it when it resumes."""
    calendar = Calendar.objects.get(name="Default")
    ticket = register(at=ams(2026, 11, 27, 14, 0))
    services.sla_clocks_pause(ticket=ticket, by=None, reason="Question", at=ams(2026, 11, 27, 15, 0))

    preview = whatif.calendar_whatif(calendar, closed_add=[date(2026, 11, 30)], now=ams(2026, 11, 27, 16, 0))

    assert preview.paused >= 1
    assert response(ticket).pk not in {m.clock_id for m in preview.moves}
    with django_capture_on_commit_callbacks(execute=True):
        calendar_edits.closure_day_add(calendar=calendar, day=date(2026, 11, 30), reason="Company day")
    assert response(ticket).due_at is None
    services.sla_clocks_resume(ticket=ticket, by=None, reason="Answer", at=ams(2026, 11, 27, 15, 30))
    assert response(ticket).due_at == ams(2026, 12, 1, 12, 30)  # 1.5 h on Friday, Monday closed


def test_removing_a_closure_day_can_make_a_clock_breach():
    """A deadline moved past the closure day comes back before ``now``: it would breach."""
    calendar = Calendar.objects.get(name="Default")
    ClosureDay.objects.create(calendar=calendar, date=date(2026, 11, 30), reason="Company day")
    services.calendar_changed(calendar=calendar)
    services.sla_calendar_recompute(calendar_id=calendar.pk)
    ticket = register(at=ams(2026, 11, 27, 14, 0))
    assert response(ticket).due_at == ams(2026, 12, 1, 12, 0)

    preview = whatif.calendar_whatif(
        calendar, closed_remove=[date(2026, 11, 30)], now=ams(2026, 11, 30, 13, 0)
    )

    move = next(m for m in preview.moves if m.clock_id == response(ticket).pk)
    assert move.new_due == ams(2026, 11, 30, 12, 0)
    assert move.breaches and not move.stops_breaching
    assert preview.newly_breached >= 1 and preview.moves[0].breaches  # breaches listed first


def test_a_closure_day_added_afterwards_can_stop_a_breach():
    calendar = Calendar.objects.get(name="Default")
    ticket = register(at=ams(2026, 11, 27, 14, 0))  # due Monday 30 November 12:00

    preview = whatif.calendar_whatif(calendar, closed_add=[date(2026, 11, 30)], now=ams(2026, 11, 30, 13, 0))

    move = next(m for m in preview.moves if m.clock_id == response(ticket).pk)
    assert move.stops_breaching and not move.breaches
    assert preview.no_longer_breached >= 1


def test_a_policy_draft_with_halved_targets_moves_deadlines_earlier_and_can_breach():
    """The open tickets keep their version; the preview shows the draft's targets on them."""
    ticket = register(at=ams(2026, 11, 27, 14, 0))  # 4 h: due Monday 12:00
    draft = policies.policy_draft_create(document="002", name="Sharper", at=ams(2026, 11, 27, 9, 0))
    proposed = whatif.policy_targets(draft.pk)
    assert whatif.policy_whatif(proposed, now=ams(2026, 11, 27, 15, 0)).moved == 0  # a copy moves nothing
    halved = {
        key: (amount / 2 if amount is not None else None, unit) for key, (amount, unit) in proposed.items()
    }

    preview = whatif.policy_whatif(halved, now=ams(2026, 11, 27, 16, 30))

    move = next(m for m in preview.moves if m.clock_id == response(ticket).pk)
    assert move.new_due == ams(2026, 11, 27, 16, 0)  # 2 h: Friday 14:00-16:00
    assert move.breaches  # 16:30 is past it
    assert preview.earlier == preview.moved


def test_a_clock_past_its_deadline_keeps_it_under_new_targets():
    """SPEC §2 (priority changes, ``sla_clocks_recompute``): a passed deadline stays passed."""
    ticket = register(at=ams(2026, 11, 27, 10, 0))  # due Friday 14:00
    proposed = whatif.policy_targets(PolicyVersion.objects.get(document="001").pk)
    doubled = {
        key: (amount * 2 if amount is not None else None, unit) for key, (amount, unit) in proposed.items()
    }

    preview = whatif.policy_whatif(doubled, now=ams(2026, 11, 27, 15, 0))

    assert response(ticket).pk not in {m.clock_id for m in preview.moves}


def test_the_preview_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    calendar = Calendar.objects.get(name="Default")
    for hour in (13, 14, 15):  # due Monday 11:00, 12:00, 13:00
        register(at=ams(2026, 11, 27, hour, 0))
    with django_assert_max_num_queries(6):
        result = whatif.calendar_whatif(
            calendar, closed_add=[date(2026, 11, 30)], now=ams(2026, 11, 27, 9, 0)
        )
    assert result.moved >= 3


def test_the_listing_is_bounded_and_the_counts_cover_all():
    calendar = Calendar.objects.get(name="Default")
    for hour in (10, 11, 12, 13):
        register(at=ams(2026, 11, 27, hour, 0))
    preview = whatif.calendar_whatif(
        calendar, closed_add=[date(2026, 11, 27)], now=ams(2026, 11, 26, 9, 0), limit=2
    )
    assert len(preview.moves) == 2 and preview.moved >= 4 and not preview.listed_all


def test_a_drafts_targets_are_bounded():
    draft = policies.policy_draft_create(document="002", name="Draft")
    target = draft.targets.exclude(unit="best_effort").first()
    with pytest.raises(Exception, match="at most"):
        policies.policy_draft_targets_save(draft=draft, targets={target.pk: (Decimal(99999), "hours")})
    target.refresh_from_db()
    assert target.amount != Decimal(99999)
