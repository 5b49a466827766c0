"""django-q2 task functions: each calls a service, so a task and a request behave alike."""

from recordings import services


def deliver_to_publisher(result_sid):
    services.deliver_to_publisher(result_sid=result_sid)


def notify_customer(result_sid):
    services.notify_customer(result_sid=result_sid)


def fail_overdue_results():
    return services.fail_overdue_results()
