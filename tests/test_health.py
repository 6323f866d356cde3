import pytest
from django.utils import timezone

from sla.models import Heartbeat
from sla.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_with_database_broker_and_a_fresh_heartbeat(client):
    heartbeat.apply()  # the real task body, as the worker runs it
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] is True and body["broker"] is True
    assert 0 <= body["heartbeat_age_seconds"] < 5


def test_healthz_is_unhealthy_without_a_heartbeat(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["heartbeat_age_seconds"] is None


def test_healthz_is_unhealthy_with_a_stale_heartbeat(client, settings):
    Heartbeat.objects.create(
        name="worker",
        beat_at=timezone.now() - timezone.timedelta(seconds=settings.HEARTBEAT_MAX_AGE_SECONDS + 1),
    )
    assert client.get("/healthz").status_code == 503


def test_healthz_is_unhealthy_when_the_broker_is_unreachable(client, monkeypatch):
    from sla_portal.celery import app

    heartbeat.apply()
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] is False


def test_healthz_shows_the_age_of_the_oldest_unsent_mail_and_fails_when_mail_is_stuck(client, settings):
    from accounts.models import Notification, NotificationTopic
    from accounts.tests.factories import UserFactory

    heartbeat.apply()
    user = UserFactory()
    old = timezone.now() - timezone.timedelta(seconds=settings.MAIL_MAX_AGE_SECONDS + 60)

    def mail(**fields):
        notification = Notification.objects.create(
            recipient=user, topic=NotificationTopic.NEWS, subject="s", body="b"
        )
        Notification.objects.filter(pk=notification.pk).update(created_at=old, **fields)

    mail(sent_at=timezone.now(), next_attempt_at=None)  # sent
    mail(next_attempt_at=None)  # given up after a day of retries: not waiting any more
    body = client.get("/healthz").json()
    assert body["mail_unsent"] == 0 and body["mail_oldest_unsent_age_seconds"] is None and body["mail_ok"]
    # an e-mail still waiting (the mail server has been down) past the limit
    mail()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["mail_unsent"] == 1 and body["mail_ok"] is False
    assert body["mail_oldest_unsent_age_seconds"] >= settings.MAIL_MAX_AGE_SECONDS + 60
