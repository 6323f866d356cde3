"""/healthz: is the database up, the broker reachable, and the worker's heartbeat fresh?"""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

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


def healthz(request):
    database = _database_ok()
    broker = _broker_ok()
    beat = Heartbeat.objects.filter(name="worker").first() if database else None
    age = round((timezone.now() - beat.beat_at).total_seconds()) if beat else None
    heartbeat_ok = age is not None and age <= settings.HEARTBEAT_MAX_AGE_SECONDS
    healthy = database and broker and heartbeat_ok
    return JsonResponse(
        {
            "status": "ok" if healthy else "unhealthy",
            "database": database,
            "broker": broker,
            "heartbeat_age_seconds": age,
            "heartbeat_ok": heartbeat_ok,
        },
        status=200 if healthy else 503,
    )
