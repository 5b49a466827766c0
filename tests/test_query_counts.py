"""Query discipline: every list endpoint costs the same number of queries whatever the page
size (as NetBox asserts), so a page of 50 is not 50 times a page of 1."""


import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import create_phone_number
from addons.services import assign_add_on, install_add_on
from addons.services.invocations import notify
from billing import services as billing
from recordings.models import AddOnResult, Payload, Recording

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
    installs = [
        install_add_on(
            account=customer, available_add_on_sid=l.sid, accept_terms_of_service=True, configuration={"language": "en"}
        )
        for l in listings
    ]
    numbers = [create_phone_number(account=customer, phone_number=f"+1415555267{i}") for i in range(ROWS)]
    for installation in installs:
        assign_add_on(phone_number=numbers[0], installation=installation)
    for i in range(ROWS):
        notify(account=customer, code=61010, message=f"note {i}")
        billing.charge(
            key=f"k{i}", kind="per_use", account=customer, listing=listings[i], installation=installs[i],
            quantity=1, price=billing.unit_price({"price": "0.01"}), reference=f"k{i}",
        )  # fmt: skip
    recording = Recording.objects.create(account=customer, audio="x.wav", duration_ms=1000, channels=1, sample_rate=8000, size=10)
    results = [
        AddOnResult.objects.create(
            account=customer, recording=recording, installation=i, listing=i.listing, installation_sid=i.sid
        )
        for i in installs
    ]
    for n in range(ROWS):
        Payload.objects.create(add_on_result=results[0], label=f"p{n}", content_type="application/json", data="p", size=1)
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
        Recording.objects.create(account=customer, audio=f"{n}.wav", duration_ms=1000, channels=1, sample_rate=8000, size=1)
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
    from addons.tests.test_lookups import install, lookup

    listing = bundled_listing("anagram")
    assert listing.latest_version.pricing["model"] == "per_use" and listing.latest_version.pricing["price"] != "0"
    for name in ("a1", "a2", "a3"):
        install(api, listing, name, {"min_word_length": 3})
    for names in (["a1"], ["a1", "a2", "a3"]):
        with CaptureQueriesContext(connection) as captured:
            lookup(api, AddOns=names)
        statements = [q["sql"] for q in captured if "marketplace_cache" not in q["sql"]]
        assert len(statements) == PRICED_LOOKUP_QUERIES, [sql[:80] for sql in statements]
