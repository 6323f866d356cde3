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
    calendar recomputes and service reports (sla_portal.tasks_util)."""
    from sla.reports import service_reports_requeue

    return {"calendars": services.sla_calendars_catch_up(), "reports": service_reports_requeue()}


# --- managers: service reports -------------------------------------------------------------


@shared_task
def service_report_generate_task(*, report_id: int) -> int:
    from sla.reports import service_report_generate

    return service_report_generate(report_id=report_id).pk


@shared_task
def service_reports_due_task() -> int:
    from sla.reports import service_reports_due

    return len(service_reports_due())


@shared_task
def compliance_rollup_refresh_task() -> int:
    from sla.rollup import compliance_rollup_refresh

    return compliance_rollup_refresh()


@shared_task
def compliance_rollup_rebuild_task() -> int:
    from sla.rollup import compliance_rollup_rebuild

    return compliance_rollup_rebuild()
