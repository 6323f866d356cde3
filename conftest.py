"""Fixtures shared by every app's tests."""

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.cache import cache

from accounts.models import Role
from accounts.tests.factories import PASSWORD, TEST_TOTP_SECRET, UserFactory, with_totp


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits and used TOTP codes live in the shared cache: start each test clean."""
    cache.clear()
    yield
    cache.clear()


def totp_now(secret: str = TEST_TOTP_SECRET) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def login_with_second_factor(client, user) -> None:
    """Log in through allauth's real forms: password, then the TOTP code."""
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    if response["Location"].startswith("/accounts/2fa/authenticate"):
        response = client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
        assert response.status_code == 302, response.content[:500]


@pytest.fixture
def customer(db):
    return UserFactory(role=Role.CUSTOMER_USER)


@pytest.fixture
def coordinator(db):
    return UserFactory(role=Role.COORDINATOR)


@pytest.fixture
def make_staff(db):
    def make(role: str = Role.AGENT, *, totp: bool = True):
        user = UserFactory(role=role, is_staff=role in (Role.MANAGER, Role.ADMIN))
        return with_totp(user) if totp else user

    return make


@pytest.fixture
def agent(make_staff):
    return make_staff(Role.AGENT)


@pytest.fixture
def manager(make_staff):
    return make_staff(Role.MANAGER)


@pytest.fixture
def agent_client(client, agent):
    login_with_second_factor(client, agent)
    return client


@pytest.fixture
def manager_client(client, manager):
    login_with_second_factor(client, manager)
    return client
