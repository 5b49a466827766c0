"""`manage.py check_ledger`: the books checked against their rules; every kind of tampering
is reported, with a nonzero exit, a Reconciliation row staff read in the admin, and an error
in the log. (These tests unbalance the books on purpose, so they are not money tests: the
suite's own check after money tests lives in tests/fixtures/checks.py.)"""

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from billing import services
from billing.models import Balance, BillingEvent, Hold, Invoice, LedgerEntry, Reconciliation, Statement

NUMBER = "+14155552671"


def run_check():
    """The command's exit status and what it wrote to stderr."""
    import io

    err = io.StringIO()
    try:
        call_command("check_ledger", stdout=io.StringIO(), stderr=err)
    except SystemExit as exit:
        return exit.code, err.getvalue()
    return 0, err.getvalue()


@pytest.fixture
def books(api, customer, httpserver, installed_at, publisher):
    """Honest books: a credit, a charged lookup, a released one, a held recording estimate,
    a manual report, and last month's closed statement."""
    httpserver.expect_request("/ok").respond_with_json({"ok": True})
    httpserver.expect_request("/bad").respond_with_data("no", status=400)
    installed_at(httpserver.url_for("/ok"), unique_name="good")
    installed_at(httpserver.url_for("/bad"), unique_name="bad")
    reply = api.get(f"/v1/PhoneNumbers/{NUMBER}", {"AddOns": ["good", "bad"]})
    assert reply.status_code == 200
    assert services.place_holds(account=customer, wanted=[("result:XRopen", Decimal("0.05"))])
    listing = BillingEvent.objects.get().listing
    event = services.charge(
        key="usage:r1",
        kind="manual",
        account=customer,
        listing=listing,
        installation=None,
        quantity=2,
        price=Decimal("0.5"),
        reference="r1",
    )
    BillingEvent.objects.filter(pk=event.pk).update(date_created=datetime(2026, 10, 3, tzinfo=UTC))
    services.close_statement(publisher=publisher, period=date(2026, 10, 1))
    services.close_invoice(account=customer, period=date(2026, 10, 1))
    return customer


def test_honest_books_pass(books):
    assert Hold.objects.filter(state="held").count() == 1 and Hold.objects.filter(state="released").count() == 1
    assert run_check() == (0, "")
    report = Reconciliation.objects.get()
    assert report.ok and report.problems == [] and report.accounts >= 1


def test_a_tampered_balance_is_reported(books, caplog):
    Balance.objects.filter(account=books).update(amount=Decimal("1000"))
    with caplog.at_level(logging.ERROR, logger="billing.reconciliation"):
        status, err = run_check()
    assert status == 1
    assert f"{books.sid}: balance 1000.000000 USD" in err and "less 0.050000 held" in err
    report = Reconciliation.objects.get()
    assert not report.ok and books.sid in report.problems[0]
    assert "check_ledger: 1 difference(s)" in caplog.text


def test_a_missing_ledger_entry_is_reported(books):
    event = BillingEvent.objects.get(kind="per_use")
    entry = LedgerEntry.objects.get(billing_event=event)
    LedgerEntry.objects.filter(pk=entry.pk).update(billing_event=None)  # the event loses its debit
    status, err = run_check()
    assert status == 1
    assert f"billing event {event.key} has no ledger entry" in err
    assert f"debit #{entry.pk} has no billing event" in err


def test_a_ledger_entry_of_another_amount_is_reported(books):
    event = BillingEvent.objects.get(kind="manual")
    LedgerEntry.objects.filter(billing_event=event).update(amount=Decimal("0.01"))
    Balance.objects.filter(account=books).update(amount=books.balance.amount + Decimal("0.99"))  # kept in step
    status, err = run_check()
    assert status == 1 and f"billing event {event.key} of 1.000000 USD has a ledger entry of 0.010000" in err


def test_a_tampered_statement_is_reported(books, publisher):
    Statement.objects.filter(publisher=publisher).update(gross=Decimal("0.5"), net=Decimal("0.4"))
    status, err = run_check()
    assert status == 1
    assert f"statement {publisher.sid} 2026-10: gross is 0.500000, its events make 1.000000" in err
    assert "net is 0.400000, its events make 0.800000" in err


def test_a_tampered_invoice_is_reported(books):
    assert Invoice.objects.get(account=books).total == Decimal("1.000000")
    Invoice.objects.filter(account=books).update(charges=Decimal("0.25"), total=Decimal("0.25"))
    status, err = run_check()
    assert status == 1
    assert f"invoice {books.sid} 2026-10: charges is 0.250000, its events make 1.000000" in err
    assert "total is 0.250000, its events make 1.000000" in err


def test_a_charge_without_its_cause_is_reported(books):
    event = BillingEvent.objects.get(kind="per_use")
    BillingEvent.objects.filter(pk=event.pk).update(reference="XR" + "0" * 32)
    status, err = run_check()
    assert status == 1 and f"billing event {event.key} has no billable invocation" in err


def test_a_charged_hold_without_its_event_is_reported(books):
    Hold.objects.filter(key="result:XRopen").update(state="charged")
    status, err = run_check()
    assert status == 1 and "hold result:XRopen is charged but no billing event has its key" in err
    assert f"{books.sid}: balance" in err  # and the money it held is nowhere now


def test_the_check_runs_daily_and_stale_holds_are_swept(db):
    check = Schedule.objects.get(name="Check the ledger")
    assert (check.func, check.schedule_type, check.repeats) == ("billing.tasks.check_ledger", "D", -1)
    sweep = Schedule.objects.get(name="Release stale holds")
    assert (sweep.func, sweep.schedule_type, sweep.minutes) == ("billing.tasks.release_stale_holds", "I", 5)


def test_the_daily_task_records_its_run(books):
    from billing import tasks

    assert tasks.check_ledger() == {"ok": True, "problems": 0}
    assert Reconciliation.objects.get().ok
