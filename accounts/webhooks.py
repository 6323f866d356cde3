"""Signed webhooks: managers register endpoints; events become outbox rows in the caller's
transaction and a Celery task posts them with retries and back-off."""

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, Webhook, WebhookDelivery, WebhookEvent
from accounts.netguard import UnsafeDestination, destination_check, error_class, post_pinned
from sla_portal.tasks_util import enqueue_on_commit

logger = logging.getLogger(__name__)

# Wait before attempt n+1 after n failures: a minute, then longer, giving up after a day.
RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
]
DELIVERY_TIMEOUT_SECONDS = 10


def webhook_create(*, url: str, events: list[str], by: User) -> Webhook:
    parts = urlsplit(url)
    allowed_http = parts.hostname in settings.WEBHOOK_ALLOW_HTTP_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and allowed_http):
        raise ValidationError({"url": _("Webhooks are delivered over HTTPS only.")})
    try:
        destination_check(url)
    except UnsafeDestination as exc:
        raise ValidationError(
            {
                "url": _(
                    "This address cannot receive webhooks: its host must resolve, and only to "
                    "public internet addresses (not loopback, private, link-local or reserved)."
                )
            }
        ) from exc
    unknown = set(events) - set(WebhookEvent.values)
    if not events or unknown:
        raise ValidationError(
            {"events": _("Choose one or more of: %(events)s.") % {"events": ", ".join(WebhookEvent.values)}}
        )
    return Webhook.objects.create(
        url=url, events=sorted(set(events)), created_by=by, secret=secrets.token_hex(32)
    )


def webhook_emit(*, event: str, payloads: Iterable[dict]) -> int:
    """Queue one delivery per payload for every active endpoint that wants the event. Call it
    inside the transaction that made the change, so the event exists exactly when the change does.
    ``payloads`` may be a generator: it is only run when an endpoint wants the event (a sweep of
    10,000 breaches spent 0.3 s building payloads nobody had asked for, bench/sweep.py)."""
    hooks = [hook for hook in Webhook.objects.filter(active=True) if event in hook.events]
    if not hooks:
        return 0
    bodies = [json.loads(json.dumps(payload, cls=DjangoJSONEncoder)) for payload in payloads]
    if not bodies:
        return 0
    now = timezone.now()
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hook, event=event, payload=body, next_attempt_at=now)
        for hook in hooks
        for body in bodies
    )
    from accounts.tasks import webhook_deliver_due_task

    enqueue_on_commit(webhook_deliver_due_task)  # caught up by the "webhooks" beat
    return len(rows)


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """One POST, run in a worker thread: no database access here (the caller saves)."""
    body = json.dumps(
        {
            "id": delivery.pk,
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        }
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "SLA-Portal-Webhooks/1",
        "X-SLA-Event": delivery.event,
        "X-SLA-Delivery": str(delivery.pk),
        "X-SLA-Timestamp": timestamp,
        "X-SLA-Signature": "sha256="
        + webhook_signature(secret=delivery.webhook.secret, timestamp=timestamp, body=body),
    }
    try:
        # Resolved and checked again now (a name may have moved since registration), then
        # posted to the checked address; a redirect is a failure, not followed.
        status = post_pinned(
            delivery.webhook.url, body=body, headers=headers, timeout=DELIVERY_TIMEOUT_SECONDS
        )
    except Exception as exc:  # any failure is the receiver's: recorded, retried, never raised
        error = error_class(exc)
        logger.warning("webhook delivery %s to hook %s failed: %s", delivery.pk, delivery.webhook_id, error)
        return None, error
    return status, "" if 200 <= status < 300 else f"HTTP {status}"


# A claimed delivery is leased for this long: if the worker dies while posting, the row
# becomes due again afterwards (an at-least-once delivery; receivers dedupe on X-SLA-Delivery).
CLAIM_LEASE = timedelta(minutes=5)
# Deliveries posted at once. Each thread mostly waits on a receiver; 8 keep a 2-core worker
# busy without opening more than 8 sockets per run (a 24,000 backlog at ~100 a minute was
# the problem, issue 13).
DELIVERY_THREADS = 8
# Rows claimed per round: a few per thread, so a worker that dies leaves little leased.
DELIVERY_CLAIM = DELIVERY_THREADS * 4
# A run stops claiming once this much time has passed, below the beat interval (60 s) so
# runs rarely overlap, and below the first retry delay (1 min) so a failure is not retried
# within the run that saw it. A claimed round still finishes (at most DELIVERY_CLAIM /
# DELIVERY_THREADS x the timeout).
DELIVERY_BUDGET_SECONDS = 45


def _claim(*, now) -> list[WebhookDelivery]:
    """Lease a round of due rows in a short transaction (SKIP LOCKED: two runs never take the
    same row); no lock is held while posting."""
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_attempt_at__lte=now)
            .select_related("webhook")
            .order_by("next_attempt_at")[:DELIVERY_CLAIM]
        )
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in due]).update(next_attempt_at=now + CLAIM_LEASE)
    return due


def webhook_deliver_due(*, now=None, budget_seconds: float = DELIVERY_BUDGET_SECONDS) -> int:
    """Post due deliveries, ``DELIVERY_THREADS`` at a time, until none is due or the time
    budget is spent; return how many were delivered. ``now`` shifts the run's clock (tests).
    A failure is retried at the earliest a minute later, so never within the same run."""
    started = time.monotonic()
    base = now or timezone.now()

    def clock():
        return base + timedelta(seconds=time.monotonic() - started)

    delivered = 0
    with ThreadPoolExecutor(max_workers=DELIVERY_THREADS, thread_name_prefix="webhook") as pool:
        while time.monotonic() - started < budget_seconds:
            due = _claim(now=clock())
            if not due:
                break
            for delivery, (status, error) in zip(due, pool.map(_post, due), strict=True):
                at = timezone.now()
                delivery.attempts += 1
                delivery.last_status, delivery.last_error = status, error
                if status is not None and 200 <= status < 300:
                    delivery.delivered_at = at
                    delivery.next_attempt_at = None
                    delivered += 1
                elif delivery.attempts > len(RETRY_DELAYS):
                    delivery.next_attempt_at = None  # given up; the log shows why
                else:
                    delivery.next_attempt_at = at + RETRY_DELAYS[delivery.attempts - 1]
            WebhookDelivery.objects.bulk_update(
                due, ["attempts", "last_status", "last_error", "delivered_at", "next_attempt_at"]
            )
            if len(due) < DELIVERY_CLAIM:
                break  # drained: what is due now is only what this run just failed to post
    return delivered
