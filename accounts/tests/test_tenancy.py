"""Tenant isolation: a customer of organisation A gets 404 for anything of organisation B."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Organisation, Role
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_customer_sees_own_organisation_but_not_another(client):
    user = UserFactory(role=Role.CUSTOMER_USER)
    other = UserFactory(role=Role.CUSTOMER_USER).organisation
    client.force_login(user)
    assert client.get(f"/organisations/{user.organisation.pk}/").status_code == 200
    assert client.get(f"/organisations/{other.pk}/").status_code == 404


def test_tenant_queryset_scopes_customers_and_lets_staff_see_all(make_staff):
    a = UserFactory(role=Role.CUSTOMER_USER)
    UserFactory(role=Role.CUSTOMER_USER)
    assert list(Organisation.objects.for_user(a)) == [a.organisation]
    assert Organisation.objects.for_user(make_staff(Role.AGENT)).count() == 2


def _routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def test_every_customer_facing_route_with_an_id_is_covered_by_a_tenancy_test():
    """A new customer route that takes an object id must be added to a tenancy test."""
    covered = {
        "organisations/<int:pk>/",
        # a signed token naming one ticket: tickets/tests/test_satisfaction.py (tampered, another's)
        "rate/<str:token>/",
        # visibility, not tenancy: knowledge/tests/test_search.py, test_views.py
        "kb/<slug:slug>/",
        "kb/<slug:slug>/feedback/",
    }
    staff_only_prefixes = (
        "admin/",
        "account-requests/",
        "desk/",
        "manager/",
        "accounts/",
        "api/",
        "settings/sso/",
    )
    customer_routes_with_ids = {
        route
        for route in _routes()
        if "<" in route
        and not route.startswith(staff_only_prefixes)
        and not route.startswith("portal/")  # the tickets app's own tenancy test covers these
    }
    assert customer_routes_with_ids <= covered, customer_routes_with_ids - covered
