"""What truly cannot work while a server is down answers 503 with Retry-After, never 500: JSON
in the API's error shape, a short page elsewhere. (A Redis error in the cache is a miss and an
enqueue after a commit never fails: tests/test_faults_redis.py; these are the rest, e.g. the
database restarting.)"""

import pytest
import redis
from django.db.utils import OperationalError
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import api_token_create
from conftest import login_with_second_factor
from sla_portal.outage import RETRY_AFTER_SECONDS
from tickets.tests.factories import coordinator_on

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "error", [redis.ConnectionError("down"), OperationalError("the database is restarting")]
)
def test_the_api_answers_an_outage_with_503_and_retry_after_in_its_error_shape(monkeypatch, error):
    coordinator = coordinator_on("extended")
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=coordinator, name='t')[1]}")

    def down(*args, **kwargs):
        raise error

    monkeypatch.setattr("tickets.api.views.TicketViewSet.get_queryset", down)
    response = client.get("/api/v1/tickets/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = response.json()
    assert body["errors"] == {} and "try again" in body["message"]


def test_a_page_answers_an_outage_with_a_friendly_503(monkeypatch, settings):
    settings.DEBUG = False  # the technical 500 page is for development machines only
    coordinator = coordinator_on("extended", language="nl")  # the pages speak it from login on
    client = Client(raise_request_exception=False)
    login_with_second_factor(client, coordinator)

    def down(*args, **kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr("tickets.views.portal.cached_list_page", down)
    response = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "Even niet beschikbaar" in response.content.decode() and b"Traceback" not in response.content

    monkeypatch.setattr("tickets.views.portal.cached_list_page", lambda *a, **k: 1 / 0)
    assert client.get("/portal/").status_code == 500  # a bug stays a 500
