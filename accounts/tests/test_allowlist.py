"""SPEC §9: "management access additionally behind an allow-list"."""

import pytest
from django.test import RequestFactory, override_settings

from accounts.models import Role
from accounts.services import api_token_create
from conftest import login_with_second_factor
from sla_portal.client_ip import client_ip

OFFICE = "10.20.0.0/16"
INSIDE = "10.20.3.4"
OUTSIDE = "203.0.113.9"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "", "192.0.2.1"),
        (0, "198.51.100.7", "192.0.2.1"),  # no trusted proxy: the header is the client's own word
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "10.20.3.4, 198.51.100.7", "198.51.100.7"),  # the forged left part is ignored
        (2, "10.20.3.4, 198.51.100.7, 172.16.0.2", "198.51.100.7"),
        (1, "", "192.0.2.1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(proxies, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXIES=proxies):
        assert client_ip(request) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/desk/", "/manager/", "/admin/", "/admin/login/", "/account-requests/"])
def test_management_paths_answer_403_from_outside_the_allow_list(client, path):
    with override_settings(MANAGEMENT_ALLOWED_NETWORKS=[OFFICE]):
        response = client.get(path, REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert b"Not available from this network" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/desk/", "/manager/"])
def test_a_manager_works_from_inside_the_allow_list(client, make_staff, path):
    manager = make_staff(Role.MANAGER)
    login_with_second_factor(client, manager)
    with override_settings(MANAGEMENT_ALLOWED_NETWORKS=[OFFICE]):
        assert client.get(path, REMOTE_ADDR=INSIDE).status_code == 200
        assert client.get(path, REMOTE_ADDR=OUTSIDE).status_code == 403


@pytest.mark.django_db
def test_an_empty_allow_list_opens_management_everywhere(manager_client):
    with override_settings(MANAGEMENT_ALLOWED_NETWORKS=[]):
        assert manager_client.get("/manager/", REMOTE_ADDR=OUTSIDE).status_code == 200


@pytest.mark.django_db
def test_a_staff_session_from_outside_reaches_nothing_but_logging_out(agent_client):
    with override_settings(MANAGEMENT_ALLOWED_NETWORKS=[OFFICE]):
        assert agent_client.get("/", REMOTE_ADDR=OUTSIDE).status_code == 403
        assert agent_client.get("/settings/tokens/", REMOTE_ADDR=OUTSIDE).status_code == 403
        api = agent_client.get("/api/v1/tickets/", REMOTE_ADDR=OUTSIDE)
        assert api.status_code == 403
        assert "networks" in api.json()["message"]
        assert agent_client.post("/accounts/logout/", REMOTE_ADDR=OUTSIDE).status_code == 302


@pytest.mark.django_db
def test_a_staff_token_obeys_the_allow_list(agent):
    from rest_framework.test import APIClient

    _, key = api_token_create(user=agent, name="desk script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with override_settings(MANAGEMENT_ALLOWED_NETWORKS=[OFFICE]):
        assert api.get("/api/v1/tickets/", REMOTE_ADDR=INSIDE).status_code == 200
        outside = api.get("/api/v1/tickets/", REMOTE_ADDR=OUTSIDE)
    assert outside.status_code == 403
    assert "networks" in outside.json()["message"]


@pytest.mark.django_db
def test_customers_are_not_bound_to_the_allow_list(client, customer):
    from rest_framework.test import APIClient

    login_with_second_factor(client, customer)
    _, key = api_token_create(user=customer, name="integration")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with override_settings(MANAGEMENT_ALLOWED_NETWORKS=[OFFICE]):
        assert client.get("/portal/", REMOTE_ADDR=OUTSIDE).status_code == 200
        assert api.get("/api/v1/tickets/", REMOTE_ADDR=OUTSIDE).status_code == 200


@pytest.mark.django_db
def test_the_allow_list_reads_the_address_behind_the_trusted_proxy(client):
    with override_settings(MANAGEMENT_ALLOWED_NETWORKS=[OFFICE], TRUSTED_PROXIES=1):
        # The proxy (REMOTE_ADDR) is inside; the client it forwards for is not.
        forged = client.get("/admin/login/", REMOTE_ADDR=INSIDE, HTTP_X_FORWARDED_FOR=f"{INSIDE}, {OUTSIDE}")
        assert forged.status_code == 403
        real = client.get("/admin/login/", REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR=INSIDE)
        assert real.status_code == 302  # on to the login page
