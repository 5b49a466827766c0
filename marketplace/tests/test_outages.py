"""A cache (Redis) that cannot be reached: the API and publisher calls go on without rate
limits and circuits rather than failing. (tests/test_service_restarts.py restarts real
PostgreSQL and Redis servers under a running deployment.)"""

import pytest

from addons.invocation import circuit
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


def test_publishers_are_called_while_the_cache_is_unreachable(api, settings, unreachable_cache, httpserver, installed_at):
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
