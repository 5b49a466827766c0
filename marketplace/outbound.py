"""Where the platform may connect: publishers' endpoints and customers' webhooks are
strangers' URLs, so in production they may not point inside our network.

Checked when a URL is saved (a clear error for the person typing it) and again when a
connection is made, on the address actually connected to, so DNS rebinding cannot slip a
private address past the first check. `OUTBOUND_ALLOW_PRIVATE` lifts it for development
and tests, where publishers run on loopback.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from marketplace.errors import InvalidParameter


class ForbiddenDestination(OSError):
    """The connection would reach a private, loopback, link-local or metadata address."""


def forbidden(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local  # includes 169.254.169.254, the cloud metadata service
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def enforced():
    return not settings.OUTBOUND_ALLOW_PRIVATE


def check_url(url, *, param):
    """InvalidParameter naming `param` unless `url` is http(s) to public addresses only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameter(f"Parameter '{param}' must be an http(s) URL", param=param)
    if not enforced():
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror:
        raise InvalidParameter(f"Parameter '{param}': the host {parts.hostname} does not resolve", param=param)
    if any(forbidden(info[4][0]) for info in infos):
        raise InvalidParameter(
            f"Parameter '{param}': {parts.hostname} resolves to a private or internal address", param=param
        )
    return url


def check_connected(sock):
    """Called right after a connection is made; closes it if it reached a forbidden address."""
    if not enforced():
        return
    address = sock.getpeername()[0]
    if forbidden(address):
        sock.close()
        raise ForbiddenDestination(f"connection to a private or internal address ({address}) refused")
