"""django-q2 task functions: each calls a service, so a task and a request behave alike."""

from recordings import services


def deliver_to_publisher(result_sid):
    services.deliver_to_publisher(result_sid=result_sid)


def notify_customer(result_sid):
    services.notify_customer(result_sid=result_sid)


def sweep_results():
    """Every minute: fail what is overdue, send again what a dead worker or a restarted
    broker lost, and the notifications it lost."""
    return {
        "failed": services.fail_overdue_results(),
        "redelivered": services.redeliver_stalled_results(),
        "notified": services.renotify_lost_notifications(),
    }
