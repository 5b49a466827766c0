"""The debugger's writes: a notification (NO) for one account.

Below billing and invocation, so both can tell an account what went wrong."""

from addons.models import Notification


def notify(*, account, code, message, level=Notification.Level.WARNING, resource_sid=""):
    return Notification.objects.create(
        account=account, log_level=level, error_code=code, message=message, resource_sid=resource_sid
    )
