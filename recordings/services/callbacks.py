"""The publisher's one-time callback: its URL, and taking its result once."""

import hashlib
import hmac
import tempfile

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from addons.contract import PricingModel
from billing import services as billing
from invocation import outcomes, transport
from invocation.verdict import Verdict, judge
from marketplace import codes
from marketplace.api.formats import absolute_url
from marketplace.errors import MarketplaceError, NotFound
from recordings import queue
from recordings.downloads import safe_content_type
from recordings.models import AddOnResult, Payload
from recordings.services.results import OPEN, claim_free, fail, hold_key, removed_unless_committed, still_open

CHUNK = 1024 * 1024


class CallbackRefused(MarketplaceError):
    """The one-time callback URL cannot be used (again, late, or by someone else)."""


def callback_token(result_sid):
    """Unforgeable and stable: a redelivered task hands the publisher the same URL."""
    return hmac.new(settings.SECRET_KEY.encode(), f"callback:{result_sid}".encode(), hashlib.sha256).hexdigest()


def callback_url(result_sid):
    return absolute_url(
        reverse("add_on_result_callback", kwargs={"result_sid": result_sid, "token": callback_token(result_sid)})
    )


def receive_callback(*, result_sid, token, principal, body, content_type):
    """Take the publisher's result once: stream it to storage, check it, complete the result.

    `body` is a file-like object read in chunks; never more than the limit + 1 bytes of it.
    """
    # Bytes: compare_digest refuses str with non-ASCII characters (a garbled token is a 404).
    if not hmac.compare_digest(callback_token(result_sid).encode(), token.encode("utf-8", "surrogatepass")):
        raise NotFound("The requested resource was not found")
    result = (
        AddOnResult.objects.select_related("listing", "installation__version", "recording")
        .filter(sid=result_sid)
        .first()
    )
    if result is None:
        raise NotFound("The requested resource was not found")
    if principal.account.id != result.listing.publisher_id:
        raise CallbackRefused(
            "Authenticate as the add-on's publisher account (Account SID and auth token, or one of its API keys)",
            code=codes.AUTHENTICATION_FAILED,
            status=401,
        )
    claim = timezone.now()
    claimed = (
        AddOnResult.objects.filter(sid=result_sid, status__in=OPEN, date_deadline__gt=claim)
        .filter(claim_free(claim))
        .update(callback_claimed_at=claim)
    )
    if not claimed:
        _refuse_unclaimable(result)

    with tempfile.TemporaryFile() as spool:
        size = _spool(body, spool, limit=settings.CALLBACK_MAX_BYTES)
        if size > settings.CALLBACK_MAX_BYTES:
            with transaction.atomic():
                fail(
                    result.sid,
                    outcomes.TOO_LARGE.code,
                    f"{outcomes.TOO_LARGE.message} of {settings.CALLBACK_MAX_BYTES} bytes",
                    claim=claim,
                )
            raise CallbackRefused(
                f"The result is larger than {settings.CALLBACK_MAX_BYTES} bytes",
                code=outcomes.TOO_LARGE.code,
                status=413,
            )
        verdict = _check_result(spool, size, result)
        spool.seek(0)
        payload = Payload(
            add_on_result=result,
            label=result.listing.unique_name,
            content_type=safe_content_type(content_type),
            size=size,
        )
        with removed_unless_committed(payload.data), transaction.atomic():
            payload.data.save(payload.sid, File(spool), save=False)
            payload.save()
            moved = (
                _complete(result, claim)
                if verdict.successful
                else fail(result.sid, verdict.outcome.code, verdict.message, claim=claim)
            )
            if not moved:  # this claim went stale and another callback (or the sweep) took over
                raise CallbackRefused("The callback URL has already been used", code=codes.CONFLICT, status=409)
    return AddOnResult.objects.get(sid=result_sid)


def _refuse_unclaimable(result):
    now = timezone.now()
    current = AddOnResult.objects.get(sid=result.sid)
    unclaimed = AddOnResult.objects.filter(pk=current.pk).filter(claim_free(now)).exists()
    if current.status in OPEN and unclaimed and current.date_deadline <= now:
        with transaction.atomic():
            fail(current.sid, outcomes.TIMEOUT.code, "The callback came after the result's deadline")
        raise CallbackRefused("The callback URL has expired", code=outcomes.TIMEOUT.code, status=410)
    if current.status == AddOnResult.Status.FAILED and current.error_code == outcomes.TIMEOUT.code:
        raise CallbackRefused("The callback URL has expired", code=outcomes.TIMEOUT.code, status=410)
    raise CallbackRefused("The callback URL has already been used", code=codes.CONFLICT, status=409)


def _spool(body, spool, *, limit):
    size = 0
    while True:
        chunk = body.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            return size
        spool.write(chunk)
        size += len(chunk)
        if size > limit:
            return size


def _check_result(spool, size, result):
    """The engine's response rules, for results small enough to parse."""
    if size > settings.CALLBACK_PARSE_MAX_BYTES:
        return Verdict(outcomes.SUCCESS, "")  # stored as sent; too large to check here
    spool.seek(0)
    exchange = transport.Exchange(status=200, body=spool.read(), received=size)
    target = _ResultTarget(result.installation.version.response_validation_schema if result.installation else None)
    return judge(exchange, target)


class _ResultTarget:
    """What verdict.judge reads of a target, for a callback's body."""

    def __init__(self, response_validation_schema):
        self.response_validation_schema = response_validation_schema
        self.pricing = {}
        self.size_limit = settings.CALLBACK_MAX_BYTES


def _complete(result, claim):
    """Completed, and billed per started minute in the same transaction (once: the move is
    conditional on the callback's claim, and the billing event's key is the result's SID)."""
    version = result.installation.version if result.installation else None
    per_minute = version is not None and version.pricing.get("model") == PricingModel.PER_MINUTE
    minutes = billing.minutes_of(result.recording.duration_ms) if per_minute else 0
    moved = still_open(result.sid, claim).update(
        status=AddOnResult.Status.COMPLETED,
        date_completed=timezone.now(),
        date_updated=timezone.now(),
        billable_minutes=minutes,
        customer_notification=AddOnResult.CustomerNotification.PENDING,
    )
    if moved:
        result.billable_minutes = minutes
        if per_minute:
            billing.charge_result_minutes(result, version)
        billing.release_hold(key=hold_key(result.sid))  # whatever was held and not charged
        queue.enqueue_on_commit("recordings.tasks.notify_customer", result.sid)
    return bool(moved)
