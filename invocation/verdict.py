"""The response rules and the pricing model, applied to what came back. Pure.

- 200 with a JSON object is a success, unless the response validation schema rejects it;
- a JSON object with a top-level `error` member is the publisher's own error: counted, but
  no SLA breach (the guide asks publishers to answer 200 with an error object);
- 4xx and 5xx (after retries), timeouts, oversize and non-object bodies are failures.
Billing: per_use bills every success; per_success only when the status is among the listed
codes and none of the listed JSON pointers exist; per_minute and manual are billed elsewhere.
"""

import json
from dataclasses import dataclass

from jsonschema.exceptions import SchemaError

from addons import schemas
from addons.contract import PricingModel
from invocation import outcomes
from marketplace import untrusted_json

MESSAGE_LIMIT = 300


@dataclass
class Verdict:
    outcome: outcomes.Outcome
    message: str
    result: dict | None = None
    billable: bool = False

    @property
    def successful(self):
        return self.outcome is outcomes.SUCCESS


def judge(exchange, target):
    if exchange.failure == "timeout":
        return Verdict(outcomes.TIMEOUT, f"{outcomes.TIMEOUT.message}: {exchange.detail}")
    if exchange.failure == "too_large":
        return Verdict(outcomes.TOO_LARGE, f"{outcomes.TOO_LARGE.message} of {target.size_limit} bytes")
    if exchange.failure == "forbidden_destination":
        return Verdict(outcomes.FORBIDDEN_DESTINATION, outcomes.FORBIDDEN_DESTINATION.message)
    if exchange.failure == "invalid_request":
        return Verdict(outcomes.REQUEST_INVALID, f"{outcomes.REQUEST_INVALID.message}: {exchange.detail}")
    if exchange.failure == "connection_failed":
        return Verdict(outcomes.CONNECTION_FAILED, f"{outcomes.CONNECTION_FAILED.message}: {exchange.detail}")
    status = exchange.status
    if 400 <= status < 500:
        return Verdict(outcomes.HTTP_4XX, f"{outcomes.HTTP_4XX.message} with HTTP {status}")
    if status >= 500:
        tries = f" after {exchange.attempts} attempts" if exchange.attempts > 1 else ""
        return Verdict(outcomes.HTTP_5XX, f"{outcomes.HTTP_5XX.message}: HTTP {status}{tries}")
    if status != 200:
        return Verdict(outcomes.UNEXPECTED_STATUS, f"{outcomes.UNEXPECTED_STATUS.message}: HTTP {status}")
    try:
        body = untrusted_json.loads(exchange.body)
    except untrusted_json.UntrustedJSON as error:
        if error.kind == "not_json":
            return Verdict(outcomes.INVALID_RESPONSE, f"{outcomes.INVALID_RESPONSE.message}: not JSON")
        return Verdict(outcomes.UNSAFE_JSON, f"{outcomes.UNSAFE_JSON.message}: {error}")
    if not isinstance(body, dict):
        return Verdict(outcomes.INVALID_RESPONSE, f"{outcomes.INVALID_RESPONSE.message}: a JSON {type_name(body)}")
    if body.get("error") not in (None, False, "", {}):
        return Verdict(outcomes.PUBLISHER_ERROR, publisher_error_message(body["error"]), result=body)
    problems = schema_problems(target.response_validation_schema, body)
    if problems:
        return Verdict(outcomes.SCHEMA_REJECTED, f"{outcomes.SCHEMA_REJECTED.message}: {problems[0]}", result=body)
    return Verdict(outcomes.SUCCESS, "", result=body, billable=is_billable(target.pricing, status, body))


def is_billable(pricing, status, body):
    model = pricing.get("model")
    if model == PricingModel.PER_USE:
        return True
    if model == PricingModel.PER_SUCCESS:
        success = pricing.get("success", {})
        return status in success.get("status_codes", [200]) and not any(
            pointer_exists(body, pointer) for pointer in success.get("absent", [])
        )
    return False


def pointer_exists(document, pointer):
    """Whether the JSON pointer (RFC 6901) names a member of the document."""
    if pointer == "":
        return True
    node = document
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def schema_problems(schema, instance):
    """Messages of every way `instance` breaks `schema` (none when there is no schema)."""
    if not schema:
        return []
    try:
        errors = schemas.errors(schema, instance)
    except SchemaError as error:
        return [f"invalid schema: {error.message}"]
    except schemas.WorkLimitExceeded as error:
        return [str(error)]
    return [_located(error) for error in errors]


def _located(error):
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def publisher_error_message(error):
    if isinstance(error, dict):
        text = error.get("message") or error.get("code") or json.dumps(error)
    else:
        text = str(error)
    return f"{outcomes.PUBLISHER_ERROR.message}: {str(text)[:MESSAGE_LIMIT]}"


def type_name(value):
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")
