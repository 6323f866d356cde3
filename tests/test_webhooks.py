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
def receiver(settings):
    # The guard refuses loopback; the test's own server is the one internal address let through.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def public_dns(monkeypatch):
    """DNS is the outside world: names under .example resolve to a public documentation-free
    address; every other name (localhost) is resolved for real."""
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if str(host).endswith(".example"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


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


def test_an_unreachable_endpoint_is_recorded_not_raised(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    webhook_create(
        url="http://127.0.0.1:1/nothing", events=["sla.breached"], by=UserFactory(role=Role.MANAGER)
    )
    webhook_emit(event="sla.breached", payloads=[{"ticket": "T-1"}])
    assert webhook_deliver_due() == 0
    delivery = WebhookDelivery.objects.get()
    # a generic class, not the library's message
    assert delivery.last_status is None and delivery.last_error == "connection refused"


def test_only_https_is_accepted_and_only_managers_register(client, public_dns):
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
    ticket_classify(
        ticket=ticket, by=UserFactory(role=Role.AGENT), clarity="unclear", question="Which browser?"
    )
    # then both events are delivered (posted in parallel, so in either order) with the ticket's
    # reference and statuses
    assert webhook_deliver_due() == 2
    bodies = {body["event"]: body for body in (json.loads(request["body"]) for request in receiver.requests)}
    created, changed = bodies["ticket.created"], bodies["ticket.status_changed"]
    assert created["data"]["ticket"] == ticket.reference
    assert changed["data"]["old_status"] == "new"
    assert changed["data"]["status"] == "waiting_on_customer"


INTERNAL_URLS = [
    "https://127.0.0.1/h",
    "https://localhost/h",  # a name that resolves to loopback
    "https://[::1]/h",
    "https://[::ffff:127.0.0.1]/h",  # IPv4-mapped IPv6
    "https://[::ffff:a9fe:a9fe]/h",  # the metadata service, mapped
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/h",
    "https://172.16.3.4/h",
    "https://192.168.1.1/h",
    "https://100.64.0.1/h",  # carrier-grade NAT
    "https://0.0.0.0/h",
    "https://224.0.0.1/h",  # multicast
    "https://240.0.0.1/h",  # reserved
    "https://[fe80::1]/h",
    "https://[fd00::1]/h",
    "https://2130706433/h",  # 127.0.0.1 as one number, resolved by the C library
    "https://no-such-host.invalid/h",  # does not resolve
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_registering_a_webhook_to_an_internal_address_is_refused(url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        webhook_create(url=url, events=["sla.breached"], by=UserFactory(role=Role.MANAGER))
    assert "public internet addresses" in refused.value.message_dict["url"][0]


@pytest.mark.parametrize("url", ["https://localhost/h", "https://169.254.169.254/", "https://[::1]/h"])
def test_the_api_answers_an_internal_webhook_address_with_a_400(url):
    from accounts.models import Webhook

    manager_api = APIClient()
    manager_api.force_authenticate(UserFactory(role=Role.MANAGER, is_staff=True))
    response = manager_api.post("/api/v1/webhooks/", {"url": url, "events": ["sla.breached"]}, format="json")
    assert response.status_code == 400
    assert "public internet addresses" in response.json()["errors"]["url"][0]
    assert not Webhook.objects.exists()


def test_the_webhook_page_refuses_an_internal_address_with_a_message(manager_client):
    from accounts.models import Webhook

    response = manager_client.post(
        "/settings/webhooks/", {"url": "https://localhost/h", "events": ["sla.breached"]}, follow=True
    )
    assert response.status_code == 200
    assert "public internet addresses" in response.content.decode()
    assert not Webhook.objects.exists()


def test_delivery_checks_again_and_refuses_a_name_that_moved_inside(receiver, public_dns, settings):
    """Registered while public; by delivery the name answers loopback (DNS rebinding)."""
    from accounts.models import Webhook

    hook = webhook_create(
        url="https://hooks.example/h", events=["sla.breached"], by=UserFactory(role=Role.MANAGER)
    )
    Webhook.objects.filter(pk=hook.pk).update(url=f"http://localhost:{receiver.server.server_port}/hook")
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.WEBHOOK_ALLOW_HTTP_HOSTS = ["localhost"]
    webhook_emit(event="sla.breached", payloads=[{"ticket": "T-1"}])
    assert webhook_deliver_due() == 0
    assert receiver.requests == []  # never reached
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_error == "refused: internal or unresolvable address"


def test_delivery_connects_to_the_checked_address_not_a_second_lookup(receiver, monkeypatch):
    """The first answer is checked and used; a rebinding resolver's second answer never is."""
    import socket

    answers = iter(["127.0.0.1", "169.254.169.254"])  # a second call would be refused / hang

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    hook = webhook_create(url=receiver.url, events=["sla.breached"], by=UserFactory(role=Role.MANAGER))
    hook.url = f"http://rebind.test:{receiver.server.server_port}/hook"
    hook.save()
    webhook_emit(event="sla.breached", payloads=[{"ticket": "T-1"}])
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert webhook_deliver_due() == 1
    (request,) = receiver.requests
    assert request["headers"]["host"] == f"rebind.test:{receiver.server.server_port}"


def test_a_redirect_is_not_followed_and_counts_as_a_failure(receiver):
    receiver.statuses = [302]
    webhook_create(url=receiver.url, events=["sla.breached"], by=UserFactory(role=Role.MANAGER))
    webhook_emit(event="sla.breached", payloads=[{"ticket": "T-1"}])
    assert webhook_deliver_due() == 0
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status == 302 and delivery.delivered_at is None and delivery.next_attempt_at


def test_a_hanging_receiver_times_out_with_a_generic_error(settings, monkeypatch):
    import socket

    from accounts import webhooks

    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    monkeypatch.setattr(webhooks, "DELIVERY_TIMEOUT_SECONDS", 0.5)
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        port = listener.getsockname()[1]
        webhook_create(
            url=f"http://127.0.0.1:{port}/h", events=["sla.breached"], by=UserFactory(role=Role.MANAGER)
        )
        webhook_emit(event="sla.breached", payloads=[{"ticket": "T-1"}])
        assert webhook_deliver_due() == 0
    finally:
        listener.close()
    assert WebhookDelivery.objects.get().last_error == "timeout"


class ThreadingReceiver(Receiver):
    """The receiver answering several deliveries at once, as a real endpoint does."""

    def __init__(self):
        super().__init__()
        from http.server import ThreadingHTTPServer

        class Server(ThreadingHTTPServer):
            request_queue_size = 64  # two runs of 8 threads connect at once (the default is 5)

        handler = self.server.RequestHandlerClass
        self.server.shutdown()
        self.server.server_close()
        self.server = Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def fast_receiver(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    r = ThreadingReceiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


BACKLOG = 300  # three times the old per-run batch of 100


def _backlog(receiver) -> None:
    webhook_create(url=receiver.url, events=["sla.breached"], by=UserFactory(role=Role.MANAGER))
    webhook_emit(event="sla.breached", payloads=({"ticket": f"T-{n}"} for n in range(BACKLOG)))


def test_one_task_run_drains_a_backlog(fast_receiver):
    """Issue 13: 100 a run left a 24,000 backlog for hours; a run now posts until empty."""
    from accounts.tasks import webhook_deliver_due_task

    _backlog(fast_receiver)
    assert webhook_deliver_due_task() == BACKLOG
    assert len(fast_receiver.requests) == BACKLOG
    assert not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()


def test_a_run_stops_claiming_when_its_time_budget_is_spent(fast_receiver):
    from accounts.webhooks import DELIVERY_CLAIM

    _backlog(fast_receiver)
    assert webhook_deliver_due(budget_seconds=0.0001) == DELIVERY_CLAIM  # one round, then stop
    assert WebhookDelivery.objects.filter(delivered_at__isnull=True).count() == BACKLOG - DELIVERY_CLAIM


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_deliver_each_exactly_once(fast_receiver):
    from collections import Counter

    from django.db import connection

    _backlog(fast_receiver)
    results = []

    def run():
        try:
            results.append(webhook_deliver_due())
        finally:
            connection.close()

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert sum(results) == BACKLOG
    sent = Counter(request["headers"]["x-sla-delivery"] for request in fast_receiver.requests)
    assert len(sent) == BACKLOG and set(sent.values()) == {1}
    assert WebhookDelivery.objects.filter(attempts=1, delivered_at__isnull=False).count() == BACKLOG
