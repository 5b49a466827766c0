"""A cache (Redis) that cannot be reached: the API and publisher calls go on without rate
limits and circuits rather than failing. (tests/test_service_restarts.py restarts real
PostgreSQL and Redis servers under a running deployment.)"""

import pytest
from django.db import InterfaceError, OperationalError

from invocation import circuit
from marketplace import outages
from tests.private_services import free_port


@pytest.fixture
def unreachable_cache(settings):
    """Django's Redis cache pointed at a loopback port where nothing listens."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_rate_limits_fail_open_while_the_cache_is_unreachable(api, settings, unreachable_cache, caplog):
    settings.API_RATE_LIMIT = "1/m"
    assert [api.get("/v1/InstalledAddOns").status_code for _ in range(3)] == [200, 200, 200]
    assert "rate limit throttle-account: backing service unreachable (ConnectionError)" in caplog.text


def test_publishers_are_called_while_the_cache_is_unreachable(
    api, settings, unreachable_cache, httpserver, installed_at
):
    settings.CIRCUIT_FAILURES = 1
    httpserver.expect_request("/down").respond_with_data("down", status=500)
    installed_at(httpserver.url_for("/down"), unique_name="down", retries=0)
    codes = [
        api.get("/v1/PhoneNumbers/+14155552671", {"AddOns": "down"}).json()["add_ons"]["results"]["down"]["code"]
        for _ in range(3)
    ]
    # No shared state, so no open circuit: every lookup calls the publisher, none fails fast.
    assert codes == [61023, 61023, 61023] and len(httpserver.log) == 3


def test_a_breaker_without_its_cache_asks_it_once_and_allows(unreachable_cache, caplog):
    endpoint = circuit.Endpoint("AC" + "1" * 32, "http://publisher.example/x")
    breaker = circuit.Breaker([endpoint])
    assert breaker.allows(endpoint)
    breaker.record(endpoint, failed=True)
    assert breaker.allows(endpoint)
    assert caplog.text.count("circuit breaker: backing service unreachable") == 1


# --- recording something already done while the database restarts --------------------------


class Flaky:
    """Work that fails with `error` the first `failures` times, then answers "recorded"."""

    def __init__(self, failures, error):
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "recorded"


@pytest.fixture
def quick_pause(monkeypatch):
    monkeypatch.setattr(outages, "DATABASE_RETRY_PAUSE_S", 0.01)


def test_work_is_tried_again_while_the_database_is_unreachable(settings, quick_pause, caplog):
    settings.DATABASE_OUTAGE_RETRY_S = 30
    work = Flaky(2, OperationalError("connection refused to 10.0.0.5"))
    assert outages.retry_while_database_unreachable(work, what="recording the call") == "recorded"
    assert work.calls == 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "marketplace.outages"]
    assert warnings == ["recording the call: backing service unreachable (OperationalError)"] * 2
    assert "10.0.0.5" not in caplog.text  # the error's class only, never its connection details


def test_past_the_outage_limit_the_last_error_is_raised(settings, quick_pause):
    settings.DATABASE_OUTAGE_RETRY_S = 0.1
    error = InterfaceError("connection already closed")
    work = Flaky(10_000, error)
    with pytest.raises(InterfaceError) as raised:
        outages.retry_while_database_unreachable(work, what="recording the call")
    assert raised.value is error and 2 <= work.calls < 10_000


def test_other_errors_are_not_retried(settings, quick_pause):
    settings.DATABASE_OUTAGE_RETRY_S = 30
    work = Flaky(1, ValueError("a bug, not an outage"))
    with pytest.raises(ValueError):
        outages.retry_while_database_unreachable(work, what="recording the call")
    assert work.calls == 1
