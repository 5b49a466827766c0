"""What an invocation can come to: one table for codes, messages, SLA and billing rules.

The codes themselves live in marketplace/codes.py, with every other code (docs/errors.md).
"""

from dataclasses import dataclass

from marketplace import codes


@dataclass(frozen=True)
class Outcome:
    name: str
    code: int | None
    message: str
    called: bool  # the publisher was (or was to be) called
    sla_breach: bool  # counts against the publisher's SLA
    tell_publisher: bool = False  # a debugger alert for the publisher although it was not called


SUCCESS = Outcome("success", None, "", True, False)
PUBLISHER_ERROR = Outcome("publisher_error", codes.PUBLISHER_ERROR, "The add-on reported an error", True, False)
REQUIREMENTS_NOT_MET = Outcome(
    "requirements_not_met", codes.REQUIREMENTS_NOT_MET, "Requirements to invoke Add-ons have not been met", False, False
)
NOT_INSTALLED = Outcome(
    "not_installed", codes.NOT_INSTALLED, "The add-on is not installed on this account", False, False
)
EXTENSION_DISABLED = Outcome(
    "extension_disabled",
    codes.EXTENSION_DISABLED,
    "The add-on's extension for this integration point is disabled",
    False,
    False,
)
NOT_SUPPORTED = Outcome(
    "not_supported", codes.NOT_SUPPORTED, "The add-on does not support this integration point", False, False
)
LISTING_UNAVAILABLE = Outcome(
    "listing_unavailable", codes.LISTING_UNAVAILABLE, "The add-on's listing is suspended or retired", False, False
)
PUBLISHER_INACTIVE = Outcome(
    "publisher_inactive",
    codes.PUBLISHER_INACTIVE,
    "The add-on's publisher account is suspended or closed",
    False,
    False,
    True,
)
ACCOUNT_INACTIVE = Outcome(
    "account_inactive",
    codes.ACCOUNT_NOT_ACTIVE,
    "The account is suspended or closed; its recording was not sent",
    False,
    False,
)
FORBIDDEN_DESTINATION = Outcome(
    "forbidden_destination",
    codes.FORBIDDEN_DESTINATION,
    "The add-on's URL reaches a private or internal address",
    False,
    False,
)
CIRCUIT_OPEN = Outcome(
    "circuit_open", codes.CIRCUIT_OPEN, "The add-on's endpoint is failing; calls are paused for a moment", False, False
)
RATE_LIMITED = Outcome(
    "rate_limited",
    codes.RATE_LIMITED,
    "The add-on's publisher takes no more calls in this period (its rate_limit)",
    False,
    False,
)
TIMEOUT = Outcome("timeout", codes.TIMEOUT, "The add-on did not answer within its deadline", True, True)
CONNECTION_FAILED = Outcome("connection_failed", codes.CONNECTION_FAILED, "The add-on could not be reached", True, True)
HTTP_4XX = Outcome("http_4xx", codes.HTTP_4XX, "The add-on refused the request", True, True)
HTTP_5XX = Outcome("http_5xx", codes.HTTP_5XX, "The add-on failed with a server error", True, True)
TOO_LARGE = Outcome("too_large", codes.TOO_LARGE, "The add-on's response exceeded the size limit", True, True)
INVALID_RESPONSE = Outcome(
    "invalid_response", codes.INVALID_RESPONSE, "The add-on's response is not a JSON object", True, True
)
SCHEMA_REJECTED = Outcome(
    "schema_rejected", codes.SCHEMA_REJECTED, "The add-on's response failed its response validation schema", True, True
)
UNEXPECTED_STATUS = Outcome(
    "unexpected_status", codes.UNEXPECTED_STATUS, "The add-on answered with an unexpected status", True, True
)
UNSAFE_JSON = Outcome(
    "unsafe_json", codes.UNSAFE_JSON, "The add-on's response is JSON beyond the platform's limits", True, True
)
PLATFORM_ERROR = Outcome(
    "platform_error",
    codes.PLATFORM_ERROR,
    "The platform failed to process the add-on's answer; it is not billed",
    True,
    False,
)
INSUFFICIENT_BALANCE = Outcome(
    "insufficient_balance",
    codes.INSUFFICIENT_BALANCE,
    "The account's balance does not cover this add-on's price",
    False,
    False,
)
REQUEST_INVALID = Outcome(
    "request_invalid",
    codes.REQUEST_INVALID,
    "The request to the add-on could not be built from these values",
    False,
    False,
)
WEBHOOK_GET = Outcome("webhook_get", codes.WEBHOOK_GET, "Add-ons unavailable for GET callbacks", False, False)
# A customer's own URL (sandbox webhook, result notification), not a publisher's: in the
# sandbox's `webhook` object and the debugger.
WEBHOOK_REFUSED = Outcome(
    "webhook_refused",
    codes.WEBHOOK_REFUSED,
    "The webhook URL reaches a private or internal address: not called",
    False,
    False,
)
WEBHOOK_TIMEOUT = Outcome(
    "webhook_timeout", codes.WEBHOOK_TIMEOUT, "The webhook gave no complete answer within its deadline", True, False
)

ALL = {
    outcome.name: outcome
    for outcome in (
        SUCCESS,
        PUBLISHER_ERROR,
        REQUIREMENTS_NOT_MET,
        NOT_INSTALLED,
        EXTENSION_DISABLED,
        NOT_SUPPORTED,
        LISTING_UNAVAILABLE,
        TIMEOUT,
        CONNECTION_FAILED,
        HTTP_4XX,
        HTTP_5XX,
        TOO_LARGE,
        INVALID_RESPONSE,
        SCHEMA_REJECTED,
        UNEXPECTED_STATUS,
        UNSAFE_JSON,
        PLATFORM_ERROR,
        REQUEST_INVALID,
        INSUFFICIENT_BALANCE,
        FORBIDDEN_DESTINATION,
        CIRCUIT_OPEN,
        RATE_LIMITED,
        PUBLISHER_INACTIVE,
        ACCOUNT_INACTIVE,
    )
}
