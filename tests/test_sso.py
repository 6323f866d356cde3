"""SPEC §9: "Personal accounts, multi-factor authentication, strong passwords, SSO as an option".

The SSO logins run against a real OpenID Connect provider (django-oauth-toolkit in its own
process, tests/oidc_provider/): discovery, authorization with PKCE, the token (with its
RS256-signed ID token) and userinfo all travel over HTTP between the two processes.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount, SocialApp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError

from accounts.models import Organisation, OrganisationSso, Role, User
from accounts.sso import GuardedSession, SsoFetchRefused, organisation_sso_configure, sso_url_check
from accounts.tests.factories import OrganisationFactory, UserFactory, with_totp
from conftest import open_menu, totp_now

ROOT = Path(__file__).resolve().parents[1]
CLIENT_ID = "sla-portal"
CLIENT_SECRET = "provider-issued-secret-0123456789"
PROVIDER_USERS = [
    {"email": "alice@acme.example"},
    {"email": "newbie@acme.example"},
    {"email": "mallory@acme.example", "verified": False},
    {"email": "bob@globex.example"},
    {"email": "carol@acme.example"},
    {"email": "staff@acme.example"},
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """The identity provider, started for these tests with a fresh RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "OIDC_DB": str(tmp_path_factory.mktemp("oidc") / "provider.sqlite3"),
        "OIDC_RSA_PRIVATE_KEY": pem,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_USERS": json.dumps(PROVIDER_USERS),
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "oidc_provider" / "serve.py"), str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/o/.well-known/openid-configuration", timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the OIDC provider did not start: {process.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def acme(db, provider, manager, settings):
    settings.SSO_ALLOW_LOCAL_HOSTS = ["127.0.0.1"]  # the provider runs on this machine
    organisation = OrganisationFactory(name="Acme")
    organisation_sso_configure(
        organisation=organisation,
        by=manager,
        server_url=f"{provider}/o",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        domains=["acme.example"],
    )
    return organisation


def sso_login(client, provider: str, *, typed: str, at_provider: str | None = None):
    """The person types ``typed`` on our login page, logs in at the provider as ``at_provider``
    and comes back: returns our answer to the provider's redirect."""
    response = client.post("/sso/", {"email": typed})
    assert response.status_code == 302, response.content[:500]
    authorize = response["Location"]
    assert authorize.startswith(f"{provider}/o/authorize/")
    browser = requests.Session()
    browser.get(f"{provider}/login/", params={"email": at_provider or typed}, timeout=10)
    answer = browser.get(authorize, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    callback = urlsplit(answer.headers["Location"])
    assert callback.netloc == "testserver"
    assert "code=" in callback.query
    return client.get(f"{callback.path}?{callback.query}")


def logged_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.filter(pk=user_id).first() if user_id else None


def test_sso_signs_in_the_existing_customer_with_that_verified_address(client, provider, acme):
    # given
    alice = UserFactory(email="alice@acme.example", organisation=acme)
    # when
    response = sso_login(client, provider, typed="alice@acme.example")
    # then
    assert response.status_code == 302, response.content[:800]
    assert logged_in_user(client) == alice
    assert client.get("/portal/").status_code == 200
    assert SocialAccount.objects.get(user=alice).provider == f"org-{acme.pk}"
    # and a second login goes through the linked identity
    client.logout()
    sso_login(client, provider, typed="alice@acme.example")
    assert logged_in_user(client) == alice


def test_sso_gives_a_new_address_of_the_domain_a_customer_account_in_that_organisation(
    client, provider, acme
):
    response = sso_login(client, provider, typed="newbie@acme.example")

    assert response.status_code == 302, response.content[:800]
    newbie = User.objects.get(email="newbie@acme.example")
    assert logged_in_user(client) == newbie
    assert (newbie.organisation, newbie.role, newbie.is_staff, newbie.is_superuser) == (
        acme,
        Role.CUSTOMER_USER,
        False,
        False,
    )
    assert not newbie.has_usable_password()


def test_sso_refuses_an_address_the_provider_has_not_verified(client, provider, acme):
    UserFactory(email="mallory@acme.example", organisation=acme)

    response = sso_login(client, provider, typed="mallory@acme.example")

    assert response.status_code == 403
    assert b"verified" in response.content
    assert logged_in_user(client) is None
    assert not SocialAccount.objects.exists()


def test_sso_refuses_an_address_outside_the_organisations_domains(client, provider, acme):
    UserFactory(email="bob@globex.example", organisation=OrganisationFactory(name="Globex"))

    response = sso_login(client, provider, typed="alice@acme.example", at_provider="bob@globex.example")

    assert response.status_code == 403
    assert logged_in_user(client) is None
    assert not User.objects.filter(email="bob@globex.example", organisation=acme).exists()


def test_sso_never_signs_in_a_user_of_another_organisation(client, provider, acme):
    # carol's address is of Acme's domain, but her account belongs to Globex
    carol = UserFactory(email="carol@acme.example", organisation=OrganisationFactory(name="Globex"))

    response = sso_login(client, provider, typed="carol@acme.example")

    assert response.status_code == 403
    assert logged_in_user(client) is None
    assert not SocialAccount.objects.filter(user=carol).exists()


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_sso_never_signs_in_or_links_a_member_of_staff(client, provider, acme, role):
    staff = with_totp(UserFactory(email="staff@acme.example", role=role, organisation=None))

    response = sso_login(client, provider, typed="staff@acme.example")

    assert response.status_code == 403
    assert b"second factor" in response.content
    assert logged_in_user(client) is None
    assert not SocialAccount.objects.filter(user=staff).exists()


def test_sso_login_still_asks_for_the_second_factor(client, provider, acme):
    # given an organisation that demands a second factor, and a user who has one
    acme.mfa_required = True
    acme.save()
    alice = with_totp(UserFactory(email="alice@acme.example", organisation=acme))
    # when
    response = sso_login(client, provider, typed="alice@acme.example")
    # then allauth asks for the code before anyone is logged in
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert logged_in_user(client) is None
    assert client.get("/portal/").status_code == 302
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
    assert response.status_code == 302
    assert logged_in_user(client) == alice
    assert client.get("/portal/").status_code == 200


def test_a_new_sso_user_of_an_organisation_that_demands_mfa_must_set_it_up_first(client, provider, acme):
    acme.mfa_required = True
    acme.save()

    sso_login(client, provider, typed="newbie@acme.example")

    assert client.get("/portal/")["Location"].startswith("/accounts/2fa/totp/activate")


def test_the_login_page_names_no_organisation_and_offers_sso_by_e_mail_address(client, acme):
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/sso/"' in page
    assert "Acme" not in page


def test_no_allauth_page_lists_the_organisations_with_sso(client, acme):
    customer = UserFactory(organisation=OrganisationFactory(name="Globex"))
    client.force_login(customer)
    page = client.get("/accounts/3rdparty/")
    assert page.status_code == 200
    assert "Acme" not in page.content.decode()


def test_allauths_provider_page_does_not_name_the_organisation(client, manager, settings):
    settings.SSO_ALLOW_LOCAL_HOSTS = ["127.0.0.1"]
    organisation = OrganisationFactory(name="Very Long Customer Name " * 4)
    organisation_sso_configure(
        organisation=organisation,
        by=manager,
        server_url="http://127.0.0.1:1/o",
        client_id="c",
        client_secret="s",
        domains=["long.example"],
    )
    page = client.get(f"/accounts/oidc/org-{organisation.pk}/login/")
    assert page.status_code == 200
    assert "Very Long" not in page.content.decode()


def test_an_address_without_sso_is_told_to_use_its_password(client, acme):
    response = client.post("/sso/", {"email": "someone@elsewhere.example"})
    assert response.status_code == 400
    assert b"log in with your password" in response.content


def test_a_provider_that_does_not_answer_gives_a_clear_error_within_the_time_out(client, manager, settings):
    # given a provider that accepts connections and never answers
    settings.SSO_ALLOW_LOCAL_HOSTS = ["127.0.0.1"]
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 1
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    organisation = OrganisationFactory(name="Silent")
    organisation_sso_configure(
        organisation=organisation,
        by=manager,
        server_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
        client_id="x",
        client_secret="y",
        domains=["silent.example"],
    )
    # when
    started = time.monotonic()
    response = client.post("/sso/", {"email": "someone@silent.example"})
    # then
    assert time.monotonic() - started < 5
    assert response.status_code == 502
    assert b"does not answer" in response.content
    silent.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://login.example.com/realm",  # not https
        "https://127.0.0.1/o",
        "https://localhost/o",
        "https://10.1.2.3/o",
        "https://192.168.0.10/o",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/o",
        "https://user:pw@93.184.215.14/o",
        "ftp://93.184.215.14/o",
    ],
)
def test_in_production_the_provider_must_be_a_public_https_address(settings, url):
    settings.SSO_ALLOW_LOCAL_HOSTS = []
    with pytest.raises(ValidationError):
        sso_url_check(url)


def test_a_public_https_provider_is_accepted(settings):
    settings.SSO_ALLOW_LOCAL_HOSTS = []
    assert sso_url_check("https://93.184.215.14/realms/acme") == "https://93.184.215.14/realms/acme"


def test_documents_the_provider_points_to_are_checked_too(settings):
    """A discovery document naming an internal token or userinfo endpoint is not followed."""
    settings.SSO_ALLOW_LOCAL_HOSTS = []
    with GuardedSession() as session, pytest.raises(SsoFetchRefused):
        session.get("http://169.254.169.254/latest/meta-data")


def test_our_calls_to_the_provider_have_a_time_out_and_follow_no_redirect(settings, monkeypatch):
    settings.SSO_ALLOW_LOCAL_HOSTS = ["127.0.0.1"]
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 3
    seen = {}

    def fake_request(self, method, url, *args, **kwargs):
        seen.update(kwargs)
        return requests.Response()

    monkeypatch.setattr(requests.Session, "request", fake_request)
    GuardedSession().get("http://127.0.0.1:9/x")
    assert seen["timeout"] == 3
    assert seen["allow_redirects"] is False


# --- the managers' page --------------------------------------------------------------------


def test_a_manager_sets_up_an_organisations_sso_from_the_manager_pages(manager_client, settings):
    settings.SSO_ALLOW_LOCAL_HOSTS = ["127.0.0.1"]
    organisation = OrganisationFactory(name="Initech")
    assert 'href="/settings/sso/"' in manager_client.get("/manager/").content.decode()
    assert manager_client.get("/settings/sso/").status_code == 200

    response = manager_client.post(
        f"/settings/sso/{organisation.pk}/",
        {
            "server_url": "http://127.0.0.1:8081/realms/initech",
            "client_id": "portal",
            "client_secret": "s3cret",
            "domains": "initech.example, @Initech.NL",
        },
    )

    assert response.status_code == 302, response.content[:800]
    app = SocialApp.objects.get(provider="openid_connect", provider_id=f"org-{organisation.pk}")
    assert (app.client_id, app.secret) == ("portal", "s3cret")
    assert app.settings["server_url"] == "http://127.0.0.1:8081/realms/initech"
    sso = OrganisationSso.objects.get(organisation=organisation)
    assert sso.app == app
    assert sorted(sso.domains.values_list("domain", flat=True)) == ["initech.example", "initech.nl"]
    # a blank secret keeps the stored one
    manager_client.post(
        f"/settings/sso/{organisation.pk}/",
        {
            "server_url": "http://127.0.0.1:8081/realms/initech",
            "client_id": "portal2",
            "domains": "initech.nl",
        },
    )
    app.refresh_from_db()
    assert (app.client_id, app.secret) == ("portal2", "s3cret")
    assert list(sso.domains.values_list("domain", flat=True)) == ["initech.nl"]
    # and it can be switched off
    assert manager_client.post(f"/settings/sso/{organisation.pk}/remove/").status_code == 302
    assert not SocialApp.objects.exists()
    assert not OrganisationSso.objects.exists()


def test_a_domain_leads_into_one_organisation_only(manager_client, acme):
    other = OrganisationFactory(name="Umbrella")

    response = manager_client.post(
        f"/settings/sso/{other.pk}/",
        {
            "server_url": "http://127.0.0.1:8081/o",
            "client_id": "c",
            "client_secret": "s",
            "domains": "umbrella.example acme.example",
        },
    )

    assert response.status_code == 400
    assert "already signs in to Acme" in response.content.decode()
    assert not OrganisationSso.objects.filter(organisation=other).exists()


def test_the_manager_page_refuses_an_internal_provider_in_production(manager_client, settings):
    settings.SSO_ALLOW_LOCAL_HOSTS = []
    organisation = OrganisationFactory()
    response = manager_client.post(
        f"/settings/sso/{organisation.pk}/",
        {
            "server_url": "https://169.254.169.254/",
            "client_id": "c",
            "client_secret": "s",
            "domains": "x.example",
        },
    )
    assert response.status_code == 400
    assert "internal address" in response.content.decode()
    assert not SocialApp.objects.exists()


@pytest.mark.parametrize("who", ["customer", "agent"])
def test_only_managers_set_up_sso(client, request, who):
    from conftest import login_with_second_factor

    login_with_second_factor(client, request.getfixturevalue(who))
    organisation = Organisation.objects.first() or OrganisationFactory()
    assert client.get("/settings/sso/").status_code == 403
    assert client.post(f"/settings/sso/{organisation.pk}/", {"server_url": "x"}).status_code == 403


def test_the_sso_form_is_rate_limited_per_client(client, db):
    for _attempt in range(20):
        assert client.post("/sso/", {"email": "a@nowhere.example"}).status_code == 400
    assert client.post("/sso/", {"email": "a@nowhere.example"}).status_code == 429


def test_sso_pages_speak_dutch(client, db):
    page = client.get("/sso/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Aanmelden via uw organisatie" in page


def test_socialapps_are_set_up_on_the_manager_page_not_in_the_admin():
    from django.contrib import admin

    assert SocialApp not in admin.site._registry


@pytest.mark.parametrize(
    ("claim", "accepted"),
    [
        (True, True),
        ("true", True),
        ("True", True),
        (False, False),
        ("false", False),
        (None, False),
        (1, False),
        ("yes", False),
    ],
)
def test_only_a_true_email_verified_claim_counts(db, manager, settings, rf, claim, accepted):
    from allauth.socialaccount.models import SocialLogin

    from accounts.sso import SsoRefused, sso_login_check

    settings.SSO_ALLOW_LOCAL_HOSTS = ["127.0.0.1"]
    organisation = OrganisationFactory()
    organisation_sso_configure(
        organisation=organisation,
        by=manager,
        server_url="http://127.0.0.1:1/o",
        client_id="c",
        client_secret="s",
        domains=["acme.example"],
    )
    userinfo = {"sub": "1", "email": "new@acme.example"}
    if claim is not None:
        userinfo["email_verified"] = claim
    account = SocialAccount(provider=f"org-{organisation.pk}", uid="1", extra_data={"userinfo": userinfo})
    login = SocialLogin(account=account, user=User(email="new@acme.example"))
    if accepted:
        assert sso_login_check(request=rf.get("/"), sociallogin=login).organisation == organisation
    else:
        with pytest.raises(SsoRefused):
            sso_login_check(request=rf.get("/"), sociallogin=login)


WIDEST_IN_MAIN = (
    "Math.max(...[...document.querySelectorAll('main *')].map(e => e.getBoundingClientRect().right))"
)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1366])
def test_a_manager_sets_up_sso_in_the_browser_and_the_login_page_offers_it(
    browser, live_server, settings, width
):
    from tests.conftest import SCREENSHOTS

    settings.SSO_ALLOW_LOCAL_HOSTS = ["127.0.0.1"]
    manager = with_totp(UserFactory(role=Role.MANAGER, organisation=None, is_staff=True))
    OrganisationFactory(name="Initech")
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", manager.email)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.press("input[name=password]", "Enter")
    page.fill("input[name=code]", totp_now())
    page.press("input[name=code]", "Enter")
    page.wait_for_url(f"{live_server.url}/manager/")

    page.click(".subnav >> text=Single sign-on")
    page.select_option("#sso-org", label="Initech")
    page.click("button:text-is('Set up')")
    page.fill("input[name=server_url]", "http://127.0.0.1:8081/realms/initech")
    page.fill("input[name=client_id]", "portal")
    page.fill("input[name=client_secret]", "s3cret")
    page.fill("textarea[name=domains]", "initech.example")
    # (the top bar of a manager is wider than 390 px on every page: not this page's to mend)
    assert page.evaluate(WIDEST_IN_MAIN) <= width
    page.screenshot(path=str(SCREENSHOTS / f"sso-settings-{width}.png"), full_page=True)
    page.click("button:text-is('Save')")
    page.wait_for_selector("text=Single sign-on of Initech saved.")
    assert page.is_visible("td >> text=initech.example")

    open_menu(page)
    page.click("button:has-text('Log out')")
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.is_visible("#sso-email")
    assert "Initech" not in page.content()
    assert page.evaluate(WIDEST_IN_MAIN) <= width
    page.screenshot(path=str(SCREENSHOTS / f"login-with-sso-{width}.png"), full_page=True)
    page.close()
