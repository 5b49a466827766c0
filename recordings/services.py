"""Recordings and their asynchronous add-ons: store, dispatch, accept callbacks, time out.

The call to the publisher reuses the invocation engine's builder, transport, verdict and
records; what is new here is the result's life: queued -> processing -> completed | failed.
Every state change is a conditional UPDATE, so a redelivered task, a second callback or the
overdue sweep can never move a result twice or out of a terminal state.
"""

import hashlib
import hmac
import logging
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.urls import reverse

from accounts.selectors import ensure_may_act, may_act
from addons.contract import PricingModel
from addons.invocation import builder, circuit, engine, outcomes, pacing, transport
from addons.invocation.verdict import Verdict, judge
from addons.models import InstalledAddOn, InstalledExtension
from addons.services import invocations as records
from billing import services as billing
from marketplace import codes, inflight, outages
from marketplace.api.formats import absolute_url
from marketplace.errors import InvalidParameter, MarketplaceError, NotFound
from recordings import notify, queue
from recordings.audio import read_wav
from recordings.downloads import safe_content_type
from recordings.models import AddOnResult, Payload, Recording

logger = logging.getLogger(__name__)

INTEGRATION_POINT = "recordings"
ACCEPTANCE_LIMIT = 64 * 1024  # an acceptance has no body; anything past this is not one
CHUNK = 1024 * 1024
OPEN = (AddOnResult.Status.QUEUED, AddOnResult.Status.PROCESSING)
NOTIFY_DEFER_S = 5  # a notification waiting for its account's in-flight share tries again after this


class CallbackRefused(MarketplaceError):
    """The one-time callback URL cannot be used (again, late, or by someone else)."""


# --- recordings ---------------------------------------------------------------------------


def create_recording(*, account, audio):
    """Store an uploaded WAV and queue one result per recording add-on of the account."""
    ensure_may_act(account, refused="it cannot upload recordings")
    if audio is None:
        raise InvalidParameter("Required parameter 'Audio' is missing: upload the WAV file as 'Audio'", param="Audio")
    if audio.size > settings.RECORDING_MAX_BYTES:
        raise InvalidParameter(
            f"Parameter 'Audio' is larger than {settings.RECORDING_MAX_BYTES} bytes", param="Audio"
        )
    info = read_wav(audio)
    recording = Recording(
        account=account,
        duration_ms=info.duration_ms,
        channels=info.channels,
        sample_rate=info.sample_rate,
        mimetype=info.mimetype,
        size=info.size,
    )
    with _removed_unless_committed(recording.audio), transaction.atomic():
        recording.audio.save(f"{recording.sid}.wav", audio, save=False)
        recording.save()
        results = _queue_results(recording)
        for result in results:
            queue.enqueue_on_commit("recordings.tasks.deliver_to_publisher", result.sid)
    return recording


@contextmanager
def _removed_unless_committed(field_file):
    """Storage is not transactional: a file saved in a transaction that then fails (the
    database went away) is removed, so nothing is left that no row refers to."""
    try:
        yield
    except BaseException:
        if field_file.name:
            field_file.delete(save=False)
        raise


def _queue_results(recording):
    enabled = InstalledExtension.objects.filter(extension__unique_name=INTEGRATION_POINT, enabled=True).values(
        "installation_id"
    )
    installations = InstalledAddOn.objects.filter(account=recording.account, id__in=enabled).select_related(
        "listing"
    )
    deadline = timezone.now() + _time_allowed(recording)
    results = [
        AddOnResult(
            account=recording.account,
            recording=recording,
            installation=installation,
            listing=installation.listing,
            installation_sid=installation.sid,
            date_deadline=deadline,
        )
        for installation in installations.order_by("id")
    ]
    return AddOnResult.objects.bulk_create(results)


def _time_allowed(recording):
    factor = settings.RESULT_DEADLINE_FACTOR * recording.duration_ms / 1000
    return timedelta(seconds=max(factor, settings.RESULT_DEADLINE_FLOOR_S))


def _release_open_holds(results):
    """Results deleted while open will never be charged: what they held is given back."""
    for sid in results.filter(status__in=OPEN).values_list("sid", flat=True):
        billing.release_hold(key=hold_key(sid))


@transaction.atomic
def delete_recording(*, recording):
    _release_open_holds(AddOnResult.objects.filter(recording=recording))
    for payload in Payload.objects.filter(add_on_result__recording=recording):
        payload.data.delete(save=False)
    recording.audio.delete(save=False)
    recording.delete()


@transaction.atomic
def delete_result(*, result):
    _release_open_holds(AddOnResult.objects.filter(pk=result.pk))
    for payload in result.payloads.all():
        payload.data.delete(save=False)
    result.delete()


@transaction.atomic
def delete_payload(*, payload):
    payload.data.delete(save=False)
    payload.delete()


# --- calling the publisher ----------------------------------------------------------------


def callback_token(result_sid):
    """Unforgeable and stable: a redelivered task hands the publisher the same URL."""
    return hmac.new(settings.SECRET_KEY.encode(), f"callback:{result_sid}".encode(), hashlib.sha256).hexdigest()


def callback_url(result_sid):
    return absolute_url(
        reverse("add_on_result_callback", kwargs={"result_sid": result_sid, "token": callback_token(result_sid)})
    )


def deliver_to_publisher(*, result_sid):
    """Send the recording to the result's publisher; run by a django-q2 worker."""
    result = (
        AddOnResult.objects.select_related(
            "account", "recording", "installation__listing__publisher", "installation__version"
        )
        .filter(sid=result_sid)
        .first()
    )
    if result is None or not _take_for_dispatch(result.sid):
        return  # deleted, done, or another worker holds it: a redelivered or duplicate task
    installation = result.installation
    if installation is None:
        return _finish(result, Verdict(outcomes.NOT_INSTALLED, "The add-on was uninstalled before it ran"))
    if not may_act(result.account):  # suspended or closed since the upload: nothing leaves for it
        return _finish(result, Verdict(outcomes.ACCOUNT_INACTIVE, outcomes.ACCOUNT_INACTIVE.message))
    planned = engine.plan(installation, extension_enabled=True)
    if planned.refusal is not None:
        return _refuse(result, installation, planned.refusal)
    if not _hold_estimated_cost(result, installation):
        return _finish(result, Verdict(outcomes.INSUFFICIENT_BALANCE, outcomes.INSUFFICIENT_BALANCE.message))

    target = engine.target_for(installation, INTEGRATION_POINT, request_sid=result.sid)
    paced = pacing.admit(target)
    if not paced.allowed:
        return _wait_for_the_publishers_next_window(result, paced.retry_after)
    breaker = circuit.Breaker([circuit.endpoint(target)])
    if not breaker.allows(circuit.endpoint(target)):
        return _finish(result, Verdict(outcomes.CIRCUIT_OPEN, outcomes.CIRCUIT_OPEN.message))
    recording = result.recording
    with recording.audio.open("rb") as audio:
        inputs = {
            "audio_data": audio.read(),
            "callback_url": callback_url(result.sid),
            "channels": str(recording.channels),
            "duration": str(recording.duration_ms),
            "format": recording.mimetype,
            "media_sid": recording.sid,
            "size": str(recording.size),
        }
    now = timezone.now()
    values = builder.template_values(target, inputs, {}, now=now)
    request = builder.build_request(target, values, now=now)
    exchange = transport.send(
        request, size_limit=ACCEPTANCE_LIMIT, deadline=time.monotonic() + target.deadline_ms / 1000
    )
    verdict = judge_acceptance(exchange, target)
    breaker.record(circuit.endpoint(target), failed=verdict.outcome.sla_breach)
    logger.info(
        "recording %s sent to %s: %s", recording.sid, installation.unique_name, verdict.outcome.name,
        extra={"request_sid": result.sid},
    )  # fmt: skip
    pending = records.Pending(
        installation, installation.listing, installation.version, target, verdict, request, exchange, recording.sid
    )

    @transaction.atomic
    def record():
        (invocation,) = records.record_invocations(
            account=result.account, integration_point=INTEGRATION_POINT, pending=[pending]
        )
        AddOnResult.objects.filter(sid=result.sid).update(invocation=invocation)
        if verdict.successful:
            AddOnResult.objects.filter(sid=result.sid, status=AddOnResult.Status.QUEUED).update(
                status=AddOnResult.Status.PROCESSING, date_updated=timezone.now()
            )
        else:
            _fail(result.sid, verdict.outcome.code, verdict.message)

    # The publisher has the audio now: a database restarting at this moment must not make
    # the call unrecorded (and the result sent again once its lease runs out).
    outages.retry_while_database_unreachable(record, what=f"recording the call for {result.sid}")


def _refuse(result, installation, outcome):
    """Not sent: recorded as the engine records a refusal (its debugger alerts, never billed),
    and the result failed with the refusal's code."""
    target = engine.target_for(installation, INTEGRATION_POINT, request_sid=result.sid)
    verdict = Verdict(outcome, outcome.message)
    pending = records.Pending(
        installation, installation.listing, installation.version, target, verdict, None, None, result.recording.sid
    )
    with transaction.atomic():
        (invocation,) = records.record_invocations(
            account=result.account, integration_point=INTEGRATION_POINT, pending=[pending]
        )
        AddOnResult.objects.filter(sid=result.sid).update(invocation=invocation)
        _fail(result.sid, outcome.code, verdict.message)


def _wait_for_the_publishers_next_window(result, wait_s):
    """A recording can wait, unlike a lookup: it stays queued, its lease set to run out when
    the publisher's next window opens (the sweep then sends it), its deadline moved as far."""
    now = timezone.now()
    AddOnResult.objects.filter(sid=result.sid, status=AddOnResult.Status.QUEUED).update(
        date_dispatched=now - timedelta(seconds=settings.DISPATCH_LEASE_S - wait_s),
        date_deadline=now + timedelta(seconds=wait_s) + _time_allowed(result.recording),
    )
    logger.info("result %s waits %.1f s for its publisher's rate limit", result.sid, wait_s, extra={"request_sid": result.sid})


def hold_key(result_sid):
    return f"result:{result_sid}"  # the key of the billing event that would charge it


def _hold_estimated_cost(result, installation):
    """The whole recording at the pinned per-minute price is held before it is sent (one
    conditional UPDATE): charged when the result completes, released when it fails."""
    pricing = installation.version.pricing
    if pricing.get("model") != PricingModel.PER_MINUTE:
        return True
    cost = billing.money(billing.unit_price(pricing) * billing.minutes_of(result.recording.duration_ms))
    return billing.hold(account=result.account, key=hold_key(result.sid), amount=cost)


def _take_for_dispatch(result_sid):
    """Lease a queued result to this worker; False when it is not queued or leased to another."""
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.DISPATCH_LEASE_S)
    return bool(
        AddOnResult.objects.filter(sid=result_sid, status=AddOnResult.Status.QUEUED)
        .filter(Q(date_dispatched__isnull=True) | Q(date_dispatched__lt=lease_expired))
        .update(date_dispatched=now)
    )


def redeliver_stalled_results():
    """Queue again what no worker finished sending: its worker died, or the broker lost the
    task (Redis does not redeliver). The lease makes a duplicate harmless."""
    lease_expired = timezone.now() - timedelta(seconds=settings.DISPATCH_LEASE_S)
    stalled = AddOnResult.objects.filter(status=AddOnResult.Status.QUEUED).filter(
        Q(date_dispatched__lt=lease_expired) | Q(date_dispatched__isnull=True, date_created__lt=lease_expired)
    )
    sids = list(stalled.values_list("sid", flat=True)[:1000])
    for sid in sids:
        queue.enqueue("recordings.tasks.deliver_to_publisher", sid)
    return len(sids)


def judge_acceptance(exchange, target):
    """An asynchronous add-on accepts with 202 or 204 and no body; the rest is the engine's."""
    if exchange.failure is None and exchange.status in (202, 204):
        return Verdict(outcomes.SUCCESS, "")
    if exchange.failure is None and exchange.status == 200:
        verdict = judge(exchange, target)
        if verdict.outcome is outcomes.PUBLISHER_ERROR:
            return verdict
        return Verdict(
            outcomes.UNEXPECTED_STATUS,
            f"{outcomes.UNEXPECTED_STATUS.message}: HTTP 200 with a body; an asynchronous add-on "
            "answers 202 or 204 without one and posts its result to the callback URL",
        )
    return judge(exchange, target)


def _finish(result, verdict):
    with transaction.atomic():
        _fail(result.sid, verdict.outcome.code, verdict.message)


def _fail(result_sid, code, message, *, claim=None):
    """Move an open result to failed (not billed) and tell the customer; False if not open
    (or, with `claim`, if that callback's claim on it was lost)."""
    moved = _open(result_sid, claim).update(
        status=AddOnResult.Status.FAILED,
        error_code=code,
        error_message=message,
        date_completed=timezone.now(),
        date_updated=timezone.now(),
        customer_notification=AddOnResult.CustomerNotification.PENDING,
    )
    if moved:
        billing.release_hold(key=hold_key(result_sid))
        queue.enqueue_on_commit("recordings.tasks.notify_customer", result_sid)
    return bool(moved)


def _open(result_sid, claim):
    """The result while it is open: the conditional UPDATE that makes every move happen once."""
    results = AddOnResult.objects.filter(sid=result_sid, status__in=OPEN)
    return results if claim is None else results.filter(callback_claimed_at=claim)


# --- the publisher's callback -------------------------------------------------------------


def receive_callback(*, result_sid, token, principal, body, content_type):
    """Take the publisher's result once: stream it to storage, check it, complete the result.

    `body` is a file-like object read in chunks; never more than the limit + 1 bytes of it.
    """
    # Bytes: compare_digest refuses str with non-ASCII characters (a garbled token is a 404).
    if not hmac.compare_digest(callback_token(result_sid).encode(), token.encode("utf-8", "surrogatepass")):
        raise NotFound("The requested resource was not found")
    result = AddOnResult.objects.select_related("listing", "installation__version", "recording").filter(
        sid=result_sid
    ).first()
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
        .filter(_claim_free(claim))
        .update(callback_claimed_at=claim)
    )
    if not claimed:
        _refuse_unclaimable(result)

    with tempfile.TemporaryFile() as spool:
        size = _spool(body, spool, limit=settings.CALLBACK_MAX_BYTES)
        if size > settings.CALLBACK_MAX_BYTES:
            with transaction.atomic():
                _fail(
                    result.sid,
                    outcomes.TOO_LARGE.code,
                    f"{outcomes.TOO_LARGE.message} of {settings.CALLBACK_MAX_BYTES} bytes",
                    claim=claim,
                )
            raise CallbackRefused(
                f"The result is larger than {settings.CALLBACK_MAX_BYTES} bytes", code=outcomes.TOO_LARGE.code, status=413
            )
        verdict = _check_result(spool, size, result)
        spool.seek(0)
        payload = Payload(
            add_on_result=result,
            label=result.listing.unique_name,
            content_type=safe_content_type(content_type),
            size=size,
        )
        with _removed_unless_committed(payload.data), transaction.atomic():
            payload.data.save(payload.sid, File(spool), save=False)
            payload.save()
            moved = _complete(result, claim) if verdict.successful else _fail(
                result.sid, verdict.outcome.code, verdict.message, claim=claim
            )
            if not moved:  # this claim went stale and another callback (or the sweep) took over
                raise CallbackRefused("The callback URL has already been used", code=codes.CONFLICT, status=409)
    return AddOnResult.objects.get(sid=result_sid)


def _claim_free(now):
    """Never claimed, or claimed by a callback that never finished (the database restarted
    under it): the publisher's retry may take it again."""
    stale = now - timedelta(seconds=settings.CALLBACK_CLAIM_LEASE_S)
    return Q(callback_claimed_at__isnull=True) | Q(callback_claimed_at__lt=stale)


def _refuse_unclaimable(result):
    now = timezone.now()
    current = AddOnResult.objects.get(sid=result.sid)
    unclaimed = AddOnResult.objects.filter(pk=current.pk).filter(_claim_free(now)).exists()
    if current.status in OPEN and unclaimed and current.date_deadline <= now:
        with transaction.atomic():
            _fail(current.sid, outcomes.TIMEOUT.code, "The callback came after the result's deadline")
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
    moved = _open(result.sid, claim).update(
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


# --- the deadline -------------------------------------------------------------------------


def fail_overdue_results():
    """Fail every open result whose publisher did not call back in time (or whose callback
    never finished); not billed."""
    now = timezone.now()
    overdue = (
        AddOnResult.objects.filter(status__in=OPEN, date_deadline__lte=now)
        .filter(_claim_free(now))
        .values_list("sid", flat=True)
    )
    failed = 0
    for sid in list(overdue[:1000]):
        with transaction.atomic():
            failed += _fail(sid, outcomes.TIMEOUT.code, "No callback within 10 times the audio's duration")
    return failed


# --- telling the customer -----------------------------------------------------------------


def notify_customer(*, result_sid):
    """One attempt to send the result's status and links to the installation's callback_url.

    True when delivered, False when it will not be (every attempt failed, or the URL answered
    4xx), None when there was nothing to do now: no callback_url, told already, the attempt not
    due yet or taken by another worker, the account's NOTIFY_MAX_IN_FLIGHT reached (tried again
    shortly), or a failed attempt whose retry is scheduled after NOTIFY_BACKOFF_S."""
    owed = AddOnResult.CustomerNotification
    result = (
        AddOnResult.objects.select_related("account", "installation", "recording", "listing")
        .filter(sid=result_sid, customer_notification=owed.PENDING)
        .first()
    )
    if result is None:
        return None  # deleted, or told already: a redelivered task
    url = result.installation.configuration.get("callback_url") if result.installation else None
    if not url:
        AddOnResult.objects.filter(sid=result_sid).update(customer_notification=owed.NOT_REQUESTED)
        return None
    if not may_act(result.account):  # no outbound call on behalf of a suspended or closed account
        records.notify(
            account=result.account,
            code=outcomes.ACCOUNT_INACTIVE.code,
            message=f"The account is {result.account.status}: the result {result.sid} was not sent to {url}",
            resource_sid=result.sid,
        )
        AddOnResult.objects.filter(sid=result_sid).update(customer_notification=owed.UNDELIVERABLE)
        return False
    lease_s = settings.WEBHOOK_TIMEOUT_S + 30
    if not _take_notification(result_sid, lease_s):
        return None
    with inflight.slot("notify", result.account.sid, limit=settings.NOTIFY_MAX_IN_FLIGHT, lease_s=lease_s) as held:
        if not held:
            # The account's own callbacks already hold its share of the workers: later, not
            # counted as an attempt, and this worker goes on to someone else's work.
            _notify_again(result_sid, after_s=NOTIFY_DEFER_S, attempts=result.notify_attempts)
            return None
        outcome = notify.attempt(result, url, result.installation.configuration.get("callback_method", "POST"))
    attempts = result.notify_attempts + 1
    if notify.delivered(outcome):
        AddOnResult.objects.filter(sid=result_sid).update(
            customer_notification=owed.DELIVERED, notify_attempts=attempts, date_notify_due=None
        )
        return True
    logger.warning(
        "result %s: callback attempt %d to %s failed: %s", result.sid, attempts, url, outcome["error"],
        extra={"request_sid": result.sid},
    )  # fmt: skip
    pauses = settings.NOTIFY_BACKOFF_S
    if notify.worth_retrying(outcome) and attempts <= len(pauses):
        _notify_again(result_sid, after_s=pauses[attempts - 1], attempts=attempts)
        return None
    records.notify(
        account=result.account,
        code=codes.NOTIFICATION_UNDELIVERABLE,
        message=f"The result {result.sid} could not be delivered to {url}: {outcome['error']}",
        resource_sid=result.sid,
    )
    AddOnResult.objects.filter(sid=result_sid).update(
        customer_notification=owed.UNDELIVERABLE, notify_attempts=attempts, date_notify_due=None
    )
    return False



def _take_notification(result_sid, lease_s):
    """One attempt at a time, and not before it is due: a conditional UPDATE, so a redelivered
    task or the sweep never sends it twice at once. The lease runs out if the worker dies."""
    now = timezone.now()
    return bool(
        AddOnResult.objects.filter(sid=result_sid, customer_notification=AddOnResult.CustomerNotification.PENDING)
        .filter(Q(date_notify_due__isnull=True) | Q(date_notify_due__lte=now))
        .update(date_notify_due=now + timedelta(seconds=lease_s))
    )


def _notify_again(result_sid, *, after_s, attempts):
    """Due again in `after_s`: a task is scheduled for then (and the sweep finds it if lost)."""
    AddOnResult.objects.filter(sid=result_sid).update(
        notify_attempts=attempts, date_notify_due=timezone.now() + timedelta(seconds=after_s)
    )
    queue.enqueue_later("recordings.tasks.notify_customer", result_sid, after_s=after_s)


def renotify_lost_notifications():
    """Queue again notifications owed and due whose task was lost (the broker restarted) or
    failed (the database did): never tried for longer than a notify task takes, or past the
    time their retry (or a dead worker's lease) was due. Within a day, then dropped."""
    now = timezone.now()
    never_tried = Q(date_notify_due__isnull=True, date_completed__lt=now - timedelta(seconds=settings.DISPATCH_LEASE_S))
    owed = AddOnResult.objects.filter(
        never_tried | Q(date_notify_due__lte=now),
        customer_notification=AddOnResult.CustomerNotification.PENDING,
        date_completed__gt=now - timedelta(days=1),
    )
    sids = list(owed.values_list("sid", flat=True)[:1000])
    for sid in sids:
        queue.enqueue("recordings.tasks.notify_customer", sid)
    return len(sids)
