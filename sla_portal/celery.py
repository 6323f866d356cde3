"""The Celery app. The beat schedule lives here and only here."""

import os

from celery import Celery
from celery.schedules import crontab

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
    # Daily digests: hourly, but the job sends from 07:00 (Amsterdam) on and once a day, so an
    # hour the beat was down is caught up and a second run sends nothing.
    "notification-digests": {
        "task": "accounts.tasks.notification_digests_send_task",
        "schedule": crontab(minute=5),
    },
    # Calendar recomputes and service reports whose enqueue failed (sla_portal.tasks_util).
    "catch-up": {"task": "sla.tasks.sla_catch_up_task", "schedule": 300.0},
    "service-reports-catch-up": {"task": "managers.tasks.service_reports_catch_up_task", "schedule": 300.0},
    # Service reports of the period that just ended: every morning; the job itself waits for a
    # working day and makes each missing report once, so a day the beat was down is caught up.
    "service-reports": {"task": "sla.tasks.service_reports_due_task", "schedule": crontab(hour=6, minute=15)},
    # The dashboard's compliance roll-up: new days and changed days every minute, all nightly.
    "compliance-rollup": {"task": "sla.tasks.compliance_rollup_refresh_task", "schedule": 60.0},
    # SPEC §10: a daily full copy in the maintenance window (Amsterdam time: CELERY_TIMEZONE).
    "backup": {"task": "sla_portal.tasks.backup_daily_task", "schedule": crontab(hour=2, minute=30)},
    "compliance-rollup-rebuild": {
        "task": "sla.tasks.compliance_rollup_rebuild_task",
        "schedule": crontab(hour=3, minute=30),
    },
}
