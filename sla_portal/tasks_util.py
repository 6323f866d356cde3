"""Enqueueing a Celery task after a commit without ever failing what was committed.

``transaction.on_commit(task.delay)`` raises into the request when the broker is down: the
ticket is saved but its client gets a 500, and one that retries without an idempotency key
makes a second ticket. Every task enqueued here works on rows a beat task also finds (the
notification outbox, due webhook deliveries, a calendar whose ``recomputed_version`` is behind,
a queued service report, an invalidated roll-up), so a failed enqueue only waits for that beat:
it is logged (once per outage, not per call) and otherwise ignored.

While the broker is failing, enqueues are skipped for ``SKIP_SECONDS`` after each failure, so a
request does not spend the broker's connect timeout on every task.
"""

import logging
import threading
import time
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)

SKIP_SECONDS = 2.0

_lock = threading.Lock()
_state = {"down_since": None, "skip_until": 0.0, "skipped": 0}


def enqueue(task: Task, /, **kwargs: Any) -> bool:
    """Publish ``task(**kwargs)`` now; False if the broker could not take it (logged). Only for
    a task whose work a beat catch-up finds by itself."""
    if task.app.conf.task_always_eager:  # tests and a broker-less shell: run it, errors show
        task.apply_async(kwargs=kwargs)
        return True
    now = time.monotonic()
    if _state["down_since"] is not None and now < _state["skip_until"]:
        with _lock:
            _state["skipped"] += 1
        return False
    try:
        task.apply_async(kwargs=kwargs)
    except Exception as exc:  # whatever the broker raised, the write is committed
        with _lock:
            first = _state["down_since"] is None
            if first:
                _state["down_since"] = now
            _state["skip_until"] = time.monotonic() + SKIP_SECONDS
            _state["skipped"] += 1
        if first:
            logger.warning("broker unreachable, %s not enqueued (the beat catches it up): %r", task.name, exc)
        return False
    if _state["down_since"] is not None:
        with _lock:
            since, skipped = _state["down_since"], _state["skipped"]
            _state.update(down_since=None, skip_until=0.0, skipped=0)
        if since is not None:
            logger.warning(
                "broker reachable again after %.1f s; %d enqueue(s) were skipped, the beat catches them up",
                time.monotonic() - since,
                skipped,
            )
    return True


def enqueue_on_commit(task: Task, /, **kwargs: Any) -> None:
    """``enqueue(task, **kwargs)`` once the current transaction commits (now, outside one)."""
    transaction.on_commit(lambda: enqueue(task, **kwargs))
