"""The database cache's table (settings.CACHES without REDIS_URL), made by `migrate` so the
release step alone leaves a working circuit breaker and rate limiter: without it every cache
read fails and the breaker, failing open, silently never opens."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "marketplace_cache"  # the DatabaseCache LOCATION in marketplace/settings.py


def create_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)  # a no-op if it exists


def drop_table(apps, schema_editor):
    if TABLE in schema_editor.connection.introspection.table_names():
        schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_rate_counters")]

    operations = [migrations.RunPython(create_table, drop_table)]
