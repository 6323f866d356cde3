"""The sweep: every at-risk and breach crossing recorded exactly once, with its digests, through
crashes, outages and concurrent sweeps; and the real Celery tasks that run it and deliver.

Times are frozen with time_machine; the ticket below is Extended, High, registered Monday
2026-11-23 09:00 Amsterdam: response due 11:00, at risk from 10:30 (75% of 2 h)."""

import threading
import time
from datetime import datetime, timedelta
from smtplib import SMTPServerDisconnected
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection

from accounts.models import Notification, NotificationTopic, Role, Subscription
from accounts.tasks import notification_deliver_pending_task
from accounts.tests.factories import UserFactory
from sla import services
from sla.models import Clock, ClockTransition, PendingCrossing
from sla.tasks import sla_sweep_task
from sla.tests.factories import organisation_on_level
from sla_portal.celery import app
from tickets.services import ticket_create

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SKIP LOCKED and concurrent sessions need PostgreSQL"
)


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def sweep_at(moment: datetime, **kwargs) -> services.SweepResult:
    with time_machine.travel(moment, tick=False):
        return services.sla_sweep(**kwargs)


def register(organisation, *, at=MONDAY_9, kind="incident", impact=1, urgency=1, assignee=None):
    ticket = ticket_create(
        organisation=organisation,
        by=None,
        kind=kind,
        title="Kan niet inloggen",
        impact=impact,
        urgency=urgency,
        registered_at=at,
    )
    if assignee is not None:
        ticket.assignee = assignee
        ticket.save(update_fields=["assignee"])
    return ticket


def response_clock(ticket) -> Clock:
    return ticket.clocks.get(kind="response")


def recipients(topic: str) -> set:
    return {n.recipient for n in Notification.objects.filter(topic=topic)}


@pytest.fixture
def managers(db):
    return [UserFactory(role=Role.MANAGER), UserFactory(role=Role.MANAGER)]


@pytest.fixture
def extended_org(db):
    return organisation_on_level("extended")


@pytest.mark.django_db
def test_crossing_at_risk_records_one_transition_and_a_digest_to_assignee_managers_and_coordinators(
    managers, extended_org
):
    # given
    assignee = UserFactory(role=Role.AGENT)
    other_agent = UserFactory(role=Role.AGENT)
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=extended_org)
    ticket = register(extended_org, assignee=assignee)
    assert sweep_at(ams(2026, 11, 23, 10, 29)) == services.SweepResult(at_risk=0, breached=0)
    # when
    result = sweep_at(ams(2026, 11, 23, 10, 31))
    # then
    assert result == services.SweepResult(at_risk=1, breached=0)
    transition = ClockTransition.objects.get()
    assert (transition.clock, transition.kind) == (response_clock(ticket), "at_risk")
    assert transition.crossed_at == ams(2026, 11, 23, 10, 30)
    assert transition.recorded_at == ams(2026, 11, 23, 10, 31)
    # issue 14: the organisation's coordinators are warned by default
    assert recipients(NotificationTopic.SLA_AT_RISK) == {assignee, coordinator, *managers}
    assert other_agent not in recipients(NotificationTopic.SLA_AT_RISK)
    assert not Notification.objects.exclude(topic=NotificationTopic.SLA_AT_RISK).exists()
    digest = Notification.objects.get(recipient=assignee)
    assert ticket.reference in digest.body and "23 Nov 2026, 11:00" in digest.body
    assert digest.sent_at is None  # the outbox: delivered by the worker, not here


@pytest.mark.django_db
def test_a_coordinator_who_switched_sla_at_risk_off_is_not_warned(managers, extended_org):
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=extended_org)
    other_coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level("extended"))
    Subscription.objects.filter(user=coordinator, topic=NotificationTopic.SLA_AT_RISK).delete()
    register(extended_org, assignee=UserFactory(role=Role.AGENT))
    assert sweep_at(ams(2026, 11, 23, 10, 31)).at_risk == 1
    assert coordinator not in recipients(NotificationTopic.SLA_AT_RISK)
    assert other_coordinator not in recipients(NotificationTopic.SLA_AT_RISK)  # not their ticket


@pytest.mark.django_db
def test_crossing_due_records_one_breach_for_managers_and_the_organisations_coordinators(
    managers, extended_org
):
    # given
    coordinators = [UserFactory(role=Role.COORDINATOR, organisation=extended_org) for _ in range(2)]
    customer_user = UserFactory(role=Role.CUSTOMER_USER, organisation=extended_org)
    other_org = organisation_on_level("extended")
    other_coordinator = UserFactory(role=Role.COORDINATOR, organisation=other_org)
    register(other_org, at=ams(2026, 11, 23, 9, 15))  # at risk 10:45, due 11:15
    ticket = register(extended_org, assignee=UserFactory(role=Role.AGENT))
    sweep_at(ams(2026, 11, 23, 10, 31))
    # when
    result = sweep_at(ams(2026, 11, 23, 11, 1))
    # then
    assert result == services.SweepResult(at_risk=1, breached=1)  # the other ticket's at-risk
    breach = ClockTransition.objects.get(kind="breached")
    assert breach.clock == response_clock(ticket) and breach.crossed_at == ams(2026, 11, 23, 11, 0)
    breach_recipients = recipients(NotificationTopic.SLA_BREACH)
    assert breach_recipients == {*managers, *coordinators}
    assert customer_user not in breach_recipients and other_coordinator not in breach_recipients
    assert ticket.assignee not in breach_recipients
    for notification in Notification.objects.filter(topic=NotificationTopic.SLA_BREACH):
        assert ticket.reference in notification.body


@pytest.mark.django_db
def test_running_the_sweep_twice_records_nothing_new(managers, extended_org):
    register(extended_org)
    first = sweep_at(ams(2026, 11, 23, 11, 1))
    counts = (ClockTransition.objects.count(), Notification.objects.count())
    second = sweep_at(ams(2026, 11, 23, 11, 2))
    assert first == services.SweepResult(at_risk=1, breached=1)
    assert second == services.SweepResult(at_risk=0, breached=0)
    assert (ClockTransition.objects.count(), Notification.objects.count()) == counts == (2, 4)


@pytest.mark.django_db
def test_paused_clock_past_its_old_deadline_does_not_breach(managers, extended_org):
    ticket = register(extended_org)
    services.sla_clocks_pause(
        ticket=ticket, by=None, reason="Question to the customer", at=ams(2026, 11, 23, 9, 30)
    )
    assert sweep_at(ams(2026, 11, 23, 12, 0)) == services.SweepResult(at_risk=0, breached=0)
    assert not ClockTransition.objects.exists() and not Notification.objects.exists()


def pending(ticket) -> set[tuple[str, str, datetime]]:
    """What each pending crossing will record; a breach is looked for a business second later."""
    rows = list(PendingCrossing.objects.filter(clock__ticket=ticket).select_related("clock"))
    for row in rows:
        assert row.at - row.crossed_at == timedelta(seconds=1 if row.kind == "breached" else 0)
    return {(row.clock.kind, row.kind, row.crossed_at) for row in rows}


def stored_instants(ticket, *, kind="resolution") -> set[tuple[str, str, datetime]]:
    clock = ticket.clocks.get(kind=kind)
    return {(kind, "at_risk", clock.at_risk_at), (kind, "breached", clock.due_at)}


@pytest.mark.django_db
def test_pending_crossings_follow_the_clocks_and_leave_recorded_ones_out(managers, extended_org):
    ticket = register(extended_org)
    assert pending(ticket) == {
        ("response", "at_risk", ams(2026, 11, 23, 10, 30)),
        ("response", "breached", ams(2026, 11, 23, 11, 0)),
        *stored_instants(ticket),
    }
    sweep_at(ams(2026, 11, 23, 10, 31))
    assert ("response", "at_risk", ams(2026, 11, 23, 10, 30)) not in pending(ticket)
    # a pause (10:40) takes every crossing off the list; the resume (Tuesday 10:40) puts back
    # the new instants, but not the at-risk crossing that was recorded already
    services.sla_clocks_pause(ticket=ticket, by=None, reason="Question", at=ams(2026, 11, 23, 10, 40))
    assert pending(ticket) == set()
    services.sla_clocks_resume(ticket=ticket, by=None, reason="Answer", at=ams(2026, 11, 24, 10, 40))
    assert pending(ticket) == {("response", "breached", ams(2026, 11, 24, 11, 0)), *stored_instants(ticket)}
    # a stopped clock has nothing pending
    services.sla_clock_stop(
        ticket=ticket, kind="response", by=None, reason="Replied", at=ams(2026, 11, 24, 10, 50)
    )
    assert pending(ticket) == stored_instants(ticket)


@pytest.mark.django_db
def test_best_effort_clock_never_breaches(managers):
    # Default incident resolution is best effort: no deadline, however long it runs
    ticket = register(organisation_on_level("default"))
    resolution = ticket.clocks.get(kind="resolution")
    assert resolution.target_seconds is None and resolution.due_at is None
    sweep_at(ams(2027, 11, 23, 12, 0))
    assert not ClockTransition.objects.filter(clock=resolution).exists()
    assert set(ClockTransition.objects.values_list("clock__kind", "kind")) == {
        ("response", "at_risk"),
        ("response", "breached"),
    }


@pytest.mark.django_db
def test_sweep_after_an_hour_down_catches_up_everything_once(managers, extended_org):
    # given four tickets crossing at-risk and due while the worker (or the broker) was down
    tickets = [register(extended_org, at=ams(2026, 11, 23, 8, minute)) for minute in (0, 15, 30, 45)]
    assert sweep_at(ams(2026, 11, 23, 9, 29)) == services.SweepResult(at_risk=0, breached=0)
    # when the next sweep runs an hour and twenty minutes later
    result = sweep_at(ams(2026, 11, 23, 10, 50))
    # then every crossing of that time is recorded, at the instant it happened
    assert result == services.SweepResult(at_risk=4, breached=4)
    crossed = {(t.clock.ticket_id, t.kind): t.crossed_at for t in ClockTransition.objects.all()}
    for ticket, minute in zip(tickets, (0, 15, 30, 45), strict=True):
        assert crossed[(ticket.pk, "at_risk")] == ams(2026, 11, 23, 9, 30) + timedelta(minutes=minute)
        assert crossed[(ticket.pk, "breached")] == ams(2026, 11, 23, 10, minute)
    # one digest per manager and kind, listing all four
    for manager in managers:
        digests = Notification.objects.filter(recipient=manager)
        assert sorted(d.topic for d in digests) == ["sla_at_risk", "sla_breach"]
        assert all(d.body.count("\n") == 3 for d in digests)
    assert sweep_at(ams(2026, 11, 23, 10, 51)) == services.SweepResult(at_risk=0, breached=0)


@pytest.mark.django_db
def test_crash_inside_the_sweep_records_nothing_and_the_next_sweep_records_everything_once(
    managers, extended_org, monkeypatch
):
    # given a sweep that dies after writing transitions, before its notifications
    tickets = [register(extended_org, at=ams(2026, 11, 23, 8, minute)) for minute in (0, 30)]
    notify = services._notify_transitions
    crashes = []

    def crash_once(kind, clocks):
        if not crashes:
            crashes.append(kind)
            raise RuntimeError("worker killed")
        notify(kind, clocks)

    monkeypatch.setattr(services, "_notify_transitions", crash_once)
    # when
    with pytest.raises(RuntimeError, match="worker killed"):
        sweep_at(ams(2026, 11, 23, 11, 0))
    # then nothing of it is left
    assert not ClockTransition.objects.exists() and not Notification.objects.exists()
    assert PendingCrossing.objects.filter(at__lte=ams(2026, 11, 23, 11, 0)).count() == 4  # still pending
    # and the next sweep records every crossing once
    assert sweep_at(ams(2026, 11, 23, 11, 1)) == services.SweepResult(at_risk=2, breached=2)
    assert ClockTransition.objects.count() == 4
    assert {t.clock.ticket_id for t in ClockTransition.objects.all()} == {t.pk for t in tickets}
    assert Notification.objects.filter(topic=NotificationTopic.SLA_AT_RISK).count() == len(managers)
    assert sweep_at(ams(2026, 11, 23, 11, 2)) == services.SweepResult(at_risk=0, breached=0)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_record_each_transition_exactly_once(monkeypatch):
    # given 30 tickets past their deadline, and two sweeps that take 5 clocks a batch
    manager = UserFactory(role=Role.MANAGER)
    organisation = organisation_on_level("extended")
    tickets = [register(organisation) for _ in range(30)]
    notify = services._notify_transitions
    handled: dict[str, list[tuple[str, int]]] = {"first": [], "second": []}

    def slow_notify(kind, clocks):
        handled[threading.current_thread().name] += [(kind, clock.pk) for clock in clocks]
        time.sleep(0.02)  # hold the batch's row locks long enough for the other sweep to meet them
        notify(kind, clocks)

    monkeypatch.setattr(services, "_notify_transitions", slow_notify)
    start = threading.Barrier(2)
    results, errors = {}, []

    def sweep():
        try:
            start.wait()
            results[threading.current_thread().name] = services.sla_sweep(
                now=ams(2026, 11, 23, 12, 0), batch_size=5
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=sweep, name=name) for name in ("first", "second")]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert not errors
    assert results["first"].breached + results["second"].breached == 30
    assert results["first"].at_risk + results["second"].at_risk == 30
    assert handled["first"] and handled["second"], "both sweeps took clocks: SKIP LOCKED, not waiting"
    assert not set(handled["first"]) & set(handled["second"])  # and never the same one
    assert ClockTransition.objects.count() == 60
    response_clocks = {response_clock(ticket).pk for ticket in tickets}
    for kind in ("at_risk", "breached"):
        recorded = ClockTransition.objects.filter(kind=kind).values_list("clock", flat=True)
        assert set(recorded) == response_clocks
    for topic in (NotificationTopic.SLA_AT_RISK, NotificationTopic.SLA_BREACH):
        lines = [
            line
            for n in Notification.objects.filter(recipient=manager, topic=topic)
            for line in n.body.splitlines()
        ]
        assert len(lines) == len(set(lines)) == 30  # every ticket once in the manager's digests


def wait_for(predicate, *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout} s")
        time.sleep(0.1)


@pytest.fixture
def finished_tasks():
    """(task name, return value) of every task the worker finishes, in order."""
    finished: list[tuple[str, object]] = []

    def record(sender=None, retval=None, **kwargs):
        finished.append((sender.name, retval))

    task_postrun.connect(record, weak=False)
    yield finished
    task_postrun.disconnect(record)


@pytest.mark.django_db(transaction=True)
def test_sweep_and_delivery_run_as_real_celery_tasks_and_send_each_mail_once(finished_tasks):
    # given a ticket long past its response deadline (real time: the worker thread is not
    # time-travelled); on Default its resolution is best effort
    manager = UserFactory(role=Role.MANAGER)
    organisation = organisation_on_level("default")
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation)
    ticket = register(organisation, at=ams(2025, 3, 3, 9, 0))
    app.control.purge()  # messages earlier tests left on the broker are not this test's
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        # when the beat's sweep runs on the worker
        sla_sweep_task.delay()
        # then it records the transitions and queues the delivery, which sends the outbox
        wait_for(
            lambda: (
                [name for name, _ in finished_tasks]
                == ["sla.tasks.sla_sweep_task", "accounts.tasks.notification_deliver_pending_task"]
            )
        )
        assert finished_tasks[0][1] == {"at_risk": 1, "breached": 1}
        # at risk: manager and coordinator (issue 14); breached: manager and coordinator
        assert finished_tasks[1][1] == 4
        assert ClockTransition.objects.filter(clock__ticket=ticket).count() == 2
        assert not Notification.objects.filter(sent_at__isnull=True).exists()
        assert sorted(tuple(m.to) for m in mail.outbox) == sorted(
            [(manager.email,), (manager.email,), (coordinator.email,), (coordinator.email,)]
        )
        assert all(ticket.reference in m.body for m in mail.outbox)
        # and a second delivery sends nothing
        notification_deliver_pending_task.delay()
        wait_for(lambda: len(finished_tasks) == 3)
        assert finished_tasks[2] == ("accounts.tasks.notification_deliver_pending_task", 0)
    assert len(mail.outbox) == 4
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db
def test_failing_smtp_keeps_the_notification_unsent_for_the_next_delivery(
    managers, extended_org, monkeypatch
):
    # given a breach digest in the outbox and a mail server that hangs up
    register(extended_org)
    sweep_at(ams(2026, 11, 23, 11, 1))
    pending = Notification.objects.count()
    assert pending == 4

    def refuse(self, messages):
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)
    # when the delivery task runs
    assert notification_deliver_pending_task() == 0
    # then every row is still unsent, with the error, and no attempt spent on the outage
    assert mail.outbox == []
    for notification in Notification.objects.all():
        assert notification.sent_at is None and notification.attempts == 0
        assert "Connection unexpectedly closed" in notification.last_error
    # and once the server is back the next run after the pause sends them, once
    monkeypatch.undo()
    with time_machine.travel(timedelta(minutes=1, seconds=1)):
        assert notification_deliver_pending_task() == pending
        assert len(mail.outbox) == pending
        assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
        assert notification_deliver_pending_task() == 0
