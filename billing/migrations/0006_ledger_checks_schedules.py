from django.db import migrations

CHECK = "Check the ledger"
RELEASE = "Release stale holds"


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=CHECK,
        defaults={"func": "billing.tasks.check_ledger", "schedule_type": "D", "repeats": -1},
    )
    Schedule.objects.update_or_create(
        name=RELEASE,
        defaults={"func": "billing.tasks.release_stale_holds", "schedule_type": "I", "minutes": 5, "repeats": -1},
    )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=[CHECK, RELEASE]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_holds"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
