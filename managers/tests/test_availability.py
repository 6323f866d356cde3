"""Availability = up time over covered time, on a hand-built outage set (SPEC §8). Document
001 §5.2 leaves out only "de vooraf door de leverancier aangekondigde buitengebruikstelling
wegens preventief, correctief of adaptief onderhoud" and circumstances "buiten de
invloedsfeer van de leverancier" (force majeure); the maintenance window excuses nothing by
itself, it bounds when maintenance may be announced."""

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.models import NotificationTopic, Role
from accounts.tests.factories import UserFactory
from conftest import login_with_second_factor
from managers import announcements
from managers.availability import (
    OutageSpan,
    WeeklyWindow,
    availability_compute,
    availability_for_period,
    availability_target_for,
    intervals_merge,
    maintenance_intervals,
    maintenance_windows,
)
from sla.models import Announcement, HostedProduct, MaintenanceWindow, Outage, PolicyVersion
from sla.tests.factories import organisation_on_level

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
HOUR = 3600
SECTION_5_2 = (
    "De beschikbaarheid van programmatuur, systemen en gerelateerde diensten wordt zodanig gemeten dat "
    "de vooraf door de leverancier aangekondigde buitengebruikstelling wegens preventief, correctief of "
    "adaptief onderhoud of andere vormen van service, alsmede omstandigheden die buiten de invloedsfeer "
    "van de leverancier zijn gelegen, buiten beschouwing worden gelaten."
)


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


# The week of Monday 2 March 2026: 168 hours.
WEEK = (ams(2026, 3, 2), ams(2026, 3, 9))
# Maintenance announced on Tuesday for Wednesday 20:00 - Thursday 02:00 (inside the window).
ANNOUNCED = (ams(2026, 3, 3, 9), (ams(2026, 3, 4, 20), ams(2026, 3, 5, 2)))
# Maintenance announced on Sunday at 11:00, for 12:00-14:00: after outage G had begun.
LATE = (ams(2026, 3, 8, 11), (ams(2026, 3, 8, 12), ams(2026, 3, 8, 14)))
OUTAGES = [
    # (title, start, end, force majeure, linked announcement)
    ("A", ams(2026, 3, 3, 10), ams(2026, 3, 3, 12), False, None),  # 2 h down
    ("B", ams(2026, 3, 4, 19), ams(2026, 3, 4, 21), False, ANNOUNCED),  # 19-20 down, 20-21 excused
    ("C", ams(2026, 3, 5, 1), ams(2026, 3, 5, 3), False, ANNOUNCED),  # 01-02 excused, 02-03 down
    ("D", ams(2026, 3, 6, 12), ams(2026, 3, 6, 14), True, None),  # force majeure: 2 h excused
    ("E", ams(2026, 3, 6, 13), ams(2026, 3, 6, 15), False, None),  # 13-14 inside D; 1 h down
    ("F", ams(2026, 3, 7, 10), ams(2026, 3, 7, 12), False, None),  # Saturday, unannounced: 2 h down
    ("G", ams(2026, 3, 8, 10), ams(2026, 3, 8, 13), False, LATE),  # announced too late: 3 h down
]
# excused 1 + 1 + 2 = 4 h: covered 164 h; down 2 + 1 + 1 + 1 + 2 + 3 = 10 h: 154 / 164
EXPECTED = Decimal("93.902")


def spans() -> list[OutageSpan]:
    return [
        OutageSpan(start, end, force_majeure, link[1] if link and link[0] <= start else None)
        for _title, start, end, force_majeure, link in OUTAGES
    ]


def announcement(published_at, period) -> Announcement:
    return Announcement.objects.create(
        topic="maintenance",
        title="Onderhoud",
        body="Database-upgrade.",
        published_at=published_at,
        maintenance_starts_at=period[0],
        maintenance_ends_at=period[1],
    )


def test_only_announced_maintenance_and_force_majeure_are_left_out_of_availability():
    """001 §5.2: "... dat de vooraf door de leverancier aangekondigde buitengebruikstelling wegens
    preventief, correctief of adaptief onderhoud ..., alsmede omstandigheden die buiten de
    invloedsfeer van de leverancier zijn gelegen, buiten beschouwing worden gelaten." """
    figure = availability_compute(start=WEEK[0], end=WEEK[1], outages=spans())
    assert figure.covered_seconds == 164 * HOUR
    assert figure.down_seconds == 10 * HOUR
    assert figure.percent == EXPECTED


def test_an_unannounced_saturday_crash_counts_as_downtime():
    """001 §5.2: only "de vooraf ... aangekondigde buitengebruikstelling" is left out. Saturday is
    in the maintenance window (§5.4), but a crash nobody announced costs availability."""
    saas = HostedProduct.objects.get(code="qixium-saas")
    crash = Outage.objects.create(title="Crash", starts_at=ams(2026, 3, 7, 10), ends_at=ams(2026, 3, 7, 12))
    crash.products.add(saas)
    figures = dict(
        availability_for_period(start=WEEK[0], end=WEEK[1], organisation_id=None, now=ams(2026, 4, 1))
    )
    assert figures[saas].down_seconds == 2 * HOUR and figures[saas].covered_seconds == 168 * HOUR
    assert figures[saas].percent == Decimal("98.810")


def test_an_organisation_sees_only_outages_of_its_own_and_of_everyone():
    mine, other = organisation_on_level("extended"), organisation_on_level("default")
    saas = HostedProduct.objects.get(code="qixium-saas")
    announced, late = announcement(*ANNOUNCED), announcement(*LATE)
    links = {ANNOUNCED: announced, LATE: late, None: None}
    for title, start, end, force_majeure, link in OUTAGES:
        outage = Outage.objects.create(
            title=title, starts_at=start, ends_at=end, force_majeure=force_majeure, maintenance=links[link]
        )
        outage.products.add(saas)
    only_other = Outage.objects.create(
        title="other", starts_at=ams(2026, 3, 2, 9), ends_at=ams(2026, 3, 2, 17)
    )
    only_other.products.add(saas)
    only_other.organisations.add(other)
    figures = dict(
        availability_for_period(start=WEEK[0], end=WEEK[1], organisation_id=mine.pk, now=ams(2026, 4, 1))
    )
    assert figures[saas].percent == EXPECTED
    assert figures[HostedProduct.objects.get(code="data-manager")].percent == Decimal("100.000")
    theirs = dict(
        availability_for_period(start=WEEK[0], end=WEEK[1], organisation_id=other.pk, now=ams(2026, 4, 1))
    )
    assert theirs[saas].down_seconds == (10 + 8) * HOUR


def test_the_window_runs_from_friday_evening_to_monday_four_in_the_morning():
    """001 §5.4: "Maandag t/m Vrijdag 20:00-04:00", "Zaterdag 0:00-23:59", "Zondag 0:00-23:59":
    one stretch from Friday 20:00 to Monday 04:00 (SPEC §8)."""
    windows = maintenance_windows()
    assert WeeklyWindow(0, time(20), time(4)) in windows and WeeklyWindow(6, time(0), time(0)) in windows
    assert WeeklyWindow(0, time(0), time(4)) in windows
    stretches = intervals_merge(maintenance_intervals(windows, ams(2026, 3, 6, 12), ams(2026, 3, 9, 12)))
    assert stretches == [(ams(2026, 3, 6, 20), ams(2026, 3, 9, 4))]


def test_windows_follow_daylight_saving_time():
    # Sunday 29 March 2026 has 23 hours; the window Friday 27 20:00 - Monday 30 04:00 is 55 h
    intervals = maintenance_intervals(maintenance_windows(), ams(2026, 3, 27, 12), ams(2026, 3, 30, 12))
    assert [(a, b) for a, b in intervals] == [(ams(2026, 3, 27, 20), ams(2026, 3, 30, 4))]
    assert intervals[0][1].timestamp() - intervals[0][0].timestamp() == 55 * HOUR


# --- announcing maintenance -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (ams(2026, 3, 3, 14), ams(2026, 3, 3, 16)),  # Tuesday afternoon
        (ams(2026, 3, 6, 18), ams(2026, 3, 6, 22)),  # Friday, starting before 20:00
        (ams(2026, 3, 9, 2), ams(2026, 3, 9, 5)),  # Monday, running past 04:00
    ],
)
@time_machine.travel(ams(2026, 3, 2, 9), tick=False)
def test_maintenance_outside_the_window_cannot_be_announced(manager_client, starts, ends):
    """001 §5.4 plans maintenance in the window ("Maandag t/m Vrijdag 20:00-04:00", Saturday and
    Sunday); an announcement for another time is refused with a clear form error."""
    response = manager_client.post(
        "/manager/announcements/",
        {
            "topic": "maintenance",
            "title": "Upgrade",
            "body": "Database-upgrade.",
            "maintenance_starts_at": f"{starts:%Y-%m-%dT%H:%M}",
            "maintenance_ends_at": f"{ends:%Y-%m-%dT%H:%M}",
        },
    )
    assert response.status_code == 400
    assert "only be planned inside the maintenance window" in response.content.decode()
    assert not Announcement.objects.exists()


@time_machine.travel(ams(2026, 3, 2, 9), tick=False)
def test_maintenance_inside_the_window_is_announced_with_its_period(manager_client, manager):
    response = manager_client.post(
        "/manager/announcements/",
        {
            "topic": "maintenance",
            "title": "Upgrade",
            "body": "Database-upgrade.",
            "maintenance_starts_at": "2026-03-06T22:00",
            "maintenance_ends_at": "2026-03-09T03:00",
        },
    )
    assert response.status_code == 302
    made = Announcement.objects.get()
    assert (made.maintenance_starts_at, made.maintenance_ends_at) == (ams(2026, 3, 6, 22), ams(2026, 3, 9, 3))
    with pytest.raises(ValidationError, match="needs its period"):
        announcements.announcement_publish(
            by=manager, topic=NotificationTopic.MAINTENANCE, title="x", body="y"
        )
    with pytest.raises(ValidationError, match="already started"):
        announcements.announcement_publish(
            by=manager,
            topic=NotificationTopic.MAINTENANCE,
            title="x",
            body="y",
            maintenance_starts_at=ams(2026, 2, 28, 10),
            maintenance_ends_at=ams(2026, 2, 28, 12),
        )


# --- recording outages ------------------------------------------------------------------------


@time_machine.travel(ams(2026, 3, 9, 0, 0), tick=False)
def test_customer_page_shows_its_products_and_the_manager_page_records_outages(client, manager_client):
    organisation = organisation_on_level("extended")
    saas = HostedProduct.objects.get(code="qixium-saas")
    response = manager_client.post(
        "/manager/availability/?year=2026",
        {
            "action": "outage",
            "outage-title": "Database down",
            "outage-starts_at": "2026-03-03T10:00",
            "outage-ends_at": "2026-03-03T12:00",
            "outage-products": [saas.pk],
        },
    )
    assert response.status_code == 302
    assert Outage.objects.get().created_by is not None
    bad = manager_client.post(
        "/manager/availability/",
        {
            "action": "outage",
            "outage-title": "x",
            "outage-starts_at": "2026-03-03T12:00",
            "outage-ends_at": "2026-03-03T10:00",
            "outage-products": [saas.pk],
        },
    )
    assert bad.status_code == 400 and "An outage ends after it starts." in bad.content.decode()
    assert manager_client.get("/manager/availability/?year=abc").status_code == 200
    customer = UserFactory(role=Role.CUSTOMER_USER, organisation=organisation)
    client.logout()
    login_with_second_factor(client, customer)
    page = client.get("/portal/service/availability/?year=2026")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Database down" in text and "Qixium SaaS Platform" in text and "counts as downtime" in text


@time_machine.travel(ams(2026, 3, 9, 0, 0), tick=False)
def test_an_outage_links_only_to_maintenance_announced_before_it_began(manager_client):
    """001 §5.2: only "vooraf ... aangekondigde" maintenance is left out: the manager's outage
    form refuses a link to maintenance announced after the outage began, and accepts one made
    in time; the figures follow."""
    saas = HostedProduct.objects.get(code="qixium-saas")
    late, in_time = announcement(*LATE), announcement(*ANNOUNCED)
    form = {"action": "outage", "outage-title": "Upgrade", "outage-products": [saas.pk]}
    refused = manager_client.post(
        "/manager/availability/?year=2026",
        {
            **form,
            "outage-starts_at": "2026-03-08T10:00",
            "outage-ends_at": "2026-03-08T13:00",
            "outage-maintenance": late.pk,
        },
    )
    assert refused.status_code == 400
    assert "after the outage began" in refused.content.decode() and not Outage.objects.exists()
    outside = manager_client.post(
        "/manager/availability/?year=2026",
        {
            **form,
            "outage-starts_at": "2026-03-03T10:00",
            "outage-ends_at": "2026-03-03T12:00",
            "outage-maintenance": in_time.pk,
        },
    )
    assert outside.status_code == 400 and "outside the announced maintenance" in outside.content.decode()
    ok = manager_client.post(
        "/manager/availability/?year=2026",
        {
            **form,
            "outage-starts_at": "2026-03-04T20:00",
            "outage-ends_at": "2026-03-05T01:00",
            "outage-maintenance": in_time.pk,
        },
    )
    assert ok.status_code == 302 and Outage.objects.get().maintenance == in_time
    fm = manager_client.post(
        "/manager/availability/?year=2026",
        {
            **form,
            "outage-title": "DDoS",
            "outage-starts_at": "2026-03-03T10:00",
            "outage-ends_at": "2026-03-03T11:00",
            "outage-force_majeure": "on",
        },
    )
    assert fm.status_code == 302
    figures = dict(availability_for_period(start=WEEK[0], end=WEEK[1], organisation_id=None))
    assert figures[saas].down_seconds == 0 and figures[saas].covered_seconds == (168 - 5 - 1) * HOUR


def test_editing_a_window_changes_what_may_be_announced(manager):
    MaintenanceWindow.objects.filter(weekday=5).delete()  # Saturday is no longer maintenance
    with time_machine.travel(ams(2026, 3, 2, 9), tick=False), pytest.raises(ValidationError, match="window"):
        announcements.announcement_publish(
            by=manager,
            topic=NotificationTopic.MAINTENANCE,
            title="x",
            body="y",
            maintenance_starts_at=ams(2026, 3, 7, 10),
            maintenance_ends_at=ams(2026, 3, 7, 12),
        )


def test_the_service_report_counts_an_unannounced_weekend_outage():
    """001 §5.2: the quarterly report's availability follows the same rule: a Sunday outage
    nobody announced is downtime, a force majeure one is not."""
    from managers.reports import report_content

    organisation = organisation_on_level("extended")
    saas = HostedProduct.objects.get(code="qixium-saas")
    for title, day, force_majeure in (("Crash", 8, False), ("DDoS", 7, True)):
        outage = Outage.objects.create(
            title=title,
            starts_at=ams(2026, 3, day, 10),
            ends_at=ams(2026, 3, day, 14),
            force_majeure=force_majeure,
        )
        outage.products.add(saas)
    content = report_content(
        organisation=organisation,
        start=ams(2026, 1, 1).date(),
        end=ams(2026, 3, 31).date(),
        now=ams(2026, 4, 2),
    )
    _name, percent, covered, down = next(row for row in content.availability if row[0] == saas.name)
    # the quarter has 90 days less the hour of daylight saving time; the force majeure 4 h are out
    assert covered == (90 * 24 - 1 - 4) * HOUR and down == 4 * HOUR and percent == Decimal("99.814")


@pytest.mark.parametrize(
    ("year", "percent"), [(2019, "99.80"), (2022, "99.80"), (2023, "99.00"), (2045, "99.00")]
)
def test_the_availability_target_is_that_of_the_policy_version_in_force(year, percent):
    """Document 000 §5.1.1: "het beoogde servicebeschikbaarheidsdoel van 99,8% uptime"; document 001
    §5.2: "een beschikbaarheid van 99% per kalenderjaar". A year is measured against the version
    in force at its end."""
    assert str(availability_target_for(year=year)) == percent
    assert str(PolicyVersion.objects.get(document="000").availability_percent) == "99.80"
