"""Fixtures for invoking real publishers: the bundled example publishers and loopback fakes."""

import json
import threading
from pathlib import Path

import pytest

from addons.services import import_listing
from publishers.server import make_server
from tests.conftest import make_manifest

MANIFESTS = Path(__file__).resolve().parents[1] / "publishers" / "manifests"


@pytest.fixture
def example_publishers(publisher):
    """The bundled example publishers on a free loopback port, verifying our signatures."""
    server = make_server("127.0.0.1", 0, auth_token=publisher.auth_token)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def bundled_listing(example_publishers, publisher):
    """Import a bundled manifest, pointed at the running example publishers."""

    def make(name, state="active"):
        manifest = json.loads((MANIFESTS / f"{name}.json").read_text())
        path = manifest["endpoint"]["url"].split("8101", 1)[1]
        manifest["endpoint"]["url"] = example_publishers.url + path
        return import_listing(manifest=manifest, publisher=publisher, state=state).listing

    return make


def endpoint_manifest(url, unique_name, **endpoint_overrides):
    """A phone-number listing calling `url`, with a tiny configuration."""
    base = make_manifest()
    endpoint = {**base["endpoint"], "url": url, **endpoint_overrides}
    return make_manifest(unique_name=unique_name, endpoint=endpoint)


@pytest.fixture
def installed_at(api, make_listing):
    """Install a listing whose endpoint is `url` for the customer; returns the unique name."""

    def make(url, unique_name="fake", configuration=None, manifest_overrides=None, **endpoint_overrides):
        manifest = endpoint_manifest(url, unique_name, **endpoint_overrides)
        manifest.update(manifest_overrides or {})
        listing = make_listing(**manifest)
        reply = api.post(
            "/v1/InstalledAddOns",
            {
                "AvailableAddOnSid": listing.sid,
                "AcceptTermsOfService": "true",
                "Configuration": json.dumps(configuration or {"language": "en"}),
                "UniqueName": unique_name,
            },
        )
        assert reply.status_code == 201, reply
        return unique_name

    return make
