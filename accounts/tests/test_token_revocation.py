"""API tokens do not outlive the credentials they were made under (issue 12, medium finding):
a password change or reset revokes the user's tokens, an organisation starting to require a
second factor revokes its users' tokens, and the pages say so."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken, ApiTokenRevokedReason, Role
from accounts.services import api_token_create, user_password_set_url
from accounts.tests.factories import PASSWORD, OrganisationFactory, UserFactory, with_totp
from conftest import login_with_second_factor

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-and-long-passphrase-2026"


def token_works(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/tokens/").status_code == 200


def test_changing_the_password_revokes_every_token_and_says_so(client):
    user, bystander = UserFactory(), UserFactory()
    keys = [api_token_create(user=user, name=name)[1] for name in ("cron", "excel")]
    _token, other_key = api_token_create(user=bystander, name="theirs")
    assert all(map(token_works, keys))
    login_with_second_factor(client, user)

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.status_code == 200
    assert "Your 2 API tokens were revoked because your password changed" in response.content.decode()
    assert not any(map(token_works, keys))
    assert token_works(other_key)
    assert set(ApiToken.objects.filter(user=user).values_list("revoked_reason", flat=True)) == {
        ApiTokenRevokedReason.PASSWORD
    }
    page = client.get("/settings/tokens/").content.decode()
    assert page.count("revoked: your password was changed or reset") == 2


def test_resetting_the_password_by_mail_revokes_every_token_and_says_so(client):
    user = UserFactory()
    _token, key = api_token_create(user=user, name="cron")
    form_url = client.get(user_password_set_url(user=user))["Location"]

    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True)

    assert response.status_code == 200
    assert "Your API token was revoked because your password changed" in response.content.decode()
    assert not token_works(key)


def test_a_password_set_in_the_admin_revokes_the_tokens(client):
    admin_user = with_totp(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))
    user = UserFactory()
    _token, key = api_token_create(user=user, name="cron")
    login_with_second_factor(client, admin_user)

    response = client.post(
        f"/admin/accounts/user/{user.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert not token_works(key)


def test_requiring_a_second_factor_revokes_the_tokens_of_all_the_organisations_users(client):
    """All of them, those with TOTP too: a token made before its owner set up TOTP never passed one."""
    organisation, elsewhere = OrganisationFactory(), OrganisationFactory()
    plain = UserFactory(organisation=organisation)
    careful = with_totp(UserFactory(organisation=organisation))
    outsider = UserFactory(organisation=elsewhere)
    keys = {user: api_token_create(user=user, name="cron")[1] for user in (plain, careful, outsider)}
    admin_user = with_totp(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))
    login_with_second_factor(client, admin_user)

    response = client.post(
        f"/admin/accounts/organisation/{organisation.pk}/change/",
        {"name": organisation.name, "mfa_required": "on"},
        follow=True,
    )

    assert response.status_code == 200
    assert "2 API tokens of the organisation" in response.content.decode()
    organisation.refresh_from_db()
    assert organisation.mfa_required
    assert not token_works(keys[plain]) and not token_works(keys[careful])
    assert token_works(keys[outsider])
    client.force_login(careful)
    page = client.get("/settings/tokens/").content.decode()
    assert "revoked: your organisation now requires two-factor authentication" in page


def test_saving_an_organisation_that_already_requires_a_second_factor_revokes_nothing(client):
    organisation = OrganisationFactory(mfa_required=True)
    user = with_totp(UserFactory(organisation=organisation))
    _token, key = api_token_create(user=user, name="cron")
    admin_user = with_totp(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))
    login_with_second_factor(client, admin_user)
    client.post(
        f"/admin/accounts/organisation/{organisation.pk}/change/",
        {"name": organisation.name + " BV", "mfa_required": "on"},
    )
    assert token_works(key)
