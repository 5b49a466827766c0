"""django-q2 task functions for billing."""

from billing import reconciliation, services


def close_last_month():
    """Publishers' statements and customers' invoices, closed on the 1st for the month before."""
    closed = services.close_last_month() + services.close_last_months_invoices()
    return [str(document) for document in closed]


def check_ledger():
    """Daily: the books checked; a difference is recorded for staff and logged as an error."""
    report, problems = reconciliation.run()
    return {"ok": report.ok, "problems": len(problems)}


def release_stale_holds():
    """Every few minutes: give back what a web process that died mid-lookup held."""
    return services.release_stale_holds()
