from django.db import migrations


def seal(apps, schema_editor):
    from addons import credentials

    ListingVersion = apps.get_model("addons", "ListingVersion")
    for version in ListingVersion.objects.all().iterator():
        version.endpoint = credentials.seal_endpoint(version.endpoint)
        version.manifest = credentials.seal_manifest(version.manifest)
        version.save(update_fields=["endpoint", "manifest"])


class Migration(migrations.Migration):
    dependencies = [("addons", "0004_indexes_for_every_filter")]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
