"""The circuit breaker per publisher endpoint: fail fast while an endpoint is failing, then
probe; one publisher's failures never open another's circuit, even on the same host."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from pytest_httpserver import HTTPServer
from werkzeug import Response

from accounts.services import create_account
from addons.models import Invocation
from tests.fixtures.invoking import endpoint_manifest

ROOT = Path(__file__).resolve().parents[2]


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
        return (
            Response('{"ok": true}', content_type="application/json") if state["up"] else Response("down", status=500)
        )

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


def test_another_host_has_its_own_circuit(api, breaker, flaky, installed_at, answering_elsewhere):
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


def test_another_endpoint_of_the_same_host_has_its_own_circuit(api, breaker, flaky, installed_at, httpserver):
    url, _ = flaky
    httpserver.expect_request("/ok").respond_with_json({"ok": True})
    installed_at(url, unique_name="flaky", retries=0)
    installed_at(httpserver.url_for("/ok"), unique_name="healthy")
    for _ in range(3):
        code_of(api)
    assert code_of(api) == 61015
    assert code_of(api, "healthy") is None


def test_a_publisher_failing_on_anothers_host_never_opens_the_victims_circuit(
    api, other_api, other_customer, breaker, installed_at, make_listing, httpserver
):
    """The attack: publisher B lists an endpoint on publisher A's host that answers 404 and
    calls it, as its own customer, past the breaker's threshold."""
    served = []
    httpserver.expect_request("/victim").respond_with_handler(
        lambda request: served.append(1) or Response('{"name": "Alice"}', content_type="application/json")
    )
    httpserver.expect_request("/victim/missing").respond_with_data("not here", status=404)
    installed_at(httpserver.url_for("/victim"), unique_name="victim", retries=0)  # publisher A's, for `customer`

    attacker = create_account(friendly_name="Mallory Data", is_publisher=True)
    listing = make_listing(
        publisher_account=attacker,
        **endpoint_manifest(httpserver.url_for("/victim/missing"), "mallory", retries=0),
    )
    installed = other_api.post(
        "/v1/InstalledAddOns",
        {
            "AvailableAddOnSid": listing.sid,
            "AcceptTermsOfService": "true",
            "Configuration": '{"language": "en"}',
            "UniqueName": "mallory",
        },
    )
    assert installed.status_code == 201, installed
    codes = [code_of(other_api, "mallory") for _ in range(6)]
    assert codes[:3] == [61022, 61022, 61022] and codes[3:] == [61015, 61015, 61015]  # 4xx: only its own circuit

    # Publisher A's customers are still served, call after call, by A's endpoint on that host.
    assert [code_of(api, "victim") for _ in range(5)] == [None] * 5
    assert len(served) == 5
    assert not Invocation.objects.filter(installation__unique_name="victim", outcome="circuit_open").exists()


def test_migrate_alone_leaves_a_breaker_that_opens(tmp_path):
    """The release step (`migrate`, no createcachetable) on a fresh database: the breaker's
    cache table exists and failures open the circuit; /readyz says the cache is ok."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "REDIS_URL": "",
        "MARKETPLACE_VAR_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "testserver",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    script = (
        "from django.test import Client\n"
        "from invocation import circuit\n"
        "endpoint = circuit.Endpoint('AC' + '1' * 32, 'https://publisher.example/x')\n"
        "for _ in range(5):\n"
        "    circuit.Breaker([endpoint]).record(endpoint, failed=True)\n"
        "breaker = circuit.Breaker([endpoint])\n"
        "print(breaker.reachable, breaker.allows(endpoint))\n"
        "print(Client().get('/readyz').content.decode())\n"
    )
    shell = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = shell.stdout.splitlines()[-2:]
    assert lines[0] == "True False", shell.stdout + shell.stderr  # the cache answered; the circuit is open
    assert json.loads(lines[1])["cache"] == "ok"


def test_readyz_says_when_the_breakers_store_is_unreachable(client, db, settings):
    from tests.private_services import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["cache"] == "unreachable: ConnectionError" and ready.json()["database"] == "ok"
