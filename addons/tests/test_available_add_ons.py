"""GET /v1/AvailableAddOns: only what the caller may use, in Twilio's envelope."""

import pytest

BASE = "http://127.0.0.1:8000"


def sids(reply, key="available_add_ons"):
    return [item["sid"] for item in reply.json()[key]]


@pytest.mark.parametrize(
    "state,visible",
    [
        ("draft", False),
        ("marketing_preview", False),
        ("private_beta", False),
        ("active", True),
        ("suspended", False),
        ("retired", False),
    ],
)
def test_only_active_listings_are_available_to_everyone(api, make_listing, state, visible):
    listing = make_listing(state=state)
    assert (listing.sid in sids(api.get("/v1/AvailableAddOns"))) is visible
    assert api.get(f"/v1/AvailableAddOns/{listing.sid}").status_code == (200 if visible else 404)


def test_private_beta_is_available_to_allowlisted_accounts_only(api, other_api, customer, make_listing):
    listing = make_listing(state="private_beta")
    listing.beta_accounts.add(customer)
    assert sids(api.get("/v1/AvailableAddOns")) == [listing.sid]
    assert sids(other_api.get("/v1/AvailableAddOns")) == []
    assert other_api.get(f"/v1/AvailableAddOns/{listing.sid}").status_code == 404


def test_active_listing_with_beta_accounts_is_listed_once(api, customer, other_customer, listing):
    listing.beta_accounts.add(customer, other_customer)
    assert sids(api.get("/v1/AvailableAddOns")) == [listing.sid]


def test_fetch_shows_the_listing(api, listing):
    body = api.get(f"/v1/AvailableAddOns/{listing.sid}").json()
    assert body == {
        "sid": listing.sid,
        "friendly_name": "Caller Insight",
        "description": "Tells who is calling.",
        "pricing_type": "per_use",
        "configuration_schema": listing.latest_version.configuration_schema,
        "url": f"{BASE}/v1/AvailableAddOns/{listing.sid}",
        "links": {"extensions": f"{BASE}/v1/AvailableAddOns/{listing.sid}/Extensions"},
    }


def test_fetch_accepts_uppercase_hex(api, listing):
    assert api.get(f"/v1/AvailableAddOns/XB{listing.sid[2:].upper()}").json()["sid"] == listing.sid


@pytest.mark.parametrize("bad", ["XB123", "XE" + "0" * 32, "XB" + "g" * 32, "XB" + "0" * 32])
def test_malformed_or_unknown_sids_are_404(api, listing, bad):
    reply = api.get(f"/v1/AvailableAddOns/{bad}")
    assert reply.status_code == 404
    assert reply.json()["code"] == 20404


def test_extensions_list_and_fetch(api, listing):
    reply = api.get(f"/v1/AvailableAddOns/{listing.sid}/Extensions")
    extensions = reply.json()["extensions"]
    assert [e["unique_name"] for e in extensions] == ["lookups", "incoming-sms", "incoming-voice"]
    assert reply.json()["meta"]["key"] == "extensions"
    first = extensions[0]
    assert first["available_add_on_sid"] == listing.sid
    assert first["product_name"] == "Lookups"
    assert first["sid"].startswith("XF")
    fetched = api.get(f"/v1/AvailableAddOns/{listing.sid}/Extensions/{first['sid']}").json()
    assert fetched == first


def test_extension_of_another_listing_is_404(api, listing, make_listing):
    other = make_listing(unique_name="second_listing")
    extension = other.extensions.first()
    assert api.get(f"/v1/AvailableAddOns/{listing.sid}/Extensions/{extension.sid}").status_code == 404


def test_extensions_follow_the_latest_version(api, listing, make_listing):
    make_listing(extensions=["lookups"])  # a new version of the same unique_name
    reply = api.get(f"/v1/AvailableAddOns/{listing.sid}/Extensions")
    assert [e["unique_name"] for e in reply.json()["extensions"]] == ["lookups"]


class TestPagination:
    @pytest.fixture
    def listings(self, make_listing):
        return [make_listing(unique_name=f"listing_{i:02d}").sid for i in range(7)]

    def test_walks_forward_and_back_with_page_tokens(self, api, listings):
        first = api.get("/v1/AvailableAddOns", {"PageSize": 3}).json()
        assert sids_of(first) == listings[:3]
        meta = first["meta"]
        assert meta["page"] == 0 and meta["page_size"] == 3 and meta["previous_page_url"] is None
        assert meta["first_page_url"] == f"{BASE}/v1/AvailableAddOns?PageSize=3&Page=0"
        second = api.get(meta["next_page_url"].removeprefix(BASE)).json()
        assert sids_of(second) == listings[3:6] and second["meta"]["page"] == 1
        third = api.get(second["meta"]["next_page_url"].removeprefix(BASE)).json()
        assert sids_of(third) == listings[6:] and third["meta"]["next_page_url"] is None
        back = api.get(third["meta"]["previous_page_url"].removeprefix(BASE)).json()
        assert sids_of(back) == listings[3:6] and back["meta"]["page"] == 1
        back_again = api.get(back["meta"]["previous_page_url"].removeprefix(BASE)).json()
        assert sids_of(back_again) == listings[:3]
        assert back_again["meta"]["previous_page_url"] is None

    def test_default_page_size_is_50(self, api, listings):
        meta = api.get("/v1/AvailableAddOns").json()["meta"]
        assert meta["page_size"] == 50 and meta["next_page_url"] is None

    def test_a_page_token_is_stable_while_rows_are_added(self, api, listings, make_listing):
        first = api.get("/v1/AvailableAddOns", {"PageSize": 3}).json()
        make_listing(unique_name="zz_newcomer")
        second = api.get(first["meta"]["next_page_url"].removeprefix(BASE)).json()
        assert sids_of(second) == listings[3:6]

    @pytest.mark.parametrize("size", ["0", "1001", "-1", "ten", "2.5"])
    def test_page_size_out_of_range_is_400(self, api, listings, size):
        reply = api.get("/v1/AvailableAddOns", {"PageSize": size})
        assert reply.status_code == 400
        assert "PageSize" in reply.json()["message"]

    @pytest.mark.parametrize("token", ["PTforged", "nonsense", "PT" + "a" * 40])
    def test_forged_page_token_is_400(self, api, listings, token):
        reply = api.get("/v1/AvailableAddOns", {"PageToken": token})
        assert reply.status_code == 400
        assert "PageToken" in reply.json()["message"]

    def test_tampered_page_token_is_400(self, api, listings):
        url = api.get("/v1/AvailableAddOns", {"PageSize": 3}).json()["meta"]["next_page_url"]
        token = url.split("PageToken=")[1]
        tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
        reply = api.get("/v1/AvailableAddOns", {"PageToken": tampered})
        assert reply.status_code == 400

    def test_page_without_token_counts_pages_like_twilio(self, api, listings):
        """`Page` alone is a page index: Page 1 is what following next_page_url once gives."""
        followed = api.get("/v1/AvailableAddOns", {"PageSize": 3}).json()["meta"]["next_page_url"]
        by_token = api.get(followed.split("8000", 1)[1]).json()
        by_index = api.get("/v1/AvailableAddOns", {"PageSize": 3, "Page": 1}).json()
        assert sids_of(by_index) == sids_of(by_token) == listings[3:6]
        assert by_index["meta"]["page"] == 1 and "PageToken=PT" in by_index["meta"]["next_page_url"]
        assert "PageToken=PT" in by_index["meta"]["previous_page_url"]
        last = api.get("/v1/AvailableAddOns", {"PageSize": 3, "Page": 2}).json()
        assert sids_of(last) == listings[6:] and last["meta"]["next_page_url"] is None
        assert sids_of(api.get(by_index["meta"]["previous_page_url"].split("8000", 1)[1]).json()) == listings[:3]

    @pytest.mark.parametrize("page", [3, 10**12])
    def test_page_past_the_end_is_empty(self, api, listings, page):
        body = api.get("/v1/AvailableAddOns", {"PageSize": 3, "Page": page}).json()
        assert body["available_add_ons"] == [] and body["meta"]["next_page_url"] is None


def sids_of(body):
    return [item["sid"] for item in body["available_add_ons"]]
