"""When a backing service (the database, Redis) is briefly unreachable: a restart, a
failover. Requests get a clear 503 to retry instead of a 500; writes recording something
already done elsewhere wait for the database to come back; work that only the broker lost
is found again by the recordings sweep."""

import logging

import tenacity
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from marketplace import codes
from marketplace.errors import MarketplaceError

logger = logging.getLogger(__name__)

DATABASE_UNREACHABLE = (OperationalError, InterfaceError)
UNREACHABLE = (*DATABASE_UNREACHABLE, RedisConnectionError, RedisTimeoutError)
RETRY_AFTER_S = 5
DATABASE_RETRY_PAUSE_S = 0.5  # between tries to record something while the database restarts
# What every request meeting an outage is told: a domain error, so it has the usual body.
UNAVAILABLE_ERROR = MarketplaceError(
    "Service temporarily unavailable: a backing service is restarting; retry shortly",
    code=codes.UNAVAILABLE,
    status=503,
)


def log(error, where):
    # The error's class is enough to tell which service; its text may carry connection details.
    logger.warning("%s: backing service unreachable (%s)", where, error.__class__.__name__)


class UnavailableMiddleware:
    """503 with a Twilio body (the API, callbacks) or a short page (the console) when a view
    meets an unreachable service; the DRF views answer the same through their handler."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNREACHABLE):
            return None
        log(exception, _route(request))
        if request.path.startswith(("/console/", "/admin/")) or "text/html" in request.headers.get("Accept", ""):
            response = HttpResponse(
                "<!doctype html><title>Temporarily unavailable</title>"
                "<p>The marketplace is briefly unavailable. Please try again in a few seconds.</p>",
                status=503,
            )
        else:
            response = JsonResponse(UNAVAILABLE_ERROR.as_body(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response


def _route(request):
    """The URL pattern, not the path: a path can carry a callback's or a download's token."""
    match = request.resolver_match
    return f"{request.method} /{match.route}" if match else request.method


def retry_while_database_unreachable(work, *, what):
    """Run `work` (its own transaction), again and again while the database is unreachable,
    for up to DATABASE_OUTAGE_RETRY_S: for records of something already done outside, such
    as a publisher holding the audio, which a restart must not lose. Past that, the last
    error is raised as it was."""

    def before_retry(state):
        log(state.outcome.exception(), what)
        connection.close()  # never reuse a broken connection; the next try opens a new one

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(DATABASE_UNREACHABLE),
        stop=tenacity.stop_after_delay(settings.DATABASE_OUTAGE_RETRY_S),
        wait=tenacity.wait_fixed(DATABASE_RETRY_PAUSE_S),
        before_sleep=before_retry,
        reraise=True,
    )
    return retrying(work)
