"""The one outbound path: every call to a server we do not run (publishers, customers'
webhooks and result notifications, lifecycle callbacks) is sent here. Pooled keep-alive
sessions, one wall-clock deadline for the whole exchange, retries, a streamed size cap, no
redirects, no cookies or proxies, and the address policy (marketplace/outbound.py) applied
before connecting: the name is resolved, every address checked, and the socket connects to
a checked address (the Host header and TLS verification still use the name).

No database here, so it can run on any thread. The rules of the guide:
- 5xx, resets and refused connections are retried with backoff while the deadline and the
  TTL allow, carrying the same request SID (the publisher's idempotency token);
- 4xx fails at once;
- the body is read as a stream and never more than limit + 1 bytes of it.

Socket timeouts bound each read, not the exchange: a publisher dripping a byte at a time
would never trip them. So every exchange also has a watchdog that shuts the connection's
socket at the deadline (from the moment it is connected: a server reading our request
slowly is cut too), which wakes the blocked call; nothing holds a thread longer.
"""

import http.cookiejar
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.exceptions import HTTPError as Urllib3Error

from marketplace import outbound

CHUNK = 64 * 1024
BACKOFF_S = 0.05
POOL_SIZE = 32


@dataclass
class Exchange:
    """What happened on the wire."""

    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    received: int = 0  # body bytes read, including any cut off past the limit
    attempts: int = 0
    latency_ms: int = 0
    # "timeout", "connection_failed", "too_large", "invalid_request" or "forbidden_destination"
    failure: str | None = None
    detail: str = ""


# --- the watchdog -------------------------------------------------------------------------

_in_flight = threading.local()


class _Watch:
    """The socket of this thread's current exchange, and whether the deadline shut it."""

    def __init__(self):
        self.sock = None
        self.fired = False
        self.lock = threading.Lock()

    def attach(self, sock):
        with self.lock:
            self.sock = sock
            if self.fired:
                _shut(sock)

    def fire(self):
        with self.lock:
            self.fired = True
            if self.sock is not None:
                _shut(self.sock)


def _shut(sock):
    try:
        # The plain socket's shutdown, also for TLS: it wakes a blocked read on the descriptor
        # without unwrapping the TLS object under the reading thread.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _watch(sock):
    watch = getattr(_in_flight, "watch", None)
    if watch is not None and sock is not None:
        watch.attach(sock)


class _WatchedMixin:
    def _new_conn(self):
        # urllib3's own, except the address policy decides where the socket connects.
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else None
        try:
            sock = outbound.connect(self._dns_host, self.port, timeout=timeout, socket_options=self.socket_options)
        except outbound.ForbiddenDestination as error:
            raise NewConnectionError(self, str(error)) from error
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        except TimeoutError as error:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from error
        except OSError as error:
            raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error
        _watch(sock)  # connect is over; a TLS handshake or a slow reader of our request is cut too
        return sock

    def connect(self):
        super().connect()
        _watch(self.sock)  # TLS wrapped the socket: watch the wrapper from now on

    def request(self, *args, **kwargs):
        _watch(self.sock)  # a kept-alive connection: the sending is watched as well
        return super().request(*args, **kwargs)

    def getresponse(self, *args, **kwargs):
        _watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPConnection(_WatchedMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedMixin, HTTPSConnection):
    pass


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedTLSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


# --- sessions -----------------------------------------------------------------------------


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie, request):
        return False  # a publisher must not leave state for the next customer's call


_sessions: dict[tuple, requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(url):
    """The one keep-alive session for the host (thread-safe pool underneath)."""
    parts = urlsplit(url)
    key = (parts.scheme, parts.hostname, parts.port)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies or .netrc credentials from the environment
            session.cookies.set_policy(_NoCookies())
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE, max_retries=0)
            adapter.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedTLSPool}
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[key] = session
        return session


# --- sending ------------------------------------------------------------------------------


@dataclass
class Call:
    """A request to a stranger's server that is not a publisher call (webhooks, notifications)."""

    method: str
    url: str
    headers: dict
    body: bytes | dict | None = None
    retries: int = 0
    ttl_ms: int | None = None


def send(request, *, size_limit, deadline, cut_at_limit=False):
    """Send until an answer, a final failure or `deadline` (a time.monotonic() value).

    `request` is a builder.PublisherRequest or a Call. A 200 body past `size_limit` is a
    failure ("too_large"), unless `cut_at_limit`: then it is kept cut (a webhook's preview)."""
    started = time.monotonic()
    if request.ttl_ms is not None:
        deadline = min(deadline, started + request.ttl_ms / 1000)
    exchange = Exchange()
    session = session_for(request.url)
    while True:
        exchange.attempts += 1
        exchange.status = None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _done(exchange, started, failure="timeout", detail="deadline passed before an answer")
        watch = _Watch()
        timer = threading.Timer(remaining, watch.fire)
        timer.daemon = True
        _in_flight.watch = watch
        timer.start()
        try:
            retry = _attempt(session, request, exchange, started, size_limit, deadline, watch, cut_at_limit)
        finally:
            timer.cancel()
            _in_flight.watch = None
        if not retry:
            return exchange
        if not _may_retry(exchange, request, deadline):
            # Out of tries: a last 5xx stands as the answer; no answer at all is a failure.
            failure = "connection_failed" if exchange.status is None else None
            return _done(exchange, started, failure=failure, detail=exchange.detail)


def _attempt(session, request, exchange, started, size_limit, deadline, watch, cut_at_limit):
    """One try; True when a retry may help, else the exchange is finished."""
    try:
        response = session.request(
            request.method,
            request.url,
            headers=request.headers,
            data=request.body,
            stream=True,
            timeout=(max(deadline - time.monotonic(), 0.001),) * 2,
            allow_redirects=False,
        )
    except requests.Timeout:
        _done(exchange, started, failure="timeout", detail="no answer within the deadline")
        return False
    except requests.ConnectionError as error:
        if _caused_by(error, outbound.ForbiddenDestination):
            _done(
                exchange,
                started,
                failure="forbidden_destination",
                detail="the URL reaches a private or internal address",
            )
            return False
        if watch.fired or _caused_by(error, TimeoutError):
            _done(exchange, started, failure="timeout", detail="no complete answer within the deadline")
            return False
        exchange.detail = _reason(error)
        return True
    except (requests.RequestException, ValueError) as error:
        # e.g. a header value with a line break: the request cannot be sent at all. The
        # error's text may quote the value (a credential, even), so only its kind is kept.
        _done(exchange, started, failure="invalid_request", detail=f"{error.__class__.__name__} in a header or the URL")
        return False

    exchange.status = response.status_code
    exchange.headers = dict(response.headers)
    if response.status_code >= 500:
        response.close()
        exchange.detail = f"HTTP {response.status_code}"
        return True
    _read(response, exchange, started, size_limit=size_limit, deadline=deadline, watch=watch, cut=cut_at_limit)
    return False


def _may_retry(exchange, request, deadline):
    """Back off and return True when another attempt fits the retries and the deadline."""
    if exchange.attempts > request.retries:
        return False
    pause = BACKOFF_S * 2 ** (exchange.attempts - 1)
    if time.monotonic() + pause >= deadline:
        return False
    time.sleep(pause)
    return True


def _read(response, exchange, started, *, size_limit, deadline, watch, cut=False):
    # Only a 200 is a result: an error page's body is kept for display, cut at the limit.
    enforce_limit = response.status_code == 200 and not cut
    body = bytearray()
    try:
        while True:
            if time.monotonic() > deadline:
                return _done(exchange, started, failure="timeout", detail="the body did not arrive within the deadline")
            chunk = response.raw.read(min(CHUNK, size_limit + 1 - len(body)), decode_content=True)
            if not chunk:
                break
            body += chunk
            if len(body) > size_limit:
                exchange.received = len(body)
                if enforce_limit:
                    return _done(exchange, started, failure="too_large", detail=f"more than {size_limit} bytes")
                body = body[:size_limit]
                break
    except (Urllib3Error, OSError) as error:
        exchange.received = len(body)
        if watch.fired or "timed out" in str(error).lower():
            return _done(exchange, started, failure="timeout", detail="the body did not arrive within the deadline")
        return _done(exchange, started, failure="connection_failed", detail=_reason(error))
    finally:
        response.close()
    exchange.body = bytes(body)
    exchange.received = max(exchange.received, len(body))
    return _done(exchange, started)


def _done(exchange, started, *, failure=None, detail=""):
    exchange.latency_ms = int((time.monotonic() - started) * 1000)
    exchange.failure = failure
    exchange.detail = detail
    return exchange


def _caused_by(error, kind):
    """Whether `kind` is somewhere in the chain requests and urllib3 wrap errors in."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue  # an ssl.SSLError's `reason` is a string, for one
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
    return False


def _reason(error):
    text = str(error)
    for known in ("Connection refused", "Connection reset", "Name or service not known", "Remote end closed"):
        if known.lower() in text.lower():
            return known
    return error.__class__.__name__
