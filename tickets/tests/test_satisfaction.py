"""Customer satisfaction (issue 17): asked when a resolution is confirmed or the ticket closes
by itself, answered once in the portal or through the mailed link, low scores to the
managers, and the managers' figures (in managers/tests/test_satisfaction.py)."""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from accounts.models import Notification, NotificationTopic, Role, Subscription
from tickets import services
from tickets.models import SatisfactionRating, Ticket
from tickets.services.satisfaction import RATING_LINK_DAYS, rating_ticket_from_token, rating_token
from tickets.tests.factories import product, register

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
    assert rating.sla_met is True and rating.week == rating.created_at.date() - timedelta(
        days=rating.created_at.weekday()
    )
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
