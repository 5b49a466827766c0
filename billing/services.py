"""Metering and money: billing events, the prepaid ledger, manual usage, statements.

Every charge is a BillingEvent with a unique key and its ledger debit, written in the same
transaction as what caused it; writing an event that already exists bills nothing more.
"""

import calendar
import math
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Sum, Value, When
from django.utils import timezone

from accounts.models import Account
from addons.models import BillableItem, InstalledAddOn, Listing
from billing.models import Balance, BillingEvent, Hold, LedgerEntry, Statement
from marketplace.errors import InvalidParameter, MarketplaceError

MICRO = Decimal("0.000001")
# Amounts are whole micro-dollars; SQLite does decimal arithmetic in binary floating point,
# so "covers" is compared with half a micro-dollar to spare (exact on PostgreSQL either way).
HALF_MICRO = Decimal("0.0000005")


def money(value):
    return Decimal(value).quantize(MICRO, rounding=ROUND_HALF_UP)


# --- prices and balances ------------------------------------------------------------------


def unit_price(pricing):
    """The per-use, per-success or per-minute price of a version's pricing (0 if none)."""
    return Decimal(pricing.get("price") or "0")


def balance_of(account):
    row = Balance.objects.filter(account=account).values_list("amount", flat=True).first()
    return row if row is not None else Decimal("0")


def _balance_row(account):
    try:
        with transaction.atomic():
            return Balance.objects.get_or_create(account=account)[0]
    except IntegrityError:  # created concurrently
        return Balance.objects.get(account=account)


@transaction.atomic
def add_credit(*, account, amount, reason, user=None):
    """Staff (or a payment) adds prepaid credit."""
    try:
        amount = money(amount)
    except (InvalidOperation, TypeError):
        raise InvalidParameter("The amount must be a decimal number of USD", param="amount")
    if amount <= 0:
        raise InvalidParameter("A credit must be more than 0 USD", param="amount")
    if not reason or not reason.strip():
        raise InvalidParameter("A credit needs a reason", param="reason")
    _balance_row(account)
    Balance.objects.filter(account=account).update(amount=F("amount") + amount)
    return LedgerEntry.objects.create(account=account, kind=LedgerEntry.Kind.CREDIT, amount=amount, reason=reason, created_by=user)


# --- charging -----------------------------------------------------------------------------


def charge(*, key, kind, account, listing, installation, quantity, price, reference, billable_item=None, held=False):
    """Write the event and its debit, once. Returns the event, or None when it already was.

    Runs inside the caller's transaction. With `held`, the hold of the same key (placed
    before the work) becomes the charge: the balance moves only by what the two differ.
    Without one, a usage the customer had is never dropped, so the balance may go below zero.
    """
    amount = money(Decimal(quantity) * price)
    try:
        with transaction.atomic():
            event = BillingEvent.objects.create(
                key=key,
                kind=kind,
                account=account,
                publisher_id=listing.publisher_id,
                listing=listing,
                installation=installation,
                billable_item=billable_item,
                reference=reference,
                quantity=quantity,
                unit_price=price,
                amount=amount,
            )
    except IntegrityError:
        if BillingEvent.objects.filter(key=key).exists():
            return None  # billed before: a retried task or a replayed report
        raise
    holds = _take_hold(key) if held else {}
    _settle(account, [event] if amount > 0 else [], holds)
    return event


def charge_invocations(invocations, holds=None):
    """Per-use and per-success events for the billable invocations of one event, written
    in a constant number of queries (the invocations are new, so no key can exist yet).
    `holds` ({key: amount}) are the event's holds: each becomes its invocation's charge, or
    is released when the invocation is not billable."""
    holds = holds or {}
    events = [
        BillingEvent(
            key=f"invocation:{invocation.sid}",
            kind=invocation.version.pricing["model"],
            account=invocation.account,
            publisher_id=invocation.listing.publisher_id,
            listing=invocation.listing,
            installation=invocation.installation,
            reference=invocation.sid,
            quantity=1,
            unit_price=unit_price(invocation.version.pricing),
            amount=money(unit_price(invocation.version.pricing)),
        )
        for invocation in invocations
        if invocation.billable
    ]
    if events:
        BillingEvent.objects.bulk_create(events)
    if events or holds:
        account = events[0].account if events else invocations[0].account
        if holds:
            Hold.objects.filter(key__in=list(holds), state=Hold.State.HELD).update(
                state=Case(
                    When(key__in=[event.key for event in events], then=Value(Hold.State.CHARGED)),
                    default=Value(Hold.State.RELEASED),
                ),
                date_settled=timezone.now(),
            )
        _settle(account, [event for event in events if event.amount > 0], holds)
    return events


def _settle(account, events, holds):
    """Ledger debits for `events`; the balance gets back what `holds` set aside and pays the
    events: no UPDATE at all when every hold was charged at its amount (the usual case)."""
    change = sum(holds.values(), Decimal("0")) - sum((event.amount for event in events), Decimal("0"))
    if change:
        move_balance(account, change)
    if not events:
        return
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            account=account,
            kind=LedgerEntry.Kind.DEBIT,
            amount=event.amount,
            reason=f"{event.listing.unique_name} ({event.kind})",
            billing_event=event,
        )
        for event in events
    )


def move_balance(account, change):
    """Add `change` (negative: take) to the balance, unconditionally: money already decided."""
    # The row exists after an account's first credit or charge: one UPDATE, no read, then.
    if not Balance.objects.filter(account=account).update(amount=F("amount") + change):
        _balance_row(account)
        Balance.objects.filter(account=account).update(amount=F("amount") + change)


# --- holds --------------------------------------------------------------------------------


def place_holds(*, account, wanted):
    """Set aside the cost of priced work before the publisher is called; returns the keys
    held. `wanted` is [(key, amount)] in the order the work was asked for.

    The whole event is one conditional UPDATE (`amount >= total`), which the database runs
    atomically however many requests race for the same balance; when the balance does not
    cover it all, each add-on in order is held if what is left covers it (one conditional
    UPDATE each), so a nearly empty balance serves exactly as many as it covers.
    """
    wanted = [(key, amount) for key, amount in wanted if amount > 0]
    if not wanted:
        return set()
    with transaction.atomic():
        total = sum((amount for _, amount in wanted), Decimal("0"))
        if _take(account, total):
            taken = wanted
        elif len(wanted) == 1:
            taken = []
        else:
            taken = [(key, amount) for key, amount in wanted if _take(account, amount)]
        Hold.objects.bulk_create(Hold(account=account, key=key, amount=amount) for key, amount in taken)
    return {key for key, _ in taken}


def _take(account, amount):
    covered = Balance.objects.filter(account=account, amount__gt=amount - HALF_MICRO)
    return covered.update(amount=F("amount") - amount) == 1


def hold(*, account, key, amount):
    """One hold (a recording's estimated cost). True when held now or before (a redelivered
    task finds its hold in place), False when the balance does not cover it."""
    if amount <= 0:
        return True
    if Hold.objects.filter(key=key, state=Hold.State.HELD).exists():
        return True
    try:
        return bool(place_holds(account=account, wanted=[(key, amount)]))
    except IntegrityError:  # the same work held concurrently, or settled already
        return Hold.objects.filter(key=key, state=Hold.State.HELD).exists()


def release_hold(*, key):
    """Give back what a hold set aside (the work failed or is not billable); once."""
    row = Hold.objects.filter(key=key, state=Hold.State.HELD).values_list("account_id", "amount").first()
    if row is None:
        return None
    with transaction.atomic():
        if Hold.objects.filter(key=key, state=Hold.State.HELD).update(
            state=Hold.State.RELEASED, date_settled=timezone.now()
        ):
            move_balance(Account(id=row[0]), row[1])
            return row[1]
    return None


def _take_hold(key):
    """The hold of `key` turned into its charge: {key: amount}, or {} when there is none."""
    amount = Hold.objects.filter(key=key, state=Hold.State.HELD).values_list("amount", flat=True).first()
    if amount is None:
        return {}
    moved = Hold.objects.filter(key=key, state=Hold.State.HELD).update(
        state=Hold.State.CHARGED, date_settled=timezone.now()
    )
    return {key: amount} if moved else {}


STALE_INVOCATION_HOLD = timedelta(minutes=10)


def release_stale_holds(now=None):
    """Invocation holds are settled in the request that placed them, within seconds; one
    still held after minutes belongs to a process that died before recording its calls."""
    now = now or timezone.now()
    stale = Hold.objects.filter(
        state=Hold.State.HELD, key__startswith="invocation:", date_created__lt=now - STALE_INVOCATION_HOLD
    )
    keys = list(stale.values_list("key", flat=True)[:1000])
    return sum(1 for key in keys if release_hold(key=key) is not None)


def minutes_of(duration_ms):
    return math.ceil(duration_ms / 60000)


def charge_result_minutes(result, version):
    """Per started minute of audio, for a completed recording result."""
    if result.billable_minutes <= 0:
        return None
    return charge(
        key=f"result:{result.sid}",
        kind=BillingEvent.Kind.PER_MINUTE,
        account=result.account,
        listing=result.listing,
        installation=result.installation,
        quantity=result.billable_minutes,
        price=unit_price(version.pricing),
        reference=result.sid,
        held=True,
    )


# --- manual usage reporting ---------------------------------------------------------------


class UsageRefused(MarketplaceError):
    """A usage report answered as the Marketplace API's error table says."""

    def __init__(self, message, *, status, level="warning", code=None):
        super().__init__(message, status=status, code=code or {400: 20001, 403: 20403, 404: 20404}.get(status, 20500))
        self.level = level


REPORTABLE_STATES = (Listing.State.MARKETING_PREVIEW, Listing.State.PRIVATE_BETA, Listing.State.ACTIVE)


def report_usage(*, publisher, installation_sid, items, token=""):
    """The publisher reports usage of its billable items on a customer's installation.

    `items` is the parsed `billable_items` list; `token` identifies the report, so sending
    it again (or twice at once) bills each item once.
    """
    installation = (
        InstalledAddOn.objects.select_related("listing", "version", "account").filter(sid=installation_sid).first()
    )
    if installation is None:
        raise UsageRefused(f"No add-on is installed with the SID {installation_sid}", status=404)
    listing = installation.listing
    if listing.publisher_id != publisher.id:
        raise UsageRefused("The account making the request is not the add-on's publisher", status=403)
    if listing.pricing_type != "manual":
        raise UsageRefused("The add-on is not set up to accept manual usage reporting", status=403)
    if listing.state not in REPORTABLE_STATES:
        raise UsageRefused(
            "The add-on is not in the Marketing Preview, Private Beta or Active state", status=403
        )
    quantities = [_quantity(item, index) for index, item in enumerate(items)]
    prices = _item_prices(installation)
    known = {item.sid: item for item in BillableItem.objects.filter(listing=listing)}
    report = token or timezone.now().strftime("%Y%m%dT%H%M%S.%f")
    submitted = []
    try:
        with transaction.atomic():
            for item, quantity in zip(items, quantities):
                billable_item = known.get(item.get("sid"))
                if billable_item is None or billable_item.name not in prices:
                    submitted.append(False)
                    continue
                charge(
                    key=f"usage:{installation.sid}:{report}:{billable_item.sid}",
                    kind=BillingEvent.Kind.MANUAL,
                    account=installation.account,
                    listing=listing,
                    installation=installation,
                    billable_item=billable_item,
                    quantity=quantity,
                    price=prices[billable_item.name],
                    reference=report[:64],
                )
                submitted.append(True)
    except (IntegrityError, InvalidOperation) as error:
        raise UsageRefused(f"A billing event could not be generated: {error.__class__.__name__}", status=500, level="error")
    total = sum((q for q, ok in zip(quantities, submitted) if ok), Decimal("0"))
    return {
        "total_submitted": float(total),
        "billable_items": [
            {"sid": item.get("sid"), "quantity": float(quantity), "submitted": ok}
            for item, quantity, ok in zip(items, quantities, submitted)
        ],
    }


def _quantity(item, index):
    if not isinstance(item, dict) or not isinstance(item.get("sid"), str):
        raise UsageRefused(f"billable_items[{index}] must be an object with a string sid and a quantity", status=400)
    value = item.get("quantity")
    if value is None or value == "" or isinstance(value, bool):
        raise UsageRefused(f"billable_items[{index}].quantity is null or empty", status=400)
    try:
        quantity = Decimal(str(value))
    except InvalidOperation:
        raise UsageRefused(f"billable_items[{index}].quantity is not a number", status=400)
    if not quantity.is_finite() or quantity <= 0:
        raise UsageRefused(f"billable_items[{index}].quantity must be greater than 0", status=400)
    return quantity


def _item_prices(installation):
    """Item prices of the installation's pinned version, then of the current one."""
    prices = dict(installation.listing.latest_version.pricing.get("billable_items", {}))
    prices.update(installation.version.pricing.get("billable_items", {}))
    return {name: Decimal(price) for name, price in prices.items()}


# --- statements ---------------------------------------------------------------------------


def month_bounds(period):
    start = timezone.make_aware(datetime.combine(period.replace(day=1), time.min))
    days = calendar.monthrange(period.year, period.month)[1]
    end = timezone.make_aware(datetime.combine(date(period.year, period.month, days), time.max))
    return start, end


def statement_figures(publisher, period):
    """Gross, fee and net of a publisher's month, aggregated in the database."""
    start, end = month_bounds(period)
    events = BillingEvent.objects.filter(publisher=publisher, date_created__gte=start, date_created__lte=end)
    lines = list(
        events.values("listing__unique_name", "kind")
        .annotate(events=Count("id"), quantity=Sum("quantity"), gross=Sum("amount"))
        .order_by("listing__unique_name", "kind")
    )
    gross = sum((line["gross"] for line in lines), Decimal("0"))
    fee_percent = Decimal(str(settings.MARKETPLACE_FEE_PERCENT))
    fee = money(gross * fee_percent / 100)
    return {
        "events": sum(line["events"] for line in lines),
        "gross": money(gross),
        "fee_percent": fee_percent,
        "fee": fee,
        "net": money(gross) - fee,
        "lines": [
            {
                "listing": line["listing__unique_name"],
                "kind": line["kind"],
                "events": line["events"],
                "quantity": str(money(line["quantity"])),
                "gross": str(money(line["gross"])),
            }
            for line in lines
        ],
    }


@transaction.atomic
def close_statement(*, publisher, period):
    """Write the month's statement and close it; closing twice changes nothing."""
    period = period.replace(day=1)
    existing = Statement.objects.select_for_update().filter(publisher=publisher, period=period).first()
    if existing is not None and existing.status == Statement.Status.CLOSED:
        return existing
    figures = statement_figures(publisher, period)
    statement, _ = Statement.objects.update_or_create(
        publisher=publisher,
        period=period,
        defaults={**figures, "status": Statement.Status.CLOSED, "date_closed": timezone.now()},
    )
    return statement


def close_last_month(today=None):
    """The monthly schedule's work: close every publisher's previous month."""
    today = today or timezone.now().date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    publishers = Account.objects.filter(is_publisher=True)
    return [close_statement(publisher=publisher, period=last_month) for publisher in publishers]
