"""A publisher's test invocation: one real call with sample inputs, shown in full.

Takes the engine's one call path (prepare, send, finish) as customers' traffic; recorded as a test
(never billed, never in the SLA figures, no notifications).
"""

from django.utils import timezone

from accounts.selectors import may_act
from addons.configuration import validated_configuration
from addons.contract import SLA_TARGET_AVERAGE_MS, SLA_TARGET_P99_MS
from invocation import builder, engine, outcomes, records
from invocation.verdict import Verdict, schema_problems
from marketplace.errors import InvalidParameter
from marketplace.sids import new_sid

BODY_PREVIEW = 64 * 1024
SAMPLE_NUMBER = "+14155552671"  # the From of a test that names none (the API's and the console's)


def run(*, listing, version, integration_point=None, inputs=None, configuration=None, runtime=None):
    """The test call, with the defaults for what the publisher left out: the version's first
    integration point, SAMPLE_NUMBER as the From, no configuration, no runtime fields."""
    inputs = inputs or {}
    inputs = {
        "primary_address": inputs.get("primary_address") or SAMPLE_NUMBER,
        "secondary_address": inputs.get("secondary_address") or "",
        "body": inputs.get("body") or "",
    }
    runtime = {name: str(value) for name, value in (runtime or {}).items()}
    if not integration_point:
        integration_point = version.extensions.first().unique_name
    if not version.extensions.filter(unique_name=integration_point).exists():
        supported = ", ".join(version.extensions.values_list("unique_name", flat=True))
        raise InvalidParameter(
            f"Parameter 'IntegrationPoint' must be one this version supports: {supported}", param="IntegrationPoint"
        )
    configuration = validated_configuration(version.configuration_schema, configuration or {})
    target = engine.target_from(
        listing,
        version,
        integration_point=integration_point,
        unique_name=listing.unique_name,
        install_sid=new_sid("XD"),
        installation_sid=new_sid("XE"),
        configuration=configuration,
    )
    now = timezone.now()
    # The engine's one call path, with no breaker: a test call is neither paced nor counted
    # in the publisher's circuit.
    call = engine.prepare(target, inputs, runtime, now=now)
    # Shown in full even when it is not sent (its inputs do not meet the request schema).
    request = call.request or builder.build_request(target, call.values, now=now)
    if not may_act(listing.publisher):  # as the engine: a suspended publisher's endpoint is not called
        exchange, verdict = None, Verdict(outcomes.PUBLISHER_INACTIVE, outcomes.PUBLISHER_INACTIVE.message)
    else:
        exchange, verdict = engine.complete(call)
    pending = records.Pending(None, listing, version, target, verdict, request, exchange, is_test=True)
    records.record_invocations(account=listing.publisher, integration_point=integration_point, pending=[pending])
    return _report(target, request, call.problems, exchange, verdict)


def _report(target, request, request_problems, exchange, verdict):
    response = None
    response_problems = None
    if exchange is not None:
        response = {
            "status_code": exchange.status,
            "headers": exchange.headers,
            "body": exchange.body[:BODY_PREVIEW].decode("utf-8", errors="replace"),
            "bytes": len(exchange.body),
            "attempts": exchange.attempts,
            "latency_ms": exchange.latency_ms,
        }
        if verdict.result is not None:
            response_problems = schema_problems(target.response_validation_schema, verdict.result)
    return {
        "request_sid": target.request_sid,
        "listing_sid": target.listing_sid,
        "version_sid": target.version_sid,
        "integration_point": target.integration_point,
        # The publisher's own credentials and signature: shown to them, never stored.
        "request": {
            "method": request.method,
            "url": request.url,
            "headers": request.headers,
            "body": request.body.decode("utf-8", errors="replace") if request.body is not None else None,
            "signature_base": request.signature_base,
        },
        "request_validation": {"valid": not request_problems, "errors": request_problems},
        "response": response,
        "response_validation": None
        if response_problems is None
        else {"valid": not response_problems, "errors": response_problems},
        "status": "successful" if verdict.successful else "failed",
        "outcome": verdict.outcome.name,
        "code": verdict.outcome.code,
        "message": verdict.message or None,
        "result": verdict.result,
        "limits": {
            "deadline_ms": target.deadline_ms,
            "size_limit": target.size_limit,
            "sla_target_ms": {"average": SLA_TARGET_AVERAGE_MS, "p99": SLA_TARGET_P99_MS},
        },
    }
