"""factory_boy factories for listings, their versions, installations and assignments, and
the one helper that installs an add-on through the API.

Listings are imported through addons.services.import_listing and installations made by
install_add_on, as a publisher's upload and a customer's request make them, so what a
factory returns passed every check the real path runs."""

import copy
import json

import factory

from accounts.tests.factories import (
    AccountFactory,
    PhoneNumberFactory,
    PublisherFactory,
)
from addons import services
from addons.models import Assignment, InstalledAddOn, Listing, ListingVersion

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


class ListingVersionFactory(factory.django.DjangoModelFactory):
    """A version imported from `manifest` (BASE_MANIFEST under a fresh unique name unless given)."""

    class Meta:
        model = ListingVersion

    publisher = factory.SubFactory(PublisherFactory)
    manifest = factory.Sequence(lambda n: make_manifest(unique_name=f"add_on_{n}"))
    state = "active"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.import_listing(**kwargs)


class ListingFactory(ListingVersionFactory):
    """The listing of a freshly imported version."""

    class Meta:
        model = Listing

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return super()._create(model_class, *args, **kwargs).listing


class InstallationFactory(factory.django.DjangoModelFactory):
    """`listing` installed by `account` through the service, terms accepted."""

    class Meta:
        model = InstalledAddOn

    account = factory.SubFactory(AccountFactory)
    listing = factory.SubFactory(ListingFactory)
    configuration = factory.LazyFunction(lambda: dict(CONFIGURATION))
    unique_name = None

    @classmethod
    def _create(cls, model_class, *args, listing, **kwargs):
        return services.install_add_on(available_add_on_sid=listing.sid, accept_terms_of_service=True, **kwargs)


class AssignmentFactory(factory.django.DjangoModelFactory):
    """An installation assigned to one of its account's phone numbers."""

    class Meta:
        model = Assignment

    installation = factory.SubFactory(InstallationFactory)
    phone_number = factory.SubFactory(PhoneNumberFactory, account=factory.SelfAttribute("..installation.account"))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.assign_add_on(**kwargs)


CONFIGURATION = {"language": "en"}


def install(client, listing, unique_name=None, configuration=CONFIGURATION, **fields):
    """Install `listing` through POST /v1/InstalledAddOns as the client's account (terms
    accepted; `configuration` as JSON unless already a string, not sent when None); the reply
    must be 201. Returns the installation's JSON."""
    data = {"AvailableAddOnSid": listing.sid, "AcceptTermsOfService": "true"}
    if configuration is not None:
        data["Configuration"] = configuration if isinstance(configuration, str) else json.dumps(configuration)
    if unique_name is not None:
        data["UniqueName"] = unique_name
    data.update(fields)
    reply = client.post("/v1/InstalledAddOns", data)
    assert reply.status_code == 201, reply.json()
    return reply.json()
