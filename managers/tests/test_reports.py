"""Quarterly service reports: exactly the quarter's breaches, explained; HTML, PDF, e-mail."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from accounts.models import Role
from accounts.tests.factories import UserFactory
from conftest import login_with_second_factor
from managers.reports import period_containing, previous_period, report_content, service_reports_due
from sla import services
from sla.models import ReportStatus, ServiceReport
from sla.tests.factories import organisation_on_level
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def register(organisation, at, title):
    return ticket_create(
        organisation=organisation,
        by=None,
        kind="incident",
        title=title,
        impact=1,
        urgency=1,
        registered_at=at,
    )  # Extended High: response 2 business hours


def stop(ticket, kind, at):
    services.sla_clock_stop(ticket=ticket, kind=kind, by=None, reason="reply", at=at)


@pytest.fixture
def celery_eager():
    from sla_portal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def quarter():
    """Q3 2026 of an Extended organisation: two breaches inside, one before, one after, and
    one of another organisation."""
    organisation = organisation_on_level("extended")
    # in Q3: paused half an hour, answered 3 h of business time after registration (target 2 h)
    inside = register(organisation, ams(2026, 9, 1, 9, 0), "Inloggen faalt")
    services.sla_clocks_pause(ticket=inside, by=None, reason="Welke browser?", at=ams(2026, 9, 1, 9, 30))
    services.sla_clocks_resume(ticket=inside, by=None, reason="Antwoord", at=ams(2026, 9, 1, 10, 0))
    stop(inside, "response", ams(2026, 9, 1, 12, 30))
    stop(inside, "resolution", ams(2026, 9, 2, 12, 0))
    # in Q3: due at closing time on the last day of the quarter, seen late by the sweep
    last_day = register(organisation, ams(2026, 9, 30, 15, 0), "Export hangt")
    before = register(organisation, ams(2026, 6, 29, 9, 0), "Juni")
    stop(before, "response", ams(2026, 6, 29, 12, 0))
    stop(before, "resolution", ams(2026, 6, 30, 9, 0))
    other = register(organisation_on_level("extended"), ams(2026, 9, 2, 9, 0), "Andere klant")
    stop(other, "response", ams(2026, 9, 2, 15, 0))
    stop(other, "resolution", ams(2026, 9, 3, 9, 0))
    services.sla_sweep(now=ams(2026, 10, 1, 10, 0))
    after = register(organisation, ams(2026, 10, 1, 9, 0), "Oktober")
    stop(after, "response", ams(2026, 10, 1, 12, 0))
    return {"organisation": organisation, "inside": inside, "last_day": last_day}


def test_report_lists_exactly_the_breaches_of_its_quarter(quarter):
    content = report_content(
        organisation=quarter["organisation"],
        start=date(2026, 7, 1),
        end=date(2026, 9, 30),
        now=ams(2026, 10, 2, 9, 0),
    )
    assert [(b.reference, b.clock) for b in content.breaches] == [
        (quarter["inside"].reference, "Response"),
        (quarter["last_day"].reference, "Response"),
    ]
    assert content.breaches[1].crossed_at == ams(2026, 9, 30, 17, 0)
    explained = content.breaches[0].explanation
    assert explained.counted_seconds == 3 * 3600
    assert [(p.start, p.end, p.reason) for p in explained.pauses] == [
        (ams(2026, 9, 1, 9, 30), ams(2026, 9, 1, 10, 0), "Welke browser?")
    ]
    incident = dict((label, row) for label, row, _total in content.kinds)["Incident"]
    assert incident == [2, 0, 0]  # two High incidents registered in Q3
    compliance = {row.clock: (row.met, row.total) for row in content.compliance}
    assert compliance == {"Response": (0, 1), "Resolution": (1, 1)}
    assert content.consultancy is None  # no hours card


def test_requested_report_is_produced_stored_and_mailed_to_the_coordinators(
    quarter, celery_eager, django_capture_on_commit_callbacks, manager_client
):
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=quarter["organisation"])
    UserFactory(role=Role.CUSTOMER_USER, organisation=quarter["organisation"])
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            "/manager/reports/",
            {"organisation": quarter["organisation"].pk, "start": "2026-07-01", "end": "2026-09-30"},
        )
    assert response.status_code == 302
    report = ServiceReport.objects.get()
    assert report.status == ReportStatus.DONE and report.progress == 100
    assert quarter["inside"].reference in report.html and "Welke browser?" in report.html
    assert bytes(report.pdf).startswith(b"%PDF")
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    status = manager_client.get(f"/manager/reports/{report.pk}/status.json").json()
    assert status["done"] is True and status["progress"] == 100
    page = manager_client.get(f"/manager/reports/{report.pk}/")
    assert page.status_code == 200 and quarter["last_day"].reference in page.content.decode()
    pdf = manager_client.get(f"/manager/reports/{report.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    bad = manager_client.post(
        "/manager/reports/", {"organisation": "x", "start": "2026-09-30", "end": "2026-07-01"}
    )
    assert bad.status_code == 400


def test_customers_read_their_own_reports_only(quarter, client):
    report = ServiceReport.objects.create(
        organisation=quarter["organisation"],
        period_start=date(2026, 7, 1),
        period_end=date(2026, 9, 30),
        status=ReportStatus.DONE,
        html="<h1>Rapport Q3</h1>",
        pdf=b"%PDF-1.4 test",
    )
    outsider = UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level("extended"))
    login_with_second_factor(client, outsider)
    assert client.get(f"/portal/service/reports/{report.pk}/").status_code == 404
    assert client.get(f"/portal/service/reports/{report.pk}/pdf/").status_code == 404
    client.logout()
    colleague = UserFactory(role=Role.CUSTOMER_USER, organisation=quarter["organisation"])
    login_with_second_factor(client, colleague)
    assert "Rapport Q3" in client.get(f"/portal/service/reports/{report.pk}/").content.decode()
    assert client.get("/portal/service/reports/").status_code == 200


def test_the_beat_job_makes_each_extended_organisation_its_report_once_on_a_working_day(celery_eager):
    extended, default = organisation_on_level("extended"), organisation_on_level("default")
    assert service_reports_due(today=date(2026, 10, 3)) == []  # a Saturday: wait for Monday
    made = service_reports_due(today=date(2026, 10, 1))
    assert [(r.organisation_id, r.period_start, r.period_end) for r in made] == [
        (extended.pk, date(2026, 7, 1), date(2026, 9, 30))
    ]
    assert service_reports_due(today=date(2026, 10, 2)) == []
    assert not ServiceReport.objects.filter(organisation=default).exists()


def test_report_periods_follow_the_reports_per_year():
    quarter = (date(2026, 10, 1), date(2026, 12, 31))
    assert period_containing(date(2026, 11, 23), reports_per_year=4) == quarter
    assert previous_period(date(2026, 1, 2), reports_per_year=4) == (date(2025, 10, 1), date(2025, 12, 31))
    assert previous_period(date(2026, 7, 1), reports_per_year=2) == (date(2026, 1, 1), date(2026, 6, 30))


def test_consultancy_hours_used_in_the_quarter_and_left_on_the_card(quarter):
    from decimal import Decimal

    from tickets.models import HoursBooking, HoursCard

    organisation, ticket = quarter["organisation"], quarter["inside"]
    consultant = UserFactory(role=Role.CONSULTANT)
    card = HoursCard.objects.create(
        organisation=organisation, hours=Decimal(40), purchased_on=date(2026, 1, 1)
    )
    for on, hours in ((date(2026, 6, 1), 3), (date(2026, 8, 10), 5), (date(2026, 10, 5), 2)):
        HoursBooking.objects.create(
            card=card, ticket=ticket, consultant=consultant, on=on, hours=Decimal(hours)
        )
    content = report_content(
        organisation=organisation, start=date(2026, 7, 1), end=date(2026, 9, 30), now=ams(2026, 10, 2, 9, 0)
    )
    assert content.consultancy == {"used": Decimal(5), "left": Decimal(32)}
