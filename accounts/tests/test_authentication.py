import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import PASSWORD, OrganisationFactory, UserFactory, with_totp
from conftest import login_with_second_factor, totp_now

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/desk/", "/desk/consultancy/", "/manager/", "/account-requests/", "/admin/"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.CONSULTANT, Role.MANAGER, Role.ADMIN])
def test_staff_without_a_second_factor_reach_only_the_mfa_setup(client, make_staff, role):
    user = make_staff(role, totp=False)
    client.force_login(user)
    for page in STAFF_PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == reverse("mfa_activate_totp"), page


def test_staff_with_totp_must_enter_the_code_to_log_in(client, make_staff):
    user = make_staff(Role.MANAGER)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response["Location"].startswith("/accounts/2fa/authenticate")
    assert client.get("/manager/").status_code == 302  # not logged in yet
    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert response.status_code == 200  # wrong code: form error, still out
    assert client.get("/manager/").status_code == 302
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
    assert response.status_code == 302
    assert client.get("/manager/").status_code == 200


def test_admin_login_goes_through_allauth(client, make_staff):
    user = make_staff(Role.ADMIN)
    response = client.post("/admin/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_customers_need_no_second_factor_unless_their_organisation_demands_it(client):
    relaxed = UserFactory(role=Role.CUSTOMER_USER)
    client.force_login(relaxed)
    assert client.get("/portal/").status_code == 200

    strict = UserFactory(role=Role.CUSTOMER_USER, organisation=OrganisationFactory(mfa_required=True))
    client.force_login(strict)
    assert client.get("/portal/")["Location"] == reverse("mfa_activate_totp")
    with_totp(strict)
    client.logout()
    login_with_second_factor(client, strict)
    assert client.get("/portal/").status_code == 200


def test_repeated_failed_logins_are_rate_limited(client):
    user = UserFactory()
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong-password-x"})
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session


def test_short_passwords_are_refused(client):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at least 12"):
        validate_password("Sh0rt-pass!")


@pytest.mark.parametrize(
    "role,landing",
    [
        (Role.CUSTOMER_USER, "/portal/"),
        (Role.COORDINATOR, "/portal/"),
        (Role.AGENT, "/desk/"),
        (Role.CONSULTANT, "/desk/consultancy/"),
        (Role.MANAGER, "/manager/"),
        (Role.ADMIN, "/manager/"),
    ],
)
def test_each_role_lands_on_its_own_page(client, make_staff, role, landing):
    user = UserFactory(role=role) if role in (Role.CUSTOMER_USER, Role.COORDINATOR) else make_staff(role)
    login_with_second_factor(client, user)
    response = client.get("/")
    assert response["Location"] == landing
    assert client.get(landing).status_code == 200


def test_customers_cannot_open_staff_pages(client):
    client.force_login(UserFactory(role=Role.COORDINATOR))
    for page in ["/desk/", "/desk/consultancy/", "/manager/", "/account-requests/"]:
        assert client.get(page).status_code == 403, page


def test_pages_speak_dutch_on_request(client):
    client.force_login(UserFactory(role=Role.COORDINATOR))
    response = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="nl")
    assert "Onze tickets" in response.content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/portal/"})
    assert "Our tickets" in client.get("/portal/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
