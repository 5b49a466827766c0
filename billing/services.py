"""Metering and money: billing events, the prepaid ledger, manual usage, statements.

Every charge is a BillingEvent with a unique key and its ledger debit, written in the same
transaction as what caused it; writing an event that already exists bills nothing more.
"""

import calendar
import hashlib
import json
import math
import re
import uuid
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.utils import timezone

from accounts.models import Account
from addons.contract import LIVE_STATES, PricingModel
from addons.models import BillableItem, InstalledAddOn, Notification
from billing.models import Balance, BillingEvent, Hold, Invoice, LedgerEntry, Statement, UsageReport
from billing.money import format_money
from marketplace import codes
from marketplace.errors import InvalidParameter, MarketplaceError
from marketplace.sids import normalize_sid

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
    return LedgerEntry.objects.create(
        account=account, kind=LedgerEntry.Kind.CREDIT, amount=amount, reason=reason, created_by=user
    )


# --- charging -----------------------------------------------------------------------------


def charge(
    *, key, kind, account, listing, installation, quantity, price, reference, billable_item=None, reason="", held=False
):
    """Write the event and its debit (or, for a publisher's credit, its ledger credit),
    once. Returns the event, or None when it already was.

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
                reason=reason,
                quantity=quantity,
                unit_price=price,
                amount=amount,
            )
    except IntegrityError:
        if BillingEvent.objects.filter(key=key).exists():
            return None  # billed before: a retried task or a replayed report
        raise
    if amount < 0:
        _credit_event(account, event)  # a credit is never held for
        return event
    holds = _take_hold(key) if held else {}
    _settle(account, [event] if amount > 0 else [], holds)
    return event


def _credit_event(account, event):
    """A publisher's credit: one ledger credit of the event's (negative) amount."""
    _balance_row(account)
    Balance.objects.filter(account=account).update(amount=F("amount") - event.amount)
    LedgerEntry.objects.create(
        account=account,
        kind=LedgerEntry.Kind.CREDIT,
        amount=-event.amount,
        reason=f"{event.listing.unique_name} credit: {event.reason}"[:255],
        billing_event=event,
    )


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

    def __init__(self, message, *, status, level="warning", code=None, param=None):
        super().__init__(
            message,
            status=status,
            param=param,
            code=code or codes.BY_STATUS.get(status, codes.INTERNAL_ERROR),
        )
        self.level = level


REPORTABLE_STATES = LIVE_STATES
# The idempotency token's documented length: a longer one is refused, never cut.
TOKEN_MAX_LENGTH = 100
QUANTITY_PLACES = 6
QUANTITY_TEXT = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
REASON_MAX_LENGTH = 255


def report_usage(*, publisher, installation_sid, items, token=""):
    """The publisher reports usage of its billable items on a customer's installation, as
    the request has it: `installation_sid` as given, `items` the body's billable_items.
    Every refusal is also told to the publisher's debugger (and raised)."""
    try:
        if not isinstance(items, list) or not items:
            raise UsageRefused("The body must be a JSON object with a non-empty billable_items list", status=400)
        sid = normalize_sid(installation_sid, "XE")
        if sid is None:
            raise UsageRefused(f"No add-on is installed with the SID {installation_sid}", status=404)
        return _report_usage(publisher=publisher, installation_sid=sid, items=items, token=token)
    except UsageRefused as refusal:
        Notification.objects.create(
            account=publisher,
            log_level=Notification.Level.ERROR if refusal.level == "error" else Notification.Level.WARNING,
            error_code=refusal.code,
            message=f"Usage report for {installation_sid}: {refusal.message}",
            resource_sid=installation_sid[:34],
        )
        raise


def _report_usage(*, publisher, installation_sid, items, token=""):
    """The publisher reports usage of its billable items on a customer's installation.

    Billed by the installation's pinned version: its pricing model, items and prices. A
    negative quantity is a credit (with a `reason`), up to what this publisher billed this
    installation in the open month. `token` keys the request: the same request again answers
    what the first did; a different one under the same token is a 409.
    """
    if len(token) > TOKEN_MAX_LENGTH or not token.isprintable():
        raise UsageRefused(
            f"The I-Twilio-Idempotency-Token header must be at most {TOKEN_MAX_LENGTH} printable characters",
            status=400,
            param="I-Twilio-Idempotency-Token",
        )
    installation = (
        InstalledAddOn.objects.select_related("listing", "version", "account").filter(sid=installation_sid).first()
    )
    if installation is None:
        raise UsageRefused(f"No add-on is installed with the SID {installation_sid}", status=404)
    listing = installation.listing
    if listing.publisher_id != publisher.id:
        raise UsageRefused("The account making the request is not the add-on's publisher", status=403)
    pricing = installation.version.pricing
    if pricing.get("model") != PricingModel.MANUAL:
        raise UsageRefused("The add-on is not set up to accept manual usage reporting", status=403)
    if listing.state not in REPORTABLE_STATES:
        raise UsageRefused("The add-on is not in the Marketing Preview, Private Beta or Active state", status=403)
    lines = _usage_lines(items)
    digest = hashlib.sha256(
        # 2, 2.0 and "2" are the same quantity, so the same request
        json.dumps([installation.sid, [[sid, format(q.normalize(), "f"), why] for sid, q, why in lines]]).encode()
    ).hexdigest()
    if token:
        replayed = _replayed(publisher, token, digest)
        if replayed is not None:
            return replayed
    pinned = _pinned_items(installation)
    limits = _item_limits(pricing)
    try:
        with transaction.atomic():
            if token:
                try:
                    with transaction.atomic():
                        report = UsageReport.objects.create(publisher=publisher, token=token, digest=digest)
                except IntegrityError:  # the same token at the same moment: answer as it did
                    report = None
                if report is None:
                    return _replayed(publisher, token, digest, wait=True)
            body, charged = _bill_report(installation, lines, pinned, limits, token or uuid.uuid4().hex)
            if token:
                report.response = body
                report.save(update_fields=["response"])
            balance = balance_of(installation.account)
    except (IntegrityError, InvalidOperation) as error:
        raise UsageRefused(
            f"A billing event could not be generated: {error.__class__.__name__}", status=500, level="error"
        )
    if charged > 0 and balance < 0 <= balance + charged:
        _alert_below_zero(installation, balance)
    return _answer(body)


def _usage_lines(items):
    """(sid, quantity, reason) per item, every item checked before anything is billed."""
    lines, seen = [], set()
    for index, item in enumerate(items):
        name = f"billable_items[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("sid"), str) or len(item["sid"]) > 64:
            raise UsageRefused(f"{name} must be an object with a string sid and a quantity", status=400, param=name)
        if item["sid"] in seen:
            raise UsageRefused(
                f"{name}.sid {item['sid']} appears more than once: report each billable item once per request",
                status=400,
                param=f"{name}.sid",
            )
        seen.add(item["sid"])
        quantity = _quantity(item.get("quantity"), f"{name}.quantity")
        reason = item.get("reason")
        if quantity < 0:
            if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_MAX_LENGTH:
                raise UsageRefused(
                    f"{name}.reason: a negative quantity is a credit and needs a reason "
                    f"(a string of 1 to {REASON_MAX_LENGTH} characters)",
                    status=400,
                    param=f"{name}.reason",
                )
            reason = reason.strip()
        else:
            reason = ""
        lines.append((item["sid"], quantity, reason))
    return lines


def _quantity(value, name):
    """A nonzero decimal with at most six places: JSON numbers arrive as Decimal or int."""
    if value is None or value == "" or isinstance(value, bool):
        raise UsageRefused(f"{name} is null or empty", status=400, param=name)
    if isinstance(value, (int, Decimal)):
        quantity = Decimal(value)
    elif isinstance(value, str) and QUANTITY_TEXT.fullmatch(value):
        quantity = Decimal(value)
    else:
        raise UsageRefused(f"{name} is not a decimal number", status=400, param=name)
    if not quantity.is_finite():
        raise UsageRefused(f"{name} is not a finite decimal number", status=400, param=name)
    if quantity == 0:
        raise UsageRefused(
            f"{name} is 0: report a quantity greater than 0 (or a negative credit)", status=400, param=name
        )
    if quantity.normalize().as_tuple().exponent < -QUANTITY_PLACES:
        raise UsageRefused(f"{name} has more than {QUANTITY_PLACES} decimal places", status=400, param=name)
    return quantity


def _pinned_items(installation):
    """The installation's pinned version's items and prices, by BI SID: a newer version's
    items and prices reach it only through an upgrade the customer accepts."""
    prices = installation.version.pricing.get("billable_items", {})
    return {
        item.sid: (item, Decimal(prices[item.name]))
        for item in BillableItem.objects.filter(listing=installation.listing, name__in=list(prices))
    }


def _item_limits(pricing):
    """Per item: (most per report, most per installation a day). The manifest may lower
    the staff settings' caps, never raise them."""
    report_cap = Decimal(str(settings.USAGE_MAX_QUANTITY_PER_REPORT))
    day_cap = Decimal(str(settings.USAGE_MAX_QUANTITY_PER_DAY))
    limits = {}
    for name, declared in pricing.get("item_limits", {}).items():
        limits[name] = (
            min(report_cap, Decimal(declared.get("max_per_report", report_cap))),
            min(day_cap, Decimal(declared.get("max_per_day", day_cap))),
        )
    return lambda name: limits.get(name, (report_cap, day_cap))


def _bill_report(installation, lines, pinned, limits, report):
    """Charges and credits of one report, in the caller's transaction; a refusal of any
    item (over a cap, a credit over what was billed) leaves nothing written."""
    # One report on an installation at a time, so caps and credit limits are not raced.
    InstalledAddOn.objects.select_for_update().filter(pk=installation.pk).first()
    listing = installation.listing
    start_of_month, _ = month_bounds(timezone.now().date())
    start_of_day = timezone.make_aware(datetime.combine(timezone.now().date(), time.min))
    billed = None  # what this publisher billed this installation this month, net of credits
    answers, charged = [], Decimal("0")
    for index, (sid, quantity, reason) in enumerate(lines):
        found = pinned.get(sid)
        if found is None:
            answers.append((sid, quantity, False))
            continue
        item, price = found
        per_report, per_day = limits(item.name)
        name = f"billable_items[{index}]"
        if abs(quantity) > per_report:
            raise UsageRefused(
                f"{name}.quantity for {sid} ({item.name}) is over the cap of {per_report} per report",
                status=400,
                param=f"{name}.quantity",
            )
        if quantity > 0:
            today = BillingEvent.objects.filter(
                installation=installation,
                billable_item=item,
                kind=BillingEvent.Kind.MANUAL,
                date_created__gte=start_of_day,
            ).aggregate(q=Sum("quantity"))["q"] or Decimal("0")
            if today + quantity > per_day:
                raise UsageRefused(
                    f"{name}.quantity for {sid} ({item.name}) would take today's usage on this installation "
                    f"over the cap of {per_day} a day ({today} reported so far)",
                    status=400,
                    param=f"{name}.quantity",
                )
        else:
            if money(quantity * price) == 0:  # a credit of nothing is no credit: refused, not a 500
                raise UsageRefused(
                    f"{name}.quantity for {sid} ({item.name}) is a credit that rounds to 0 USD",
                    status=400,
                    param=f"{name}.quantity",
                )
            if billed is None:
                billed = BillingEvent.objects.filter(
                    installation=installation, publisher_id=listing.publisher_id, date_created__gte=start_of_month
                ).aggregate(a=Sum("amount"))["a"] or Decimal("0")
            if money(-quantity * price) > billed:
                raise UsageRefused(
                    f"{name}.quantity for {sid} ({item.name}) is a credit of {money(-quantity * price)} USD, more than "
                    f"the {money(billed)} USD billed on this installation this month and not yet credited",
                    status=400,
                    param=f"{name}.quantity",
                )
        event = charge(
            key=f"usage:{installation.sid}:{report}:{item.sid}",
            kind=BillingEvent.Kind.MANUAL if quantity > 0 else BillingEvent.Kind.CREDIT,
            account=installation.account,
            listing=listing,
            installation=installation,
            billable_item=item,
            quantity=quantity,
            price=price,
            reference=report,
            reason=reason,
        )
        if event is not None:
            if billed is not None:
                billed += event.amount
            if event.amount > 0:
                charged += event.amount
        answers.append((sid, quantity, event is not None))
    total = sum((quantity for _, quantity, ok in answers if ok), Decimal("0"))
    body = {
        "total_submitted": str(total),
        "billable_items": [{"sid": sid, "quantity": str(quantity), "submitted": ok} for sid, quantity, ok in answers],
    }
    return body, charged


def _replayed(publisher, token, digest, wait=False):
    """The stored answer to this token's request; a 409 if the token was used for another."""
    report = UsageReport.objects.filter(publisher=publisher, token=token).first()
    if report is None:
        if wait:  # its first use failed and was rolled back meanwhile: let the client retry
            raise UsageRefused("A report with this idempotency token is in progress: retry", status=409)
        return None
    if report.digest != digest:
        raise UsageRefused(
            "The I-Twilio-Idempotency-Token was already used for a different usage report "
            "(another installation, items or quantities): use a new token for a new report",
            status=409,
            param="I-Twilio-Idempotency-Token",
        )
    return _answer(report.response)


def _answer(body):
    """The stored (string) figures as Decimal: rendered as exact JSON numbers."""
    return {
        "total_submitted": Decimal(body["total_submitted"]),
        "billable_items": [{**item, "quantity": Decimal(item["quantity"])} for item in body["billable_items"]],
    }


def _alert_below_zero(installation, balance):
    """Manual usage may take a balance below zero: tell the customer, whose priced
    add-ons stop (61032) until it is topped up."""
    Notification.objects.create(
        account=installation.account,
        log_level=Notification.Level.WARNING,
        error_code=codes.BALANCE_BELOW_ZERO,
        resource_sid=installation.sid,
        message=(
            f"Usage reported by {installation.listing.unique_name} took your balance below zero "
            f"({format_money(balance)} USD): priced add-ons are stopped (61032) until you top it up"
        ),
    )


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


def close_statement(*, publisher, period):
    """Write the month's statement and close it; closing twice changes nothing."""
    return _close_month(
        Statement, owner_field="publisher", owner=publisher, period=period, figures_of=statement_figures
    )


@transaction.atomic
def _close_month(model, *, owner_field, owner, period, figures_of):
    """A statement's or an invoice's month, computed and closed once: a closed one is kept as
    it was (a late event changes nothing already closed)."""
    period = period.replace(day=1)
    month = {owner_field: owner, "period": period}
    existing = model.objects.select_for_update().filter(**month).first()
    if existing is not None and existing.status == model.Status.CLOSED:
        return existing
    document, _ = model.objects.update_or_create(
        **month, defaults={**figures_of(owner, period), "status": model.Status.CLOSED, "date_closed": timezone.now()}
    )
    return document


def invoice_figures(account, period):
    """A customer's month: per add-on charges, credits and total, aggregated in the database."""
    start, end = month_bounds(period)
    events = BillingEvent.objects.filter(account=account, date_created__gte=start, date_created__lte=end)
    rows = list(
        events.values("listing__unique_name", "publisher__sid")
        .annotate(
            events=Count("id"),
            charges=Sum("amount", filter=Q(amount__gt=0), default=Decimal("0")),
            credits=Sum("amount", filter=Q(amount__lt=0), default=Decimal("0")),
        )
        .order_by("listing__unique_name")
    )
    charges = money(sum((row["charges"] for row in rows), Decimal("0")))
    credits = money(sum((row["credits"] for row in rows), Decimal("0")))
    return {
        "events": sum(row["events"] for row in rows),
        "charges": charges,
        "credits": credits,
        "total": charges + credits,
        "lines": [
            {
                "listing": row["listing__unique_name"],
                "publisher": row["publisher__sid"],
                "events": row["events"],
                "charges": str(money(row["charges"])),
                "credits": str(money(row["credits"])),
                "total": str(money(row["charges"]) + money(row["credits"])),
            }
            for row in rows
        ],
    }


def close_invoice(*, account, period):
    """Write the customer's month and close it; closing twice changes nothing."""
    return _close_month(Invoice, owner_field="account", owner=account, period=period, figures_of=invoice_figures)


def _last_month(today):
    today = today or timezone.now().date()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def close_last_month(today=None):
    """The monthly schedule's work: close every publisher's previous month."""
    last_month = _last_month(today)
    publishers = Account.objects.filter(is_publisher=True)
    return [close_statement(publisher=publisher, period=last_month) for publisher in publishers]


def close_last_months_invoices(today=None):
    """The same schedule's other half: the invoice of every customer billed last month."""
    last_month = _last_month(today)
    start, end = month_bounds(last_month)
    billed = BillingEvent.objects.filter(date_created__gte=start, date_created__lte=end).values("account_id")
    customers = Account.objects.filter(id__in=billed).order_by("id")
    return [close_invoice(account=customer, period=last_month) for customer in customers]
