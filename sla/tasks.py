"""Celery tasks of the SLA engine: thin wrappers that take ids and call one service."""

from celery import shared_task
from django.utils import timezone

from sla import services
from sla.models import Heartbeat


@shared_task
def heartbeat() -> None:
    Heartbeat.objects.update_or_create(name="worker", defaults={"beat_at": timezone.now()})


@shared_task
def sla_sweep_task() -> dict:
    result = services.sla_sweep()
    return {"at_risk": result.at_risk, "breached": result.breached}


@shared_task
def sla_calendar_recompute_task(*, calendar_id: int) -> int:
    return services.sla_calendar_recompute(calendar_id=calendar_id)


@shared_task
def sla_catch_up_task() -> dict:
    """What a down broker kept from being enqueued after a commit, and no other beat redoes:
    calendar recomputes (sla_portal.tasks_util). The service reports' own catch-up is
    managers.tasks.service_reports_catch_up_task."""
    return {"calendars": services.sla_calendars_catch_up()}
