"""Per-account rate limits on the API: 429 with Twilio's 20429 and Retry-After."""

import json
import os
import secrets
import subprocess
import sys
import threading

import pytest
import requests
from django.core.cache import cache

from tests.fixtures import cluster


@pytest.fixture
def limited(settings):
    settings.API_RATE_LIMIT = "3/h"  # windows are fixed: an hour is never straddled in practice, a minute can be
    cache.clear()
    yield
    cache.clear()


def test_over_the_limit_is_429_with_retry_after(api, limited):
    assert [api.get("/v1/InstalledAddOns").status_code for _ in range(3)] == [200, 200, 200]
    reply = api.get("/v1/InstalledAddOns")
    assert reply.status_code == 429
    assert reply.json()["code"] == 20429
    assert 0 < int(reply.headers["Retry-After"]) <= 3600


def test_each_account_has_its_own_budget(api, other_api, limited):
    for _ in range(3):
        api.get("/v1/InstalledAddOns")
    assert api.get("/v1/InstalledAddOns").status_code == 429
    assert other_api.get("/v1/InstalledAddOns").status_code == 200


def test_unauthenticated_requests_are_refused_not_counted(anonymous_api, api, limited):
    for _ in range(5):
        assert anonymous_api.get("/v1/InstalledAddOns").status_code == 401
    assert api.get("/v1/InstalledAddOns").status_code == 200


def test_publisher_endpoints_have_their_own_budget(api_for, publisher, listing, settings):
    settings.PUBLISHER_API_RATE_LIMIT = "2/h"
    cache.clear()
    client = api_for(publisher)
    assert [client.get("/v1/Listings").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/v1/Listings")
    assert refused.status_code == 429 and refused.json()["code"] == 20429
    assert client.get("/v1/AvailableAddOns").status_code == 200  # the account's own budget is not spent
    cache.clear()


def test_concurrent_requests_cannot_slip_past_the_limit(live_server, customer, settings):
    settings.API_RATE_LIMIT = "10/h"
    cache.clear()
    statuses = []
    barrier = threading.Barrier(8)

    def burst():
        barrier.wait()
        for _ in range(3):
            reply = requests.get(
                f"{live_server.url}/v1/InstalledAddOns", auth=(customer.sid, customer.auth_token), timeout=10
            )
            statuses.append(reply.status_code)

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Redis's INCR and the database's UPDATE ... RETURNING are both atomic: exact.
    assert statuses.count(200) == 10 and statuses.count(429) == 14
    cache.clear()


@pytest.mark.parametrize("store", ["database", "redis"])
def test_processes_share_one_exact_budget(transactional_db, store):
    """Four processes count the same key at once: exactly the limit is allowed, whether the
    count is the database's atomic UPDATE (no REDIS_URL) or Redis's INCR; on the suite's
    own database, so both are proven on SQLite and on PostgreSQL."""
    key = f"test-processes:{secrets.token_hex(8)}"  # never a count left by an earlier run
    script = (
        "import django, json; django.setup();"
        "from marketplace import ratelimit;"
        f"print(json.dumps([ratelimit.hit('{key}', '30/h').allowed for _ in range(15)]))"
    )
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
    env = {
        **os.environ,
        "DATABASE_URL": cluster.test_database_url(),
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "REDIS_URL": redis_url if store == "redis" else "",
    }
    children = [
        subprocess.Popen([sys.executable, "-c", script], cwd=cluster.ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    allowed = [answer for child in children for answer in json.loads(child.communicate(timeout=60)[0].splitlines()[-1])]
    assert allowed.count(True) == 30 and allowed.count(False) == 30
