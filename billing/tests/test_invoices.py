"""Customer invoices: a monthly statement per customer account (per add-on lines, credits,
totals), in the console and as CSV, closed by the same schedule as publisher statements."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing import services, tasks
from billing.models import BillingEvent, Invoice, Statement
from tests.fixtures.core import console_client

OCTOBER = date(2026, 10, 1)


def event(customer, listing, amount, key, when, *, kind="manual", quantity=1, reason=""):
    made = services.charge(
        key=key,
        kind=kind,
        account=customer,
        listing=listing,
        installation=None,
        quantity=quantity,
        price=Decimal(amount),
        reference=key,
        reason=reason,
    )
    BillingEvent.objects.filter(pk=made.pk).update(date_created=when)
    return made


@pytest.fixture
def october(customer, other_customer, listing, make_listing):
    """Customer One: two add-ons in October, a credit on one; one event in September and one
    in November that are not October's; Customer Two's event is theirs."""
    reports = make_listing(
        unique_name="reports", pricing={"model": "manual"}, billable_items=[{"name": "report", "price": "0.50"}]
    )
    day = datetime(2026, 10, 3, 12, tzinfo=UTC)
    event(customer, listing, "0.0020", "a", day)
    event(customer, listing, "0.0020", "b", datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC))
    event(customer, reports, "0.50", "c", day, kind="manual", quantity=4)
    event(customer, reports, "0.50", "d", day, kind="credit", quantity=-1, reason="a duplicate")
    event(customer, listing, "9", "sept", datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC))
    event(customer, listing, "9", "nov", datetime(2026, 11, 1, tzinfo=UTC))
    event(other_customer, listing, "7", "theirs", day)
    return customer


def test_figures_checked_by_hand(october):
    figures = services.invoice_figures(october, OCTOBER)
    assert (figures["events"], figures["charges"], figures["credits"], figures["total"]) == (
        4,
        Decimal("2.004"),
        Decimal("-0.5"),
        Decimal("1.504"),
    )
    assert figures["lines"] == [
        {"listing": "caller_insight", "publisher": figures["lines"][0]["publisher"], "events": 2,
         "charges": "0.004000", "credits": "0.000000", "total": "0.004000"},
        {"listing": "reports", "publisher": figures["lines"][1]["publisher"], "events": 2,
         "charges": "2.000000", "credits": "-0.500000", "total": "1.500000"},
    ]  # fmt: skip  # a table: one invoice line per row


# A late event is written into a closed month on purpose (closed stays closed), which
# check_ledger rightly reports as a difference.
@pytest.mark.unbalanced_books
def test_the_monthly_schedule_closes_invoices_with_statements(october, other_customer, publisher, listing):
    statements = services.close_last_month(today=date(2026, 11, 1))
    invoices = services.close_last_months_invoices(today=date(2026, 11, 1))
    assert [s.publisher for s in statements] == [publisher]
    assert sorted(i.account_id for i in invoices) == sorted([october.id, other_customer.id])
    mine = Invoice.objects.get(account=october, period=OCTOBER)
    assert (mine.status, mine.events, mine.total) == ("closed", 4, Decimal("1.504"))
    # Closed is closed: a late event does not change it, closing again returns the same row.
    event(october, listing, "1", "late", datetime(2026, 10, 5, tzinfo=UTC))
    again = services.close_last_months_invoices(today=date(2026, 11, 2))
    assert mine.pk in {i.pk for i in again}
    assert Invoice.objects.get(pk=mine.pk).total == Decimal("1.504")
    # The statement of the same month counts the publisher's side of the same events.
    assert Statement.objects.get(publisher=publisher, period=OCTOBER).gross == Decimal("1.504") + Decimal("7")


def test_the_scheduled_task_closes_both(october, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 1, 0, 5, tzinfo=UTC))
    closed = tasks.close_last_month()
    assert f"{october.sid} 2026-10" in closed and Invoice.objects.filter(period=OCTOBER).count() == 2


def test_the_console_page_and_csv(october, publisher):
    services.close_last_months_invoices(today=date(2026, 11, 1))
    console = console_client(october, "cust")
    page = console.get("/console/invoices/").content.decode()
    assert "October 2026" in page and "1.50" in page and "-0.50" in page
    reply = console.get("/console/invoices/2026-10.csv")
    assert reply["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(reply.content.decode())))
    assert rows[0] == ["add_on", "publisher", "events", "charges_usd", "credits_usd", "total_usd"]
    # Lines show what each add-on cost to the sixth place; totals are in cents.
    assert rows[1] == ["caller_insight", publisher.sid, "2", "0.004", "0.00", "0.004"]
    assert rows[2] == ["reports", publisher.sid, "2", "2.00", "-0.50", "1.50"]
    assert rows[-1] == ["total", "", "4", "2.00", "-0.50", "1.50"]


def test_an_open_months_csv_is_computed_now(october):
    rows = list(
        csv.reader(io.StringIO(console_client(october, "cust").get("/console/invoices/2026-09.csv").content.decode()))
    )
    assert rows[-1] == ["total", "", "1", "9.00", "0.00", "9.00"]


def test_invoices_are_the_accounts_own(october, other_customer):
    services.close_last_months_invoices(today=date(2026, 11, 1))
    console = console_client(other_customer, "other")
    page = console.get("/console/invoices/").content.decode()
    assert "1.50" not in page and "7.00" in page
    rows = list(csv.reader(io.StringIO(console.get("/console/invoices/2026-10.csv").content.decode())))
    assert rows[-1] == ["total", "", "1", "7.00", "0.00", "7.00"]


@pytest.mark.parametrize("period", ["2026-13", "soon", "2026-1"])
def test_a_bad_month_is_404(customer, period):
    assert console_client(customer, "cust").get(f"/console/invoices/{period}.csv").status_code == 404
