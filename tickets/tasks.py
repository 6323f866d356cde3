"""Celery tasks of tickets: thin wrappers that call one service."""

from celery import shared_task

from tickets import services


@shared_task
def tickets_close_unconfirmed_task() -> int:
    """Resolved tickets neither confirmed nor reopened within SLA_REOPEN_DAYS close (beat: hourly)."""
    return services.tickets_close_unconfirmed()


@shared_task
def tickets_deadlines_sync_task(*, calendar_id: int | None = None) -> int:
    """After the SLA engine recomputed the clocks of a calendar: the queue's deadline columns follow."""
    return services.tickets_deadlines_sync(calendar_id=calendar_id)
