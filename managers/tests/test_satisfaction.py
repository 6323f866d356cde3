"""Customer satisfaction (issue 17), the managers' side: figures per week, agent, level and
product next to the SLA compliance of the same tickets, the page, the service report and the
dashboard card."""

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from managers.reports import report_content, report_html, report_pdf
from managers.rollup import day_start
from managers.satisfaction import satisfaction_for_period, satisfaction_overview, week_start
from tickets import services
from tickets.models import SatisfactionRating
from tickets.tests.conftest import MONDAY_9
from tickets.tests.factories import coordinator_on, product, register
from tickets.tests.test_satisfaction import closed

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_ext(db):
    return coordinator_on("extended")


def _rated(coordinator, agent, score, **fields):
    ticket = closed(coordinator, agent, **fields)
    return services.satisfaction_rate(ticket=ticket, by=coordinator, score=score)


def test_the_figures_per_week_agent_level_and_product_beside_the_sla(make_staff):
    agent, other_agent = make_staff(Role.AGENT), make_staff(Role.AGENT)
    extended, default = coordinator_on("extended"), coordinator_on("default")
    with time_machine.travel(MONDAY_9, tick=False) as traveller:
        _rated(extended, agent, 5)
        _rated(default, other_agent, 3, product_code="data-manager")
        traveller.shift(timedelta(days=7))
        late = register(extended, urgency=1, impact=1)
        traveller.shift(timedelta(days=7))
        late = services.ticket_resolve(
            ticket=services.ticket_classify(ticket=late, by=agent, clarity="clear"), by=agent, resolution="ok"
        )
        services.ticket_confirm(ticket=late, by=extended)
        services.satisfaction_rate(ticket=late, by=extended, score=1)
        overview = satisfaction_overview(today=MONDAY_9.date() + timedelta(days=14))
    assert len(overview.weeks) == 26 and overview.weeks[-1].key == week_start(MONDAY_9.date()) + timedelta(14)
    by_week = {row.key: row for row in overview.weeks if row.count}
    first, third = week_start(MONDAY_9.date()), week_start(MONDAY_9.date()) + timedelta(days=14)
    assert (by_week[first].count, str(by_week[first].average), str(by_week[first].met_percent)) == (
        2,
        "4.0",
        "100.0",
    )
    assert (by_week[third].count, by_week[third].average, str(by_week[third].met_percent)) == (1, 1, "0.0")
    assert (overview.total.count, str(overview.total.average), overview.total.low) == (3, "3.0", 1)
    agents = {row.key: row for row in overview.agents}
    assert (agents[agent.pk].count, str(agents[agent.pk].average), str(agents[agent.pk].met_percent)) == (
        2,
        "3.0",
        "50.0",
    )
    assert (agents[other_agent.pk].count, agents[other_agent.pk].average) == (1, 3)
    levels = {row.label: (row.count, str(row.average)) for row in overview.levels}
    assert levels == {"Extended": (2, "3.0"), "Default": (1, "3.0")}
    products = {row.key: (row.count, str(row.met_percent)) for row in overview.products}
    assert products == {product().pk: (2, "50.0"), product("data-manager").pk: (1, "100.0")}


@pytest.mark.parametrize("count", [2, 12])
def test_the_satisfaction_page_makes_a_constant_number_of_queries(
    client, manager, make_staff, count, django_assert_max_num_queries
):
    coordinator = coordinator_on("extended")
    agents = [make_staff(Role.AGENT) for _ in range(3)]
    for n in range(count):
        _rated(coordinator, agents[n % 3], n % 5 + 1)
    client.force_login(manager)
    client.get(reverse("manager:satisfaction"))
    with django_assert_max_num_queries(9):  # session, user, then five aggregates
        response = client.get(reverse("manager:satisfaction"))
    page = response.content.decode()
    assert response.status_code == 200 and f'id="satisfaction-count">{count}<' in page
    assert 'id="satisfaction-data"' in page and "<script>" not in page and 'style="' not in page


def test_only_managers_see_the_satisfaction_page(client, agent, coordinator_ext):
    for user in (agent, coordinator_ext):
        client.force_login(user)
        assert client.get(reverse("manager:satisfaction")).status_code == 403


def test_the_period_figures_of_an_organisation(coordinator_ext, agent):
    for score in (5, 4, 2):
        _rated(coordinator_ext, agent, score)
    _rated(coordinator_on("extended"), agent, 1)  # another organisation's
    start = week_start(SatisfactionRating.objects.earliest("created_at").created_at.date())
    figures = satisfaction_for_period(
        organisation_id=coordinator_ext.organisation_id,
        start=day_start(start),
        end=day_start(start + timedelta(days=14)),
    )
    assert (figures.total.count, str(figures.total.average), figures.total.low) == (3, "3.7", 1)
    assert figures.distribution == [(1, 0), (2, 1), (3, 0), (4, 1), (5, 1)]


def test_the_service_report_has_a_satisfaction_section(coordinator_ext, agent):
    for score in (5, 2):
        _rated(coordinator_ext, agent, score)
    _rated(coordinator_on("extended"), agent, 1)  # another organisation's: not in this report
    today = SatisfactionRating.objects.earliest("created_at").created_at.date()
    content = report_content(organisation=coordinator_ext.organisation, start=today, end=today)
    assert content.satisfaction["count"] == 2 and str(content.satisfaction["average"]) == "3.5"
    assert str(content.satisfaction["met_percent"]) == "100.0"
    assert content.satisfaction["distribution"] == [(1, 0), (2, 1), (3, 0), (4, 0), (5, 1)]
    html = report_html(content)
    assert 'id="report-satisfaction"' in html and "average 3.5 out of 5" in html
    assert report_pdf(content).startswith(b"%PDF")
    empty = report_content(
        organisation=coordinator_ext.organisation, start=date(2024, 1, 1), end=date(2024, 3, 31)
    )
    assert "No ticket was rated in this period." in report_html(empty)


def test_the_dashboard_has_a_card_linking_to_the_satisfaction_page(client, manager, coordinator_ext, agent):
    _rated(coordinator_ext, agent, 4)
    _rated(coordinator_ext, agent, 5)
    client.force_login(manager)
    page = client.get(reverse("manager:home")).content.decode()
    assert f'id="satisfaction-summary" href="{reverse("manager:satisfaction")}">4.5<' in page
    assert "2 ratings" in page and "SLA met 100.0%" in page
