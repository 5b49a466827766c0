"""Shared fixtures: accounts, listings imported through the real service, API clients."""

import copy
from pathlib import Path

import pytest

from accounts import services as account_services
from addons.services import import_listing
from billing import services as billing_services
from tests.wire import TwilioTestClient

BASE_MANIFEST = {
    "unique_name": "caller_insight",
    "friendly_name": "Caller Insight",
    "description": "Tells who is calling.",
    "type": "phone_number",
    "extensions": ["lookups", "incoming-sms", "incoming-voice"],
    "pricing": {"model": "per_use", "price": "0.0020"},
    "billable_items": [],
    "configuration_schema": {
        "type": "object",
        "properties": {
            "language": {"type": "string", "name": "Language", "_help": "Result language", "enum": ["en", "es"]},
            "include_carrier": {"type": "boolean", "name": "Include carrier", "default": False},
            "max_results": {"type": "integer", "name": "Max results", "minimum": 1, "maximum": 10},
            "caller_prefix": {
                "type": "string",
                "name": "Caller prefix",
                "_help": "E.164 prefix, +1 only",
                "pattern": "^\\+1[0-9]*$",
            },
        },
        "required": ["language"],
    },
    "request_validation_schema": None,
    "response_validation_schema": None,
    "endpoint": {
        "url": "http://127.0.0.1:9/insight",
        "method": "POST",
        "format": "form",
        "params": {"number": "{{primary_address}}", "lang": "{{language}}"},
        "auth": {"type": "none"},
        "headers": {},
        "timeout_ms": 2000,
        "retries": 2,
        "ttl_ms": 5000,
    },
    "runtime_fields": [],
}


def make_manifest(**overrides):
    manifest = copy.deepcopy(BASE_MANIFEST)
    manifest.update(copy.deepcopy(overrides))
    return manifest


@pytest.fixture(scope="session")
def django_db_modify_db_settings():
    """A file-based SQLite test database starts and ends clean: a process killed by a test
    may leave -wal and -shm files, which SQLite would read as part of a new database."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    files = [Path(name + suffix) for suffix in ("", "-wal", "-shm", "-journal")] if name else []
    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        files = []
    for path in files:
        path.unlink(missing_ok=True)
    yield
    for path in files:
        path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def stored_files_in_a_temp_dir(settings, media_root):
    """Recordings and payloads a test stores go to a temporary folder, not var/media."""
    settings.MEDIA_ROOT = str(media_root)


@pytest.fixture(autouse=True)
def tasks_run_inline(settings):
    """django-q2 runs each task in the enqueuing process (its sync mode), once the
    transaction commits; the tests that need a real cluster start one (tests/cluster.py)."""
    settings.TASKS_SYNC = True
    settings.NOTIFY_BACKOFF_S = [0.01, 0.01]
    # Tests fire requests far faster than any customer, and fail publishers on purpose; the
    # rate limit and the circuit breaker have tests of their own.
    settings.API_RATE_LIMIT = ""
    settings.PUBLISHER_API_RATE_LIMIT = ""
    settings.CIRCUIT_FAILURES = 10**6


@pytest.fixture
def publisher(db):
    return account_services.create_account(friendly_name="Acme Data", is_publisher=True)


def funded_account(name, credit="100"):
    """A customer with prepaid credit: priced add-ons only run for those who can pay."""
    account = account_services.create_account(friendly_name=name)
    billing_services.add_credit(account=account, amount=credit, reason="test credit")
    return account


@pytest.fixture
def customer(db):
    return funded_account("Customer One")


@pytest.fixture
def other_customer(db):
    return funded_account("Customer Two")


@pytest.fixture
def make_listing(publisher):
    def make(state="active", publisher_account=None, **overrides):
        version = import_listing(
            manifest=make_manifest(**overrides), publisher=publisher_account or publisher, state=state
        )
        return version.listing

    return make


@pytest.fixture
def listing(make_listing):
    return make_listing()


@pytest.fixture
def anonymous_api():
    return TwilioTestClient()


@pytest.fixture
def api_for():
    """An API client authenticated as the account (AccountSid:AuthToken)."""

    def make(account, username=None, password=None):
        return TwilioTestClient(username or account.sid, password or account.auth_token)

    return make


@pytest.fixture
def api(api_for, customer):
    return api_for(customer)


@pytest.fixture
def other_api(api_for, other_customer):
    return api_for(other_customer)


CONFIG = '{"language": "en"}'


@pytest.fixture
def install(api):
    """Install a listing through the API as the customer; returns the response JSON."""

    def do(listing, configuration=CONFIG, client=None, **extra):
        data = {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true", "Configuration": configuration}
        data.update(extra)
        response = (client or api).post("/v1/InstalledAddOns", data)
        assert response.status_code == 201, response.json()
        return response.json()

    return do


# Fixtures for tests that invoke publishers live beside the helpers they use.
from tests.invoking import bundled_listing, example_publishers, installed_at  # noqa: E402,F401


@pytest.fixture
def sdk(live_server, settings):
    """Official `twilio` clients pointed at the live test server; closed after the test,
    so no keep-alive connection outlives the server."""
    from twilio.rest import Client

    settings.MARKETPLACE_BASE_URL = live_server.url
    clients = []

    def make(username, password, account_sid=None):
        client = Client(username, password, account_sid=account_sid)
        for domain in (client.marketplace, client.api, client.lookups, client.monitor):
            domain.base_url = live_server.url
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.http_client.session.close()


# --- CI counts no skipped test as a pass ----------------------------------------------------
# Tests that need something of the machine (Chromium, PostgreSQL's binaries, Redis) skip with
# a message on a developer's machine without it; CI sets TESTS_MUST_NOT_SKIP=1, so there a
# skip fails the run instead of passing quietly.
_skipped = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def _must_not_skip():
    import os

    return os.environ.get("TESTS_MUST_NOT_SKIP") == "1"


def pytest_sessionfinish(session, exitstatus):
    if _must_not_skip() and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if _must_not_skip() and _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) skipped while TESTS_MUST_NOT_SKIP=1: " + ", ".join(_skipped[:5]), red=True
        )


# Modules whose every test moves money; elsewhere a test opts in with @pytest.mark.money.
MONEY_MODULES = {
    "test_billing", "test_holds", "test_console_billing", "test_lookups", "test_sandbox", "test_recordings",
    "test_recording_publisher", "test_recordings_cluster", "test_test_invocations", "test_manual_usage",
    "test_invoices", "test_money_display", "test_account_status", "test_hostile_content", "test_recording_audio",
    "test_outbound_isolation",
}


@pytest.fixture(autouse=True)
def books_balance_after_money_tests(request):
    """After every money test, `check_ledger` must find the books balanced (balances equal
    their ledger less open holds, every charge has its entry and cause, statements their
    events): a test that leaves them otherwise fails here."""
    module = request.node.module.__name__.rsplit(".", 1)[-1] if request.node.module else ""
    money_test = module in MONEY_MODULES or request.node.get_closest_marker("money") is not None
    if not money_test or request.node.get_closest_marker("unbalanced_books") is not None:
        yield
        return
    request.getfixturevalue("db")  # set up first so it is torn down after the check
    yield
    from billing import reconciliation

    problems, _ = reconciliation.check()
    assert not problems, "check_ledger after this test:\n" + "\n".join(problems)
