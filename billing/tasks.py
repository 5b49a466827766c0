"""django-q2 task functions for billing."""

from billing import services


def close_last_month():
    """Publishers' statements and customers' invoices, closed on the 1st for the month before."""
    closed = services.close_last_month() + services.close_last_months_invoices()
    return [str(document) for document in closed]
