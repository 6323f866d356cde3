"""/healthz: is the database up, the broker reachable, the worker's heartbeat fresh, and is mail
getting out (the age of the oldest e-mail still waiting in the outbox)?"""

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.http import JsonResponse
from django.utils import timezone

from accounts.models import Notification
from sla.models import Heartbeat
from sla_portal.celery import app as celery_app


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def _mail_backlog() -> tuple[int, int | None]:
    """Unsent notifications still being retried, and the oldest one's age in seconds."""
    backlog = Notification.objects.filter(sent_at__isnull=True, next_attempt_at__isnull=False).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    oldest = backlog["oldest"]
    return backlog["count"], round((timezone.now() - oldest).total_seconds()) if oldest else None


def healthz(request):
    database = _database_ok()
    broker = _broker_ok()
    beat = Heartbeat.objects.filter(name="worker").first() if database else None
    age = round((timezone.now() - beat.beat_at).total_seconds()) if beat else None
    heartbeat_ok = age is not None and age <= settings.HEARTBEAT_MAX_AGE_SECONDS
    unsent, mail_age = _mail_backlog() if database else (None, None)
    mail_ok = database and (mail_age is None or mail_age <= settings.MAIL_MAX_AGE_SECONDS)
    healthy = database and broker and heartbeat_ok and mail_ok
    return JsonResponse(
        {
            "status": "ok" if healthy else "unhealthy",
            "database": database,
            "broker": broker,
            "heartbeat_age_seconds": age,
            "heartbeat_ok": heartbeat_ok,
            "mail_unsent": unsent,
            "mail_oldest_unsent_age_seconds": mail_age,
            "mail_ok": mail_ok,
        },
        status=200 if healthy else 503,
    )
