"""Celery tasks of the SLA engine: thin wrappers around services."""

from celery import shared_task
from django.utils import timezone

from sla.models import Heartbeat


@shared_task
def heartbeat() -> None:
    Heartbeat.objects.update_or_create(name="worker", defaults={"beat_at": timezone.now()})
