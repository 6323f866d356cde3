"""Issue 14: a visitor finds the account request from the login page; a manager approves it
into an existing organisation or a new one with its contract, as customer user or coordinator;
the desk reaches the organisation and its coordinators page."""

from datetime import date

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import AccountRequest, AccountRequestStatus, Organisation, Role, User
from accounts.tests.factories import OrganisationFactory, UserFactory
from sla import selectors as sla_selectors
from sla.models import Contract, ServiceLevel

pytestmark = pytest.mark.django_db


def _pending(email: str = "ria@klant.example", organisation_name: str = "Klant BV") -> AccountRequest:
    return services.account_request_create(
        email=email, full_name="Ria Klant", organisation_name=organisation_name
    )


def _with_contract(organisation: Organisation, level_code: str = "default") -> Organisation:
    Contract.objects.create(
        organisation=organisation,
        service_level=ServiceLevel.objects.get(code=level_code),
        valid_from=date(2020, 1, 1),
    )
    return organisation


# --- the way in ---------------------------------------------------------------------------


def test_the_login_page_links_to_the_account_request_form(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/request-account/"' in page
    assert "Request an account" in page
    assert "Sign Up Closed" not in page


def test_the_login_page_says_it_in_dutch(client):
    client.cookies["django_language"] = "nl"
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Account aanvragen" in page


def test_signup_leads_to_the_account_request_form(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 302
    assert response["Location"] == "/request-account/"
    response = client.post(
        "/accounts/signup/", {"email": "x@y.example", "password1": "x" * 20, "password2": "x" * 20}
    )
    assert response["Location"] == "/request-account/"
    assert not User.objects.filter(email="x@y.example").exists()


# --- approval -------------------------------------------------------------------------------


def test_approval_into_an_existing_organisation_as_customer_user(
    manager_client, django_capture_on_commit_callbacks
):
    existing = _with_contract(OrganisationFactory(name="Acme"))
    request = _pending()
    assert manager_client.get(f"/account-requests/{request.pk}/approve/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            f"/account-requests/{request.pk}/approve/",
            {"organisation": existing.pk, "role": Role.CUSTOMER_USER},
        )
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(email="ria@klant.example")
    assert (user.organisation, user.role) == (existing, Role.CUSTOMER_USER)
    assert not Organisation.objects.filter(name="Klant BV").exists()
    assert user.notifications.filter(subject__contains="SLA Portal").exists()  # the welcome, in the outbox


def test_approval_into_a_new_organisation_with_its_contract_as_coordinator(manager_client):
    request = _pending()
    level = ServiceLevel.objects.get(code="extended")
    response = manager_client.post(
        f"/account-requests/{request.pk}/approve/",
        {
            "organisation": "",
            "organisation_name": "Klant BV",
            "service_level": level.pk,
            "contract_from": timezone.localdate().isoformat(),
            "role": Role.COORDINATOR,
        },
    )
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(email="ria@klant.example")
    assert user.role == Role.COORDINATOR
    assert user.organisation.name == "Klant BV"
    contract = sla_selectors.contract_in_force(organisation_id=user.organisation_id, on=timezone.localdate())
    assert (contract.service_level, contract.valid_from) == (level, timezone.localdate())
    request.refresh_from_db()
    assert request.status == AccountRequestStatus.APPROVED


def test_a_new_organisation_needs_a_level_and_a_free_name(manager_client):
    OrganisationFactory(name="Klant BV")
    request = _pending()
    url = f"/account-requests/{request.pk}/approve/"
    data = {
        "organisation": "",
        "organisation_name": "klant bv",
        "service_level": "",
        "role": Role.CUSTOMER_USER,
    }
    response = manager_client.post(url, data)
    assert response.status_code == 400
    assert response.context["form"].errors["service_level"]
    data["service_level"] = ServiceLevel.objects.get(code="default").pk
    response = manager_client.post(url, data)
    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["organisation_name"][0]
    assert not User.objects.filter(email="ria@klant.example").exists()
    assert Organisation.objects.count() == 1
    assert not Contract.objects.exists()


def test_a_coordinator_seat_is_refused_beyond_the_limit_of_the_version_in_force(manager_client):
    """Document 001 §1.2.2: "Aantal gebruikers om calls te registreren (als
    coördinator/dispatcher)" — Max 2 on Default. A third is refused with a form error, and
    nothing is written: no user, no approval."""
    organisation = _with_contract(OrganisationFactory(name="Acme"), "default")
    terms = sla_selectors.level_terms(
        service_level=ServiceLevel.objects.get(code="default"), on=timezone.localdate()
    )
    assert terms.max_coordinators == 2
    UserFactory.create_batch(2, role=Role.COORDINATOR, organisation=organisation)
    request = _pending()
    response = manager_client.post(
        f"/account-requests/{request.pk}/approve/",
        {"organisation": organisation.pk, "role": Role.COORDINATOR},
    )
    assert response.status_code == 400
    assert "already has 2 coordinators" in " ".join(response.context["form"].non_field_errors())
    assert not User.objects.filter(email="ria@klant.example").exists()
    request.refresh_from_db()
    assert request.status == AccountRequestStatus.PENDING
    assert not request.user_id


def test_a_new_organisation_is_not_left_behind_when_the_seat_is_refused(manager_client):
    """A contract starting later has no coordinator seat today: the approval fails whole."""
    request = _pending()
    response = manager_client.post(
        f"/account-requests/{request.pk}/approve/",
        {
            "organisation": "",
            "organisation_name": "Later BV",
            "service_level": ServiceLevel.objects.get(code="default").pk,
            "contract_from": date(timezone.localdate().year + 1, 1, 1).isoformat(),
            "role": Role.COORDINATOR,
        },
    )
    assert response.status_code == 400
    assert not Organisation.objects.filter(name="Later BV").exists()
    assert not Contract.objects.filter(organisation__name="Later BV").exists()
    assert not User.objects.filter(email="ria@klant.example").exists()


def test_the_approval_page_is_in_dutch(manager_client):
    request = _pending()
    manager_client.cookies["django_language"] = "nl"
    page = manager_client.get(f"/account-requests/{request.pk}/approve/").content.decode()
    assert "Nieuwe organisatie" in page and "Rol" in page


def test_only_managers_approve(agent_client):
    request = _pending()
    assert agent_client.get(f"/account-requests/{request.pk}/approve/").status_code == 403
    assert (
        agent_client.post(f"/account-requests/{request.pk}/approve/", {"role": "customer_user"}).status_code
        == 403
    )


def test_the_request_list_links_to_the_approval_page(manager_client):
    request = _pending()
    assert (
        f'href="/account-requests/{request.pk}/approve/"'
        in manager_client.get("/account-requests/").content.decode()
    )


# --- desk → organisations → organisation → coordinators ------------------------------------


def test_the_desk_reaches_the_coordinators_page_through_the_organisation(manager_client):
    organisation = _with_contract(OrganisationFactory(name="Acme"))
    UserFactory(role=Role.COORDINATOR, organisation=organisation, full_name="Cora Coördinator")
    desk = manager_client.get("/desk/").content.decode()
    assert 'href="/desk/organisations/"' in desk
    listing = manager_client.get("/desk/organisations/")
    assert listing.status_code == 200
    assert f'href="/desk/organisations/{organisation.pk}/"' in listing.content.decode()
    detail = manager_client.get(f"/desk/organisations/{organisation.pk}/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert f'href="/desk/organisations/{organisation.pk}/coordinators/"' in page
    assert "Default" in page and "Cora Coördinator" in page
    assert detail.context["seats_used"] == 1 and detail.context["seats_left"] == 1
    assert manager_client.get(f"/desk/organisations/{organisation.pk}/coordinators/").status_code == 200


def test_agents_see_the_organisations_too(agent_client):
    organisation = OrganisationFactory(name="Acme")
    assert agent_client.get("/desk/organisations/").status_code == 200
    assert agent_client.get(f"/desk/organisations/{organisation.pk}/").status_code == 200


def test_customers_do_not_reach_the_desk_organisation_pages(client, coordinator):
    client.force_login(coordinator)
    organisation = coordinator.organisation
    assert client.get("/desk/organisations/").status_code == 403
    assert client.get(f"/desk/organisations/{organisation.pk}/").status_code == 403
    assert client.get(f"/desk/organisations/{organisation.pk}/coordinators/").status_code == 403
    assert 'href="/desk/organisations/"' not in client.get("/portal/").content.decode()


def test_the_organisation_pages_are_in_dutch(manager_client):
    organisation = _with_contract(OrganisationFactory(name="Acme"))
    manager_client.cookies["django_language"] = "nl"
    assert "Organisaties" in manager_client.get("/desk/organisations/").content.decode()
    page = manager_client.get(f"/desk/organisations/{organisation.pk}/").content.decode()
    assert "Coördinatoren" in page and "Contract" in page


def test_an_unknown_organisation_is_a_404(manager_client):
    assert manager_client.get("/desk/organisations/999999/").status_code == 404
