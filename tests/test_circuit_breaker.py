"""The circuit breaker per publisher host: fail fast while a host is failing, then probe."""

import time

import pytest
from django.core.cache import cache
from pytest_httpserver import HTTPServer
from werkzeug import Response

from addons.models import Invocation


@pytest.fixture
def breaker(settings):
    settings.CIRCUIT_FAILURES = 3
    settings.CIRCUIT_COOLDOWN_S = 0.5
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def flaky(httpserver):
    """A publisher that fails while `state["up"]` is false; counts the calls it gets."""
    state = {"up": False, "calls": 0}

    def handler(request):
        state["calls"] += 1
        return Response('{"ok": true}', content_type="application/json") if state["up"] else Response("down", status=500)

    httpserver.expect_request("/flaky").respond_with_handler(handler)
    return httpserver.url_for("/flaky"), state


def code_of(api, name="flaky"):
    return api.get("/v1/PhoneNumbers/+14155552671", {"AddOns": name}).json()["add_ons"]["results"][name]["code"]


def test_failures_open_the_circuit_then_a_probe_closes_it(api, breaker, flaky, installed_at):
    url, state = flaky
    installed_at(url, unique_name="flaky", retries=0)
    assert [code_of(api) for _ in range(3)] == [61023, 61023, 61023]
    assert state["calls"] == 3
    # Open: fail fast, the publisher is left alone, nothing billed, no SLA mark.
    assert code_of(api) == 61015
    assert state["calls"] == 3
    refused = Invocation.objects.filter(outcome="circuit_open").get()
    assert refused.attempts == 0 and not refused.billable and not refused.sla_breach
    # After the cooldown one probe goes through; the host is back, so the circuit closes.
    time.sleep(0.6)
    state["up"] = True
    assert code_of(api) is None
    assert [code_of(api) for _ in range(2)] == [None, None]
    assert state["calls"] == 6


def test_a_failed_probe_opens_it_again(api, breaker, flaky, installed_at):
    url, state = flaky
    installed_at(url, unique_name="flaky", retries=0)
    for _ in range(3):
        code_of(api)
    time.sleep(0.6)
    assert code_of(api) == 61023  # the probe, still failing
    assert code_of(api) == 61015  # open again
    assert state["calls"] == 4


def test_the_circuit_is_per_host(api, breaker, flaky, installed_at, answering_elsewhere):
    url, _ = flaky
    installed_at(url, unique_name="flaky", retries=0)
    for _ in range(3):
        code_of(api)
    installed_at(answering_elsewhere, unique_name="healthy")
    assert code_of(api, "healthy") is None
    assert code_of(api) == 61015


@pytest.fixture
def answering_elsewhere():
    """A healthy publisher on another port (another host:port for the breaker)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/ok").respond_with_json({"ok": True})
    server.start()
    yield server.url_for("/ok")
    server.clear()
    server.stop()
