"""Checking that a request came from the platform, unmodified and recently.

The platform signs publisher requests the way Twilio signs webhooks, with the publisher
account's auth token, so `twilio.request_validator.RequestValidator` does the cryptography:

- the signed URL is the full URL called, query string included; the platform appends
  `twilio_date` (UTC, ISO 8601) and `twilio_ttl` (ms) to it, so they are signed too;
- form-encoded bodies: the signature also covers the sorted form parameters;
- any other body (JSON, multipart/form-data, raw audio): the URL carries
  `bodySHA256=<hex sha256 of the exact body bytes>` and the signature covers the URL alone.
  A multipart body is hashed whole, boundaries and binary audio part included: nothing in
  it is parsed before the hash has vouched for it.

`sign_request` is the platform's side of the same contract, for tests and demos.
"""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"
DATE_PARAM = "twilio_date"
TTL_PARAM = "twilio_ttl"
BODY_HASH_PARAM = "bodySHA256"
SIGNING_PARAMS = frozenset({DATE_PARAM, TTL_PARAM, BODY_HASH_PARAM})
# Allowance for the platform's and the publisher's clocks disagreeing.
CLOCK_SKEW = timedelta(seconds=60)


class RequestRejected(Exception):
    """The request is not provably the platform's, or is no longer fresh (answered with 401)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class FormParams(dict):
    """Form parameters, each name with all its values.

    RequestValidator signs every value of a repeated name (it looks for `getlist`), so a value
    smuggled in next to a signed one still breaks the signature.
    """

    def getlist(self, name: str) -> list[str]:
        return self[name]

    def first_values(self) -> dict[str, str]:
        return {name: values[0] for name, values in self.items()}


def parse_form(body: bytes | str) -> FormParams:
    """Form parameters of an urlencoded body (blank values kept: they are signed too)."""
    text = body.decode("ascii", errors="replace") if isinstance(body, bytes) else body
    params = FormParams()
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"):
        params.setdefault(name, []).append(value)
    return params


@dataclass(frozen=True)
class ValidityWindow:
    """When the platform issued the request and until when it may be answered."""

    issued_at: datetime
    ttl: timedelta

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + self.ttl


def format_twilio_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def body_sha256(body: bytes | str) -> str:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()


def verify_request(
    *,
    auth_token: str,
    url: str,
    signature: str | None,
    now: datetime,
    form: FormParams | None = None,
    body: bytes | None = None,
) -> ValidityWindow:
    """The request's validity window, or RequestRejected.

    Pass `form` for a form-encoded body, `body` for any other body (JSON, multipart, raw),
    neither for a request without a body. The date and TTL come from the signed query string only: the
    X-Twilio-Date / X-Twilio-TTL headers are not signed, so they prove nothing.
    """
    if not signature:
        raise RequestRejected("missing_signature", f"the {SIGNATURE_HEADER} header is required")
    validator = RequestValidator(auth_token)
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    if form is not None:
        valid = validator.validate(url, form, signature)
    elif body and BODY_HASH_PARAM not in query:
        # Without the hash in the signed URL nothing would vouch for the body.
        raise RequestRejected("missing_body_hash", f"a request with a body must carry {BODY_HASH_PARAM} in its URL")
    elif body is not None and BODY_HASH_PARAM in query:
        valid = _validate_body(validator, url, body, query[BODY_HASH_PARAM][0], signature)
    else:
        valid = validator.validate(url, {}, signature)
    if not valid:
        raise RequestRejected("invalid_signature", f"the {SIGNATURE_HEADER} does not match the request")
    window = _validity_window(query)
    check_freshness(window, now=now)
    return window


def check_freshness(window: ValidityWindow, *, now: datetime) -> None:
    """RequestRejected when the request's TTL has run out or it claims to come from the future."""
    if now > window.expires_at + CLOCK_SKEW:
        raise RequestRejected("request_expired", f"the request expired at {format_twilio_date(window.expires_at)}")
    if window.issued_at > now + CLOCK_SKEW:
        raise RequestRejected(
            "request_from_future", f"{DATE_PARAM} {format_twilio_date(window.issued_at)} is in the future"
        )


def _validate_body(validator: RequestValidator, url: str, body: bytes, expected_hash: str, signature: str) -> bool:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # RequestValidator hashes text; a binary body (audio, a multipart upload) is hashed as
        # bytes, same rule. (A body that happens to be UTF-8 goes the other way: same hash.)
        return hmac.compare_digest(body_sha256(body), expected_hash) and validator.validate(url, {}, signature)
    return validator.validate(url, text, signature)


def _validity_window(query: Mapping[str, list[str]]) -> ValidityWindow:
    raw_date = query.get(DATE_PARAM, [""])[0]
    raw_ttl = query.get(TTL_PARAM, [""])[0]
    if not raw_date or not raw_ttl:
        raise RequestRejected("missing_timestamp", f"the signed URL must carry {DATE_PARAM} and {TTL_PARAM}")
    try:
        issued_at = datetime.fromisoformat(raw_date)
    except ValueError:
        raise RequestRejected("invalid_timestamp", f"{DATE_PARAM} must be an ISO 8601 UTC time") from None
    if issued_at.tzinfo is None:
        issued_at = issued_at.replace(tzinfo=UTC)  # the contract says UTC
    if not (raw_ttl.isascii() and raw_ttl.isdigit()):
        raise RequestRejected("invalid_timestamp", f"{TTL_PARAM} must be a whole number of milliseconds")
    return ValidityWindow(issued_at=issued_at, ttl=timedelta(milliseconds=int(raw_ttl)))


@dataclass(frozen=True)
class SignedRequest:
    url: str
    signature: str


def sign_request(
    auth_token: str,
    url: str,
    *,
    issued_at: datetime,
    ttl_ms: int,
    form: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
) -> SignedRequest:
    """Sign a request as the platform does: append the date, TTL (and body hash) to the URL, then sign.

    `form` for a form-encoded body, `body` for any other (JSON, multipart, raw), neither for GET.
    """
    extra = {DATE_PARAM: format_twilio_date(issued_at), TTL_PARAM: str(ttl_ms)}
    if body is not None:
        extra[BODY_HASH_PARAM] = body_sha256(body)
    signed_url = url + ("&" if urlsplit(url).query else "?") + urlencode(extra)
    signature = RequestValidator(auth_token).compute_signature(signed_url, dict(form or {}))
    return SignedRequest(url=signed_url, signature=signature)
