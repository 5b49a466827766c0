"""Query discipline: every list endpoint costs the same number of queries whatever the page
size (as NetBox asserts), so a page of 50 is not 50 times a page of 1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import PhoneNumberFactory
from addons.services.notifications import notify
from addons.tests.factories import AssignmentFactory, InstallationFactory
from billing import services as billing
from recordings.models import Recording
from recordings.tests.factories import AddOnResultFactory, PayloadFactory, RecordingFactory

ROWS = 6


def queries(api, path, size):
    with CaptureQueriesContext(connection) as captured:
        reply = api.get(path, {"PageSize": size})
    assert reply.status_code == 200, reply
    return len(captured)


@pytest.fixture
def world(customer, publisher, make_listing):
    """ROWS of everything a list endpoint lists, for the customer."""
    listings = [
        make_listing(unique_name=f"l{i}", extensions=["lookups", "incoming-sms", "incoming-voice"]) for i in range(ROWS)
    ]
    installs = [InstallationFactory(account=customer, listing=listing) for listing in listings]
    numbers = [PhoneNumberFactory(account=customer, phone_number=f"+1415555267{i}") for i in range(ROWS)]
    for installation in installs:
        AssignmentFactory(phone_number=numbers[0], installation=installation)
    for i in range(ROWS):
        notify(account=customer, code=61010, message=f"note {i}")
        billing.charge(
            key=f"k{i}",
            kind="per_use",
            account=customer,
            listing=listings[i],
            installation=installs[i],
            quantity=1,
            price=billing.unit_price({"price": "0.01"}),
            reference=f"k{i}",
        )
    recording = RecordingFactory(account=customer)
    results = [AddOnResultFactory(recording=recording, installation=installation) for installation in installs]
    for n in range(ROWS):
        PayloadFactory(add_on_result=results[0], label=f"p{n}", data="p", size=1)
    return {"listings": listings, "installs": installs, "numbers": numbers, "recording": recording, "results": results}


def paths(customer, world):
    xe = world["installs"][0].sid
    pn = world["numbers"][0].sid
    re = world["recording"].sid
    xr = world["results"][0].sid
    account = f"/2010-04-01/Accounts/{customer.sid}"
    return [
        "/v1/AvailableAddOns",
        f"/v1/AvailableAddOns/{world['listings'][0].sid}/Extensions",
        "/v1/InstalledAddOns",
        f"/v1/InstalledAddOns/{xe}/Extensions",
        "/v1/Alerts",
        f"{account}/IncomingPhoneNumbers.json",
        f"{account}/IncomingPhoneNumbers/{pn}/AssignedAddOns.json",
        f"{account}/IncomingPhoneNumbers/{pn}/AssignedAddOns/{xe}/Extensions.json",
        f"{account}/Recordings/{re}/AddOnResults.json",
        f"{account}/Recordings/{re}/AddOnResults/{xr}/Payloads.json",
        f"{account}/Usage/Records.json",
    ]


def test_list_endpoints_cost_the_same_for_one_row_or_many(api, customer, world):
    for path in paths(customer, world):
        one, many = queries(api, path, 1), queries(api, path, 50)
        assert one == many, f"{path}: {one} queries for a page of 1, {many} for a page of 50"


def test_recordings_list_costs_the_same_for_one_row_or_many(api, customer, world):
    for n in range(ROWS):
        Recording.objects.create(
            account=customer, audio=f"{n}.wav", duration_ms=1000, channels=1, sample_rate=8000, size=1
        )
    path = f"/2010-04-01/Accounts/{customer.sid}/Recordings.json"
    assert queries(api, path, 1) == queries(api, path, 50)


def test_publisher_listings_cost_the_same_for_one_listing_or_many(api_for, publisher, make_listing):
    client = api_for(publisher)
    make_listing(unique_name="only")
    with CaptureQueriesContext(connection) as one:
        client.get("/v1/Listings")
    for n in range(ROWS):
        make_listing(unique_name=f"more{n}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/v1/Listings").json()["listings"]) == ROWS + 1
    assert len(one) == len(many)


# A lookup of priced add-ons, pinned (database statements; the circuit breaker's cache read
# is one more on the database cache, none on Redis). Before holds it was 9 (in a test, where
# transactions are savepoints). Holding adds 3: the hold's INSERT, the UPDATE that settles the event's
# holds (charged or released, one statement), and the savepoint pair of the hold's own
# transaction (BEGIN/COMMIT outside tests); the balance SELECT became the conditional UPDATE.
PRICED_LOOKUP_QUERIES = 12


def test_a_priced_lookup_costs_a_pinned_number_of_queries_whatever_the_add_ons(api, bundled_listing):
    from addons.tests.factories import install
    from addons.tests.test_lookups import lookup

    listing = bundled_listing("anagram")
    assert listing.latest_version.pricing["model"] == "per_use" and listing.latest_version.pricing["price"] != "0"
    for name in ("a1", "a2", "a3"):
        install(api, listing, name, {"min_word_length": 3})
    for names in (["a1"], ["a1", "a2", "a3"]):
        with CaptureQueriesContext(connection) as captured:
            lookup(api, AddOns=names)
        statements = [q["sql"] for q in captured if "marketplace_cache" not in q["sql"]]
        assert len(statements) == PRICED_LOOKUP_QUERIES, [sql[:80] for sql in statements]


# --- every endpoint's count, pinned in tests/query_counts.json --------------------------------
# One entry per GET route of the API and per console page, measured on the `world` above: a
# change that makes any of them cost more queries fails here until the baseline is updated on
# purpose (tests/fixtures/query_baseline.py says how). Routes only written to are not pinned.
WRITE_ONLY = {
    "console/logout/",
    "console/account/",
    "console/installations/<str:installation_sid>/extensions/<str:extension_sid>/",
    "console/installations/<str:installation_sid>/assign/",
    "console/installations/<str:installation_sid>/unassign/<str:phone_number_sid>/",
    "console/installations/<str:installation_sid>/uninstall/",
    "console/numbers/<str:phone_number_sid>/delete/",
    "v1/InstalledAddOns/<str:installation_sid>/Usage",
    "v1/ReferralConversion",
    "sandbox/v1/Messages",
    "sandbox/v1/Calls",
    "sandbox/v1/Recordings",
    "sandbox/v1/Listings/<str:listing_sid>/TestInvocations",
    "callbacks/v1/AddOnResults/<str:result_sid>/<str:token>",
}
PINNED_PREFIXES = ("v1/", "2010-04-01/", "sandbox/", "callbacks/", "downloads/", "console/")
# Publisher-side routes, measured as the publisher.
AS_PUBLISHER = {"v1/Listings", "v1/Listing/<str:sid>"}


def routes():
    """Every route of the project under the API and console prefixes, as Django spells it."""
    from django.urls import get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return {route for route in walk(get_resolver().url_patterns) if route.startswith(PINNED_PREFIXES)}


def test_every_endpoint_costs_no_more_queries_than_its_baseline(
    api, api_for, customer, publisher, world, query_baseline
):
    from django.utils import timezone

    from addons.models import InstalledExtension, Notification
    from billing.services import close_invoice, close_statement
    from recordings.tests.factories import PayloadFactory
    from tests.fixtures.core import console_client

    listing, installation = world["listings"][0], world["installs"][0]
    number, recording, result = world["numbers"][0], world["recording"], world["results"][0]
    payload = PayloadFactory(add_on_result=result)  # with a stored file, for Data.json
    extension = listing.latest_version.extensions.first()
    installed_extension = InstalledExtension.objects.filter(installation=installation).first().extension
    month = timezone.now().date().replace(day=1)
    close_statement(publisher=publisher, period=month)
    close_invoice(account=customer, period=month)
    period = month.strftime("%Y-%m")
    data = f"/2010-04-01/Accounts/{customer.sid}/Recordings/{recording.sid}/AddOnResults/{result.sid}/Payloads/{payload.sid}/Data.json"
    download = api.get(data).json()["redirect_to"]  # the signed link of downloads/v1/Payloads/<token>
    values = {
        "account_sid": customer.sid,
        "listing_sid": listing.sid,
        "installation_sid": installation.sid,
        "assigned_sid": installation.sid,
        "resource_sid": number.sid,
        "phone_number": number.phone_number,
        "phone_number_sid": number.sid,
        "recording_sid": recording.sid,
        "reference_sid": recording.sid,
        "result_sid": result.sid,
        "period": period,
        "token": download.rsplit("/", 1)[1],
    }
    # A route's own `sid` names a different object on each route.
    sids = {
        "v1/AvailableAddOns/<str:sid>": listing.sid,
        "v1/AvailableAddOns/<str:listing_sid>/Extensions/<str:sid>": extension.sid,
        "v1/InstalledAddOns/<str:sid>": installation.sid,
        "v1/InstalledAddOns/<str:installation_sid>/Extensions/<str:sid>": installed_extension.sid,
        "v1/Listing/<str:sid>": listing.sid,
        "v1/Alerts/<str:sid>": Notification.objects.filter(account=customer).first().sid,
        "IncomingPhoneNumbers/<str:sid>.json": number.sid,
        "AssignedAddOns/<str:sid>.json": installation.sid,
        "Extensions/<str:sid>.json": installed_extension.sid,
        "Recordings/<str:sid>.json": recording.sid,
        "Recordings/<str:sid>.wav": recording.sid,
        "AddOnResults/<str:sid>.json": result.sid,
        "Payloads/<str:sid>.json": payload.sid,
        "Payloads/<str:sid>/Data.json": payload.sid,
    }

    def concrete(route):
        own = next((sid for suffix, sid in sids.items() if route.endswith(suffix)), None)
        path = route.replace("<str:sid>", own) if own else route
        for name, value in values.items():
            path = path.replace(f"<str:{name}>", value)
        assert "<" not in path, f"no value for a part of {route}: add it above"
        return "/" + path

    clients = {
        "api": api,
        "publisher api": api_for(publisher),
        "console": console_client(customer, "cust"),
        "publisher console": console_client(publisher, "pub"),
    }

    def client_for(route):
        if route.startswith("console/publisher/"):
            return clients["publisher console"]
        if route.startswith("console/"):
            return clients["console"]
        return clients["publisher api" if route in AS_PUBLISHER else "api"]

    def get(route, path):
        client = client_for(route)
        if route.endswith(".wav") or route.startswith("downloads/"):  # files, streamed
            return client.client.get(path, **client.headers)
        return client.get(path)

    measured = {}
    for route in sorted(routes() - WRITE_ONLY):
        path = concrete(route)
        get(route, path)  # once to warm what a process caches, then counted
        with CaptureQueriesContext(connection) as captured:
            reply = get(route, path)
        assert reply.status_code in (200, 302, 307), f"{path}: {reply.status_code}"
        measured[route] = len(captured)
    query_baseline(measured)
