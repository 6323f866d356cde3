"""Customer satisfaction (issue 17): asked when a resolution is confirmed or the ticket closes
by itself, answered once in the portal or through the mailed link, low scores to the
managers, and the managers' figures next to the SLA compliance of the same tickets."""

import re
import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from accounts.models import Notification, NotificationTopic, Role, Subscription
from managers.satisfaction import satisfaction_for_period, satisfaction_overview, week_start
from tickets import services
from tickets.models import SatisfactionRating, Ticket
from tickets.services.satisfaction import RATING_LINK_DAYS, rating_ticket_from_token, rating_token
from tickets.tests.conftest import MONDAY_9
from tickets.tests.factories import coordinator_on, product, register

pytestmark = pytest.mark.django_db

RATE_LINK = re.compile(r"https?://[^\s]+/rate/([^/\s]+)/")


def resolved(coordinator, agent, **fields) -> Ticket:
    ticket = register(coordinator, **fields)
    ticket = services.ticket_classify(ticket=ticket, by=agent, clarity="clear")
    return services.ticket_resolve(ticket=ticket, by=agent, resolution="Cache geleegd; het werkt weer.")


def closed(coordinator, agent, **fields) -> Ticket:
    ticket = resolved(coordinator, agent, **fields)
    return services.ticket_confirm(ticket=ticket, by=coordinator)


def link_in(notification: Notification) -> str:
    match = RATE_LINK.search(notification.body)
    assert match, notification.body
    return reverse("rate", args=[match.group(1)])


# --- asking ---------------------------------------------------------------------------------


def test_the_resolution_mail_carries_the_rating_link_for_the_customer_only(
    coordinator_ext, agent, consultant
):
    ticket = register(coordinator_ext)
    ticket.consultant = consultant
    Ticket.objects.filter(pk=ticket.pk).update(consultant=consultant)
    resolved_ticket = services.ticket_resolve(
        ticket=services.ticket_classify(ticket=ticket, by=agent, clarity="clear"), by=agent, resolution="ok"
    )
    to_customer = Notification.objects.get(recipient=coordinator_ext, subject__contains="resolved")
    token = RATE_LINK.search(to_customer.body).group(1)
    assert rating_ticket_from_token(token) == resolved_ticket  # signed for this ticket
    to_consultant = Notification.objects.get(recipient=consultant, subject__contains="resolved")
    assert "/rate/" not in to_consultant.body  # the question is the customer's alone


def test_a_ticket_that_closes_by_itself_asks_in_its_closing_mail(coordinator_ext, agent, settings):
    settings.SLA_REOPEN_DAYS = 14
    ticket = resolved(coordinator_ext, agent)
    assert services.tickets_close_unconfirmed(now=ticket.resolved_at + timedelta(days=15)) == 1
    closing = Notification.objects.filter(recipient=coordinator_ext, subject__contains="closed").get()
    assert "/rate/" in closing.body and "14 days" in closing.body


def test_after_confirming_the_portal_asks_and_records_the_answer(client, coordinator_ext, agent):
    ticket = resolved(coordinator_ext, agent)
    client.force_login(coordinator_ext)
    assert 'id="form-rate"' not in client.get(reverse("portal:detail", args=[ticket.pk])).content.decode()
    response = client.post(reverse("portal:action", args=[ticket.pk, "confirm"]), {"version": ticket.version})
    assert response.status_code == 302
    page = client.get(reverse("portal:detail", args=[ticket.pk])).content.decode()
    assert 'id="form-rate"' in page and 'type="radio" name="score" value="5"' in page
    assert "<legend>" in page  # the five radios are one labelled group
    response = client.post(
        reverse("portal:action", args=[ticket.pk, "rate"]), {"score": "4", "comment": "Snel opgelost."}
    )
    assert response.status_code == 302
    rating = SatisfactionRating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.rated_by, rating.channel) == (
        4,
        "Snel opgelost.",
        coordinator_ext,
        "portal",
    )
    assert rating.agent == agent and rating.service_level == ticket.service_level
    assert rating.product == product() and rating.organisation == coordinator_ext.organisation
    assert rating.sla_met is True and rating.week == week_start(rating.created_at.date())
    page = client.get(reverse("portal:detail", args=[ticket.pk])).content.decode()
    assert 'id="form-rate"' not in page and 'id="rating-score">4/5' in page


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"score": "9"}, "Select a valid choice"),
        ({"score": ""}, "Choose a score from 1 to 5."),
        ({"score": "3", "comment": "x" * 1001}, "1000 characters"),
    ],
)
def test_bad_portal_ratings_get_a_form_error_and_write_nothing(client, coordinator_ext, agent, data, error):
    ticket = closed(coordinator_ext, agent)
    client.force_login(coordinator_ext)
    response = client.post(reverse("portal:action", args=[ticket.pk, "rate"]), data)
    assert response.status_code == 400 and error in response.content.decode()
    assert not SatisfactionRating.objects.exists()


def test_the_service_bounds_score_and_comment_too(coordinator_ext, agent):
    ticket = closed(coordinator_ext, agent)
    with pytest.raises(Exception, match="from 1 to 5"):
        services.satisfaction_rate(ticket=ticket, by=coordinator_ext, score=0)
    with pytest.raises(Exception, match="1000 characters"):
        services.satisfaction_rate(ticket=ticket, by=coordinator_ext, score=3, comment="x" * 1001)
    assert not SatisfactionRating.objects.exists()


def test_an_open_ticket_cannot_be_rated(client, coordinator_ext, agent):
    ticket = register(coordinator_ext)
    client.force_login(coordinator_ext)
    response = client.post(reverse("portal:action", args=[ticket.pk, "rate"]), {"score": "5"})
    assert response.status_code == 409 and not SatisfactionRating.objects.exists()


def test_another_organisations_ticket_cannot_be_rated(client, coordinator_ext, other_customer, agent):
    ticket = closed(coordinator_ext, agent)
    client.force_login(other_customer)
    response = client.post(reverse("portal:action", args=[ticket.pk, "rate"]), {"score": "1"})
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        services.satisfaction_rate(ticket=ticket, by=other_customer, score=1)
    with pytest.raises(PermissionDenied):
        services.satisfaction_rate(ticket=ticket, by=agent, score=5)  # staff never rate their own work
    assert not SatisfactionRating.objects.exists()


# --- the mailed link ------------------------------------------------------------------------


def test_the_mailed_link_rates_once_without_login(client, coordinator_ext, agent):
    ticket = resolved(coordinator_ext, agent)
    path = link_in(Notification.objects.get(recipient=coordinator_ext, subject__contains="resolved"))
    page = client.get(path)
    assert page.status_code == 200 and 'id="form-rate"' in page.content.decode()
    response = client.post(path, {"score": "5", "comment": "Top"})
    assert response.status_code == 200 and 'id="rate-thanks"' in response.content.decode()
    again = client.post(path, {"score": "1", "comment": "anders"})
    assert again.status_code == 200 and "already rated" in again.content.decode()
    rating = SatisfactionRating.objects.get()
    assert (rating.ticket_id, rating.score, rating.comment, rating.channel) == (ticket.pk, 5, "Top", "mail")
    assert rating.rated_by == coordinator_ext  # the requester: nobody was logged in


def test_a_bad_score_through_the_link_is_a_form_error(client, coordinator_ext, agent):
    ticket = resolved(coordinator_ext, agent)
    response = client.post(reverse("rate", args=[rating_token(ticket)]), {"score": "six"})
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    assert not SatisfactionRating.objects.exists()


def test_a_tampered_or_expired_link_gets_a_clear_page(client, coordinator_ext, agent):
    ticket = resolved(coordinator_ext, agent)
    token = rating_token(ticket)
    tampered = token.replace(token[2], "A" if token[2] != "A" else "B", 1)
    for bad in (tampered, "nonsense", token + "x"):
        response = client.post(reverse("rate", args=[bad]), {"score": "5"})
        assert response.status_code == 400 and "not valid" in response.content.decode()
    with time_machine.travel(timedelta(days=RATING_LINK_DAYS, hours=1)):
        response = client.post(reverse("rate", args=[token]), {"score": "5"})
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert not SatisfactionRating.objects.exists()


def test_a_link_of_a_reopened_ticket_rates_nothing(client, coordinator_ext, agent):
    ticket = resolved(coordinator_ext, agent)
    services.ticket_reopen(ticket=ticket, by=coordinator_ext, reason="Het is terug")
    response = client.post(reverse("rate", args=[rating_token(ticket)]), {"score": "5"})
    assert response.status_code == 409 and not SatisfactionRating.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_answers_at_once_make_one_rating(coordinator_ext, agent):
    """The unique key decides a race: each thread gets past the "already rated?" look-up."""
    ticket = closed(coordinator_ext, agent)
    barrier, outcomes = threading.Barrier(2), []

    def answer(score):
        try:
            barrier.wait()
            services.satisfaction_rate(ticket=ticket, by=coordinator_ext, score=score)
            outcomes.append("rated")
        except services.AlreadyRated:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(score,)) for score in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already", "rated"]
    assert SatisfactionRating.objects.count() == 1


# --- low scores -----------------------------------------------------------------------------


def test_a_low_score_notifies_the_support_managers_once(coordinator_ext, agent, manager, make_staff):
    other_manager = make_staff(Role.MANAGER)
    Subscription.objects.filter(user=other_manager, topic=NotificationTopic.LOW_SATISFACTION).delete()
    ticket = closed(coordinator_ext, agent)
    with pytest.MonkeyPatch.context():
        services.satisfaction_rate(ticket=ticket, by=coordinator_ext, score=2, comment="Te traag")
    with pytest.raises(services.AlreadyRated):
        services.satisfaction_rate(ticket=ticket, by=coordinator_ext, score=1)
    sent = Notification.objects.filter(topic=NotificationTopic.LOW_SATISFACTION)
    assert [row.recipient for row in sent] == [manager]  # once; not to the one who opted out
    assert "2" in sent[0].subject and "Te traag" in sent[0].body
    assert sent[0].link.endswith(reverse("desk:detail", args=[ticket.pk]))


def test_a_good_score_notifies_nobody(coordinator_ext, agent, manager):
    services.satisfaction_rate(ticket=closed(coordinator_ext, agent), by=coordinator_ext, score=3)
    assert not Notification.objects.filter(topic=NotificationTopic.LOW_SATISFACTION).exists()


def test_a_breached_ticket_is_rated_as_not_meeting_its_sla(coordinator_ext, agent, monday):
    """001 §1.2.2: "De respons- en oplostijden gelden vanaf de officiële registratie van een
    oproep" - a resolution a week later is past any High resolution target."""
    ticket = register(coordinator_ext, urgency=1, impact=1)
    monday.shift(timedelta(days=7))
    ticket = services.ticket_classify(ticket=ticket, by=agent, clarity="clear")
    ticket = services.ticket_resolve(ticket=ticket, by=agent, resolution="ok")
    services.ticket_confirm(ticket=ticket, by=coordinator_ext)
    rating = services.satisfaction_rate(ticket=ticket, by=coordinator_ext, score=2)
    assert rating.sla_met is False


# --- the managers' figures ------------------------------------------------------------------


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
    from managers.rollup import day_start

    figures = satisfaction_for_period(
        organisation_id=coordinator_ext.organisation_id,
        start=day_start(start),
        end=day_start(start + timedelta(days=14)),
    )
    assert (figures.total.count, str(figures.total.average), figures.total.low) == (3, "3.7", 1)
    assert figures.distribution == [(1, 0), (2, 1), (3, 0), (4, 1), (5, 1)]


def test_the_service_report_has_a_satisfaction_section(coordinator_ext, agent):
    from managers.reports import report_content, report_html, report_pdf

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
