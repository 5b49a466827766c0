"""What an invocation can come to: one table for codes, messages, SLA and billing rules.

61003 and 61006 are Twilio's own codes; the others are this platform's (docs/errors.md).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    name: str
    code: int | None
    message: str
    called: bool  # the publisher was (or was to be) called
    sla_breach: bool  # counts against the publisher's SLA
    tell_publisher: bool = False  # a debugger alert for the publisher although it was not called


SUCCESS = Outcome("success", None, "", True, False)
PUBLISHER_ERROR = Outcome("publisher_error", 61008, "The add-on reported an error", True, False)
REQUIREMENTS_NOT_MET = Outcome(
    "requirements_not_met", 61003, "Requirements to invoke Add-ons have not been met", False, False
)
NOT_INSTALLED = Outcome("not_installed", 61010, "The add-on is not installed on this account", False, False)
EXTENSION_DISABLED = Outcome(
    "extension_disabled", 61011, "The add-on's extension for this integration point is disabled", False, False
)
NOT_SUPPORTED = Outcome(
    "not_supported", 61012, "The add-on does not support this integration point", False, False
)
LISTING_UNAVAILABLE = Outcome(
    "listing_unavailable", 61013, "The add-on's listing is suspended or retired", False, False
)
PUBLISHER_INACTIVE = Outcome(
    "publisher_inactive", 61017, "The add-on's publisher account is suspended or closed", False, False, True
)
ACCOUNT_INACTIVE = Outcome(
    "account_inactive", 20005, "The account is suspended or closed; its recording was not sent", False, False
)
FORBIDDEN_DESTINATION = Outcome(
    "forbidden_destination", 61014, "The add-on's URL reaches a private or internal address", False, False
)
CIRCUIT_OPEN = Outcome(
    "circuit_open", 61015, "The add-on's endpoint is failing; calls are paused for a moment", False, False
)
RATE_LIMITED = Outcome(
    "rate_limited", 61016, "The add-on's publisher takes no more calls in this period (its rate_limit)", False, False
)
TIMEOUT = Outcome("timeout", 61020, "The add-on did not answer within its deadline", True, True)
CONNECTION_FAILED = Outcome("connection_failed", 61021, "The add-on could not be reached", True, True)
HTTP_4XX = Outcome("http_4xx", 61022, "The add-on refused the request", True, True)
HTTP_5XX = Outcome("http_5xx", 61023, "The add-on failed with a server error", True, True)
TOO_LARGE = Outcome("too_large", 61024, "The add-on's response exceeded the size limit", True, True)
INVALID_RESPONSE = Outcome("invalid_response", 61025, "The add-on's response is not a JSON object", True, True)
SCHEMA_REJECTED = Outcome(
    "schema_rejected", 61026, "The add-on's response failed its response validation schema", True, True
)
UNEXPECTED_STATUS = Outcome("unexpected_status", 61027, "The add-on answered with an unexpected status", True, True)
UNSAFE_JSON = Outcome(
    "unsafe_json", 61029, "The add-on's response is JSON beyond the platform's limits", True, True
)
PLATFORM_ERROR = Outcome(
    "platform_error", 61030, "The platform failed to process the add-on's answer; it is not billed", True, False
)
INSUFFICIENT_BALANCE = Outcome(
    "insufficient_balance", 61032, "The account's balance does not cover this add-on's price", False, False
)
REQUEST_INVALID = Outcome(
    "request_invalid", 61028, "The request to the add-on could not be built from these values", False, False
)
WEBHOOK_GET = Outcome("webhook_get", 61006, "Add-ons unavailable for GET callbacks", False, False)
# A customer's own URL (sandbox webhook, result notification), not a publisher's: in the
# sandbox's `webhook` object and the debugger.
WEBHOOK_REFUSED = Outcome(
    "webhook_refused", 61040, "The webhook URL reaches a private or internal address: not called", False, False
)
WEBHOOK_TIMEOUT = Outcome("webhook_timeout", 61041, "The webhook gave no complete answer within its deadline", True, False)

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
