"""Celery tasks of the managers' side: thin wrappers that take ids and call one service.

They were ``sla.tasks.*`` before the managers' side left the engine; each keeps that registered
name, which the beat schedule, the database scheduler's rows and messages already queued use."""

from celery import shared_task

from managers.reports import service_report_generate, service_reports_due, service_reports_requeue
from managers.rollup import compliance_rollup_rebuild, compliance_rollup_refresh


@shared_task(name="sla.tasks.service_report_generate_task")
def service_report_generate_task(*, report_id: int) -> int:
    return service_report_generate(report_id=report_id).pk


@shared_task(name="sla.tasks.service_reports_due_task")
def service_reports_due_task() -> int:
    return len(service_reports_due())


@shared_task
def service_reports_catch_up_task() -> list[int]:
    """Service reports whose enqueue a down broker kept from happening (sla_portal.tasks_util)."""
    return service_reports_requeue()


@shared_task(name="sla.tasks.compliance_rollup_refresh_task")
def compliance_rollup_refresh_task() -> int:
    return compliance_rollup_refresh()


@shared_task(name="sla.tasks.compliance_rollup_rebuild_task")
def compliance_rollup_rebuild_task() -> int:
    return compliance_rollup_rebuild()
