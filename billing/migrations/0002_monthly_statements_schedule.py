from datetime import UTC, datetime

from django.db import migrations

NAME = "Close last month's publisher statements"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    now = datetime.now(UTC)
    first_of_next_month = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, 0, 10, tzinfo=UTC)
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "billing.tasks.close_last_month",
            "schedule_type": "M",
            "repeats": -1,
            "next_run": first_of_next_month,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
