"""Management answers only from the allow-listed networks (SPEC §9).

``MANAGEMENT_ALLOWED_NETWORKS`` lists CIDRs; empty means anywhere. Outside them:

* the management paths (the desk, the manager pages, the admin, account requests, webhooks and
  the SSO settings) answer 403 to everyone, logged in or not, so not even the admin's login
  page is offered;
* a logged-in member of staff reaches nothing but logging out: staff accounts exist only to
  manage, so a stolen staff session or password is useless from outside;
* the API refuses staff, whether they come with a session (here) or with a token
  (``accounts.api.authentication``): the API does what the desk does.

Customers are never affected: their portal and API answer from anywhere.
"""

import ipaddress
import logging
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from sla_portal.client_ip import client_ip

logger = logging.getLogger(__name__)

MANAGEMENT_PATH_PREFIXES = (
    "/desk/",
    "/manager/",
    "/admin/",
    "/account-requests/",
    "/settings/webhooks/",
    "/settings/sso/",
)
# What a member of staff outside the allow-list may still do: log out, switch language, and
# fetch the static files of the page that says no.
_STAFF_OPEN_PREFIXES = ("/accounts/logout/", "/i18n/", "/static/", "/healthz")


@cache
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in spec)


def management_networks() -> tuple:
    return _networks(tuple(settings.MANAGEMENT_ALLOWED_NETWORKS))


def address_may_manage(address: str) -> bool:
    """True when management is open from ``address``: the list is empty or holds it. An address
    that does not parse is outside (fail closed)."""
    networks = management_networks()
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:  # ::ffff:10.0.0.1 from a dual-stack socket
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def request_may_manage(request: HttpRequest) -> bool:
    return address_may_manage(client_ip(request))


def refusal_message() -> str:
    return _(
        "Management is only available from the support organisation's own networks. "
        "Connect from the office or through its VPN, or ask an administrator."
    )


def refuse(request: HttpRequest) -> HttpResponse:
    logger.warning("management refused from %s for %s", client_ip(request), request.path)
    if request.path.startswith("/api/"):
        return JsonResponse({"message": refusal_message(), "errors": {}}, status=403)
    return render(request, "accounts/management_forbidden.html", {"message": refusal_message()}, status=403)


class ManagementAllowListMiddleware:
    """Sits after the authentication middleware: it needs to know whether the user is staff."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if management_networks() and not request_may_manage(request):
            path = request.path
            if path.startswith(MANAGEMENT_PATH_PREFIXES):
                return refuse(request)
            user = getattr(request, "user", None)
            if (
                user is not None
                and user.is_authenticated
                and user.is_support_staff
                and not path.startswith(_STAFF_OPEN_PREFIXES)
            ):
                return refuse(request)
        return self.get_response(request)
