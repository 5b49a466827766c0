"""Invoking the add-ons of one event: resolve, check, call in parallel, record, notify.

Database reads happen before the calls and writes after them, on the caller's thread; only
the HTTP exchanges run on the shared pool, so a slow or dead publisher holds a pool thread
until its own deadline and never the others' results or the web server's threads.
"""

import logging
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.selectors import may_act
from addons.contract import LIVE_STATES, PRICED_PER_CALL
from addons.manifest import ADD_ON_TYPES
from billing import services as billing
from invocation import builder, circuit, outcomes, pacing, records, transport
from invocation.verdict import Verdict, judge, schema_problems
from marketplace import codes, outages
from marketplace.sids import new_sid

logger = logging.getLogger(__name__)

INVOCABLE_STATES = LIVE_STATES

_pool = None


def pool():
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=settings.INVOCATION_THREADS, thread_name_prefix="invoke")
    return _pool


@dataclass
class Planned:
    """One add-on asked for (or assigned) for this event, before any call."""

    unique_name: str
    installation: object = None  # InstalledAddOn, None when nothing is installed by that name
    refusal: outcomes.Outcome | None = None
    request_sid: str | None = None  # chosen before the call when its cost is held
    held: object = None  # the Decimal held for it (billing.place_holds), None when nothing is


@dataclass
class Result:
    unique_name: str
    request_sid: str | None
    status: str
    code: int | None
    message: str | None
    result: dict | None
    invocation: object = None


def plan(installation, *, extension_enabled, unique_name=None):
    """Whether this installation may run; `extension_enabled` is None when the add-on has no
    extension for the integration point at hand."""
    if installation is None:
        return Planned(unique_name, None, outcomes.NOT_INSTALLED)
    name = unique_name or installation.unique_name
    if installation.listing.state not in INVOCABLE_STATES:
        return Planned(name, installation, outcomes.LISTING_UNAVAILABLE)
    if not may_act(installation.listing.publisher):  # not called, not billed
        return Planned(name, installation, outcomes.PUBLISHER_INACTIVE)
    if extension_enabled is None:
        return Planned(name, installation, outcomes.NOT_SUPPORTED)
    if not extension_enabled:
        return Planned(name, installation, outcomes.EXTENSION_DISABLED)
    return Planned(name, installation)


def target_for(installation, integration_point, *, request_sid=None):
    return target_from(
        installation.listing,
        installation.version,
        integration_point=integration_point,
        request_sid=request_sid,
        unique_name=installation.unique_name,
        install_sid=installation.install_sid,
        installation_sid=installation.sid,
        configuration=installation.configuration,
    )


def target_from(
    listing, version, *, integration_point, unique_name, install_sid, installation_sid, configuration, request_sid=None
):
    add_on_type = listing.type
    rules = ADD_ON_TYPES[add_on_type]
    return builder.Target(
        request_sid=request_sid or new_sid("XR"),
        unique_name=unique_name,
        add_on_type=add_on_type,
        integration_point=integration_point,
        publisher_sid=listing.publisher.sid,
        publisher_auth_token=listing.publisher.auth_token,
        listing_sid=listing.sid,
        version_sid=version.sid,
        install_sid=install_sid,
        installation_sid=installation_sid,
        endpoint=version.endpoint,
        configuration=configuration,
        configuration_properties=tuple(version.configuration_schema.get("properties", {})),
        runtime_fields=tuple(version.runtime_fields),
        request_validation_schema=version.request_validation_schema,
        response_validation_schema=version.response_validation_schema,
        pricing=version.pricing,
        size_limit=settings.ADDON_RESPONSE_LIMITS[add_on_type],
        deadline_ms=min(version.endpoint["timeout_ms"], rules.max_timeout_ms),
    )


def invoke(*, account, planned, integration_point, inputs, runtime=None, resource_sid=""):
    """Run every planned add-on for one event; results in the order planned."""
    runtime = runtime or {}
    now = timezone.now()
    started = time.monotonic()
    results = [None] * len(planned)
    calls = []  # (index, planned item, Call) of the calls that go out
    rows = []
    _hold_what_priced_add_ons_cost(account, planned)
    breaker = circuit.Breaker([circuit.endpoint_of(item.installation) for item in planned if item.refusal is None])

    for index, item in enumerate(planned):
        if item.refusal is not None:
            results[index] = _refused(item, account, integration_point, resource_sid, rows)
            continue
        target = target_for(item.installation, integration_point, request_sid=item.request_sid)
        try:
            call = prepare(target, inputs, runtime.get(item.unique_name, {}), now=now, breaker=breaker)
        except outages.UNREACHABLE:
            raise  # a backing service is away: the whole request answers 503, nothing kept
        except Exception:  # a bug of ours costs this add-on its call, not the event its neighbours
            logger.exception("invocation %s could not be prepared", target.request_sid)
            verdict = Verdict(outcomes.REQUEST_INVALID, f"{outcomes.REQUEST_INVALID.message}: an internal error")
            call = Call(target, {}, verdict=verdict)
        if call.request is None:
            rows.append(_pending(item, target, call.verdict, None, None, resource_sid))
            results[index] = _result(item, target, call.verdict)
            continue
        calls.append((index, item, call))

    # The calls go out all at once, each on the pool (send touches no database).
    futures = {}
    for index, _item, call in calls:
        deadline = started + call.target.deadline_ms / 1000
        futures[index] = (pool().submit(send, call, deadline=deadline), deadline)
    if futures and connection.vendor != "sqlite" and not connection.in_atomic_block:
        # Publishers take up to their deadline: hold no server connection meanwhile, so
        # hundreds of lookups in flight do not exhaust the database's connections. (A
        # SQLite file has no such limit, and reopening it costs more than the wait.)
        connection.close()
    _wait_each_until_its_deadline(futures)

    for index, item, call in calls:
        exchange = _exchange_of(*futures[index], call.target)
        verdict = finish(call, exchange, breaker=breaker)
        rows.append(_pending(item, call.target, verdict, call.request, exchange, resource_sid))
        results[index] = _result(item, call.target, verdict)

    for row in rows:
        _log(row, integration_point, account)
    saved = records.record_invocations(account=account, integration_point=integration_point, pending=rows)
    by_sid = {row.sid: row for row in saved}
    for result in results:
        result.invocation = by_sid.get(result.request_sid)
    return results


# --- one call of one target: prepare -> send -> finish -------------------------------------
# The one path every call to a publisher takes: customers' events (invoke, in parallel), a
# recording's dispatch (recordings.services.dispatch) and a publisher's test call (trial).


@dataclass
class Call:
    """One call of one target between prepare() and finish()."""

    target: builder.Target
    values: dict  # the template values, from which the request is built
    request: object = None  # the request to send; None when the call must not go out
    verdict: Verdict | None = None  # why it must not (then request is None)
    problems: list = field(default_factory=list)  # the request validation schema's complaints
    retry_after: float = 0.0  # with RATE_LIMITED: seconds until the publisher's next window


def prepare(target, inputs, runtime=None, *, now, breaker=None):
    """Build the template values, check them against the request validation schema, ask
    whether the call is held back (the publisher's rate, then the endpoint's circuit), and
    build the request. Without a breaker nothing holds it back: a publisher's own test call
    is neither paced nor counted in its circuit."""
    values = builder.template_values(target, inputs, runtime or {}, now=now)
    problems = schema_problems(target.request_validation_schema, validation_input(values, target))
    if problems:
        verdict = Verdict(outcomes.REQUIREMENTS_NOT_MET, f"{outcomes.REQUIREMENTS_NOT_MET.message}: {problems[0]}")
        return Call(target, values, verdict=verdict, problems=problems)
    if breaker is not None:
        # The rate is counted first, so that a rate-limited call never takes the half-open
        # circuit's probe.
        paced = pacing.admit(target)
        if not paced.allowed:
            verdict = Verdict(outcomes.RATE_LIMITED, outcomes.RATE_LIMITED.message)
            return Call(target, values, verdict=verdict, retry_after=paced.retry_after)
        if not breaker.allows(circuit.endpoint(target)):
            return Call(target, values, verdict=Verdict(outcomes.CIRCUIT_OPEN, outcomes.CIRCUIT_OPEN.message))
    return Call(target, values, request=builder.build_request(target, values, now=now))


def send(call, *, deadline, size_limit=None):
    """The HTTP exchange of a prepared call; no database, so it may run on any thread."""
    return transport.send(call.request, size_limit=size_limit or call.target.size_limit, deadline=deadline)


def finish(call, exchange, *, breaker=None, judging=None):
    """The call's verdict (by `judging`, the engine's judge unless told), told to the breaker.
    Whatever goes wrong judging one answer, the call was made: it is recorded (and never
    billed) like its neighbours, rather than failing the whole event."""
    try:
        verdict = (judging or judge)(exchange, call.target)
    except Exception:
        logger.exception("invocation %s: the answer could not be judged", call.target.request_sid)
        verdict = Verdict(outcomes.PLATFORM_ERROR, outcomes.PLATFORM_ERROR.message)
    if breaker is not None:
        breaker.record(circuit.endpoint(call.target), failed=verdict.outcome.sla_breach)
    return verdict


def complete(call, *, breaker=None, size_limit=None, judging=None):
    """Send a prepared call now, on this thread, and judge it: (exchange, verdict), or (None,
    the verdict why not) when it must not go out."""
    if call.request is None:
        return None, call.verdict
    exchange = send(call, deadline=time.monotonic() + call.target.deadline_ms / 1000, size_limit=size_limit)
    return exchange, finish(call, exchange, breaker=breaker, judging=judging)


def call_once(target, inputs, runtime=None, *, now, breaker=None, size_limit=None, judging=None):
    """Call this target once: prepare, send, finish. (call, exchange or None, verdict); the
    caller records it (records.Pending of call.request, the exchange and the verdict)."""
    call = prepare(target, inputs, runtime, now=now, breaker=breaker)
    exchange, verdict = complete(call, breaker=breaker, size_limit=size_limit, judging=judging)
    return call, exchange, verdict


def _hold_what_priced_add_ons_cost(account, planned):
    """Nothing is served for free by accident, nor past the balance: each priced add-on's
    price (its installation's pinned version's) is held before any call, in one conditional
    UPDATE for the event; those the balance does not cover are refused (61032, not called).
    The holds are settled when the invocations are recorded (charged or released)."""
    priced = []
    for item in planned:
        if item.refusal is None and item.installation.version.pricing.get("model") in PRICED_PER_CALL:
            price = billing.money(billing.unit_price(item.installation.version.pricing))
            if price > 0:
                item.request_sid = new_sid("XR")
                priced.append((item, price))
    if not priced:
        return  # nothing to pay for: no need to touch the balance
    held = billing.place_holds(
        account=account, wanted=[(f"invocation:{item.request_sid}", price) for item, price in priced]
    )
    for item, price in priced:
        if f"invocation:{item.request_sid}" in held:
            item.held = price
        else:
            item.refusal = outcomes.INSUFFICIENT_BALANCE


# Past its deadline the transport reports its own timeout; this is how long we let it.
GRACE_S = 0.25


def _wait_each_until_its_deadline(futures):
    """Wait for every call, but for each no longer than its own deadline (plus grace)."""
    pending = dict(futures)
    while pending:
        nearest = min(deadline for _, deadline in pending.values())
        wait_for(
            [f for f, _ in pending.values()],
            timeout=max(0.0, nearest + GRACE_S - time.monotonic()),
            return_when=FIRST_COMPLETED,
        )
        now = time.monotonic()
        for index, (future, deadline) in list(pending.items()):
            if future.done() or now >= deadline + GRACE_S:
                del pending[index]


def _exchange_of(future, deadline, target):
    if not future.done():
        # Still queued (the pool is saturated) or stuck: this event does not wait any longer.
        started = future.cancel() is False
        exchange = transport.Exchange(failure="timeout", attempts=int(started), latency_ms=target.deadline_ms)
        exchange.detail = "no answer within the deadline" if started else "the platform was too busy to call in time"
        return exchange
    try:
        return future.result()
    except Exception:  # a bug of ours must cost this add-on its result, not the event
        logger.exception("invocation %s failed unexpectedly", target.request_sid)
        return transport.Exchange(failure="invalid_request", detail="an internal error", attempts=1)


def _log(pending, integration_point, account):
    exchange = pending.exchange
    logger.log(
        logging.INFO if pending.verdict.successful else logging.WARNING,
        "invocation %s %s: %s%s",
        pending.target.unique_name,
        integration_point,
        pending.verdict.outcome.name,
        f" in {exchange.latency_ms} ms, {exchange.attempts} attempt(s)" if exchange else "",
        extra={
            "request_sid": pending.target.request_sid,
            "account_sid": account.sid,
            "installation_sid": pending.target.installation_sid,
        },
    )


def _pending(item, target, verdict, request, exchange, resource_sid):
    installation = item.installation
    return records.Pending(
        installation,
        installation.listing,
        installation.version,
        target,
        verdict,
        request,
        exchange,
        resource_sid,
        held=item.held,
    )


def validation_input(values, target):
    """What the request validation schema sees: the event's fields and the runtime fields."""
    names = {"primary_address", "secondary_address", "body", *target.runtime_fields}
    return {name: values[name] for name in names if values.get(name) not in (None, "")}


def _refused(item, account, integration_point, resource_sid, rows):
    verdict = Verdict(item.refusal, item.refusal.message)
    if item.installation is None:
        records.notify_not_installed(account=account, unique_name=item.unique_name, integration_point=integration_point)
        return Result(item.unique_name, None, "failed", verdict.outcome.code, verdict.message, None)
    target = target_for(item.installation, integration_point)
    rows.append(_pending(item, target, verdict, None, None, resource_sid))
    return _result(item, target, verdict)


def _result(item, target, verdict):
    return Result(
        unique_name=item.unique_name,
        request_sid=target.request_sid,
        status="successful" if verdict.successful else "failed",
        code=verdict.outcome.code,
        message=verdict.message or None,
        result=verdict.result if verdict.successful else None,
    )


def add_ons_object(results):
    """Twilio's `add_ons`: overall status, and each add-on's result under its unique name."""
    failed = [r for r in results if r.status != "successful"]
    body = {"status": "successful", "message": None, "code": None, "results": {}}
    if failed:
        failures = {r.code for r in failed}
        body.update(
            status="failed",
            code=failures.pop() if len(failures) == 1 else codes.SEVERAL_ADD_ONS_FAILED,
            message=f"{len(failed)} of {len(results)} add-ons failed: {', '.join(r.unique_name for r in failed)}",
        )
    for r in results:
        body["results"][r.unique_name] = {
            "request_sid": r.request_sid,
            "status": r.status,
            "message": r.message,
            "code": r.code,
            "result": r.result if r.result is not None else {},
        }
    return body
