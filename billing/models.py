from decimal import Decimal

from django.conf import settings
from django.db import models

from accounts.models import Account
from addons.contract import PricingModel
from addons.models import BillableItem, InstalledAddOn, Listing

# USD with six decimal places: add-on prices go down to $0.0001 and below. Never floats.
MONEY = {"max_digits": 18, "decimal_places": 6}
# No single event may bill more than this: a runaway report is refused by the database itself.
EVENT_CEILING = Decimal("1000000")


class BillingEvent(models.Model):
    """One billable occurrence. `key` makes it idempotent: a retried task or a replayed
    report finds its event already there and bills nothing more."""

    # Each pricing model, and CREDIT: a publisher's negative manual report (negative quantity
    # and amount, with a reason).
    Kind = models.TextChoices("Kind", [*((model.name, model.value) for model in PricingModel), ("CREDIT", "credit")])

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # No single-column indexes: the composites below start with these columns and serve
    # their lookups too; alone, PostgreSQL's planner picked them and read whole histories.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="billing_events", db_index=False)
    publisher = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="earning_events", db_index=False)
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="billing_events")
    installation = models.ForeignKey(
        InstalledAddOn, null=True, blank=True, on_delete=models.SET_NULL, related_name="billing_events"
    )
    billable_item = models.ForeignKey(
        BillableItem, null=True, blank=True, on_delete=models.PROTECT, related_name="billing_events"
    )
    # What it is for: the invocation or result (XR) it bills, or the usage report's token.
    reference = models.CharField(max_length=128, blank=True)
    # Why a credit was given (the publisher's words, shown to the customer); empty otherwise.
    reason = models.CharField(max_length=255, blank=True)
    quantity = models.DecimalField(**MONEY)
    unit_price = models.DecimalField(**MONEY)
    amount = models.DecimalField(**MONEY)
    date_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # usage by account and day; statements by publisher and month
            models.Index(fields=["account", "date_created"], name="be_account_date"),
            models.Index(fields=["publisher", "date_created"], name="be_publisher_date"),
        ]
        constraints = [
            # A charge is positive, a credit negative; both within the ceiling.
            models.CheckConstraint(
                condition=(
                    ~models.Q(kind="credit") & models.Q(quantity__gt=0, amount__gte=0, amount__lte=EVENT_CEILING)
                )
                | models.Q(kind="credit", quantity__lt=0, amount__lt=0, amount__gte=-EVENT_CEILING),
                name="billing_event_amount_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.key} {self.amount} USD"


class Balance(models.Model):
    """A customer's prepaid balance: the sum of its ledger, kept in step in one transaction."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="balance")
    amount = models.DecimalField(**MONEY, default=Decimal("0"))
    date_updated = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.account.sid}: {self.amount} USD"


class LedgerEntry(models.Model):
    """A credit (staff, payments) or a debit (a billing event) on a balance."""

    class Kind(models.TextChoices):
        CREDIT = "credit"
        DEBIT = "debit"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)  # always positive; kind says which way
    reason = models.CharField(max_length=255)
    billing_event = models.OneToOneField(
        BillingEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entry"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    date_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["account", "id"], name="ledger_account_id")]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="ledger_amount_positive")]

    def __str__(self):
        return f"{self.kind} {self.amount} USD: {self.reason}"


class Statement(models.Model):
    """A publisher's month: gross earnings, the platform's fee, and what is paid out."""

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    publisher = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="statements")
    period = models.DateField()  # the month's first day
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    events = models.PositiveIntegerField(default=0)
    gross = models.DecimalField(**MONEY, default=Decimal("0"))
    fee_percent = models.DecimalField(max_digits=5, decimal_places=2)
    fee = models.DecimalField(**MONEY, default=Decimal("0"))
    net = models.DecimalField(**MONEY, default=Decimal("0"))
    lines = models.JSONField(default=list)  # per listing and kind, as computed at closing
    date_closed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period", "publisher_id"]
        constraints = [models.UniqueConstraint(fields=["publisher", "period"], name="one_statement_a_month")]

    def __str__(self):
        return f"{self.publisher.sid} {self.period:%Y-%m}"


class UsageReport(models.Model):
    """A manual usage report sent with an idempotency token: the first answer, kept so a
    replay of the same request answers exactly it, and a different request under the same
    token is refused. Only accepted (202) reports are kept, as Stripe does."""

    publisher = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage_reports")
    token = models.CharField(max_length=100)
    # sha256 of the installation SID and the canonical JSON body
    digest = models.CharField(max_length=64)
    response = models.JSONField(default=dict)
    date_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["publisher", "token"], name="one_usage_report_a_token")]

    def __str__(self):
        return f"{self.publisher.sid} {self.token}"


class Invoice(models.Model):
    """A customer's month: per add-on charges and credits and the total, closed with the
    publishers' statements by the monthly schedule."""

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="invoices")
    period = models.DateField()  # the month's first day
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    events = models.PositiveIntegerField(default=0)
    charges = models.DecimalField(**MONEY, default=Decimal("0"))
    credits = models.DecimalField(**MONEY, default=Decimal("0"))  # zero or negative
    total = models.DecimalField(**MONEY, default=Decimal("0"))
    lines = models.JSONField(default=list)  # per add-on, as computed at closing
    date_closed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period", "account_id"]
        constraints = [models.UniqueConstraint(fields=["account", "period"], name="one_invoice_a_month")]

    def __str__(self):
        return f"{self.account.sid} {self.period:%Y-%m}"


class Hold(models.Model):
    """Money set aside for priced work before the publisher is called (the balance is what is
    left available): charged when the work turns out billable, released when it does not.
    Its key is the key of the billing event that would charge it."""

    class State(models.TextChoices):
        HELD = "held"
        CHARGED = "charged"
        RELEASED = "released"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    amount = models.DecimalField(**MONEY)
    key = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.HELD)
    date_created = models.DateTimeField(auto_now_add=True)
    date_settled = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # what is held per account (reconciliation), and stale holds (the sweep)
            models.Index(fields=["state", "account"], name="hold_state_account"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="hold_amount_positive")]

    def __str__(self):
        return f"{self.key} {self.amount} USD {self.state}"


class Reconciliation(models.Model):
    """One run of `check_ledger`: what it found. Staff read the failed ones in the admin."""

    date_created = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    accounts = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list)  # one sentence per difference, capped

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["ok", "id"], name="reconciliation_ok_id")]

    def __str__(self):
        return f"{self.date_created:%Y-%m-%d %H:%M} {'ok' if self.ok else f'{len(self.problems)} problem(s)'}"
