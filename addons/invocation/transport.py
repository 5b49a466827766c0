"""Sending a PublisherRequest: pooled keep-alive sessions, one deadline, retries, a size cap.

No database here, so it can run on any thread. The rules of the guide:
- 5xx, resets and refused connections are retried with backoff while the deadline and the
  TTL allow, carrying the same request SID (the publisher's idempotency token);
- 4xx fails at once;
- the body is read as a stream and never more than limit + 1 bytes of it.
"""

import http.cookiejar
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error

CHUNK = 64 * 1024
BACKOFF_S = 0.05
POOL_SIZE = 32


@dataclass
class Exchange:
    """What happened on the wire."""

    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    attempts: int = 0
    latency_ms: int = 0
    failure: str | None = None  # "timeout", "connection_failed" or "too_large"
    detail: str = ""


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie, request):
        return False  # a publisher must not leave state for the next customer's call


_sessions: dict[tuple, requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(url):
    """The one keep-alive session for the publisher's host (thread-safe pool underneath)."""
    parts = urlsplit(url)
    key = (parts.scheme, parts.hostname, parts.port)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies or .netrc credentials from the environment
            session.cookies.set_policy(_NoCookies())
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[key] = session
        return session


def send(request, *, size_limit, deadline):
    """Send until an answer, a final failure or `deadline` (a time.monotonic() value)."""
    started = time.monotonic()
    deadline = min(deadline, started + request.ttl_ms / 1000)
    exchange = Exchange()
    session = session_for(request.url)
    while True:
        exchange.attempts += 1
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _done(exchange, started, failure="timeout", detail="deadline passed before an answer")
        try:
            response = session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body,
                stream=True,
                timeout=(remaining, remaining),
                allow_redirects=False,
            )
        except requests.Timeout:
            return _done(exchange, started, failure="timeout", detail="no answer within the deadline")
        except requests.ConnectionError as error:
            if _may_retry(exchange, request, deadline):
                continue
            return _done(exchange, started, failure="connection_failed", detail=_reason(error))

        exchange.status = response.status_code
        exchange.headers = dict(response.headers)
        if response.status_code >= 500:
            response.close()
            if _may_retry(exchange, request, deadline):
                continue
            return _done(exchange, started)
        return _read(response, exchange, started, size_limit=size_limit, deadline=deadline)


def _may_retry(exchange, request, deadline):
    """Back off and return True when another attempt fits the retries and the deadline."""
    if exchange.attempts > request.retries:
        return False
    pause = BACKOFF_S * 2 ** (exchange.attempts - 1)
    if time.monotonic() + pause >= deadline:
        return False
    time.sleep(pause)
    return True


def _read(response, exchange, started, *, size_limit, deadline):
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
                return _done(exchange, started, failure="too_large", detail=f"more than {size_limit} bytes")
    except (Urllib3Error, OSError) as error:
        if "timed out" in str(error).lower():
            return _done(exchange, started, failure="timeout", detail="the body did not arrive within the deadline")
        return _done(exchange, started, failure="connection_failed", detail=_reason(error))
    finally:
        response.close()
    exchange.body = bytes(body)
    return _done(exchange, started)


def _done(exchange, started, *, failure=None, detail=""):
    exchange.latency_ms = int((time.monotonic() - started) * 1000)
    exchange.failure = failure
    exchange.detail = detail
    return exchange


def _reason(error):
    text = str(error)
    for known in ("Connection refused", "Connection reset", "Name or service not known", "Remote end closed"):
        if known.lower() in text.lower():
            return known
    return error.__class__.__name__
