from django.core.management.base import BaseCommand
from django.db import transaction

from addons import credentials
from addons.models import ListingVersion

BATCH = 500


class Command(BaseCommand):
    help = (
        "Seal every publisher credential again under the newest CREDENTIALS_KEY (the first of the "
        "list), after putting a new key in front; then the old keys may be dropped."
    )

    def handle(self, *args, **options):
        resealed = 0
        pks = list(ListingVersion.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), BATCH):
            # Locked while re-sealed, so a version saved meanwhile is never overwritten with an older copy.
            with transaction.atomic():
                versions = ListingVersion.objects.select_for_update().filter(pk__in=pks[start : start + BATCH])
                for version in versions:
                    endpoint = credentials.reseal_endpoint(version.endpoint)
                    manifest = credentials.reseal_manifest(version.manifest)
                    if endpoint != version.endpoint or manifest != version.manifest:
                        version.endpoint, version.manifest = endpoint, manifest
                        version.save(update_fields=["endpoint", "manifest"])
                        resealed += 1
        self.stdout.write(f"Re-sealed the credentials of {resealed} listing version(s) under the newest key.")
