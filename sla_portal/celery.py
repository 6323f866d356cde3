"""The Celery app. The beat schedule lives here and only here."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sla_portal.settings")

app = Celery("sla_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "heartbeat": {"task": "sla.tasks.heartbeat", "schedule": 60.0},
    "sla-sweep": {"task": "sla.tasks.sla_sweep_task", "schedule": 60.0},
    # The outbox is also flushed right after each write; this catches what a down broker missed.
    "notifications": {"task": "accounts.tasks.notification_deliver_pending_task", "schedule": 60.0},
    "webhooks": {"task": "accounts.tasks.webhook_deliver_due_task", "schedule": 60.0},
}
