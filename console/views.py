"""The web console: thin views over the same services and selectors as the API."""

import csv
import json
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from addons import selectors as addon_selectors
from addons.manifest import load_manifest
from addons.models import Notification
from addons.services import import_listing
from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.money import format_money
from console.accounts import SESSION_KEY, publisher_only, with_account
from console.charts import line_chart, stacked_bars
from console.forms import ManifestForm, RecordingUploadForm, TestInvocationForm
from invocation import sla, trial
from marketplace.errors import MarketplaceError, NotFound
from recordings import selectors as recording_selectors
from recordings import services as recording_services
from recordings.downloads import payload_download_url

PAGE_SIZE = 50


@with_account
def dashboard(request, account):
    return render(request, "console/dashboard.html", {"account": account})


@require_POST
@login_required  # not with_account: a suspended account's user may still switch to another
def switch_account(request):
    chosen = account_selectors.account_of(request.user, request.POST.get("account"))
    if chosen is None:
        raise Http404("No such account")
    request.session[SESSION_KEY] = chosen.sid
    return redirect(safe_next(request) or "console:dashboard")


def safe_next(request):
    """The posted `next` if it is a path of ours, else None: never a redirect off-site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=None, require_https=request.is_secure()):
        return target
    return None


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a login while the username is locked (console and admin)."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)),
    }
    return render(request, "console/locked_out.html", context, status=429)


@with_account
def debugger(request, account):
    level = request.GET.get("level")
    if level not in Notification.Level.values:
        level = None
    notifications = addon_selectors.alerts(account, level=level)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "console/debugger.html", {"page": page, "level": level, "levels": Notification.Level.values})


@publisher_only
def publisher_listings(request, account):
    listings = addon_selectors.own_listings(account).order_by("unique_name")
    return render(request, "console/publisher_listings.html", {"listings": listings})


@publisher_only
def test_console(request, account, listing_sid):
    listing = _own_listing(account, listing_sid)
    report = None
    form = TestInvocationForm(request.POST or None, listing=listing, initial={"primary_address": trial.SAMPLE_NUMBER})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = trial.run(
                listing=listing,
                version=form.versions[data["version"]],
                integration_point=data["integration_point"],
                inputs={
                    "primary_address": data["primary_address"],
                    "secondary_address": data["secondary_address"],
                    "body": data["body"],
                },
                configuration=data["configuration"],
                runtime=data["runtime_data"],
            )
        except MarketplaceError as error:
            field = {"Configuration": "configuration", "IntegrationPoint": "integration_point"}.get(error.param)
            form.add_error(field, error.message)
    return render(request, "console/test_console.html", {"listing": listing, "form": form, "report": report})


@with_account
def recordings(request, account):
    form = RecordingUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            recording = recording_services.create_recording(account=account, audio=form.cleaned_data["audio"])
        except MarketplaceError as error:
            form.add_error("audio", error.message)
        else:
            messages.success(request, f"Recording {recording.sid} stored; its add-ons are at work.")
            return redirect("console:recording", recording_sid=recording.sid)
    page = Paginator(recording_selectors.recordings(account).order_by("-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "console/recordings.html", {"form": form, "page": page})


@with_account
def recording(request, account, recording_sid):
    try:
        found = recording_selectors.recording(account, recording_sid)
    except NotFound:
        raise Http404("No such recording")
    results = recording_selectors.results_with_payloads(found)
    links = {payload.sid: payload_download_url(payload) for result in results for payload in result.payloads.all()}
    return render(request, "console/recording.html", {"recording": found, "results": results, "links": links})


USAGE_DAYS = 30


@with_account
def usage(request, account):
    end = timezone.now().date()
    start = end - timedelta(days=USAGE_DAYS - 1)
    days = billing_selectors.usage_by_day(account, start_date=start, end_date=end)
    if request.GET.get("format") == "csv":
        return _csv(
            f"usage-{account.sid}-{start}-{end}.csv",
            ["date", "add_on", "events", "usage", "amount_usd"],
            (
                [
                    d["day"],
                    d["listing__unique_name"],
                    d["count"],
                    format_money(d["usage"], "quantity"),
                    format_money(d["amount"], "amount"),
                ]
                for d in days
            ),
        )
    chart, legend = stacked_bars(
        [{"day": d["day"], "series": d["listing__unique_name"], "amount": d["amount"]} for d in days],
        start=start,
        end=end,
    )
    records = billing_selectors.usage_records(account, start_date=start, end_date=end)
    ledger = billing_selectors.recent_ledger(account)
    context = {
        "chart": chart,
        "legend": legend,
        "records": records,
        "balance": billing_services.balance_of(account),
        "ledger": ledger,
        "start": start,
        "end": end,
    }
    return render(request, "console/usage.html", context)


@publisher_only
def statements(request, account):
    today = timezone.now().date()
    current = billing_services.statement_figures(account, today.replace(day=1))
    closed = billing_selectors.statements(account)
    manual = billing_selectors.manual_events(account)
    context = {"current": current, "month": today.replace(day=1), "closed": closed, "manual": manual}
    return render(request, "console/statements.html", context)


@publisher_only
def statement_csv(request, account, period):
    month = _month(period)
    statement = billing_selectors.closed_statement(account, month)
    if statement is not None:  # closed: exactly as it was closed
        figures = {name: getattr(statement, name) for name in ("events", "gross", "fee_percent", "fee", "net", "lines")}
    else:
        figures = billing_services.statement_figures(account, month)
    rows = [
        [
            line["listing"],
            line["kind"],
            line["events"],
            format_money(line["quantity"], "quantity"),
            format_money(line["gross"], "amount"),
        ]
        for line in figures["lines"]
    ]
    rows += [
        [],
        ["gross", "", figures["events"], "", format_money(figures["gross"])],
        [f"fee ({figures['fee_percent']} %)", "", "", "", format_money(figures["fee"])],
        ["net", "", "", "", format_money(figures["net"])],
    ]
    return _csv(f"statement-{account.sid}-{period}.csv", ["listing", "kind", "events", "quantity", "gross_usd"], rows)


@with_account
def invoices(request, account):
    today = timezone.now().date()
    current = billing_services.invoice_figures(account, today.replace(day=1))
    closed = billing_selectors.invoices(account)
    context = {"current": current, "month": today.replace(day=1), "closed": closed}
    return render(request, "console/invoices.html", context)


@with_account
def invoice_csv(request, account, period):
    month = _month(period)
    invoice = billing_selectors.closed_invoice(account, month)
    if invoice is not None:  # closed: exactly as it was closed
        figures = {name: getattr(invoice, name) for name in ("events", "charges", "credits", "total", "lines")}
    else:
        figures = billing_services.invoice_figures(account, month)
    rows = [
        [
            line["listing"],
            line["publisher"],
            line["events"],
            format_money(line["charges"], "amount"),
            format_money(line["credits"], "amount"),
            format_money(line["total"], "amount"),
        ]
        for line in figures["lines"]
    ]
    rows += [
        [],
        [
            "total",
            "",
            figures["events"],
            format_money(figures["charges"]),
            format_money(figures["credits"]),
            format_money(figures["total"]),
        ],
    ]
    return _csv(
        f"invoice-{account.sid}-{period}.csv",
        ["add_on", "publisher", "events", "charges_usd", "credits_usd", "total_usd"],
        rows,
    )


def _month(period):
    """The first day of a `YYYY-MM` path segment, or 404."""
    try:
        return date.fromisoformat(f"{period}-01")
    except ValueError:
        raise Http404("No such month")


def _csv(filename, header, rows):
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _own_listing(account, listing_sid):
    try:
        return addon_selectors.own_listing(account, listing_sid)
    except NotFound:
        raise Http404("No such listing")


@publisher_only
def publisher_listing(request, account, listing_sid):
    """A listing's versions, and a new version from an uploaded or pasted manifest."""
    listing = _own_listing(account, listing_sid)
    # Editing starts from the current manifest; a new version is whatever is submitted.
    current = json.dumps(listing.latest_version.manifest, indent=2) if listing.latest_version else ""
    form = ManifestForm(request.POST or None, request.FILES or None, initial={"manifest_text": current})
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            version = import_listing(manifest=load_manifest(form.cleaned_data["manifest"]), publisher=account)
        except MarketplaceError as error:
            problems = error.details or [{"path": "$", "message": error.message}]
        else:
            messages.success(request, f"Released version {version.number} ({version.sid}).")
            return redirect("console:publisher_listing", listing_sid=version.listing.sid)
    versions = addon_selectors.versions(listing)
    context = {"listing": listing, "versions": versions, "form": form, "problems": problems}
    return render(request, "console/publisher_listing.html", context)


@publisher_only
def sla_page(request, account, listing_sid):
    listing = _own_listing(account, listing_sid)
    report = sla.sla_report(listing)
    average = [(str(d["day"]), d["average"]) for d in report["per_day"]]
    p99 = [(str(d["day"]), d["p99"]) for d in report["per_day"]]
    context = {
        "listing": listing,
        "report": report,
        "average_chart": line_chart(average, targets=[("target", sla.TARGET_AVERAGE_MS)]),
        "p99_chart": line_chart(p99, targets=[("target", sla.TARGET_P99_MS)]),
        "targets": {"average": sla.TARGET_AVERAGE_MS, "p99": sla.TARGET_P99_MS},
    }
    return render(request, "console/sla.html", context)
