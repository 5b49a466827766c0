"""Recording invocations and the debugger notifications they cause."""

from dataclasses import dataclass

from django.db import transaction

from addons.models import Invocation, Notification
from billing import services as billing
from marketplace import codes


@dataclass
class Pending:
    """An invocation decided but not yet written."""

    installation: object  # None for a publisher's test invocation
    listing: object
    version: object
    target: object
    verdict: object
    request: object  # PublisherRequest, None when the publisher was not called
    exchange: object  # transport.Exchange, None when not called
    resource_sid: str = ""
    is_test: bool = False
    held: object = None  # the Decimal held for this call before it was made (billing.place_holds)


@transaction.atomic
def record_invocations(*, account, integration_point, pending):
    """Write every invocation of one event, and a notification for each failure."""
    rows = [_invocation(account, integration_point, item) for item in pending]
    Invocation.objects.bulk_create(rows)
    holds = {f"invocation:{row.sid}": item.held for item, row in zip(pending, rows, strict=True) if item.held}
    billing.charge_invocations(rows, holds)
    notes = []
    for item, row in zip(pending, rows, strict=True):
        if row.status == Invocation.Status.FAILED and not row.is_test:
            notes.extend(_notifications(item, row))
    Notification.objects.bulk_create(notes)
    return rows


def _invocation(account, integration_point, item):
    verdict, exchange = item.verdict, item.exchange
    return Invocation(
        sid=item.target.request_sid,
        account=account,
        installation=item.installation,
        listing=item.listing,
        version=item.version,
        integration_point=integration_point,
        resource_sid=item.resource_sid,
        status=Invocation.Status.SUCCESSFUL if verdict.successful else Invocation.Status.FAILED,
        outcome=verdict.outcome.name,
        error_code=verdict.outcome.code,
        error_message=verdict.message,
        attempts=exchange.attempts if exchange else 0,
        http_status=exchange.status if exchange else None,
        latency_ms=exchange.latency_ms if exchange else None,
        response_bytes=exchange.received if exchange else None,
        sla_breach=verdict.outcome.sla_breach and not item.is_test,
        billable=verdict.billable and not item.is_test,
        is_test=item.is_test,
        request=item.request.redacted if item.request else {},
        result=verdict.result,
    )


def _notifications(item, row):
    level = Notification.Level.ERROR if item.verdict.outcome.sla_breach else Notification.Level.WARNING
    request = item.request.redacted if item.request else {}
    common = dict(
        log_level=level,
        error_code=row.error_code,
        resource_sid=row.sid,
        request_method=request.get("method", ""),
    )
    installation = item.installation
    publisher = item.listing.publisher
    customer_note = Notification(
        account=row.account,
        message=f"Add-on {installation.unique_name} ({row.integration_point}): {row.error_message}",
        **common,
    )
    if not (item.verdict.outcome.called or item.verdict.outcome.tell_publisher):
        return [customer_note]  # refused on the customer's side: nothing for the publisher to fix
    return [
        customer_note,
        Notification(
            account=publisher,
            message=(
                f"Listing {installation.listing.unique_name}, installation {installation.sid}"
                f" ({row.integration_point}): {row.error_message}"
            ),
            request_url=request.get("url", "")[:1000],
            **common,
        ),
    ]


def notify_not_installed(*, account, unique_name, integration_point):
    Notification.objects.create(
        account=account,
        log_level=Notification.Level.WARNING,
        error_code=codes.NOT_INSTALLED,
        message=f"Add-on {unique_name} ({integration_point}): no add-on with that unique name is installed",
    )
