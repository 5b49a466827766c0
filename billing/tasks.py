"""django-q2 task functions for billing."""

from billing import services


def close_last_month():
    return [str(statement) for statement in services.close_last_month()]
