"""The SLA data in the admin: edits of calendars, closure days and holidays move open deadlines."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Role
from conftest import login_with_second_factor
from sla.models import Calendar, ClosureDay, Holiday
from sla.tests.factories import organisation_on_level
from sla_portal.celery import app
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def eager_celery():
    """The recompute task runs in the request's process once the admin's transaction commits."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def admin_client(client, make_staff):
    admin = make_staff(Role.ADMIN)
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    login_with_second_factor(client, admin)
    return client


@pytest.fixture
def friday_ticket():
    """Default level, High incident, Friday 27 November 2026 14:00: 2 h on Friday, due Monday 12:00."""
    ticket = ticket_create(
        organisation=organisation_on_level("default"),
        by=None,
        kind="incident",
        title="Portal down",
        impact=1,
        urgency=1,
        registered_at=datetime(2026, 11, 27, 14, 0, tzinfo=AMS),
    )
    assert response_due(ticket) == datetime(2026, 11, 30, 12, 0, tzinfo=AMS)
    return ticket


def response_due(ticket) -> datetime:
    return ticket.clocks.get(kind="response").due_at


def test_adding_a_closure_day_in_the_admin_moves_an_open_deadline(
    admin_client, friday_ticket, eager_celery, django_capture_on_commit_callbacks
):
    calendar = Calendar.objects.get(name="Default")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/sla/closureday/add/",
            {"calendar": calendar.pk, "date": "2026-11-30", "reason": "Company day"},
        )
    assert response.status_code == 302, response.content[:2000]
    assert ClosureDay.objects.filter(calendar=calendar, date="2026-11-30").exists()
    assert response_due(friday_ticket) == datetime(2026, 12, 1, 12, 0, tzinfo=AMS)


def test_a_closure_day_added_inline_on_the_calendar_moves_an_open_deadline(
    admin_client, friday_ticket, eager_celery, django_capture_on_commit_callbacks
):
    calendar = Calendar.objects.get(name="Default")
    hours = list(calendar.opening_hours.order_by("weekday"))
    data = {
        "name": calendar.name,
        "timezone": calendar.timezone,
        "closed_on_good_friday": "on",
        "liberation_day": calendar.liberation_day,
        "opening_hours-TOTAL_FORMS": len(hours),
        "opening_hours-INITIAL_FORMS": len(hours),
        "closure_days-TOTAL_FORMS": 1,
        "closure_days-INITIAL_FORMS": 0,
        "closure_days-0-date": "2026-11-30",
        "closure_days-0-reason": "Move to the new office",
    }
    for i, row in enumerate(hours):
        data.update(
            {
                f"opening_hours-{i}-id": row.pk,
                f"opening_hours-{i}-calendar": calendar.pk,
                f"opening_hours-{i}-weekday": row.weekday,
                f"opening_hours-{i}-opens": f"{row.opens:%H:%M}",
                f"opening_hours-{i}-closes": f"{row.closes:%H:%M}",
            }
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/sla/calendar/{calendar.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    assert response_due(friday_ticket) == datetime(2026, 12, 1, 12, 0, tzinfo=AMS)
    # and deleting that closure day in the admin moves the deadline back
    closure = ClosureDay.objects.get(calendar=calendar, date="2026-11-30")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/sla/closureday/{closure.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert response_due(friday_ticket) == datetime(2026, 11, 30, 12, 0, tzinfo=AMS)


def test_switching_a_holiday_on_in_the_admin_moves_an_open_deadline(
    admin_client, eager_celery, django_capture_on_commit_callbacks
):
    # given Christmas Day switched off, a Thursday ticket runs through it
    holiday = Holiday.objects.get(date="2026-12-25")
    Holiday.objects.filter(pk=holiday.pk).update(active=False)
    ticket = ticket_create(
        organisation=organisation_on_level("default"),
        by=None,
        kind="incident",
        title="Portal down",
        impact=1,
        urgency=1,
        registered_at=datetime(2026, 12, 24, 14, 0, tzinfo=AMS),
    )
    assert response_due(ticket) == datetime(2026, 12, 25, 12, 0, tzinfo=AMS)
    # when a manager switches it back on
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/sla/holiday/{holiday.pk}/change/",
            {"date": "2026-12-25", "name": holiday.name, "kind": holiday.kind, "active": "on"},
        )
    # then Friday 25 December no longer counts: Monday 28 December 10:00 + 2 h
    assert response.status_code == 302, response.content[:2000]
    assert response_due(ticket) == datetime(2026, 12, 28, 12, 0, tzinfo=AMS)


def test_target_and_priority_pages_say_edits_change_future_tickets_only(admin_client):
    for path in ("/admin/sla/target/add/", "/admin/sla/priorityrule/add/", "/admin/sla/policyversion/add/"):
        response = admin_client.get(path)
        assert response.status_code == 200
        assert b"deadlines of open tickets are not recomputed" in response.content


def test_clocks_and_transitions_are_read_only(admin_client, friday_ticket):
    clock = friday_ticket.clocks.get(kind="response")
    page = admin_client.get(f"/admin/sla/clock/{clock.pk}/change/")
    assert page.status_code == 200 and b"Ticket registered" in page.content  # the events inline
    assert admin_client.get("/admin/sla/clock/add/").status_code == 403
    assert admin_client.get("/admin/sla/clocktransition/add/").status_code == 403
    assert admin_client.get("/admin/sla/clocktransition/").status_code == 200
