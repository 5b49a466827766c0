import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from addons.manifest import load_manifest
from addons.models import Listing
from addons.services import import_listing
from marketplace.errors import MarketplaceError
from marketplace.sids import normalize_sid


class Command(BaseCommand):
    help = "Import a listing manifest: create the listing, or release a new version of it."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the manifest (JSON); '-' reads standard input")
        parser.add_argument("--publisher", required=True, help="the publisher account's SID (AC...)")
        parser.add_argument("--state", choices=Listing.State.values, help="also move the listing to this state")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, file, publisher, state, **options):
        as_json = options["json"]
        text = self._read(file)
        sid = normalize_sid(publisher, "AC")
        account = Account.objects.filter(sid=sid).first() if sid else None
        if account is None:
            raise CommandError(f"--publisher {publisher}: no such account")
        try:
            version = import_listing(manifest=load_manifest(text), publisher=account, state=state)
        except MarketplaceError as error:
            raise CommandError(_describe(error))
        listing = version.listing
        result = {
            "sid": listing.sid,
            "unique_name": listing.unique_name,
            "version_sid": version.sid,
            "billable_items": [{"sid": item.sid, "name": item.name} for item in listing.billable_items.all()],
        }
        if as_json:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                f"Imported {listing.unique_name} ({listing.sid}) version {version.number} ({version.sid}),"
                f" state {listing.state}"
            )

    def _read(self, file):
        if file == "-":
            return sys.stdin.read()
        try:
            return Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}")


def _describe(error):
    lines = [error.message]
    for detail in error.details or []:
        lines.append(f"  {detail['path']}: {detail['message']}")
    return "\n".join(lines)
