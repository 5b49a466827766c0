"""Reads on billing: usage by category and by day, aggregated in the database."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingEvent, Invoice, LedgerEntry, Statement
from marketplace.errors import InvalidParameter

MARKETPLACE = "marketplace"
UNITS = {
    BillingEvent.Kind.PER_MINUTE: ("minutes", "minutes"),
    BillingEvent.Kind.MANUAL: ("units", "units"),
    BillingEvent.Kind.CREDIT: ("units", "units"),
}


def parse_date(query, name):
    value = query.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(f"Parameter '{name}' must be a date like 2026-11-22", param=name)


def _window(account, start_date, end_date):
    end_date = end_date or timezone.now().date()
    start_date = start_date or account.date_created.date()
    if start_date > end_date:
        raise InvalidParameter("Parameter 'StartDate' must not be after 'EndDate'", param="StartDate")
    if end_date >= date.max:
        raise InvalidParameter("Parameter 'EndDate' is out of range", param="EndDate")
    start = timezone.make_aware(datetime.combine(start_date, time.min))
    end = timezone.make_aware(datetime.combine(end_date + timedelta(days=1), time.min))
    return start_date, end_date, start, end


def usage_records(account, *, category=None, start_date=None, end_date=None):
    """One record for all of marketplace and one per add-on (`marketplace-<unique_name>`)."""
    start_date, end_date, start, end = _window(account, start_date, end_date)
    rows = list(
        BillingEvent.objects.filter(account=account, date_created__gte=start, date_created__lt=end)
        .values("listing__unique_name", "listing__friendly_name", "kind")
        .annotate(count=Count("id"), usage=Sum("quantity"), price=Sum("amount"))
        .order_by("listing__unique_name")
    )
    records = {}
    for row in rows:
        name = f"{MARKETPLACE}-{row['listing__unique_name']}"
        record = records.setdefault(name, _record(account, name, f"Marketplace add-on {row['listing__friendly_name']}"))
        _add(record, row)
        record["count_unit"], record["usage_unit"] = UNITS.get(row["kind"], ("requests", "requests"))
    total = _record(account, MARKETPLACE, "Marketplace add-ons")
    for row in rows:
        _add(total, row)
    everything = [total, *records.values()] if rows or category in (None, MARKETPLACE) else []
    chosen = [r for r in everything if category in (None, r["category"])]
    return [_finish(r, start_date, end_date) for r in sorted(chosen, key=lambda r: r["category"])]


def _record(account, category, description):
    return {
        "account_sid": account.sid,
        "api_version": "2010-04-01",
        "category": category,
        "description": description,
        "_count": 0,
        "_usage": Decimal("0"),
        "_price": Decimal("0"),
        "count_unit": "requests",
        "usage_unit": "requests",
        "price_unit": "usd",
    }


def _add(record, row):
    record["_count"] += row["count"]
    record["_usage"] += row["usage"]
    record["_price"] += row["price"]


def _finish(record, start_date, end_date):
    path = reverse("usage_record_list", kwargs={"account_sid": record["account_sid"]})
    query = f"Category={record['category']}&StartDate={start_date}&EndDate={end_date}"
    return {
        **{k: v for k, v in record.items() if not k.startswith("_")},
        "as_of": timezone.now().strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "count": str(record["_count"]),
        # Fixed-point text: normalize() alone would print 120 as "1.2E+2".
        "usage": format(record["_usage"].normalize(), "f"),
        # A JSON number, as the schema says: the exact Decimal (six places at most) is
        # rendered by the API's encoder; no float arithmetic ever touches it.
        "price": record["_price"].quantize(Decimal("0.000001")),
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "uri": f"{path}?{query}",
        "subresource_uris": {},
    }


def usage_by_day(account, *, start_date=None, end_date=None):
    """Per add-on, per day: events and amount, for the console's chart and CSV."""
    start_date, end_date, start, end = _window(account, start_date, end_date)
    return list(
        BillingEvent.objects.filter(account=account, date_created__gte=start, date_created__lt=end)
        .annotate(day=TruncDate("date_created"))
        .values("day", "listing__unique_name")
        .annotate(count=Count("id"), usage=Sum("quantity"), amount=Sum("amount"))
        .order_by("day", "listing__unique_name")
    )


def recent_ledger(account, *, limit=20):
    """The account's latest ledger entries (credits, debits), the newest first."""
    return LedgerEntry.objects.filter(account=account).order_by("-id")[:limit]


def statements(publisher):
    """The publisher's closed monthly statements, the latest first."""
    return Statement.objects.filter(publisher=publisher).order_by("-period")


def closed_statement(publisher, month):
    """The statement closed for that month, or None while the month is open."""
    return Statement.objects.filter(publisher=publisher, period=month).first()


def manual_events(publisher, *, limit=50):
    """The latest usage the publisher reported by hand, and the credits it gave."""
    return (
        BillingEvent.objects.filter(publisher=publisher, kind__in=[BillingEvent.Kind.MANUAL, BillingEvent.Kind.CREDIT])
        .select_related("listing", "billable_item", "account")
        .order_by("-id")[:limit]
    )


def invoices(account):
    """The account's closed monthly invoices, the latest first."""
    return Invoice.objects.filter(account=account).order_by("-period")


def closed_invoice(account, month):
    """The invoice closed for that month, or None while the month is open."""
    return Invoice.objects.filter(account=account, period=month).first()
