"""Posting an asynchronous result to the platform's callback URL.

The publisher guide: the publisher POSTs the JSON result to the one-time callback URL, with
HTTP Basic auth as the vendor account (AccountSid:AuthToken). Delivery here:

- 2xx: delivered;
- a connection error, a timeout or a 5xx: retried, up to len(BACKOFF_SECONDS) times, waiting
  BACKOFF_SECONDS[n] before retry n + 1;
- any other status (4xx: a callback already used, expired or not ours; 3xx: not followed,
  the credentials must not go elsewhere): given up at once, retrying cannot help.

Every outcome is logged with the request sid; never the token, nor the callback URL's path
(a one-time URL is itself a credential), only its host.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

logger = logging.getLogger("publishers.callbacks")

# The example publisher's own timing; tests shorten it.
BACKOFF_SECONDS: tuple[float, ...] = (0.5, 1.0, 2.0)
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    attempts: int
    # The last HTTP status, None when the last attempt got no response.
    status: int | None


def is_callback_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


def post_result(
    url: str,
    payload: dict,
    *,
    account_sid: str,
    auth_token: str,
    request_sid: str = "-",
    stop: threading.Event | None = None,
    session: requests.Session | None = None,
) -> Delivery:
    """POST `payload` as JSON to `url`, retrying as described above; never raises for HTTP trouble.

    `stop` set (the server is closing) abandons the remaining retries.
    """
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    host = urlsplit(url).netloc
    backoff = tuple(BACKOFF_SECONDS)  # read now: a test may have shortened it
    http = session or requests
    attempt, status = 0, None
    while True:
        attempt += 1
        try:
            response = http.post(
                url,
                data=body,
                headers={"Content-Type": "application/json"},
                auth=(account_sid, auth_token),
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            status, problem = None, type(error).__name__
        else:
            status, problem = response.status_code, f"HTTP {response.status_code}"
            response.close()
            if 200 <= status < 300:
                logger.info(
                    "callback for request_sid=%s delivered to %s: HTTP %d (attempt %d)",
                    request_sid,
                    host,
                    status,
                    attempt,
                )
                return Delivery(True, attempt, status)
            if status < 500:
                logger.warning(
                    "callback for request_sid=%s refused by %s: HTTP %d (attempt %d); not retried",
                    request_sid,
                    host,
                    status,
                    attempt,
                )
                return Delivery(False, attempt, status)
        if attempt > len(backoff):
            logger.error(
                "callback for request_sid=%s to %s failed: %s; gave up after %d attempts",
                request_sid,
                host,
                problem,
                attempt,
            )
            return Delivery(False, attempt, status)
        delay = backoff[attempt - 1]
        logger.warning(
            "callback for request_sid=%s to %s failed: %s (attempt %d); retrying in %.2g s",
            request_sid,
            host,
            problem,
            attempt,
            delay,
        )
        if _wait(stop, delay):
            logger.warning("callback for request_sid=%s abandoned: the server is stopping", request_sid)
            return Delivery(False, attempt, status)


def _wait(stop: threading.Event | None, seconds: float) -> bool:
    """Sleep `seconds`; true when `stop` was set meanwhile."""
    if stop is None:
        time.sleep(seconds)
        return False
    return stop.wait(seconds)
