"""Single sign-on through an organisation's OpenID Connect provider (SPEC §9 "SSO as an option").

A support manager sets it up per organisation (``organisation_sso_configure``): the provider's
issuer URL, our client id and secret there, and the e-mail domains it speaks for. It is stored as
an allauth ``SocialApp`` (provider ``openid_connect``, ``provider_id`` ``org-<pk>``), so allauth
runs the protocol: discovery, authorization code with PKCE, token, ID token signature, userinfo.

What allauth cannot know is who may be signed in, so ``sso_login_check`` decides that for every
SSO login, before allauth logs anyone in:

* the provider must say the e-mail address is verified (``email_verified`` is ``true``) and
  its domain must be one of this organisation's: an IdP speaks only for its own domains;
* an existing account is signed in only if it belongs to this organisation and is a customer:
  SSO never reaches another tenant's user and never a member of staff, whose second factor
  and management rights stay behind the password + TOTP login;
* a new address of the domain gets an account as a *customer user* of this organisation. The
  manager who set up the SSO decided once for the domain what SPEC §5 step 2 decides per
  request: that these people work for this customer. The least role is granted; a coordinator
  is still appointed by a manager. Never staff, never another organisation.
* linking an SSO identity from the connections page ("connect") is refused: the only link is the
  verified e-mail address.

Our server fetches the provider's documents (discovery, keys, token, userinfo): each request
has a time-out, follows no redirect and may only go to a public address over https, unless
the host is in ``SSO_ALLOW_LOCAL_HOSTS`` (development and tests).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from urllib.parse import urlsplit

import requests
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrganisationSso, Role, SsoDomain, User

logger = logging.getLogger(__name__)

PROVIDER = "openid_connect"
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def sso_provider_id(organisation: Organisation) -> str:
    return f"org-{organisation.pk}"


# --- the provider's address -------------------------------------------------------------------


def sso_url_check(url: str) -> str:
    """The URL, if our server may fetch it; else a ValidationError saying why.

    https to a host whose every address is public; hosts in ``SSO_ALLOW_LOCAL_HOSTS`` may use
    http and internal addresses (a provider on this machine in development and tests)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError as exc:
        raise ValidationError(_("Enter a valid URL.")) from exc
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError(_("Enter the provider's https:// address."))
    if parts.username or parts.password:
        raise ValidationError(_("The address may not contain a user name or password."))
    if host in settings.SSO_ALLOW_LOCAL_HOSTS:
        return url
    if parts.scheme != "https":
        raise ValidationError(_("The provider must be reached over https."))
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError(
            _("The provider's host name %(host)s does not resolve.") % {"host": host}
        ) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            raise ValidationError(
                _("%(host)s is an internal address; the provider must be on the internet.") % {"host": host}
            )
    return url


class SsoFetchRefused(requests.RequestException):
    """A provider document points somewhere our server may not go."""


class GuardedSession(requests.Session):
    """allauth's outbound session: a time-out on every call, no redirects, only allowed hosts.
    The discovery document names the other endpoints, so each URL is checked, not just the one
    the manager typed. (Between the check and the connection DNS could still change; the
    time-out and the absence of redirects bound what that can reach.)"""

    def request(self, method, url, *args, **kwargs):
        try:
            sso_url_check(url)
        except ValidationError as exc:
            raise SsoFetchRefused(" ".join(exc.messages)) from exc
        kwargs["timeout"] = settings.SOCIALACCOUNT_REQUESTS_TIMEOUT
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


# --- configuring it ------------------------------------------------------------------------


def sso_domains_parse(text: str) -> list[str]:
    """Domains separated by commas, spaces or new lines; lower case, an '@' in front allowed."""
    domains = []
    for raw in re.split(r"[\s,;]+", text.strip().lower()):
        domain = raw.lstrip("@").rstrip(".")
        if not domain:
            continue
        if not _DOMAIN_RE.match(domain):
            raise ValidationError(_("%(domain)s is not an e-mail domain.") % {"domain": raw})
        if domain not in domains:
            domains.append(domain)
    if not domains:
        raise ValidationError(_("Give at least one e-mail domain."))
    return domains


@transaction.atomic
def organisation_sso_configure(
    *,
    organisation: Organisation,
    by: User,
    server_url: str,
    client_id: str,
    client_secret: str,
    domains: list[str],
) -> OrganisationSso:
    """Set up or change an organisation's SSO. A blank secret keeps the one stored."""
    errors: dict[str, list[str]] = {}
    try:
        server_url = sso_url_check(server_url)
    except ValidationError as exc:
        errors["server_url"] = exc.messages
    client_id = client_id.strip()
    if not client_id:
        errors["client_id"] = [_("Enter the client id the provider gave you.")]
    existing = OrganisationSso.objects.select_related("app").filter(organisation=organisation).first()
    if not client_secret.strip() and existing is None:
        errors["client_secret"] = [_("Enter the client secret the provider gave you.")]
    taken = SsoDomain.objects.filter(domain__in=domains).exclude(sso__organisation=organisation)
    taken = taken.select_related("sso__organisation")
    if taken:
        errors["domains"] = [
            _("%(domain)s already signs in to %(organisation)s.")
            % {"domain": d.domain, "organisation": d.sso.organisation}
            for d in taken
        ]
    if errors:
        raise ValidationError(errors)

    app = (
        existing.app if existing else SocialApp(provider=PROVIDER, provider_id=sso_provider_id(organisation))
    )
    # Not the organisation's name: allauth shows this on pages anyone can open by guessing
    # /accounts/oidc/org-<n>/login/ (and the column holds 40 characters).
    app.name = sso_provider_id(organisation)
    app.client_id = client_id
    if client_secret.strip():
        app.secret = client_secret.strip()
    app.settings = {"server_url": server_url, "oauth_pkce_enabled": True}
    app.save()
    sso, _created = OrganisationSso.objects.update_or_create(
        organisation=organisation, defaults={"app": app, "updated_by": by}
    )
    sso.domains.exclude(domain__in=domains).delete()
    try:
        with transaction.atomic():
            for domain in domains:
                SsoDomain.objects.get_or_create(sso=sso, domain=domain)
    except IntegrityError as exc:  # another manager took the domain a moment ago
        raise ValidationError({"domains": [_("One of these domains was just taken; try again.")]}) from exc
    logger.info("SSO of organisation %s set up by %s for %s", organisation.pk, by.pk, ", ".join(domains))
    return sso


@transaction.atomic
def organisation_sso_remove(*, organisation: Organisation, by: User) -> None:
    """Switch SSO off: its users log in with a password (reset if they never had one)."""
    sso = OrganisationSso.objects.select_related("app").filter(organisation=organisation).first()
    if sso is not None:
        sso.app.delete()  # cascades to the OrganisationSso, its domains and the linked identities
        logger.info("SSO of organisation %s removed by %s", organisation.pk, by.pk)


def sso_for_email(email: str) -> OrganisationSso | None:
    domain = email.strip().lower().rpartition("@")[2]
    if not domain:
        return None
    found = SsoDomain.objects.select_related("sso__app", "sso__organisation").filter(domain=domain).first()
    return found.sso if found else None


# --- logging in --------------------------------------------------------------------------


class SsoRefused(Exception):
    pass


def _claims(sociallogin: SocialLogin) -> dict:
    data = sociallogin.account.extra_data or {}
    return data.get("userinfo") or data.get("id_token") or {}


def sso_login_check(*, request: HttpRequest, sociallogin: SocialLogin) -> OrganisationSso:
    """Who this SSO login may sign in (see the module docstring); raises SsoRefused if nobody.
    An existing customer is linked to the identity here, so allauth logs them in."""
    sso = (
        OrganisationSso.objects.select_related("organisation")
        .filter(app__provider=PROVIDER, app__provider_id=sociallogin.account.provider)
        .first()
    )
    if sso is None:
        raise SsoRefused(_("Single sign-on is not set up for this provider."))
    if sociallogin.state.get("process") == "connect":
        raise SsoRefused(_("Single sign-on links to your account by your e-mail address only."))
    claims = _claims(sociallogin)
    email = str(claims.get("email") or "").strip().lower()
    # true, or the string "true" that some providers (Amazon Cognito) send in userinfo.
    verified = claims.get("email_verified")
    if not email or not (verified is True or (isinstance(verified, str) and verified.lower() == "true")):
        raise SsoRefused(_("Your sign-on provider did not confirm that your e-mail address is verified."))
    if not sso.domains.filter(domain=email.rpartition("@")[2]).exists():
        raise SsoRefused(
            _("%(organisation)s's sign-on does not sign in addresses like %(email)s.")
            % {"organisation": sso.organisation, "email": email}
        )
    user = sociallogin.user if sociallogin.is_existing else None
    user = user or User.objects.filter(email__iexact=email).first()
    if user is None:
        return sso  # a new customer user of this organisation (SocialAccountAdapter.save_user)
    if user.is_support_staff or user.is_staff or user.is_superuser:
        raise SsoRefused(_("Staff log in with their password and second factor, not through single sign-on."))
    if user.organisation_id != sso.organisation_id or user.email.lower() != email or not user.is_active:
        raise SsoRefused(_("This sign-on cannot sign you in to this account."))
    if not sociallogin.is_existing:
        sociallogin.connect(request, user)
    return sso


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """allauth's hooks, each deferring to the rules above."""

    def get_requests_session(self):
        return GuardedSession()

    def list_providers(self, request):
        """allauth lists every provider on its pages (login, connections): that would name every
        organisation with SSO to anyone. The login page asks for an e-mail address instead."""
        return []

    def pre_social_login(self, request, sociallogin):
        try:
            sso = sso_login_check(request=request, sociallogin=sociallogin)
        except SsoRefused as exc:
            logger.warning(
                "SSO login refused (provider %s, uid %s): %s",
                sociallogin.account.provider,
                sociallogin.account.uid,
                exc,
            )
            raise ImmediateHttpResponse(
                render(request, "accounts/sso_refused.html", {"message": str(exc)}, status=403)
            ) from exc
        sociallogin.state["sso_organisation"] = sso.organisation_id

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return bool(sociallogin.state.get("sso_organisation"))

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return True

    def populate_user(self, request, sociallogin, data):
        user = sociallogin.user
        user.email = str(data.get("email") or "").strip().lower()
        user.full_name = (data.get("name") or "").strip()[:200]
        user.role = Role.CUSTOMER_USER  # the organisation is set by save_user, after the checks
        return user

    def save_user(self, request, sociallogin, form=None):
        user = sociallogin.user
        # Only a login that passed sso_login_check gets here; its organisation, and nothing more
        # than a customer user's role.
        sso = OrganisationSso.objects.get(
            app__provider=PROVIDER, app__provider_id=sociallogin.account.provider
        )
        if sociallogin.state.get("sso_organisation") != sso.organisation_id:
            raise ImmediateHttpResponse(
                render(request, "accounts/sso_refused.html", {"message": _("Sign-on refused.")}, status=403)
            )
        user.organisation = sso.organisation
        user.role = Role.CUSTOMER_USER
        user.is_staff = user.is_superuser = False
        return super().save_user(request, sociallogin, form)
