"""A publisher's SLA figures from its invocation records: requests, success rate, latency
(average and p99 against the guide's targets, addons/contract.py), timeouts, 4xx and 5xx."""

import math
from datetime import datetime, time, timedelta

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from addons.contract import SLA_TARGET_AVERAGE_MS, SLA_TARGET_P99_MS
from addons.models import Invocation

TARGET_AVERAGE_MS = SLA_TARGET_AVERAGE_MS
TARGET_P99_MS = SLA_TARGET_P99_MS


def _called(listing, start, end):
    # Test calls and calls refused before reaching the publisher are not the publisher's SLA.
    return Invocation.objects.filter(
        listing=listing, is_test=False, attempts__gt=0, date_created__gte=start, date_created__lt=end
    )


def _p99(queryset, count):
    if not count:
        return None
    offset = max(math.ceil(count * 0.99) - 1, 0)
    return queryset.order_by("latency_ms").values_list("latency_ms", flat=True)[offset]


def _figures(queryset):
    totals = queryset.aggregate(
        requests=Count("id"),
        successes=Count("id", filter=Q(status=Invocation.Status.SUCCESSFUL)),
        average=Avg("latency_ms"),
        timeouts=Count("id", filter=Q(outcome="timeout")),
        http_4xx=Count("id", filter=Q(outcome="http_4xx")),
        http_5xx=Count("id", filter=Q(outcome="http_5xx")),
        breaches=Count("id", filter=Q(sla_breach=True)),
    )
    totals["p99"] = _p99(queryset, totals["requests"])
    totals["average"] = round(totals["average"]) if totals["average"] is not None else None
    totals["success_rate"] = round(100 * totals["successes"] / totals["requests"], 2) if totals["requests"] else None
    totals["meets_average"] = totals["average"] is not None and totals["average"] <= TARGET_AVERAGE_MS
    totals["meets_p99"] = totals["p99"] is not None and totals["p99"] < TARGET_P99_MS
    return totals


def sla_report(listing, *, days=14):
    end_day = timezone.now().date()
    start_day = end_day - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(start_day, time.min))
    end = timezone.make_aware(datetime.combine(end_day + timedelta(days=1), time.min))
    called = _called(listing, start, end)
    per_day = []
    counts = dict(
        called.annotate(day=TruncDate("date_created")).values_list("day").annotate(n=Count("id")).order_by("day")
    )
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        if not counts.get(day):
            continue
        day_start = timezone.make_aware(datetime.combine(day, time.min))
        figures = _figures(_called(listing, day_start, day_start + timedelta(days=1)))
        per_day.append({"day": day, **figures})
    return {"overall": _figures(called), "per_day": per_day, "start": start_day, "end": end_day, "days": days}
