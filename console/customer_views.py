"""The customer's console: the catalog, installing and configuring add-ons, phone numbers.

Every write goes through the same service as the API; every domain error is shown where
it belongs on the form.
"""

import re

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts import services as account_services
from addons import selectors, services
from addons.models import INTEGRATION_POINTS, AddOnType, PricingModel
from console.accounts import with_account
from console.configuration import widget_schema
from console.forms import ConfigurationForm, InstallForm, PhoneNumberForm
from marketplace.errors import InvalidConfiguration, MarketplaceError, NotFound

FORM_FIELDS = {
    "AcceptTermsOfService": "accept_terms",
    "UniqueName": "unique_name",
    "PhoneNumber": "phone_number",
    "SmsUrl": "sms_url",
    "VoiceUrl": "voice_url",
}


def _show(form, error):
    """Put a domain error beside its field (configuration errors beside each setting)."""
    if isinstance(error, InvalidConfiguration):
        form.configuration_violations(error)
    else:
        form.add_error(FORM_FIELDS.get(error.param), for_people(error.message))


def for_people(message):
    """The API's message without its "Parameter 'X'" opening: the field already says it."""
    text = re.sub(r"^Parameter '[^']+'(: | )", "", message)
    return text[:1].upper() + text[1:]


def _listing(account, sid):
    try:
        return selectors.available_listing(account, sid)
    except NotFound:
        raise Http404("No such add-on")


def _installation(account, sid):
    try:
        return selectors.installation(account, sid)
    except NotFound:
        raise Http404("No such installation")


def _phone_number(account, sid):
    try:
        return account_selectors.phone_number(account, sid)
    except NotFound:
        raise Http404("No such phone number")


@with_account
def catalog(request, account):
    query = request.GET
    kind, point, pricing = query.get("type"), query.get("integration_point"), query.get("pricing")
    listings = selectors.catalog(
        account,
        text=query.get("q", "").strip(),
        add_on_type=kind if kind in AddOnType.values else None,
        integration_point=point if point in INTEGRATION_POINTS else None,
        pricing=pricing if pricing in PricingModel.values else None,
    )
    context = {
        "listings": listings,
        "types": AddOnType.choices,
        "points": list(INTEGRATION_POINTS),
        "pricings": PricingModel.choices,
        "chosen": {"q": query.get("q", ""), "type": kind, "integration_point": point, "pricing": pricing},
    }
    return render(request, "console/catalog.html", context)


@with_account
def listing_page(request, account, listing_sid):
    listing = _listing(account, listing_sid)
    version = listing.latest_version
    context = {
        "listing": listing,
        "version": version,
        "fields": widget_schema(version.configuration_schema, listing.type)["keys"],
        "extensions": selectors.available_extensions(listing),
        "installed": selectors.installations(account, listing=listing),
        "content": listing.content or {},
    }
    return render(request, "console/listing.html", context)


@with_account
def install(request, account, listing_sid):
    listing = _listing(account, listing_sid)
    form = InstallForm(request.POST or None, listing=listing)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            installation = services.install_add_on(
                account=account,
                available_add_on_sid=listing.sid,
                accept_terms_of_service=data["accept_terms"],
                configuration=data["configuration"] or {},
                unique_name=data["unique_name"] or None,
            )
        except MarketplaceError as error:
            _show(form, error)
        else:
            messages.success(request, f"Installed {listing.friendly_name} as {installation.unique_name}.")
            return redirect("console:installation", installation_sid=installation.sid)
    return render(request, "console/install.html", {"listing": listing, "form": form})


@with_account
def installations(request, account):
    found = selectors.installations(account).order_by("unique_name")
    return render(request, "console/installations.html", {"installations": found})


@with_account
def installation(request, account, installation_sid):
    found = _installation(account, installation_sid)
    form = ConfigurationForm(request.POST or None, installation=found)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_installation(
                installation=found,
                configuration=form.cleaned_data["configuration"] or {},
                unique_name=form.cleaned_data["unique_name"],
            )
        except MarketplaceError as error:
            _show(form, error)
        else:
            messages.success(request, "Configuration saved.")
            return redirect("console:installation", installation_sid=found.sid)
    assigned, unassigned = selectors.numbers_assigned_or_not(found)
    context = {
        "installation": found,
        "form": form,
        "extensions": selectors.installed_extensions(found),
        "assigned": assigned,
        "unassigned": unassigned,
    }
    return render(request, "console/installation.html", context)


@require_POST
@with_account
def switch_extension(request, account, installation_sid, extension_sid):
    found = _installation(account, installation_sid)
    try:
        row = selectors.installed_extension(found, extension_sid)
    except NotFound:
        raise Http404("No such extension")
    services.set_extension_enabled(installed_extension=row, enabled=request.POST.get("enabled") == "true")
    state = "on" if row.enabled else "off"
    messages.success(request, f"{row.extension.friendly_name} switched {state}.")
    return redirect("console:installation", installation_sid=found.sid)


@require_POST
@with_account
def assign(request, account, installation_sid):
    found = _installation(account, installation_sid)
    number = _phone_number(account, request.POST.get("phone_number"))
    try:
        services.assign_add_on(phone_number=number, installation=found)
        messages.success(request, f"Assigned to {number.phone_number}.")
    except MarketplaceError as error:
        messages.error(request, error.message)
    return redirect("console:installation", installation_sid=found.sid)


@require_POST
@with_account
def unassign(request, account, installation_sid, phone_number_sid):
    found = _installation(account, installation_sid)
    try:
        assignment = selectors.assignment_to(found, phone_number_sid)
    except NotFound:
        raise Http404("Not assigned")
    services.unassign_add_on(assignment=assignment)
    messages.success(request, f"Unassigned from {assignment.phone_number.phone_number}.")
    return redirect("console:installation", installation_sid=found.sid)


@require_POST
@with_account
def uninstall(request, account, installation_sid):
    found = _installation(account, installation_sid)
    services.uninstall_add_on(installation=found)
    messages.success(request, f"Uninstalled {found.unique_name}.")
    return redirect("console:installations")


@with_account
def phone_numbers(request, account):
    form = PhoneNumberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account_services.create_phone_number(
                account=account,
                phone_number=data["phone_number"],
                friendly_name=data["friendly_name"] or None,
                sms_url=data["sms_url"],
                voice_url=data["voice_url"],
            )
        except MarketplaceError as error:
            _show(form, error)
        else:
            messages.success(request, f"Added {data['phone_number']}.")
            return redirect("console:phone_numbers")
    numbers = account_selectors.phone_numbers_with_assignments(account)
    return render(request, "console/phone_numbers.html", {"form": form, "numbers": numbers})


@require_POST
@with_account
def delete_phone_number(request, account, phone_number_sid):
    number = _phone_number(account, phone_number_sid)
    account_services.delete_phone_number(phone_number=number)
    messages.success(request, f"Removed {number.phone_number}.")
    return redirect("console:phone_numbers")
