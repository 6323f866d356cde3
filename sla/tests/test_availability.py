"""Availability = up time over covered time, maintenance windows, planned and force majeure
outages excluded (SPEC §8), on a hand-built outage set."""

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Role
from accounts.tests.factories import UserFactory
from conftest import login_with_second_factor
from sla.availability import (
    OutageSpan,
    WeeklyWindow,
    availability_compute,
    availability_for_period,
    intervals_seconds,
    maintenance_intervals,
    maintenance_windows,
)
from sla.models import HostedProduct, MaintenanceWindow, Outage
from sla.tests.factories import organisation_on_level

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
HOUR = 3600


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


# The week of Monday 2 March 2026. Covered time under the SPEC §8 windows: Monday 00:00-20:00
# (the Sunday window ends at midnight) and Tuesday-Friday 04:00-20:00: 20 + 4 x 16 = 84 h.
WEEK = (ams(2026, 3, 2), ams(2026, 3, 9))
OUTAGES = [
    # (title, start, end, planned, force majeure)
    ("A", ams(2026, 3, 3, 10), ams(2026, 3, 3, 12), False, False),   # 2 h down
    ("B", ams(2026, 3, 4, 19), ams(2026, 3, 4, 21), False, False),   # 1 h down, 1 h in the window
    ("C", ams(2026, 3, 5, 10), ams(2026, 3, 5, 13), True, False),    # announced: 3 h not covered
    ("D", ams(2026, 3, 6, 12), ams(2026, 3, 6, 14), False, True),    # force majeure: 2 h not covered
    ("E", ams(2026, 3, 6, 13), ams(2026, 3, 6, 15), False, False),   # 13-14 inside D; 1 h down
    ("F", ams(2026, 3, 7, 10), ams(2026, 3, 7, 12), False, False),   # Saturday: maintenance
]
# covered 84 - 3 - 2 = 79 h, down 2 + 1 + 1 = 4 h: 75 / 79 = 94.9367...%
EXPECTED = Decimal("94.937")


def test_seeded_windows_are_weeknights_and_the_weekend():
    windows = maintenance_windows()
    assert len(windows) == 7
    assert WeeklyWindow(0, time(20), time(4)) in windows and WeeklyWindow(6, time(0), time(0)) in windows
    covered = 7 * 24 * HOUR - intervals_seconds(maintenance_intervals(windows, *WEEK))
    assert covered == 84 * HOUR


def test_availability_on_a_hand_built_outage_set_excludes_maintenance_and_force_majeure():
    figure = availability_compute(start=WEEK[0], end=WEEK[1], windows=maintenance_windows(),
                                  outages=[OutageSpan(start, end, planned or force_majeure)
                                           for _t, start, end, planned, force_majeure in OUTAGES])
    assert figure.covered_seconds == 79 * HOUR
    assert figure.down_seconds == 4 * HOUR
    assert figure.percent == EXPECTED


def test_windows_follow_daylight_saving_time():
    # Sunday 29 March 2026 has 23 hours; the window Friday 27 20:00 - Monday 30 00:00 is 51 h
    intervals = maintenance_intervals(maintenance_windows(), ams(2026, 3, 27, 12), ams(2026, 3, 30, 12))
    assert [(a, b) for a, b in intervals] == [(ams(2026, 3, 27, 20), ams(2026, 3, 30, 0))]
    assert intervals[0][1].timestamp() - intervals[0][0].timestamp() == 51 * HOUR



def test_an_organisation_sees_only_outages_of_its_own_and_of_everyone():
    mine, other = organisation_on_level("extended"), organisation_on_level("default")
    saas = HostedProduct.objects.get(code="qixium-saas")
    for title, start, end, planned, force_majeure in OUTAGES:
        outage = Outage.objects.create(title=title, starts_at=start, ends_at=end, planned=planned,
                                       force_majeure=force_majeure)
        outage.products.add(saas)
    only_other = Outage.objects.create(title="other", starts_at=ams(2026, 3, 2, 9),
                                       ends_at=ams(2026, 3, 2, 17))
    only_other.products.add(saas)
    only_other.organisations.add(other)
    figures = dict(availability_for_period(start=WEEK[0], end=WEEK[1], organisation_id=mine.pk,
                                           now=ams(2026, 4, 1)))
    assert figures[saas].percent == EXPECTED
    assert figures[HostedProduct.objects.get(code="data-manager")].percent == Decimal("100.000")
    theirs = dict(availability_for_period(start=WEEK[0], end=WEEK[1], organisation_id=other.pk,
                                          now=ams(2026, 4, 1)))
    assert theirs[saas].down_seconds == (4 + 8) * HOUR



def test_editing_a_window_changes_the_covered_time():
    MaintenanceWindow.objects.filter(weekday=5).delete()  # Saturday is no longer maintenance
    figure = availability_compute(start=WEEK[0], end=WEEK[1], windows=maintenance_windows(), outages=[
        OutageSpan(ams(2026, 3, 7, 10), ams(2026, 3, 7, 12), False)])
    # Friday's window still runs to Saturday 04:00: Saturday 04:00-24:00 = 20 h more covered
    assert figure.covered_seconds == (84 + 20) * HOUR and figure.down_seconds == 2 * HOUR



@time_machine.travel(ams(2026, 3, 9, 0, 0), tick=False)
def test_customer_page_shows_its_products_and_the_manager_page_records_outages(client, manager_client):
    organisation = organisation_on_level("extended")
    saas = HostedProduct.objects.get(code="qixium-saas")
    response = manager_client.post("/manager/availability/?year=2026", {
        "action": "outage", "outage-title": "Database down", "outage-starts_at": "2026-03-03T10:00",
        "outage-ends_at": "2026-03-03T12:00", "outage-products": [saas.pk]})
    assert response.status_code == 302
    assert Outage.objects.get().created_by is not None
    bad = manager_client.post("/manager/availability/", {
        "action": "outage", "outage-title": "x", "outage-starts_at": "2026-03-03T12:00",
        "outage-ends_at": "2026-03-03T10:00", "outage-products": [saas.pk]})
    assert bad.status_code == 400 and "An outage ends after it starts." in bad.content.decode()
    assert manager_client.get("/manager/availability/?year=abc").status_code == 200
    customer = UserFactory(role=Role.CUSTOMER_USER, organisation=organisation)
    client.logout()
    login_with_second_factor(client, customer)
    page = client.get("/portal/service/availability/?year=2026")
    assert page.status_code == 200
    assert "Database down" in page.content.decode() and "Qixium SaaS Platform" in page.content.decode()
