"""Mail under a mail server that refuses or hangs, on real sockets: nothing is lost, every mail
is sent exactly once when the server is back, and the SLA sweep is never late because of it."""

import itertools
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Notification, NotificationTopic, Role
from accounts.tests.factories import UserFactory
from sla.models import ClockTransition, PendingCrossing
from sla.tests.factories import organisation_on_level
from tests.fault_servers import (
    app_environment,
    free_port,
    redis_server,
    send_task,
    smtp_server,
    wait_for,
    workers,
)
from tickets.services import ticket_create

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def smtp_port(settings):
    """The real SMTP backend, pointed at a free port where nothing listens yet."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 1  # the hung server's tests wait this long per run, not 10 s
    return port


def outbox(count: int) -> list[Notification]:
    users = [UserFactory(role=Role.AGENT) for _ in range(count)]
    return [
        Notification.objects.create(
            recipient=user, topic=NotificationTopic.TICKET_UPDATE, subject=f"Update {i}", body="x"
        )
        for i, user in enumerate(users)
    ]


def approve_an_account(manager) -> Notification:
    request = account_services.account_request_create(
        email="ria@klant.example", full_name="Ria Klant", organisation_name="Klant BV"
    )
    account_services.account_request_approve(account_request=request, by=manager)
    return Notification.objects.get(topic=NotificationTopic.ACCOUNT)


def deliver_every_minute(minutes: int, *, start: datetime) -> int:
    """The beat's delivery, once a minute for ``minutes`` minutes; what it sent."""
    sent = 0
    for minute in range(minutes):
        with time_machine.travel(start + timedelta(minutes=minute, seconds=1), tick=True):
            sent += account_services.notification_deliver_pending()
    return sent


def assert_each_sent_once(server, notifications: list[Notification]) -> None:
    received = [message["Message-ID"] for message in server.messages]
    assert len(received) == len(set(received)) == len(notifications)
    assert sorted(message["To"] for message in server.messages) == sorted(
        n.recipient.email for n in notifications
    )
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("refusal", ["nothing listening", "421 at the greeting"])
def test_mail_survives_an_hour_of_smtp_refusing_and_is_sent_once_when_it_returns(smtp_port, refusal, manager):
    # given 30 notifications and an approved account's welcome mail in the outbox
    notifications = [*outbox(30), approve_an_account(manager)]
    start = timezone.now()
    # when the mail server refuses for an hour (the old delivery gave up after ~4 minutes)
    if refusal == "nothing listening":
        assert deliver_every_minute(60, start=start) == 0
    else:
        with smtp_server(smtp_port, mode="421") as server:
            assert deliver_every_minute(60, start=start) == 0
        assert 60 <= server.connections <= 61  # one connection a minute, not one per mail
    # then nothing was given up and no attempt was spent on the outage
    for notification in Notification.objects.all():
        assert notification.sent_at is None and notification.attempts == 0
        assert notification.next_attempt_at is not None
        assert "mail server unavailable" in notification.last_error
    # and the first run after the server is back sends every mail exactly once
    with smtp_server(smtp_port) as server:
        assert deliver_every_minute(2, start=start + timedelta(minutes=60)) == len(notifications)
    assert_each_sent_once(server, notifications)
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db
def test_a_hung_smtp_server_costs_one_timeout_per_minute_and_loses_nothing(smtp_port, manager):
    # given an outbox and a mail server that accepts and never answers
    notifications = [*outbox(10), approve_an_account(manager)]
    with smtp_server(smtp_port, mode="hang") as hung:
        # when deliveries run (after each write and every minute)
        began = time.monotonic()
        assert account_services.notification_deliver_pending() == 0
        first_run = time.monotonic() - began
        began = time.monotonic()
        for _ in range(5):
            assert account_services.notification_deliver_pending() == 0
        next_runs = time.monotonic() - began
    # then the first run gives up after EMAIL_TIMEOUT, the next ones within the pause return at
    # once without connecting, and no row was attempted, claimed or given up
    assert first_run < 5 * django_settings.EMAIL_TIMEOUT
    assert next_runs < 1 and hung.connections == 1
    assert set(Notification.objects.values_list("attempts", "claimed_at")) == {(0, None)}
    assert "timed out" in Notification.objects.first().last_error
    # and after the pause a working server gets every mail once
    with smtp_server(smtp_port) as server, time_machine.travel(timedelta(minutes=1, seconds=1)):
        assert account_services.notification_deliver_pending() == len(notifications)
        assert account_services.notification_deliver_pending() == 0
    assert_each_sent_once(server, notifications)


@pytest.mark.django_db
def test_a_message_the_server_refuses_backs_off_exponentially_for_more_than_a_day(smtp_port):
    # given a mail the server keeps refusing with a temporary error (this is the message's
    # failure, not the server's: attempts are spent)
    [notification] = outbox(1)
    start = timezone.now()
    attempts_at = []
    with smtp_server(smtp_port), time_machine.travel(start, tick=False) as clock:
        while True:
            row = Notification.objects.get(pk=notification.pk)
            if row.next_attempt_at is None:
                break
            clock.move_to(max(row.next_attempt_at, timezone.now()) + timedelta(seconds=1))
            attempts_at.append(timezone.now())
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(account_services, "_message", _refused_message)
                assert account_services.notification_deliver_pending() == 0
    # then the gaps double from a minute up to four hours, and it gives up only after a day
    gaps = [round((b - a).total_seconds() / 60) for a, b in itertools.pairwise(attempts_at)]
    assert gaps[:9] == [1, 2, 4, 8, 16, 32, 64, 128, 240]
    assert attempts_at[-1] - attempts_at[0] >= timedelta(hours=24)
    row = Notification.objects.get(pk=notification.pk)
    assert row.attempts == account_services.NOTIFICATION_MAX_ATTEMPTS and row.sent_at is None
    assert "451" in row.last_error


def _refused_message(notification, connection):
    import smtplib

    class Refused:
        def send(self):
            raise smtplib.SMTPDataError(451, b"Try again later")

    return Refused()


@pytest.mark.django_db(transaction=True)
def test_a_delivery_killed_mid_batch_leaves_its_claims_to_be_sent_once_after_the_lease(smtp_port):
    # given a run that claimed a batch and died (a SIGKILL: nothing after the claim ran)
    notifications = outbox(5)
    claimed = account_services._claim(now=timezone.now(), batch_size=50)
    assert len(claimed) == 5
    with smtp_server(smtp_port) as server:
        # when other runs come before the lease ends, they leave the claimed rows alone
        assert account_services.notification_deliver_pending() == 0
        # and after the lease the rows are sent, once, the interrupted try counted as an attempt
        with time_machine.travel(account_services.NOTIFICATION_LEASE + timedelta(seconds=1)):
            assert account_services.notification_deliver_pending() == 5
            assert account_services.notification_deliver_pending() == 0
    assert_each_sent_once(server, notifications)
    assert set(Notification.objects.values_list("attempts", flat=True)) == {2}


def test_smtp_operations_time_out_after_ten_seconds_by_default():
    assert django_settings.EMAIL_TIMEOUT == 10.0


def late_ticket(organisation):
    """A ticket long past its response deadline (real time: the workers are not time-travelled)."""
    return ticket_create(
        organisation=organisation,
        by=None,
        kind="incident",
        title="Kan niet inloggen",
        impact=1,
        urgency=1,
        registered_at=datetime(2025, 3, 3, 9, 0, tzinfo=AMS),
    )


@pytest.mark.django_db(transaction=True)
def test_the_sweep_stays_on_time_while_mail_delivery_hangs_on_the_workers():
    """The sweep's lateness under a hung SMTP server stays within one beat interval (60 s):
    workers as bin/run starts them (one for every queue, one for the sweep's), real processes,
    a Redis of their own, the real default EMAIL_TIMEOUT."""
    # given an outbox and tickets whose deadlines have passed
    UserFactory(role=Role.MANAGER)
    outbox(20)
    organisation = organisation_on_level("default")
    tickets = [late_ticket(organisation) for _ in range(5)]
    port = free_port()
    with redis_server() as broker, smtp_server(port, mode="hang") as hung:
        environment = app_environment(
            REDIS_URL=broker,
            CELERY_BROKER_URL=broker,
            EMAIL_URL=f"smtp://127.0.0.1:{port}",
            CACHE_PREFIX="faults",
        )
        environment.pop("EMAIL_TIMEOUT", None)
        with workers({"main": "celery,sla", "sla": "sla"}, environment=environment) as started:
            # when writes queue deliveries that hang on the mail server, and then the beat
            # queues the sweep
            for _ in range(4):
                send_task(broker, "accounts.tasks.notification_deliver_pending_task")
            wait_for(lambda: hung.connections >= 1, timeout=20, what="a delivery talking to the hung server")
            beat_at = timezone.now()
            send_task(broker, "sla.tasks.sla_sweep_task")
            # then the sweep's own worker records every crossing within the beat interval
            wait_for(
                lambda: not PendingCrossing.objects.filter(at__lte=beat_at).exists(),
                timeout=60,
                what="the sweep, late",
            )
            recorded = ClockTransition.objects.filter(clock__ticket__in=tickets)
            assert recorded.count() == 2 * len(tickets)  # response: at risk and breached
            lateness = max(t.recorded_at for t in recorded) - beat_at
            print(f"sweep lateness under a hung SMTP server: {lateness.total_seconds():.1f} s")
            assert lateness < timedelta(seconds=60)
            wait_for(
                lambda: started["sla"].ran("sla.tasks.sla_sweep_task", "succeeded"),
                timeout=10,
                what="sla log",
            )
            # and the mail waits, unsent and unspent, for the server to come back
            wait_for(
                lambda: Notification.objects.filter(last_error__contains="unavailable").exists(),
                timeout=40,
                what="the delivery's timeout",
            )
            assert not Notification.objects.filter(attempts__gt=0).exists()
            assert not Notification.objects.filter(next_attempt_at__isnull=True).exists()


@pytest.mark.django_db
def test_approving_an_account_while_smtp_refuses_answers_the_manager_and_mails_later(
    smtp_port, manager_client, django_capture_on_commit_callbacks
):
    # given a pending account request, and a mail server that refuses
    request = account_services.account_request_create(
        email="ria@klant.example", full_name="Ria Klant", organisation_name="Klant BV"
    )
    # when the manager approves it (the old code sent the welcome mail inside this request)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(f"/account-requests/{request.pk}/decide/", {"decision": "approve"})
    # then the manager gets the usual redirect, and the welcome mail waits in the outbox
    assert response.status_code == 302
    welcome = Notification.objects.get(topic=NotificationTopic.ACCOUNT, recipient__email="ria@klant.example")
    assert welcome.sent_at is None
    assert account_services.notification_deliver_pending() == 0
    # and goes out once the server is back
    with smtp_server(smtp_port) as server, time_machine.travel(timedelta(minutes=1)):
        assert account_services.notification_deliver_pending() == 1
    assert [message["To"] for message in server.messages] == ["ria@klant.example"]
    [text] = [part for part in server.messages[0].walk() if part.get_content_type() == "text/plain"]
    assert "/accounts/password/reset/key/" in text.get_payload(decode=True).decode()
