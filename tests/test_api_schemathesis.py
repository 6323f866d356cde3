"""schemathesis against our own OpenAPI schema, as a customer and as an agent: no 5xx, and
every response matches the schema. Examples are bounded to keep the suite fast."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.models import Role
from accounts.services import api_token_create
from accounts.tests.factories import UserFactory
from sla.tests.factories import organisation_on_level
from sla_portal.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """schemathesis calls the WSGI app directly; its request signals would close the
    connection that holds the test's transaction. Django's own test client detaches them too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db):
    customer = UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level("extended"))
    agent = UserFactory(role=Role.AGENT)
    return {role: api_token_create(user=user, name="schemathesis")[1] for role, user in
            (("customer", customer), ("agent", agent))}


@pytest.mark.django_db(transaction=False)
@schema.exclude(path_regex="^/api/v1/tokens/$", method="POST").parametrize()
@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@pytest.mark.parametrize("role", ["customer", "agent"])
def test_api_never_fails_and_matches_its_schema(case, tokens, role):
    case.call_and_validate(headers={"Authorization": f"Token {tokens[role]}"},
                           checks=[not_a_server_error, response_schema_conformance])
