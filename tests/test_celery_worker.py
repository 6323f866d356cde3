"""Real tasks through the real broker (Redis in CI) and a real worker thread."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from sla.models import Heartbeat
from sla.tasks import heartbeat
from sla_portal.celery import app


def wait_for(predicate, *, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout} s")
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_heartbeat_task_runs_on_a_worker_and_its_last_run_is_visible():
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        heartbeat.delay()
        wait_for(lambda: Heartbeat.objects.filter(name="worker").exists())
