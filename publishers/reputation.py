"""Reputation: a spam-likelihood score (0..100) for a phone number from what the number itself shows.

Every finding adds points: an invalid number, a line type spammers favour (premium rate, VOIP,
toll-free...), a long run of one digit or of consecutive digits, a reserved fictional number,
or a country other than the customer's. The same number always gets the same score.
"""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType

from publishers.inputs import PublisherError, is_blank, parse_bool, parse_choice, parse_e164, parse_int

DEFAULT_THRESHOLD = 50
DEFAULT_HOME_REGION = "US"
STRICTNESS_FACTORS = {"lenient": 0.75, "standard": 1.0, "strict": 1.25}

LINE_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}

# Points per line type: the kinds of lines that robocalls and scams come from most often.
LINE_TYPE_POINTS = {
    "premium_rate": (35, "premium-rate numbers charge the caller back; a classic call-back scam"),
    "voip": (20, "VOIP numbers are cheap to obtain in bulk"),
    "personal_number": (10, "personal (follow-me) numbers hide the real line"),
    "pager": (10, "pager numbers rarely place genuine calls"),
    "shared_cost": (10, "shared-cost numbers are mostly used by call centres"),
    "toll_free": (15, "toll-free numbers are used by call centres and robocallers"),
    "uan": (5, "universal access numbers front call centres"),
    "unknown": (5, "the line type cannot be determined"),
}


@dataclass(frozen=True)
class ReputationOptions:
    threshold: int = DEFAULT_THRESHOLD
    home_region: str = DEFAULT_HOME_REGION
    strictness: str = "standard"
    explain: bool = False


@dataclass(frozen=True)
class Finding:
    reason: str
    points: int
    detail: str


@dataclass(frozen=True)
class Reputation:
    phone_number: str
    score: int
    spam: bool
    line_type: str
    country: str | None
    valid: bool
    threshold: int
    findings: tuple[Finding, ...]

    def as_payload(self, *, explain: bool) -> dict:
        payload = {
            "phone_number": self.phone_number,
            "score": self.score,
            "spam": self.spam,
            "reasons": [finding.reason for finding in self.findings],
            "line_type": self.line_type,
            "country": self.country,
            "valid": self.valid,
            "threshold": self.threshold,
        }
        if explain:
            payload["explanation"] = [
                {"reason": f.reason, "points": f.points, "detail": f.detail} for f in self.findings
            ]
        return payload


def longest_repeated_run(digits: str) -> int:
    """Length of the longest run of one digit ("5555" in 2125555123 is 4)."""
    longest = current = 0
    previous = None
    for digit in digits:
        current = current + 1 if digit == previous else 1
        previous = digit
        longest = max(longest, current)
    return longest


def longest_sequential_run(digits: str) -> int:
    """Length of the longest run of consecutive digits, up or down ("1234", "9876")."""
    longest = min(len(digits), 1)
    for step in (1, -1):
        current = 1
        for previous, digit in itertools.pairwise(digits):
            current = current + 1 if int(digit) - int(previous) == step else 1
            longest = max(longest, current)
    return longest


def is_fictional_nanp(number: phonenumbers.PhoneNumber) -> bool:
    """NANP numbers 555-0100 to 555-0199 are reserved for films and examples, never assigned."""
    national = phonenumbers.national_significant_number(number)
    return number.country_code == 1 and len(national) == 10 and national[3:6] == "555" and national[6:8] == "01"


def region_of(number: phonenumbers.PhoneNumber) -> str | None:
    """The number's country, or None for non-geographic codes (+800, +882...).

    An invalid number has no region of its own; its country code still names one (+1 -> US).
    """
    region = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code
    )
    return None if region in (None, "001", phonenumbers.UNKNOWN_REGION) else region


def findings_for(number: phonenumbers.PhoneNumber, *, home_region: str) -> list[Finding]:
    findings: list[Finding] = []
    valid = phonenumbers.is_valid_number(number)
    if not valid:
        findings.append(Finding("invalid_for_region", 40, "the number is not in any assigned range of its country"))
    line_type = LINE_TYPE_NAMES.get(phonenumbers.number_type(number), "unknown")
    # An invalid number's type is always "unknown"; the invalidity finding already covers it.
    if valid and line_type in LINE_TYPE_POINTS:
        points, detail = LINE_TYPE_POINTS[line_type]
        findings.append(Finding(line_type, points, detail))
    if is_fictional_nanp(number):
        findings.append(Finding("fictional_number", 30, "555-01XX numbers are reserved for fiction"))
    national = phonenumbers.national_significant_number(number)
    repeated = longest_repeated_run(national)
    if repeated >= 4:
        points = min(25, 10 + 5 * (repeated - 4))
        findings.append(Finding("repeated_digits", points, f"{repeated} identical digits in a row"))
    sequential = longest_sequential_run(national)
    if sequential >= 4:
        points = min(20, 10 + 5 * (sequential - 4))
        findings.append(Finding("sequential_digits", points, f"{sequential} consecutive digits in a row"))
    region = region_of(number)
    if region is None:
        findings.append(Finding("non_geographic", 15, "the number belongs to no country"))
    elif region != home_region:
        findings.append(Finding("foreign_country", 10, f"the number is from {region}, not {home_region}"))
    return findings


def assess(e164: str, options: ReputationOptions = ReputationOptions()) -> Reputation:
    number = parse_phone_number(e164)
    findings = tuple(findings_for(number, home_region=options.home_region))
    raw = sum(finding.points for finding in findings)
    score = min(100, round(raw * STRICTNESS_FACTORS[options.strictness]))
    region = region_of(number)
    return Reputation(
        phone_number=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        score=score,
        spam=score >= options.threshold,
        line_type=LINE_TYPE_NAMES.get(phonenumbers.number_type(number), "unknown"),
        country=region,
        valid=phonenumbers.is_valid_number(number),
        threshold=options.threshold,
        findings=findings,
    )


def parse_phone_number(e164: Any) -> phonenumbers.PhoneNumber:
    text = parse_e164(e164, name="phone")
    try:
        return phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as error:
        raise PublisherError("invalid_number", f"phone is not a phone number: {error}") from None


def options_from_params(params: Mapping[str, Any]) -> ReputationOptions:
    # The Lookups runtime field `threshold` wins; blank means "not given for this lookup",
    # so the installation's configured default applies.
    default_threshold = parse_int(
        params.get("default_threshold"), name="default_threshold", default=DEFAULT_THRESHOLD, minimum=0, maximum=100
    )
    threshold = parse_int(params.get("threshold"), name="threshold", default=default_threshold, minimum=0, maximum=100)
    home_region = params.get("home_region")
    home_region = DEFAULT_HOME_REGION if is_blank(home_region) else str(home_region).strip().upper()
    if home_region not in phonenumbers.SUPPORTED_REGIONS:
        raise PublisherError(
            "invalid_parameter", f"home_region must be a two-letter region code such as US, got {home_region!r}"
        )
    return ReputationOptions(
        threshold=threshold,
        home_region=home_region,
        strictness=parse_choice(
            params.get("strictness"), name="strictness", default="standard", choices=STRICTNESS_FACTORS
        ),
        explain=parse_bool(params.get("explain"), name="explain", default=False),
    )


def handle_request(params: Mapping[str, Any]) -> dict:
    """The service's answer to its query parameters (phone, threshold, default_threshold, ...)."""
    parse_phone_number(params.get("phone"))
    options = options_from_params(params)
    return assess(params["phone"], options).as_payload(explain=options.explain)
