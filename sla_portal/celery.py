"""The Celery app. The beat schedule lives here and only here."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sla_portal.settings")

app = Celery("sla_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "heartbeat": {"task": "sla.tasks.heartbeat", "schedule": 60.0},
}
