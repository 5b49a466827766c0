"""The bundled example publishers: their computations, the signed-request contract, the manifests.

Runs without Django: `python -m pytest publishers/tests/test_publishers.py -p no:django`.
"""

import hashlib
import json
import logging
import re
import signal
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

from publishers import anagram, reputation, sentiment
from publishers.cli import TokenUnavailable, parse_args, resolve_auth_token, wait_for_token_file
from publishers.inputs import PublisherError
from publishers.server import (
    ROUTES,
    IncomingRequest,
    PublisherApp,
    ResponseCache,
    Route,
    StoredResponse,
    json_response,
    make_server,
)
from publishers.signature import (
    CLOCK_SKEW,
    RequestRejected,
    ValidityWindow,
    check_freshness,
    format_twilio_date,
    sign_request,
    verify_request,
)

TOKEN = "publisher-auth-token-for-tests"
OTHER_TOKEN = "someone-elses-token"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
MANIFESTS_DIR = PROJECT_ROOT / "publishers" / "manifests"
FORM = "application/x-www-form-urlencoded"


# --- helpers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    """The real server, on a free port, in a background thread."""
    srv = make_server("127.0.0.1", 0, auth_token=TOKEN)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def new_sid() -> str:
    return "XR" + uuid.uuid4().hex


def sign(server, path, *, query=None, form=None, body=None, issued_at=None, ttl_ms=5000, token=TOKEN):
    url = server.url + path + ("?" + urlencode(query) if query else "")
    return sign_request(token, url, issued_at=issued_at or datetime.now(UTC), ttl_ms=ttl_ms, form=form, body=body)


def send(method, url, *, signature=None, form=None, body=None, sid=None, extra_headers=None):
    headers = {
        "X-Twilio-RequestSid": sid or new_sid(),
        "X-Twilio-VendorAccountSid": "AC" + "0" * 32,
        "X-Twilio-AddOnSid": "XB" + "1" * 32,
        "X-Twilio-AddOnVersionSid": "XC" + "2" * 32,
        "X-Twilio-AddOnInstallSid": "XD" + "3" * 32,
        "X-Twilio-AddOnConfigurationSid": "XE" + "4" * 32,
        **(extra_headers or {}),
    }
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    data = None
    if form is not None:
        headers["Content-Type"] = FORM
        data = urlencode(form)
    elif body is not None:
        headers["Content-Type"] = "application/json"
        data = body.encode("utf-8")
    return requests.request(method, url, data=data, headers=headers, timeout=10)


def call(server, method, path, *, query=None, form=None, json_body=None, sid=None, **sign_options):
    """A request signed exactly as the platform signs it."""
    body = json.dumps(json_body) if json_body is not None else None
    signed = sign(server, path, query=query, form=form, body=body, **sign_options)
    return send(method, signed.url, signature=signed.signature, form=form, body=body, sid=sid)


def assert_error(response, code):
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


def assert_rejected(response, code):
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


def spelled_letters(spelling: str) -> int:
    return len(re.search(r"[A-Za-z]*$", spelling).group())


# --- anagram -----------------------------------------------------------------------------


def test_keypad_digits_of_twilio():
    assert anagram.keypad_digits("twilio") == "894546"
    assert anagram.keypad_digits("CALL") == "2255"


def test_anagram_spells_the_guide_example_first():
    spellings = anagram.spell_number("+18778894546")
    assert spellings[0] == "+18778TWILIO"


def test_anagram_tries_longest_endings_first_and_combines_two_words():
    spellings = anagram.spell_number("+12122255669")
    assert "+1212CALLNOW" in spellings  # CALL (2255) + NOW (669)
    assert "+12122255NOW" in spellings
    lengths = [spelled_letters(s) for s in spellings]
    assert lengths == sorted(lengths, reverse=True)
    assert lengths[0] == 8  # BACK + KNOW spell 22255669
    # Every spelling dials the original number.
    for spelling in spellings:
        letters = re.search(r"[A-Z]+$", spelling).group()
        assert spelling[: -len(letters)] + anagram.keypad_digits(letters) == "+12122255669"


def test_anagram_lists_every_word_for_the_same_digits():
    spellings = anagram.spell_number("+12125552255", anagram.AnagramOptions(allow_two_words=False))
    assert spellings == ["+1212555BALL", "+1212555CALL", "+12125552ALL"]


def test_anagram_options_change_the_result():
    assert "+1212CALLNOW" not in anagram.spell_number("+12122255669", anagram.AnagramOptions(allow_two_words=False))
    assert anagram.spell_number("+18778894546", anagram.AnagramOptions(min_word_length=7)) == []
    assert "+18778TWILIO" not in anagram.spell_number(
        "+18778894546", anagram.AnagramOptions(excluded_words=frozenset({"twilio"}))
    )
    assert anagram.spell_number("+18778894546", anagram.AnagramOptions(letter_case="lower"))[0] == "+18778twilio"


def test_anagram_caps_the_number_of_results():
    assert len(anagram.spell_number("+12122255669", anagram.AnagramOptions(max_results=3))) == 3
    assert len(anagram.spell_number("+12122255669")) <= anagram.MAX_RESULTS


def test_anagram_request_parameters():
    result = anagram.handle_request({"e164": "+18778894546", "case": "lower", "min_length": "", "two_words": "false"})
    assert result == {"anagrams": ["+18778twilio"], "e164": "+18778894546"}
    # An unencoded "+" arrives as a space.
    assert anagram.handle_request({"e164": " 18778894546"})["e164"] == "+18778894546"


@pytest.mark.parametrize("e164", [None, "", "18778894546", "+1877", "hello", "+0123456789"])
def test_anagram_rejects_invalid_numbers(e164):
    with pytest.raises(PublisherError) as raised:
        anagram.handle_request({"e164": e164} if e164 is not None else {})
    assert raised.value.code == "invalid_number"


def test_anagram_over_http(server):
    response = call(server, "POST", "/anagram", form={"e164": "+18778894546"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["e164"] == "+18778894546"
    assert body["anagrams"][0] == "+18778TWILIO"


@pytest.mark.parametrize("form", [{}, {"e164": ""}, {"e164": "not-a-number"}, {"e164": "+1877"}])
def test_anagram_invalid_number_is_a_json_error(server, form):
    assert_error(call(server, "POST", "/anagram", form=form), "invalid_number")


def test_anagram_invalid_option_is_a_json_error(server):
    response = call(server, "POST", "/anagram", form={"e164": "+18778894546", "min_length": "many"})
    assert_error(response, "invalid_parameter")


# --- sentiment ---------------------------------------------------------------------------


def test_sentiment_not_good_is_negative():
    result = sentiment.analyse("This is not good")
    assert result.sentiment == "negative"
    assert result.score == pytest.approx(-0.4588)
    assert result.negative == ["not good"]
    assert result.positive == []


def test_sentiment_positive_and_neutral():
    loved = sentiment.analyse("I love it, great service!")
    assert (loved.sentiment, loved.score) == ("positive", pytest.approx(0.8402))
    assert loved.positive == ["love", "great"]
    plain = sentiment.analyse("The meeting is at noon")
    assert (plain.sentiment, plain.score, plain.positive, plain.negative) == ("neutral", 0.0, [], [])


def test_sentiment_negation_flips_and_ends_with_the_clause():
    assert sentiment.analyse("not bad at all").positive == ["not bad"]
    assert sentiment.analyse("no problem").sentiment == "positive"
    mixed = sentiment.analyse("Not ok, but this is good")
    assert mixed.negative == ["not ok"]
    assert mixed.positive == ["good"]  # the comma ended the negation's reach
    assert sentiment.analyse("I don\u2019t like it").negative == ["don't like"]


def test_sentiment_options_change_the_result():
    without = sentiment.analyse("not good", sentiment.SentimentOptions(handle_negation=False))
    assert (without.sentiment, without.positive) == ("positive", ["good"])
    assert sentiment.analyse("I want a refund").sentiment == "neutral"
    support = sentiment.analyse("I want a refund", sentiment.SentimentOptions(lexicon="customer_support"))
    assert (support.sentiment, support.negative) == ("negative", ["refund"])
    meh = sentiment.analyse("meh", sentiment.SentimentOptions(extra_negative_words=frozenset({"meh"})))
    assert meh.sentiment == "negative"
    assert sentiment.analyse("nice", sentiment.SentimentOptions(neutral_band=0.5)).sentiment == "neutral"


def test_sentiment_score_stays_within_bounds():
    assert 0.99 < sentiment.analyse("great " * 200).score <= 1.0
    assert -1.0 <= sentiment.analyse("terrible " * 200).score < -0.99


def test_sentiment_over_http(server):
    response = call(
        server,
        "POST",
        "/sentiment",
        json_body={
            "body": "The delivery was not good",
            "from": "+14155550100",
            "to": "+18778894546",
            "negation": "true",
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "sentiment": "negative",
        "score": pytest.approx(-0.4588),
        "matched": {"positive": [], "negative": ["not good"]},
    }


@pytest.mark.parametrize(
    "body, code",
    [
        ("this is not json", "invalid_json"),
        ("[1, 2]", "invalid_request"),
        ('{"from": "+14155550100"}', "missing_body"),
        ('{"body": "   "}', "missing_body"),
        ('{"body": 42}', "invalid_request"),
        ('{"body": "fine", "lexicon": "klingon"}', "invalid_parameter"),
    ],
)
def test_sentiment_bad_input_is_a_json_error(server, body, code):
    signed = sign(server, "/sentiment", body=body)
    assert_error(send("POST", signed.url, signature=signed.signature, body=body), code)


# --- reputation --------------------------------------------------------------------------


def test_reputation_toll_free_number():
    result = reputation.assess("+18778894546")
    assert (result.line_type, result.score, result.spam) == ("toll_free", 15, False)
    assert [f.reason for f in result.findings] == ["toll_free"]


def test_reputation_features():
    premium = reputation.assess("+19005551234")
    assert [f.reason for f in premium.findings] == ["premium_rate", "sequential_digits"]
    assert premium.score == 45
    invalid = reputation.assess("+15555555555")
    assert [f.reason for f in invalid.findings] == ["invalid_for_region", "repeated_digits"]
    assert (invalid.valid, invalid.score, invalid.spam, invalid.line_type) == (False, 65, True, "unknown")
    assert "fictional_number" in [f.reason for f in reputation.assess("+12025550123").findings]
    german = reputation.assess("+4930123456")
    assert german.country == "DE"
    assert "foreign_country" in [f.reason for f in german.findings]
    at_home = reputation.assess("+4930123456", reputation.ReputationOptions(home_region="DE"))
    assert "foreign_country" not in [f.reason for f in at_home.findings]
    non_geographic = reputation.assess("+80012345678")
    assert non_geographic.country is None
    assert "non_geographic" in [f.reason for f in non_geographic.findings]


def test_reputation_digit_runs():
    assert reputation.longest_repeated_run("2125555123") == 4
    assert reputation.longest_sequential_run("9876012") == 4
    assert reputation.longest_sequential_run("2468") == 1


def test_reputation_is_deterministic():
    assert reputation.assess("+19005551234") == reputation.assess("+19005551234")


def test_reputation_threshold_runtime_field_and_configuration():
    base = {"phone": "+18778894546"}
    assert reputation.handle_request({**base, "threshold": "", "default_threshold": ""})["threshold"] == 50
    assert reputation.handle_request({**base, "threshold": "", "default_threshold": "10"})["spam"] is True
    overridden = reputation.handle_request({**base, "threshold": "90", "default_threshold": "10"})
    assert (overridden["threshold"], overridden["spam"]) == (90, False)
    for bad in ("abc", "101", "-1", "true"):
        with pytest.raises(PublisherError) as raised:
            reputation.handle_request({**base, "threshold": bad})
        assert raised.value.code == "invalid_parameter"


def test_reputation_explanation_and_strictness():
    explained = reputation.handle_request({"phone": "+19005551234", "explain": "true"})
    assert sum(item["points"] for item in explained["explanation"]) == explained["score"] == 45
    assert "explanation" not in reputation.handle_request({"phone": "+19005551234", "explain": "false"})
    assert reputation.handle_request({"phone": "+19005551234", "strictness": "strict"})["score"] == 56  # 45 * 1.25
    assert reputation.handle_request({"phone": "+19005551234", "strictness": "lenient"})["score"] == 34


def test_reputation_over_http(server):
    response = call(server, "GET", "/reputation", query={"phone": "+18778894546", "threshold": ""})
    assert response.status_code == 200
    assert response.json() == {
        "phone_number": "+18778894546",
        "score": 15,
        "spam": False,
        "reasons": ["toll_free"],
        "line_type": "toll_free",
        "country": "US",
        "valid": True,
        "threshold": 50,
    }


@pytest.mark.parametrize("query", [{}, {"phone": ""}, {"phone": "12345"}, {"phone": "+1 877 889"}])
def test_reputation_invalid_number_is_a_json_error(server, query):
    assert_error(call(server, "GET", "/reputation", query=query), "invalid_number")


# --- the signature contract --------------------------------------------------------------


def test_hand_made_twilio_signatures_are_accepted(server):
    """Signed with RequestValidator.compute_signature directly, independent of sign_request."""
    validator = RequestValidator(TOKEN)
    date = format_twilio_date(datetime.now(UTC))
    form = {"e164": "+18778894546", "case": "lower"}
    form_url = f"{server.url}/anagram?twilio_date={date.replace(':', '%3A')}&twilio_ttl=5000"
    response = send("POST", form_url, signature=validator.compute_signature(form_url, form), form=form)
    assert response.json()["anagrams"][0] == "+18778twilio"

    body = json.dumps({"body": "great"})
    json_url = f"{server.url}/sentiment?" + urlencode(
        {"twilio_date": date, "twilio_ttl": "5000", "bodySHA256": hashlib.sha256(body.encode()).hexdigest()}
    )
    signature = validator.compute_signature(json_url, {})
    assert validator.validate(json_url, body, signature)
    response = send("POST", json_url, signature=signature, body=body)
    assert response.json()["sentiment"] == "positive"
    # sign_request, used by the other tests, builds the very same URL.
    helper = sign_request(
        TOKEN, f"{server.url}/sentiment", issued_at=datetime.fromisoformat(date), ttl_ms=5000, body=body
    )
    assert (helper.url, helper.signature) == (json_url, signature)


def test_unsigned_request_is_rejected(server):
    signed = sign(server, "/anagram", form={"e164": "+18778894546"})
    assert_rejected(send("POST", signed.url, form={"e164": "+18778894546"}), "missing_signature")


@pytest.mark.parametrize("path, method", [("/anagram", "POST"), ("/sentiment", "POST"), ("/reputation", "GET")])
def test_wrong_signature_is_rejected(server, path, method):
    form = {"e164": "+18778894546"} if path == "/anagram" else None
    body = '{"body": "good"}' if path == "/sentiment" else None
    query = {"phone": "+18778894546"} if path == "/reputation" else None
    signed = sign(server, path, query=query, form=form, body=body, token=OTHER_TOKEN)
    assert_rejected(send(method, signed.url, signature=signed.signature, form=form, body=body), "invalid_signature")


def test_tampered_form_param_is_rejected(server):
    signed = sign(server, "/anagram", form={"e164": "+18778894546"})
    response = send("POST", signed.url, signature=signed.signature, form={"e164": "+12122255669"})
    assert_rejected(response, "invalid_signature")
    # A second value smuggled in next to the signed one breaks the signature too.
    smuggled = send("POST", signed.url, signature=signed.signature, form=[("e164", "+18778894546"), ("e164", "+1212")])
    assert_rejected(smuggled, "invalid_signature")


def test_tampered_query_param_is_rejected(server):
    signed = sign(server, "/reputation", query={"phone": "+18778894546"})
    tampered = signed.url.replace("%2B18778894546", "%2B19005551234")
    assert tampered != signed.url
    assert_rejected(send("GET", tampered, signature=signed.signature), "invalid_signature")
    longer_ttl = re.sub(r"twilio_ttl=\d+", "twilio_ttl=99999999", signed.url)
    assert_rejected(send("GET", longer_ttl, signature=signed.signature), "invalid_signature")


def test_json_body_tampered_after_signing_is_rejected(server):
    signed = sign(server, "/sentiment", body='{"body": "this is not good"}')
    response = send("POST", signed.url, signature=signed.signature, body='{"body": "this is good"}')
    assert_rejected(response, "invalid_signature")


def test_json_body_without_hash_in_the_url_is_rejected(server):
    signed = sign(server, "/sentiment")  # URL signed without bodySHA256
    assert_rejected(send("POST", signed.url, signature=signed.signature, body='{"body": "good"}'), "missing_body_hash")


def test_expired_request_is_rejected_whatever_the_headers_say(server):
    issued = datetime.now(UTC) - timedelta(minutes=10)
    signed = sign(server, "/reputation", query={"phone": "+18778894546"}, issued_at=issued, ttl_ms=5000)
    # The headers are not signed, so a fresh X-Twilio-Date header changes nothing.
    fresh = {"X-Twilio-Date": format_twilio_date(datetime.now(UTC)), "X-Twilio-TTL": "600000"}
    assert_rejected(send("GET", signed.url, signature=signed.signature, extra_headers=fresh), "request_expired")


def test_request_from_the_future_is_rejected(server):
    signed = sign(
        server, "/reputation", query={"phone": "+18778894546"}, issued_at=datetime.now(UTC) + timedelta(minutes=10)
    )
    assert_rejected(send("GET", signed.url, signature=signed.signature), "request_from_future")


def test_signed_url_without_date_is_rejected(server):
    url = f"{server.url}/reputation?phone=%2B18778894546"
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    assert_rejected(send("GET", url, signature=signature), "missing_timestamp")


def test_freshness_window_allows_the_clock_skew():
    issued = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
    window = ValidityWindow(issued_at=issued, ttl=timedelta(milliseconds=5000))
    check_freshness(window, now=issued + timedelta(seconds=5) + CLOCK_SKEW)
    check_freshness(window, now=issued - CLOCK_SKEW)
    with pytest.raises(RequestRejected) as expired:
        check_freshness(window, now=issued + timedelta(seconds=5) + CLOCK_SKEW + timedelta(seconds=1))
    assert expired.value.code == "request_expired"
    with pytest.raises(RequestRejected) as future:
        check_freshness(window, now=issued - CLOCK_SKEW - timedelta(seconds=1))
    assert future.value.code == "request_from_future"


@pytest.mark.parametrize(
    "date, ttl", [("yesterday", "5000"), ("2026-11-22T10:00:00Z", "-5"), ("2026-11-22T10:00:00Z", "5s")]
)
def test_malformed_date_or_ttl_is_rejected(date, ttl):
    url = "http://127.0.0.1:8101/reputation?" + urlencode(
        {"phone": "+18778894546", "twilio_date": date, "twilio_ttl": ttl}
    )
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    with pytest.raises(RequestRejected) as raised:
        verify_request(auth_token=TOKEN, url=url, signature=signature, now=datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    assert raised.value.code == "invalid_timestamp"


def test_public_url_replaces_scheme_and_host():
    app = PublisherApp(auth_token=TOKEN, public_url="https://publishers.example.com/")
    issued = datetime.now(UTC)
    behind_proxy = sign_request(
        TOKEN, "https://publishers.example.com/reputation?phone=%2B18778894546", issued_at=issued, ttl_ms=5000
    )
    target = behind_proxy.url.removeprefix("https://publishers.example.com")
    request = IncomingRequest(
        method="GET", target=target, headers={"X-Twilio-Signature": behind_proxy.signature}, host="127.0.0.1:8101"
    )
    assert app.handle(request).status == 200
    loopback = sign_request(
        TOKEN, "http://127.0.0.1:8101/reputation?phone=%2B18778894546", issued_at=issued, ttl_ms=5000
    )
    request = IncomingRequest(
        method="GET", target=target, headers={"X-Twilio-Signature": loopback.signature}, host="127.0.0.1:8101"
    )
    assert app.handle(request).status == 401


# --- idempotency -------------------------------------------------------------------------


def test_replayed_request_sid_returns_the_identical_response(server):
    sid = new_sid()
    first = call(server, "POST", "/anagram", form={"e164": "+12122255669"}, sid=sid)
    again = call(server, "POST", "/anagram", form={"e164": "+12122255669"}, sid=sid)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    # A retry signed afresh (later date) is still the same invocation.
    resigned_at = datetime.now(UTC) + timedelta(seconds=3)
    later = call(server, "POST", "/anagram", form={"e164": "+12122255669"}, sid=sid, issued_at=resigned_at)
    assert later.content == first.content


def test_replay_still_needs_a_valid_signature(server):
    sid = new_sid()
    assert call(server, "GET", "/reputation", query={"phone": "+18778894546"}, sid=sid).status_code == 200
    signed = sign(server, "/reputation", query={"phone": "+18778894546"}, token=OTHER_TOKEN)
    assert_rejected(send("GET", signed.url, signature=signed.signature, sid=sid), "invalid_signature")
    expired = sign(
        server, "/reputation", query={"phone": "+18778894546"}, issued_at=datetime.now(UTC) - timedelta(hours=1)
    )
    assert_rejected(send("GET", expired.url, signature=expired.signature, sid=sid), "request_expired")


def test_replay_does_not_recompute():
    computed = []

    def counting_anagram(params):
        computed.append(params["e164"])
        return anagram.handle_request(params)

    app = PublisherApp(auth_token=TOKEN, routes={"/anagram": Route("POST", counting_anagram)})

    def request(e164, sid):
        form = {"e164": e164}
        signed = sign_request(
            TOKEN, "http://127.0.0.1:8101/anagram", issued_at=datetime.now(UTC), ttl_ms=5000, form=form
        )
        headers = {"X-Twilio-Signature": signed.signature, "X-Twilio-RequestSid": sid, "Content-Type": FORM}
        target = signed.url.removeprefix("http://127.0.0.1:8101")
        return app.handle(IncomingRequest("POST", target, headers, urlencode(form).encode(), host="127.0.0.1:8101"))

    first = request("+18778894546", "XR1")
    assert request("+18778894546", "XR1") == first
    assert computed == ["+18778894546"]
    # Same request sid, another number: the stored answer stands (the sid is the idempotency key).
    assert request("+12122255669", "XR1") == first
    assert computed == ["+18778894546"]
    assert request("+18778894546", "XR2").body == first.body
    assert computed == ["+18778894546", "+18778894546"]


def test_response_cache_is_a_bounded_lru():
    cache = ResponseCache(capacity=2)
    stored = {sid: StoredResponse(json_response(200, {"sid": sid}), sid) for sid in ("a", "b", "c")}
    cache.put("a", stored["a"])
    cache.put("b", stored["b"])
    assert cache.get("a") == stored["a"]  # "a" is now the most recently used
    cache.put("c", stored["c"])
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (stored["a"], None, stored["c"])
    assert len(cache) == 2


# --- other HTTP behaviour ----------------------------------------------------------------


def test_healthz_needs_no_signature(server):
    response = requests.get(f"{server.url}/healthz", timeout=10)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_unknown_path_and_wrong_method(server):
    assert requests.get(f"{server.url}/nope", timeout=10).status_code == 404
    wrong = requests.get(f"{server.url}/anagram", timeout=10)
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")


def test_logs_carry_the_context_but_never_the_secrets(server, caplog):
    caplog.set_level(logging.INFO, logger="publishers")
    sid = new_sid()
    form = {"e164": "+18778894546"}
    signed = sign(server, "/anagram", form=form)
    send("POST", signed.url, signature=signed.signature, form=form, sid=sid)
    send("POST", signed.url, signature=signed.signature, form=form, sid=sid)
    text = caplog.text
    assert sid in text and "XB" + "1" * 32 in text
    assert f"replayed request sid {sid}" in text
    assert TOKEN not in text and signed.signature not in text


# --- manifests ---------------------------------------------------------------------------

MANIFEST_KEYS = {
    "unique_name",
    "friendly_name",
    "description",
    "type",
    "extensions",
    "pricing",
    "billable_items",
    "configuration_schema",
    "request_validation_schema",
    "response_validation_schema",
    "endpoint",
    "runtime_fields",
}
ENDPOINT_KEYS = {"url", "method", "format", "params", "auth", "headers", "timeout_ms", "retries", "ttl_ms"}
PLATFORM_FIELDS = {
    "request_sid",
    "unix_timestamp",
    "primary_address",
    "secondary_address",
    "body",
    "audio_data",
    "callback_url",
    "channels",
    "duration",
    "format",
    "media_sid",
    "size",
}
MANIFEST_NAMES = ["anagram", "sentiment", "reputation"]
TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


def load_manifest(name):
    return json.loads((MANIFESTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", MANIFEST_NAMES)
def test_manifest_shape(name):
    manifest = load_manifest(name)
    assert set(manifest) == MANIFEST_KEYS
    assert set(manifest["endpoint"]) == ENDPOINT_KEYS
    assert manifest["unique_name"] == f"demo_{name}"
    assert manifest["type"] in {"phone_number", "message_analysis", "recording_analysis"}
    endpoint = manifest["endpoint"]
    route = ROUTES[urlsplit(endpoint["url"]).path]
    assert endpoint["method"] == route.method
    assert endpoint["format"] == ("json" if route.reads_json else "query" if route.method == "GET" else "form")
    assert endpoint["auth"] == {"type": "none"}
    assert all(isinstance(value, str) for value in endpoint["params"].values())

    schema = manifest["configuration_schema"]
    assert schema["type"] == "object"
    assert set(schema["required"]) <= set(schema["properties"])
    properties = schema["properties"].values()
    for spec in properties:
        assert spec["type"] in {"string", "number", "integer", "boolean"}
        assert spec["name"] and spec["_help"]
    assert any(s["type"] == "string" and "pattern" in s for s in properties)
    assert any(s["type"] == "boolean" for s in properties)
    assert any("enum" in s for s in properties)
    assert any(s["type"] in {"number", "integer"} for s in properties)
    for spec in properties:
        if "pattern" in spec and "default" in spec:
            assert re.search(spec["pattern"], spec["default"])


@pytest.mark.parametrize("name", MANIFEST_NAMES)
def test_manifest_templates_name_known_fields_and_use_every_setting(name):
    manifest = load_manifest(name)
    configuration = set(manifest["configuration_schema"]["properties"])
    runtime = set(manifest["runtime_fields"])
    assert all(isinstance(field, str) for field in manifest["runtime_fields"])
    used = set()
    for value in manifest["endpoint"]["params"].values():
        for field in TEMPLATE.findall(value):
            field = field.removeprefix("SHA256:")
            assert field in PLATFORM_FIELDS | configuration | runtime, f"{name}: unknown template field {field}"
            used.add(field)
    # The service only sees what the params pass on, so an unused setting would do nothing.
    assert configuration | runtime <= used


def test_manifest_specifics():
    anagram_manifest, sentiment_manifest, reputation_manifest = map(load_manifest, MANIFEST_NAMES)
    assert anagram_manifest["pricing"] == {"model": "per_use", "price": "0.0001"}
    assert anagram_manifest["endpoint"]["params"]["e164"] == "{{primary_address}}"

    assert sentiment_manifest["type"] == "message_analysis"
    assert sentiment_manifest["extensions"] == ["incoming-sms"]
    assert sentiment_manifest["pricing"]["model"] == "per_success"
    assert sentiment_manifest["pricing"]["success"] == {"status_codes": [200], "absent": ["/error"]}
    body_rule = sentiment_manifest["request_validation_schema"]
    assert body_rule["required"] == ["body"] and body_rule["properties"]["body"]["minLength"] == 1

    assert reputation_manifest["type"] == "phone_number"
    assert reputation_manifest["extensions"] == ["lookups", "incoming-sms", "incoming-voice"]
    assert (reputation_manifest["endpoint"]["method"], reputation_manifest["endpoint"]["format"]) == ("GET", "query")
    assert reputation_manifest["pricing"]["model"] == "per_use"
    assert reputation_manifest["runtime_fields"] == ["threshold"]
    assert reputation_manifest["endpoint"]["params"]["threshold"] == "{{threshold}}"
    pattern = reputation_manifest["request_validation_schema"]["properties"]["primary_address"]["pattern"]
    assert pattern == r"^\+[1-9][0-9]{6,14}$"
    assert reputation_manifest["request_validation_schema"]["required"] == ["primary_address"]


def render(params, fields):
    """Fill the templates as the platform does: every {{field}} replaced by its value as text."""

    def text(value):
        return "true" if value is True else "false" if value is False else str(value)

    return {name: TEMPLATE.sub(lambda m: text(fields.get(m.group(1), "")), value) for name, value in params.items()}


@pytest.mark.parametrize(
    "name, fields, expect",
    [
        ("anagram", {"primary_address": "+18778894546"}, lambda r: r["anagrams"][0] == "+18778TWILIO"),
        (
            "sentiment",
            {"primary_address": "+14155550100", "body": "Not good at all"},
            lambda r: r["sentiment"] == "negative" and r["matched"]["negative"] == ["not good"],
        ),
        (
            "reputation",
            {"primary_address": "+18778894546", "threshold": ""},
            lambda r: r["reasons"] == ["toll_free"] and r["threshold"] == 50,
        ),
        ("reputation", {"primary_address": "+18778894546", "threshold": "10"}, lambda r: r["spam"] is True),
    ],
)
def test_manifest_endpoint_invokes_its_service(server, name, fields, expect):
    manifest = load_manifest(name)
    endpoint = manifest["endpoint"]
    defaults = {key: spec["default"] for key, spec in manifest["configuration_schema"]["properties"].items()}
    params = render(endpoint["params"], {**defaults, **fields})
    path = urlsplit(endpoint["url"]).path
    if endpoint["format"] == "query":
        response = call(server, endpoint["method"], path, query=params)
    elif endpoint["format"] == "form":
        response = call(server, endpoint["method"], path, form=params)
    else:
        response = call(server, endpoint["method"], path, json_body=params)
    assert response.status_code == 200
    result = response.json()
    assert "error" not in result
    assert expect(result)


# --- command line ------------------------------------------------------------------------


def test_token_file_is_read_and_stripped(tmp_path):
    path = tmp_path / "token"
    path.write_text("  abc123\n")
    assert wait_for_token_file(path) == "abc123"


def test_token_file_is_waited_for(tmp_path):
    path = tmp_path / "token"
    naps = []

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            path.write_text("late-token\n")

    assert wait_for_token_file(path, timeout=60, interval=0.25, sleep=sleep, monotonic=lambda: 0.0) == "late-token"
    assert naps == [0.25, 0.25]


def test_token_file_wait_gives_up(tmp_path):
    clock = iter([0.0, 30.0, 61.0])
    with pytest.raises(TokenUnavailable):
        wait_for_token_file(tmp_path / "never", timeout=60, sleep=lambda s: None, monotonic=lambda: next(clock))
    with pytest.raises(TokenUnavailable, match="stopped"):
        wait_for_token_file(tmp_path / "never", sleep=lambda s: True)


def test_auth_token_sources():
    assert resolve_auth_token(parse_args(["--auth-token", "cli"]), {"PUBLISHER_AUTH_TOKEN": "env"}) == "cli"
    assert resolve_auth_token(parse_args([]), {"PUBLISHER_AUTH_TOKEN": "env"}) == "env"
    from_file = resolve_auth_token(parse_args(["--auth-token-file", "x"]), {}, wait=lambda path: f"read {path}")
    assert from_file == "read x"
    with pytest.raises(TokenUnavailable):
        resolve_auth_token(parse_args([]), {})


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_command_line_waits_for_the_token_file_serves_and_stops(tmp_path, stop_signal):
    token_file = tmp_path / "publisher_auth_token"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "publishers",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--auth-token-file",
            str(token_file),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        token_file.write_text("token-from-the-loader\n")  # written after start-up, as the demo loader does
        line = process.stdout.readline()
        match = re.match(r"publishers listening on (http://127\.0\.0\.1:\d+) ", line)
        assert match, line
        url = match.group(1)
        assert requests.get(f"{url}/healthz", timeout=10).json() == {"status": "ok"}
        form = {"e164": "+18778894546"}
        signed = sign_request(
            "token-from-the-loader", f"{url}/anagram", issued_at=datetime.now(UTC), ttl_ms=5000, form=form
        )
        assert send("POST", signed.url, signature=signed.signature, form=form).json()["anagrams"][0] == "+18778TWILIO"
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
        assert "token-from-the-loader" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
