"""Invoking the add-ons of one event: resolve, check, call in parallel, record, notify.

Database reads happen before the calls and writes after them, on the caller's thread; only
the HTTP exchanges run on the shared pool, so a slow or dead publisher holds a pool thread
until its own deadline and never the others' results or the web server's threads.
"""

import time
import logging
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.selectors import may_act
from addons.contract import LIVE_STATES, PRICED_PER_CALL
from addons.invocation import builder, circuit, outcomes, pacing, transport
from addons.invocation.verdict import Verdict, judge, schema_problems
from addons.manifest import ADD_ON_TYPES
from addons.services import invocations as records
from billing import services as billing
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
    calls = []  # (index, target, request)
    rows = []
    _hold_what_priced_add_ons_cost(account, planned)
    breaker = circuit.Breaker([circuit.endpoint_of(item.installation) for item in planned if item.refusal is None])

    for index, item in enumerate(planned):
        if item.refusal is not None:
            results[index] = _refused(item, account, integration_point, resource_sid, rows)
            continue
        target = target_for(item.installation, integration_point, request_sid=item.request_sid)
        try:
            verdict, request = _prepared(item, target, inputs, runtime, breaker, now)
        except outages.UNREACHABLE:
            raise  # a backing service is away: the whole request answers 503, nothing kept
        except Exception:  # a bug of ours costs this add-on its call, not the event its neighbours
            logger.exception("invocation %s could not be prepared", target.request_sid)
            verdict = Verdict(outcomes.REQUEST_INVALID, f"{outcomes.REQUEST_INVALID.message}: an internal error")
            request = None
        if request is None:
            rows.append(_pending(item, target, verdict, None, None, resource_sid))
            results[index] = _result(item, target, verdict)
            continue
        calls.append((index, item, target, request))

    futures = {}
    for index, item, target, request in calls:
        deadline = started + target.deadline_ms / 1000
        futures[index] = (pool().submit(transport.send, request, size_limit=target.size_limit, deadline=deadline), deadline)
    if futures and connection.vendor != "sqlite" and not connection.in_atomic_block:
        # Publishers take up to their deadline: hold no server connection meanwhile, so
        # hundreds of lookups in flight do not exhaust the database's connections. (A
        # SQLite file has no such limit, and reopening it costs more than the wait.)
        connection.close()
    _wait_each_until_its_deadline(futures)

    for index, item, target, request in calls:
        exchange = _exchange_of(*futures[index], target)
        verdict = _judged(exchange, target)
        breaker.record(circuit.endpoint(target), failed=verdict.outcome.sla_breach)
        rows.append(_pending(item, target, verdict, request, exchange, resource_sid))
        results[index] = _result(item, target, verdict)

    for row in rows:
        _log(row, integration_point, account)
    saved = records.record_invocations(account=account, integration_point=integration_point, pending=rows)
    by_sid = {row.sid: row for row in saved}
    for result in results:
        result.invocation = by_sid.get(result.request_sid)
    return results


def _prepared(item, target, inputs, runtime, breaker, now):
    """(verdict, None) when the call must not go out, else (None, the request to send)."""
    values = builder.template_values(target, inputs, runtime.get(item.unique_name, {}), now=now)
    problems = schema_problems(target.request_validation_schema, validation_input(values, target))
    if problems:
        return Verdict(outcomes.REQUIREMENTS_NOT_MET, f"{outcomes.REQUIREMENTS_NOT_MET.message}: {problems[0]}"), None
    held_back = held_back_by(target, breaker)
    if held_back is not None:
        return Verdict(held_back, held_back.message), None
    return None, builder.build_request(target, values, now=now)


def _judged(exchange, target):
    """The call's verdict. Whatever goes wrong judging one answer, the call was made: it is
    recorded (and never billed) like its neighbours, rather than failing the whole event."""
    try:
        return judge(exchange, target)
    except Exception:
        logger.exception("invocation %s: the answer could not be judged", target.request_sid)
        return Verdict(outcomes.PLATFORM_ERROR, outcomes.PLATFORM_ERROR.message)


def held_back_by(target, breaker):
    """Why a call must not go out now, or None: its publisher's declared rate is used up
    (counted first, so that a rate-limited call never takes the half-open circuit's probe),
    or its endpoint keeps failing."""
    if not pacing.admit(target).allowed:
        return outcomes.RATE_LIMITED
    if not breaker.allows(circuit.endpoint(target)):
        return outcomes.CIRCUIT_OPEN
    return None


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
        wait_for([f for f, _ in pending.values()], timeout=max(0.0, nearest + GRACE_S - time.monotonic()), return_when=FIRST_COMPLETED)
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
        installation, installation.listing, installation.version, target, verdict, request, exchange, resource_sid,
        held=item.held,
    )  # fmt: skip


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
