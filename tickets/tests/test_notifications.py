"""Issue 14: customers are told when the next move is theirs. Ticket updates are on by default
for the requester and the organisation's coordinators, every mail has a text and an HTML part
with an absolute link to the ticket, a switched-off topic sends nothing, and a user who chose
the daily digest gets one mail a day with all their updates."""

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.urls import reverse

from accounts.models import Notification, NotificationTopic, Role, Subscription
from accounts.services import notification_deliver_pending, notification_preferences_set
from accounts.tasks import notification_deliver_pending_task, notification_digests_send_task
from accounts.tests.factories import UserFactory
from conftest import login_with_second_factor
from tickets import services
from tickets.tests.conftest import AMS
from tickets.tests.factories import register

ROOT = Path(__file__).resolve().parents[2]


def _mails_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


def _html(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def test_new_customers_start_with_ticket_updates_and_coordinators_also_with_sla_at_risk(db):
    customer = UserFactory(role=Role.CUSTOMER_USER)
    coordinator = UserFactory(role=Role.COORDINATOR)
    agent = UserFactory(role=Role.AGENT)

    def topics(user):
        return set(Subscription.objects.filter(user=user).values_list("topic", flat=True))

    assert topics(customer) == {NotificationTopic.TICKET_UPDATE}
    assert topics(coordinator) == {NotificationTopic.TICKET_UPDATE, NotificationTopic.SLA_AT_RISK}
    assert topics(agent) == set()  # staff hear through the RACI table, as before


def test_a_question_mails_the_requester_by_default_with_both_parts_and_a_working_link(
    coordinator_ext, customer_user_ext, agent, client, monday
):
    """SPEC §2: a question from support pauses the resolution clock until the customer answers,
    so the customer must be told: by default, in a mail whose link opens the ticket."""
    # given
    ticket = register(coordinator_ext)
    mail.outbox.clear()
    # when
    services.ticket_question_ask(ticket=ticket, by=agent, question="Welke foutmelding <b>ziet</b> u?")
    notification_deliver_pending()
    # then
    [message] = _mails_to(coordinator_ext)
    assert not _mails_to(customer_user_ext)  # a customer user hears of the tickets they registered
    link = settings.SITE_URL.rstrip("/") + reverse("portal:detail", args=[ticket.pk])
    assert link.startswith("http")
    assert ticket.reference in message.subject
    assert "Welke foutmelding <b>ziet</b> u?" in message.body and link in message.body
    html = _html(message)
    assert f'href="{link}"' in html
    assert "Welke foutmelding &lt;b&gt;ziet&lt;/b&gt; u?" in html and "<b>ziet" not in html
    # the link works for the recipient
    login_with_second_factor(client, coordinator_ext)
    response = client.get(urlsplit(link).path)
    assert response.status_code == 200
    assert "Welke foutmelding" in response.content.decode()


def test_a_switched_off_topic_sends_nothing(coordinator_ext, agent, monday):
    ticket = register(coordinator_ext)
    notification_preferences_set(user=coordinator_ext, topics={NotificationTopic.NEWS})
    mail.outbox.clear()
    services.ticket_question_ask(ticket=ticket, by=agent, question="Sinds wanneer?")
    services.message_reply_public(ticket=ticket, by=agent, body="We kijken ernaar.")
    notification_deliver_pending()
    assert not Notification.objects.filter(recipient=coordinator_ext).exists()
    assert not _mails_to(coordinator_ext)


def test_staff_mails_link_to_the_desk(coordinator_ext, agent, monday):
    ticket = register(coordinator_ext)
    services.ticket_assign(ticket=ticket, by=UserFactory(role=Role.MANAGER), assignee=agent)
    notification = Notification.objects.get(recipient=agent)
    assert notification.link == settings.SITE_URL.rstrip("/") + reverse("desk:detail", args=[ticket.pk])


def test_a_digest_user_gets_one_mail_a_day_with_all_updates(coordinator_ext, agent, monday):
    # given: the requester chose the daily digest
    notification_preferences_set(user=coordinator_ext, topics={NotificationTopic.TICKET_UPDATE}, digest=True)
    ticket = register(coordinator_ext)
    mail.outbox.clear()
    # when: two updates during Monday
    services.ticket_question_ask(ticket=ticket, by=agent, question="Welke browser?")
    services.message_reply_public(ticket=ticket, by=agent, body="We hebben het gevonden.")
    notification_deliver_pending_task.apply()
    # then: held, not sent, not lost
    assert not _mails_to(coordinator_ext)
    assert Notification.objects.filter(recipient=coordinator_ext, held_for_digest=True).count() == 2
    # before the digest hour nothing goes; the next morning the beat task runs twice
    monday.move_to(datetime(2026, 11, 24, 6, 30, tzinfo=AMS))
    assert notification_digests_send_task.apply().get() == 0
    monday.move_to(datetime(2026, 11, 24, 7, 5, tzinfo=AMS))
    assert notification_digests_send_task.apply().get() == 1
    monday.move_to(datetime(2026, 11, 24, 8, 5, tzinfo=AMS))
    assert notification_digests_send_task.apply().get() == 0
    notification_deliver_pending_task.apply()
    [digest] = _mails_to(coordinator_ext)
    assert "Welke browser?" in digest.body and "We hebben het gevonden." in digest.body
    assert settings.SITE_URL.rstrip("/") + reverse("portal:detail", args=[ticket.pk]) in digest.body
    assert "Welke browser?" in _html(digest)
    assert not Notification.objects.filter(held_for_digest=True).exists()
    # an update later that day waits for the next day's digest
    services.message_reply_public(ticket=ticket, by=agent, body="Opgelost.")
    assert notification_digests_send_task.apply().get() == 0
    with time_machine.travel(datetime(2026, 11, 25, 7, 5, tzinfo=AMS), tick=False):
        assert notification_digests_send_task.apply().get() == 1


def test_the_preferences_page_chooses_the_digest(client, coordinator_ext):
    login_with_second_factor(client, coordinator_ext)
    page = client.get(reverse("portal:preferences")).content.decode()
    assert 'value="sla_at_risk"' in page  # a coordinator's own topic
    response = client.post(
        reverse("portal:preferences"), {"topics": ["ticket_update"], "notification_digest": "on"}
    )
    assert response.status_code == 302
    coordinator_ext.refresh_from_db()
    assert coordinator_ext.notification_digest is True
    assert set(Subscription.objects.filter(user=coordinator_ext).values_list("topic", flat=True)) == {
        "ticket_update"
    }


def test_existing_customers_who_never_chose_get_the_defaults_and_choices_stay(db):
    migration = __import__(
        "accounts.migrations.0011_notification_defaults_for_existing_customers", fromlist=["x"]
    )
    never_chose = UserFactory(role=Role.CUSTOMER_USER)
    chose_news_only = UserFactory(role=Role.COORDINATOR)
    agent = UserFactory(role=Role.AGENT)
    Subscription.objects.all().delete()  # as before the defaults existed
    Subscription.objects.create(user=chose_news_only, topic=NotificationTopic.NEWS)
    migration.subscribe_existing_customers(apps, None)

    def topics(user):
        return set(Subscription.objects.filter(user=user).values_list("topic", flat=True))

    assert topics(never_chose) == {"ticket_update"}
    assert topics(chose_news_only) == {"news", "sla_at_risk"}
    assert topics(agent) == set()


def test_the_settings_derive_site_url_from_bind(tmp_path):
    """bin/run exports BIND; every process it starts then mails links to where it serves."""
    env = {k: v for k, v in os.environ.items() if k != "SITE_URL"}
    env.update(BIND="127.0.0.1:8123", DEBUG="1", DJANGO_SETTINGS_MODULE="sla_portal.settings")
    code = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    result = subprocess.run(  # noqa: S603 - this interpreter and a fixed command
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "http://127.0.0.1:8123", result.stderr
    assert "export BIND=" in (ROOT / "bin" / "run").read_text()


@pytest.mark.parametrize(
    ("bind", "site_url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("0.0.0.0:9000", "http://localhost:9000"),
        ("example.test:80", "http://example.test:80"),
    ],
)
def test_site_url_follows_bind_when_not_set(bind, site_url):
    from sla_portal.settings import site_url_from_bind

    assert site_url_from_bind(bind) == site_url
