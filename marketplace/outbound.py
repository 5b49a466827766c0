"""Where the platform may connect: publishers' endpoints and customers' webhooks are
strangers' URLs, so in production they may not point inside our network.

Checked when a URL is saved (a clear error for the person typing it) and again when a
connection is made: the name is resolved, every address it resolves to is checked, and the
socket connects to a checked address, never to a name resolved a second time (so DNS
rebinding cannot slip a private address in, and nothing reaches an internal port at all, so
an open and a closed one look the same). `OUTBOUND_ALLOW_PRIVATE` lifts the address rule
for development and tests, where publishers run on loopback. In production the URLs must
also be https.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from marketplace.errors import InvalidParameter

NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class ForbiddenDestination(OSError):
    """The connection would reach an address that is not globally routable unicast."""


def _unwrapped(ip):
    """The IPv4 address an IPv6 one carries (mapped, compatible, 6to4, Teredo, NAT64), else ip:
    a router on the way turns those into the IPv4 address, so that is what is judged."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return ip
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]  # the client's address, which the relay delivers to
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def forbidden(address):
    """True unless `address` is globally routable unicast (the only kind a stranger's server
    may have): private, shared (100.64/10), loopback, link-local (metadata), site-local,
    multicast, reserved and documentation ranges are all refused."""
    ip = _unwrapped(ipaddress.ip_address(address.split("%", 1)[0]))
    return not ip.is_global or ip.is_multicast or ip.is_reserved or getattr(ip, "is_site_local", False)


def enforced():
    return not settings.OUTBOUND_ALLOW_PRIVATE


def check_url(url, *, param):
    """InvalidParameter naming `param` unless `url` may be called: http(s) (https only in
    production) to public addresses only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameter(f"Parameter '{param}' must be an http(s) URL", param=param)
    if settings.PRODUCTION and parts.scheme != "https":
        raise InvalidParameter(f"Parameter '{param}' must be an https URL", param=param)
    if not enforced():
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError, ValueError):
        raise InvalidParameter(f"Parameter '{param}': the host {parts.hostname} does not resolve", param=param)
    if any(forbidden(info[4][0]) for info in infos):
        raise InvalidParameter(
            f"Parameter '{param}': {parts.hostname} resolves to a private or internal address", param=param
        )
    return url


def connect(host, port, *, timeout, socket_options=()):
    """A socket connected to `host`: resolved once, every address checked, then connected to
    one of those very addresses. ForbiddenDestination before any packet leaves for it."""
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    if enforced() and any(forbidden(info[4][0]) for info in infos):
        raise ForbiddenDestination("the URL reaches a private or internal address")
    error = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as failed:
            error = failed
            sock.close()
    raise error or OSError(f"{host} resolves to no address")
