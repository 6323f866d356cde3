"""Outbound HTTP to addresses a customer-facing setting chose (webhooks) without letting it
reach the inside: loopback, private networks, link-local (the cloud metadata service at
169.254.169.254), multicast and reserved ranges, also when a name resolves there or an IPv6
address carries an internal IPv4 one.

A name is resolved once and the connection goes to the address that was checked: the socket
connects to that IP and the name travels only as the Host header and the TLS server name, so a
second DNS answer between the check and the connect (DNS rebinding) cannot move the request.
Redirects are never followed (``http.client`` does not), every call has a timeout, and errors
are reported as a short class ("timeout", "connection refused") instead of the raw exception,
which could echo internal details back to whoever registered the URL."""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(Exception):
    """The URL's host is missing, does not resolve, or resolves to an internal address."""


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip.teredo:
            return ip.teredo[1]
        if ip in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64 (RFC 6052)
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(net, strict=False) for net in settings.WEBHOOK_ALLOWED_NETWORKS]


def address_is_internal(ip: IPAddress) -> bool:
    """True for every address a webhook must not reach, unless WEBHOOK_ALLOWED_NETWORKS lets
    it (an operator's own receiver on the inside, or a test's server on loopback)."""
    if any(ip in net for net in _allowed_networks() if net.version == ip.version):
        return False
    embedded = _embedded_ipv4(ip)
    if embedded is not None and address_is_internal(embedded):
        return True
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
    )


def resolve_public(host: str | None, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, or UnsafeDestination if it has none or if any of
    them is internal (a name with one public and one internal answer is refused whole)."""
    if not host:
        raise UnsafeDestination("no host")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeDestination("does not resolve") from exc
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if address_is_internal(ip):
            raise UnsafeDestination("internal address")
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeDestination("does not resolve")
    return addresses


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[IPAddress, ...]


def destination_check(url: str) -> Destination:
    """Parse and resolve ``url`` and refuse it if it points inside (UnsafeDestination)."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestination("bad port") from exc
    host = parts.hostname or ""
    addresses = resolve_public(host, port)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Destination(parts.scheme, host, port, path, tuple(addresses))


def _connect(address: IPAddress, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to exactly this address (socket.create_connection would resolve
    again, even an IP literal, through getaddrinfo)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((str(address), port))
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, address: IPAddress, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self):
        self.sock = _connect(self._address, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, address: IPAddress, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self):
        sock = _connect(self._address, self.port, self.timeout)
        # The certificate is checked against the name, the socket goes to the checked address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def error_class(exc: BaseException) -> str:
    """A short, generic name for a failed call: no addresses, no library messages."""
    if isinstance(exc, UnsafeDestination):
        return "refused: internal or unresolvable address"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        return "connection reset"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "TLS error"
    if isinstance(exc, http.client.HTTPException):
        return "invalid HTTP response"
    return "connection error"


def post_pinned(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` to ``url`` after checking where it goes; return the status code (a
    redirect is returned as its 3xx status, not followed). Raises UnsafeDestination or the
    connection's OSError / HTTPException; callers log ``error_class(exc)``."""
    dest = destination_check(url)
    if dest.scheme not in ("http", "https"):
        raise UnsafeDestination("scheme")
    last_error: BaseException | None = None
    for address in dest.addresses:
        if dest.scheme == "https":
            conn: http.client.HTTPConnection = _PinnedHTTPSConnection(
                dest.host,
                dest.port,
                timeout=timeout,
                address=address,
                context=ssl.create_default_context(),
            )
        else:
            conn = _PinnedHTTPConnection(dest.host, dest.port, timeout=timeout, address=address)
        try:
            conn.request("POST", dest.path, body=body, headers=headers)
            return conn.getresponse().status
        except (ConnectionRefusedError, TimeoutError) as exc:
            last_error = exc  # try the name's next address
        finally:
            conn.close()
    assert last_error is not None
    raise last_error
