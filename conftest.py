"""Fixtures shared by every app's tests."""

import importlib
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from accounts.models import Role
from accounts.tests.factories import PASSWORD, TEST_TOTP_SECRET, UserFactory, with_totp


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits and used TOTP codes live in the shared cache: start each test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request leaves its language active in the thread (LocaleMiddleware activates one per
    request and never resets it): each test starts in the default language, whichever test the
    worker ran before."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def totp_now(secret: str = TEST_TOTP_SECRET) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def login_with_second_factor(client, user) -> None:
    """Log in through allauth's real forms: password, then the TOTP code."""
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    if response["Location"].startswith("/accounts/2fa/authenticate"):
        response = client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
        assert response.status_code == 302, response.content[:500]


# The data migrations that seed editable data, each with a model that is empty once flushed.
SEEDS = [
    ("sla.migrations.0003_seed_sla", "sla.ServiceLevel"),
    ("sla.migrations.0005_seed_managers", "sla.PublishedFigure"),
    ("sla.migrations.0011_seed_level_terms", "sla.ServiceLevelTerms"),
    ("sla.migrations.0015_measure_stopped_clocks", None),  # idempotent: "3 months" as months
    ("tickets.migrations.0003_seed_process", "tickets.RaciRule"),
]


@pytest.fixture(autouse=True)
def _seeded_after_flush(request):
    """A transactional test ends by flushing every table, seeded data included, whatever the
    order the tests run in: put the seeds back with the data migrations' own functions."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")) and "live_server" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    for module, sentinel in SEEDS:
        if sentinel is None or not apps.get_model(sentinel).objects.exists():
            importlib.import_module(module).seed(apps, None)


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


def open_menu(page) -> None:
    """On a narrow screen the top bar folds into a menu (static/js/nav.js): open it, as a
    person on a phone does before following a link of the top bar."""
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
