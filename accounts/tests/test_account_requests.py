import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import AccountRequest, AccountRequestStatus, Organisation, Role, User
from accounts.tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _request_account(client, **overrides):
    """POST the form; upper-case keyword arguments are request META (REMOTE_ADDR, HTTP_...)."""
    meta = {key: overrides.pop(key) for key in list(overrides) if key.isupper()}
    data = {
        "full_name": "Ria Klant",
        "email": "ria@klant.example",
        "organisation_name": "Klant BV",
        "message": "Ik ben de nieuwe applicatiebeheerder.",
    }
    data.update(overrides)
    return client.post("/request-account/", data, **meta)


def test_account_request_approval_and_first_login(client, manager_client, django_capture_on_commit_callbacks):
    # given a visitor who requests an account
    response = _request_account(client)
    assert response.status_code == 200
    assert "waiting for a support manager" in response.content.decode()
    account_request = AccountRequest.objects.get(email="ria@klant.example")
    assert account_request.status == AccountRequestStatus.PENDING
    assert not User.objects.filter(email="ria@klant.example").exists()

    # when a support manager approves it
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            f"/account-requests/{account_request.pk}/decide/", {"decision": "approve"}
        )
    assert response.status_code == 302

    # then the customer exists in a new organisation and was e-mailed a password link
    user = User.objects.get(email="ria@klant.example")
    assert user.role == Role.CUSTOMER_USER
    assert user.organisation.name == "Klant BV"
    assert not user.has_usable_password()
    # through the outbox: a mail server that is down would delay the mail, not fail the request
    assert mail.outbox == []
    assert services.notification_deliver_pending() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ria@klant.example"]
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[0].body).group(0)

    # and they can set a password through the link and log in with it
    manager_client.logout()
    path = link.split("8000", 1)[1]
    response = client.get(path)
    assert response.status_code == 302  # allauth moves the key into the session
    response = client.post(
        response["Location"], {"password1": "a-Long-new-passw0rd", "password2": "a-Long-new-passw0rd"}
    )
    assert response.status_code == 302
    client.logout()
    response = client.post(
        "/accounts/login/", {"login": "ria@klant.example", "password": "a-Long-new-passw0rd"}
    )
    assert response.status_code == 302
    assert client.get("/").url == "/portal/"


def test_approval_joins_an_existing_organisation_by_name(manager):
    existing = OrganisationFactory(name="Klant BV")
    request = services.account_request_create(
        email="a@b.example", full_name="A", organisation_name="klant bv"
    )
    user = services.account_request_approve(account_request=request, by=manager)
    assert user.organisation == existing
    assert Organisation.objects.count() == 1


def _answer(response) -> str:
    """The page without what differs per request anyway (the CSRF token)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_the_form_answers_alike_whether_or_not_the_address_has_an_account(client):
    """Issue 12 (low): the answer told which addresses have accounts. Now the owner gets a mail."""
    owner = UserFactory(email="ria@klant.example", language="en")
    existing = _request_account(client)
    unknown = _request_account(client, email="piet@klant.example")
    assert existing.status_code == unknown.status_code == 200
    assert _answer(existing) == _answer(unknown).replace("piet@", "ria@")
    assert AccountRequest.objects.get().email == "piet@klant.example"
    assert services.notification_deliver_pending() == 1  # what the worker does
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "already has one" in mail.outbox[0].body and "/accounts/login/" in mail.outbox[0].body


def test_a_second_request_for_a_pending_address_gets_the_same_answer_and_adds_nothing(client):
    first = _request_account(client)
    second = _request_account(client, email="RIA@klant.example", full_name="Someone Else")
    assert _answer(first) == _answer(second).replace("RIA@", "ria@")
    assert AccountRequest.objects.get().full_name == "Ria Klant"


def test_account_requests_are_rate_limited_per_client_address(client, settings):
    for n in range(5):
        assert _request_account(client, email=f"r{n}@klant.example").status_code == 200
    response = _request_account(client, email="r5@klant.example")
    assert response.status_code == 429
    assert "Too many account requests came from your address" in response.content.decode()
    assert AccountRequest.objects.count() == 5
    # a client-written X-Forwarded-For is no new address; another real address is
    spoofed = _request_account(client, email="r6@klant.example", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert spoofed.status_code == 429
    assert _request_account(client, email="r7@klant.example", REMOTE_ADDR="198.51.100.2").status_code == 200


@pytest.mark.parametrize(
    "field,value", [("email", "not-an-email"), ("full_name", ""), ("organisation_name", "")]
)
def test_invalid_account_request_shows_the_field_error_and_saves_nothing(client, field, value):
    response = _request_account(client, **{field: value})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert AccountRequest.objects.count() == 0


def test_a_decided_request_cannot_be_decided_again(manager):
    request = services.account_request_create(email="a@b.example", full_name="A", organisation_name="X")
    services.account_request_reject(account_request=request, by=manager, note="unknown")
    with pytest.raises(ValidationError, match="already rejected"):
        services.account_request_approve(account_request=request, by=manager)
    assert not User.objects.filter(email="a@b.example").exists()


def test_only_managers_see_and_decide_account_requests(agent_client):
    request = services.account_request_create(email="a@b.example", full_name="A", organisation_name="X")
    assert agent_client.get("/account-requests/").status_code == 403
    assert (
        agent_client.post(f"/account-requests/{request.pk}/decide/", {"decision": "approve"}).status_code
        == 403
    )
    request.refresh_from_db()
    assert request.status == AccountRequestStatus.PENDING


def test_signup_is_closed(client):
    response = client.post(
        "/accounts/signup/", {"email": "x@y.example", "password1": "x" * 20, "password2": "x" * 20}
    )
    assert not User.objects.filter(email="x@y.example").exists()
    assert response.status_code == 302 and response["Location"] == "/request-account/"
