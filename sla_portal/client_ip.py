"""The address a request really comes from, in one place for every check that needs it.

``REMOTE_ADDR`` is the peer of the TCP connection. Behind ``NUM_PROXIES`` trusted reverse
proxies, each of which appends the address it received the request from to
``X-Forwarded-For``, the client is the entry that many hops from the right: anything further
left was written by the client itself and proves nothing. With ``NUM_PROXIES = 0`` (the
default) the header is ignored, so a client cannot choose its own address.
"""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's IP address as a string ("" if the server gave none)."""
    num_proxies = getattr(settings, "NUM_PROXIES", 0)
    if num_proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if hops:
            # Fewer hops than proxies: the nearest proxy's view is still the best there is.
            return hops[-min(num_proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "")
