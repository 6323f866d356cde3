"""POST /api/v1/tokens/ is a login: the same limits as the login page, keyed on the real client
address, and one answer for every wrong credential (issue 12, the high finding)."""

import pytest
from django.test import RequestFactory
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle

from accounts.adapter import AccountAdapter
from accounts.models import ApiToken, Role
from accounts.tests.factories import PASSWORD, OrganisationFactory, UserFactory, with_totp
from conftest import totp_now
from sla_portal.client_ip import client_ip

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"


def ask_token(client, email, password=PASSWORD, otp_code=None, forwarded=None):
    data = {"email": email, "password": password, "name": "script"}
    if otp_code is not None:
        data["otp_code"] = otp_code
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return client.post(TOKENS, data, format="json", **headers)


def test_a_rotating_x_forwarded_for_does_not_reset_the_quota():
    client = APIClient()
    statuses = [
        ask_token(client, f"nobody{n}@example.com", "guess", forwarded=f"203.0.113.{n}").status_code
        for n in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]


def trust_proxies(settings, proxies: int) -> None:
    """What TRUSTED_PROXIES=n in the environment sets."""
    settings.TRUSTED_PROXIES = proxies
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxies
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    assert proxies == api_settings.NUM_PROXIES


def test_behind_one_trusted_proxy_the_client_is_the_address_the_proxy_saw(settings):
    """The address our proxy appended counts, not what the client wrote before it; a client
    behind another address gets its own quota."""
    trust_proxies(settings, 1)
    client = APIClient()
    for n in range(10):
        assert (
            ask_token(client, f"x{n}@example.com", "guess", forwarded=f"10.0.0.{n}, 198.51.100.7").status_code
            == 401
        )
    assert ask_token(client, "y@example.com", "guess", forwarded="10.9.9.9, 198.51.100.7").status_code == 429
    assert (
        ask_token(client, "z@example.com", "guess", forwarded="198.51.100.7, 198.51.100.8").status_code == 401
    )


@pytest.mark.parametrize("proxies", [0, 1, 2])
@pytest.mark.parametrize(
    "forwarded", [None, "203.0.113.9", "10.0.0.1, 203.0.113.9", " 1.1.1.1 ,2.2.2.2, 3.3.3.3"]
)
def test_drf_allauth_and_our_limits_derive_the_client_address_alike(settings, proxies, forwarded):
    trust_proxies(settings, proxies)
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1", **extra)
    ours = client_ip(request)
    assert ours == BaseThrottle().get_ident(request) == AccountAdapter(request).get_client_ip(request)
    assert ours == "192.0.2.1" if proxies == 0 or not forwarded else ours != "192.0.2.1"


def test_the_settings_tie_drf_and_allauth_to_trusted_proxies():
    from django.conf import settings

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXIES == 0
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == settings.TRUSTED_PROXIES


def test_wrong_passwords_on_the_api_lock_the_account_on_the_login_page_too(client):
    user = UserFactory()
    api = APIClient()
    for _ in range(5):
        assert ask_token(api, user.email, "wrong-password-x").status_code == 401
    # the right password is now refused on both doors
    response = ask_token(api, user.email.upper())
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.json()["message"]
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


def test_wrong_passwords_on_the_login_page_lock_the_api():
    user = UserFactory()
    from django.test import Client

    page = Client()
    for _ in range(5):
        page.post("/accounts/login/", {"login": user.email, "password": "wrong-password-x"})
    assert ask_token(APIClient(), user.email).status_code == 429
    assert not ApiToken.objects.exists()


def test_a_successful_token_login_gives_its_attempt_back():
    user = UserFactory()
    api = APIClient()
    for _ in range(4):
        ask_token(api, user.email, "wrong-password-x")
    for _ in range(3):
        assert ask_token(api, user.email).status_code == 201
    assert ask_token(api, user.email, "wrong-password-x").status_code == 401


def test_a_wrong_password_and_a_wrong_or_missing_second_factor_get_one_answer():
    staff = with_totp(UserFactory(role=Role.AGENT))
    strict = UserFactory(role=Role.CUSTOMER_USER, organisation=OrganisationFactory(mfa_required=True))
    answers = {
        "wrong password": ask_token(APIClient(), staff.email, "wrong-password-x", otp_code=totp_now()),
        "unknown e-mail": ask_token(APIClient(), "nobody@example.com", otp_code=totp_now()),
        "missing code": ask_token(APIClient(), staff.email),
        "wrong code": ask_token(APIClient(), staff.email, otp_code="000000"),
        "second factor not set up": ask_token(APIClient(), strict.email),
    }
    shapes = {label: (r.status_code, r.json(), r.get("WWW-Authenticate")) for label, r in answers.items()}
    assert len(set(map(repr, shapes.values()))) == 1, shapes
    assert shapes["wrong code"][0] == 401
    assert ask_token(APIClient(), staff.email, otp_code=totp_now()).status_code == 201


def test_an_inactive_account_with_the_right_password_gets_the_same_answer():
    user = UserFactory(is_active=False)
    wrong = ask_token(APIClient(), "nobody@example.com")
    response = ask_token(APIClient(), user.email)
    assert (response.status_code, response.json()) == (wrong.status_code, wrong.json())


def test_wrong_codes_on_the_api_count_against_the_login_pages_second_factor_limit(client):
    staff = with_totp(UserFactory(role=Role.AGENT))
    api = APIClient()
    for _ in range(4):
        assert ask_token(api, staff.email, otp_code="000000").status_code == 401
    # one more wrong code on the login page's second step uses up the shared per-user limit
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()
