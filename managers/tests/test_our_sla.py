"""The customers' "Our SLA" page: what the SLA promises their organisation, and how it went."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Role
from accounts.tests.factories import UserFactory
from conftest import login_with_second_factor
from managers import announcements
from sla import services
from sla.tests.factories import organisation_on_level
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=AMS)  # Friday


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def resolved(organisation, *, registered, resolved_at):
    ticket = ticket_create(
        organisation=organisation,
        by=None,
        kind="incident",
        title="Storing",
        impact=2,
        urgency=2,
        registered_at=registered,
    )
    services.sla_clock_stop(ticket=ticket, kind="resolution", by=None, reason="opgelost", at=resolved_at)
    return ticket


@pytest.fixture
def two_organisations():
    """Ours (Default): one call resolved the next working day. Theirs: one resolved after a week."""
    ours, theirs = (
        organisation_on_level("default", name="Gemeente Ons"),
        organisation_on_level("default", name="Gemeente Ander"),
    )
    resolved(ours, registered=ams(2026, 11, 23, 15, 0), resolved_at=ams(2026, 11, 24, 15, 30))
    resolved(theirs, registered=ams(2026, 11, 16, 10, 0), resolved_at=ams(2026, 11, 25, 10, 0))
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=ours)
    UserFactory(role=Role.COORDINATOR, organisation=theirs)
    UserFactory(role=Role.COORDINATOR, organisation=theirs, is_active=False)
    return {"ours": ours, "theirs": theirs, "coordinator": coordinator}


def _row(page: str, label: str) -> str:
    start = page.index(label)
    return page[start : page.index("</tr>", start)]


def _figure(page: str, *, clock: str, high: bool, label: str) -> str:
    """The "Yours" cell of a published figure's row."""
    for row in page.split('<tr class="figure-row"')[1:]:
        row = row[: row.index("</tr>")]
        if f'data-clock="{clock}" data-high="{"yes" if high else "no"}"' in row and label in row:
            return row[row.index('class="actual"') :]
    raise AssertionError(f"no row {clock} {high} {label}")


@time_machine.travel(NOW, tick=False)
def test_our_sla_shows_the_level_version_targets_hours_closed_days_and_our_figures(
    client, two_organisations, manager
):
    """Document 001 §1.2.2 (Default: "Support Business Tijden 10-16*", "Max 2" coordinators,
    "Consultant Boektijd (min dagen) 21", "* Nederlandse feestdagen zijn uitgesloten"), §1.2.3
    (incident "Reactietijd (uren)" 4 / 8 / 16, "70% volgende werkdag") and §5.2 ("99% per
    kalenderjaar"), for the customer's own organisation."""
    announcements.policy_version_announce(
        by=manager, document="002", name="SLA 2027", effective_from=ams(2027, 1, 1).date(), at=NOW
    )
    login_with_second_factor(client, two_organisations["coordinator"])
    response = client.get("/portal/service/sla/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Default" in page and "Praktische Ondersteuningsrichtlijnen &amp; DNO (SLA)" in page
    assert 'id="next-version"' in page and "SLA 2027" in page
    assert "1 of 2 seats used, 1 left." in page
    assert "10:00\u201316:00" in page and "08:00" not in page  # an en dash between the times
    assert 'datetime="2026-12-25"' in page and 'datetime="2027-04-27"' in page  # King's Day 2027
    assert "at least 21 days" in page and "99.00% per calendar year" in page
    incident_response = _row(page, "<td>Incident</td><td>Response</td>")
    assert "<td>4 business hours</td><td>8 business hours</td><td>16 business hours</td>" in incident_response
    # our one resolution (Monday 15:00 -> Tuesday 15:30) was on the next working day: 100%
    assert "100.0%" in _figure(page, clock="resolution", high=False, label="70% next working day")
    assert "(1/1)" in _figure(page, clock="resolution", high=False, label="70% next working day")


@time_machine.travel(NOW, tick=False)
def test_our_sla_never_shows_another_organisations_figures_or_seats(client, two_organisations):
    login_with_second_factor(client, two_organisations["coordinator"])
    page = client.get("/portal/service/sla/").content.decode()
    assert "Gemeente Ander" not in page
    assert 'class="actual">0.0%' not in page and "(1/2)" not in page and "(0/1)" not in page
    # and theirs shows theirs
    client.logout()
    login_with_second_factor(client, two_organisations["theirs"].users.filter(is_active=True).get())
    page = client.get("/portal/service/sla/").content.decode()
    assert "1 of 2 seats used" in page
    assert '0.0% <span class="muted">(0/1)</span>' in _figure(
        page, clock="resolution", high=False, label="70% next working day"
    )


@time_machine.travel(NOW, tick=False)
def test_our_sla_costs_the_same_queries_with_more_calls(
    client, two_organisations, django_assert_max_num_queries
):
    login_with_second_factor(client, two_organisations["coordinator"])
    client.get("/portal/service/sla/")  # builds the calendar once per process
    with django_assert_max_num_queries(40) as first:
        assert client.get("/portal/service/sla/").status_code == 200
    for day in (16, 17, 18, 19, 20):
        resolved(
            two_organisations["ours"],
            registered=ams(2026, 11, day, 10, 0),
            resolved_at=ams(2026, 11, day, 12, 0),
        )
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get("/portal/service/sla/").status_code == 200


def test_our_sla_is_for_customers_and_says_so_without_a_contract(client, manager_client):
    assert manager_client.get("/portal/service/sla/").status_code == 403
    manager_client.logout()
    login_with_second_factor(client, UserFactory(role=Role.CUSTOMER_USER))  # no contract
    response = client.get("/portal/service/sla/")
    assert response.status_code == 200 and 'id="no-contract"' in response.content.decode()
