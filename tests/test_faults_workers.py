"""A sweep worker SIGKILLed mid-sweep, with two beats: real worker processes on a Redis of
their own and the test's PostgreSQL. Every clock gets exactly one transition of each kind."""

import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.db import connection

from accounts.models import Notification, NotificationTopic, Role
from accounts.tests.factories import UserFactory
from sla.models import ClockTransition, PendingCrossing
from sla.tests.factories import organisation_on_level
from tests.fault_servers import app_environment, redis_server, send_task, wait_for, workers
from tickets.services import ticket_create

AMS = ZoneInfo("Europe/Amsterdam")
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real worker processes need PostgreSQL"
)


def _raw_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=True,
    )


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_sweep_and_two_beats_give_every_clock_exactly_one_transition():
    # given 20 tickets long past their response deadline (Default: response at risk and breached)
    UserFactory(role=Role.MANAGER)
    organisation = organisation_on_level("default")
    tickets = [
        ticket_create(
            organisation=organisation, by=None, kind="incident", title=f"Storing {n}", impact=1, urgency=1,
            registered_at=datetime(2025, 3, 3, 9, n, tzinfo=AMS),
        )
        for n in range(20)
    ]  # fmt: skip
    expected = PendingCrossing.objects.count()
    assert expected == 40
    watcher = _raw_connection()
    with redis_server() as broker:
        environment = app_environment(REDIS_URL=broker, CELERY_BROKER_URL=broker, CACHE_PREFIX="faults")
        with workers({"sla1": "sla", "sla2": "sla"}, environment=environment) as started:
            # when the sweep of the first beat is held inside its transaction (the digests'
            # table is locked), after it has written the transitions
            blocker = _raw_connection()
            blocker.execute("BEGIN")
            blocker.execute("LOCK TABLE accounts_notification IN SHARE MODE")
            send_task(broker, "sla.tasks.sla_sweep_task")
            wait_for(
                lambda: _sweeps_waiting(watcher) == 1, timeout=30, what="the sweep inside its transaction"
            )
            victim = next(w for w in started.values() if w.ran("sla.tasks.sla_sweep_task", "received"))
            # and its worker is SIGKILLed there
            victim.kill()
            blocker.execute("ROLLBACK")
            blocker.close()
            wait_for(
                lambda: _sweeps_waiting(watcher, any_state=True) == 0, timeout=30, what="the killed backend"
            )
            assert not ClockTransition.objects.exists()  # its transaction rolled back
            # and the second beat's sweep runs on the worker that is left
            survivor = next(w for w in started.values() if w is not victim)
            send_task(broker, "sla.tasks.sla_sweep_task")
            wait_for(
                lambda: "sla_sweep_task" in survivor.text() and "succeeded" in survivor.text(), timeout=60
            )
    watcher.close()
    # then every clock has exactly one transition of each kind, nothing is left pending
    transitions = Counter(ClockTransition.objects.values_list("clock_id", "kind"))
    assert len(transitions) == expected and set(transitions.values()) == {1}
    assert {t.clock.ticket_id for t in ClockTransition.objects.select_related("clock")} == {
        t.pk for t in tickets
    }
    assert not PendingCrossing.objects.exists()
    # and the manager got one at-risk and one breach digest, not two of either
    topics = Counter(Notification.objects.values_list("topic", flat=True))
    assert topics == {NotificationTopic.SLA_AT_RISK: 1, NotificationTopic.SLA_BREACH: 1}


def _sweeps_waiting(watcher: psycopg.Connection, *, any_state: bool = False) -> int:
    """Backends (other than ours) inserting digests: waiting on the lock, or at all."""
    time.sleep(0.05)
    row = watcher.execute(
        """SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND query LIKE 'INSERT INTO "accounts_notification"%%' AND state <> 'idle'
            AND (%s OR wait_event_type = 'Lock')""",
        [any_state],
    ).fetchone()
    return row[0]
