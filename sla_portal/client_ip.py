"""The client's address, derived one way for every rate limit.

A client can write any ``X-Forwarded-For`` it likes; only the entries our own proxies appended
are true. With ``TRUSTED_PROXIES = n`` the client is the n-th entry from the end (what the
outermost of our proxies saw), with 0 the header is ignored and the address is the socket's.
This is DRF's ``NUM_PROXIES`` rule (settings set ``NUM_PROXIES = TRUSTED_PROXIES``, so its
throttles agree) and allauth's rate limits read it through ``accounts.adapter.AccountAdapter``.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    proxies = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "")
