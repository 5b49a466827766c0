"""Reconciliation: the books checked against their own rules (docs/billing.md).

- every account's balance equals its ledger (credits - debits) minus its open holds;
- every billing event of a nonzero amount has exactly one ledger entry, the right way round
  and of its amount, and one of amount 0 has none; no debit is without its event;
- every charge has its cause: the billable invocation, the completed result (or, once the
  customer deleted it, the hold it charged), the report it came from; a charged hold has its
  event;
- every closed statement equals the sum of its events.

Each check is a few aggregate queries, whatever the number of events. `run()` records what
it found (a Reconciliation row, which staff read in the admin) and logs an error when the
books disagree.
"""

import logging
from collections import defaultdict
from decimal import Decimal

from django.apps import apps
from django.db import transaction
from django.db.models import F, Q, Sum

from addons.models import Invocation
from billing.models import Balance, BillingEvent, Hold, Invoice, LedgerEntry, Reconciliation, Statement
from billing.services import invoice_figures, money, statement_figures

logger = logging.getLogger(__name__)

PROBLEMS_KEPT = 200  # one sentence each; past this the count tells the size
PER_CALL = (BillingEvent.Kind.PER_USE, BillingEvent.Kind.PER_SUCCESS)


def _exact(value):
    """Sums come back as floats on SQLite: whole micro-dollars are what the books hold."""
    return money(value or 0)


def balance_problems():
    credits, debits, held = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    for row in LedgerEntry.objects.values("account_id", "kind").annotate(total=Sum("amount")).order_by():
        (credits if row["kind"] == LedgerEntry.Kind.CREDIT else debits)[row["account_id"]] += _exact(row["total"])
    for row in Hold.objects.filter(state=Hold.State.HELD).values("account_id").annotate(total=Sum("amount")).order_by():
        held[row["account_id"]] += _exact(row["total"])
    balances = {
        row["account_id"]: (row["account__sid"], _exact(row["amount"]))
        for row in Balance.objects.values("account_id", "account__sid", "amount")
    }
    problems = []
    for account_id in sorted(set(balances) | set(credits) | set(debits) | set(held)):
        sid, amount = balances.get(account_id, (f"account #{account_id}", Decimal("0")))
        expected = credits[account_id] - debits[account_id] - held[account_id]
        if amount != expected:
            problems.append(
                f"{sid}: balance {amount} USD, but its ledger ({_exact(credits[account_id])} credited,"
                f" {_exact(debits[account_id])} debited) less {_exact(held[account_id])} held makes {_exact(expected)}"
            )
    return problems, len(balances)


def entry_problems():
    problems = []
    charged = BillingEvent.objects.exclude(amount=0)
    for key in charged.filter(ledger_entry__isnull=True).values_list("key", flat=True)[:PROBLEMS_KEPT]:
        problems.append(f"billing event {key} has no ledger entry")
    wrong_way = charged.filter(
        Q(amount__gt=0, ledger_entry__kind=LedgerEntry.Kind.CREDIT)
        | Q(amount__lt=0, ledger_entry__kind=LedgerEntry.Kind.DEBIT)
    )
    for key in wrong_way.values_list("key", flat=True)[:PROBLEMS_KEPT]:
        problems.append(f"billing event {key} has a ledger entry the wrong way round")
    mismatched = charged.filter(ledger_entry__isnull=False).exclude(
        Q(amount__gt=0, ledger_entry__amount=F("amount")) | Q(amount__lt=0, ledger_entry__amount=-F("amount"))
    )
    for key, amount, entry in mismatched.values_list("key", "amount", "ledger_entry__amount")[:PROBLEMS_KEPT]:
        if _exact(entry) != abs(_exact(amount)):  # SQLite compares floats: confirm exactly
            problems.append(f"billing event {key} of {_exact(amount)} USD has a ledger entry of {_exact(entry)}")
    for key in BillingEvent.objects.filter(amount=0, ledger_entry__isnull=False).values_list("key", flat=True)[
        :PROBLEMS_KEPT
    ]:
        problems.append(f"billing event {key} of 0 USD has a ledger entry")
    orphans = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.DEBIT, billing_event__isnull=True)
    for entry_id, sid in orphans.values_list("id", "account__sid")[:PROBLEMS_KEPT]:
        problems.append(f"{sid}: debit #{entry_id} has no billing event")
    return problems


def cause_problems():
    problems = []
    per_call = BillingEvent.objects.filter(kind__in=PER_CALL).exclude(
        reference__in=Invocation.objects.filter(billable=True).values("sid")
    )
    for key in per_call.values_list("key", flat=True)[:PROBLEMS_KEPT]:
        problems.append(f"billing event {key} has no billable invocation")
    # Recordings sit above billing (layers): their results are read through the registry.
    AddOnResult = apps.get_model("recordings", "AddOnResult")
    per_minute = (
        BillingEvent.objects.filter(kind=BillingEvent.Kind.PER_MINUTE)
        .exclude(reference__in=AddOnResult.objects.filter(status="completed").values("sid"))
        .exclude(key__in=Hold.objects.filter(state=Hold.State.CHARGED).values("key"))
    )
    for key in per_minute.values_list("key", flat=True)[:PROBLEMS_KEPT]:
        problems.append(f"billing event {key} has no completed result")
    others = BillingEvent.objects.exclude(kind__in=(*PER_CALL, BillingEvent.Kind.PER_MINUTE)).filter(reference="")
    for key in others.values_list("key", flat=True)[:PROBLEMS_KEPT]:
        problems.append(f"billing event {key} names no report")
    unbilled = Hold.objects.filter(state=Hold.State.CHARGED).exclude(key__in=BillingEvent.objects.values("key"))
    for key in unbilled.values_list("key", flat=True)[:PROBLEMS_KEPT]:
        problems.append(f"hold {key} is charged but no billing event has its key")
    return problems


def statement_problems():
    problems = []
    closed = Statement.objects.filter(status=Statement.Status.CLOSED).select_related("publisher")
    for statement in closed.iterator():
        figures = statement_figures(statement.publisher, statement.period)
        fee = money(figures["gross"] * statement.fee_percent / 100)
        expected = {"events": figures["events"], "gross": figures["gross"], "fee": fee, "net": figures["gross"] - fee}
        problems += _differences(f"statement {statement.publisher.sid}", statement, expected)
    return problems


def invoice_problems():
    problems = []
    closed = Invoice.objects.filter(status=Invoice.Status.CLOSED).select_related("account")
    for invoice in closed.iterator():
        figures = invoice_figures(invoice.account, invoice.period)
        expected = {name: figures[name] for name in ("events", "charges", "credits", "total")}
        problems += _differences(f"invoice {invoice.account.sid}", invoice, expected)
    return problems


def _differences(what, document, expected):
    """A closed month's stored figures against what its events make now, one sentence each."""
    problems = []
    for name, value in expected.items():
        stored = getattr(document, name)
        if (stored if name == "events" else _exact(stored)) != value:
            problems.append(f"{what} {document.period:%Y-%m}: {name} is {stored}, its events make {value}")
    return problems


def check():
    """Every difference the books show, as sentences (empty when they balance)."""
    balances, accounts = balance_problems()
    problems = balances + entry_problems() + cause_problems() + statement_problems() + invoice_problems()
    return problems, accounts


def run():
    """Check, record the run for staff, and log an error when anything disagrees."""
    problems, accounts = check()
    with transaction.atomic():
        report = Reconciliation.objects.create(ok=not problems, accounts=accounts, problems=problems[:PROBLEMS_KEPT])
    if problems:
        logger.error(
            "check_ledger: %d difference(s) in the books; the first: %s (Reconciliation #%d in the admin)",
            len(problems),
            problems[0],
            report.id,
        )
    return report, problems
