"""Importing listings (service and CLI), creating accounts from the CLI, and the demo data."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account
from accounts.services import create_account
from addons.models import BillableItem, Extension, Listing, ListingVersion
from addons.services import import_listing
from addons.tests.factories import make_manifest
from marketplace.errors import Conflict, InvalidManifest, InvalidParameter


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


class TestImportListing:
    def test_creates_listing_version_and_extensions(self, publisher):
        version = import_listing(manifest=make_manifest(), publisher=publisher)
        listing = version.listing
        assert (listing.unique_name, listing.type, listing.pricing_type, listing.state) == (
            "caller_insight",
            "phone_number",
            "per_use",
            "draft",
        )
        assert listing.latest_version == version and version.number == 1
        assert [e.unique_name for e in version.extensions.order_by("id")] == [
            "lookups",
            "incoming-sms",
            "incoming-voice",
        ]
        assert version.endpoint["timeout_ms"] == 2000
        assert version.pricing["price"] == "0.0020"

    def test_a_second_import_is_a_new_version_reusing_extensions(self, publisher):
        first = import_listing(manifest=make_manifest(), publisher=publisher)
        second = import_listing(
            manifest=make_manifest(friendly_name="Caller Insight Pro", extensions=["lookups"]), publisher=publisher
        )
        assert second.listing == first.listing and second.number == 2
        assert second.listing.friendly_name == "Caller Insight Pro"
        assert Extension.objects.filter(listing=first.listing).count() == 3
        assert [e.unique_name for e in second.extensions.all()] == ["lookups"]

    def test_billable_items_keep_their_sids_across_versions(self, publisher):
        manual = dict(
            pricing={"model": "manual"},
            billable_items=[{"name": "report", "price": "0.50"}],
        )
        first = import_listing(manifest=make_manifest(**manual), publisher=publisher)
        sid = BillableItem.objects.get(listing=first.listing, name="report").sid
        manual["billable_items"] = [{"name": "report", "price": "0.75"}, {"name": "extra", "price": "1"}]
        second = import_listing(manifest=make_manifest(**manual), publisher=publisher)
        assert BillableItem.objects.get(listing=first.listing, name="report").sid == sid
        assert second.pricing["billable_items"] == {"report": "0.75", "extra": "1"}

    def test_another_publishers_name_is_refused(self, publisher, db):
        rival = create_account(friendly_name="Rival", is_publisher=True)
        import_listing(manifest=make_manifest(), publisher=publisher)
        with pytest.raises(Conflict, match="taken"):
            import_listing(manifest=make_manifest(), publisher=rival)
        assert ListingVersion.objects.count() == 1

    def test_a_version_cannot_change_the_type(self, publisher):
        import_listing(manifest=make_manifest(), publisher=publisher)
        message_type = make_manifest(
            type="message_analysis",
            extensions=["incoming-sms"],
            endpoint={**make_manifest()["endpoint"], "params": {"text": "{{body}}"}},
            configuration_schema={"type": "object", "properties": {}},
        )
        with pytest.raises(Conflict, match="type"):
            import_listing(manifest=message_type, publisher=publisher)

    def test_only_publishers_may_import(self, customer):
        with pytest.raises(InvalidParameter, match="not a publisher"):
            import_listing(manifest=make_manifest(), publisher=customer)
        assert Listing.objects.count() == 0

    def test_an_invalid_manifest_writes_nothing(self, publisher):
        bad = make_manifest(endpoint={**make_manifest()["endpoint"], "params": {"x": "{{nope}}"}})
        with pytest.raises(InvalidManifest) as error:
            import_listing(manifest=bad, publisher=publisher)
        assert error.value.details[0]["path"] == "$.endpoint.params.x"
        assert "nope" in error.value.details[0]["message"]
        assert Listing.objects.count() == 0 and ListingVersion.objects.count() == 0


class TestCommands:
    def test_create_account_json(self, db):
        printed = json.loads(run("create_account", "--name", "Acme", "--publisher", "--json"))
        account = Account.objects.get(sid=printed["sid"])
        assert account.auth_token == printed["auth_token"] and account.is_publisher
        assert set(printed) == {"sid", "auth_token"}

    def test_create_account_plain(self, db):
        printed = run("create_account", "--name", "Plain")
        account = Account.objects.get(friendly_name="Plain")
        assert account.sid in printed and not account.is_publisher

    def test_import_listing_json(self, publisher, tmp_path):
        manifest = make_manifest(pricing={"model": "manual"}, billable_items=[{"name": "page", "price": "0.1"}])
        path = tmp_path / "listing.json"
        path.write_text(json.dumps(manifest))
        printed = json.loads(
            run("import_listing", str(path), "--publisher", publisher.sid, "--state", "active", "--json")
        )
        listing = Listing.objects.get(sid=printed["sid"])
        assert listing.state == "active"
        assert printed == {
            "sid": listing.sid,
            "unique_name": "caller_insight",
            "version_sid": listing.latest_version.sid,
            "billable_items": [{"sid": listing.billable_items.get().sid, "name": "page"}],
        }

    def test_import_listing_from_stdin(self, publisher, monkeypatch):
        monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(make_manifest())))
        printed = json.loads(run("import_listing", "-", "--publisher", publisher.sid, "--json"))
        assert Listing.objects.get(sid=printed["sid"]).unique_name == "caller_insight"

    def test_import_listing_reports_errors_with_json_paths(self, publisher, tmp_path):
        manifest = make_manifest(
            configuration_schema={"type": "object", "properties": {"tags": {"type": "array", "name": "Tags"}}}
        )
        path = tmp_path / "listing.json"
        path.write_text(json.dumps(manifest))
        with pytest.raises(CommandError) as error:
            run("import_listing", str(path), "--publisher", publisher.sid)
        assert "$.configuration_schema.properties.tags" in str(error.value)
        assert Listing.objects.count() == 0

    def test_import_listing_reports_invalid_json_with_its_position(self, publisher, tmp_path):
        path = tmp_path / "listing.json"
        path.write_text('{"unique_name": "x",\n  oops}')
        with pytest.raises(CommandError, match="line 2"):
            run("import_listing", str(path), "--publisher", publisher.sid)

    def test_import_listing_needs_an_existing_publisher(self, db, tmp_path):
        path = tmp_path / "listing.json"
        path.write_text(json.dumps(make_manifest()))
        with pytest.raises(CommandError, match="no such account"):
            run("import_listing", str(path), "--publisher", "AC" + "0" * 32)
        with pytest.raises(CommandError, match="no such account"):
            run("import_listing", str(path), "--publisher", "not-a-sid")

    def test_import_listing_missing_file(self, publisher):
        with pytest.raises(CommandError, match="Cannot read"):
            run("import_listing", "/nonexistent/listing.json", "--publisher", publisher.sid)


class TestDemoData:
    def test_loads_once_and_is_idempotent(self, db, tmp_path, monkeypatch):
        from console.management.commands import demo_data

        monkeypatch.setattr(demo_data, "DEMO_DIR", tmp_path / "demo")
        first = run("demo_data")
        counts = (Account.objects.count(), Listing.objects.count(), ListingVersion.objects.count())
        second = run("demo_data")
        assert (Account.objects.count(), Listing.objects.count(), ListingVersion.objects.count()) == counts
        assert counts[1] >= 3
        assert Listing.objects.filter(state="active").count() == counts[1]
        # Same logins both times; the publishers' token file matches the publisher account.
        assert first.split("Listings:")[0] == second.split("Listings:")[0]
        publisher = Account.objects.get(is_publisher=True, friendly_name="Demo Publisher")
        assert (tmp_path / "demo" / "publisher_auth_token").read_text() == publisher.auth_token
        customer = Account.objects.get(friendly_name="Demo Customer")
        assert customer.installed_add_ons.count() == counts[1]
        assigned = customer.phone_numbers.get().assignments.get()
        assert assigned.installation.listing.unique_name == "demo_anagram"


def test_add_credit_command(customer):
    printed = run("add_credit", "--account", customer.sid, "--amount", "5", "--reason", "top-up")
    assert "balance 105.000000 USD" in printed
    with pytest.raises(CommandError, match="more than 0"):
        run("add_credit", "--account", customer.sid, "--amount", "-1", "--reason", "x")
    with pytest.raises(CommandError, match="no such account"):
        run("add_credit", "--account", "AC" + "0" * 32, "--amount", "1", "--reason", "x")
