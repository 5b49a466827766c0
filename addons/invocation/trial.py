"""A publisher's test invocation: one real call with sample inputs, shown in full.

Uses the same builder, transport and verdict as customers' traffic; recorded as a test
(never billed, never in the SLA figures, no notifications).
"""

import time

from django.utils import timezone

from accounts.selectors import may_act
from addons.configuration import validated_configuration
from addons.contract import SLA_TARGET_AVERAGE_MS, SLA_TARGET_P99_MS
from addons.invocation import builder, engine, outcomes, transport
from addons.invocation.verdict import Verdict, judge, schema_problems
from addons.services import invocations as records
from marketplace.errors import InvalidParameter
from marketplace.sids import new_sid

BODY_PREVIEW = 64 * 1024


def run(*, listing, version, integration_point, inputs, configuration, runtime):
    if not version.extensions.filter(unique_name=integration_point).exists():
        supported = ", ".join(version.extensions.values_list("unique_name", flat=True))
        raise InvalidParameter(
            f"Parameter 'IntegrationPoint' must be one this version supports: {supported}", param="IntegrationPoint"
        )
    configuration = validated_configuration(version.configuration_schema, configuration)
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
    values = builder.template_values(target, inputs, runtime, now=now)
    request = builder.build_request(target, values, now=now)
    request_problems = schema_problems(target.request_validation_schema, engine.validation_input(values, target))
    exchange = None
    if not may_act(listing.publisher):  # as the engine: a suspended publisher's endpoint is not called
        verdict = Verdict(outcomes.PUBLISHER_INACTIVE, outcomes.PUBLISHER_INACTIVE.message)
    elif request_problems:
        verdict = Verdict(outcomes.REQUIREMENTS_NOT_MET, f"{outcomes.REQUIREMENTS_NOT_MET.message}: {request_problems[0]}")
    else:
        deadline = time.monotonic() + target.deadline_ms / 1000
        exchange = transport.send(request, size_limit=target.size_limit, deadline=deadline)
        verdict = judge(exchange, target)
    pending = records.Pending(None, listing, version, target, verdict, request, exchange, is_test=True)
    records.record_invocations(account=listing.publisher, integration_point=integration_point, pending=[pending])
    return _report(target, request, request_problems, exchange, verdict)


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
        "limits": {"deadline_ms": target.deadline_ms, "size_limit": target.size_limit, "sla_target_ms": {"average": SLA_TARGET_AVERAGE_MS, "p99": SLA_TARGET_P99_MS}},
    }
