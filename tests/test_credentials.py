"""Publishers' credentials are sealed at rest and opened only to call the publisher."""

import base64
import json

import pytest
from cryptography.fernet import Fernet
from werkzeug import Response

from addons import credentials
from addons.models import Invocation, ListingVersion

SECRET = "s3cr3t-publisher-password"


@pytest.fixture
def basic_listing(installed_at, httpserver):
    seen = []

    def handler(request):
        seen.append(request.headers.get("Authorization"))
        return Response('{"ok": true}', content_type="application/json")

    httpserver.expect_request("/p").respond_with_handler(handler)
    installed_at(
        httpserver.url_for("/p"), unique_name="guarded", auth={"type": "basic", "username": "acme", "password": SECRET}
    )
    return seen


def test_the_database_never_holds_the_credential_in_clear(basic_listing):
    version = ListingVersion.objects.get(listing__unique_name="guarded")
    stored = json.dumps(version.endpoint) + json.dumps(version.manifest)
    assert SECRET not in stored
    assert version.endpoint["auth"]["password"].startswith("sealed:v1:")
    assert credentials.open_endpoint(version.endpoint)["auth"]["password"] == SECRET


def test_the_publisher_still_gets_it_and_records_do_not(api, basic_listing):
    result = api.get("/v1/PhoneNumbers/+14155552671", {"AddOns": "guarded"}).json()["add_ons"]["results"]["guarded"]
    assert result["status"] == "successful"
    assert basic_listing == ["Basic " + base64.b64encode(f"acme:{SECRET}".encode()).decode()]
    assert SECRET not in json.dumps(Invocation.objects.get().request)


def test_a_wrong_key_cannot_open_it(basic_listing, settings):
    version = ListingVersion.objects.get(listing__unique_name="guarded")
    settings.CREDENTIALS_KEY = Fernet.generate_key().decode()
    with pytest.raises(RuntimeError, match="CREDENTIALS_KEY"):
        credentials.open_endpoint(version.endpoint)


@pytest.mark.parametrize(
    "auth,member",
    [
        ({"type": "bearer", "token": SECRET}, "token"),
        ({"type": "query", "name": "key", "value": SECRET}, "value"),
        ({"type": "body", "name": "key", "value": SECRET}, "value"),
    ],
)
def test_every_kind_of_credential_is_sealed(auth, member):
    sealed = credentials.seal_endpoint({"url": "http://x", "auth": auth})
    assert sealed["auth"][member].startswith("sealed:v1:") and SECRET not in json.dumps(sealed)
    assert credentials.open_endpoint(sealed)["auth"] == auth
    assert credentials.seal_endpoint(sealed) == sealed  # sealing twice changes nothing
