"""Webhooks against a real HTTP receiver on localhost: signed, retried with back-off, logged."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role, WebhookDelivery
from accounts.tests.factories import UserFactory
from accounts.webhooks import (
    RETRY_DELAYS,
    webhook_create,
    webhook_deliver_due,
    webhook_emit,
    webhook_signature,
)

pytestmark = pytest.mark.django_db


class Receiver:
    """A tiny HTTP server that records requests and answers with the next queued status."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {key.lower(): value for key, value in self.headers.items()}
                receiver.requests.append({"headers": headers, "body": body})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def test_delivery_is_signed_and_logged(receiver):
    manager = UserFactory(role=Role.MANAGER, is_staff=True)
    hook = webhook_create(url=receiver.url, events=["ticket.created"], by=manager)
    webhook_emit(event="ticket.created", payloads=[{"ticket": "T-000001"}])
    webhook_emit(event="sla.breached", payloads=[{"ticket": "T-000001"}])  # not subscribed
    assert webhook_deliver_due() == 1
    (request,) = receiver.requests
    headers = request["headers"]
    assert headers["x-sla-event"] == "ticket.created"
    expected = webhook_signature(
        secret=hook.secret, timestamp=headers["x-sla-timestamp"], body=request["body"]
    )
    assert headers["x-sla-signature"] == f"sha256={expected}"
    assert json.loads(request["body"])["data"] == {"ticket": "T-000001"}
    delivery = WebhookDelivery.objects.get()
    assert delivery.delivered_at and delivery.last_status == 204 and delivery.next_attempt_at is None
    assert webhook_deliver_due() == 0  # nothing is sent twice


def test_failures_are_retried_with_back_off_then_given_up(receiver):
    receiver.statuses = [500] * 10
    webhook_create(url=receiver.url, events=["sla.at_risk"], by=UserFactory(role=Role.MANAGER))
    webhook_emit(event="sla.at_risk", payloads=[{"ticket": "T-000002"}])
    before = timezone.now()
    assert webhook_deliver_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.last_status == 500
    assert delivery.next_attempt_at >= before + RETRY_DELAYS[0]
    assert webhook_deliver_due() == 0 and len(receiver.requests) == 1  # not due yet
    for _ in RETRY_DELAYS:
        webhook_deliver_due(now=timezone.now() + timedelta(days=2))
    delivery.refresh_from_db()
    assert delivery.attempts == len(RETRY_DELAYS) + 1
    assert delivery.next_attempt_at is None and delivery.delivered_at is None


def test_an_unreachable_endpoint_is_recorded_not_raised():
    webhook_create(
        url="http://127.0.0.1:1/nothing", events=["sla.breached"], by=UserFactory(role=Role.MANAGER)
    )
    webhook_emit(event="sla.breached", payloads=[{"ticket": "T-1"}])
    assert webhook_deliver_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status is None and delivery.last_error


def test_only_https_is_accepted_and_only_managers_register(client):
    agent_api = APIClient()
    agent_api.force_authenticate(UserFactory(role=Role.AGENT))
    assert (
        agent_api.post(
            "/api/v1/webhooks/", {"url": "https://x.example/h", "events": ["sla.breached"]}, format="json"
        ).status_code
        == 403
    )
    manager_api = APIClient()
    manager_api.force_authenticate(UserFactory(role=Role.MANAGER, is_staff=True))
    response = manager_api.post(
        "/api/v1/webhooks/", {"url": "http://x.example/h", "events": ["sla.breached"]}, format="json"
    )
    assert response.status_code == 400 and "HTTPS" in response.json()["errors"]["url"][0]
    response = manager_api.post(
        "/api/v1/webhooks/", {"url": "https://x.example/h", "events": ["sla.breached"]}, format="json"
    )
    assert response.status_code == 201 and len(response.json()["secret"]) == 64


def test_registering_and_classifying_a_ticket_emit_created_and_status_changed(receiver):
    from tickets.services import ticket_classify
    from tickets.tests.factories import coordinator_on, register

    manager = UserFactory(role=Role.MANAGER, is_staff=True)
    webhook_create(url=receiver.url, events=["ticket.created", "ticket.status_changed"], by=manager)
    # given a registered ticket
    ticket = register(coordinator_on("extended"))
    # when support classifies it as unclear (it now waits on the customer)
    ticket_classify(ticket=ticket, by=UserFactory(role=Role.AGENT), clarity="unclear",
                    question="Which browser?")
    # then both events are queued, in order, with the ticket's reference and statuses
    assert webhook_deliver_due() == 2
    created, changed = (json.loads(request["body"]) for request in receiver.requests)
    assert created["event"] == "ticket.created" and created["data"]["ticket"] == ticket.reference
    assert changed["data"]["old_status"] == "new"
    assert changed["data"]["status"] == "waiting_on_customer"
