"""Celery tasks of the site as a whole."""

from celery import shared_task

# A backup of a large database can take long: its own limits, inside the broker's visibility
# timeout (3600 s), so it is neither killed at the usual 300 s nor handed to a second worker.
BACKUP_SOFT_TIME_LIMIT = 3000
BACKUP_TIME_LIMIT = 3300


@shared_task(soft_time_limit=BACKUP_SOFT_TIME_LIMIT, time_limit=BACKUP_TIME_LIMIT)
def backup_daily_task() -> str:
    from sla_portal.backup import backup_create, backup_prune

    path = backup_create()
    backup_prune()
    return str(path)
