from datetime import UTC, datetime, time, timedelta

from django.db.models import Prefetch

from marketplace.selectors import one
from recordings.models import AddOnResult, Payload, Recording


def recordings(account):
    return Recording.objects.filter(account=account).select_related("account")


def recording(account, sid):
    return one(recordings(account), sid, "Recording")


def results(recording):
    return AddOnResult.objects.filter(recording=recording).select_related(
        "account", "recording", "recording__account", "listing"
    )


def results_with_payloads(recording):
    """The recording's results in order, each with its payloads (one query for all of them)."""
    return (
        AddOnResult.objects.filter(recording=recording)
        .select_related("listing", "installation")
        .prefetch_related(Prefetch("payloads", queryset=Payload.objects.order_by("id")))
        .order_by("id")
    )


def result(recording, sid):
    return one(results(recording), sid, "AddOnResult")


def payloads(result):
    return Payload.objects.filter(add_on_result=result).select_related(
        "add_on_result__account", "add_on_result__recording__account", "add_on_result__listing"
    )


def payload(result, sid):
    return one(payloads(result), sid, "Payload")


def filtered_recordings(
    account, *, created_on=None, created_before=None, created_after=None, call_sid=None, conference_sid=None
):
    """The account's recordings, filtered as Twilio's Recordings list is. Each date filter is
    (value, whole_day) from params.date_or_datetime: `created_on` is a UTC day (the SDK sends a
    date as its midnight); `created_before` / `created_after` include a bare date's whole day,
    and a date-time itself. Recordings here are uploads, never of a call or a conference, so a
    CallSid or ConferenceSid matches none."""
    found = recordings(account)
    if created_on and created_on[0] is not None:
        value, whole_day = created_on
        start, end = _span(value if whole_day else value.astimezone(UTC).date(), True)
        found = found.filter(date_created__gte=start, date_created__lt=end)
    if created_before and created_before[0] is not None:
        found = found.filter(date_created__lt=_span(*created_before)[1])
    if created_after and created_after[0] is not None:
        found = found.filter(date_created__gte=_span(*created_after)[0])
    if call_sid or conference_sid:
        found = found.none()
    return found


def _span(value, whole_day):
    """[start, end) of a day, or the instant itself (end inclusive to the second)."""
    start = datetime.combine(value, time.min, tzinfo=UTC) if whole_day else value
    return start, start + (timedelta(days=1) if whole_day else timedelta(seconds=1))
