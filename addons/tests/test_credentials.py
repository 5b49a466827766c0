"""Publishers' credentials are sealed at rest and opened only to call the publisher."""

import base64
import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from werkzeug import Response

from addons import credentials
from addons.models import Invocation, Listing, ListingVersion
from addons.services import import_listing
from addons.tests.factories import make_manifest
from marketplace.errors import InvalidManifest

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
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40  # nor the key derived from it
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


# --- a sealed-looking value in a manifest is refused -------------------------------------


@pytest.mark.parametrize(
    "overrides,path",
    [
        (
            {"auth": {"type": "basic", "username": "acme", "password": "sealed:v1:gAAAAABstolen"}},
            "$.endpoint.auth.password",
        ),
        ({"auth": {"type": "bearer", "token": "sealed:v1:x"}}, "$.endpoint.auth.token"),
        ({"headers": {"X-Key": "sealed:v1:gAAAAABstolen"}}, "$.endpoint.headers['X-Key']"),
        ({"params": {"number": "{{primary_address}}", "k": "sealed:v1:abc"}}, "$.endpoint.params.k"),
    ],
)
def test_a_sealed_looking_value_in_a_manifest_is_refused_with_its_path(publisher, overrides, path):
    manifest = make_manifest()
    manifest["endpoint"].update(overrides)
    with pytest.raises(InvalidManifest) as refused:
        import_listing(manifest=manifest, publisher=publisher)
    assert [detail["path"] for detail in refused.value.details] == [path]
    assert "sealed:v1:" in refused.value.details[0]["message"]
    assert not Listing.objects.exists() and not ListingVersion.objects.exists()  # nothing half-written


def test_another_publishers_ciphertext_is_never_opened_for_an_attacker(publisher, httpserver):
    """The oracle: a victim's sealed password, copied (from a backup, a log) into an attacker's
    manifest, must never reach the attacker's endpoint in clear."""
    victim = import_listing(
        manifest=make_manifest(endpoint={**make_manifest()["endpoint"], "auth": {"type": "bearer", "token": SECRET}}),
        publisher=publisher,
    )
    stolen = victim.endpoint["auth"]["token"]
    attacker = make_manifest(unique_name="attacker_insight")
    attacker["endpoint"]["auth"] = {"type": "bearer", "token": stolen}
    attacker["endpoint"]["url"] = httpserver.url_for("/attacker")
    with pytest.raises(InvalidManifest):
        import_listing(manifest=attacker, publisher=publisher)
    assert Listing.objects.filter(unique_name="attacker_insight").count() == 0 and not httpserver.log


# --- rotating the sealing key ------------------------------------------------------------


def test_a_new_key_in_front_seals_and_the_old_one_still_opens(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEY = old
    sealed_under_old = credentials.seal(SECRET)
    settings.CREDENTIALS_KEY = f"{new}, {old}"
    assert credentials.open_value(sealed_under_old) == SECRET
    sealed_under_new = credentials.seal(SECRET)
    settings.CREDENTIALS_KEY = new
    assert credentials.open_value(sealed_under_new) == SECRET
    with pytest.raises(RuntimeError, match="CREDENTIALS_KEY"):
        credentials.open_value(sealed_under_old)


def test_the_key_derived_from_secret_key_still_opens_after_an_explicit_key_is_set(settings):
    settings.CREDENTIALS_KEY = ""
    sealed = credentials.seal(SECRET)
    settings.CREDENTIALS_KEY = Fernet.generate_key().decode()
    assert credentials.open_value(sealed) == SECRET


def test_reseal_credentials_moves_every_version_to_the_newest_key(settings, api, basic_listing):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEY = old
    version = ListingVersion.objects.get(listing__unique_name="guarded")
    # Sealed under `old` (the fixture sealed it under the key derived from SECRET_KEY).
    version.endpoint = credentials.seal_endpoint(credentials.open_endpoint(version.endpoint))
    version.manifest = credentials.seal_manifest(credentials.open_manifest(version.manifest))
    version.save()

    settings.CREDENTIALS_KEY = f"{new},{old}"
    out = io.StringIO()
    call_command("reseal_credentials", stdout=out)
    assert "1 listing version" in out.getvalue()

    settings.CREDENTIALS_KEY = new  # the old key dropped: everything still opens
    version.refresh_from_db()
    assert credentials.open_endpoint(version.endpoint)["auth"]["password"] == SECRET
    assert credentials.open_manifest(version.manifest)["endpoint"]["auth"]["password"] == SECRET
    assert SECRET not in json.dumps(version.endpoint) + json.dumps(version.manifest)
    # And the publisher is still called with it.
    result = api.get("/v1/PhoneNumbers/+14155552671", {"AddOns": "guarded"}).json()["add_ons"]["results"]["guarded"]
    assert result["status"] == "successful"
    assert basic_listing[-1] == "Basic " + base64.b64encode(f"acme:{SECRET}".encode()).decode()


def test_reseal_credentials_stops_at_a_value_no_key_opens(settings, basic_listing):
    settings.CREDENTIALS_KEY = Fernet.generate_key().decode()
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40  # the derived key no longer matches either
    version = ListingVersion.objects.get(listing__unique_name="guarded")
    with pytest.raises(RuntimeError, match="CREDENTIALS_KEY"):
        call_command("reseal_credentials")
    assert ListingVersion.objects.get(pk=version.pk).endpoint == version.endpoint  # left as it was
