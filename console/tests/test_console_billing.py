"""Usage, balance and statements in the console."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import services
from billing.models import BillingEvent
from tests.fixtures.core import console_client


def charge(customer, listing, amount, key, when=None):
    event = services.charge(  # manual: a report is its own cause (check_ledger); no invocation to fake
        key=key,
        kind="manual",
        account=customer,
        listing=listing,
        installation=None,
        quantity=1,
        price=Decimal(amount),
        reference=key,
    )
    if when:
        BillingEvent.objects.filter(pk=event.pk).update(date_created=when)
    return event


def test_usage_page_shows_balance_chart_and_csv(customer, listing):
    console = console_client(customer, "cust")
    charge(customer, listing, "0.25", "a")
    charge(customer, listing, "0.50", "b", when=timezone.now() - timezone.timedelta(days=2))
    page = console.get("/console/usage/").content.decode()
    assert "99.25 USD" in page  # 100 of credit less 0.75: balances in cents
    assert "<svg" in page and "<rect" in page and "caller_insight" in page
    assert "marketplace-caller_insight" in page
    reply = console.get("/console/usage/?format=csv")
    rows = list(csv.reader(io.StringIO(reply.content.decode())))
    assert rows[0] == ["date", "add_on", "events", "usage", "amount_usd"]
    assert sorted(Decimal(r[4]) for r in rows[1:]) == [Decimal("0.25"), Decimal("0.5")]


def test_usage_is_the_accounts_own(customer, other_customer, listing):
    charge(other_customer, listing, "7.77", "theirs")
    page = console_client(customer, "cust").get("/console/usage/").content.decode()
    assert "7.77" not in page


def test_statements_page_and_csv_for_a_closed_month(publisher, customer, listing, settings):
    settings.MARKETPLACE_FEE_PERCENT = "20"
    charge(customer, listing, "10", "x", when=datetime(2026, 10, 3, tzinfo=UTC))
    services.close_statement(publisher=publisher, period=date(2026, 10, 1))
    console = console_client(publisher, "pub")
    page = console.get("/console/publisher/statements/").content.decode()
    assert "October 2026" in page and "8.00" in page and "8.000000" not in page
    rows = list(csv.reader(io.StringIO(console.get("/console/publisher/statements/2026-10.csv").content.decode())))
    assert rows[1] == ["caller_insight", "manual", "1", "1", "10.00"]
    assert rows[-3:] == [
        ["gross", "", "1", "", "10.00"],
        ["fee (20.00 %)", "", "", "", "2.00"],
        ["net", "", "", "", "8.00"],
    ]


def test_statements_are_for_publishers(customer):
    console = console_client(customer, "cust")
    assert console.get("/console/publisher/statements/").status_code == 404
    assert console.get("/console/publisher/statements/2026-10.csv").status_code == 404


@pytest.mark.parametrize("period", ["2026-13", "soon"])
def test_a_bad_month_is_404(publisher, period):
    assert console_client(publisher, "pub").get(f"/console/publisher/statements/{period}.csv").status_code == 404


def test_staff_add_credit_in_the_admin(admin_client, customer, admin_user):
    reply = admin_client.post(
        "/admin/billing/ledgerentry/add/", {"account": customer.pk, "amount": "12.5", "reason": "Welcome credit"}
    )
    assert reply.status_code == 302
    assert services.balance_of(customer) == Decimal("112.5")
    entry = customer.ledger.order_by("-id").first()
    assert (entry.kind, entry.amount, entry.reason, entry.created_by) == (
        "credit",
        Decimal("12.5"),
        "Welcome credit",
        admin_user,
    )


def test_the_admin_refuses_a_non_positive_credit(admin_client, customer):
    reply = admin_client.post(
        "/admin/billing/ledgerentry/add/", {"account": customer.pk, "amount": "-3", "reason": "x"}
    )
    assert reply.status_code == 200 and "more than 0" in reply.content.decode()
    assert services.balance_of(customer) == Decimal("100")
